/* cut.c - cutting a chunk into parts, journaled (see cut.h). */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cut.h"
#include "file.h"
#include "move.h"
#include "push.h"
#include "repair.h"
#include "split.h"
#include "strbuf.h"
#include "util.h"
#include "xalloc.h"
#include "banned.h"

static void
crash_point(const char *state)
{
	const char *want = getenv(CUT_CRASH_ENV);

	if (want != NULL && strcmp(want, state) == 0)
		raise(SIGKILL);
}

/* The length of file without its extension. */
static size_t
stem_len(const char *file)
{
	const char *dot = strrchr(file, '.');

	return dot != NULL ? (size_t)(dot - file) : strlen(file);
}

/* Part k (from 1) of chunk: NAME-000005-00000k.pcap, as the splitter
 * names them. 0 when it does not fit. */
static int
part_name(char *out, size_t len, const char *chunk, unsigned k)
{
	size_t n = stem_len(chunk);
	int w = snprintf(out, len, "%.*s-%06u%s", (int)n, chunk, k, chunk + n);

	return w > 0 && (size_t)w < len;
}

/* The workers of the config named in a journal row's list. */
static size_t
named_workers(const struct cluster *cl, const char *names, size_t *out)
{
	size_t k, n = 0;

	for (k = 0; k < cl->cfg.n_workers; k++) {
		const char *name = cl->cfg.workers[k].name, *p = names;
		size_t len = strlen(name);
		int found = strcmp(names, "*") == 0;

		while (!found && (p = strstr(p, name)) != NULL) {
			found = (p == names || p[-1] == ' ') &&
			    (p[len] == ' ' || p[len] == '\0');
			p += len;
		}
		if (found)
			out[n++] = k;
	}
	return n;
}

static void
add_worker(size_t *list, size_t *n, size_t w)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (list[i] == w)
			return;
	list[(*n)++] = w;
}

/* Removes files (names[0..n_names)) from workers[0..n_w) and from the
 * store. Returns 0 and *all_gone when every worker answered. */
static int
remove_files(struct cluster *cl, const char *capture, char (*names)[96],
    size_t n_names, const size_t *workers, size_t n_w,
    volatile sig_atomic_t *interrupted, int *all_gone, struct sc_err *e)
{
	struct move_file *f = xcalloc(n_names * n_w + 1, sizeof(*f));
	char *store = cluster_store_dir(cl, capture);
	size_t i, k, n = 0;
	int r;

	for (i = 0; i < n_names; i++)
		for (k = 0; k < n_w; k++) {
			snprintf(f[n].file, sizeof(f[n].file), "%s", names[i]);
			f[n++].worker = workers[k];
		}
	r = move_files(cl, capture, MOVE_FILES_REMOVE, f, n, interrupted, e);
	*all_gone = r == 0;
	for (i = 0; i < n && r == 0; i++)
		if (!f[i].ok)
			*all_gone = 0;
	for (i = 0; i < n_names && r == 0; i++) {
		char *path = xasprintf("%s/%s", store, names[i]);

		(void)unlink(path);
		free(path);
	}
	free(store);
	free(f);
	return r;
}

static int
set_state(struct cluster *cl, int64_t id, const char *state, struct sc_err *e)
{
	int r;

	if ((r = catalog_begin(cl->cat, e)) != 0)
		return r;
	if ((r = catalog_cut_state(cl->cat, id, state, e)) != 0) {
		catalog_rollback(cl->cat);
		return r;
	}
	return catalog_commit(cl->cat, e);
}

/* What cut_apply works with. */
struct cut {
	struct cat_capture cap;
	struct cat_chunk *chunks;
	size_t n_chunks, at;    /* chunks[at] is cut */
	size_t *workers;        /* every worker the cut touches */
	size_t n_workers;
	size_t *holders;        /* those with a copy of the chunk */
	size_t n_holders;
	unsigned char *current; /* per worker: its copy is the chunk's
	                         * current one (not a stale one) */
	int64_t journal;
	char *store;            /* the capture's store directory */
	char *tmp;              /* where the split writes */
	struct split_result sr;
	int split_done;
};

