/* split.c - cutting a capture into chunks at packet boundaries.
 *
 * The input is read once through a small window: the reader looks at the
 * record headers and the digest at every byte. The chunk files are filled
 * by a copier thread, in parallel, from the window itself: the reader
 * lends it the bytes of each chunk (a megabyte at most at a time, and
 * whatever is pending before the window moves) and reads on into another
 * buffer while they are written. Nothing is copied twice in user memory,
 * and memory stays a few megabytes whatever the size of the capture. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "copier.h"
#include "flow.h"
#include "split.h"
#include "strbuf.h"
#include "xalloc.h"
#include "banned.h"

#define FLUSH_AT (1u << 20)     /* hand input bytes over in pieces of this */
#define PROGRESS_EVERY (16u << 20)

struct splitter {
	const struct split_options *opt;
	struct split_result *res;
	struct source src;
	struct capture cap;
	struct copier *copier;
	struct digest dg;
	int have_dg;
	struct flow_count flows;  /* and those cut */
	struct sc_time latest;  /* the latest time stamp so far */
	int latest_seen;

	const uint8_t *hdr;     /* current section's header bytes */
	size_t hdr_len;
	struct strbuf carry;    /* its IDB, DSB and NRB blocks so far */
	int section_written;    /* the open chunk has begun the section */

	int fd;                 /* open chunk, or -1 */
	struct split_chunk *chunk;
	int chunk_has_content;
	/* Paths of every chunk of this run, until the copier is done. */
	char **tmp_paths, **final_paths;
	size_t n_paths, alloc_tmp, alloc_final;

	uint64_t pend_off, pend_len; /* input bytes owed to the chunk */
	uint64_t next_progress;
	uint64_t since_check;
	mode_t mode;            /* of the chunk files */
	int made_dir;           /* we created the output directory */
	size_t committed;       /* chunks renamed into place, once the copier
				   is done */
};

static char *
chunk_path(const struct splitter *sp, const char *file)
{
	return xasprintf("%s/%s", sp->opt->dir, file);
}

static const char *
open_tmp(const struct splitter *sp)
{
	return sp->tmp_paths[sp->res->n_chunks - 1];
}

static int
check_stop(struct splitter *sp, struct sc_err *e)
{
	int r;

	if (sp->opt->interrupted != NULL && *sp->opt->interrupted)
		return sc_err_set(e, SC_ERR_INTERRUPTED, "interrupted");
	if ((r = copier_failed(sp->copier, e)) != 0)
		return r;
	return 0;
}

static void
give_back(void *ctx, int loan)
{
	source_give_back(ctx, loan);
}

/* Hands the pending input bytes to the copier, after the digest. */
static int
flush_pending(struct splitter *sp, struct sc_err *e)
{
	uint64_t off = sp->pend_off, len = sp->pend_len;
	const uint8_t *p;
	int loan;

	if (len == 0)
		return 0;
	sp->pend_len = 0;
	p = source_lend(&sp->src, off, &loan);
	digest_update(&sp->dg, p, (size_t)len);
	copier_lent(sp->copier, sp->fd, open_tmp(sp), p, (size_t)len,
	    give_back, &sp->src, loan);
	source_keep(&sp->src, UINT64_MAX);
	return check_stop(sp, e);
}

static int
slide_flush(void *ctx, struct sc_err *e)
{
	return flush_pending(ctx, e);
}

static int
write_literal(struct splitter *sp, const uint8_t *p, size_t len,
    struct sc_err *e)
{
	int r;

	if ((r = flush_pending(sp, e)) != 0)
		return r;
	digest_update(&sp->dg, p, len);
	copier_bytes(sp->copier, sp->fd, open_tmp(sp), p, len);
	sp->chunk->bytes += len;
	return 0;
}

static int
append_range(struct splitter *sp, uint64_t off, uint64_t len,
    struct sc_err *e)
{
	int r;

	if (sp->pend_len > 0 && sp->pend_off + sp->pend_len != off &&
	    (r = flush_pending(sp, e)) != 0)
		return r;
	if (sp->pend_len == 0) {
		sp->pend_off = off;
		source_keep(&sp->src, off);
	}
	sp->pend_len += len;
	sp->chunk->bytes += len;
	if (sp->pend_len >= FLUSH_AT)
		return flush_pending(sp, e);
	return 0;
}

static void
report_progress(struct splitter *sp, int force)
{
	struct split_progress pr;

	if (sp->opt->progress == NULL)
		return;
	pr.done = source_progress(&sp->src);
	if (!force && pr.done < sp->next_progress)
		return;
	sp->next_progress = pr.done + PROGRESS_EVERY;
	pr.total = sp->src.file_size;
	pr.chunks = sp->res->n_chunks - (sp->fd >= 0 ? 1 : 0);
	sp->opt->progress(sp->opt->progress_ctx, &pr);
}

