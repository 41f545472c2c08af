/* balance.c - the balancing planner (see balance.h, docs/balance.md). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "balance.h"
#include "util.h"
#include "xalloc.h"

/* A move must shorten the slowest worker's predicted time by half the
 * threshold, and this share at least, of the ideal time: copying 25 MB
 * for less is not worth it, and a gain within the noise of two runs of
 * the same query (5-10 % on a busy machine) is not one. */
#define MIN_GAIN 0.01
/* Moves whose results are this close (share of the ideal) are taken as
 * equally good; the one with fewer bytes wins. */
#define SAME_RESULT 0.02
#define MAX_PARTS 64
/* A chunk is not cut to balance finer into parts smaller than this: the
 * tool's start-up and a part's catalog row are not worth less. */
#define CUT_MIN_BYTES ((uint64_t)1 << 20)
/* Plans start only when the slowest predicted time is past the threshold
 * by this many of its standard errors: a worker that only seems slow,
 * because its chunks' costs are noisy, is no reason to copy 25 MB. But
 * never by more than this part of the threshold: on a worker whose costs
 * spread by 10-15 % from run to run (the lab's, on a busy host) twice
 * the error held a worker at 1.12-1.18x the ideal for six queries. */
#define TRIGGER_SE 2.0
#define TRIGGER_NOISE_MAX 0.5
/* A chunk smaller than two moves' gain may move for half its own time */
#define MOVE_OWN_GAIN 0.5

void
balance_plan_init(struct balance_plan *plan)
{
	memset(plan, 0, sizeof(*plan));
}

void
balance_plan_release(struct balance_plan *plan)
{
	free(plan->moves);
	free(plan->splits);
	free(plan->split_parts);
	free(plan->split_first);
	free(plan->before);
	free(plan->after);
	balance_plan_init(plan);
}

double
balance_makespan(const double *times, size_t n)
{
	double m = 0;
	size_t i;

	for (i = 0; i < n; i++)
		if (times[i] > m)
			m = times[i];
	return m;
}

/* splitmix64: small, seedable, good enough for choosing chunks. */
static uint64_t
next_random(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15u);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

/* A uniform integer in [0, n), n > 0, without modulo bias. */
static size_t
random_below(uint64_t *state, size_t n)
{
	uint64_t limit = UINT64_MAX - UINT64_MAX % n, r;

	do
		r = next_random(state);
	while (r >= limit);
	return (size_t)(r % n);
}

/* The model both algorithms are judged by. */
struct model {
	size_t n_workers, n_chunks;
	double *rate;           /* a worker's speed times its slots */
	double *speed;          /* of one slot */
	double *work;           /* a chunk's cost on a slot of speed 1 */
};

/* A value with a weight, for weighted medians. */
struct weighed {
	double v, w;
};

static int
cmp_weighed(const void *a, const void *b)
{
	double x = ((const struct weighed *)a)->v;
	double y = ((const struct weighed *)b)->v;

	return x < y ? -1 : x > y;
}

/* The weighted median of v[0..n), n > 0; sorts v. */
static double
weighted_median(struct weighed *v, size_t n)
{
	double total = 0, run = 0;
	size_t i;

	qsort(v, n, sizeof(*v), cmp_weighed);
	for (i = 0; i < n; i++)
		total += v[i].w;
	for (i = 0; i < n; i++) {
		run += v[i].w;
		if (run >= total / 2)
			return v[i].v;
	}
	return v[n - 1].v;
}

/*
 * Speeds nobody measured (no chunk of the worker ran elsewhere too) are
 * estimated from what a byte typically cost on each worker: chunks are
 * placed without regard to their cost, so a worker on which a byte
 * typically took twice what it took on all of them is taken as half as
 * fast. Typically: the median of the chunks' log cost per byte, each
 * chunk weighing its bytes - the median so that one dear chunk does not
 * make its worker look slow, the weights so that the small last chunk of
 * a capture, whose time is mostly the tool starting, counts for little.
 *
 * How far to believe a worker's median is an empirical-Bayes question: it
 * is the truth plus noise of variance about (pi/2) s^2 / n (s the robust
 * spread, 1.4826 times the median absolute deviation, of the chunks'
 * log cost per byte within workers; n its chunks, counted by bytes); the
 * workers' true log speeds spread with variance t^2, which is what their
 * medians spread beyond that noise. Each estimate is drawn towards the
 * common speed by t^2 / (t^2 + noise): all the way when the workers
 * differ no more than chance would make them (costs that vary by chunk,
 * as DNS density does, on identical workers), hardly at all when every
 * chunk of one worker took far longer than anybody else's (a slow
 * worker). The estimates are put on the scale of the measured speeds.
 */
