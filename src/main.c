/* main.c - the shardcap command: global options and the command table. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cmd.h"
#include "banned.h"

#ifndef SHARDCAP_VERSION
#define SHARDCAP_VERSION "unknown"
#endif

static int cmd_help(int argc, char **argv);

static const struct command cmd_help_entry = {
	"help", cmd_help, "show help for a command",
	"usage: shardcap help [COMMAND]\n"
	"\n"
	"Shows the help of COMMAND, or the list of commands.\n"
};

const struct command *const commands[] = {
	&cmd_init_entry,
	&cmd_worker_entry,
	&cmd_add_entry,
	&cmd_status_entry,
	&cmd_check_entry,
	&cmd_run_entry,
	&cmd_stats_entry,
	&cmd_balance_entry,
	&cmd_repair_entry,
	&cmd_verify_entry,
	&cmd_rm_entry,
	&cmd_split_entry,
	&cmd_inspect_entry,
	&cmd_help_entry,
	NULL,
};

static const char main_usage[] =
    "usage: shardcap [--version] [--help] [-C DIR] COMMAND [ARGS]";

const struct command *
command_find(const char *name)
{
	size_t i;

	for (i = 0; commands[i] != NULL; i++)
		if (strcmp(commands[i]->name, name) == 0)
			return commands[i];
	return NULL;
}

static int
main_help(void)
{
	size_t i;

	printf("%s\n\n"
	    "shardcap cuts packet captures too large for one machine into\n"
	    "chunks at packet boundaries, spreads them over worker machines\n"
	    "and runs an ordinary tshark, tcpdump or ngrep query on every\n"
	    "chunk in parallel.\n\n"
	    "Commands:\n", main_usage);
	for (i = 0; commands[i] != NULL; i++)
		printf("  %-10s %s\n", commands[i]->name, commands[i]->summary);
	printf("\nOptions:\n"
	    "  -C DIR         run as if started in DIR\n"
	    "  -h, --help     show this help\n"
	    "      --version  show the version\n"
	    "\n"
	    "The cluster is the nearest .shardcap directory here or above, or\n"
	    "the one SHARDCAP_DIR names.\n"
	    "\n"
	    "'shardcap help COMMAND' or 'shardcap COMMAND --help' describes a\n"
	    "command; 'man shardcap' all of them.\n");
	return cli_finish_stdout(0);
}

static int
cmd_help(int argc, char **argv)
{
	const struct command *c;

	if (argc < 2)
		return main_help();
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return cli_help(cmd_help_entry.help);
	if (argc > 2)
		return cli_usage_error("shardcap help [COMMAND]",
		    "too many arguments");
	if ((c = command_find(argv[1])) == NULL) {
		cli_error("'%s' is not a shardcap command", argv[1]);
		return 2;
	}
	return cli_help(c->help);
}

int
main(int argc, char **argv)
{
	const struct command *c;

	/* -C DIR: as if started in DIR (as git -C) */
	while (argc >= 3 && strcmp(argv[1], "-C") == 0) {
		if (chdir(argv[2]) < 0) {
			fprintf(stderr, "shardcap: cannot change to '%s': %s\n",
			    argv[2], strerror(errno));
			return 2;
		}
		argc -= 2;
		argv += 2;
	}
	if (argc < 2) {
		fprintf(stderr, "%s\nTry 'shardcap --help' for more.\n",
		    main_usage);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return main_help();
	if (strcmp(argv[1], "--version") == 0) {
		printf("shardcap %s\n", SHARDCAP_VERSION);
		return cli_finish_stdout(0);
	}
	if (argv[1][0] == '-') {
		fprintf(stderr, "shardcap: unknown option '%s'\n%s\n",
		    argv[1], main_usage);
		return 2;
	}
	if ((c = command_find(argv[1])) == NULL) {
		fprintf(stderr, "shardcap: '%s' is not a shardcap command; "
		    "see 'shardcap --help'\n", argv[1]);
		return 2;
	}
	cli_command = c->name;
	return c->run(argc - 1, argv + 1);
}
