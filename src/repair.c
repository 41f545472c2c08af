/* repair.c - restoring every chunk's replica count (see repair.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "catalog.h"
#include "check.h"
#include "child.h"
#include "digest.h"
#include "move.h"
#include "remote.h"
#include "repair.h"
#include "strvec.h"
#include "util.h"
#include "xalloc.h"
#include "banned.h"

/* Per configured worker: whether it may hold copies, and how much it
 * holds (current copies, and those planned here), to choose the least
 * loaded. */
struct target {
	int64_t id;
	int live;
	uint64_t bytes;
};

/* What a worker holds of a chunk. */
enum held { HELD_NONE, HELD_CURRENT, HELD_STALE };

/* Copies to forget: chunk and worker ids. */
struct forget_list {
	int64_t *chunk, *worker;
	size_t n, alloc_chunk, alloc_worker;
};

static void
forget_add(struct forget_list *fl, int64_t chunk_id, int64_t worker_id)
{
	ALLOC_GROW(fl->chunk, fl->n + 1, fl->alloc_chunk);
	ALLOC_GROW(fl->worker, fl->n + 1, fl->alloc_worker);
	fl->chunk[fl->n] = chunk_id;
	fl->worker[fl->n++] = worker_id;
}

/* Copies to remove: forgotten first (ids), then their files removed
 * (files[i] is ids' i-th: the file on a worker of the config). */
struct trim_list {
	struct forget_list ids;
	struct move_file *files;
	size_t alloc_files;
};

static void
trim_add(struct trim_list *tl, const struct cat_chunk *ch, size_t w,
    int64_t worker_id)
{
	size_t n = tl->ids.n;

	ALLOC_GROW(tl->files, n + 1, tl->alloc_files);
	memset(&tl->files[n], 0, sizeof(tl->files[n]));
	snprintf(tl->files[n].file, sizeof(tl->files[n].file), "%s", ch->file);
	tl->files[n].worker = w;
	forget_add(&tl->ids, ch->id, worker_id);
}

static void
trim_release(struct trim_list *tl)
{
	free(tl->files);
	free(tl->ids.chunk);
	free(tl->ids.worker);
	memset(tl, 0, sizeof(*tl));
}

/* For the group whose first chunk is chunks[first], its placements from
 * pl on (they come by seq, as the chunks do): per live worker, how many
 * of the group's chunks it holds current copies of, into count. */
static void
group_holders(const struct cat_chunk *chunks, size_t n_chunks, size_t first,
    const struct cat_placement *pl, size_t n_pl, const struct target *tg,
    size_t W, size_t *count)
{
	size_t last = first + 1, p, k;

	while (last < n_chunks && chunks[last].part > 1)
		last++;
	for (p = 0; p < n_pl && pl[p].seq <= chunks[last - 1].seq; p++)
		for (k = 0; pl[p].current && k < W; k++)
			if (tg[k].id == pl[p].worker_id && tg[k].live)
				count[k]++;
}

/* Plans the missing copies of one capture (requests for move_apply) and
 * the copies beyond its replicas (trim). */
