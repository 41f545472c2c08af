/* config.h - the cluster's config file: `[section]` or `[section "name"]`
 * headers and `key = value` lines, as git writes its config.
 *
 * One keyword table says every key, its type and its default; values are
 * checked as they are read, and anything unknown or wrong is an error
 * naming the file and line. Every key is documented in docs/config.md. */
#ifndef SHARDCAP_CONFIG_H
#define SHARDCAP_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "digest.h"
#include "error.h"

struct config_worker {
	char *name;
	int local;              /* a directory on this machine, no ssh */
	char *host;             /* ssh: host name or address */
	unsigned port;          /* ssh: 0 = ssh's default */
	char *user;             /* ssh: NULL = ssh's default */
	char *identity;         /* ssh: private key file, or NULL */
	char *dir;              /* absolute directory holding the chunks */
	unsigned jobs;          /* jobs at once; 0 = as many as it has cores */
	int line;               /* of its section header */
};

struct config {
	char *path;
	/* [cluster] */
	uint64_t chunk_size;
	unsigned replicas;
	double threshold;       /* a fraction: 10% is 0.10 */
	enum digest_algo digest;
	int peer_copy;          /* workers may rsync chunks to each other */
	int share_local;        /* local workers run each other's chunks */
	/* [ssh] */
	char *ssh_command;
	char *ssh_options;      /* more options, split at white space */
	char *ssh_config;       /* passed as -F */
	unsigned connect_timeout;       /* seconds */
	unsigned control_persist;       /* seconds */
	/* a worker that does not answer alive_count keep-alives, one every
	 * alive_interval seconds, is given up on (a frozen host) */
	unsigned alive_interval;        /* seconds */
	unsigned alive_count;
	/* [rsync] */
	char *rsync_command;
	unsigned compress_level;
	/* [worker "NAME"] */
	struct config_worker *workers;
	size_t n_workers, alloc_workers;
};

/* Sets every key to its default. */
void config_init(struct config *cfg);
/* Reads path into cfg (which config_init prepared). A missing file is an
 * error. Returns 0 or SC_ERR_CONFIG / SC_ERR_SYSTEM with e filled in. */
int config_load(struct config *cfg, const char *path, struct sc_err *e);
void config_release(struct config *cfg);
const struct config_worker *config_worker(const struct config *cfg,
    const char *name);

/* Checks a worker's settings as config_load would; e names the problem. */
int config_check_worker(const struct config_worker *w, struct sc_err *e);
/* Appends a [worker "NAME"] section for w to the file at path (which must
 * not have one yet), rewriting it under a temporary name. */
int config_add_worker(const char *path, const struct config_worker *w,
    struct sc_err *e);
/* Removes the section of worker name, and nothing else, from the file. */
int config_remove_worker(const char *path, const char *name,
    struct sc_err *e);
/* Writes a new config file at path (which must not exist) with the
 * cluster defaults and the given workers. */
int config_create(const char *path, const struct config_worker *workers,
    size_t n, struct sc_err *e);

#endif
