/* repair.h - keeping every chunk on `replicas` workers: after a worker is
 * lost or removed, after a copy is found missing or damaged.
 *
 * A chunk's copies that count are the current ones (the digest of the
 * copy is the chunk's) on configured workers that answer; each missing
 * copy is made from the store on the live worker holding the fewest bytes
 * among those without one (a worker with a stale copy first: rsync then
 * sends only what differs), through the move journal (docs/balance.md) -
 * copied, verified against the store, committed - so a crash loses
 * nothing and claims nothing. */
#ifndef SHARDCAP_REPAIR_H
#define SHARDCAP_REPAIR_H

#include <signal.h>
#include <stdint.h>

#include "cluster.h"
#include "error.h"

struct repair_options {
	const char *capture;    /* NULL: every capture */
	const char *exclude;    /* a worker being drained: its copies do not
	                         * count, it gets none */
	int probe;              /* ask every worker first; the copies of
	                         * those that do not answer do not count */
	int dry_run;
	volatile sig_atomic_t *interrupted;
};

struct repair_capture {
	char name[72];
	unsigned replicas;
	size_t chunks;
	size_t short_chunks;    /* with fewer than replicas copies */
	size_t needed;          /* copies missing */
	size_t copied;          /* made */
	size_t failed;          /* tried, failed */
	size_t no_room;         /* no live worker without a copy to take it */
	size_t extra;           /* copies beyond the replicas (live
	                         * workers' current ones) */
	size_t removed;         /* of those, removed */
	uint64_t bytes;         /* of the copies made (planned, dry run) */
	char error[400];
};

struct repair_result {
	struct repair_capture *caps;
	size_t n_caps;
	char (*down)[72];       /* workers that did not answer the probe */
	size_t n_down;
	double seconds;
};

/* Restores the replica count of one capture or all: the copies missing
 * are made; copies beyond it (a worker back after its chunks were copied
 * elsewhere, a straggler's chunk copied to run again) are forgotten and,
 * once no query runs, removed from the most loaded workers. The cluster
 * lock must be held. Returns 0 when every chunk has its copies (or, dry
 * run, could get them), SC_ERR_WORKER when some could not be made (see
 * res), other codes when nothing could be done. res needs
 * repair_result_release. */
int repair_run(struct cluster *cl, const struct repair_options *opt,
    struct repair_result *res, struct sc_err *e);
void repair_result_release(struct repair_result *res);

/* Forgets the copies of chunks listed (chunk ids) on worker: the catalog
 * stops claiming them (a damaged or missing copy), so that repair_run
 * replaces them. */
int repair_forget(struct cluster *cl, const int64_t *chunk_ids,
    const int64_t *worker_ids, size_t n, struct sc_err *e);

/* What verify found, per worker and in the store. */
struct verify_worker {
	char name[72];
	size_t checked;         /* copies compared */
	size_t bad;             /* damaged or missing: forgotten */
	size_t unknown;         /* could not be compared (worker down) */
	size_t unclaimed;       /* files named as chunks that the catalog
	                         * does not claim there: removed */
	char error[400];
};

struct verify_result {
	struct verify_worker *workers;  /* per configured worker */
	size_t n_workers;
	size_t store_checked, store_bad;
	char bad_files[8][200]; /* the first bad copies, "worker:file" or
	                         * "store:file" */
	size_t n_bad_files;
	char unclaimed_files[8][200];   /* the first removed,
	                                 * "worker:capture/file" */
	size_t n_unclaimed_files;
};

/* Checks every chunk in the store against its digest in the catalog, and
 * every current copy on a configured worker against the store's (rsync
 * checksums, one rsync per worker at once). A copy found damaged or
 * missing is forgotten (the catalog stops claiming it) unless the store's
 * own copy is damaged too - then nothing could replace it. Then removes,
 * from each worker's directory of each capture checked, the files named
 * as chunks of it that the catalog does not claim there: what a crash, a
 * cut or a query's copy of a chunk cut meanwhile left behind (once no
 * query runs: one may be copying a chunk it has not recorded yet). Takes
 * the cluster lock's holder's word that nothing else changes the cluster.
 * Returns 0, or SC_ERR_STORE when a chunk of the store is damaged. */
int repair_verify(struct cluster *cl, const char *capture,
    volatile sig_atomic_t *interrupted, struct verify_result *res,
    struct sc_err *e);
void verify_result_release(struct verify_result *res);

/* Whether the store's copy of chunk has the digest the catalog holds. */
int repair_store_good(struct cluster *cl, const struct cat_capture *cap,
    const struct cat_chunk *ch);

#endif
