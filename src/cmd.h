/* cmd.h - the commands: one file each (cmd-NAME.c), one entry each. */
#ifndef SHARDCAP_CMD_H
#define SHARDCAP_CMD_H

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
extern const struct command cmd_split_entry;
extern const struct command cmd_inspect_entry;

/* The command table, ending with a NULL name. */
extern const struct command *const commands[];
const struct command *command_find(const char *name);

#endif
