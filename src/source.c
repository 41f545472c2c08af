/* source.c - the bytes of an input capture, through a window. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>
#include <zstd.h>

#include "source.h"
#include "xalloc.h"
#include "banned.h"

#define BUF_INITIAL (2u << 20)   /* window buffer of an unmapped source */
#define DC_BLOCKS 4              /* decompressed blocks in flight */
#define DC_BLOCK (512u << 10)
#define DC_INPUT (256u << 10)

/*
 * The decompressor: a thread that reads the compressed file and fills a
 * ring of DC_BLOCKS blocks; the reader empties them in order. One mutex,
 * one condition variable for both directions (there is one of each party).
 */
struct decomp {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint8_t *block[DC_BLOCKS];
	size_t block_len[DC_BLOCKS];
	unsigned head;          /* blocks filled so far */
	unsigned tail;          /* blocks emptied so far */
	size_t tail_used;       /* bytes of block[tail % N] already taken */
	int done;               /* producer finished (end or error) */
	int stop;               /* reader wants the producer gone */
	int code;               /* 0 or the producer's error */
	struct sc_err err;
	uint64_t raw_in;        /* compressed bytes read */
	uint64_t out_total;     /* decompressed bytes produced */

	int fd;
	int wake[2];            /* written to when the reader wants us gone */
	enum source_compression kind;
	uint8_t prefix[4];      /* bytes read while detecting the format */
	size_t prefix_len;
	const char *path;
};

/* Reads until len bytes, the end, or an error; a signal that set
 * *interrupted (when given) ends the wait with errno EINTR. */
static int
read_full(int fd, uint8_t *buf, size_t len, size_t *got,
    volatile sig_atomic_t *interrupted)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = read(fd, buf + done, len - done);

		if (n < 0) {
			if (errno == EINTR &&
			    (interrupted == NULL || !*interrupted))
				continue;
			*got = done;
			return -1;
		}
		if (n == 0)
			break;
		done += (size_t)n;
	}
	*got = done;
	return 0;
}

/* Producer side: hands a filled block over; returns -1 when told to stop. */
static int
dc_publish(struct decomp *dc, size_t len)
{
	pthread_mutex_lock(&dc->mu);
	dc->block_len[dc->head % DC_BLOCKS] = len;
	dc->out_total += len;
	dc->head++;
	pthread_cond_broadcast(&dc->cv);
	while (!dc->stop && dc->head - dc->tail == DC_BLOCKS)
		pthread_cond_wait(&dc->cv, &dc->mu);
	pthread_mutex_unlock(&dc->mu);
	return dc->stop ? -1 : 0;
}

static void
dc_finish(struct decomp *dc, int code)
{
	pthread_mutex_lock(&dc->mu);
	dc->code = code;
	dc->done = 1;
	pthread_cond_broadcast(&dc->cv);
	pthread_mutex_unlock(&dc->mu);
}

/* Reads compressed input into in; the detection prefix comes first. */
static int
dc_read_input(struct decomp *dc, uint8_t *in, size_t cap, size_t *got)
{
	size_t n = 0, more;

	if (dc->prefix_len > 0) {
		memcpy(in, dc->prefix, dc->prefix_len);
		n = dc->prefix_len;
		dc->prefix_len = 0;
	}
	more = 0;
	while (n < cap) {
		/* Wait for input or for the reader to call us off: a
		 * stalled pipe must not keep the thread from stopping. */
		struct pollfd pfd[2] = {
			{ dc->fd, POLLIN, 0 }, { dc->wake[0], POLLIN, 0 },
		};
		ssize_t k;

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return sc_err_sys(&dc->err, "cannot read '%s'", dc->path);
		}
		if (pfd[1].revents != 0)
			return sc_err_set(&dc->err, SC_ERR_INTERRUPTED,
			    "interrupted");
		k = read(dc->fd, in + n, cap - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return sc_err_sys(&dc->err, "cannot read '%s'", dc->path);
		if (k == 0)
			break;
		n += (size_t)k;
		more += (size_t)k;
	}
	pthread_mutex_lock(&dc->mu);
	dc->raw_in += more;
	pthread_mutex_unlock(&dc->mu);
	*got = n;
	return 0;
}

