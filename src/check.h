/* check.h - asking every worker, at once, whether it is usable: reachable
 * (ssh in batch mode), its directory writable, which packet tools it has
 * and their versions, its cores and free disk. */
#ifndef SHARDCAP_CHECK_H
#define SHARDCAP_CHECK_H

#include <signal.h>
#include <stdint.h>

#include "cluster.h"

#define CHECK_TOOLS 6   /* tshark tcpdump ngrep editcap mergecap rsync */
/* tools a worker must have unless told otherwise (check_workers) */
#define CHECK_REQUIRED_DEFAULT "tshark", "editcap", "rsync"
#define CHECK_REQUIRED_MAX 16
#define CHECK_TOOL_NAME_MAX 40

extern const char *const check_tool_names[CHECK_TOOLS];

struct check_result {
	char name[72];
	char where[300];        /* user@host:port:/dir or local:/dir */
	int reachable;
	int writable;
	unsigned cores;
	uint64_t free_bytes;
	char tools[CHECK_TOOLS][48];    /* version, or "" when missing */
	/* the required tools it lacks (the names check_workers was given) */
	const char *missing[CHECK_REQUIRED_MAX];
	size_t n_missing;
	int warm;               /* tshark can start warm: the warm-start
	                         * library is at the path it has here */
	int no_zone;            /* its tzdata lacks this machine's zone
	                         * (check_workers' zone): its tools print
	                         * local times in UTC */
	char error[400];
	double seconds;         /* how long the answer took */
};

/* Whether name can be asked for as a tool: letters, digits, . _ + -. */
int check_tool_name_ok(const char *name);

/* Checks every configured worker, that each has the required tools
 * (n_required names; NULL: CHECK_REQUIRED_DEFAULT) and this machine's
 * time zone (zone, run_local_zone's; NULL: none to check). *results has one
 * entry per worker, in config order. Returns 0 (even if workers are
 * unreachable or lack tools: see the results) or an error that kept the
 * check from running at all. */
int check_workers(struct cluster *cl, const char *const *required,
    size_t n_required, const char *zone, volatile sig_atomic_t *interrupted,
    struct check_result **results, size_t *n, struct sc_err *e);

#endif