static int
plan_capture(struct cluster *cl, const struct cat_capture *cap,
    struct target *tg, struct repair_capture *rc, struct move_request **out,
    size_t *n_out, struct trim_list *trim, struct sc_err *e)
{
	size_t W = cl->cfg.n_workers, n_chunks = 0, n_pl = 0, i, k, p = 0, pass;
	struct cat_chunk *chunks = NULL;
	struct cat_placement *pl = NULL;
	struct move_request *req = NULL;
	size_t n_req = 0, alloc_req = 0;
	unsigned char *held = xcalloc(W + 1, 1), *taken = xcalloc(W + 1, 1);
	/* a group's chunks (split.h) go together: per worker, the copies
	 * of the group so far - held, kept and planned */
	size_t *group = xcalloc(W + 1, sizeof(*group)), most = 0;
	int r;

	*out = NULL;
	*n_out = 0;
	if ((r = catalog_chunks(cl->cat, cap->id, &chunks, &n_chunks, e)) != 0 ||
	    (r = catalog_placements(cl->cat, cap->id, &pl, &n_pl, e)) != 0)
		goto out;
	snprintf(rc->name, sizeof(rc->name), "%s", cap->name);
	rc->replicas = cap->replicas;
	rc->chunks = n_chunks;
	for (i = 0; i < n_chunks; i++) {
		unsigned have = 0;

		/* the placements come by seq, as the chunks do */
		memset(held, HELD_NONE, W);
		if (chunks[i].part <= 1)
			memset(group, 0, W * sizeof(*group));
		for (; p < n_pl && pl[p].seq < chunks[i].seq; p++)
			;
		if (chunks[i].part == 1)
			group_holders(chunks, n_chunks, i, pl + p, n_pl - p, tg,
			    W, group);
		for (; p < n_pl && pl[p].chunk_id == chunks[i].id; p++)
			for (k = 0; k < W; k++)
				if (tg[k].id == pl[p].worker_id)
					held[k] = pl[p].current ? HELD_CURRENT :
					    HELD_STALE;
		for (k = 0; k < W; k++) {
			taken[k] = held[k] == HELD_CURRENT && tg[k].live;
			have += taken[k];
		}
		if (have < cap->replicas) {
			rc->short_chunks++;
			rc->needed += cap->replicas - have;
		}
		/* more than its replicas: the extra copies go from the most
		 * loaded workers (ties: the last from its round-robin place) */
		while (have > cap->replicas && cap->replicas > 0) {
			size_t worst = W;

			for (k = 0; k < W; k++) {
				size_t w = (chunks[i].seq - 1 + k) % W;

				if (taken[w] && (worst == W ||
				    tg[w].bytes >= tg[worst].bytes))
					worst = w;
			}
			taken[worst] = 0;
			have--;
			tg[worst].bytes -= tg[worst].bytes < chunks[i].bytes ?
			    tg[worst].bytes : chunks[i].bytes;
			trim_add(trim, &chunks[i], worst, tg[worst].id);
			rc->extra++;
		}
		/* a group's chunk where the group is (most of its copies);
		 * then a worker with a stale copy, then the least loaded;
		 * ties from the chunk's round-robin place on */
		for (most = 0, k = 0; chunks[i].part > 0 && k < W; k++)
			if (tg[k].live && group[k] > most)
				most = group[k];
		for (pass = most > 0 ? 0 : 1; pass < 3 && have < cap->replicas;
		    pass++) {
			while (have < cap->replicas) {
				size_t best = W;

				for (k = 0; k < W; k++) {
					size_t w = (chunks[i].seq - 1 + k) % W;

					if (!tg[w].live || taken[w] ||
					    (pass == 0 && group[w] != most) ||
					    (pass == 1 && held[w] != HELD_STALE))
						continue;
					if (best == W || tg[w].bytes < tg[best].bytes)
						best = w;
				}
				if (best == W)
					break;
				taken[best] = 1;
				have++;
				tg[best].bytes += chunks[i].bytes;
				ALLOC_GROW(req, n_req + 1, alloc_req);
				memset(&req[n_req], 0, sizeof(req[n_req]));
				req[n_req].chunk_id = chunks[i].id;
				snprintf(req[n_req].file, sizeof(req[n_req].file),
				    "%s", chunks[i].file);
				snprintf(req[n_req].digest,
				    sizeof(req[n_req].digest), "%s",
				    chunks[i].digest);
				req[n_req].bytes = chunks[i].bytes;
				req[n_req].from = MOVE_FROM_STORE;
				req[n_req].to = best;
				rc->bytes += chunks[i].bytes;
				n_req++;
			}
		}
		if (have < cap->replicas)
			rc->no_room += cap->replicas - have;
		/* where this chunk of a group will be: the rest follows */
		for (k = 0; chunks[i].part > 0 && k < W; k++)
			group[k] += taken[k] && chunks[i].part > 1;
		if (chunks[i].part == 1)
			for (k = 0; k < W; k++)
				group[k] += taken[k] ? W : 0;
	}
	*out = req;
	*n_out = n_req;
	req = NULL;
out:
	free(req);
	free(chunks);
	free(pl);
	free(held);
	free(taken);
	free(group);
	return r;
}

