/* copier.c - filling output files on a thread of its own. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "copier.h"
#include "file.h"
#include "xalloc.h"
#include "banned.h"

enum copier_op { OP_RANGE, OP_BYTES, OP_COMMIT };

struct copier_item {
	enum copier_op op;
	int fd;
	const char *name;       /* OP_RANGE, OP_BYTES: for messages; OP_COMMIT: tmp */
	const char *final;      /* OP_COMMIT */
	uint64_t off, len;
	uint8_t *bytes;         /* OP_BYTES, owned */
};

struct copier {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct copier_item items[COPIER_SLOTS];
	unsigned head, tail;
	uint64_t queued_bytes;
	int stop, discard;
	int in_fd;
	int use_cfr;            /* copy_file_range still worth trying */
	uint8_t *bounce;        /* when it is not: read/write through this */
	size_t committed;
	int code;               /* first error (written under mu) */
	struct sc_err err;
};

#define BOUNCE_SIZE (1u << 20)

/* Reads through a buffer where the kernel cannot copy between the files. */
static int
bounce_copy(struct copier *c, int fd, uint64_t off, uint64_t len)
{
	if (c->bounce == NULL)
		c->bounce = xmalloc(BOUNCE_SIZE);
	while (len > 0) {
		size_t want = len < BOUNCE_SIZE ? (size_t)len : BOUNCE_SIZE;
		ssize_t n = pread(c->in_fd, c->bounce, want, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0) {
			errno = EIO; /* the input shrank under us */
			return -1;
		}
		if (file_write_all(fd, c->bounce, (size_t)n) < 0)
			return -1;
		off += (uint64_t)n;
		len -= (uint64_t)n;
	}
	return 0;
}

static int
range_copy(struct copier *c, int fd, uint64_t off, uint64_t len)
{
	loff_t in_off = (loff_t)off;

	while (len > 0 && c->use_cfr) {
		ssize_t n = copy_file_range(c->in_fd, &in_off, fd, NULL,
		    (size_t)len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EXDEV || errno == EINVAL ||
		    errno == ENOSYS || errno == EOPNOTSUPP)) {
			c->use_cfr = 0;
			break;
		}
		if (n < 0)
			return -1;
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		len -= (uint64_t)n;
	}
	if (len > 0)
		return bounce_copy(c, fd, (uint64_t)in_off, len);
	return 0;
}

/* Carries out one request; returns 0 or an error, described in e. */
static int
do_item(struct copier *c, struct copier_item *it, int discard,
    struct sc_err *e)
{
	/* After an error only the closing is still worth doing. */
	int failed = discard || c->code != 0;
	int code = 0;

	switch (it->op) {
	case OP_RANGE:
		if (!failed && range_copy(c, it->fd, it->off, it->len) < 0)
			code = sc_err_sys(e, "cannot write '%s'", it->name);
		break;
	case OP_BYTES:
		if (!failed && file_write_all(it->fd, it->bytes, (size_t)it->len) < 0)
			code = sc_err_sys(e, "cannot write '%s'", it->name);
		free(it->bytes);
		break;
	case OP_COMMIT:
		/* close() reports write-back errors on some file systems. */
		if (close(it->fd) < 0 && !failed)
			code = sc_err_sys(e, "cannot write '%s'", it->name);
		else if (!failed && rename(it->name, it->final) < 0)
			code = sc_err_sys(e, "cannot rename '%s' to '%s'",
			    it->name, it->final);
		else if (!failed)
			c->committed++;
		break;
	}
	return code;
}

static void *
copier_main(void *arg)
{
	struct copier *c = arg;
	struct copier_item it;
	struct sc_err e;
	int discard, code;

	for (;;) {
		pthread_mutex_lock(&c->mu);
		while (c->head == c->tail && !c->stop)
			pthread_cond_wait(&c->cv, &c->mu);
		if (c->head == c->tail) {
			pthread_mutex_unlock(&c->mu);
			break;
		}
		it = c->items[c->tail % COPIER_SLOTS];
		discard = c->discard;
		pthread_mutex_unlock(&c->mu);

		code = do_item(c, &it, discard, &e);

		pthread_mutex_lock(&c->mu);
		if (code != 0 && c->code == 0) {
			c->code = code;
			c->err = e;
		}
		c->tail++;
		if (it.op == OP_BYTES)
			c->queued_bytes -= it.len;
		pthread_cond_broadcast(&c->cv);
		pthread_mutex_unlock(&c->mu);
	}
	return NULL;
}

int
copier_start(struct copier **out, int in_fd, struct sc_err *e)
{
	struct copier *c = xcalloc(1, sizeof(*c));
	sigset_t all, old;
	int r;

	c->in_fd = in_fd;
	c->use_cfr = 1;
	sc_err_clear(&c->err);
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	/* Signals are the main thread's business. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&c->thread, NULL, copier_main, c);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		pthread_mutex_destroy(&c->mu);
		pthread_cond_destroy(&c->cv);
		free(c);
		errno = r;
		return sc_err_sys(e, "cannot start a writer thread");
	}
	*out = c;
	return 0;
}

static void
push(struct copier *c, const struct copier_item *it)
{
	uint64_t bytes = it->op == OP_BYTES ? it->len : 0;

	pthread_mutex_lock(&c->mu);
	while (c->head - c->tail == COPIER_SLOTS ||
	    (bytes > 0 && c->queued_bytes > 0 &&
	    c->queued_bytes + bytes > COPIER_MAX_BYTES))
		pthread_cond_wait(&c->cv, &c->mu);
	c->items[c->head % COPIER_SLOTS] = *it;
	c->head++;
	c->queued_bytes += bytes;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

void
copier_range(struct copier *c, int fd, const char *name, uint64_t off,
    uint64_t len)
{
	struct copier_item it = { OP_RANGE, fd, name, NULL, off, len, NULL };

	if (len > 0)
		push(c, &it);
}

void
copier_bytes(struct copier *c, int fd, const char *name, const void *p,
    size_t len)
{
	struct copier_item it = { OP_BYTES, fd, name, NULL, 0, len, NULL };

	if (len == 0)
		return;
	it.bytes = xmalloc(len);
	memcpy(it.bytes, p, len);
	push(c, &it);
}

void
copier_commit(struct copier *c, int fd, const char *tmp, const char *final)
{
	struct copier_item it = { OP_COMMIT, fd, tmp, final, 0, 0, NULL };

	push(c, &it);
}

int
copier_failed(struct copier *c, struct sc_err *e)
{
	int code;

	pthread_mutex_lock(&c->mu);
	code = c->code;
	if (code != 0 && e != NULL)
		*e = c->err;
	pthread_mutex_unlock(&c->mu);
	return code;
}

int
copier_finish(struct copier *c, int discard, size_t *committed,
    struct sc_err *e)
{
	int code;

	pthread_mutex_lock(&c->mu);
	c->stop = 1;
	c->discard = discard;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->thread, NULL);
	code = c->code;
	if (code != 0 && e != NULL)
		*e = c->err;
	if (committed != NULL)
		*committed = c->committed;
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cv);
	free(c->bounce);
	free(c);
	return code;
}
