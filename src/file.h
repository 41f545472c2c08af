/* file.h - whole files: reading with a bound, writing atomically, and the
 * cluster lock. */
#ifndef SHARDCAP_FILE_H
#define SHARDCAP_FILE_H

#include <stddef.h>
#include <sys/types.h>

#include "error.h"
#include "strbuf.h"

/* Appends the contents of path to sb; a file larger than max is an error. */
int file_read(const char *path, size_t max, struct strbuf *sb,
    struct sc_err *e);
/* Writes all of p's len bytes to fd, again after a signal; -1 with errno
 * on an error. */
int file_write_all(int fd, const void *p, size_t len);
/* Writes len bytes to path through a temporary file in the same directory,
 * synced and renamed into place: readers see the old file or the new one,
 * never a part. */
int file_write_atomic(const char *path, const void *data, size_t len,
    mode_t mode, struct sc_err *e);
/* Takes an exclusive lock on path (created if missing), waiting for it;
 * calls waiting(ctx) once if it has to wait. *fd holds the lock until
 * file_unlock. */
int file_lock(const char *path, int *fd, void (*waiting)(void *ctx),
    void *ctx, struct sc_err *e);
/* The same, shared (LOCK_SH) when shared is set. */
int file_lock_mode(const char *path, int *fd, int shared,
    void (*waiting)(void *ctx), void *ctx, struct sc_err *e);
void file_unlock(int fd);
/* mkdir -p, with mode for the directories it makes. */
int file_mkdirs(const char *path, mode_t mode, struct sc_err *e);
/* rm -rf: removes path and all below it; a missing path is no error. */
int file_remove_tree(const char *path, struct sc_err *e);

#endif
