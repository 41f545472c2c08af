/* costs.c - what the recorded runs say: each worker's speed, and each
 * chunk's cost on a worker of speed 1, with its noise (see balance.h). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "balance.h"
#include "util.h"
#include "xalloc.h"
#include "banned.h"

/* The standard deviation of a normal sample is 1.4826 times its median
 * absolute deviation. */
#define MAD_TO_SD 1.4826
/* a run's level is measured on at least this many chunks */
#define LEVEL_CHUNKS 3

void
balance_estimate_speeds(const struct balance_obs *obs, size_t n_obs,
    size_t n_items, size_t n_workers, double *speed)
{
	double *lw = xcalloc(n_items + 1, sizeof(*lw));    /* log work */
	double *ls = xcalloc(n_workers + 1, sizeof(*ls));  /* log speed */
	double *sum = xcalloc((n_items > n_workers ? n_items : n_workers) + 1,
	    sizeof(*sum));
	size_t *cnt = xcalloc((n_items > n_workers ? n_items : n_workers) + 1,
	    sizeof(*cnt));
	size_t *workers_of = xcalloc(n_items + 1, sizeof(*workers_of));
	unsigned char *linked = xcalloc(n_workers + 1, 1);
	size_t *use = xcalloc(n_obs + 1, sizeof(*use));
	double *lc = xcalloc(n_obs + 1, sizeof(*lc));
	size_t i, k, iter, n_linked = 0, n_use = 0;
	double mean;

	/* An item tells speeds apart only when seen on two workers or more;
	 * a worker is linked when it ran such an item. */
	for (i = 0; i < n_items; i++)
		workers_of[i] = BALANCE_NONE;
	for (i = 0; i < n_obs; i++) {
		size_t it = obs[i].item;

		if (it >= n_items || obs[i].worker >= n_workers ||
		    !(obs[i].cost > 0))
			continue;
		if (workers_of[it] == BALANCE_NONE)
			workers_of[it] = obs[i].worker;
		else if (workers_of[it] != obs[i].worker)
			workers_of[it] = BALANCE_NONE - 1;      /* several */
	}
	/* the observations that count, with the log of their cost */
	for (i = 0; i < n_obs; i++) {
		const struct balance_obs *o = &obs[i];

		if (o->item >= n_items || o->worker >= n_workers ||
		    !(o->cost > 0) || workers_of[o->item] != BALANCE_NONE - 1)
			continue;
		use[n_use] = i;
		lc[n_use++] = log(o->cost);
		linked[o->worker] = 1;
	}

	/* Alternating least squares on log(cost) = log(work) - log(speed),
	 * over the items seen on several workers. */
	for (iter = 0; iter < 100; iter++) {
		memset(sum, 0, (n_items + 1) * sizeof(*sum));
		memset(cnt, 0, (n_items + 1) * sizeof(*cnt));
		for (k = 0; k < n_use; k++) {
			const struct balance_obs *o = &obs[use[k]];

			sum[o->item] += lc[k] + ls[o->worker];
			cnt[o->item]++;
		}
		for (i = 0; i < n_items; i++)
			if (cnt[i])
				lw[i] = sum[i] / (double)cnt[i];
		memset(sum, 0, (n_workers + 1) * sizeof(*sum));
		memset(cnt, 0, (n_workers + 1) * sizeof(*cnt));
		for (k = 0; k < n_use; k++) {
			const struct balance_obs *o = &obs[use[k]];

			sum[o->worker] += lw[o->item] - lc[k];
			cnt[o->worker]++;
		}
		mean = 0;
		n_linked = 0;
		for (i = 0; i < n_workers; i++)
			if (cnt[i]) {
				ls[i] = sum[i] / (double)cnt[i];
				mean += ls[i];
				n_linked++;
			}
		/* the scale is free: geometric mean 1 over the linked */
		if (n_linked)
			mean /= (double)n_linked;
		for (i = 0; i < n_workers; i++)
			if (cnt[i])
				ls[i] -= mean;
	}
	for (i = 0; i < n_workers; i++)
		speed[i] = linked[i] ? exp(ls[i]) : 0;
	free(lw);
	free(ls);
	free(sum);
	free(cnt);
	free(workers_of);
	free(linked);
	free(use);
	free(lc);
}

/* A run's level: its time for the chunks it ran over their usual time
 * (the median over the chunks' recent runs), the median over the chunks
 * that ran in it and in at least one other run. */
struct level {
	uint64_t run;
	double ratio;
};

static int
cmp_level(const void *a, const void *b)
{
	const struct level *x = a, *y = b;

	if (x->run != y->run)
		return x->run < y->run ? -1 : 1;
	return x->ratio < y->ratio ? -1 : x->ratio > y->ratio;
}

