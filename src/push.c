/* push.c - adding a capture to the cluster, and removing it. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "beat.h"
#include "child.h"
#include "file.h"
#include "move.h"
#include "push.h"
#include "remote.h"
#include "run.h"
#include "strvec.h"
#include "util.h"
#include "xalloc.h"
#include "banned.h"

/* One rsync or ssh child per worker. */
struct job {
	struct push_worker *pw;
	const struct config_worker *cw;
	int64_t worker_id;
	struct strvec argv;
	struct child child;
	char *list_path;
	/* chunks this worker should hold: indexes into chunks[] */
	size_t *want;
	size_t n_want, alloc_want;
	struct remote_sent sent;        /* files rsync reported as sent */
	void (*progress)(void *ctx, const struct add_progress *p);
	void *progress_ctx;
	struct push_worker *all;
	size_t n_all;
	int all_held;           /* it should hold only what it holds */
	struct strvec sizes;    /* "SIZE NAME" of its files (quick_check) */
};

static uint64_t
digits(const char *s)
{
	uint64_t v = 0;

	for (; *s; s++) {
		if (isdigit((unsigned char)*s))
			v = v * 10 + (uint64_t)(*s - '0');
		else if (*s != ',' && *s != '.')
			break;
	}
	return v;
}

/* "SIZE NAME" lines by NAME. */
static int
by_size_name(const void *a, const void *b)
{
	const char *x = strchr(*(char *const *)a, ' ');
	const char *y = strchr(*(char *const *)b, ' ');

	return strcmp(x != NULL ? x : "", y != NULL ? y : "");
}

static void
on_size_line(struct child *c, const char *line, void *ctx)
{
	(void)c;
	strvec_push(ctx, line);
}

/*
 * A worker that should hold only chunks the catalog says it holds is
 * asked, in one call (the agent's sizes), for its files and their sizes:
 * when every chunk is there at its size, nothing is sent to it (no rsync,
 * no watch of the copy: one session on its connection). The workers are
 * asked all at once. Clears all_held of those that miss something, whose
 * chunks then go by rsync as any others.
 */
static int
quick_check(struct cluster *cl, const struct cat_capture *cap,
    struct job *jobs, const struct cat_chunk *chunks, size_t W,
    volatile sig_atomic_t *interrupted, struct sc_err *e)
{
	struct child **running = xcalloc(W + 1, sizeof(*running));
	struct child *kids = xcalloc(W + 1, sizeof(*kids));
	struct strvec *argv = xcalloc(W + 1, sizeof(*argv));
	unsigned char *asked = xcalloc(W + 1, 1);
	size_t n_running = 0, k, i;
	int r;

	for (k = 0; k < W; k++) {
		const struct config_worker *cw = jobs[k].cw;
		char *dir;
		const char *args[1];
		struct sc_err ce;

		strvec_init(&argv[k]);
		if (jobs[k].n_want == 0 || !jobs[k].all_held)
			continue;
		dir = xasprintf("%s/%s", cw->dir, cap->name);
		args[0] = dir;
		r = agent_argv(&argv[k], &cl->cfg, cw, cl->control_dir, 1,
		    "sizes", args, 1, &ce);
		free(dir);
		agent_child_init(&kids[k], argv[k].v, cw);
		kids[k].on_line = on_size_line;
		kids[k].ctx = &jobs[k].sizes;
		if (r != 0 || child_start(&kids[k], &ce) != 0) {
			jobs[k].all_held = 0;
			continue;
		}
		agent_send(&kids[k]);
		asked[k] = 1;
		running[n_running++] = &kids[k];
	}
	r = child_wait_all(running, n_running, interrupted, e);
	for (k = 0; k < W; k++) {
		if (!asked[k])
			continue;
		if (r != 0 || child_exit_code(&kids[k]) != 0) {
			jobs[k].all_held = 0;
		} else {
			/* (thousands of files: sorted by name, then looked up) */
			struct strvec *sz = &jobs[k].sizes;

			agent_mark_sent(cl->control_dir, jobs[k].cw);
			qsort(sz->v, sz->n, sizeof(*sz->v), by_size_name);
			for (i = 0; i < jobs[k].n_want && jobs[k].all_held; i++) {
				const struct cat_chunk *ch = &chunks[jobs[k].want[i]];
				char key[128], *kp = key, **hit;

				snprintf(key, sizeof(key), "0 %s", ch->file);
				hit = bsearch(&kp, sz->v, sz->n, sizeof(*sz->v),
				    by_size_name);
				jobs[k].all_held = hit != NULL &&
				    strtoull(*hit, NULL, 10) == ch->bytes;
			}
		}
		child_release(&kids[k]);
	}
	for (k = 0; k < W; k++)
		strvec_release(&argv[k]);
	free(argv);
	free(kids);
	free(running);
	free(asked);
	return r;
}

/* rsync's stdout: REMOTE_SENT_PREFIX NAME LENGTH BYTES per file (our
 * --out-format), then the --stats block. */
static void
on_rsync_line(struct child *c, const char *line, void *ctx)
{
	struct job *j = ctx;
	const char *v;

	(void)c;
	if (strncmp(line, REMOTE_SENT_PREFIX, strlen(REMOTE_SENT_PREFIX)) == 0) {
		const char *rest;

		if (!remote_sent_add(&j->sent, line, &rest))
			return;
		j->pw->sent_files++;
		j->pw->sent_bytes += digits(rest);
		if (j->progress != NULL) {
			struct add_progress p = { 1, { 0, 0, 0 }, j->all, j->n_all };

			j->progress(j->progress_ctx, &p);
		}
	} else if ((v = strstr(line, "Literal data: ")) == line) {
		j->pw->literal_bytes = digits(line + 14);
	} else if ((v = strstr(line, "Total bytes sent: ")) == line) {
		j->pw->wire_bytes = digits(line + 18);
	}
}

/* The most telling line of a failed child's stderr: ssh's own complaint if
 * there is one (rsync only adds "connection unexpectedly closed"). */
static void
describe_failure(struct job *j, const char *what)
{
	struct strbuf *t = &j->child.err_tail;
	const char *best = NULL, *line = t->buf;
	int code = child_exit_code(&j->child);
	char *copy;

	while (line != NULL && *line) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);

		if (len > 0 && best == NULL)
			best = line;
		if (strncmp(line, "ssh:", 4) == 0 ||
		    strstr(line, "Permission denied") != NULL ||
		    strstr(line, "Host key verification failed") != NULL ||
		    strstr(line, "No space left") != NULL) {
			best = line;
			break;
		}
		line = nl ? nl + 1 : NULL;
	}
	if (best == NULL) {
		snprintf(j->pw->error, sizeof(j->pw->error),
		    "%s exited with status %d", what, code);
		return;
	}
	copy = xstrndup(best, strcspn(best, "\n"));
	snprintf(j->pw->error, sizeof(j->pw->error), "%s (%s exit %d)", copy,
	    what, code);
	free(copy);
}

static void
describe_worker(struct push_worker *pw, const struct config_worker *w)
{
	struct strbuf sb = STRBUF_INIT;

	remote_describe(&sb, w);
	snprintf(pw->where, sizeof(pw->where), "%s", sb.buf);
	strbuf_release(&sb);
}

static void
job_release(struct job *j)
{
	child_release(&j->child);
	strvec_release(&j->argv);
	if (j->list_path != NULL) {
		(void)unlink(j->list_path);
		free(j->list_path);
	}
	remote_sent_release(&j->sent);
	strvec_release(&j->sizes);
	free(j->want);
}

