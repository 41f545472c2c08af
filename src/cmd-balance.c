/* cmd-balance.c - shardcap balance: move chunks from the workers that
 * were slow in the last run to those that were fast (docs/balance.md). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "balance.h"
#include "catalog.h"
#include "cli.h"
#include "cmd.h"
#include "cut.h"
#include "json.h"
#include "move.h"
#include "strbuf.h"
#include "table.h"
#include "util.h"
#include "xalloc.h"
#include "banned.h"

#define BALANCE_USAGE "shardcap balance NAME [--algorithm default|paper] [--threshold P] [--seed N] [--dry-run] [--json]\n       shardcap balance --even [NAME] [--dry-run] [--json]"

/* How many earlier runs of the same command speeds are learnt from. */
#define HISTORY_RUNS 10

static const char balance_help[] =
    "usage: " BALANCE_USAGE "\n"
    "\n"
    "Plans, from the last run of a query on capture NAME, which chunks to\n"
    "move from the workers that finished late to those that finished\n"
    "early, prints the plan, and carries it out: each chunk is copied from\n"
    "the store (or, with cluster.peer-copy, from its old worker) to its\n"
    "new worker, checked against the store, switched over in the catalog\n"
    "and only then removed from its old worker. Every step is journaled,\n"
    "so a move cut short by a crash is finished or rolled back by the\n"
    "next shardcap command that changes the cluster.\n"
    "\n"
    "With the default algorithm, a chunk that alone costs more than the\n"
    "ideal is cut into parts of at most half the ideal (NAME-000005-\n"
    "000001.pcap, ...: its packets in order, so results do not change),\n"
    "placed like other chunks; journaled too.\n"
    "\n"
    "With --even, no run is needed: each capture's (NAME's, or every\n"
    "capture's) chunks are shared out over the workers by bytes, moving\n"
    "as few as evens them out - a worker just added gets its share. A\n"
    "flow larger than a chunk stays where it is, whole.\n"
    "\n"
    "Options:\n"
    "      --even          share the chunks out by bytes, not by a run's\n"
    "                      times\n"
    "      --algorithm A   default: moves the chunks, by their measured\n"
    "                      cost, that bring the slowest worker nearest the\n"
    "                      ideal time, moving as few bytes as it can;\n"
    "                      paper: McGrath's algorithm, random chunks from\n"
    "                      slow to fast workers\n"
    "      --threshold P   a worker is slow or fast when its time is more\n"
    "                      than P off the mean (default: the config's\n"
    "                      cluster.threshold, 10%)\n"
    "      --seed N        the paper's random choice (default: the run's\n"
    "                      number, so a plan can be repeated)\n"
    "  -n, --dry-run       print the plan, move nothing\n"
    "      --json          the plan and its outcome as JSON\n"
    "\n"
    "The predicted times assume each chunk costs what it cost in the last\n"
    "run and each worker keeps its measured speed; 'ideal' is all the work\n"
    "divided by all the workers' speed. Run the query again to measure the\n"
    "result ('shardcap stats' compares runs); 'shardcap run --balance'\n"
    "balances after every run, as the paper does.\n"
    "\n"
    "Exit status: 0 when every move and cut was made (or none was needed),\n"
    "20 when a worker failed (those chunks stay where they were, whole), 15\n"
    "when NAME has no run to balance from.\n";

/* What the plan is made from. */
struct prep {
	struct cat_run run;
	struct cat_chunk *chunks;
	size_t n_chunks;
	char *holds;            /* [chunk * W + worker]: a current copy */
	struct balance_worker *workers;
	struct balance_chunk *bchunks;
	double *measured;       /* completion in the run, per worker */
	size_t W;
};

static void
prep_release(struct prep *p)
{
	free(p->chunks);
	free(p->holds);
	free(p->workers);
	free(p->bchunks);
	free(p->measured);
	memset(p, 0, sizeof(*p));
}

static size_t
worker_index(const struct cluster *cl, const char *name)
{
	const struct config_worker *w = cluster_worker(cl, name);

	return w == NULL ? BALANCE_NONE : (size_t)(w - cl->cfg.workers);
}

struct id_index {
	int64_t id;
	size_t index;
};