static uint64_t
dc_out_offset(struct decomp *dc, size_t pending)
{
	uint64_t v;

	pthread_mutex_lock(&dc->mu);
	v = dc->out_total;
	pthread_mutex_unlock(&dc->mu);
	return v + pending;
}

static int
dc_run_gzip(struct decomp *dc, uint8_t *in)
{
	z_stream zs;
	size_t in_len = 0, out_len = 0;
	int zr, code = 0, at_member_start = 1, input_done = 0;
	uint8_t *out;

	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, 15 + 16) != Z_OK)
		return sc_err_set(&dc->err, SC_ERR_SYSTEM,
		    "cannot start the gzip decompressor");
	out = dc->block[dc->head % DC_BLOCKS];
	for (;;) {
		if (zs.avail_in == 0 && !input_done) {
			if ((code = dc_read_input(dc, in, DC_INPUT, &in_len)) != 0)
				break;
			if (in_len == 0)
				input_done = 1;
			zs.next_in = in;
			zs.avail_in = (uInt)in_len;
		}
		if (zs.avail_in == 0 && input_done) {
			if (!at_member_start)
				code = sc_err_at(&dc->err, SC_ERR_DECOMPRESS,
				    dc_out_offset(dc, out_len),
				    "gzip stream ends early (file truncated)");
			break;
		}
		if (at_member_start && zs.avail_in > 0) {
			/* A member must start with the gzip magic; anything
			 * else after a complete member is trailing garbage. */
			if (zs.avail_in >= 2 && (zs.next_in[0] != 0x1f ||
			    zs.next_in[1] != 0x8b)) {
				code = sc_err_at(&dc->err, SC_ERR_DECOMPRESS,
				    dc_out_offset(dc, out_len),
				    "trailing data after the gzip stream");
				break;
			}
			at_member_start = 0;
		}
		zs.next_out = out + out_len;
		zs.avail_out = (uInt)(DC_BLOCK - out_len);
		zr = inflate(&zs, Z_NO_FLUSH);
		out_len = DC_BLOCK - zs.avail_out;
		if (zr == Z_STREAM_END) {
			inflateReset(&zs);
			at_member_start = 1;
		} else if (zr != Z_OK && zr != Z_BUF_ERROR) {
			code = sc_err_at(&dc->err, SC_ERR_DECOMPRESS,
			    dc_out_offset(dc, out_len), "damaged gzip data: %s",
			    zs.msg ? zs.msg : "inflate failed");
			break;
		}
		if (out_len == DC_BLOCK) {
			if (dc_publish(dc, out_len) < 0)
				break;
			out = dc->block[dc->head % DC_BLOCKS];
			out_len = 0;
		}
	}
	if (out_len > 0)
		(void)dc_publish(dc, out_len);
	inflateEnd(&zs);
	return code;
}

static int
dc_run_zstd(struct decomp *dc, uint8_t *in)
{
	ZSTD_DCtx *z = ZSTD_createDCtx();
	ZSTD_inBuffer zin = { in, 0, 0 };
	size_t out_len = 0, frame_left = 0, r;
	int code = 0, input_done = 0;
	uint8_t *out;

	if (z == NULL)
		return sc_err_set(&dc->err, SC_ERR_SYSTEM,
		    "cannot start the zstd decompressor");
	/* Allow the long-distance windows "zstd --long" writes. */
	ZSTD_DCtx_setParameter(z, ZSTD_d_windowLogMax, 27);
	out = dc->block[dc->head % DC_BLOCKS];
	for (;;) {
		ZSTD_outBuffer zout;

		if (zin.pos == zin.size && !input_done) {
			size_t got;

			if ((code = dc_read_input(dc, in, DC_INPUT, &got)) != 0)
				break;
			if (got == 0)
				input_done = 1;
			zin.size = got;
			zin.pos = 0;
		}
		if (zin.pos == zin.size && input_done) {
			if (frame_left != 0)
				code = sc_err_at(&dc->err, SC_ERR_DECOMPRESS,
				    dc_out_offset(dc, out_len),
				    "zstd stream ends early (file truncated)");
			break;
		}
		zout.dst = out;
		zout.size = DC_BLOCK;
		zout.pos = out_len;
		r = ZSTD_decompressStream(z, &zout, &zin);
		out_len = zout.pos;
		if (ZSTD_isError(r)) {
			code = sc_err_at(&dc->err, SC_ERR_DECOMPRESS,
			    dc_out_offset(dc, out_len), "damaged zstd data: %s",
			    ZSTD_getErrorName(r));
			break;
		}
		frame_left = r;
		if (out_len == DC_BLOCK) {
			if (dc_publish(dc, out_len) < 0)
				break;
			out = dc->block[dc->head % DC_BLOCKS];
			out_len = 0;
		}
	}
	if (out_len > 0)
		(void)dc_publish(dc, out_len);
	ZSTD_freeDCtx(z);
	return code;
}