static void
cut_release(struct cut *c)
{
	free(c->chunks);
	free(c->workers);
	free(c->holders);
	free(c->current);
	free(c->store);
	if (c->tmp != NULL) {
		(void)file_remove_tree(c->tmp, NULL);
		free(c->tmp);
	}
	if (c->split_done)
		split_result_release(&c->sr);
}

/* The workers part i goes to: the one that is to run it, then, up to the
 * capture's replicas, the chunk's other holders, then any others. */
static size_t
part_targets(const struct cluster *cl, const struct cut_request *req,
    const struct cut *c, size_t i, size_t *list)
{
	size_t W = cl->cfg.n_workers, R = c->cap.replicas ? c->cap.replicas : 1;
	size_t n = 0, k;

	add_worker(list, &n, req->to[i]);
	for (k = 0; k < c->n_holders && n < R; k++)
		add_worker(list, &n, c->holders[k]);
	for (k = 0; k < W && n < R; k++)
		add_worker(list, &n, (req->to[i] + k) % W);
	return n;
}

/* The catalog's view: the capture, its chunks, who holds the one to cut
 * and every worker its parts may go to. */
static int
cut_load(struct cluster *cl, const char *capture,
    const struct cut_request *req, struct cut *c, struct sc_err *e)
{
	struct cat_placement *pl = NULL;
	size_t n_pl = 0, i, k, W = cl->cfg.n_workers;
	int r;

	if ((r = catalog_capture_get(cl->cat, capture, &c->cap, e)) != 0 ||
	    (r = catalog_chunks(cl->cat, c->cap.id, &c->chunks, &c->n_chunks,
	    e)) != 0 ||
	    (r = catalog_placements(cl->cat, c->cap.id, &pl, &n_pl, e)) != 0)
		return r;
	for (c->at = 0; c->at < c->n_chunks; c->at++)
		if (c->chunks[c->at].id == req->chunk_id)
			break;
	if (c->at == c->n_chunks) {
		free(pl);
		return sc_err_set(e, SC_ERR_NOT_FOUND, "capture '%s' has no such "
		    "chunk any more", capture);
	}
	c->workers = xcalloc(W + 1, sizeof(*c->workers));
	c->holders = xcalloc(W + 1, sizeof(*c->holders));
	c->current = xcalloc(W + 1, 1);
	/* every copy, stale ones too: all go when the chunk goes */
	for (i = 0; i < n_pl; i++) {
		const struct config_worker *w;

		if (pl[i].chunk_id != req->chunk_id ||
		    (w = cluster_worker(cl, pl[i].worker)) == NULL)
			continue;
		k = (size_t)(w - cl->cfg.workers);
		add_worker(c->holders, &c->n_holders, k);
		add_worker(c->workers, &c->n_workers, k);
		c->current[k] |= pl[i].current != 0;
	}
	free(pl);
	for (i = 0; i < req->parts; i++) {
		size_t *list = xcalloc(W + 1, sizeof(*list));
		size_t n = 0;

		if (req->to[i] >= W) {
			free(list);
			return sc_err_set(e, SC_ERR_USAGE, "no worker %zu",
			    req->to[i]);
		}
		n = part_targets(cl, req, c, i, list);
		for (k = 0; k < n; k++)
			add_worker(c->workers, &c->n_workers, list[k]);
		free(list);
	}
	c->store = cluster_store_dir(cl, capture);
	return 0;
}

/* Splits the store's copy of the chunk into parts in a directory of its
 * own, checks they hold its packets, and moves them into the store. */