/* Writes the list of files for rsync --files-from. */
static int
write_list(const struct cluster *cl, struct job *j,
    const struct cat_chunk *chunks, struct sc_err *e)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;
	int r;

	for (i = 0; i < j->n_want; i++) {
		strbuf_addstr(&sb, chunks[j->want[i]].file);
		strbuf_addch(&sb, '\0');
	}
	r = cluster_write_list(cl, "push", j->pw->name, &sb, &j->list_path, e);
	strbuf_release(&sb);
	return r;
}

static int
holds(const struct cat_placement *pl, size_t n, int64_t chunk_id,
    int64_t worker_id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (pl[i].chunk_id == chunk_id && pl[i].worker_id == worker_id)
			return 1;
	return 0;
}

/* The workers from the one holding the fewest bytes to the most (ties in
 * the config's order): where a capture's round-robin starts. */
static int
placement_order(struct cluster *cl, const struct job *jobs, size_t W,
    size_t *order, struct sc_err *e)
{
	struct cat_worker *cw = NULL;
	uint64_t *held = xcalloc(W + 1, sizeof(*held));
	size_t n = 0, i, k;
	int r = catalog_workers(cl->cat, &cw, &n, e);

	for (k = 0; r == 0 && k < W; k++)
		for (i = 0; i < n; i++)
			if (cw[i].id == jobs[k].worker_id)
				held[k] = cw[i].bytes;
	/* (insertion sort: stable, and W is small) */
	for (k = 0; k < W; k++) {
		for (i = k; i > 0 && held[order[i - 1]] > held[k]; i--)
			order[i] = order[i - 1];
		order[i] = k;
	}
	free(cw);
	free(held);
	return r;
}

int
push_capture(struct cluster *cl, const struct cat_capture *cap,
    volatile sig_atomic_t *interrupted,
    void (*progress)(void *ctx, const struct add_progress *p), void *ctx,
    struct push_worker **workers_out, size_t *n_workers, struct sc_err *e)
{
	const struct config *cfg = &cl->cfg;
	size_t W = cfg->n_workers, n_chunks = 0, n_pl = 0, i, k, first_pl = 0;
	struct cat_chunk *chunks = NULL;
	struct cat_placement *pl = NULL;
	struct push_worker *pws;
	struct job *jobs;
	struct child **running;
	struct run_beacon *beacon = NULL;
	unsigned char *want = NULL;
	size_t n_running = 0, *order = NULL;
	char *store = cluster_store_dir(cl, cap->name);
	int r;

	*workers_out = NULL;
	*n_workers = 0;
	if (W == 0) {
		free(store);
		return sc_err_set(e, SC_ERR_USAGE, "the cluster has no workers "
		    "(see 'shardcap worker add')");
	}
	if ((r = catalog_chunks(cl->cat, cap->id, &chunks, &n_chunks, e)) != 0 ||
	    (r = catalog_placements(cl->cat, cap->id, &pl, &n_pl, e)) != 0) {
		free(chunks);
		free(store);
		return r;
	}
	pws = xcalloc(W, sizeof(*pws));
	jobs = xcalloc(W, sizeof(*jobs));
	order = xcalloc(W + 1, sizeof(*order));
	running = xcalloc(W, sizeof(*running));
	for (k = 0; k < W; k++) {
		snprintf(pws[k].name, sizeof(pws[k].name), "%s",
		    cfg->workers[k].name);
		describe_worker(&pws[k], &cfg->workers[k]);
		jobs[k].pw = &pws[k];
		jobs[k].cw = &cfg->workers[k];
		jobs[k].all = pws;
		jobs[k].n_all = W;
		jobs[k].progress = progress;
		jobs[k].progress_ctx = ctx;
		jobs[k].all_held = 1;
		strvec_init(&jobs[k].argv);
		strvec_init(&jobs[k].sizes);
		child_init(&jobs[k].child, NULL);
		if ((r = catalog_worker_ensure(cl->cat, cfg->workers[k].name,
		    &jobs[k].worker_id, e)) != 0)
			goto out;
	}

	/*
	 * Placement: a chunk stays where it is placed already; if it has
	 * fewer than `replicas` configured workers, it gets the next ones
	 * round-robin from worker (seq - 1) mod W, as the paper distributes,
	 * the workers taken from the one holding the fewest bytes (of every
	 * capture) on, so that many small captures spread; the chunks of a
	 * group (split.h) where its first goes.
	 */
	if ((r = placement_order(cl, jobs, W, order, e)) != 0)
		goto out;
	for (i = 0; i < n_chunks; i++) {
		size_t have = 0;
		unsigned seq = chunks[i].part > 0 ? chunks[i].seq -
		    (chunks[i].part - 1) : chunks[i].seq;
		const struct cat_placement *mine;
		size_t n_mine;

		/* (both by seq: this chunk's placements follow the last's) */
		while (first_pl < n_pl && pl[first_pl].seq < chunks[i].seq)
			first_pl++;
		mine = pl + first_pl;
		for (n_mine = 0; first_pl + n_mine < n_pl &&
		    mine[n_mine].seq == chunks[i].seq; n_mine++)
			;
		for (k = 0; k < W; k++)
			if (holds(mine, n_mine, chunks[i].id, jobs[k].worker_id)) {
				ALLOC_GROW(jobs[k].want, jobs[k].n_want + 1,
				    jobs[k].alloc_want);
				jobs[k].want[jobs[k].n_want++] = i;
				have++;
			}
		for (k = 0; k < W && have < cap->replicas; k++) {
			size_t w = order[(seq - 1 + k) % W];

			if (holds(mine, n_mine, chunks[i].id, jobs[w].worker_id))
				continue;
			ALLOC_GROW(jobs[w].want, jobs[w].n_want + 1,
			    jobs[w].alloc_want);
			jobs[w].want[jobs[w].n_want++] = i;
			jobs[w].all_held = 0;
			have++;
		}
	}
	/* workers that should hold nothing new: asked what they hold, in
	 * one call each, and sent nothing when it is all there */
	if ((r = quick_check(cl, cap, jobs, chunks, W, interrupted, e)) != 0)
		goto out;
	/* the workers' ends of the copies watched (run_beacon_start) */
	want = xcalloc(W + 1, 1);
	for (k = 0; k < W; k++)
		want[k] = jobs[k].n_want > 0 && !jobs[k].all_held;
	beacon = run_beacon_start(cfg, cl->control_dir, want);
	for (k = 0; k < W; k++) {
		struct job *j = &jobs[k];

		for (i = 0; i < j->n_want; i++) {
			j->pw->chunks++;
			j->pw->bytes += chunks[j->want[i]].bytes;
		}
		if (j->n_want == 0 || j->all_held)
			continue;
		if ((r = write_list(cl, j, chunks, e)) != 0 ||
		    (r = agent_rsync_argv(&j->argv, cfg, j->cw, cl->control_dir,
		    store, j->list_path, cap->name, NULL,
		    run_beacon_mark(beacon, k), e)) != 0)
			goto out;
		child_init(&j->child, j->argv.v);
		j->child.on_line = on_rsync_line;
		j->child.ctx = j;
		if (child_start(&j->child, e) != 0) {
			j->pw->failed = 1;
			snprintf(j->pw->error, sizeof(j->pw->error), "%s", e->msg);
			continue;
		}
		running[n_running++] = &j->child;
	}
	if (progress != NULL) {
		struct add_progress p = { 1, { 0, 0, 0 }, pws, W };

		progress(ctx, &p);
	}
	r = child_wait_all(running, n_running, interrupted, e);
	run_beacon_stop(beacon);
	beacon = NULL;