static int
cmp_id(const void *a, const void *b)
{
	const struct id_index *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static size_t
chunk_index(const struct id_index *ids, size_t n, int64_t id)
{
	struct id_index key = { id, 0 };
	const struct id_index *hit = bsearch(&key, ids, n, sizeof(*ids),
	    cmp_id);

	return hit == NULL ? BALANCE_NONE : hit->index;
}

/* The most jobs that ran at once on worker w: its slots, when the config
 * leaves them to the worker's cores. */
static unsigned
max_overlap(const struct cat_job *jobs, size_t n, int64_t worker_id)
{
	unsigned best = 0;
	size_t i, k;

	for (i = 0; i < n; i++) {
		unsigned at = 0;

		if (jobs[i].worker_id != worker_id)
			continue;
		for (k = 0; k < n; k++)
			if (jobs[k].worker_id == worker_id &&
			    jobs[k].started_ms <= jobs[i].started_ms &&
			    jobs[k].started_ms + jobs[k].wall_ms >
			    jobs[i].started_ms)
				at++;
		if (at > best)
			best = at;
	}
	return best;
}

/* Speeds from the jobs of the recent runs of the same command, and each
 * chunk's cost where it is now. */
static int
learn_speeds(struct cluster *cl, const struct cat_capture *cap,
    struct prep *p, const struct id_index *ids, struct sc_err *e)
{
	struct cat_job *hist = NULL;
	struct balance_obs *obs;
	size_t n_hist = 0, n_obs = 0, i;
	double *speed;
	int r;

	if ((r = catalog_jobs_history(cl->cat, cap->id, p->run.id,
	    HISTORY_RUNS, &hist, &n_hist, e)) != 0)
		return r;
	obs = xcalloc(n_hist + 1, sizeof(*obs));
	for (i = 0; i < n_hist; i++) {
		size_t c = chunk_index(ids, p->n_chunks, hist[i].chunk_id);
		size_t w = worker_index(cl, hist[i].worker);

		if (c == BALANCE_NONE || w == BALANCE_NONE ||
		    hist[i].wall_ms <= 0 || hist[i].exit_status != 0)
			continue;
		obs[n_obs].item = c;
		obs[n_obs].worker = w;
		obs[n_obs].cost = (double)hist[i].wall_ms / 1000.0;
		obs[n_obs].run = (uint64_t)hist[i].run_id;
		n_obs++;
	}
	speed = xcalloc(p->W + 1, sizeof(*speed));
	balance_estimate_speeds(obs, n_obs, p->n_chunks, p->W, speed);
	for (i = 0; i < p->W; i++)
		p->workers[i].speed = speed[i];
	free(speed);
	/* and what each chunk costs where it is, over its recent runs */
	balance_recent_costs(obs, n_obs, p->bchunks, p->n_chunks);
	free(obs);
	free(hist);
	return 0;
}

static int
prepare(struct cluster *cl, const struct cat_capture *cap, struct prep *p,
    struct sc_err *e)
{
	struct cat_run *runs = NULL;
	struct cat_run_worker *rw = NULL;
	struct cat_placement *pl = NULL;
	struct cat_job *jobs = NULL;
	struct cat_move *mv = NULL;
	struct id_index *ids = NULL;
	size_t n_runs = 0, n_rw = 0, n_pl = 0, n_jobs = 0, n_mv = 0, i;
	char *ran;
	int r;

	memset(p, 0, sizeof(*p));
	p->W = cl->cfg.n_workers;
	if ((r = catalog_runs(cl->cat, cap->name, 1, 1, &runs, &n_runs, e)) != 0)
		return r;
	if (n_runs == 0) {
		free(runs);
		return sc_err_set(e, SC_ERR_NOT_FOUND, "capture '%s' has no run "
		    "yet: balancing needs the timings of a query ('shardcap run "
		    "%s -- ...')", cap->name, cap->name);
	}
	p->run = runs[0];
	free(runs);
	if ((r = catalog_chunks(cl->cat, cap->id, &p->chunks, &p->n_chunks,
	    e)) != 0 ||
	    (r = catalog_placements(cl->cat, cap->id, &pl, &n_pl, e)) != 0 ||
	    (r = catalog_jobs(cl->cat, p->run.id, &jobs, &n_jobs, e)) != 0 ||
	    (r = catalog_run_workers(cl->cat, p->run.id, &rw, &n_rw, e)) != 0 ||
	    (r = catalog_moves_last(cl->cat, cap->id, &mv, &n_mv, e)) != 0)
		goto out;

	ids = xcalloc(p->n_chunks + 1, sizeof(*ids));
	for (i = 0; i < p->n_chunks; i++) {
		ids[i].id = p->chunks[i].id;
		ids[i].index = i;
	}
	qsort(ids, p->n_chunks, sizeof(*ids), cmp_id);
	p->holds = xcalloc(p->n_chunks * p->W + 1, 1);
	for (i = 0; i < n_pl; i++) {
		size_t c = chunk_index(ids, p->n_chunks, pl[i].chunk_id);
		size_t w = worker_index(cl, pl[i].worker);

		if (c != BALANCE_NONE && w != BALANCE_NONE && pl[i].current)
			p->holds[c * p->W + w] = 1;
	}

	p->workers = xcalloc(p->W + 1, sizeof(*p->workers));
	p->measured = xcalloc(p->W + 1, sizeof(*p->measured));
	p->bchunks = xcalloc(p->n_chunks + 1, sizeof(*p->bchunks));
	for (i = 0; i < p->n_chunks; i++) {
		p->bchunks[i].worker = BALANCE_NONE;
		p->bchunks[i].bytes = p->chunks[i].bytes;
		p->bchunks[i].cost = -1;
		p->bchunks[i].came_from = BALANCE_NONE;
		p->bchunks[i].pinned = p->chunks[i].part != 0;
	}
	ran = xcalloc(p->n_chunks + 1, 1);
	for (i = 0; i < n_jobs; i++) {
		size_t c = chunk_index(ids, p->n_chunks, jobs[i].chunk_id);
		size_t w = worker_index(cl, jobs[i].worker);

		if (c == BALANCE_NONE || w == BALANCE_NONE)
			continue;
		p->bchunks[c].worker = w;
		p->bchunks[c].cost = (double)jobs[i].wall_ms / 1000.0;
		ran[c] = 1;
	}
	for (i = 0; i < p->n_chunks; i++) {
		size_t w = p->bchunks[i].worker;

		if (!ran[i] || !p->holds[i * p->W + w]) {
			r = sc_err_set(e, SC_ERR_NOT_FOUND, "the chunks of '%s' "
			    "changed since its last run (run %lld: %s %s); run a "
			    "query again to measure where they are now",
			    cap->name, (long long)p->run.id, p->chunks[i].file,
			    ran[i] ? "moved" : "did not run");
			free(ran);
			goto out;
		}
		p->workers[w].n_run++;
	}
	free(ran);
	for (i = 0; i < n_rw; i++) {
		size_t w = worker_index(cl, rw[i].worker);

		if (w != BALANCE_NONE) {
			p->workers[w].completion =
			    (double)rw[i].completion_ms / 1000.0;
			p->measured[w] = p->workers[w].completion;
		}
	}
	for (i = 0; i < p->W; i++) {
		const struct config_worker *cw = &cl->cfg.workers[i];
		int64_t wid = 0;
		size_t k;

		p->workers[i].slots = cw->jobs;
		if (cw->jobs == 0) {
			for (k = 0; k < n_jobs; k++)
				if (strcmp(jobs[k].worker, cw->name) == 0)
					wid = jobs[k].worker_id;
			p->workers[i].slots = wid ?
			    max_overlap(jobs, n_jobs, wid) : 1;
		}
		if (p->workers[i].slots == 0)
			p->workers[i].slots = 1;
	}
	for (i = 0; i < n_mv; i++) {
		size_t c = chunk_index(ids, p->n_chunks, mv[i].chunk_id);
		size_t w = mv[i].from_id ? worker_index(cl, mv[i].from) :
		    BALANCE_NONE;

		if (c != BALANCE_NONE)
			p->bchunks[c].came_from = w;
	}
	r = learn_speeds(cl, cap, p, ids, e);
out:
	free(ids);
	free(pl);
	free(jobs);
	free(rw);
	free(mv);
	return r;
}

/* A move's cells in a plan's table: chunk, from, to, bytes. */
static void
move_row(struct table *t, const struct cluster *cl,
    const struct move_request *m, struct strbuf *sb)
{
	strbuf_reset(sb);
	format_bytes(sb, m->bytes);
	table_add(t, m->file);
	table_add(t, cl->cfg.workers[m->from].name);
	table_add(t, cl->cfg.workers[m->to].name);
	table_add(t, sb->buf);
}

static void
print_plan(FILE *f, const struct cluster *cl, const struct prep *p,
    const struct balance_plan *plan, const char *algo, double threshold,
    const struct move_request *req, size_t n_req,
    const struct cut_request *cuts, size_t n_cuts)
{
	static const char *mh[] = { "chunk", "from", "to", "bytes", "cost" };
	static const int mnum[] = { 0, 0, 0, 1, 1 };
	static const char *wh[] = {
		"worker", "chunks", "slots", "speed", "measured", "predicted",
		"after",
	};
	static const int wnum[] = { 0, 1, 1, 1, 1, 1, 1 };
	struct strbuf sb = STRBUF_INIT;
	struct table t;
	size_t *after_n = xcalloc(p->W + 1, sizeof(*after_n));
	size_t i;

	fprintf(f, "balance %s: algorithm %s, threshold %g%%, from run %lld\n"
	    "  %s\n", p->run.capture, algo, threshold * 100,
	    (long long)p->run.id, p->run.command);
	if (n_req) {
		fputc('\n', f);
		table_init(&t, ARRAY_SIZE(mh), mh, mnum);
		for (i = 0; i < n_req; i++) {
			move_row(&t, cl, &req[i], &sb);
			table_addf(&t, "%.2f s",
			    p->bchunks[plan->moves[i].chunk].cost);
		}
		table_print(&t, f);
		table_release(&t);
	}
	for (i = 0; i < p->n_chunks; i++)
		after_n[p->bchunks[i].worker]++;
	for (i = 0; i < plan->n_moves; i++) {
		after_n[plan->moves[i].from]--;
		after_n[plan->moves[i].to]++;
	}
	for (i = 0; i < n_cuts; i++) {
		unsigned k;

		after_n[p->bchunks[plan->splits[i]].worker]--;
		for (k = 0; k < cuts[i].parts; k++)
			after_n[cuts[i].to[k]]++;
	}
	fputc('\n', f);
	table_init(&t, ARRAY_SIZE(wh), wh, wnum);
	for (i = 0; i < p->W; i++) {
		table_add(&t, cl->cfg.workers[i].name);
		table_addf(&t, "%zu -> %zu", p->workers[i].n_run, after_n[i]);
		table_addf(&t, "%u", p->workers[i].slots);
		if (p->workers[i].speed > 0)
			table_addf(&t, "%.2f", p->workers[i].speed);
		else
			table_add(&t, "-");
		table_addf(&t, "%.2f s", p->measured[i]);
		table_addf(&t, "%.2f s", plan->before[i]);
		table_addf(&t, "%.2f s", plan->after[i]);
	}
	table_print(&t, f);
	table_release(&t);
	strbuf_reset(&sb);
	format_bytes(&sb, plan->bytes_moved);
	fprintf(f, "ideal %.2f s; slowest predicted %.2f s -> %.2f s; "
	    "%zu move%s, %zu cut%s, %s\n", plan->ideal,
	    balance_makespan(plan->before, p->W),
	    balance_makespan(plan->after, p->W), n_req, n_req == 1 ? "" : "s",
	    n_cuts, n_cuts == 1 ? "" : "s", sb.buf);
	for (i = 0; i < n_cuts; i++) {
		const struct cat_chunk *ch = &p->chunks[plan->splits[i]];
		unsigned k, j;

		strbuf_reset(&sb);
		format_bytes(&sb, ch->bytes);
		fprintf(f, "cut %s (%s, %.2f s alone, %s) into %u parts:",
		    ch->file, sb.buf, p->bchunks[plan->splits[i]].cost,
		    i < plan->n_oversize ? "more than the ideal" :
		    "too big to fit whole", cuts[i].parts);
		for (k = 0; k < cuts[i].parts; k++) {
			unsigned n = 0;

			for (j = 0; j < k; j++)
				if (cuts[i].to[j] == cuts[i].to[k])
					break;
			if (j < k)
				continue;
			for (j = k; j < cuts[i].parts; j++)
				n += cuts[i].to[j] == cuts[i].to[k];
			fprintf(f, "%s %u %s %s", k ? "," : "", n,
			    cuts[i].to[k] == p->bchunks[plan->splits[i]].worker ?
			    "stay on" : "to",
			    cl->cfg.workers[cuts[i].to[k]].name);
		}
		fputc('\n', f);
	}
	strbuf_release(&sb);
	free(after_n);
}

static void
print_json(FILE *f, const struct cluster *cl, const struct prep *p,
    const struct balance_plan *plan, const char *algo, double threshold,
    const struct move_request *req, size_t n_req,
    const struct cut_request *cuts, const struct cut_outcome *cut_out,
    size_t n_cuts, int applied, const struct move_outcome *out,
    double seconds)
{
	struct json j;
	size_t i;

	json_init(&j, f);
	json_object_begin(&j, NULL);
	json_string(&j, "capture", p->run.capture);
	json_int(&j, "run", p->run.id);
	json_string(&j, "command", p->run.command);
	json_string(&j, "algorithm", algo);
	json_double(&j, "threshold", threshold);
	json_double(&j, "ideal", plan->ideal);
	json_double(&j, "slowest_before", balance_makespan(plan->before, p->W));
	json_double(&j, "slowest_after", balance_makespan(plan->after, p->W));
	json_array_begin(&j, "moves");
	for (i = 0; i < n_req; i++) {
		json_object_begin(&j, NULL);
		json_string(&j, "chunk", req[i].file);
		json_string(&j, "from", cl->cfg.workers[req[i].from].name);
		json_string(&j, "to", cl->cfg.workers[req[i].to].name);
		json_uint(&j, "bytes", req[i].bytes);
		json_double(&j, "cost", p->bchunks[plan->moves[i].chunk].cost);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_array_begin(&j, "workers");
	for (i = 0; i < p->W; i++) {
		json_object_begin(&j, NULL);
		json_string(&j, "name", cl->cfg.workers[i].name);
		json_uint(&j, "chunks", p->workers[i].n_run);
		json_uint(&j, "slots", p->workers[i].slots);
		if (p->workers[i].speed > 0)
			json_double(&j, "speed", p->workers[i].speed);
		else
			json_null(&j, "speed");
		json_double(&j, "measured", p->measured[i]);
		json_double(&j, "predicted", plan->before[i]);
		json_double(&j, "after", plan->after[i]);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_array_begin(&j, "cuts");
	for (i = 0; i < n_cuts; i++) {
		unsigned k;

		json_object_begin(&j, NULL);
		json_string(&j, "chunk", p->chunks[plan->splits[i]].file);
		json_uint(&j, "bytes", p->chunks[plan->splits[i]].bytes);
		json_double(&j, "cost", p->bchunks[plan->splits[i]].cost);
		json_uint(&j, "parts", cuts[i].parts);
		json_string(&j, "why", i < plan->n_oversize ?
		    "longer than the ideal" : "too big to fit whole");
		json_array_begin(&j, "to");
		for (k = 0; k < cuts[i].parts; k++)
			json_string(&j, NULL, cl->cfg.workers[cuts[i].to[k]].name);
		json_array_end(&j);
		json_bool(&j, "applied", cut_out[i].parts > 0);
		json_uint(&j, "bytes_copied", cut_out[i].bytes);
		json_uint(&j, "bytes_sent", cut_out[i].sent);
		json_array_begin(&j, "files");
		for (k = 0; k < cut_out[i].parts; k++)
			json_string(&j, NULL, cut_out[i].files[k]);
		json_array_end(&j);
		json_object_end(&j);
	}
	json_array_end(&j);
	if (applied) {
		json_object_begin(&j, "applied");
		json_uint(&j, "moved", out->done + out->left);
		json_uint(&j, "failed", out->failed);
		json_uint(&j, "old_copies_left", out->left);
		json_uint(&j, "bytes", out->bytes);
		json_uint(&j, "worker_to_worker", out->peer);
		json_double(&j, "seconds", seconds);
		if (out->error[0])
			json_string(&j, "error", out->error);
		json_object_end(&j);
	} else {
		json_null(&j, "applied");
	}
	json_object_end(&j);
	json_finish(&j);
}

/* After moving or cutting: a worker's failure is reported and the plan
 * goes on (those chunks stay as they were); any other failure stops it.
 * Returns whether to stop. */
static int
step_failed(int r, struct progress *pr, struct sc_err *e, int *status)
{
	if (r == 0)
		return 0;
	if (r != SC_ERR_WORKER)
		progress_done(pr);
	*status = cli_report(e, NULL);
	return r != SC_ERR_WORKER;
}

/* balance --even of one capture: its chunks shared out by bytes. */
static int
even_capture(struct cluster *cl, const struct cat_capture *cap,
    const struct balance_request *o, struct json *j)
{
	static const char *mh[] = { "chunk", "from", "to", "bytes" };
	static const int mnum[] = { 0, 0, 0, 1 };
	static const char *wh[] = { "worker", "chunks", "bytes" };
	static const int wnum[] = { 0, 1, 1 };
	size_t W = cl->cfg.n_workers, n_chunks = 0, n_pl = 0, n_mv, i, k;
	struct cat_chunk *chunks = NULL;
	struct cat_placement *pl = NULL;
	struct balance_move *mv = NULL;
	struct move_request *req = NULL;
	struct move_outcome out;
	uint64_t *bytes = NULL, *before, *after, moved = 0;
	size_t *n_before, *n_after;
	unsigned char *holds = NULL, *pinned = NULL;
	struct strbuf sb = STRBUF_INIT;
	struct sc_err e;
	struct table t;
	int r, status = 0;

	memset(&out, 0, sizeof(out));
	sc_err_clear(&e);
	if ((r = catalog_chunks(cl->cat, cap->id, &chunks, &n_chunks, &e)) != 0 ||
	    (r = catalog_placements(cl->cat, cap->id, &pl, &n_pl, &e)) != 0) {
		free(chunks);
		return cli_report(&e, NULL);
	}
	bytes = xcalloc(n_chunks + 1, sizeof(*bytes));
	pinned = xcalloc(n_chunks + 1, 1);
	holds = xcalloc(n_chunks * W + 1, 1);
	before = xcalloc(2 * W + 1, sizeof(*before));
	after = before + W;
	n_before = xcalloc(2 * W + 1, sizeof(*n_before));
	n_after = n_before + W;
	for (i = 0; i < n_chunks; i++) {
		bytes[i] = chunks[i].bytes;
		pinned[i] = chunks[i].part != 0;
	}
	for (k = 0; k < n_pl; k++) {
		size_t w = worker_index(cl, pl[k].worker);

		for (i = 0; i < n_chunks && chunks[i].id != pl[k].chunk_id; i++)
			;
		if (w != BALANCE_NONE && i < n_chunks && pl[k].current)
			holds[i * W + w] = 1;
	}
	for (i = 0; i < n_chunks; i++)
		for (k = 0; k < W; k++)
			if (holds[i * W + k]) {
				before[k] += bytes[i];
				n_before[k]++;
			}
	n_mv = balance_even(bytes, pinned, holds, n_chunks, W, &mv);
	req = xcalloc(n_mv + 1, sizeof(*req));
	for (i = 0; i < n_mv; i++) {
		const struct cat_chunk *ch = &chunks[mv[i].chunk];

		req[i].chunk_id = ch->id;
		snprintf(req[i].file, sizeof(req[i].file), "%s", ch->file);
		snprintf(req[i].digest, sizeof(req[i].digest), "%s", ch->digest);
		req[i].bytes = ch->bytes;
		req[i].from = mv[i].from;
		req[i].to = mv[i].to;
		moved += ch->bytes;
	}
	for (i = 0; i < n_chunks; i++)
		for (k = 0; k < W; k++)
			if (holds[i * W + k]) {
				after[k] += bytes[i];
				n_after[k]++;
			}
	if (j == NULL) {
		fprintf(o->report, "balance %s --even: %zu chunks by bytes over "
		    "%zu workers\n", cap->name, n_chunks, W);
		if (n_mv > 0) {
			fputc('\n', o->report);
			table_init(&t, ARRAY_SIZE(mh), mh, mnum);
			for (i = 0; i < n_mv; i++)
				move_row(&t, cl, &req[i], &sb);
			table_print(&t, o->report);
			table_release(&t);
		}
		fputc('\n', o->report);
		table_init(&t, ARRAY_SIZE(wh), wh, wnum);
		for (k = 0; k < W; k++) {
			table_add(&t, cl->cfg.workers[k].name);
			table_addf(&t, "%zu -> %zu", n_before[k], n_after[k]);
			strbuf_reset(&sb);
			format_bytes(&sb, before[k]);
			strbuf_addstr(&sb, " -> ");
			format_bytes(&sb, after[k]);
			table_add(&t, sb.buf);
		}
		table_print(&t, o->report);
		table_release(&t);
		strbuf_reset(&sb);
		format_bytes(&sb, moved);
		fprintf(o->report, "%zu move%s, %s\n", n_mv, n_mv == 1 ? "" :
		    "s", sb.buf);
	}
	if (!o->dry_run && n_mv > 0) {
		r = move_apply(cl, cap->name, req, n_mv, &cli_signal, &out, &e);
		if (r != 0)
			status = cli_report(&e, NULL);
		if (j == NULL && (r == 0 || r == SC_ERR_WORKER)) {
			strbuf_reset(&sb);
			format_bytes(&sb, out.bytes);
			fprintf(o->report, "moved %zu chunk%s (%s)%s\n",
			    out.done + out.left, out.done + out.left == 1 ?
			    "" : "s", sb.buf, out.failed ? ", some failed and "
			    "stay where they were" : "");
		}
	} else if (o->dry_run && n_mv > 0 && j == NULL) {
		fprintf(o->report, "dry run: nothing moved\n");
	}
	if (j != NULL) {
		json_object_begin(j, NULL);
		json_string(j, "capture", cap->name);
		json_array_begin(j, "moves");
		for (i = 0; i < n_mv; i++) {
			json_object_begin(j, NULL);
			json_string(j, "chunk", req[i].file);
			json_string(j, "from", cl->cfg.workers[req[i].from].name);
			json_string(j, "to", cl->cfg.workers[req[i].to].name);
			json_uint(j, "bytes", req[i].bytes);
			json_object_end(j);
		}
		json_array_end(j);
		json_array_begin(j, "workers");
		for (k = 0; k < W; k++) {
			json_object_begin(j, NULL);
			json_string(j, "name", cl->cfg.workers[k].name);
			json_uint(j, "chunks_before", n_before[k]);
			json_uint(j, "chunks_after", n_after[k]);
			json_uint(j, "bytes_before", before[k]);
			json_uint(j, "bytes_after", after[k]);
			json_object_end(j);
		}
		json_array_end(j);
		if (!o->dry_run && n_mv > 0) {
			json_object_begin(j, "applied");
			json_uint(j, "moved", out.done + out.left);
			json_uint(j, "failed", out.failed);
			json_uint(j, "bytes", out.bytes);
			json_object_end(j);
		} else {
			json_null(j, "applied");
		}
		json_object_end(j);
	}
	strbuf_release(&sb);
	free(chunks);
	free(pl);
	free(mv);
	free(req);
	free(bytes);
	free(pinned);
	free(holds);
	free(before);
	free(n_before);
	return status;
}

/* balance --even of capture name, or of every capture (NULL). */
static int
balance_even_captures(const char *name, const struct balance_request *o)
{
	struct cluster cl;
	struct cat_capture *caps = NULL;
	struct sc_err e;
	struct json j;
	size_t n = 0, i;
	int status, st;

	if ((status = cli_cluster_open(&cl, o->dry_run ? 0 : CLUSTER_LOCK)) != 0)
		return status;
	sc_err_clear(&e);
	if (name != NULL) {
		caps = xcalloc(1, sizeof(*caps));
		if (catalog_capture_get(cl.cat, name, &caps[0], &e) != 0) {
			status = cli_report(&e, NULL);
			goto out;
		}
		n = 1;
	} else if (catalog_captures(cl.cat, &caps, &n, &e) != 0) {
		status = cli_report(&e, NULL);
		goto out;
	}
	if (o->json) {
		json_init(&j, o->report);
		json_array_begin(&j, NULL);
	}
	for (i = 0; i < n && !cli_signal; i++) {
		if (i > 0 && !o->json)
			fputc('\n', o->report);
		st = even_capture(&cl, &caps[i], o, o->json ? &j : NULL);
		if (status == 0)
			status = st;
	}
	if (o->json) {
		json_array_end(&j);
		json_finish(&j);
	}
	if (cli_signal && status == 0)
		status = cli_signal_status();
out:
	free(caps);
	cluster_close(&cl);
	return status;
}

int
balance_capture(const char *name, const struct balance_request *o)
{
	struct cluster cl;
	struct cat_capture cap;
	struct balance_input in;
	struct balance_plan plan;
	struct move_request *req = NULL;
	struct cut_request *cuts = NULL;
	struct cut_outcome *cut_out = NULL;
	struct move_outcome out;
	struct prep p;
	struct sc_err e;
	const char *algo = o->algo == BALANCE_PAPER ? "paper" : "default";
	double threshold, t0 = 0;
	size_t n_req = 0, n_cuts = 0, i;
	int status, r, applied = 0;

	memset(&out, 0, sizeof(out));
	memset(&p, 0, sizeof(p));
	balance_plan_init(&plan);
	if ((status = cli_cluster_open(&cl, o->dry_run ? 0 : CLUSTER_LOCK)) != 0)
		return status;
	sc_err_clear(&e);
	if ((r = catalog_capture_get(cl.cat, name, &cap, &e)) != 0 ||
	    (r = prepare(&cl, &cap, &p, &e)) != 0) {
		status = cli_report(&e, NULL);
		goto out;
	}
	threshold = o->threshold >= 0 ? o->threshold : cl.cfg.threshold;
	memset(&in, 0, sizeof(in));
	in.algo = o->algo;
	in.workers = p.workers;
	in.n_workers = p.W;
	in.chunks = p.bchunks;
	in.n_chunks = p.n_chunks;
	in.threshold = threshold;
	in.seed = o->have_seed ? o->seed : (uint64_t)p.run.id;
	if (balance_plan(&in, &plan) != 0) {
		cli_error("cannot plan: the placement of '%s' is inconsistent",
		    name);
		status = 1;
		goto out;
	}
	/* a worker that already holds a replica of the chunk needs no copy;
	 * such a move would only drop one. Parts of chunks to cut are placed
	 * by the cut. */
	req = xcalloc(plan.n_moves + 1, sizeof(*req));
	cuts = xcalloc(plan.n_splits + 1, sizeof(*cuts));
	cut_out = xcalloc(plan.n_splits + 1, sizeof(*cut_out));
	n_cuts = plan.n_splits;
	for (i = 0; i < n_cuts; i++) {
		unsigned k;

		cuts[i].chunk_id = p.chunks[plan.splits[i]].id;
		cuts[i].parts = plan.split_parts[i] > CUT_MAX_PARTS ?
		    CUT_MAX_PARTS : plan.split_parts[i];
		for (k = 0; k < cuts[i].parts; k++)
			cuts[i].to[k] = p.bchunks[plan.splits[i]].worker;
	}
	plan.bytes_moved = 0;
	for (i = 0; i < plan.n_moves; i++) {
		const struct balance_move *m = &plan.moves[i];
		const struct cat_chunk *ch;
		size_t k;

		if (m->chunk >= p.n_chunks) {
			for (k = 0; k < n_cuts; k++)
				if (m->chunk >= plan.split_first[k] &&
				    m->chunk - plan.split_first[k] <
				    cuts[k].parts)
					break;
			if (k < n_cuts)
				cuts[k].to[m->chunk - plan.split_first[k]] =
				    m->to;
			continue;
		}
		ch = &p.chunks[m->chunk];
		if (p.holds[m->chunk * p.W + m->to])
			continue;
		plan.moves[n_req] = *m;
		req[n_req].chunk_id = ch->id;
		snprintf(req[n_req].file, sizeof(req[n_req].file), "%s",
		    ch->file);
		snprintf(req[n_req].digest, sizeof(req[n_req].digest), "%s",
		    ch->digest);
		req[n_req].bytes = ch->bytes;
		req[n_req].from = m->from;
		req[n_req].to = m->to;
		n_req++;
	}
	plan.n_moves = n_req;
	for (i = 0; i < n_req; i++)
		plan.bytes_moved += req[i].bytes;
	/* a cut's parts are new files, but a worker that holds the chunk
	 * builds them from its copy (rsync sends what differs): the bytes
	 * that change place are those of the parts that go elsewhere */
	for (i = 0; i < n_cuts; i++) {
		unsigned k;

		for (k = 0; k < cuts[i].parts; k++)
			if (!p.holds[plan.splits[i] * p.W + cuts[i].to[k]])
				plan.bytes_moved += p.chunks[plan.splits[i]].bytes /
				    cuts[i].parts;
	}
	if (!o->json)
		print_plan(o->report, &cl, &p, &plan, algo, threshold, req,
		    n_req, cuts, n_cuts);
	if (!o->dry_run && n_req + n_cuts > 0) {
		struct progress pr;

		progress_init(&pr, !o->json);
		t0 = monotonic_seconds();
		applied = 1;
		if (n_req > 0) {
			progress_update(&pr, 1, "moving %zu chunk%s...", n_req,
			    n_req == 1 ? "" : "s");
			r = move_apply(&cl, name, req, n_req, &cli_signal, &out,
			    &e);
			if (step_failed(r, &pr, &e, &status))
				goto out;
		}
		for (i = 0; i < n_cuts; i++) {
			progress_update(&pr, 1, "cutting %s into %u parts...",
			    p.chunks[plan.splits[i]].file, cuts[i].parts);
			r = cut_apply(&cl, name, &cuts[i], &cli_signal,
			    &cut_out[i], &e);
			if (r == SC_ERR_LIMIT) {
				/* one packet (or flow): nothing to cut,
				 * nothing wrong */
				cli_warning("%s", e.msg);
				continue;
			}
			if (step_failed(r, &pr, &e, &status))
				goto out;
		}
		progress_done(&pr);
	}
	if (o->json) {
		print_json(o->report, &cl, &p, &plan, algo, threshold, req, n_req,
		    cuts, cut_out, n_cuts, applied, &out,
		    applied ? monotonic_seconds() - t0 : 0);
	} else if (applied) {
		struct strbuf sb = STRBUF_INIT;
		const char *sep = "";

		if (n_req > 0) {
			format_bytes(&sb, out.bytes);
			fprintf(o->report, "moved %zu chunk%s (%s",
			    out.done + out.left,
			    out.done + out.left == 1 ? "" : "s", sb.buf);
			if (out.peer)
				fprintf(o->report, ", %zu worker to worker",
				    out.peer);
			fputc(')', o->report);
			if (out.failed)
				fprintf(o->report, ", %zu failed and stay "
				    "where they were", out.failed);
			if (out.left)
				fprintf(o->report, ", %zu old copies could not "
				    "be removed yet", out.left);
			sep = "; ";
		}
		for (i = 0; i < n_cuts; i++) {
			if (cut_out[i].parts == 0)
				continue;
			strbuf_reset(&sb);
			format_bytes(&sb, cut_out[i].bytes);
			strbuf_addstr(&sb, " to other workers, ");
			format_bytes(&sb, cut_out[i].sent);
			fprintf(o->report, "%scut %s into %u parts (%s .. %s; "
			    "%s sent)", sep, p.chunks[plan.splits[i]].file,
			    cut_out[i].parts, cut_out[i].files[0],
			    cut_out[i].files[cut_out[i].parts - 1], sb.buf);
			if (cut_out[i].left)
				fprintf(o->report, ", its old copies could not "
				    "all be removed yet");
			sep = "; ";
		}
		if (*sep)
			fprintf(o->report, " in %.2f s\n",
			    monotonic_seconds() - t0);
		else
			fprintf(o->report, "nothing was moved or cut\n");
		strbuf_release(&sb);
	} else if (o->dry_run && n_req + n_cuts > 0) {
		fprintf(o->report, "dry run: nothing moved\n");
	}
out:
	free(req);
	free(cuts);
	free(cut_out);
	balance_plan_release(&plan);
	prep_release(&p);
	cluster_close(&cl);
	return status;
}

static int
cmd_balance(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "algorithm", required_argument, NULL, 'a' },
		{ "threshold", required_argument, NULL, 't' },
		{ "seed", required_argument, NULL, 's' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'J' },
		{ "even", no_argument, NULL, 'E' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct balance_request o;
	int c, status, even = 0;

	memset(&o, 0, sizeof(o));
	o.threshold = -1;
	o.report = stdout;
	while ((c = getopt_long(argc, argv, "nh", longopts, NULL)) != -1) {
		switch (c) {
		case 'a':
			if (balance_parse_algorithm(optarg, &o.algo) != 0)
				return cli_usage_error(BALANCE_USAGE, "bad "
				    "--algorithm '%s': want default or paper",
				    optarg);
			break;
		case 't':
			if (parse_percent(optarg, &o.threshold) != 0)
				return cli_usage_error(BALANCE_USAGE, "bad "
				    "--threshold '%s': want a percentage such "
				    "as 10%%", optarg);
			break;
		case 's':
			if (parse_uint(optarg, 0, UINT64_MAX, &o.seed) != 0)
				return cli_usage_error(BALANCE_USAGE, "bad "
				    "--seed '%s'", optarg);
			o.have_seed = 1;
			break;
		case 'n':
			o.dry_run = 1;
			break;
		case 'J':
			o.json = 1;
			break;
		case 'E':
			even = 1;
			break;
		case 'h':
			return cli_help(balance_help);
		default:
			return cli_usage_error(BALANCE_USAGE, "bad option");
		}
	}
	if (even) {
		if (argc - optind > 1)
			return cli_usage_error(BALANCE_USAGE, "--even takes one "
			    "capture name, or none for every capture");
		cli_catch_signals();
		status = balance_even_captures(argc - optind == 1 ?
		    argv[optind] : NULL, &o);
		return cli_finish_stdout(status);
	}
	if (argc - optind != 1)
		return cli_usage_error(BALANCE_USAGE, "want one capture name");
	cli_catch_signals();
	status = balance_capture(argv[optind], &o);
	return cli_finish_stdout(status);
}

int
balance_parse_algorithm(const char *s, enum balance_algo *out)
{
	if (strcmp(s, "default") == 0)
		*out = BALANCE_DEFAULT;
	else if (strcmp(s, "paper") == 0)
		*out = BALANCE_PAPER;
	else
		return SC_ERR_USAGE;
	return 0;
}

const struct command cmd_balance_entry = {
	"balance", cmd_balance,
	"move chunks from slow workers to fast ones, from the last run",
	balance_help,
};
