/* source.h - the bytes of an input capture, through a window.
 *
 * A source hands out contiguous views of its input by stream offset, read
 * into a buffer that only grows as far as the largest view asked for, so
 * memory does not grow with the input. A .gz or .zst file is decompressed
 * by a thread of its own, one step ahead of the reader.
 *
 * Bytes of the window can be lent to another thread (the split's writer):
 * they stay where they are until given back, and meanwhile the window
 * moves on into another of SOURCE_BUFS buffers. The reader waits only
 * when every buffer is out on loan. */
#ifndef SHARDCAP_SOURCE_H
#define SHARDCAP_SOURCE_H

#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

enum source_compression {
	SOURCE_PLAIN = 0,
	SOURCE_GZIP,
	SOURCE_ZSTD,
};

struct decomp;

#define SOURCE_BUFS 3

struct source_buf {
	uint8_t *p;
	size_t cap;
	unsigned lent;          /* loans not given back (under lend_mu) */
};

struct source {
	const char *path;       /* as given, for messages; not owned */
	int fd;                 /* -1 for memory sources */
	int regular;            /* fd is a regular file, read from offset 0,
				   and not compressed: stream offsets are
				   file offsets */
	enum source_compression compression;
	uint64_t file_size;     /* on-disk size when known, else 0 */

	const uint8_t *win;     /* the window: win[0] is stream offset win_off */
	uint64_t win_off;
	size_t win_len;
	struct source_buf bufs[SOURCE_BUFS];
	unsigned cur;           /* the buffer behind win, unless win is a
				   memory source's own bytes */
	pthread_mutex_t lend_mu;
	pthread_cond_t lend_cv; /* a loan was given back */
	/* Called before the window moves (see source_on_slide). */
	int (*on_slide)(void *ctx, struct sc_err *e);
	void *slide_ctx;

	uint64_t pos;           /* the reader's position */
	uint64_t keep;          /* lowest offset the caller still needs, or
				   UINT64_MAX to mean "the position" */
	int eof;                /* no more bytes will come */
	int err;                /* sticky error of the byte supply */
	struct sc_err err_info;

	struct decomp *dc;      /* decompressor thread, if compressed */
	const uint8_t *mem;     /* memory source (tests, fuzzing) */
	size_t mem_len, mem_pos;
	uint32_t trickle;       /* memory source handing out odd-sized pieces */
	uint64_t raw_read;      /* bytes taken from the file (compressed ones
				   for a compressed file) */
	volatile sig_atomic_t *interrupted; /* a wait ends when set */
};

/* Opens path ("-" for standard input), detecting compression from the first
 * bytes. A wait for input ends with SC_ERR_INTERRUPTED once *interrupted
 * (if not NULL) is set by a signal handler. Returns 0, or a negative code
 * with e filled in. On failure the source needs no source_close. */
int source_open(struct source *src, const char *path,
    volatile sig_atomic_t *interrupted, struct sc_err *e);
/* Opens len bytes of memory as a source (not copied; must outlive it).
 * With trickle != 0 the bytes are handed out as if read from a pipe in
 * small pieces of pseudo-random size seeded by trickle. Compressed memory
 * is not detected. */
void source_open_mem(struct source *src, const void *data, size_t len,
    uint32_t trickle);
/* Stops the decompressor, unmaps, frees, closes. */
void source_close(struct source *src);

/* Makes the n bytes at the position available: *p points at them and *got
 * says how many there are (fewer than n only at the end of the input).
 * *p stays valid until the next source_need. Returns 0 or a negative code
 * (a read error, or damage in the compressed stream) with e filled in. */
int source_need(struct source *src, size_t n, const uint8_t **p, size_t *got,
    struct sc_err *e);
/* Advances the position by n bytes, which must have been made available. */
void source_skip(struct source *src, size_t n);
/* Declares that the bytes from off (<= position) on are still needed:
 * source_at() stays valid for them until the next source_keep. Pass
 * UINT64_MAX to need nothing behind the position. */
void source_keep(struct source *src, uint64_t off);
/* A pointer to the byte at off, which must be kept and available. */
const uint8_t *source_at(const struct source *src, uint64_t off);
/* Lends the window's bytes from off (kept and available) to the end: the
 * pointer returned stays valid, the bytes unchanged, until
 * source_give_back(src, *loan), whatever the source does meanwhile -
 * except source_close, which must come after every loan is given back. */
const uint8_t *source_lend(struct source *src, uint64_t off, int *loan);
/* Ends a loan; any thread may call it. */
void source_give_back(struct source *src, int loan);
/* Has fn(ctx, e) called whenever source_need is about to move or grow the
 * window: the last moment the bytes kept behind the position are where
 * source_at() said. fn may lend them, and should then keep nothing (so
 * that only the unread part of a record is carried over); a nonzero
 * return is source_need's, with e filled in. */
void source_on_slide(struct source *src,
    int (*fn)(void *ctx, struct sc_err *e), void *ctx);
/* How far through the file we are, in file bytes (compressed bytes for a
 * compressed file), for progress. */
uint64_t source_progress(const struct source *src);
/* The number of bytes in the stream, once it has been read to the end. */
uint64_t source_end(const struct source *src);
/* Reads (or, for a regular file, skips) to the end of the stream and
 * returns its length; stops early at a damaged compressed stream. */
uint64_t source_drain(struct source *src);

#endif