	/* What reached a worker, and only that, goes into the catalog. */
	if (catalog_begin(cl->cat, e) != 0) {
		r = SC_ERR_CATALOG;
		goto out;
	}
	for (k = 0; k < W; k++) {
		struct job *j = &jobs[k];
		int ok;

		if (j->n_want == 0 || j->child.pid < 0)
			continue;
		ok = r == 0 && child_exit_code(&j->child) == 0;
		if (!ok && !j->pw->failed) {
			j->pw->failed = 1;
			describe_failure(j, "rsync");
		}
		for (i = 0; i < j->n_want; i++) {
			const struct cat_chunk *ch = &chunks[j->want[i]];
			int rr;

			if (!ok && !remote_sent_has(&j->sent, ch->file))
				continue;
			if ((rr = catalog_placement_set(cl->cat, ch->id,
			    j->worker_id, ch->digest, e)) != 0) {
				catalog_rollback(cl->cat);
				r = rr;
				goto out;
			}
		}
	}
	if (catalog_commit(cl->cat, e) != 0) {
		r = SC_ERR_CATALOG;
		goto out;
	}
	if (r == 0) {
		for (k = 0; k < W; k++)
			if (pws[k].failed)
				r = SC_ERR_WORKER;
		if (r == SC_ERR_WORKER)
			sc_err_set(e, SC_ERR_WORKER, "some workers did not get "
			    "their chunks");
	}
out:
	/* (after its copies: they have ended, or were never started) */
	run_beacon_stop(beacon);
	free(want);
	for (k = 0; k < W; k++)
		job_release(&jobs[k]);
	free(jobs);
	free(running);
	free(chunks);
	free(pl);
	free(order);
	free(store);
	*workers_out = pws;
	*n_workers = W;
	return r;
}

/* What a new split's chunk becomes in the catalog. */
struct incoming {
	struct cat_chunk *list; /* the capture's chunks, in order */
	size_t n, alloc;
};

static void
incoming_add(struct incoming *in, const struct cat_chunk *ch)
{
	ALLOC_GROW(in->list, in->n + 1, in->alloc);
	in->list[in->n++] = *ch;
}

/* t in RFC 3339 into a catalog's field of n bytes. */
static void
time_field(char *dst, size_t n, const struct sc_time *t)
{
	struct strbuf sb = STRBUF_INIT;

	format_time_iso(&sb, t);
	snprintf(dst, n, "%s", sb.buf);
	strbuf_release(&sb);
}

void
push_chunk_of_split(struct cat_chunk *ch, const struct split_chunk *c,
    enum digest_algo algo)
{
	memset(ch, 0, sizeof(*ch));
	snprintf(ch->file, sizeof(ch->file), "%s", c->file);
	ch->bytes = c->bytes;
	ch->packets = c->packets;
	ch->part = c->part;
	if (c->has_time) {
		time_field(ch->first_time, sizeof(ch->first_time), &c->first);
		time_field(ch->last_time, sizeof(ch->last_time), &c->last);
		time_field(ch->min_time, sizeof(ch->min_time), &c->min);
		time_field(ch->max_time, sizeof(ch->max_time), &c->max);
	}
	digest_hex(algo, c->digest, ch->digest);
}

/* Whether chunk file, of this digest, was cut, and is still: its last cut
 * was of exactly this content, and its parts are in old. */
static int
still_cut(const char *file, const char *digest, const struct cat_cut *cuts,
    size_t n_cuts, const struct cat_chunk *old, size_t n_old)
{
	size_t i;

	for (i = n_cuts; i-- > 0;)
		if (strcmp(cuts[i].file, file) == 0)
			break;
	if (i == (size_t)-1 || strcmp(cuts[i].digest, digest) != 0)
		return 0;
	for (i = 0; i < n_old; i++)
		if (split_is_part(old[i].file, file))
			return 1;
	return 0;
}

/*
 * The chunk files from an incoming split take their place in the store,
 * and *in gets the capture's chunks: a chunk whose content did not change
 * stays as it was (same file, same time, so that rsync sees it
 * unchanged); a chunk that was cut and has not changed since stays cut
 * (its parts stand for it). Files of the old chunks that are gone are
 * removed from the store.
 */
static int
install_chunks(struct cluster *cl, const char *name, const char *incoming,
    const struct split_result *sr, const struct cat_chunk *old, size_t n_old,
    enum digest_algo algo, struct incoming *in, struct add_result *res,
    struct sc_err *e)
{
	char *store = cluster_store_dir(cl, name);
	struct cat_cut *cuts = NULL;
	size_t n_cuts = 0, i, j;
	int r = 0;

	if (mkdir(store, 0755) < 0 && errno != EEXIST) {
		r = sc_err_sys(e, "cannot create '%s'", store);
		free(store);
		return r;
	}
	if (n_old > 0 && (r = catalog_cuts_done(cl->cat, old[0].capture_id,
	    &cuts, &n_cuts, e)) != 0) {
		free(store);
		return r;
	}
	for (i = 0; i < sr->n_chunks && r == 0; i++) {
		const struct split_chunk *c = sr->chunks[i];
		char *from = xasprintf("%s/%s", incoming, c->file);
		char *to = xasprintf("%s/%s", store, c->file);
		struct cat_chunk ch;
		struct stat st;
		int same = 0, cut = 0;

		push_chunk_of_split(&ch, c, algo);
		for (j = 0; j < n_old; j++)
			if (strcmp(old[j].file, c->file) == 0)
				break;
		if (j < n_old) {
			same = strcmp(old[j].digest, ch.digest) == 0 &&
			    stat(to, &st) == 0 && (uint64_t)st.st_size == c->bytes;
			if (!same)
				res->chunks_changed++;
		} else if (still_cut(c->file, ch.digest, cuts, n_cuts, old,
		    n_old)) {
			cut = 1;
		} else {
			for (j = 0; j < n_old; j++)
				if (split_is_part(old[j].file, c->file))
					break;
			if (j < n_old)
				res->chunks_changed++;
			else
				res->chunks_new++;
		}
		if (cut) {
			for (j = 0; j < n_old; j++)
				if (split_is_part(old[j].file, c->file))
					incoming_add(in, &old[j]);
		} else {
			incoming_add(in, &ch);
		}
		if (same || cut)
			(void)unlink(from);
		else if (rename(from, to) < 0)
			r = sc_err_sys(e, "cannot move '%s' into the store", from);
		free(from);
		free(to);
	}
	/* chunks of the old split that the new one does not have */
	for (j = 0; j < n_old && r == 0; j++) {
		int kept = 0, part = 0;
		char *path;

		for (i = 0; i < in->n && !kept; i++)
			kept = strcmp(old[j].file, in->list[i].file) == 0;
		if (kept)
			continue;
		path = xasprintf("%s/%s", store, old[j].file);
		(void)unlink(path);
		free(path);
		for (i = 0; i < sr->n_chunks && !part; i++)
			part = split_is_part(old[j].file, sr->chunks[i]->file);
		if (!part)
			res->chunks_removed++;
	}
	free(cuts);
	free(store);
	return r;
}

/* Sorting, to find chunks by file among thousands. */
static int
by_chunk_file(const void *a, const void *b)
{
	return strcmp((*(const struct cat_chunk *const *)a)->file,
	    (*(const struct cat_chunk *const *)b)->file);
}