static void
model_speeds(struct model *m, const struct balance_input *in)
{
	struct weighed *all = xcalloc(in->n_chunks + 1, sizeof(*all));
	struct weighed *by = xcalloc(in->n_chunks + 1, sizeof(*by));
	struct weighed *tmp = xcalloc(in->n_chunks + 1, sizeof(*tmp));
	size_t *start = xcalloc(in->n_workers + 2, sizeof(*start));
	double *typical = xcalloc(in->n_workers + 1, sizeof(*typical));
	double *dev = xcalloc(in->n_workers + 1, sizeof(*dev));
	double *n_eff = xcalloc(in->n_workers + 1, sizeof(*n_eff));
	double center = 0, log_scale = 0, within = 0, dof = 0, noise = 0;
	double mean_dev = 0, between = 0, spread;
	size_t i, k, n_all = 0, n_scale = 0, n_dev = 0;

	/* log cost per byte, by bytes, grouped by worker (a counting sort) */
	for (i = 0; i < in->n_chunks; i++)
		if (in->chunks[i].cost > 0 && in->chunks[i].bytes > 0)
			start[in->chunks[i].worker + 2]++;
	for (i = 2; i < in->n_workers + 2; i++)
		start[i] += start[i - 1];
	for (i = 0; i < in->n_chunks; i++) {
		const struct balance_chunk *c = &in->chunks[i];
		struct weighed x;

		if (c->cost <= 0 || c->bytes == 0)
			continue;
		x.w = (double)c->bytes;
		x.v = log(c->cost / x.w);
		by[start[c->worker + 1]++] = x;
		all[n_all++] = x;
	}
	/* now worker w's are by[start[w] .. start[w + 1]) */
	if (n_all)
		center = weighted_median(all, n_all);
	for (i = 0; i < in->n_workers; i++) {
		struct weighed *v = by + start[i];
		size_t n = start[i + 1] - start[i];
		double med, mad, s, w = 0, w2 = 0;

		if (n == 0)
			continue;
		med = weighted_median(v, n);
		for (k = 0; k < n; k++) {
			tmp[k].v = fabs(v[k].v - med);
			tmp[k].w = v[k].w;
			w += v[k].w;
			w2 += v[k].w * v[k].w;
		}
		mad = weighted_median(tmp, n);
		s = 1.4826 * mad;
		n_eff[i] = w * w / w2;
		within += s * s * n_eff[i];
		dof += n_eff[i] - 1;
		dev[i] = center - med;
		mean_dev += dev[i];
		n_dev++;
	}
	within = dof > 0 ? within / dof : 0;
	if (n_dev > 1) {
		mean_dev /= (double)n_dev;
		for (i = 0; i < in->n_workers; i++) {
			if (n_eff[i] <= 0)
				continue;
			between += (dev[i] - mean_dev) * (dev[i] - mean_dev);
			noise += BALANCE_MEDIAN_NOISE * within / n_eff[i];
		}
		between /= (double)(n_dev - 1);
		noise /= (double)n_dev;
	}
	/* t^2: what the workers' medians spread beyond chance */
	spread = between > noise ? between - noise : 0;
	for (i = 0; i < in->n_workers; i++) {
		double weight;

		if (n_eff[i] <= 0)
			continue;
		weight = spread > 0 ? spread / (spread +
		    BALANCE_MEDIAN_NOISE * within / n_eff[i]) : 0;
		typical[i] = exp(weight * dev[i]);
		if (in->workers[i].speed > 0) {
			log_scale += log(in->workers[i].speed / typical[i]);
			n_scale++;
		}
	}
	if (n_scale)
		log_scale /= (double)n_scale;
	for (i = 0; i < in->n_workers; i++) {
		const struct balance_worker *w = &in->workers[i];

		if (w->speed > 0)
			m->speed[i] = w->speed;
		else if (typical[i] > 0)
			m->speed[i] = typical[i] * exp(log_scale);
		else
			m->speed[i] = 1;
		m->rate[i] = m->speed[i] * (w->slots ? w->slots : 1);
	}
	free(all);
	free(by);
	free(tmp);
	free(start);
	free(typical);
	free(dev);
	free(n_eff);
}

static void
model_build(struct model *m, const struct balance_input *in)
{
	double known_work = 0, known_bytes = 0;
	size_t i;

	m->n_workers = in->n_workers;
	m->n_chunks = in->n_chunks;
	m->rate = xcalloc(in->n_workers + 1, sizeof(*m->rate));
	m->speed = xcalloc(in->n_workers + 1, sizeof(*m->speed));
	m->work = xcalloc(in->n_chunks + 1, sizeof(*m->work));
	model_speeds(m, in);
	for (i = 0; i < in->n_chunks; i++) {
		const struct balance_chunk *c = &in->chunks[i];

		if (c->cost >= 0) {
			m->work[i] = c->cost * m->speed[c->worker];
			known_work += m->work[i];
			known_bytes += (double)c->bytes;
		}
	}
	/* A chunk without a measured cost: the measured cost of a byte
	 * elsewhere; failing that, its worker's mean job time. */
	for (i = 0; i < in->n_chunks; i++) {
		const struct balance_chunk *c = &in->chunks[i];
		const struct balance_worker *w = &in->workers[c->worker];

		if (c->cost >= 0)
			continue;
		if (known_bytes > 0)
			m->work[i] = known_work / known_bytes * (double)c->bytes;
		else if (w->n_run > 0)
			m->work[i] = w->completion * m->rate[c->worker] /
			    (double)w->n_run;
	}
}

static void
model_release(struct model *m)
{
	free(m->rate);
	free(m->speed);
	free(m->work);
}

/* Predicted completion time of every worker with chunk i on assign[i]. */
static void
predict(const struct model *m, const size_t *assign, double *times)
{
	size_t i;

	for (i = 0; i < m->n_workers; i++)
		times[i] = 0;
	for (i = 0; i < m->n_chunks; i++)
		times[assign[i]] += m->work[i];
	for (i = 0; i < m->n_workers; i++)
		times[i] = m->rate[i] > 0 ? times[i] / m->rate[i] : 0;
}

