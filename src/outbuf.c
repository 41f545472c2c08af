/* outbuf.c - the output of one job, held until it can be written. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "outbuf.h"
#include "file.h"
#include "xalloc.h"
#include "banned.h"

void
outbuf_init(struct outbuf *ob, struct outbuf_budget *budget)
{
	ob->budget = budget;
	strbuf_init(&ob->mem);
	ob->spill_fd = -1;
	ob->len = 0;
}

/* Moves what is in memory to a temporary file nobody else can see. */
static int
spill(struct outbuf *ob, struct sc_err *e)
{
	const char *dir = getenv("TMPDIR");
	char *path;

	if (dir == NULL || *dir == '\0')
		dir = "/tmp";
	ob->spill_fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (ob->spill_fd < 0) {
		/* file systems without O_TMPFILE */
		path = xasprintf("%s/shardcap-out-XXXXXX", dir);
		ob->spill_fd = mkostemp(path, O_CLOEXEC);
		if (ob->spill_fd >= 0)
			(void)unlink(path);
		free(path);
	}
	if (ob->spill_fd < 0)
		return sc_err_sys(e, "cannot make a temporary file in '%s' for "
		    "job output", dir);
	if (file_write_all(ob->spill_fd, ob->mem.buf, ob->mem.len) < 0)
		return sc_err_sys(e, "cannot write job output to '%s'", dir);
	ob->budget->used -= ob->mem.len;
	strbuf_release(&ob->mem);
	return 0;
}

int
outbuf_add(struct outbuf *ob, const void *data, size_t len, struct sc_err *e)
{
	struct outbuf_budget *b = ob->budget;
	int r;

	ob->len += len;
	if (ob->spill_fd < 0 && (ob->mem.len + len > b->per_buf ||
	    b->used + len > b->limit) && (r = spill(ob, e)) != 0)
		return r;
	if (ob->spill_fd >= 0) {
		if (file_write_all(ob->spill_fd, data, len) < 0)
			return sc_err_sys(e, "cannot write job output to a "
			    "temporary file");
		return 0;
	}
	strbuf_add(&ob->mem, data, len);
	b->used += len;
	return 0;
}

int
outbuf_each(struct outbuf *ob,
    int (*emit)(void *ctx, const char *data, size_t len), void *ctx)
{
	char buf[65536];
	off_t off = 0;
	int r;

	if (ob->spill_fd < 0)
		return ob->mem.len ? emit(ctx, ob->mem.buf, ob->mem.len) : 0;
	for (;;) {
		ssize_t n = pread(ob->spill_fd, buf, sizeof(buf), off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -1 : 0;
		if ((r = emit(ctx, buf, (size_t)n)) != 0)
			return r;
		off += n;
	}
}

void
outbuf_release(struct outbuf *ob)
{
	if (ob->spill_fd >= 0)
		close(ob->spill_fd);
	else
		ob->budget->used -= ob->mem.len;
	strbuf_release(&ob->mem);
	ob->spill_fd = -1;
	ob->len = 0;
}