/* The first of the n chunks sorted by file whose file is >= key. */
static size_t
lower_bound(struct cat_chunk *const *sorted, size_t n, const char *key)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(sorted[mid]->file, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int
chunk_in(struct cat_chunk *const *sorted, size_t n, const char *file)
{
	size_t i = lower_bound(sorted, n, file);

	return i < n && strcmp(sorted[i]->file, file) == 0;
}

/* in's chunks as pointers sorted by file (chunk_in finds them). */
static struct cat_chunk **
sorted_by_file(const struct incoming *in)
{
	struct cat_chunk **v = xcalloc(in->n + 1, sizeof(*v));
	size_t i;

	for (i = 0; i < in->n; i++)
		v[i] = &in->list[i];
	qsort(v, in->n, sizeof(*v), by_chunk_file);
	return v;
}

/* The copies on workers of old chunks that are gone from the capture (a
 * capture that became shorter, the parts of a cut chunk that changed):
 * to remove once the catalog forgets them. kept: the capture's chunks
 * now, sorted_by_file. */
static int
copies_gone(struct cluster *cl, int64_t capture_id,
    const struct cat_chunk *old, size_t n_old, struct cat_chunk *const *kept,
    size_t n_kept, struct move_file **out, size_t *n_out, struct sc_err *e)
{
	struct cat_placement *pl = NULL;
	size_t n_pl = 0, i, j;
	int r;

	*out = NULL;
	*n_out = 0;
	if ((r = catalog_placements(cl->cat, capture_id, &pl, &n_pl, e)) != 0)
		return r;
	*out = xcalloc(n_pl + 1, sizeof(**out));
	for (i = 0; i < n_pl; i++) {
		const struct config_worker *w = cluster_worker(cl, pl[i].worker);
		const struct cat_chunk *ch = NULL;

		/* (old is by seq, from 1: a placement's chunk is at its
		 * seq) */
		if (pl[i].seq >= 1 && pl[i].seq <= n_old &&
		    old[pl[i].seq - 1].id == pl[i].chunk_id)
			ch = &old[pl[i].seq - 1];
		for (j = 0; j < n_old && ch == NULL; j++)
			if (old[j].id == pl[i].chunk_id)
				ch = &old[j];
		if (w == NULL || ch == NULL ||
		    chunk_in(kept, n_kept, ch->file))
			continue;
		snprintf((*out)[*n_out].file, sizeof((*out)[*n_out].file), "%s",
		    ch->file);
		(*out)[(*n_out)++].worker = (size_t)(w - cl->cfg.workers);
	}
	free(pl);
	return 0;
}

static void
split_progress_to_add(void *ctx, const struct split_progress *p)
{
	const struct add_options *opt = ctx;
	struct add_progress ap;

	memset(&ap, 0, sizeof(ap));
	ap.phase = 0;
	ap.split = *p;
	opt->progress(opt->progress_ctx, &ap);
}

static int64_t
mtime_ns(const struct stat *st)
{
	return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

/* Whether an add can begin: a valid name, a worker to push to. */
static int
add_usable(const struct cluster *cl, const struct add_options *opt,
    struct sc_err *e)
{
	if (!valid_name(opt->name))
		return sc_err_set(e, SC_ERR_USAGE, "bad capture name '%s': use "
		    "1-64 letters, digits, '.', '_', '-', not first '.' or '-'",
		    opt->name);
	if (cl->cfg.n_workers == 0)
		return sc_err_set(e, SC_ERR_USAGE, "the cluster has no workers "
		    "(see 'shardcap worker add')");
	return 0;
}

/* An add's split of input into the directory incoming, its chunks named
 * name-000001..., as capture cap is split. */
static int
add_split(const struct add_options *opt, const struct cat_capture *cap,
    const char *input, const char *name, const char *incoming,
    struct split_result *sr, struct sc_err *e)
{
	struct split_options so;

	memset(&so, 0, sizeof(so));
	so.input = input;
	so.dir = incoming;
	so.name = name;
	so.size = cap->chunk_size;
	so.layout = (enum split_layout)split_layout_from_name(cap->layout);
	so.digest = (enum digest_algo)digest_algo_from_name(cap->digest_algo);
	so.force = 1;
	so.interrupted = opt->interrupted;
	if (opt->progress != NULL) {
		so.progress = split_progress_to_add;
		so.progress_ctx = (void *)opt;
	}
	return split_capture(&so, sr, e);
}

/* After an add: the chunks pushed to the workers that should hold them,
 * the failed workers counted in res. */
static int
push_added(struct cluster *cl, const struct cat_capture *cap,
    const struct add_options *opt, struct add_result *res, struct sc_err *e)
{
	size_t i;
	int r = push_capture(cl, cap, opt->interrupted, opt->progress,
	    opt->progress_ctx, &res->workers, &res->n_workers, e);

	for (i = 0; i < res->n_workers; i++)
		if (res->workers[i].failed)
			res->failed_workers++;
	return r;
}

/* A capture's settings: a new one's from the config, then what opt
 * says; refused when it wants more replicas than there are workers. */
static int
capture_settings(const struct cluster *cl, const struct add_options *opt,
    int existed, struct cat_capture *cap, struct sc_err *e)
{
	if (!existed) {
		snprintf(cap->name, sizeof(cap->name), "%s", opt->name);
		cap->flows = cap->cut_flows = cap->backwards = -1;
		cap->chunk_size = cl->cfg.chunk_size;
		cap->replicas = cl->cfg.replicas;
		snprintf(cap->digest_algo, sizeof(cap->digest_algo), "%s",
		    digest_algo_name(cl->cfg.digest));
	}
	if (opt->size != 0)
		cap->chunk_size = opt->size;
	if (opt->replicas != 0)
		cap->replicas = opt->replicas;
	if (opt->layout >= 0)
		snprintf(cap->layout, sizeof(cap->layout), "%s",
		    split_layout_name((enum split_layout)opt->layout));
	else if (cap->layout[0] == '\0')
		snprintf(cap->layout, sizeof(cap->layout), "time");
	if (cap->replicas > cl->cfg.n_workers)
		return sc_err_set(e, SC_ERR_USAGE, "%u replicas need %u workers; "
		    "the cluster has %zu", cap->replicas, cap->replicas,
		    cl->cfg.n_workers);
	return 0;
}

int
push_add(struct cluster *cl, const struct add_options *opt,
    struct add_result *res, struct sc_err *e)
{
	struct cat_capture cap, old;
	struct cat_chunk *old_chunks = NULL;
	struct incoming in = { NULL, 0, 0 };
	struct move_file *gone = NULL;
	size_t n_old = 0, n_gone = 0;
	struct sc_err ignore;
	struct stat st;
	char *source = NULL, *incoming = NULL;
	enum digest_algo algo;
	int r;

	memset(res, 0, sizeof(*res));
	if ((r = add_usable(cl, opt, e)) != 0)
		return r;
	if (stat(opt->input, &st) < 0)
		return sc_err_sys(e, "cannot open '%s'", opt->input);
	if (!S_ISREG(st.st_mode))
		return sc_err_set(e, SC_ERR_USAGE, "'%s' is not a regular file",
		    opt->input);
	source = realpath(opt->input, NULL);
	if (source == NULL)
		return sc_err_sys(e, "cannot resolve '%s'", opt->input);

	memset(&cap, 0, sizeof(cap));
	res->existed = catalog_capture_get(cl->cat, opt->name, &old, &ignore) == 0;
	if (res->existed) {
		cap = old;
		if ((r = catalog_chunks(cl->cat, old.id, &old_chunks, &n_old,
		    e)) != 0)
			goto out;
	}
	if ((r = capture_settings(cl, opt, res->existed, &cap, e)) != 0)
		goto out;
	res->replicas = cap.replicas;
	algo = (enum digest_algo)digest_algo_from_name(cap.digest_algo);

	res->source_unchanged = res->existed && strcmp(old.source, source) == 0 &&
	    old.source_size == (uint64_t)st.st_size &&
	    old.source_mtime == mtime_ns(&st) &&
	    old.chunk_size == cap.chunk_size &&
	    strcmp(old.layout, cap.layout) == 0 && n_old > 0;
	if (!res->source_unchanged) {
		incoming = xasprintf("%s/store/.%s.incoming", cl->dir, opt->name);
		if ((r = file_remove_tree(incoming, e)) != 0 ||
		    (r = add_split(opt, &cap, opt->input, opt->name, incoming,
		    &res->split, e)) != 0)
			goto out;
		/* another file under the name: the same capture only if it
		 * begins as the capture did (moved, or grown elsewhere) */
		if (res->existed && strcmp(old.source, source) != 0 &&
		    !opt->replace) {
			char hex[DIGEST_MAX_HEX + 1] = "";

			if (res->split.n_chunks > 0)
				digest_hex(algo, res->split.chunks[0]->digest, hex);
			if (n_old == 0 || res->split.n_chunks == 0 ||
			    strcmp(hex, old_chunks[0].digest) != 0) {
				r = sc_err_set(e, SC_ERR_EXISTS, "capture '%s' was "
				    "added from '%s'; '%s' is another capture (it "
				    "does not begin as that one does): give another "
				    "--name, or --replace to replace it", opt->name,
				    old.source, source);
				goto out;
			}
		}
		if ((r = install_chunks(cl, opt->name, incoming, &res->split,
		    old_chunks, n_old, algo, &in, res, e)) != 0)
			goto out;
		(void)file_remove_tree(incoming, NULL);

		snprintf(cap.source, sizeof(cap.source), "%s", source);
		snprintf(cap.format, sizeof(cap.format), "%s",
		    capture_format_name(res->split.format));
		cap.packets = res->split.packets;
		cap.bytes = res->split.input_bytes;
		cap.flows = (int64_t)res->split.flows;
		cap.cut_flows = (int64_t)res->split.cut_flows;
		cap.backwards = (int64_t)res->split.backwards;
		cap.source_size = (uint64_t)st.st_size;
		cap.source_mtime = mtime_ns(&st);
		if (res->existed) {
			struct cat_chunk **kept = sorted_by_file(&in);

			r = copies_gone(cl, old.id, old_chunks, n_old, kept, in.n,
			    &gone, &n_gone, e);
			free(kept);
			if (r != 0)
				goto out;
		}
		if ((r = catalog_begin(cl->cat, e)) != 0)
			goto out;
		r = catalog_capture_save(cl->cat, &cap, e);
		if (r == 0)
			r = catalog_chunks_replace(cl->cat, cap.id, in.list, in.n,
			    e);
		if (r == 0)
			r = catalog_commit(cl->cat, e);
		else
			catalog_rollback(cl->cat);
		if (r != 0)
			goto out;
		/* best effort: a copy left behind is only wasted space */
		if (n_gone > 0 && (r = cluster_quiesce(cl, e)) == 0)
			r = move_files(cl, opt->name, MOVE_FILES_REMOVE, gone,
			    n_gone, opt->interrupted, e);
		if (r != 0)
			goto out;
		res->chunks = in.n;
	} else {
		res->chunks = n_old;
		if (opt->replicas != 0 && opt->replicas != old.replicas) {
			if ((r = catalog_begin(cl->cat, e)) != 0)
				goto out;
			if ((r = catalog_capture_save(cl->cat, &cap, e)) != 0) {
				catalog_rollback(cl->cat);
				goto out;
			}
			if ((r = catalog_commit(cl->cat, e)) != 0)
				goto out;
		}
	}
	res->packets = cap.packets;
	res->bytes = cap.bytes;
	r = push_added(cl, &cap, opt, res, e);
out:
	if (incoming != NULL) {
		(void)file_remove_tree(incoming, NULL);
		free(incoming);
	}
	free(old_chunks);
	free(in.list);
	free(gone);
	free(source);
	return r;
}

void
add_result_release(struct add_result *res)
{
	size_t i;

	split_result_release(&res->split);
	free(res->workers);
	res->workers = NULL;
	for (i = 0; i < res->n_files; i++)
		free(res->files[i].path);
	free(res->files);
	res->files = NULL;
	res->n_files = 0;
	free(res->bad_file);
	res->bad_file = NULL;
}

/* --- a capture made of many files --- */

/* A file of the set while it is added. */
struct set_file {
	char *path;             /* realpath */
	char *prefix;           /* its chunks' names begin PREFIX- */
	struct stat st;
	const struct cat_source *old;   /* its row before, or NULL */
	int state;              /* ADD_FILE_* */
	struct incoming in;     /* its chunks, in order */
	struct cat_source row;  /* its row now */
	struct sc_err damage;
	uint64_t dropped;
	struct split_result sr; /* new or changed: its split, in incoming */
	int split;
	int waiting;            /* modified within opt->settle */
};

/* Whether chunk file is one of a file whose chunks are PREFIX-NNNNNN
 * (or parts of one cut: PREFIX-NNNNNN-NNNNNN). */
static int
chunk_of(const char *file, const char *prefix)
{
	size_t n = strlen(prefix), k;

	if (strncmp(file, prefix, n) != 0 || file[n] != '-')
		return 0;
	for (k = 1; k <= 6; k++)
		if (file[n + k] < '0' || file[n + k] > '9')
			return 0;
	return file[n + 7] == '.' || file[n + 7] == '-';
}

/* A file of the set as listed: its realpath and what stat said. */
struct listed {
	char *path;
	struct stat st;
};

static int
by_listed_path(const void *a, const void *b)
{
	return strcmp(((const struct listed *)a)->path,
	    ((const struct listed *)b)->path);
}

static void
listed_add(struct listed **list, size_t *n, size_t *alloc, char *path,
    const struct stat *st)
{
	ALLOC_GROW(*list, *n + 1, *alloc);
	(*list)[*n].path = path;
	(*list)[(*n)++].st = *st;
}

/* The files inputs name: each file, and the regular files of each
 * directory (not hidden ones), by name; as realpaths, with their stat.
 * (A directory of 10,000 files: one stat each, from the directory.) */
static int
list_files(char *const *inputs, size_t n, struct listed **list,
    size_t *n_list, struct sc_err *e)
{
	size_t i, first, alloc = 0;

	*list = NULL;
	*n_list = 0;
	for (i = 0; i < n; i++) {
		struct stat st;
		DIR *d;
		struct dirent *de;
		char *dir, *p;

		if (stat(inputs[i], &st) < 0)
			return sc_err_sys(e, "cannot open '%s'", inputs[i]);
		if (S_ISREG(st.st_mode)) {
			if ((p = realpath(inputs[i], NULL)) == NULL)
				return sc_err_sys(e, "cannot resolve '%s'",
				    inputs[i]);
			listed_add(list, n_list, &alloc, p, &st);
			continue;
		}
		if (!S_ISDIR(st.st_mode))
			return sc_err_set(e, SC_ERR_USAGE, "'%s' is not a regular "
			    "file or a directory", inputs[i]);
		if ((dir = realpath(inputs[i], NULL)) == NULL)
			return sc_err_sys(e, "cannot resolve '%s'", inputs[i]);
		if ((d = opendir(dir)) == NULL) {
			int r = sc_err_sys(e, "cannot open '%s'", inputs[i]);

			free(dir);
			return r;
		}
		first = *n_list;
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.' ||
			    fstatat(dirfd(d), de->d_name, &st, 0) < 0 ||
			    !S_ISREG(st.st_mode))
				continue;
			p = xasprintf("%s/%s", strcmp(dir, "/") == 0 ? "" : dir,
			    de->d_name);
			if (de->d_type == DT_LNK || de->d_type == DT_UNKNOWN) {
				/* a link: the file it names */
				char *rp = realpath(p, NULL);

				if (rp != NULL) {
					free(p);
					p = rp;
				}
			}
			listed_add(list, n_list, &alloc, p, &st);
		}
		closedir(d);
		free(dir);
		if (*n_list == first)
			return sc_err_set(e, SC_ERR_EMPTY, "'%s' holds no files",
			    inputs[i]);
		qsort(*list + first, *n_list - first, sizeof(**list),
		    by_listed_path);
	}
	return 0;
}