static void
add_move(struct balance_plan *plan, const struct balance_input *in,
    size_t chunk, size_t from, size_t to)
{
	ALLOC_GROW(plan->moves, plan->n_moves + 1, plan->alloc_moves);
	plan->moves[plan->n_moves].chunk = chunk;
	plan->moves[plan->n_moves].from = from;
	plan->moves[plan->n_moves].to = to;
	plan->n_moves++;
	plan->bytes_moved += in->chunks[chunk].bytes;
}

/* Sorts the workers in list by their time t, slowest first (descending)
 * or fastest first; equal times keep index order. Lists are short. */
static void
sort_workers(size_t *list, size_t n, const double *t, int descending)
{
	size_t i, j;

	for (i = 1; i < n; i++) {
		size_t x = list[i];

		for (j = i; j > 0; j--) {
			size_t y = list[j - 1];
			int x_first = descending ? t[x] > t[y] : t[x] < t[y];

			if (!x_first && !(t[x] == t[y] && x < y))
				break;
			list[j] = y;
		}
		list[j] = x;
	}
}

/*
 * The paper's algorithm, step by step as DESIGN.md states it.
 */
static void
plan_paper(const struct balance_input *in, size_t *assign,
    struct balance_plan *plan)
{
	double *t = xcalloc(in->n_workers + 1, sizeof(*t));
	size_t *slow = xcalloc(in->n_workers + 1, sizeof(*slow));
	size_t *fast = xcalloc(in->n_workers + 1, sizeof(*fast));
	size_t *pool = xcalloc(in->n_chunks + 1, sizeof(*pool));
	size_t n_slow = 0, n_fast = 0, i, k;
	double avg = 0, p = in->threshold;
	uint64_t rng = in->seed;

	for (i = 0; i < in->n_workers; i++) {
		t[i] = in->workers[i].completion;
		avg += t[i];
	}
	avg = in->n_workers ? avg / (double)in->n_workers : 0;
	for (i = 0; i < in->n_workers; i++) {
		if (t[i] > avg * (1 + p))
			slow[n_slow++] = i;
		else if (t[i] < avg * (1 - p) && !in->workers[i].closed)
			fast[n_fast++] = i;
	}
	sort_workers(slow, n_slow, t, 1);
	sort_workers(fast, n_fast, t, 0);

	for (k = 0; k < n_slow && k < n_fast; k++) {
		size_t s = slow[k], f = fast[k], n_pool = 0, want, j;
		size_t n_s = in->workers[s].n_run;
		double per, x;

		if (n_s == 0 || t[s] <= 0)
			continue;
		per = t[s] / (double)n_s;
		/* ceil, with the rounding of the division forgiven: 3.0000001
		 * from (T_s - avg) / per is 3 */
		x = (t[s] - avg) / per;
		want = (size_t)ceil(x - 1e-9);
		for (j = 0; j < in->n_chunks; j++)
			if (assign[j] == s && !in->chunks[j].pinned)
				pool[n_pool++] = j;
		if (want > n_pool)
			want = n_pool;
		/* want chunks at random: a partial Fisher-Yates shuffle */
		for (j = 0; j < want; j++) {
			size_t r = j + random_below(&rng, n_pool - j), c;

			c = pool[r];
			pool[r] = pool[j];
			pool[j] = c;
			assign[c] = f;
			add_move(plan, in, c, s, f);
		}
	}
	free(t);
	free(slow);
	free(fast);
	free(pool);
}

/*
 * The default algorithm: greedy on the model, the slowest worker first.
 */

/* The chunks each worker holds in the plan so far. */
struct holding {
	size_t **list;
	size_t *n, *alloc;
};

static void
holding_add(struct holding *h, size_t worker, size_t chunk)
{
	ALLOC_GROW(h->list[worker], h->n[worker] + 1, h->alloc[worker]);
	h->list[worker][h->n[worker]++] = chunk;
}

/* Above this many workers a chunk is tried on the DEST_CANDIDATES that
 * would end soonest with a chunk of the mean size, not on every one. */
#define ALL_DESTINATIONS 64
#define DEST_CANDIDATES 32

/* The destinations worth trying for chunks of worker s: all of them, or
 * of many the few that would end soonest. Returns how many. */
static size_t
destinations(const struct balance_input *in, const struct model *m,
    const double *times, size_t s, double mean_work, size_t *dest,
    double *key)
{
	size_t n = 0, d, i;

	for (d = 0; d < in->n_workers; d++) {
		double k;

		if (d == s || in->workers[d].closed || m->rate[d] <= 0)
			continue;
		k = times[d] + mean_work / m->rate[d];
		if (in->n_workers <= ALL_DESTINATIONS) {
			dest[n++] = d;
			continue;
		}
		/* keep the DEST_CANDIDATES smallest keys, sorted */
		if (n == DEST_CANDIDATES && k >= key[n - 1])
			continue;
		if (n < DEST_CANDIDATES)
			n++;
		for (i = n - 1; i > 0 && key[i - 1] > k; i--) {
			key[i] = key[i - 1];
			dest[i] = dest[i - 1];
		}
		key[i] = k;
		dest[i] = d;
	}
	return n;
}

/* Records that chunk c is to be cut into parts, numbered from first. */
static void
add_split(struct balance_plan *plan, size_t c, unsigned parts, size_t first)
{
	size_t k = plan->n_splits;

	ALLOC_GROW(plan->splits, k + 1, plan->alloc_splits);
	plan->split_parts = xreallocarray(plan->split_parts,
	    plan->alloc_splits, sizeof(*plan->split_parts));
	plan->split_first = xreallocarray(plan->split_first,
	    plan->alloc_splits, sizeof(*plan->split_first));
	plan->splits[k] = c;
	plan->split_parts[k] = parts;
	plan->split_first[k] = first;
	plan->n_splits++;
}