/* Which configured workers may hold copies, and what they hold now. */
static int
find_targets(struct cluster *cl, const struct repair_options *opt,
    struct target *tg, struct repair_result *res, struct sc_err *e)
{
	size_t W = cl->cfg.n_workers, n_ws = 0, i, k;
	struct cat_worker *ws = NULL;
	int r;

	for (k = 0; k < W; k++) {
		if ((r = catalog_worker_ensure(cl->cat, cl->cfg.workers[k].name,
		    &tg[k].id, e)) != 0)
			return r;
		tg[k].live = opt->exclude == NULL ||
		    strcmp(opt->exclude, cl->cfg.workers[k].name) != 0;
	}
	if (opt->probe && W > 0) {
		struct check_result *cr = NULL;
		size_t n = 0;

		if ((r = check_workers(cl, NULL, 0, NULL, opt->interrupted, &cr,
		    &n, e)) != 0)
			return r;
		res->down = xcalloc(n + 1, sizeof(*res->down));
		for (k = 0; k < n && k < W; k++) {
			if (cr[k].reachable && cr[k].writable)
				continue;
			tg[k].live = 0;
			snprintf(res->down[res->n_down++], sizeof(*res->down),
			    "%s", cr[k].name);
		}
		free(cr);
	}
	if ((r = catalog_workers(cl->cat, &ws, &n_ws, e)) != 0)
		return r;
	for (i = 0; i < n_ws; i++)
		for (k = 0; k < W; k++)
			if (ws[i].id == tg[k].id)
				tg[k].bytes = ws[i].bytes;
	free(ws);
	return 0;
}

/* The capture called name, or every capture when name is NULL. */
static int
captures_of(struct cluster *cl, const char *name, struct cat_capture **caps,
    size_t *n, struct sc_err *e)
{
	int r;

	if (name == NULL)
		return catalog_captures(cl->cat, caps, n, e);
	*caps = xcalloc(1, sizeof(**caps));
	r = catalog_capture_get(cl->cat, name, *caps, e);
	*n = r == 0;
	return r;
}

int
repair_run(struct cluster *cl, const struct repair_options *opt,
    struct repair_result *res, struct sc_err *e)
{
	size_t W = cl->cfg.n_workers, n_caps = 0, i;
	struct target *tg = xcalloc(W + 1, sizeof(*tg));
	struct cat_capture *caps = NULL;
	double t0 = monotonic_seconds();
	int r, short_any = 0;

	memset(res, 0, sizeof(*res));
	r = captures_of(cl, opt->capture, &caps, &n_caps, e);
	if (r == 0)
		r = find_targets(cl, opt, tg, res, e);
	if (r != 0)
		goto out;
	res->caps = xcalloc(n_caps + 1, sizeof(*res->caps));
	for (i = 0; i < n_caps && r == 0; i++) {
		struct repair_capture *rc = &res->caps[res->n_caps++];
		struct move_request *req = NULL;
		struct trim_list trim;
		struct move_outcome mo;
		size_t n_req = 0, k;

		memset(&trim, 0, sizeof(trim));

		if (opt->interrupted != NULL && *opt->interrupted) {
			r = sc_err_set(e, SC_ERR_INTERRUPTED, "interrupted");
			break;
		}
		if ((r = plan_capture(cl, &caps[i], tg, rc, &req, &n_req,
		    &trim, e)) != 0) {
			trim_release(&trim);
			break;
		}
		if (!opt->dry_run && n_req > 0) {
			r = move_apply(cl, caps[i].name, req, n_req,
			    opt->interrupted, &mo, e);
			rc->copied = mo.done + mo.left;
			rc->failed = mo.failed;
			snprintf(rc->error, sizeof(rc->error), "%s", mo.error);
			if (r == SC_ERR_WORKER) {
				/* those chunks stay short; go on with the rest */
				sc_err_clear(e);
				r = 0;
			}
		}
		/* Extra copies: forgotten first (a query from now on does
		 * not plan to read them), removed once no query that may
		 * have runs; one that cannot be removed is claimed by no
		 * chunk, for verify to remove. */
		if (r == 0 && !opt->dry_run && trim.ids.n > 0) {
			r = repair_forget(cl, trim.ids.chunk, trim.ids.worker,
			    trim.ids.n, e);
			if (r == 0)
				r = cluster_quiesce(cl, e);
			if (r == 0)
				r = move_files(cl, caps[i].name,
				    MOVE_FILES_REMOVE, trim.files, trim.ids.n,
				    opt->interrupted, e);
			for (k = 0; r == 0 && k < trim.ids.n; k++)
				rc->removed += trim.files[k].ok != 0;
		}
		if (rc->no_room > 0 || rc->failed > 0)
			short_any = 1;
		free(req);
		trim_release(&trim);
	}
	if (r == 0 && short_any)
		r = sc_err_set(e, SC_ERR_WORKER, "some chunks still have fewer "
		    "copies than their replicas");
out:
	res->seconds = monotonic_seconds() - t0;
	free(caps);
	free(tg);
	return r;
}