/* The level of each run the chunks' recent costs came from, into
 * runs[0..*n_runs) in the order of the runs: the median of their costs
 * there over their current estimate (ref); a run that too few costs tell
 * about keeps 1. */
static void
run_levels(const double *seen, const uint64_t *seen_run, const size_t *n,
    size_t n_chunks, const double *ref, struct level *runs, size_t *n_runs)
{
	struct level *v = xcalloc(n_chunks * BALANCE_COST_RUNS + 1,
	    sizeof(*v));
	/* as many as there are costs: a history may hold a chunk twice in
	 * one run */
	double *r = xcalloc(n_chunks * BALANCE_COST_RUNS + 1, sizeof(*r));
	size_t m = 0, i, k, at;

	for (i = 0; i < n_chunks; i++)
		for (k = 0; n[i] >= 2 && k < n[i]; k++)
			if (seen_run[i * BALANCE_COST_RUNS + k] != 0) {
				v[m].run = seen_run[i * BALANCE_COST_RUNS + k];
				v[m].ratio = seen[i * BALANCE_COST_RUNS + k] /
				    ref[i];
				m++;
			}
	qsort(v, m, sizeof(*v), cmp_level);
	*n_runs = 0;
	for (i = 0; i < m; i = at) {
		size_t c = 0;

		for (at = i; at < m && v[at].run == v[i].run; at++)
			r[c++] = v[at].ratio;
		runs[*n_runs].run = v[i].run;
		runs[*n_runs].ratio = c >= LEVEL_CHUNKS ? sort_median(r, c) : 1;
		(*n_runs)++;
	}
	free(r);
	free(v);
}

static double
level_of(const struct level *runs, size_t n_runs, uint64_t run)
{
	size_t lo = 0, hi = n_runs;

	if (run == 0)
		return 1;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (runs[mid].run < run)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n_runs && runs[lo].run == run && runs[lo].ratio > 0 ?
	    runs[lo].ratio : 1;
}

void
balance_recent_costs(const struct balance_obs *obs, size_t n_obs,
    struct balance_chunk *chunks, size_t n_chunks)
{
	size_t slots = n_chunks * BALANCE_COST_RUNS + 1;
	double *seen = xcalloc(slots, sizeof(*seen));
	uint64_t *seen_run = xcalloc(slots, sizeof(*seen_run));
	size_t *n = xcalloc(n_chunks + 1, sizeof(*n));
	double *ref = xcalloc(n_chunks + 1, sizeof(*ref));
	struct level *runs = xcalloc(slots, sizeof(*runs));
	size_t n_runs = 0, i, pass;

	/* newest first, up to BALANCE_COST_RUNS a chunk */
	for (i = n_obs; i-- > 0; ) {
		const struct balance_obs *o = &obs[i];
		size_t at;

		if (o->item >= n_chunks || o->worker != chunks[o->item].worker ||
		    !(o->cost > 0) || n[o->item] == BALANCE_COST_RUNS)
			continue;
		at = o->item * BALANCE_COST_RUNS + n[o->item]++;
		seen[at] = o->cost;
		seen_run[at] = o->run;
	}
	/* Each cost over its run's level: the machine as a whole slower in
	 * one run (the lab's workers share its cores with whatever else
	 * runs) is not noise between the workers. The levels are found
	 * twice: from the raw medians, then from the levelled ones. */
	for (pass = 0; pass < 3; pass++) {
		for (i = 0; i < n_chunks; i++) {
			double *v = seen + i * BALANCE_COST_RUNS;
			double dev[BALANCE_COST_RUNS], lv[BALANCE_COST_RUNS];
			size_t k;

			if (n[i] == 0)
				continue;
			for (k = 0; k < n[i]; k++)
				lv[k] = v[k] / level_of(runs, n_runs,
				    seen_run[i * BALANCE_COST_RUNS + k]);
			ref[i] = sort_median(lv, n[i]);
			if (pass < 2)
				continue;
			chunks[i].cost = ref[i];
			chunks[i].cost_se = 0;
			if (n[i] < 2)
				continue;
			for (k = 0; k < n[i]; k++)
				dev[k] = fabs(lv[k] - ref[i]);
			chunks[i].cost_se = MAD_TO_SD * sort_median(dev, n[i]) *
			    sqrt(BALANCE_MEDIAN_NOISE / (double)n[i]);
		}
		if (pass < 2)
			run_levels(seen, seen_run, n, n_chunks, ref, runs,
			    &n_runs);
	}
	free(runs);
	free(ref);
	free(seen_run);
	free(seen);
	free(n);
}