static int
cut_split(struct cluster *cl, const struct cut_request *req, struct cut *c,
    volatile sig_atomic_t *interrupted, struct sc_err *e)
{
	const struct cat_chunk *ch = &c->chunks[c->at];
	char *input = xasprintf("%s/%s", c->store, ch->file);
	char *stem = xstrndup(ch->file, stem_len(ch->file));
	struct split_options so;
	size_t i;
	int r;

	c->tmp = xasprintf("%s/store/.%s.cut", cl->dir, c->cap.name);
	if (ch->part != 0) {
		r = sc_err_set(e, SC_ERR_LIMIT, "'%s' is a part of one flow "
		    "larger than a chunk, read as one stream with the chunks "
		    "next to it; it is not cut", ch->file);
		goto out;
	}
	if ((r = file_remove_tree(c->tmp, e)) != 0)
		goto out;
	if (!repair_store_good(cl, &c->cap, ch)) {
		r = sc_err_set(e, SC_ERR_STORE, "'%s' in the store is not the "
		    "chunk the catalog describes (run 'shardcap verify')",
		    input);
		goto out;
	}
	memset(&so, 0, sizeof(so));
	so.input = input;
	so.dir = c->tmp;
	so.name = stem;
	so.size = UINT64_MAX;
	so.parts = req->parts;
	/* a flow capture's chunk is cut by flow: its parts keep flows whole
	 * (a chunk of one flow makes one part) */
	so.layout = (enum split_layout)split_layout_from_name(c->cap.layout);
	so.digest = (enum digest_algo)digest_algo_from_name(c->cap.digest_algo);
	so.force = 1;
	so.interrupted = interrupted;
	if ((r = split_capture(&so, &c->sr, e)) != 0)
		goto out;
	c->split_done = 1;
	if (c->sr.damage.code != 0 || c->sr.packets != ch->packets) {
		r = sc_err_set(e, SC_ERR_STORE, "'%s' in the store does not split "
		    "into the chunk's packets (%llu, not %llu)", input,
		    (unsigned long long)c->sr.packets,
		    (unsigned long long)ch->packets);
		goto out;
	}
	if (c->sr.n_chunks < 2) {
		r = sc_err_set(e, SC_ERR_LIMIT, so.layout == SPLIT_FLOW ?
		    "'%s' holds one flow; it cannot be cut without cutting "
		    "the flow" : "'%s' has one packet; it cannot be cut",
		    ch->file);
		goto out;
	}
	for (i = 0; i < c->sr.n_chunks && r == 0; i++) {
		char *from = xasprintf("%s/%s", c->tmp, c->sr.chunks[i]->file);
		char *to = xasprintf("%s/%s", c->store, c->sr.chunks[i]->file);

		if (rename(from, to) < 0)
			r = sc_err_sys(e, "cannot move '%s' into the store", from);
		free(from);
		free(to);
	}
out:
	free(stem);
	free(input);
	return r;
}

/* Copies each part to the worker that is to run it and, up to the
 * capture's replicas, to the chunk's other holders (then any others).
 * Returns SC_ERR_WORKER when some copy failed. */
static int
cut_copy(struct cluster *cl, const struct cut_request *req, struct cut *c,
    volatile sig_atomic_t *interrupted, struct move_file **out, size_t *n_out,
    struct sc_err *e)
{
	size_t W = cl->cfg.n_workers;
	size_t *list = xcalloc(W + 1, sizeof(*list));
	struct move_file *f = xcalloc(c->sr.n_chunks * W + 1, sizeof(*f));
	size_t i, k, n = 0, n_list;
	int r;

	for (i = 0; i < c->sr.n_chunks; i++) {
		n_list = part_targets(cl, req, c, i, list);
		for (k = 0; k < n_list; k++) {
			snprintf(f[n].file, sizeof(f[n].file), "%s",
			    c->sr.chunks[i]->file);
			/* a worker that holds the chunk has the part's
			 * bytes already: rsync sends only what differs */
			if (size_in(c->holders, c->n_holders, list[k]))
				snprintf(f[n].basis, sizeof(f[n].basis), "%s",
				    c->chunks[c->at].file);
			f[n++].worker = list[k];
		}
	}
	free(list);
	r = move_files(cl, c->cap.name, MOVE_FILES_COPY, f, n, interrupted, e);
	for (i = 0; i < n && r == 0; i++)
		if (!f[i].ok)
			r = sc_err_set(e, SC_ERR_WORKER, "cannot cut '%s': %s",
			    c->chunks[c->at].file, f[i].error);
	*out = f;
	*n_out = n;
	return r;
}

/* The switch: the chunk's row replaced by its parts' rows in its place,
 * the parts' copies recorded, the journal at committed. */