void
repair_result_release(struct repair_result *res)
{
	free(res->caps);
	free(res->down);
	memset(res, 0, sizeof(*res));
}

int
repair_forget(struct cluster *cl, const int64_t *chunk_ids,
    const int64_t *worker_ids, size_t n, struct sc_err *e)
{
	size_t i;
	int r;

	if (n == 0)
		return 0;
	if ((r = catalog_begin(cl->cat, e)) != 0)
		return r;
	for (i = 0; i < n && r == 0; i++)
		r = catalog_placement_delete(cl->cat, chunk_ids[i],
		    worker_ids[i], e);
	if (r != 0) {
		catalog_rollback(cl->cat);
		return r;
	}
	return catalog_commit(cl->cat, e);
}

int
repair_store_good(struct cluster *cl, const struct cat_capture *cap,
    const struct cat_chunk *ch)
{
	char *dir = cluster_store_dir(cl, cap->name);
	char *path = xasprintf("%s/%s", dir, ch->file);
	int algo = digest_algo_from_name(cap->digest_algo);
	char hex[DIGEST_MAX_HEX + 1];
	uint8_t raw[DIGEST_MAX_LEN];
	static char buf[1 << 16];
	struct digest d;
	ssize_t n;
	int fd, good = 0;

	free(dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	if (fd < 0 || algo < 0) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	digest_init(&d, (enum digest_algo)algo);
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		digest_update(&d, buf, (size_t)n);
	}
	if (n == 0) {
		digest_final(&d, raw);
		digest_hex((enum digest_algo)algo, raw, hex);
		good = strcmp(hex, ch->digest) == 0;
	}
	digest_release(&d);
	close(fd);
	return good;
}

static void
note_bad(struct verify_result *res, const char *where, const char *file)
{
	if (res->n_bad_files < sizeof(res->bad_files) / sizeof(res->bad_files[0]))
		snprintf(res->bad_files[res->n_bad_files++],
		    sizeof(res->bad_files[0]), "%s:%s", where, file);
}

/* Verifies one capture; adds the copies found bad to fl. */
static int
verify_capture(struct cluster *cl, const struct cat_capture *cap,
    const int64_t *worker_ids, volatile sig_atomic_t *interrupted,
    struct verify_result *res, struct forget_list *fl, struct sc_err *e)
{
	size_t W = cl->cfg.n_workers, n_chunks = 0, n_pl = 0, i, k, n = 0;
	struct cat_chunk *chunks = NULL;
	struct cat_placement *pl = NULL;
	struct move_check *checks = NULL;
	size_t *chunk_of = NULL;       /* per check: its chunk's index */
	char *store_bad = NULL;
	int r;

