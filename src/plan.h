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

#endif
