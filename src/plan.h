/* plan.h - the plan of a run (struct run_plan, run.h): the chunks of a
 * capture, the workers holding current copies of each, and their slots;
 * from the catalog, or for an ad hoc run over a split of a file. */
#ifndef SHARDCAP_PLAN_H
#define SHARDCAP_PLAN_H

#include <signal.h>

#include "cluster.h"
#include "config.h"
#include "error.h"
#include "run.h"
#include "split.h"

/* Plans a run of capture name in the cluster: its chunks and the workers
 * holding current copies; asks workers with "jobs = 0" for their cores. */
int run_plan_cluster(struct run_plan *plan, struct cluster *cl,
    const char *name, volatile sig_atomic_t *interrupted, struct sc_err *e);
/* Plans an ad hoc run over the chunks of split result sr in dir, on n
 * local workers of one slot each that may run any chunk. */
int run_plan_local(struct run_plan *plan, const struct config *cfg,
    const char *name, const char *dir, const struct split_result *sr,
    unsigned n, struct sc_err *e);
void run_plan_release(struct run_plan *plan);

/* Which chunks a run takes (run --chunks, --sample, --since, --until). */
struct run_select {
	const char *chunks;     /* "1-3,17": by seq; NULL: all */
	unsigned sample;        /* that many of them, spread over the
	                         * capture; 0: all */
	uint64_t seed;          /* of the sample's choice */
	int has_since, has_until;
	struct sc_time since, until;    /* the window [since, until) */
};

/* What a selection took. */
struct run_selected {
	size_t chunks, of;      /* chunks kept, of the capture's */
	size_t trimmed;         /* of them, cut to the window */
	size_t group_added;     /* kept only to keep a group whole */
};

/* Keeps the chunks of plan that sel takes, in order: those listed, then
 * a sample of them (one at random in each of `sample` equal stretches),
 * then those that can hold a packet in the window - a chunk wholly in it
 * as it is, the others marked trim, and so are chunks whose time range
 * is not known. A group of chunks (one flow) is kept whole. Returns 0,
 * or SC_ERR_USAGE for a list naming no chunk of the capture. */
int run_plan_select(struct run_plan *plan, const struct run_select *sel,
    struct run_selected *out, struct sc_err *e);

#endif
