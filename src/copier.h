/* copier.h - filling output files on a thread of its own.
 *
 * The caller says, in order, what goes into each output file: bytes lent
 * to the thread (written from where they are, then given back) or literal
 * bytes (copied into the queue), and finally that the file is whole: close
 * it and rename it into place. A thread carries this out while the caller
 * reads on, so reading and writing overlap. At most COPIER_MAX_BYTES of
 * literal bytes and COPIER_SLOTS requests wait at any time; beyond that
 * the caller waits. */
#ifndef SHARDCAP_COPIER_H
#define SHARDCAP_COPIER_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define COPIER_SLOTS 256
#define COPIER_MAX_BYTES (4u << 20)

struct copier;

/* Starts the thread. Returns 0 or a negative code with e filled in. */
int copier_start(struct copier **out, struct sc_err *e);
/* Queues the len bytes at p, to be appended to fd; they must not change
 * until the thread calls give_back(ctx, loan), which it does once written
 * (or dropped, after an error or with discard). name is the file's name
 * for messages; it must stay valid until copier_finish. */
void copier_lent(struct copier *c, int fd, const char *name, const void *p,
    size_t len, void (*give_back)(void *ctx, int loan), void *ctx, int loan);
/* Queues a copy of the len bytes at p, to be appended to fd. */
void copier_bytes(struct copier *c, int fd, const char *name, const void *p,
    size_t len);
/* Queues: close fd, then rename tmp to final (both must stay valid until
 * copier_finish). The thread owns fd from here on. */
void copier_commit(struct copier *c, int fd, const char *tmp,
    const char *final);
/* 0, or the first error the thread met, with e filled in. Does not wait. */
int copier_failed(struct copier *c, struct sc_err *e);
/* Waits for everything queued to be done - or, with discard, drops it
 * (closing the files handed over, renaming nothing more) - and stops the
 * thread. *committed (if not NULL) is the number of files renamed into
 * place. Returns 0 or the first error, with e filled in. Frees c. */
int copier_finish(struct copier *c, int discard, size_t *committed,
    struct sc_err *e);

#endif