static int
cut_commit(struct cluster *cl, struct cut *c, const struct move_file *f,
    size_t n_f, struct sc_err *e)
{
	enum digest_algo algo =
	    (enum digest_algo)digest_algo_from_name(c->cap.digest_algo);
	size_t n = c->n_chunks - 1 + c->sr.n_chunks, i, k;
	struct cat_chunk *list = xcalloc(n + 1, sizeof(*list));
	int r;

	memcpy(list, c->chunks, c->at * sizeof(*list));
	for (i = 0; i < c->sr.n_chunks; i++)
		push_chunk_of_split(&list[c->at + i], c->sr.chunks[i], algo);
	memcpy(list + c->at + c->sr.n_chunks, c->chunks + c->at + 1,
	    (c->n_chunks - c->at - 1) * sizeof(*list));

	if ((r = catalog_begin(cl->cat, e)) != 0) {
		free(list);
		return r;
	}
	r = catalog_chunks_replace(cl->cat, c->cap.id, list, n, e);
	for (i = 0; i < n_f && r == 0; i++) {
		int64_t wid;

		for (k = 0; k < c->sr.n_chunks; k++)
			if (strcmp(list[c->at + k].file, f[i].file) == 0)
				break;
		r = catalog_worker_ensure(cl->cat,
		    cl->cfg.workers[f[i].worker].name, &wid, e);
		if (r == 0)
			r = catalog_placement_set(cl->cat, list[c->at + k].id,
			    wid, list[c->at + k].digest, e);
	}
	if (r == 0)
		r = catalog_cut_state(cl->cat, c->journal, "committed", e);
	if (r == 0)
		r = catalog_commit(cl->cat, e);
	else
		catalog_rollback(cl->cat);
	free(list);
	return r;
}

/* Takes a planned cut back: its parts removed wherever they may be. */
static int
roll_back(struct cluster *cl, const char *capture, const char *file,
    unsigned parts, const size_t *workers, size_t n_w, int64_t journal,
    volatile sig_atomic_t *interrupted, struct sc_err *e)
{
	char (*names)[96] = xcalloc(parts + 1, sizeof(*names));
	unsigned k;
	int all, r;

	for (k = 0; k < parts; k++)
		(void)part_name(names[k], sizeof(names[k]), file, k + 1);
	/* best effort: a part left behind is only wasted space */
	r = remove_files(cl, capture, names, parts, workers, n_w, interrupted,
	    &all, e);
	free(names);
	if (r == 0)
		r = set_state(cl, journal, "rolled-back", e);
	return r;
}

/* Removes the cut chunk's file once no query reads it; done when every
 * worker answered. */
static int
finish(struct cluster *cl, const char *capture, const char *file,
    const size_t *workers, size_t n_w, int64_t journal,
    volatile sig_atomic_t *interrupted, int *left, struct sc_err *e)
{
	char names[1][96];
	int all, r;

	snprintf(names[0], sizeof(names[0]), "%s", file);
	if ((r = cluster_quiesce(cl, e)) != 0 ||
	    (r = remove_files(cl, capture, names, 1, workers, n_w, interrupted,
	    &all, e)) != 0)
		return r;
	*left = !all;
	return all ? set_state(cl, journal, "done", e) : 0;
}

int
cut_apply(struct cluster *cl, const char *capture,
    const struct cut_request *req, volatile sig_atomic_t *interrupted,
    struct cut_outcome *out, struct sc_err *e)
{
	struct cut c;
	struct move_file *f = NULL;
	struct strbuf names = STRBUF_INIT;
	size_t n_f = 0, i;
	char file[96], last[96];
	int r;

	memset(out, 0, sizeof(*out));
	memset(&c, 0, sizeof(c));
	if (req->parts < 2 || req->parts > CUT_MAX_PARTS)
		return sc_err_set(e, SC_ERR_USAGE, "a chunk is cut into 2 to %d "
		    "parts, not %u", CUT_MAX_PARTS, req->parts);
	if ((r = cut_load(cl, capture, req, &c, e)) != 0)
		goto out;
	snprintf(file, sizeof(file), "%s", c.chunks[c.at].file);
	if (!part_name(last, sizeof(last), file, req->parts)) {
		r = sc_err_set(e, SC_ERR_LIMIT, "'%s' cannot be cut: its parts' "
		    "names would be too long", file);
		goto out;
	}
	if (c.chunks[c.at].packets < 2) {
		r = sc_err_set(e, SC_ERR_LIMIT, "'%s' has %llu packet%s; it "
		    "cannot be cut", file,
		    (unsigned long long)c.chunks[c.at].packets,
		    c.chunks[c.at].packets == 1 ? "" : "s");
		goto out;
	}