static int
open_chunk(struct splitter *sp, struct sc_err *e)
{
	struct split_result *res = sp->res;
	struct split_chunk *c;
	size_t n = res->n_chunks + 1;
	char *tmp;
	int r;

	if (n > SPLIT_MAX_CHUNKS)
		return sc_err_set(e, SC_ERR_LIMIT,
		    "more than %u chunks; use a larger --size",
		    SPLIT_MAX_CHUNKS);
	if ((r = check_stop(sp, e)) != 0)
		return r;
	c = xcalloc(1, sizeof(*c));
	c->file = xasprintf("%s-%06zu%s", sp->opt->name, n,
	    capture_format_extension(res->format));
	if ((sp->fd = split_open_tmp(sp->opt, c->file, sp->mode, &tmp,
	    e)) < 0) {
		free(c->file);
		free(c);
		return e->code;
	}
	ALLOC_GROW(res->chunks, n, res->alloc_chunks);
	ALLOC_GROW(sp->tmp_paths, n, sp->alloc_tmp);
	ALLOC_GROW(sp->final_paths, n, sp->alloc_final);
	res->chunks[res->n_chunks++] = c;
	sp->tmp_paths[n - 1] = tmp;
	sp->final_paths[n - 1] = chunk_path(sp, c->file);
	sp->n_paths = n;
	sp->chunk = c;
	sp->chunk_has_content = 0;
	sp->section_written = 0;
	return 0;
}

static int
close_chunk(struct splitter *sp, struct sc_err *e)
{
	size_t i = sp->res->n_chunks - 1;
	int r;

	if (sp->fd < 0)
		return 0;
	if ((r = flush_pending(sp, e)) != 0)
		return r;
	digest_final(&sp->dg, sp->chunk->digest);
	copier_commit(sp->copier, sp->fd, sp->tmp_paths[i], sp->final_paths[i]);
	sp->fd = -1;
	report_progress(sp, 1);
	return 0;
}

/* Makes sure a chunk is open that a block of len bytes may join, and that
 * the chunk has begun the current section. */
static int
begin_block(struct splitter *sp, size_t len, struct sc_err *e)
{
	uint64_t preamble = sp->hdr_len + sp->carry.len;
	int r;

	if (sp->opt->parts == 0 && sp->fd >= 0 && sp->chunk_has_content &&
	    sp->chunk->bytes + (sp->section_written ? 0 : preamble) + len >
	    sp->opt->size) {
		if ((r = close_chunk(sp, e)) != 0)
			return r;
	}
	if (sp->fd < 0 && (r = open_chunk(sp, e)) != 0)
		return r;
	if (!sp->section_written) {
		if ((r = write_literal(sp, sp->hdr, sp->hdr_len, e)) != 0)
			return r;
		if (sp->carry.len > 0 && (r = write_literal(sp,
		    (const uint8_t *)sp->carry.buf, sp->carry.len, e)) != 0)
			return r;
		sp->section_written = 1;
	}
	return 0;
}

static int
add_record(struct splitter *sp, const struct capture_rec *rec,
    struct sc_err *e)
{
	struct split_chunk *c;
	int r;

	if (rec->kind == REC_SECTION) {
		sp->hdr = rec->header;
		sp->hdr_len = rec->header_len;
		strbuf_reset(&sp->carry);
		sp->section_written = 0;
		return 0;
	}
	/* By parts: part k ends before the first packet or other block at
	 * or after k / parts of the input. */
	if (sp->opt->parts > 0 && sp->fd >= 0 && sp->chunk_has_content &&
	    (rec->kind == REC_PACKET || rec->kind == REC_OTHER) &&
	    sp->res->n_chunks < sp->opt->parts &&
	    rec->offset >= sp->src.file_size / sp->opt->parts *
	    sp->res->n_chunks && (r = close_chunk(sp, e)) != 0)
		return r;
	if ((r = begin_block(sp, rec->len, e)) != 0)
		return r;
	if ((r = append_range(sp, rec->offset, rec->len, e)) != 0)
		return r;
	c = sp->chunk;
	/* Blocks the next chunk repeats anyway are no reason to cut. */
	if (rec->kind == REC_PACKET || rec->kind == REC_OTHER)
		sp->chunk_has_content = 1;
	if (rec->kind == REC_PACKET) {
		struct flow f;

		/* (a full count is a lower bound: no more work) */
		if (sp->flows.exact) {
			flow_of(rec->linktype, rec->packet, rec->caplen, &f);
			if (f.kind == FLOW_IP)
				flow_count_add(&sp->flows, f.hash,
				    (uint32_t)sp->res->n_chunks);
		}
		c->packets++;
		sp->res->packets++;
		if (rec->has_time) {
			split_chunk_time(c, &rec->time);
			split_note_order(&rec->time, &sp->latest,
			    &sp->latest_seen, &sp->res->backwards);
		}
	} else if (rec->kind == REC_INTERFACE || rec->kind == REC_CARRY) {
		if (sp->carry.len + rec->len > SPLIT_MAX_CARRY)
			return sc_err_at(e, SC_ERR_LIMIT, rec->offset,
			    "the interface, name resolution and decryption "
			    "secrets blocks of one section exceed %u bytes",
			    SPLIT_MAX_CARRY);
		strbuf_add(&sp->carry, rec->data, rec->len);
	}
	return 0;
}