static int
by_prefix(const void *a, const void *b)
{
	const struct set_file *x = *(struct set_file *const *)a;
	const struct set_file *y = *(struct set_file *const *)b;
	int c = strcmp(x->prefix, y->prefix);

	return c != 0 ? c : strcmp(x->path, y->path);
}

/* Capture order: by first time stamp (files with none last), then by
 * path. */
static int
by_time(const void *a, const void *b)
{
	const struct set_file *x = *(struct set_file *const *)a;
	const struct set_file *y = *(struct set_file *const *)b;
	int c;

	if (!x->row.min_time[0] != !y->row.min_time[0])
		return x->row.min_time[0] ? -1 : 1;
	if ((c = strcmp(x->row.min_time, y->row.min_time)) != 0)
		return c;
	return strcmp(x->path, y->path);
}

/* Splits file f into incoming: nothing in the store changes yet. */
static int
split_file(const struct add_options *opt, const struct cat_capture *cap,
    const char *incoming, struct set_file *f, struct sc_err *e)
{
	struct stat after;
	int r;

	if ((r = add_split(opt, cap, f->path, f->prefix, incoming, &f->sr,
	    e)) != 0)
		return r;
	f->split = 1;
	if (stat(f->path, &after) < 0)
		return sc_err_sys(e, "cannot open '%s'", f->path);
	if (after.st_size != f->st.st_size || mtime_ns(&after) !=
	    mtime_ns(&f->st))
		return sc_err_set(e, SC_ERR_CHANGED, "'%s' changed while it was "
		    "added (from %lld to %lld bytes): add it again once it "
		    "is written", f->path, (long long)f->st.st_size,
		    (long long)after.st_size);
	f->damage = f->sr.damage;
	f->dropped = f->sr.dropped_bytes;
	snprintf(f->row.format, sizeof(f->row.format), "%s",
	    capture_format_name(f->sr.format));
	f->row.packets = f->sr.packets;
	f->row.bytes = f->sr.input_bytes;
	return 0;
}