static void *
dc_main(void *arg)
{
	struct decomp *dc = arg;
	uint8_t *in = xmalloc(DC_INPUT);
	int code;

	if (dc->kind == SOURCE_GZIP)
		code = dc_run_gzip(dc, in);
	else
		code = dc_run_zstd(dc, in);
	free(in);
	dc_finish(dc, code);
	return NULL;
}

static int
dc_start(struct source *src, const uint8_t *prefix, size_t prefix_len,
    struct sc_err *e)
{
	struct decomp *dc = xcalloc(1, sizeof(*dc));
	sigset_t all, old;
	unsigned i;
	int r;

	pthread_mutex_init(&dc->mu, NULL);
	pthread_cond_init(&dc->cv, NULL);
	for (i = 0; i < DC_BLOCKS; i++)
		dc->block[i] = xmalloc(DC_BLOCK);
	dc->fd = src->fd;
	dc->kind = src->compression;
	dc->path = src->path;
	memcpy(dc->prefix, prefix, prefix_len);
	dc->prefix_len = prefix_len;
	sc_err_clear(&dc->err);
	if (pipe2(dc->wake, O_CLOEXEC) < 0) {
		r = sc_err_sys(e, "cannot start a decompressor thread");
		for (i = 0; i < DC_BLOCKS; i++)
			free(dc->block[i]);
		free(dc);
		return r;
	}
	/* Signals are for the main thread, which decides what to do. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&dc->thread, NULL, dc_main, dc);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		close(dc->wake[0]);
		close(dc->wake[1]);
		for (i = 0; i < DC_BLOCKS; i++)
			free(dc->block[i]);
		free(dc);
		errno = r;
		return sc_err_sys(e, "cannot start a decompressor thread");
	}
	src->dc = dc;
	return 0;
}

static void
dc_stop(struct decomp *dc)
{
	unsigned i;

	pthread_mutex_lock(&dc->mu);
	dc->stop = 1;
	pthread_cond_broadcast(&dc->cv);
	pthread_mutex_unlock(&dc->mu);
	(void)!write(dc->wake[1], "x", 1);
	pthread_join(dc->thread, NULL);
	close(dc->wake[0]);
	close(dc->wake[1]);
	pthread_mutex_destroy(&dc->mu);
	pthread_cond_destroy(&dc->cv);
	for (i = 0; i < DC_BLOCKS; i++)
		free(dc->block[i]);
	free(dc);
}

/* Consumer side: copies up to len decompressed bytes; 0 at the end. */
static int
dc_read(struct decomp *dc, uint8_t *dst, size_t len, size_t *got,
    volatile sig_atomic_t *interrupted, struct sc_err *e)
{
	size_t n;
	unsigned slot;

	pthread_mutex_lock(&dc->mu);
	while (dc->head == dc->tail && !dc->done) {
		struct timespec ts;

		/* Signals reach this thread only; look at the flag now and
		 * then instead of waiting for data that may never come. */
		if (interrupted != NULL && *interrupted) {
			pthread_mutex_unlock(&dc->mu);
			*got = 0;
			return sc_err_set(e, SC_ERR_INTERRUPTED, "interrupted");
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&dc->cv, &dc->mu, &ts);
	}
	if (dc->head == dc->tail) {
		int code = dc->code;

		if (code != 0 && e != NULL)
			*e = dc->err;
		pthread_mutex_unlock(&dc->mu);
		*got = 0;
		return code;
	}
	slot = dc->tail % DC_BLOCKS;
	pthread_mutex_unlock(&dc->mu);

	/* The producer does not touch block[slot] until we release it. */
	n = dc->block_len[slot] - dc->tail_used;
	if (n > len)
		n = len;
	memcpy(dst, dc->block[slot] + dc->tail_used, n);
	dc->tail_used += n;
	if (dc->tail_used == dc->block_len[slot]) {
		pthread_mutex_lock(&dc->mu);
		dc->tail++;
		dc->tail_used = 0;
		pthread_cond_broadcast(&dc->cv);
		pthread_mutex_unlock(&dc->mu);
	}
	*got = n;
	return 0;
}

/* Reads up to len more bytes of the stream into dst; *got == 0 at the end. */
static int
raw_read(struct source *src, uint8_t *dst, size_t len, size_t *got,
    struct sc_err *e)
{
	if (src->dc != NULL)
		return dc_read(src->dc, dst, len, got, src->interrupted, e);
	if (src->mem != NULL) {
		size_t n = src->mem_len - src->mem_pos;

		if (src->trickle != 0) {
			/* xorshift: piece sizes 1..4096 */
			src->trickle ^= src->trickle << 13;
			src->trickle ^= src->trickle >> 17;
			src->trickle ^= src->trickle << 5;
			if (n > 1 + src->trickle % 4096)
				n = 1 + src->trickle % 4096;
		}
		if (n > len)
			n = len;
		memcpy(dst, src->mem + src->mem_pos, n);
		src->mem_pos += n;
		*got = n;
		return 0;
	}
	for (;;) {
		ssize_t n = read(src->fd, dst, len);

		if (n < 0 && errno == EINTR &&
		    (src->interrupted == NULL || !*src->interrupted))
			continue;
		if (n < 0 && errno == EINTR) {
			*got = 0;
			return sc_err_set(e, SC_ERR_INTERRUPTED, "interrupted");
		}
		if (n < 0) {
			*got = 0;
			return sc_err_sys(e, "cannot read '%s'", src->path);
		}
		src->raw_read += (uint64_t)n;
		*got = (size_t)n;
		return 0;
	}
}

static enum source_compression
detect_compression(const uint8_t *p, size_t len)
{
	if (len >= 2 && p[0] == 0x1f && p[1] == 0x8b)
		return SOURCE_GZIP;
	if (len >= 4 && p[0] == 0x28 && p[1] == 0xb5 && p[2] == 0x2f &&
	    p[3] == 0xfd)
		return SOURCE_ZSTD;
	return SOURCE_PLAIN;
}

static void
source_init(struct source *src, const char *path)
{
	memset(src, 0, sizeof(*src));
	src->path = path;
	src->fd = -1;
	src->keep = UINT64_MAX;
	sc_err_clear(&src->err_info);
	pthread_mutex_init(&src->lend_mu, NULL);
	pthread_cond_init(&src->lend_cv, NULL);
}

int
source_open(struct source *src, const char *path,
    volatile sig_atomic_t *interrupted, struct sc_err *e)
{
	uint8_t magic[4];
	size_t magic_len = 0;
	struct stat st;
	int r;

	source_init(src, path);
	src->interrupted = interrupted;
	if (strcmp(path, "-") == 0) {
		src->fd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
		if (src->fd < 0)
			return sc_err_sys(e, "cannot use standard input");
	} else {
		src->fd = open(path, O_RDONLY | O_CLOEXEC);
		if (src->fd < 0)
			return sc_err_sys(e, "cannot open '%s'", path);
	}
	if (fstat(src->fd, &st) < 0) {
		r = sc_err_sys(e, "cannot stat '%s'", path);
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		errno = EISDIR;
		r = sc_err_sys(e, "cannot read '%s'", path);
		goto fail;
	}
	if (S_ISREG(st.st_mode) && lseek(src->fd, 0, SEEK_CUR) == 0) {
		src->file_size = (uint64_t)st.st_size;
		(void)posix_fadvise(src->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	}
	/* The detection bytes are kept, not read again: the input may be
	 * a pipe. */
	if (read_full(src->fd, magic, sizeof(magic), &magic_len,
	    interrupted) < 0) {
		if (errno == EINTR)
			r = sc_err_set(e, SC_ERR_INTERRUPTED, "interrupted");
		else
			r = sc_err_sys(e, "cannot read '%s'", path);
		goto fail;
	}
	src->compression = detect_compression(magic, magic_len);
	src->bufs[0].cap = BUF_INITIAL;
	src->bufs[0].p = xmalloc(BUF_INITIAL);
	src->win = src->bufs[0].p;
	if (src->compression != SOURCE_PLAIN) {
		if ((r = dc_start(src, magic, magic_len, e)) != 0)
			goto fail;
		return 0;
	}
	src->regular = src->file_size > 0;
	memcpy(src->bufs[0].p, magic, magic_len);
	src->win_len = magic_len;
	src->raw_read = magic_len;
	return 0;

fail:
	free(src->bufs[0].p);
	src->bufs[0].p = NULL;
	close(src->fd);
	src->fd = -1;
	return r;
}

void
source_open_mem(struct source *src, const void *data, size_t len,
    uint32_t trickle)
{
	source_init(src, "(memory)");
	if (trickle == 0) {
		src->win = data;
		src->win_len = len;
		src->eof = 1;
		return;
	}
	/* (no bytes may come as NULL: still memory, not a descriptor) */
	src->mem = data != NULL ? data : (const void *)"";
	src->mem_len = len;
	src->trickle = trickle;
	/* Small, so that growth and compaction get exercised. */
	src->bufs[0].cap = 64;
	src->bufs[0].p = xmalloc(64);
	src->win = src->bufs[0].p;
}

void
source_close(struct source *src)
{
	unsigned i;

	if (src->dc != NULL)
		dc_stop(src->dc);
	for (i = 0; i < SOURCE_BUFS; i++)
		free(src->bufs[i].p);
	pthread_mutex_destroy(&src->lend_mu);
	pthread_cond_destroy(&src->lend_cv);
	if (src->fd >= 0)
		close(src->fd);
	source_init(src, src->path);
}

static int
is_lent(struct source *src, unsigned i)
{
	unsigned lent;

	pthread_mutex_lock(&src->lend_mu);
	lent = src->bufs[i].lent;
	pthread_mutex_unlock(&src->lend_mu);
	return lent > 0;
}

/* A buffer other than the current one with nothing on loan, waiting for
 * one to be given back if need be; allocated on first use. */
static unsigned
free_buf(struct source *src)
{
	unsigned i;

	pthread_mutex_lock(&src->lend_mu);
	for (;;) {
		for (i = 0; i < SOURCE_BUFS; i++)
			if (i != src->cur && src->bufs[i].lent == 0)
				goto found;
		pthread_cond_wait(&src->lend_cv, &src->lend_mu);
	}
found:
	pthread_mutex_unlock(&src->lend_mu);
	return i;
}

int
source_need(struct source *src, size_t n, const uint8_t **p, size_t *got,
    struct sc_err *e)
{
	uint64_t end = src->win_off + src->win_len;
	struct source_buf *b;
	uint64_t keep;
	size_t shift, want;
	int code;

	if (src->pos + n <= end || src->eof) {
		*p = src->win + (src->pos - src->win_off);
		*got = src->pos + n <= end ? n : (size_t)(end - src->pos);
		return 0;
	}
	if (src->err != 0) {
		if (e != NULL)
			*e = src->err_info;
		return src->err;
	}

	if (src->on_slide != NULL &&
	    (code = src->on_slide(src->slide_ctx, e)) != 0)
		return code;
	/* Slide the window so that it starts at the oldest byte needed. */
	keep = src->keep < src->pos ? src->keep : src->pos;
	shift = (size_t)(keep - src->win_off);
	want = (size_t)(src->pos - keep) + n;
	b = &src->bufs[src->cur];
	if ((shift > 0 || want > b->cap) && is_lent(src, src->cur)) {
		/* The bytes on loan stay put: carry the kept ones over. */
		struct source_buf *to = &src->bufs[free_buf(src)];
		size_t cap = b->cap > want ? b->cap : want;

		if (to->cap < cap) {
			free(to->p);
			to->p = xmalloc(cap);
			to->cap = cap;
		}
		memcpy(to->p, src->win + shift, src->win_len - shift);
		src->cur = (unsigned)(to - src->bufs);
		b = to;
	} else {
		if (shift > 0)
			memmove(b->p, b->p + shift, src->win_len - shift);
		if (want > b->cap) {
			size_t cap = b->cap * 2 > want ? b->cap * 2 : want;

			b->p = xreallocarray(b->p, cap, 1);
			b->cap = cap;
		}
	}
	src->win_len -= shift;
	src->win_off = keep;
	src->win = b->p;
	while (src->win_len < want) {
		size_t room = b->cap - src->win_len, r;

		code = raw_read(src, b->p + src->win_len, room, &r,
		    &src->err_info);
		if (code != 0) {
			src->err = code;
			/* Hand out what did arrive first; the error comes
			 * when the reader asks past it. */
			break;
		}
		if (r == 0) {
			src->eof = 1;
			break;
		}
		src->win_len += r;
	}
	end = src->win_off + src->win_len;
	if (src->pos + n > end && src->err != 0) {
		if (e != NULL)
			*e = src->err_info;
		return src->err;
	}
	*p = src->win + (src->pos - src->win_off);
	*got = src->pos + n <= end ? n : (size_t)(end - src->pos);
	return 0;
}

void
source_skip(struct source *src, size_t n)
{
	src->pos += n;
}

void
source_keep(struct source *src, uint64_t off)
{
	src->keep = off;
}

const uint8_t *
source_at(const struct source *src, uint64_t off)
{
	return src->win + (off - src->win_off);
}

const uint8_t *
source_lend(struct source *src, uint64_t off, int *loan)
{
	/* A memory source's own bytes never move. */
	*loan = -1;
	if (src->win == src->bufs[src->cur].p) {
		*loan = (int)src->cur;
		pthread_mutex_lock(&src->lend_mu);
		src->bufs[src->cur].lent++;
		pthread_mutex_unlock(&src->lend_mu);
	}
	return source_at(src, off);
}

void
source_give_back(struct source *src, int loan)
{
	if (loan < 0)
		return;
	pthread_mutex_lock(&src->lend_mu);
	src->bufs[loan].lent--;
	pthread_cond_broadcast(&src->lend_cv);
	pthread_mutex_unlock(&src->lend_mu);
}

void
source_on_slide(struct source *src, int (*fn)(void *ctx, struct sc_err *e),
    void *ctx)
{
	src->on_slide = fn;
	src->slide_ctx = ctx;
}

uint64_t
source_progress(const struct source *src)
{
	uint64_t v;

	if (src->dc == NULL)
		return src->raw_read;
	pthread_mutex_lock(&src->dc->mu);
	v = src->dc->raw_in;
	pthread_mutex_unlock(&src->dc->mu);
	return v;
}

uint64_t
source_end(const struct source *src)
{
	return src->win_off + src->win_len;
}

uint64_t
source_drain(struct source *src)
{
	const uint8_t *p;
	size_t got;

	source_keep(src, UINT64_MAX);
	if (src->regular) {
		struct stat st;

		/* a file still being written has grown since it was opened */
		if (src->fd >= 0 && fstat(src->fd, &st) == 0 &&
		    (uint64_t)st.st_size > src->file_size)
			return (uint64_t)st.st_size;
		return src->file_size;
	}
	while (source_need(src, 1u << 20, &p, &got, NULL) == 0 && got > 0)
		source_skip(src, got);
	return source_end(src);
}