	if ((r = catalog_chunks(cl->cat, cap->id, &chunks, &n_chunks, e)) != 0 ||
	    (r = catalog_placements(cl->cat, cap->id, &pl, &n_pl, e)) != 0)
		goto out;
	store_bad = xcalloc(n_chunks + 1, 1);
	for (i = 0; i < n_chunks; i++) {
		if (interrupted != NULL && *interrupted) {
			r = sc_err_set(e, SC_ERR_INTERRUPTED, "interrupted");
			goto out;
		}
		res->store_checked++;
		if (!repair_store_good(cl, cap, &chunks[i])) {
			store_bad[i] = 1;
			res->store_bad++;
			note_bad(res, "store", chunks[i].file);
		}
	}
	checks = xcalloc(n_pl + 1, sizeof(*checks));
	chunk_of = xcalloc(n_pl + 1, sizeof(*chunk_of));
	for (k = 0; k < n_pl; k++) {
		size_t w;

		if (!pl[k].current)
			continue;
		for (w = 0; w < W && worker_ids[w] != pl[k].worker_id; w++)
			;
		if (w == W)
			continue;
		for (i = 0; i < n_chunks && chunks[i].id != pl[k].chunk_id; i++)
			;
		if (i == n_chunks)
			continue;
		snprintf(checks[n].file, sizeof(checks[n].file), "%s",
		    chunks[i].file);
		checks[n].worker = w;
		chunk_of[n++] = i;
	}
	if (n > 0 && (r = move_check_copies(cl, cap->name, checks, n,
	    interrupted, e)) != 0)
		goto out;
	for (k = 0; k < n; k++) {
		struct verify_worker *vw = &res->workers[checks[k].worker];
		size_t c = chunk_of[k];

		vw->checked++;
		if (checks[k].state == MOVE_COPY_UNKNOWN) {
			vw->unknown++;
			if (!vw->error[0])
				snprintf(vw->error, sizeof(vw->error), "%s",
				    checks[k].error);
		} else if (checks[k].state == MOVE_COPY_DIFFERS &&
		    !store_bad[c]) {
			/* the store's is sound: the worker's is what is wrong */
			vw->bad++;
			note_bad(res, vw->name, checks[k].file);
			forget_add(fl, chunks[c].id,
			    worker_ids[checks[k].worker]);
		}
	}
out:
	free(chunks);
	free(pl);
	free(checks);
	free(chunk_of);
	free(store_bad);
	return r;
}

/* Whether name could be a file of capture cap: CAP-NNNNNN, then a
 * -NNNNNN for each cut that made it a part, then .pcap or .pcapng. */
static int
chunk_name_of(const char *cap, const char *name)
{
	size_t n = strlen(cap), groups = 0, k;
	const char *p;

	if (strncmp(name, cap, n) != 0)
		return 0;
	for (p = name + n; p[0] == '-'; p += 7, groups++) {
		for (k = 1; k <= 6 && p[k] >= '0' && p[k] <= '9'; k++)
			;
		if (k != 7)
			return 0;
	}
	return groups > 0 &&
	    (strcmp(p, ".pcap") == 0 || strcmp(p, ".pcapng") == 0);
}

/* The agent's list of the plain files in a worker's directory of a
 * capture, one name a line (none when there is no such directory); hidden
 * ones (a partial copy's directory, a slot's mark) are not listed. */
struct lister {
	struct strvec argv;
	struct child child;
	struct strvec names;
	int started;
};

static void
on_name(struct child *c, const char *line, void *ctx)
{
	(void)c;
	strvec_push(ctx, line);
}

/* A copy the catalog claims: a worker (of the config) and a file. */
struct claim {
	size_t worker;
	const char *file;
};

static int
cmp_claim(const void *a, const void *b)
{
	const struct claim *x = a, *y = b;

	if (x->worker != y->worker)
		return x->worker < y->worker ? -1 : 1;
	return strcmp(x->file, y->file);
}

/* The catalog's claims on capture cap, sorted (their file names point
 * into *chunks, which the caller frees). */
static int
claims_of(struct cluster *cl, const struct cat_capture *cap,
    const int64_t *worker_ids, struct cat_chunk **chunks,
    struct claim **claims, size_t *n, struct sc_err *e)
{
	size_t W = cl->cfg.n_workers, n_chunks = 0, n_pl = 0, i, k, w;
	struct cat_placement *pl = NULL;
	int r;