/* A chunk that alone takes longer than the ideal, even on the fastest
 * slot, keeps the time above the ideal wherever it goes: it is to be cut
 * into parts of at most half the ideal each. */
static void
plan_splits(const struct balance_input *in, const struct model *m,
    struct balance_plan *plan)
{
	double max_speed = 0;
	size_t i, next = in->n_chunks;

	if (plan->ideal <= 0)
		return;
	for (i = 0; i < in->n_workers; i++)
		if (m->speed[i] > max_speed)
			max_speed = m->speed[i];
	for (i = 0; i < in->n_chunks; i++) {
		double alone = m->work[i] / max_speed, parts;
		unsigned n;

		if (alone <= plan->ideal || in->chunks[i].pinned)
			continue;
		parts = ceil(2 * alone / plan->ideal);
		n = parts > MAX_PARTS ? MAX_PARTS : (unsigned)parts;
		add_split(plan, i, n, next);
		next += n;
	}
}

/* The input and model with the parts of the chunks to cut appended, each
 * a share of its chunk's bytes and work on its chunk's worker; the chunks
 * themselves stay, marked in cut (not to be moved: their parts carry
 * their work). Parts can be appended while planning (add_parts). */
struct expanded {
	struct balance_input in;
	struct model m;
	struct balance_chunk *chunks;
	size_t *assign;
	unsigned char *cut;
	size_t n_input;         /* the input's chunks: only they are cut */
	size_t alloc;
};

/* Appends the parts of chunk c, all on the worker c is assigned to. */
static void
add_parts(struct expanded *x, size_t c, unsigned parts)
{
	size_t n = x->in.n_chunks, j;

	if (n + parts + 1 > x->alloc) {
		size_t old = x->alloc;

		x->alloc = (n + parts + 1) * 2;
		x->chunks = xreallocarray(x->chunks, x->alloc,
		    sizeof(*x->chunks));
		x->m.work = xreallocarray(x->m.work, x->alloc,
		    sizeof(*x->m.work));
		x->assign = xreallocarray(x->assign, x->alloc,
		    sizeof(*x->assign));
		x->cut = xreallocarray(x->cut, x->alloc, 1);
		memset(x->cut + old, 0, x->alloc - old);
	}
	x->cut[c] = 1;
	for (j = 0; j < parts; j++) {
		size_t p = n + j;

		x->chunks[p] = x->chunks[c];
		x->chunks[p].bytes = x->chunks[c].bytes / parts;
		x->chunks[p].cost = x->chunks[c].cost < 0 ? -1 :
		    x->chunks[c].cost / parts;
		x->chunks[p].came_from = BALANCE_NONE;
		x->m.work[p] = x->m.work[c] / parts;
		x->assign[p] = x->assign[c];
	}
	x->in.chunks = x->chunks;
	x->in.n_chunks = n + parts;
	x->m.n_chunks = n + parts;
}

static void
expand(const struct balance_input *in, const struct model *m,
    const size_t *assign, const struct balance_plan *plan,
    struct expanded *x)
{
	size_t n = in->n_chunks, k;

	x->in = *in;
	x->m = *m;
	x->n_input = n;
	x->alloc = n + 1;
	x->chunks = xcalloc(x->alloc, sizeof(*x->chunks));
	x->m.work = xcalloc(x->alloc, sizeof(*x->m.work));
	x->assign = xcalloc(x->alloc, sizeof(*x->assign));
	x->cut = xcalloc(x->alloc, 1);
	memcpy(x->chunks, in->chunks, n * sizeof(*x->chunks));
	memcpy(x->m.work, m->work, n * sizeof(*x->m.work));
	memcpy(x->assign, assign, n * sizeof(*x->assign));
	x->in.chunks = x->chunks;
	for (k = 0; k < plan->n_splits; k++)
		add_parts(x, plan->splits[k], plan->split_parts[k]);
}

static void
expanded_release(struct expanded *x)
{
	free(x->chunks);
	free(x->m.work);
	free(x->assign);
	free(x->cut);
}

static void
holding_take(struct holding *h, size_t worker, size_t chunk)
{
	size_t k;

	for (k = 0; k < h->n[worker]; k++)
		if (h->list[worker][k] == chunk) {
			h->list[worker][k] = h->list[worker][--h->n[worker]];
			return;
		}
}

/* Moving chunk c from worker s to d: *result, the slower of the two
 * afterwards, and *td, d's time. 0 when the chunk may not go there (it
 * came from d). */
static int
move_result(const struct balance_input *in, const struct model *m,
    const double *times, size_t c, size_t s, size_t d, double *result,
    double *td)
{
	double ts = times[s] - m->work[c] / m->rate[s];

	if (d == in->chunks[c].came_from)
		return 0;
	*td = times[d] + m->work[c] / m->rate[d];
	*result = *td > ts ? *td : ts;
	return 1;
}

/* What moving chunk c off worker s must gain: a move's gain (min_gain),
 * or, for a chunk that takes less than twice that on s, half its time
 * there - else a worker of many small chunks (a big capture: hundreds a
 * worker) could never be unloaded, each chunk alone gaining too little. */
