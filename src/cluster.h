/* cluster.h - the cluster directory: `.shardcap/` with its config, catalog,
 * store of chunks, ssh control sockets and lock; found from any directory
 * below it, as git finds `.git`, or named by SHARDCAP_DIR. */
#ifndef SHARDCAP_CLUSTER_H
#define SHARDCAP_CLUSTER_H

#include "catalog.h"
#include "config.h"
#include "error.h"
#include "strbuf.h"

#define CLUSTER_DIRNAME ".shardcap"

enum cluster_flags {
	CLUSTER_LOCK = 1 << 0,  /* the command changes the cluster: take the lock */
	CLUSTER_READS = 1 << 1, /* it reads chunks on the workers (a query):
	                         * chunks' old copies are not removed while
	                         * it runs */
};

struct cluster {
	char *dir;              /* absolute path of .shardcap */
	struct config cfg;
	struct catalog *cat;
	int lock_fd;
	int runs_fd;            /* runs.lock: shared by queries, exclusive
	                         * while old copies are removed */
	int runs_exclusive;
	void (*waiting)(void *ctx);
	void *waiting_ctx;
	char *control_dir;      /* ssh control sockets */
};

/* Finds the cluster directory: $SHARDCAP_DIR if set, else the nearest
 * .shardcap in the current directory or above. */
int cluster_find(char **dir, struct sc_err *e);
/* Opens the cluster: config, catalog (every configured worker gets its
 * row), and with CLUSTER_LOCK the lock, calling waiting(ctx) if another
 * command holds it. */
int cluster_open(struct cluster *cl, unsigned flags,
    void (*waiting)(void *ctx), void *ctx, struct sc_err *e);
void cluster_close(struct cluster *cl);
/* Waits until no query reads chunks (and keeps new ones from starting
 * until the cluster is closed): before removing copies of chunks that a
 * query planned with the catalog of before may be reading. */
int cluster_quiesce(struct cluster *cl, struct sc_err *e);
/* Creates .shardcap in top with its config (and the given workers), an
 * empty catalog and store. Fails if one exists. */
int cluster_create(const char *top, const struct config_worker *workers,
    size_t n, struct sc_err *e);
/* The store directory of a capture (allocated). */
char *cluster_store_dir(const struct cluster *cl, const char *capture);
/* Writes list (file names, each ended by a NUL: rsync --from0
 * --files-from) to .shardcap/tmp/PREFIX-WORKER-PID.list, creating tmp/ if
 * needed; sets *path (the caller unlinks and frees it). */
int cluster_write_list(const struct cluster *cl, const char *prefix,
    const char *worker, const struct strbuf *list, char **path,
    struct sc_err *e);
/* The configured worker of that name, or NULL. */
const struct config_worker *cluster_worker(const struct cluster *cl,
    const char *name);

#endif