	/* planned */
	for (i = 0; i < c.n_workers; i++) {
		if (names.len)
			strbuf_addch(&names, ' ');
		strbuf_addstr(&names, cl->cfg.workers[c.workers[i]].name);
	}
	if (names.len >= sizeof(((struct cat_cut *)NULL)->workers))
		strbuf_reset(&names), strbuf_addstr(&names, "*");
	if ((r = catalog_begin(cl->cat, e)) != 0)
		goto out;
	if ((r = catalog_cut_add(cl->cat, c.cap.id, file, c.chunks[c.at].digest,
	    req->parts, names.buf, &c.journal, e)) != 0) {
		catalog_rollback(cl->cat);
		goto out;
	}
	if ((r = catalog_commit(cl->cat, e)) != 0)
		goto out;
	crash_point("planned");

	if ((r = cut_split(cl, req, &c, interrupted, e)) != 0 ||
	    (r = cut_copy(cl, req, &c, interrupted, &f, &n_f, e)) != 0) {
		struct sc_err e2;

		/* the chunk stays whole: what this cut made goes */
		sc_err_clear(&e2);
		if (r != SC_ERR_INTERRUPTED)
			(void)roll_back(cl, capture, file, req->parts, c.workers,
			    c.n_workers, c.journal, interrupted, &e2);
		goto out;
	}
	crash_point("copied");

	/* committed */
	if ((r = cut_commit(cl, &c, f, n_f, e)) != 0)
		goto out;
	out->parts = (unsigned)c.sr.n_chunks;
	for (i = 0; i < c.sr.n_chunks; i++) {
		size_t k;

		snprintf(out->files[i], sizeof(out->files[i]), "%s",
		    c.sr.chunks[i]->file);
		/* what changed worker: a part on a worker that held the
		 * chunk (as it is now: a stale copy does not count) did
		 * not */
		for (k = 0; k < n_f; k++)
			if (strcmp(f[k].file, out->files[i]) == 0) {
				if (!c.current[f[k].worker])
					out->bytes += c.sr.chunks[i]->bytes;
				out->sent += f[k].sent;
			}
	}
	crash_point("committed");

	/* done */
	r = finish(cl, capture, file, c.holders, c.n_holders, c.journal,
	    interrupted, &out->left, e);
	if (r == 0)
		crash_point("done");
out:
	strbuf_release(&names);
	free(f);
	cut_release(&c);
	return r;
}

int
cut_recover(struct cluster *cl, volatile sig_atomic_t *interrupted,
    size_t *finished, size_t *rolled_back, struct sc_err *e)
{
	struct cat_cut *cuts = NULL;
	size_t *workers = xcalloc(cl->cfg.n_workers + 1, sizeof(*workers));
	size_t n = 0, i, n_w;
	int r;

	*finished = 0;
	*rolled_back = 0;
	if ((r = catalog_cuts_open(cl->cat, &cuts, &n, e)) != 0) {
		free(workers);
		return r;
	}
	for (i = 0; i < n && r == 0; i++) {
		n_w = named_workers(cl, cuts[i].workers, workers);
		if (strcmp(cuts[i].state, "planned") == 0) {
			r = roll_back(cl, cuts[i].capture, cuts[i].file,
			    cuts[i].parts, workers, n_w, cuts[i].id,
			    interrupted, e);
			if (r == 0)
				(*rolled_back)++;
		} else {
			int left = 0;

			r = finish(cl, cuts[i].capture, cuts[i].file, workers,
			    n_w, cuts[i].id, interrupted, &left, e);
			if (r == 0 && !left)
				(*finished)++;
		}
	}
	free(cuts);
	free(workers);
	return r;
}