static double
move_need(const struct model *m, size_t c, size_t s, double min_gain)
{
	double own = MOVE_OWN_GAIN * m->work[c] / m->rate[s];

	return own < min_gain ? own : min_gain;
}

/* A single move: chunk c to worker d; result, the slower of the two
 * workers afterwards, td the receiver's time. */
struct pick {
	size_t c, d;
	double result, td;
};

/* The move off worker s that leaves the slower of the two workers lowest
 * (equal results: the receiver left lower); with small, among the moves
 * that gain what move_need asks only. p->c is BALANCE_NONE if none. */
static void
best_move(const struct balance_input *in, const struct model *m,
    const double *times, const struct holding *h, size_t s,
    const size_t *dest, size_t n_dest, int small, double min_gain,
    struct pick *p)
{
	size_t k, bi;

	p->c = p->d = BALANCE_NONE;
	p->result = p->td = INFINITY;
	for (k = 0; k < h->n[s]; k++) {
		size_t c = h->list[s][k];

		for (bi = 0; bi < n_dest; bi++) {
			double td, result;

			if (!move_result(in, m, times, c, s, dest[bi], &result,
			    &td) || (small && result > times[s] -
			    move_need(m, c, s, min_gain)))
				continue;
			if (result < p->result ||
			    (result == p->result && td < p->td)) {
				p->result = result;
				p->td = td;
				p->c = c;
				p->d = dest[bi];
			}
		}
	}
}

/* An exchange: chunk a of worker s for chunk b of worker d; result, the
 * slower of the two afterwards. */
struct exchange {
	size_t a, b, d;
	double result;
};

/* The exchange of chunk a of worker s with a smaller chunk b of another
 * worker d that leaves the slower of the two lowest, if that is below
 * limit. Returns whether there is one. */
static int
find_swap(const struct balance_input *in, const struct model *m,
    const double *times, const struct holding *h, size_t s,
    const size_t *dest, size_t n_dest, double limit, struct exchange *ex)
{
	size_t ka, kb, bi, best_a = BALANCE_NONE, best_b = 0, best_d = 0;
	double best = limit, best_td = INFINITY;

	/* a closed worker may not take the smaller chunk back */
	if (in->workers[s].closed)
		return 0;
	for (ka = 0; ka < h->n[s]; ka++) {
		size_t a = h->list[s][ka];

		for (bi = 0; bi < n_dest; bi++) {
			size_t d = dest[bi];

			if (d == in->chunks[a].came_from)
				continue;
			for (kb = 0; kb < h->n[d]; kb++) {
				size_t b = h->list[d][kb];
				double ts, td, result;

				if (m->work[b] >= m->work[a] ||
				    s == in->chunks[b].came_from)
					continue;
				ts = times[s] + (m->work[b] - m->work[a]) /
				    m->rate[s];
				td = times[d] + (m->work[a] - m->work[b]) /
				    m->rate[d];
				result = td > ts ? td : ts;
				if (result < best ||
				    (result == best && td < best_td)) {
					best = result;
					best_td = td;
					best_a = a;
					best_b = b;
					best_d = d;
				}
			}
		}
	}
	if (best_a == BALANCE_NONE)
		return 0;
	ex->a = best_a;
	ex->b = best_b;
	ex->d = best_d;
	ex->result = best;
	return 1;
}

/* Plans the exchange as two moves. */
static void
apply_swap(const struct balance_input *in, const struct model *m,
    double *times, struct holding *h, size_t s, const struct exchange *ex,
    struct balance_plan *plan)
{
	times[s] += (m->work[ex->b] - m->work[ex->a]) / m->rate[s];
	times[ex->d] += (m->work[ex->a] - m->work[ex->b]) / m->rate[ex->d];
	holding_take(h, s, ex->a);
	holding_take(h, ex->d, ex->b);
	add_move(plan, in, ex->a, s, ex->d);
	add_move(plan, in, ex->b, ex->d, s);
}

/* A move must gain at least this on the slowest worker (see MIN_GAIN). */
static double
min_gain_of(const struct balance_input *in, double ideal)
{
	return (in->threshold / 2 > MIN_GAIN ? in->threshold / 2 : MIN_GAIN) *
	    ideal;
}

/* Whether a part taking part_s on worker s (part_work of work) can go to
 * one of the destinations and shorten s by min_gain; *result, the slower
 * of the two after the best such move. */
static int
part_fits(const struct expanded *x, const double *times, size_t s,
    const size_t *dest, size_t n_dest, double part_work, double min_gain,
    size_t came_from, double *result)
{
	double part_s = part_work / x->m.rate[s];
	size_t bi;
	int found = 0;

	*result = INFINITY;
	if (part_s < min_gain)
		return 0;
	for (bi = 0; bi < n_dest; bi++) {
		size_t d = dest[bi];
		double td = times[d] + part_work / x->m.rate[d];

		if (d != came_from && td <= times[s] - min_gain) {
			double r = td > times[s] - part_s ? td :
			    times[s] - part_s;

			if (r < *result)
				*result = r;
			found = 1;
		}
	}
	return found;
}

/* The most work, in worker s's seconds, that one of the destinations
 * can take while ending at least min_gain before s does now. */
static double
part_room(const struct expanded *x, const double *times, size_t s,
    const size_t *dest, size_t n_dest, double min_gain, size_t came_from)
{
	double best = 0;
	size_t bi;

	for (bi = 0; bi < n_dest; bi++) {
		size_t d = dest[bi];
		double room = (times[s] - min_gain - times[d]) *
		    x->m.rate[d] / x->m.rate[s];

		if (d != came_from && room > best)
			best = room;
	}
	return best;
}