	*n = 0;
	*claims = NULL;
	if ((r = catalog_chunks(cl->cat, cap->id, chunks, &n_chunks, e)) != 0)
		return r;
	if ((r = catalog_placements(cl->cat, cap->id, &pl, &n_pl, e)) != 0)
		return r;
	*claims = xcalloc(n_pl + 1, sizeof(**claims));
	for (k = 0; k < n_pl; k++) {
		for (w = 0; w < W && worker_ids[w] != pl[k].worker_id; w++)
			;
		/* placements come by chunk: its seq is its place */
		i = pl[k].seq > 0 && pl[k].seq <= n_chunks &&
		    (*chunks)[pl[k].seq - 1].id == pl[k].chunk_id ?
		    pl[k].seq - 1 : 0;
		while (i < n_chunks && (*chunks)[i].id != pl[k].chunk_id)
			i++;
		if (w == W || i == n_chunks)
			continue;
		(*claims)[*n].worker = w;
		(*claims)[(*n)++].file = (*chunks)[i].file;
	}
	qsort(*claims, *n, sizeof(**claims), cmp_claim);
	free(pl);
	return 0;
}

/* Removes, on every worker that answers, the files of capture cap that
 * the catalog does not claim there (see repair_verify). *quiet: the
 * queries have been waited for already. */
static int
remove_unclaimed(struct cluster *cl, const struct cat_capture *cap,
    const int64_t *worker_ids, int *quiet,
    volatile sig_atomic_t *interrupted, struct verify_result *res,
    struct sc_err *e)
{
	size_t W = cl->cfg.n_workers, n_running = 0, n_claims = 0, n = 0;
	size_t alloc = 0, w, i;
	struct lister *ls = xcalloc(W + 1, sizeof(*ls));
	struct child **running = xcalloc(W + 1, sizeof(*running));
	struct cat_chunk *chunks = NULL;
	struct claim *claims = NULL;
	struct move_file *files = NULL;
	struct cat_source *src = NULL;
	size_t n_src = 0;
	int r;

	for (w = 0; w < W; w++) {
		const struct config_worker *cw = &cl->cfg.workers[w];
		char *dir = xasprintf("%s/%s", cw->dir, cap->name);
		const char *args[1] = { dir };
		struct sc_err ce;
		int r2;

		strvec_init(&ls[w].argv);
		strvec_init(&ls[w].names);
		/* the agent's list (src/agent.sh), the agent sent along */
		r2 = agent_argv(&ls[w].argv, &cl->cfg, cw, cl->control_dir, 1,
		    "list", args, 1, &ce);
		free(dir);
		agent_child_init(&ls[w].child, ls[w].argv.v, cw);
		ls[w].child.on_line = on_name;
		ls[w].child.ctx = &ls[w].names;
		/* a worker that cannot be asked keeps what it has */
		if (r2 == 0 && child_start(&ls[w].child, &ce) == 0) {
			agent_send(&ls[w].child);
			ls[w].started = 1;
			running[n_running++] = &ls[w].child;
		}
	}
	r = child_wait_all(running, n_running, interrupted, e);
	/* (a capture made of many files: its chunks are named after them) */
	if (r == 0)
		r = catalog_sources(cl->cat, cap->id, &src, &n_src, e);
	/* the candidates: named as this capture's files */
	for (w = 0; r == 0 && w < W; w++) {
		if (!ls[w].started || child_exit_code(&ls[w].child) != 0)
			continue;
		for (i = 0; i < ls[w].names.n; i++) {
			const char *name = ls[w].names.v[i];
			size_t k;
			int ours = chunk_name_of(cap->name, name);

			for (k = 0; k < n_src && !ours; k++)
				ours = chunk_name_of(src[k].prefix, name);
			if (!ours || strlen(name) >= sizeof(files->file))
				continue;
			ALLOC_GROW(files, n + 1, alloc);
			memset(&files[n], 0, sizeof(files[n]));
			snprintf(files[n].file, sizeof(files[n].file), "%s",
			    ls[w].names.v[i]);
			files[n++].worker = w;
		}
	}
	/* Those the catalog claims, once no query runs: a query records
	 * the copies it made when it ends. */
	if (r == 0 && n > 0 && !*quiet) {
		r = cluster_quiesce(cl, e);
		*quiet = r == 0;
	}
	if (r == 0 && n > 0)
		r = claims_of(cl, cap, worker_ids, &chunks, &claims, &n_claims,
		    e);
	if (r == 0 && n > 0) {
		size_t kept = 0;

		for (i = 0; i < n; i++) {
			struct claim key = { files[i].worker, files[i].file };

			if (bsearch(&key, claims, n_claims, sizeof(*claims),
			    cmp_claim) == NULL)
				files[kept++] = files[i];
		}
		n = kept;
	}
	if (r == 0 && n > 0)
		r = move_files(cl, cap->name, MOVE_FILES_REMOVE, files, n,
		    interrupted, e);
	for (i = 0; r == 0 && i < n; i++) {
		struct verify_worker *vw = &res->workers[files[i].worker];

		if (!files[i].ok) {
			if (!vw->error[0])
				snprintf(vw->error, sizeof(vw->error), "%s",
				    files[i].error);
			continue;
		}
		vw->unclaimed++;
		if (res->n_unclaimed_files < sizeof(res->unclaimed_files) /
		    sizeof(res->unclaimed_files[0]))
			snprintf(res->unclaimed_files[res->n_unclaimed_files++],
			    sizeof(res->unclaimed_files[0]), "%s:%s/%s",
			    vw->name, cap->name, files[i].file);
	}
	for (w = 0; w < W; w++) {
		if (ls[w].started)
			child_release(&ls[w].child);
		strvec_release(&ls[w].argv);
		strvec_release(&ls[w].names);
	}
	free(ls);
	free(running);
	free(chunks);
	free(claims);
	free(files);
	catalog_sources_free(src, n_src);
	return r;
}

