/* move.h - applying a balancing plan: moving chunks from one worker to
 * another, every move journaled in the catalog.
 *
 * A move goes planned -> copied -> verified -> committed -> deleted:
 *
 *   planned    the journal row exists; nothing else has changed;
 *   copied     rsync brought the chunk to the new worker from the store,
 *              or with peer-copy straight from the old worker (under a
 *              temporary name until whole, as every push);
 *   verified   a second rsync, comparing checksums without copying, found
 *              the new copy equal to the store's;
 *   committed  in one transaction: the new worker's placement added, the
 *              old one's removed - queries now read the new copy;
 *   deleted    the old copy is removed from the old worker.
 *
 * The catalog is true at every step (a copy is recorded only once it is
 * verified, and the old one only forgotten then), and the store keeps
 * every chunk, so a crash anywhere loses nothing. move_recover, which
 * every command that changes the cluster runs first, rolls a planned or
 * copied move back (removing a copy that may have arrived), and takes a
 * verified or committed one to its end. */
#ifndef SHARDCAP_MOVE_H
#define SHARDCAP_MOVE_H

#include <signal.h>
#include <stdint.h>

#include "cluster.h"
#include "error.h"

/* move_request.from for a copy that comes from the store and replaces no
 * other: a repair adding a replica. Nothing is deleted afterwards. */
#define MOVE_FROM_STORE ((size_t)-1)

struct move_request {
	int64_t chunk_id;
	char file[96];
	char digest[72];
	uint64_t bytes;
	size_t from, to;        /* workers of the config (from may be
	                         * MOVE_FROM_STORE) */
};

struct move_outcome {
	size_t done;            /* committed (and the old copy deleted) */
	size_t failed;          /* rolled back: the chunk stays where it was */
	size_t left;            /* committed, the old copy not deleted yet:
	                         * the next command deletes it */
	size_t peer;            /* copied worker to worker (peer-copy) */
	uint64_t bytes;         /* of the moves done */
	char error[400];        /* the first failure, for the user */
};

/* Test hook: with SHARDCAP_MOVE_CRASH=STATE in the environment, the
 * process dies (SIGKILL) right after the first move reached STATE. */
#define MOVE_CRASH_ENV "SHARDCAP_MOVE_CRASH"

/* Moves chunks of capture cap. The cluster lock must be held. Returns 0
 * when every move was done, SC_ERR_WORKER when some failed (out says how
 * many and why; those chunks stay where they were), other codes when the
 * catalog failed or the user interrupted (the journal then says what the
 * next command is to finish). */
int move_apply(struct cluster *cl, const char *capture,
    const struct move_request *moves, size_t n,
    volatile sig_atomic_t *interrupted, struct move_outcome *out,
    struct sc_err *e);

/* Finishes or rolls back the moves a crash left open. The cluster lock
 * must be held. *finished and *rolled_back say how many of each. */
int move_recover(struct cluster *cl, volatile sig_atomic_t *interrupted,
    size_t *finished, size_t *rolled_back, struct sc_err *e);

/* Compares copies of chunks of capture on workers with the store's, by
 * checksum (rsync -c -n), one rsync per worker at once. */
enum move_copy_state {
	MOVE_COPY_SAME,
	MOVE_COPY_DIFFERS,      /* damaged, or not there */
	MOVE_COPY_UNKNOWN,      /* the worker could not be asked */
};

struct move_check {
	char file[96];
	size_t worker;          /* of the config */
	enum move_copy_state state;     /* out */
	char error[400];        /* out */
};

int move_check_copies(struct cluster *cl, const char *capture,
    struct move_check *checks, size_t n, volatile sig_atomic_t *interrupted,
    struct sc_err *e);

/* A file of a capture on one worker, for move_files. */
struct move_file {
	char file[96];
	size_t worker;          /* of the config */
	char basis[96];         /* copy: a file of the capture the worker may
	                         * hold that much of this one comes from (a
	                         * cut chunk, for its parts): rsync sends only
	                         * what differs from it; "" for none */
	uint64_t sent;          /* out: the bytes rsync sent for it */
	int ok;                 /* out: done for this one */
	char error[400];        /* out */
};

enum move_files_op {
	MOVE_FILES_COPY,        /* from the store, then verified by checksum */
	MOVE_FILES_REMOVE,
};

/* Copies files of capture from the store to their workers (each started
 * from a hard link to its basis there, if any) and verifies them there,
 * or removes them from their workers; one child per worker at once. Sets
 * each one's ok and error; returns non-zero only when it could not try
 * (interrupted, no memory for a child). */
int move_files(struct cluster *cl, const char *capture, enum move_files_op op,
    struct move_file *files, size_t n, volatile sig_atomic_t *interrupted,
    struct sc_err *e);

#endif