/* A chunk to cut: into how many parts, and the result of its first part's
 * move (see part_fits). */
struct cut_choice {
	size_t c;
	unsigned parts;
	double result;
};

/*
 * No whole chunk of the slowest worker s can go anywhere with a gain: its
 * chunks are too big for the room the others have (28 chunks on 6 equal
 * workers: 5 on some, 4 on the others, 1.07 times the ideal at best). One
 * of its chunks is cut into parts no longer than s's excess over the
 * ideal nor than the room the roomiest other worker has (part_room), so
 * that a part can go where the whole chunk could not; the parts join s's
 * chunks for the greedy to place. Which
 * chunk: one at least as long as the excess with the fewest bytes (a cut
 * copies its chunk), failing that the longest; and only if a part will
 * find room. Parts are at least CUT_MIN_BYTES. Returns whether there is
 * such a chunk; apply_cut plans the cut.
 */
static int
choose_cut(const struct expanded *x, const struct holding *h,
    const double *times, size_t s, const size_t *dest, size_t n_dest,
    double min_gain, double ideal, struct cut_choice *cc)
{
	double excess = times[s] - ideal, best_t = 0, best_result = INFINITY;
	size_t k, best = BALANCE_NONE;
	unsigned best_parts = 0;

	if (excess < min_gain || x->m.rate[s] <= 0)
		return 0;
	for (k = 0; k < h->n[s]; k++) {
		size_t c = h->list[s][k];
		double t = x->m.work[c] / x->m.rate[s], parts;
		uint64_t most = x->chunks[c].bytes / CUT_MIN_BYTES;
		double result, room;
		int fits;

		if (c >= x->n_input || most < 2)
			continue;
		/* parts no longer than the excess, nor than the room the
		 * roomiest other worker has (in s's time) */
		room = part_room(x, times, s, dest, n_dest, min_gain,
		    x->chunks[c].came_from);
		if (room <= 0)
			continue;
		parts = ceil(t / (room < excess ? room : excess));
		if (t / parts < min_gain)
			parts = floor(t / min_gain);
		if (parts > MAX_PARTS)
			parts = MAX_PARTS;
		if (parts > (double)most)
			parts = (double)most;
		if (parts < 2 || !part_fits(x, times, s, dest, n_dest,
		    x->m.work[c] / parts, min_gain, x->chunks[c].came_from,
		    &result))
			continue;
		fits = t >= excess;
		if (best != BALANCE_NONE) {
			int best_fits = best_t >= excess;
			uint64_t bytes = x->chunks[c].bytes;
			uint64_t best_bytes = x->chunks[best].bytes;

			/* one that fits first; then the fewest bytes
			 * (those that fit), the longest */
			if (fits != best_fits ? !fits :
			    fits && bytes != best_bytes ? bytes > best_bytes :
			    t <= best_t)
				continue;
		}
		best = c;
		best_t = t;
		best_parts = (unsigned)parts;
		best_result = result;
	}
	if (best == BALANCE_NONE)
		return 0;
	cc->c = best;
	cc->parts = best_parts;
	cc->result = best_result;
	return 1;
}

/* Plans the cut; its parts join s's chunks for the greedy to place. */
static void
apply_cut(struct expanded *x, struct holding *h, size_t s,
    const struct cut_choice *cc, struct balance_plan *plan)
{
	size_t j;

	add_split(plan, cc->c, cc->parts, x->in.n_chunks);
	holding_take(h, s, cc->c);
	add_parts(x, cc->c, cc->parts);
	for (j = 0; j < cc->parts; j++)
		holding_add(h, s, x->in.n_chunks - cc->parts + j);
}

static void
plan_default(struct expanded *x, double *times, const double *se,
    struct balance_plan *plan)
{
	/* x's arrays grow when a chunk is cut: read them through x */
	const struct balance_input *in = &x->in;
	const struct model *m = &x->m;
	unsigned char *cut_on = xcalloc(in->n_workers + 1, 1);
	unsigned char *small_on = xcalloc(in->n_workers + 1, 1);
	size_t *dest = xcalloc(in->n_workers + 1, sizeof(*dest));
	double *key = xcalloc(in->n_workers + 1, sizeof(*key));
	/* Nothing moves while the slowest is within the threshold of the
	 * ideal (by more than its noise, at most half the threshold, see
	 * TRIGGER_SE); once it is not, it is brought down to half the
	 * threshold where moves can: a plan that stops just inside the
	 * threshold leaves the next run, with its noise, outside it again,
	 * and a move or two more later. */
	double limit = plan->ideal * (1 + in->threshold);
	double aim = plan->ideal * (1 + in->threshold / 2);
	double min_gain = min_gain_of(in, plan->ideal);
	/* The plan as it was when a cut or an exchange was first taken
	 * within the threshold (see below); kept_* 0 until then. */
	double *kept_times = NULL;
	size_t kept_moves = 0, kept_splits = 0;
	uint64_t kept_bytes = 0;
	struct holding h;
	size_t i, iter;

	h.list = xcalloc(in->n_workers + 1, sizeof(*h.list));
	h.n = xcalloc(in->n_workers + 1, sizeof(*h.n));
	h.alloc = xcalloc(in->n_workers + 1, sizeof(*h.alloc));
	/* (a pinned chunk is held by no one: it does not move) */
	for (i = 0; i < in->n_chunks; i++)
		if (!x->cut[i] && !x->in.chunks[i].pinned)
			holding_add(&h, x->assign[i], i);