int
split_prepare_dir(const struct split_options *opt, enum capture_format format,
    int *made_dir, struct sc_err *e)
{
	char *path;
	struct stat st;
	int exists;

	if (mkdir(opt->dir, 0777) == 0)
		*made_dir = 1;
	else if (errno != EEXIST)
		return sc_err_sys(e, "cannot create directory '%s'", opt->dir);
	path = xasprintf("%s/%s-%06u%s", opt->dir, opt->name, 1u,
	    capture_format_extension(format));
	exists = lstat(path, &st) == 0;
	if (exists && !opt->force) {
		sc_err_set(e, SC_ERR_EXISTS,
		    "'%s' exists (use --force to replace the chunks)", path);
		free(path);
		return SC_ERR_EXISTS;
	}
	free(path);
	return 0;
}

int
split_open_tmp(const struct split_options *opt, const char *file,
    mode_t mode, char **tmp, struct sc_err *e)
{
	int fd;

	*tmp = xasprintf("%s/.%s.tmp-XXXXXX", opt->dir, file);
	fd = mkostemp(*tmp, O_CLOEXEC);
	if (fd < 0) {
		sc_err_sys(e, "cannot create a chunk in '%s'", opt->dir);
		free(*tmp);
		*tmp = NULL;
		return -1;
	}
	/* mkostemp makes the file private; a chunk is an ordinary file. */
	(void)fchmod(fd, mode);
	return fd;
}