/* Adds to in the chunks (of sorted, by file) of the file whose chunks
 * are PREFIX-..., in capture order (their names' order). */
static void
chunks_of(struct cat_chunk *const *sorted, size_t n, const char *prefix,
    struct incoming *in)
{
	char *key = xasprintf("%s-", prefix);
	size_t len = strlen(key), i;

	for (i = lower_bound(sorted, n, key); i < n &&
	    strncmp(sorted[i]->file, key, len) == 0; i++)
		if (chunk_of(sorted[i]->file, prefix))
			incoming_add(in, sorted[i]);
	free(key);
}

/* Moves f's new chunks from incoming into the store (install_chunks),
 * its chunks into f->in, and its time range into its row. */
static int
install_file(struct cluster *cl, const struct cat_capture *cap,
    const char *incoming, struct set_file *f,
    struct cat_chunk *const *old_by_file, size_t n_old,
    struct add_result *res, struct sc_err *e)
{
	struct incoming mine = { NULL, 0, 0 };
	size_t i;
	int r;

	chunks_of(old_by_file, n_old, f->prefix, &mine);
	r = install_chunks(cl, cap->name, incoming, &f->sr, mine.list, mine.n,
	    (enum digest_algo)digest_algo_from_name(cap->digest_algo), &f->in,
	    res, e);
	free(mine.list);
	for (i = 0; r == 0 && i < f->in.n; i++) {
		const struct cat_chunk *ch = &f->in.list[i];

		if (ch->min_time[0] && (!f->row.min_time[0] ||
		    strcmp(ch->min_time, f->row.min_time) < 0))
			snprintf(f->row.min_time, sizeof(f->row.min_time), "%s",
			    ch->min_time);
		if (ch->max_time[0] && strcmp(ch->max_time,
		    f->row.max_time) > 0)
			snprintf(f->row.max_time, sizeof(f->row.max_time), "%s",
			    ch->max_time);
	}
	return r;
}

/* Sorting, to find the rows of thousands of files by path. */
static int
by_source_path(const void *a, const void *b)
{
	return strcmp((*(const struct cat_source *const *)a)->path,
	    (*(const struct cat_source *const *)b)->path);
}

int
push_add_set(struct cluster *cl, const struct add_options *opt,
    struct add_result *res, struct sc_err *e)
{
	struct cat_capture cap, old;
	struct cat_chunk *old_chunks = NULL;
	struct cat_source *old_src = NULL, *rows = NULL;
	struct incoming in = { NULL, 0, 0 };
	struct move_file *gone = NULL;
	struct listed *listed = NULL;
	size_t n_listed = 0;
	struct set_file *f = NULL, **pf = NULL;
	struct sc_err ignore;
	size_t n_old = 0, n_old_src = 0, n_gone = 0, n = 0, i, k;
	char *incoming = NULL, *store = NULL;
	struct cat_source **src_by_path = NULL;
	struct cat_chunk **old_by_file = NULL, **new_by_file = NULL;
	size_t n_all = 0;
	int64_t now_ns;
	int r, same_format = 1, same;

	memset(res, 0, sizeof(*res));
	if ((r = add_usable(cl, opt, e)) != 0)
		return r;
	r = list_files(opt->inputs, opt->n_inputs, &listed, &n_listed, e);
	n = n_all = n_listed;
	f = xcalloc(n + 1, sizeof(*f));
	for (i = 0; i < n; i++) {
		f[i].path = listed[i].path;
		f[i].st = listed[i].st;
	}
	free(listed);
	if (r != 0)
		goto out;
	for (i = 0; i < n; i++) {
		f[i].prefix = name_from_path(f[i].path);
		if (!valid_name(f[i].prefix) || strlen(f[i].prefix) > 64) {
			r = sc_err_set(e, SC_ERR_USAGE, "cannot name chunks after "
			    "'%s': a file name of 1-64 letters, digits, '.', "
			    "'_', '-' is needed (not first '.' or '-')",
			    f[i].path);
			goto out;
		}
	}
	/* two files of one name: their chunks would be named alike (sorted
	 * as pointers: a file's row is 4 KiB) */
	pf = xcalloc(n + 1, sizeof(*pf));
	for (i = 0; i < n; i++)
		pf[i] = &f[i];
	qsort(pf, n, sizeof(*pf), by_prefix);
	for (i = 1; i < n; i++)
		if (strcmp(pf[i - 1]->prefix, pf[i]->prefix) == 0) {
			r = sc_err_set(e, SC_ERR_USAGE, strcmp(pf[i - 1]->path,
			    pf[i]->path) == 0 ? "'%s' is given twice" : "'%s' and "
			    "'%s' have one name, which their chunks would share: "
			    "rename one", pf[i - 1]->path, pf[i]->path);
			goto out;
		}