	for (iter = 0; iter < in->n_chunks; iter++) {
		size_t s = 0, n_dest, bi, k, at = 0;
		double mean_work = 0, good, noise;
		struct pick pk;
		int small;
		uint64_t best_bytes = UINT64_MAX;

		for (i = 1; i < in->n_workers; i++)
			if (times[i] > times[s])
				s = i;
		noise = TRIGGER_SE * se[s];
		if (noise > TRIGGER_NOISE_MAX * (limit - plan->ideal))
			noise = TRIGGER_NOISE_MAX * (limit - plan->ideal);
		if (iter == 0 ? times[s] - noise <= limit :
		    times[s] <= aim)
			break;
		if (h.n[s] == 0)
			break;
		/* found to hold small chunks only: no exchange or cut to look
		 * for again (on hundreds of chunks, the costly part) */
		small = small_on[s];
		for (k = 0; k < h.n[s]; k++)
			mean_work += m->work[h.list[s][k]];
		mean_work /= (double)h.n[s];
		n_dest = destinations(in, m, times, s, mean_work, dest, key);

		best_move(in, m, times, &h, s, dest, n_dest, small, min_gain,
		    &pk);
		if (!small && (pk.c == BALANCE_NONE ||
		    pk.result > times[s] - min_gain)) {
			/* No single move helps - big chunks where the others
			 * are nearly full: exchange one for a smaller one, or
			 * cut one finer (once per worker and plan). An
			 * exchange sends two whole chunks, a cut only the
			 * parts that go: the cut, unless the exchange ends
			 * better than its first part's move by more than
			 * SAME_RESULT of the ideal. */
			struct exchange ex = { BALANCE_NONE, 0, 0, INFINITY };
			struct cut_choice cc = { BALANCE_NONE, 0, INFINITY };
			int have_ex = find_swap(in, m, times, &h, s, dest,
			    n_dest, times[s] - min_gain, &ex);
			int have_cut = !cut_on[s] && choose_cut(x, &h, times,
			    s, dest, n_dest, min_gain, plan->ideal, &cc);

			if ((have_ex || have_cut) && times[s] <= limit &&
			    kept_times == NULL) {
				kept_times = xcalloc(in->n_workers + 1,
				    sizeof(*kept_times));
				memcpy(kept_times, times,
				    in->n_workers * sizeof(*times));
				kept_moves = plan->n_moves;
				kept_splits = plan->n_splits;
				kept_bytes = plan->bytes_moved;
			}
			if (have_cut && (!have_ex || cc.result <= ex.result +
			    SAME_RESULT * plan->ideal)) {
				apply_cut(x, &h, s, &cc, plan);
				cut_on[s] = 1;
				continue;
			}
			if (have_ex) {
				apply_swap(in, m, times, &h, s, &ex, plan);
				continue;
			}
			/* Nothing gains a move's worth: a worker of small
			 * chunks only (none that takes two moves' gain, none
			 * cut in this plan) moves them for what each gains.
			 * One with a part of a cut waits for the next plan,
			 * which may cut again. */
			for (k = 0; k < h.n[s]; k++)
				if (move_need(m, h.list[s][k], s, min_gain) >=
				    min_gain)
					break;
			if (k < h.n[s] || cut_on[s])
				break;
			small = small_on[s] = 1;
			best_move(in, m, times, &h, s, dest, n_dest, small,
			    min_gain, &pk);
		}
		if (pk.c == BALANCE_NONE)
			break;
		/* Among the results about as good, the fewest bytes. */
		good = pk.result + SAME_RESULT * plan->ideal;
		for (k = 0; k < h.n[s]; k++) {
			size_t c = h.list[s][k];
			double need = small ? move_need(m, c, s, min_gain) :
			    min_gain;

			if (in->chunks[c].bytes > best_bytes)
				continue;
			for (bi = 0; bi < n_dest; bi++) {
				size_t d = dest[bi];
				double td, result;

				if (!move_result(in, m, times, c, s, d, &result,
				    &td) || result > good ||
				    result > times[s] - need)
					continue;
				if (in->chunks[c].bytes < best_bytes ||
				    result < pk.result ||
				    (result == pk.result && td < pk.td)) {
					best_bytes = in->chunks[c].bytes;
					pk.result = result;
					pk.td = td;
					pk.c = c;
					pk.d = d;
					at = k;
				}
			}
		}
		times[s] -= m->work[pk.c] / m->rate[s];
		times[pk.d] += m->work[pk.c] / m->rate[pk.d];
		x->assign[pk.c] = pk.d;
		/* one move per chunk per plan: it leaves the lists */
		h.list[s][at] = h.list[s][--h.n[s]];
		add_move(plan, in, pk.c, s, pk.d);
	}
	/* Within the threshold, cuts and exchanges buy a margin against the
	 * next run's noise; they copy chunks and a cut is for good. Less
	 * than half a move's gain off the slowest time is lost in that
	 * noise: the plan ends where it was before the first of them. */
	if (kept_times != NULL && balance_makespan(times, in->n_workers) >
	    balance_makespan(kept_times, in->n_workers) - min_gain / 2) {
		memcpy(times, kept_times, in->n_workers * sizeof(*times));
		plan->n_moves = kept_moves;
		plan->n_splits = kept_splits;
		plan->bytes_moved = kept_bytes;
	}
	free(kept_times);
	for (i = 0; i < in->n_workers; i++)
		free(h.list[i]);
	free(h.list);
	free(h.n);
	free(h.alloc);
	free(dest);
	free(key);
	free(cut_on);
	free(small_on);
}

