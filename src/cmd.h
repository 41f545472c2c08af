/* cmd.h - the commands: one file each (cmd-NAME.c), one entry each. */
#ifndef SHARDCAP_CMD_H
#define SHARDCAP_CMD_H

#include <stdint.h>
#include <stdio.h>

#include "balance.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
	const char *help;       /* full --help text, usage line first */
};

extern const struct command cmd_init_entry;
extern const struct command cmd_worker_entry;
extern const struct command cmd_add_entry;
extern const struct command cmd_status_entry;
extern const struct command cmd_check_entry;
extern const struct command cmd_rm_entry;
extern const struct command cmd_run_entry;
extern const struct command cmd_stats_entry;
extern const struct command cmd_balance_entry;
extern const struct command cmd_repair_entry;
extern const struct command cmd_verify_entry;
extern const struct command cmd_split_entry;
extern const struct command cmd_inspect_entry;

/* Balancing a capture from its last run: shardcap balance, and run
 * --balance after its run. */
struct balance_request {
	enum balance_algo algo;
	double threshold;       /* < 0: the config's */
	uint64_t seed;
	int have_seed;
	int dry_run, json;
	FILE *report;           /* where the plan is printed */
};
int balance_capture(const char *name, const struct balance_request *o);
int balance_parse_algorithm(const char *s, enum balance_algo *out);

/* The command table, ending with a NULL name. */
extern const struct command *const commands[];
const struct command *command_find(const char *name);

#endif
