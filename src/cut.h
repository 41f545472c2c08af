/* cut.h - cutting a chunk into smaller ones: a chunk that alone costs a
 * query more than the ideal time keeps every balance above the ideal
 * (the paper's "possible negative situation"); its parts can be spread.
 *
 * A cut goes planned -> committed -> done, journaled in the catalog:
 *
 *   planned    the journal row exists; the store's copy of the chunk is
 *              split into parts (NAME-000005-000001.pcap, ...: they sort
 *              where the chunk did) in the store, and the parts are
 *              copied to their workers and verified there;
 *   committed  in one transaction: the chunk's row (and its placements)
 *              replaced by the parts' rows, numbered in its place, with
 *              the parts' placements - queries now read the parts;
 *   done       once no query runs, the chunk's file is removed from the
 *              workers and the store.
 *
 * Every packet record of the chunk is in exactly one part, in order, so
 * a query's result does not change. cut_recover, which every command
 * that changes the cluster runs first, removes the parts of a planned
 * cut and the old file of a committed one. Adding the capture again
 * keeps the parts while the chunk they came from is unchanged. */
#ifndef SHARDCAP_CUT_H
#define SHARDCAP_CUT_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "cluster.h"
#include "error.h"

/* Test hook: with SHARDCAP_CUT_CRASH=STATE the process dies (SIGKILL)
 * right after the first cut reached STATE. */
#define CUT_CRASH_ENV "SHARDCAP_CUT_CRASH"
#define CUT_MAX_PARTS 64

struct cut_request {
	int64_t chunk_id;       /* the chunk, as the catalog has it now */
	unsigned parts;         /* 2 .. CUT_MAX_PARTS */
	size_t to[CUT_MAX_PARTS]; /* the worker (of the config) that is to
	                         * run each part; more copies, up to the
	                         * capture's replicas, go to the chunk's
	                         * other holders */
};

struct cut_outcome {
	unsigned parts;         /* made (fewer than asked when the chunk
	                         * has fewer packets) */
	char files[CUT_MAX_PARTS][96];
	uint64_t bytes;         /* parts copied to workers that did not
	                         * hold the chunk's current copy: data that
	                         * changed place */
	uint64_t sent;          /* what rsync sent for all the parts: a
	                         * part copied to a worker that holds the
	                         * chunk costs little more than its header */
	int left;               /* the old file is still on some worker:
	                         * the next command removes it */
};

/* Cuts chunk req->chunk_id of capture cap as the journal above says. The
 * cluster lock must be held. Returns 0 when done; SC_ERR_WORKER when a
 * part could not be copied (the cut is rolled back, the chunk stays
 * whole); SC_ERR_LIMIT when the parts' names would be too long or the
 * chunk has a single packet; other codes when the catalog or the store
 * failed or the user interrupted (the journal then says what the next
 * command is to finish). */
int cut_apply(struct cluster *cl, const char *capture,
    const struct cut_request *req, volatile sig_atomic_t *interrupted,
    struct cut_outcome *out, struct sc_err *e);

/* Finishes or rolls back the cuts a crash left open. The cluster lock
 * must be held. */
int cut_recover(struct cluster *cl, volatile sig_atomic_t *interrupted,
    size_t *finished, size_t *rolled_back, struct sc_err *e);

#endif