int
balance_plan(const struct balance_input *in, struct balance_plan *plan)
{
	struct model m;
	size_t *assign, i;
	double total_work = 0, total_rate = 0;

	balance_plan_release(plan);
	if (in->threshold < 0 || (in->n_chunks > 0 && in->n_workers == 0)) {
		errno = EINVAL;
		return -1;
	}
	for (i = 0; i < in->n_chunks; i++)
		if (in->chunks[i].worker >= in->n_workers) {
			errno = EINVAL;
			return -1;
		}
	model_build(&m, in);
	assign = xcalloc(in->n_chunks + 1, sizeof(*assign));
	for (i = 0; i < in->n_chunks; i++) {
		assign[i] = in->chunks[i].worker;
		total_work += m.work[i];
	}
	for (i = 0; i < in->n_workers; i++) {
		total_rate += m.rate[i];
		plan->mean += in->workers[i].completion;
	}
	if (in->n_workers)
		plan->mean /= (double)in->n_workers;
	plan->ideal = total_rate > 0 ? total_work / total_rate : 0;
	plan->before = xcalloc(in->n_workers + 1, sizeof(double));
	plan->after = xcalloc(in->n_workers + 1, sizeof(double));
	predict(&m, assign, plan->before);
	memcpy(plan->after, plan->before, in->n_workers * sizeof(double));

	if (in->algo == BALANCE_PAPER) {
		plan_paper(in, assign, plan);
		predict(&m, assign, plan->after);
	} else {
		struct expanded x;
		double *se = xcalloc(in->n_workers + 1, sizeof(*se));

		/* each worker's predicted time's standard error, its chunks'
		 * errors taken as independent */
		for (i = 0; i < in->n_chunks; i++) {
			size_t w = in->chunks[i].worker;
			double e = in->chunks[i].cost_se * m.speed[w] /
			    (m.rate[w] > 0 ? m.rate[w] : 1);

			if (in->chunks[i].cost >= 0 && e > 0)
				se[w] += e * e;
		}
		for (i = 0; i < in->n_workers; i++)
			se[i] = sqrt(se[i]);
		plan_splits(in, &m, plan);
		plan->n_oversize = plan->n_splits;
		expand(in, &m, assign, plan, &x);
		plan_default(&x, plan->after, se, plan);
		expanded_release(&x);
		free(se);
		/* Each move gained on the slowest worker of its time, but
		 * another may have been nearly as slow: a plan that does not
		 * shorten the slowest time of all by a move's worth is not
		 * carried out (the chunks too big to balance are still cut). */
		if (plan->n_moves > 0 &&
		    balance_makespan(plan->after, in->n_workers) >
		    balance_makespan(plan->before, in->n_workers) -
		    min_gain_of(in, plan->ideal)) {
			plan->n_moves = 0;
			plan->n_splits = plan->n_oversize;
			plan->bytes_moved = 0;
			memcpy(plan->after, plan->before,
			    in->n_workers * sizeof(double));
		}
	}
	free(assign);
	model_release(&m);
	return 0;
}

size_t
balance_even(const uint64_t *bytes, const unsigned char *pinned,
    unsigned char *holds, size_t n_chunks, size_t W,
    struct balance_move **moves)
{
	uint64_t *load = xcalloc(W + 1, sizeof(*load));
	size_t n = 0, alloc = 0, c, w;

	*moves = NULL;
	for (c = 0; c < n_chunks; c++)
		for (w = 0; w < W; w++)
			if (holds[c * W + w])
				load[w] += bytes[c];
	/* Each step makes the move that lowers the sum of the squared
	 * loads most: chunk c of b bytes from a worker to one lighter by
	 * gap lowers it by 2 b (gap - b), so only b < gap is a move, and
	 * the steps end (the sum, an integer, falls every time). */
	for (;;) {
		size_t best = BALANCE_NONE, from = 0, to = 0;
		double best_gain = 0;

		for (c = 0; c < n_chunks; c++) {
			size_t lo = BALANCE_NONE;

			if (pinned[c] || bytes[c] == 0)
				continue;
			for (w = 0; w < W; w++)
				if (!holds[c * W + w] &&
				    (lo == BALANCE_NONE || load[w] < load[lo]))
					lo = w;
			if (lo == BALANCE_NONE)
				continue;
			for (w = 0; w < W; w++) {
				uint64_t gap;
				double gain;

				if (!holds[c * W + w] || load[w] <= load[lo])
					continue;
				gap = load[w] - load[lo];
				if (bytes[c] >= gap)
					continue;
				gain = 2.0 * (double)bytes[c] *
				    (double)(gap - bytes[c]);
				if (gain > best_gain) {
					best_gain = gain;
					best = c;
					from = w;
					to = lo;
				}
			}
		}
		if (best == BALANCE_NONE)
			break;
		ALLOC_GROW(*moves, n + 1, alloc);
		(*moves)[n].chunk = best;
		(*moves)[n].from = from;
		(*moves)[n].to = to;
		n++;
		holds[best * W + from] = 0;
		holds[best * W + to] = 1;
		load[from] -= bytes[best];
		load[to] += bytes[best];
	}
	free(load);
	return n;
}