	memset(&cap, 0, sizeof(cap));
	res->existed = catalog_capture_get(cl->cat, opt->name, &old,
	    &ignore) == 0;
	if (res->existed) {
		cap = old;
		if ((r = catalog_chunks(cl->cat, old.id, &old_chunks, &n_old,
		    e)) != 0 || (r = catalog_sources(cl->cat, old.id, &old_src,
		    &n_old_src, e)) != 0)
			goto out;
		if (n_old_src == 0 && n_old > 0 && !opt->replace) {
			r = sc_err_set(e, SC_ERR_EXISTS, "capture '%s' was added "
			    "from '%s'; a set of files is another capture: give "
			    "another --name, or --replace to replace it",
			    opt->name, old.source);
			goto out;
		}
	}
	if ((r = capture_settings(cl, opt, res->existed, &cap, e)) != 0)
		goto out;
	res->replicas = cap.replicas;

	incoming = xasprintf("%s/store/.%s.incoming", cl->dir, opt->name);
	if ((r = file_remove_tree(incoming, e)) != 0)
		goto out;
	/* (thousands of files: their rows found by sorting, not scanning) */
	src_by_path = xcalloc(n_old_src + 1, sizeof(*src_by_path));
	for (k = 0; k < n_old_src; k++)
		src_by_path[k] = &old_src[k];
	qsort(src_by_path, n_old_src, sizeof(*src_by_path), by_source_path);
	old_by_file = xcalloc(n_old + 1, sizeof(*old_by_file));
	for (k = 0; k < n_old; k++)
		old_by_file[k] = &old_chunks[k];
	qsort(old_by_file, n_old, sizeof(*old_by_file), by_chunk_file);
	now_ns = (int64_t)time(NULL) * 1000000000;
	for (i = 0, k = 0; i < n; i++) {
		struct set_file *fi = pf[i];
		struct cat_source key, *kp = &key, **hit;

		key.path = fi->path;
		hit = bsearch(&kp, src_by_path, n_old_src, sizeof(*src_by_path),
		    by_source_path);
		fi->old = hit != NULL ? *hit : NULL;
		/* still being written: wait (one added before stays as it
		 * was); the files kept move up in pf */
		fi->waiting = opt->settle > 0 && mtime_ns(&fi->st) >
		    now_ns - (int64_t)(opt->settle * 1e9);
		if (fi->waiting && fi->old == NULL) {
			res->files_waiting++;
			continue;
		}
		pf[k++] = fi;
	}
	n = k;
	if (n == 0) {
		/* every file is still being written: nothing to do yet */
		res->chunks = n_old;
		goto out;
	}
	for (i = 0; i < n; i++) {
		struct set_file *fi = pf[i];

		if (fi->old != NULL && ((fi->old->size ==
		    (uint64_t)fi->st.st_size && fi->old->mtime ==
		    mtime_ns(&fi->st)) || fi->waiting) && res->existed &&
		    old.chunk_size == cap.chunk_size &&
		    strcmp(old.layout, cap.layout) == 0) {
			/* unchanged: its chunks as they are */
			fi->state = ADD_FILE_SAME;
			fi->row = *fi->old;
			chunks_of(old_by_file, n_old, fi->prefix, &fi->in);
			continue;
		}
		fi->state = fi->old != NULL ? ADD_FILE_CHANGED : ADD_FILE_NEW;
		fi->row.path = fi->path;
		snprintf(fi->row.prefix, sizeof(fi->row.prefix), "%s",
		    fi->prefix);
		fi->row.size = (uint64_t)fi->st.st_size;
		fi->row.mtime = mtime_ns(&fi->st);
		if ((r = split_file(opt, &cap, incoming, fi, e)) != 0) {
			res->bad_file = fi->path;
			fi->path = NULL;
			goto out;
		}
	}
	/* every file split and sound: into the store */
	for (i = 0; i < n; i++)
		if (pf[i]->split && (r = install_file(cl, &cap, incoming, pf[i],
		    old_by_file, n_old, res, e)) != 0)
			goto out;
	for (i = 0; i < n; i++)
		pf[i]->row.chunks = pf[i]->in.n;

	/* capture order, and the files whose times overlap */
	qsort(pf, n, sizeof(*pf), by_time);
	for (i = 1; i < n; i++)
		if (pf[i]->row.min_time[0] && pf[i - 1]->row.max_time[0] &&
		    strcmp(pf[i]->row.min_time, pf[i - 1]->row.max_time) < 0 &&
		    res->overlaps++ == 0)
			snprintf(res->overlap, sizeof(res->overlap), "'%s' (from "
			    "%s) begins before '%s' ends (%s)", pf[i]->path,
			    pf[i]->row.min_time, pf[i - 1]->path,
			    pf[i - 1]->row.max_time);
	rows = xcalloc(n + 1, sizeof(*rows));
	cap.packets = cap.bytes = cap.source_size = 0;
	cap.source_mtime = 0;
	for (i = 0; i < n; i++) {
		rows[i] = pf[i]->row;
		for (k = 0; k < pf[i]->in.n; k++)
			incoming_add(&in, &pf[i]->in.list[k]);
		cap.packets += pf[i]->row.packets;
		cap.bytes += pf[i]->row.bytes;
		cap.source_size += pf[i]->row.size;
		if (pf[i]->row.mtime > cap.source_mtime)
			cap.source_mtime = pf[i]->row.mtime;
		same_format &= strcmp(pf[i]->row.format, pf[0]->row.format) == 0;
	}
	snprintf(cap.format, sizeof(cap.format), "%s", same_format ?
	    pf[0]->row.format : "mixed");
	/* the source: the directory of all the files */
	snprintf(cap.source, sizeof(cap.source), "%s", pf[0]->path);
	for (i = 1; i < n; i++) {
		size_t m = 0;

		while (cap.source[m] && cap.source[m] == pf[i]->path[m])
			m++;
		cap.source[m] = '\0';
	}
	{
		char *slash = strrchr(cap.source, '/');

		if (slash != NULL)
			*(slash == cap.source ? slash + 1 : slash) = '\0';
	}
	/* flows and order are known per file, not across them */
	cap.flows = cap.cut_flows = cap.backwards = -1;