int
repair_verify(struct cluster *cl, const char *capture,
    volatile sig_atomic_t *interrupted, struct verify_result *res,
    struct sc_err *e)
{
	size_t W = cl->cfg.n_workers, n_caps = 0, i;
	struct forget_list fl = { NULL, NULL, 0, 0, 0 };
	struct cat_capture *caps = NULL;
	int64_t *ids = xcalloc(W + 1, sizeof(*ids));
	int r = 0, quiet = 0;

	memset(res, 0, sizeof(*res));
	res->n_workers = W;
	res->workers = xcalloc(W + 1, sizeof(*res->workers));
	for (i = 0; i < W && r == 0; i++) {
		snprintf(res->workers[i].name, sizeof(res->workers[i].name),
		    "%s", cl->cfg.workers[i].name);
		r = catalog_worker_ensure(cl->cat, cl->cfg.workers[i].name,
		    &ids[i], e);
	}
	if (r == 0)
		r = captures_of(cl, capture, &caps, &n_caps, e);
	for (i = 0; i < n_caps && r == 0; i++)
		r = verify_capture(cl, &caps[i], ids, interrupted, res, &fl, e);
	/* before the bad copies are forgotten: they stay, for rsync to
	 * mend from */
	for (i = 0; i < n_caps && r == 0; i++)
		r = remove_unclaimed(cl, &caps[i], ids, &quiet, interrupted,
		    res, e);
	if (r == 0)
		r = repair_forget(cl, fl.chunk, fl.worker, fl.n, e);
	if (r == 0 && res->store_bad > 0)
		r = sc_err_set(e, SC_ERR_STORE, "%zu chunk%s in the store "
		    "differ%s from the digest recorded when added: nothing "
		    "can be repaired from %s", res->store_bad,
		    res->store_bad == 1 ? "" : "s",
		    res->store_bad == 1 ? "s" : "", res->store_bad == 1 ?
		    "it" : "them");
	free(caps);
	free(ids);
	free(fl.chunk);
	free(fl.worker);
	return r;
}

void
verify_result_release(struct verify_result *res)
{
	free(res->workers);
	memset(res, 0, sizeof(*res));
}