void
split_remove_stale(const struct split_options *opt, enum capture_format format,
    size_t n_chunks)
{
	const char *ext = capture_format_extension(format);
	size_t name_len = strlen(opt->name), ext_len = strlen(ext);
	struct dirent *de;
	DIR *d;

	if (!opt->force || (d = opendir(opt->dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		const char *s = de->d_name;
		size_t len = strlen(s), i;
		uint64_t n = 0;
		char *path;

		if (len != name_len + 1 + 6 + ext_len ||
		    strncmp(s, opt->name, name_len) != 0 ||
		    s[name_len] != '-' || strcmp(s + len - ext_len, ext) != 0)
			continue;
		for (i = name_len + 1; i < name_len + 7; i++) {
			if (s[i] < '0' || s[i] > '9')
				break;
			n = n * 10 + (uint64_t)(s[i] - '0');
		}
		if (i != name_len + 7 || n <= n_chunks)
			continue;
		path = xasprintf("%s/%s", opt->dir, s);
		(void)unlink(path);
		free(path);
	}
	closedir(d);
}

void
split_note_order(const struct sc_time *t, struct sc_time *latest, int *seen,
    uint64_t *backwards)
{
	if (!*seen || sc_time_cmp(t, latest) > 0) {
		*latest = *t;
		*seen = 1;
	} else if (sc_time_cmp(t, latest) < 0) {
		++*backwards;
	}
}

void
split_chunk_time(struct split_chunk *c, const struct sc_time *t)
{
	if (!c->has_time) {
		c->first = c->min = c->max = *t;
		c->has_time = 1;
	}
	c->last = *t;
	if (sc_time_cmp(t, &c->min) < 0)
		c->min = *t;
	if (sc_time_cmp(t, &c->max) > 0)
		c->max = *t;
}

const char *
split_layout_name(enum split_layout layout)
{
	return layout == SPLIT_FLOW ? "flow" : "time";
}

int
split_layout_from_name(const char *name)
{
	if (strcmp(name, "time") == 0)
		return SPLIT_TIME;
	if (strcmp(name, "flow") == 0)
		return SPLIT_FLOW;
	return -1;
}

/* Stops the copier and removes everything this run wrote. */
static void
undo(struct splitter *sp)
{
	size_t i, committed = sp->committed;

	if (sp->copier != NULL)
		(void)copier_finish(sp->copier, 1, &committed, NULL);
	sp->copier = NULL;
	if (sp->fd >= 0)
		close(sp->fd);
	sp->fd = -1;
	/* Chunks are renamed into place in order: the first committed are
	 * in place, the others still under their temporary names. */
	for (i = 0; i < sp->res->n_chunks; i++)
		(void)unlink(i < committed ? sp->final_paths[i] : sp->tmp_paths[i]);
	if (sp->made_dir)
		(void)rmdir(sp->opt->dir);
}

static void
free_paths(struct splitter *sp)
{
	size_t i;

	for (i = 0; i < sp->n_paths; i++) {
		free(sp->tmp_paths[i]);
		free(sp->final_paths[i]);
	}
	free(sp->tmp_paths);
	free(sp->final_paths);
}

int
split_capture(const struct split_options *opt, struct split_result *res,
    struct sc_err *e)
{
	struct splitter sp;
	struct capture_rec rec;
	struct sc_err rerr;
	int r, damaged = 0;

	if (opt->layout == SPLIT_FLOW)
		return split_flows(opt, res, e);
	memset(res, 0, sizeof(*res));
	memset(&sp, 0, sizeof(sp));
	sp.opt = opt;
	sp.res = res;
	sp.fd = -1;
	sp.mode = umask(0);
	umask(sp.mode);
	sp.mode = 0666 & ~sp.mode;
	strbuf_init(&sp.carry);
	sc_err_clear(&rerr);
	flow_count_init(&sp.flows);

	if ((r = source_open(&sp.src, opt->input, opt->interrupted, e)) != 0)
		return r;
	res->compression = sp.src.compression;
	if ((r = capture_open(&sp.cap, &sp.src, e)) != 0)
		goto out;
	res->format = sp.cap.format;
	/* Nothing is created before the first header has proved good. */
	if ((r = capture_next(&sp.cap, &rec, e)) <= 0) {
		if (r == 0)
			r = sc_err_at(e, SC_ERR_TRUNCATED, 0, "no header");
		goto out;
	}
	if ((r = split_prepare_dir(opt, res->format, &sp.made_dir, e)) != 0)
		goto out;
	if ((r = copier_start(&sp.copier, e)) != 0)
		goto out;
	digest_init(&sp.dg, opt->digest);
	sp.have_dg = 1;
	/* Pending bytes go to the copier before the window moves, so that
	 * only a record's unread part is ever carried over. */
	source_on_slide(&sp.src, slide_flush, &sp);

	if ((r = add_record(&sp, &rec, e)) != 0)
		goto out;
	for (;;) {
		r = capture_next(&sp.cap, &rec, &rerr);
		if (r == 0)
			break;
		if (r < 0) {
			if (sp.cap.started && sc_err_is_format(r)) {
				damaged = 1;
				break;
			}
			*e = rerr;
			goto out;
		}
		if ((r = add_record(&sp, &rec, e)) != 0)
			goto out;
		if (++sp.since_check == 4096) {
			sp.since_check = 0;
			if ((r = check_stop(&sp, e)) != 0)
				goto out;
			report_progress(&sp, 0);
		}
	}
	if (damaged && res->packets == 0) {
		/* Damage before the first packet: nothing worth keeping. */
		*e = rerr;
		r = rerr.code;
		goto out;
	}
	/* A section with no blocks (at the end, or the whole file) still
	 * gets its header into a chunk, so that every input yields at least
	 * one valid file. */
	if (!sp.section_written && (r = begin_block(&sp, 0, e)) != 0)
		goto out;
	if ((r = close_chunk(&sp, e)) != 0)
		goto out;
	if (damaged) {
		res->damage = rerr;
		uint64_t end = source_drain(&sp.src);

		res->dropped_bytes = end > rerr.offset ? end - rerr.offset : 0;
	}
	res->input_bytes = damaged ? source_end(&sp.src) : sp.src.pos;
	res->time_digits = capture_time_digits(&sp.cap);
	res->flows = sp.flows.flows;
	res->cut_flows = sp.flows.cut;
	res->flows_exact = sp.flows.exact;
	r = copier_finish(sp.copier, 0, &sp.committed, e);
	sp.copier = NULL;
	if (r != 0)
		goto out;
	split_remove_stale(opt, res->format, res->n_chunks);

out:
	if (r != 0) {
		undo(&sp);
		split_result_release(res);
	}
	free_paths(&sp);
	if (sp.have_dg)
		digest_release(&sp.dg);
	strbuf_release(&sp.carry);
	flow_count_release(&sp.flows);
	capture_release(&sp.cap);
	source_close(&sp.src);
	return r;
}

void
split_result_release(struct split_result *res)
{
	size_t i;

	for (i = 0; i < res->n_chunks; i++) {
		free(res->chunks[i]->file);
		free(res->chunks[i]);
	}
	free(res->chunks);
	res->chunks = NULL;
	res->n_chunks = 0;
	res->alloc_chunks = 0;
}

int
split_is_part(const char *file, const char *chunk)
{
	const char *dot = strrchr(chunk, '.');
	size_t n = dot != NULL ? (size_t)(dot - chunk) : strlen(chunk);

	return strncmp(file, chunk, n) == 0 && file[n] == '-';
}