	/* the files no longer in the set, and their chunks in the store */
	store = cluster_store_dir(cl, opt->name);
	new_by_file = sorted_by_file(&in);
	for (k = 0; k < n_old; k++) {
		int owned = 0;

		if (chunk_in(new_by_file, in.n, old_chunks[k].file))
			continue;
		/* (a file split again had its old chunks counted there) */
		for (i = 0; i < n && !owned; i++)
			owned = pf[i]->state != ADD_FILE_SAME &&
			    chunk_of(old_chunks[k].file, pf[i]->prefix);
		if (!owned) {
			char *p = xasprintf("%s/%s", store, old_chunks[k].file);

			(void)unlink(p);
			free(p);
			res->chunks_removed++;
		}
	}
	res->files = xcalloc(n + n_old_src + 1, sizeof(*res->files));
	for (i = 0; i < n; i++) {
		res->files[res->n_files].path = pf[i]->path;
		res->files[res->n_files].state = pf[i]->state;
		res->files[res->n_files].damage = pf[i]->damage;
		res->files[res->n_files++].dropped_bytes = pf[i]->dropped;
		res->files_by_state[pf[i]->state]++;
		pf[i]->path = NULL;
	}
	{
		struct cat_source **now = xcalloc(n + 1, sizeof(*now));

		for (i = 0; i < n; i++)
			now[i] = &rows[i];
		qsort(now, n, sizeof(*now), by_source_path);
		for (k = 0; k < n_old_src; k++) {
			struct cat_source *kp = &old_src[k];

			if (bsearch(&kp, now, n, sizeof(*now),
			    by_source_path) != NULL)
				continue;
			res->files[res->n_files].path = xstrdup(old_src[k].path);
			res->files[res->n_files++].state = ADD_FILE_GONE;
			res->files_by_state[ADD_FILE_GONE]++;
		}
		free(now);
	}
	/* nothing new, changed or gone (and in the same order): the
	 * catalog stays as it is */
	same = res->existed && n_old_src > 0 &&
	    res->files_by_state[ADD_FILE_SAME] == n &&
	    res->files_by_state[ADD_FILE_GONE] == 0 && in.n == n_old;
	for (k = 0; same && k < n_old; k++)
		same = in.list[k].id == old_chunks[k].id;
	if (same && cap.replicas == old.replicas)
		goto push;
	if (res->existed && !same && (r = copies_gone(cl, old.id, old_chunks,
	    n_old, new_by_file, in.n, &gone, &n_gone, e)) != 0)
		goto out;
	if ((r = catalog_begin(cl->cat, e)) != 0)
		goto out;
	r = catalog_capture_save(cl->cat, &cap, e);
	if (r == 0 && !same)
		r = catalog_chunks_replace(cl->cat, cap.id, in.list, in.n, e);
	if (r == 0 && !same)
		r = catalog_sources_replace(cl->cat, cap.id, rows, n, e);
	if (r == 0)
		r = catalog_commit(cl->cat, e);
	else
		catalog_rollback(cl->cat);
	if (r != 0)
		goto out;
	if (n_gone > 0 && (r = cluster_quiesce(cl, e)) == 0)
		r = move_files(cl, opt->name, MOVE_FILES_REMOVE, gone, n_gone,
		    opt->interrupted, e);
	if (r != 0)
		goto out;
push:
	res->chunks = in.n;
	res->packets = cap.packets;
	res->bytes = cap.bytes;
	res->source_unchanged = res->existed &&
	    res->files_by_state[ADD_FILE_SAME] == n &&
	    res->files_by_state[ADD_FILE_GONE] == 0;
	r = push_added(cl, &cap, opt, res, e);
out:
	if (incoming != NULL) {
		(void)file_remove_tree(incoming, NULL);
		free(incoming);
	}
	for (i = 0; f != NULL && i < n_all; i++) {
		free(f[i].path);
		free(f[i].prefix);
		free(f[i].in.list);
		if (f[i].split)
			split_result_release(&f[i].sr);
	}
	free(f);
	free(pf);
	free(rows);
	free(store);
	free(src_by_path);
	free(old_by_file);
	free(new_by_file);
	free(old_chunks);
	catalog_sources_free(old_src, n_old_src);
	free(in.list);
	free(gone);
	return r;
}

int
push_remove(struct cluster *cl, const char *name, int force,
    volatile sig_atomic_t *interrupted, struct push_worker **workers_out,
    size_t *n_workers, struct sc_err *e)
{
	struct cat_capture cap;
	struct cat_placement *pl = NULL;
	struct cat_worker *cws = NULL;
	size_t n_pl = 0, n_cw = 0, i, k, n_running = 0, n_jobs = 0;
	struct push_worker *pws = NULL;
	struct job *jobs = NULL;
	struct child **running = NULL;
	char *store;
	int r, failed = 0;

	*workers_out = NULL;
	*n_workers = 0;
	if ((r = catalog_capture_get(cl->cat, name, &cap, e)) != 0)
		return r;
	if ((r = catalog_placements(cl->cat, cap.id, &pl, &n_pl, e)) != 0 ||
	    (r = catalog_workers(cl->cat, &cws, &n_cw, e)) != 0)
		goto out;
	pws = xcalloc(n_cw + 1, sizeof(*pws));
	jobs = xcalloc(n_cw + 1, sizeof(*jobs));
	running = xcalloc(n_cw + 1, sizeof(*running));
	for (k = 0; k < n_cw; k++) {
		struct job *j;
		const char *args[1];
		char *path;
		int any = 0;

		for (i = 0; i < n_pl; i++)
			any |= pl[i].worker_id == cws[k].id;
		if (!any)
			continue;
		j = &jobs[n_jobs];
		j->pw = &pws[n_jobs++];
		j->worker_id = cws[k].id;
		snprintf(j->pw->name, sizeof(j->pw->name), "%s", cws[k].name);
		strvec_init(&j->argv);
		child_init(&j->child, NULL);
		j->cw = cluster_worker(cl, cws[k].name);
		if (j->cw != NULL)
			describe_worker(j->pw, j->cw);
		if (j->cw == NULL) {
			if (!force) {
				j->pw->failed = 1;
				snprintf(j->pw->error, sizeof(j->pw->error),
				    "worker '%s' is not in the config any more "
				    "(use --force to forget its copies)",
				    cws[k].name);
			}
			continue;
		}
		path = xasprintf("%s/%s", j->cw->dir, name);
		args[0] = path;
		/* the agent's remove (src/agent.sh), the agent sent along */
		r = agent_argv(&j->argv, &cl->cfg, j->cw, cl->control_dir, 1,
		    "remove", args, 1, e);
		free(path);
		agent_child_init(&j->child, j->argv.v, j->cw);
		if (r != 0 || child_start(&j->child, e) != 0) {
			j->pw->failed = 1;
			snprintf(j->pw->error, sizeof(j->pw->error), "%s", e->msg);
			continue;
		}
		agent_send(&j->child);
		running[n_running++] = &j->child;
	}
	r = child_wait_all(running, n_running, interrupted, e);
	if (r != 0)
		goto out;
	if ((r = catalog_begin(cl->cat, e)) != 0)
		goto out;
	for (k = 0; k < n_jobs && r == 0; k++) {
		struct job *j = &jobs[k];
		int ok = j->cw == NULL ? force :
		    !j->pw->failed && child_exit_code(&j->child) == 0;

		if (!ok && !j->pw->failed) {
			j->pw->failed = 1;
			describe_failure(j, j->cw->local ? "sh" : "ssh");
		}
		if (!ok && !force) {
			failed++;
			continue;
		}
		for (i = 0; i < n_pl && r == 0; i++)
			if (pl[i].worker_id == j->worker_id)
				r = catalog_placement_delete(cl->cat,
				    pl[i].chunk_id, j->worker_id, e);
	}
	if (r == 0 && failed == 0)
		r = catalog_capture_delete(cl->cat, cap.id, e);
	if (r == 0)
		r = catalog_commit(cl->cat, e);
	else
		catalog_rollback(cl->cat);
	if (r == 0 && failed == 0) {
		store = cluster_store_dir(cl, name);
		r = file_remove_tree(store, e);
		free(store);
	}
	if (r == 0 && failed > 0)
		r = sc_err_set(e, SC_ERR_WORKER, "%d worker%s still hold%s '%s'",
		    failed, failed == 1 ? "" : "s", failed == 1 ? "s" : "",
		    name);
out:
	for (k = 0; k < n_jobs; k++)
		job_release(&jobs[k]);
	free(jobs);
	free(running);
	free(pl);
	free(cws);
	*workers_out = pws;
	*n_workers = n_jobs;
	return r;
}
