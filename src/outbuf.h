/* outbuf.h - the output of one job, held until it can be written: in
 * memory up to a limit, then in an unlinked temporary file. All outbufs
 * of a run share one memory budget, so that memory stays bounded however
 * much the jobs print and however slowly it is read. */
#ifndef SHARDCAP_OUTBUF_H
#define SHARDCAP_OUTBUF_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "strbuf.h"

struct outbuf_budget {
	size_t limit;           /* bytes all outbufs may hold in memory */
	size_t used;
	size_t per_buf;         /* and one alone */
};

struct outbuf {
	struct outbuf_budget *budget;
	struct strbuf mem;
	int spill_fd;           /* -1 until the output goes to disk */
	uint64_t len;           /* bytes held, memory and file */
};

void outbuf_init(struct outbuf *ob, struct outbuf_budget *budget);
/* Appends len bytes. Returns 0 or SC_ERR_SYSTEM (the temporary file). */
int outbuf_add(struct outbuf *ob, const void *data, size_t len,
    struct sc_err *e);
/* Calls emit with the held bytes, in order, in pieces; stops at the first
 * non-zero return and returns it. */
int outbuf_each(struct outbuf *ob,
    int (*emit)(void *ctx, const char *data, size_t len), void *ctx);
/* Frees memory and the file; ob can be used again. */
void outbuf_release(struct outbuf *ob);

#endif
