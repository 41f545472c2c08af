/* cmd-init.c - shardcap init: make a cluster directory. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cluster.h"
#include "cmd.h"
#include "util.h"
#include "xalloc.h"
#include "banned.h"

#define INIT_USAGE "shardcap init [--local N] [DIR]"

static const char init_help[] =
    "usage: " INIT_USAGE "\n"
    "\n"
    "Creates the cluster directory .shardcap in DIR (default: the current\n"
    "directory): its config, an empty catalog and store. Commands run in\n"
    "DIR or below it find it, as git finds .git; -C DIR and SHARDCAP_DIR\n"
    "name it from elsewhere.\n"
    "\n"
    "Unless told otherwise the cluster gets N local workers (default: one\n"
    "per core of this machine): directories under .shardcap/workers that\n"
    "run queries here, with no ssh at all. Add remote workers with\n"
    "'shardcap worker add'.\n"
    "\n"
    "Options:\n"
    "      --local N   make N local workers (0 for none)\n"
    "  -h, --help      show this help\n";

static int
cmd_init(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "local", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct config_worker *ws;
	char *top;
	uint64_t n = (uint64_t)sysconf(_SC_NPROCESSORS_ONLN);
	struct sc_err e;
	size_t i;
	int c, r;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'l':
			if (parse_uint(optarg, 0, 1024, &n) != 0)
				return cli_usage_error(INIT_USAGE, "bad --local "
				    "'%s': want 0 to 1024", optarg);
			break;
		case 'h':
			return cli_help(init_help);
		default:
			return cli_usage_error(INIT_USAGE, "bad option");
		}
	}
	if (argc - optind > 1)
		return cli_usage_error(INIT_USAGE, "more than one directory");
	top = realpath(argc - optind == 1 ? argv[optind] : ".", NULL);
	if (top == NULL) {
		cli_error("cannot find '%s'", argc - optind == 1 ?
		    argv[optind] : ".");
		return 1;
	}
	ws = xcalloc(n ? n : 1, sizeof(*ws));
	for (i = 0; i < n; i++) {
		ws[i].name = xasprintf("local%zu", i + 1);
		ws[i].local = 1;
		ws[i].dir = xasprintf("%s/%s/workers/local%zu", top,
		    CLUSTER_DIRNAME, i + 1);
		ws[i].jobs = 1;
	}
	sc_err_clear(&e);
	r = cluster_create(top, ws, n, &e);
	if (r == 0)
		printf("created %s/%s with %llu local worker%s\n", top,
		    CLUSTER_DIRNAME, (unsigned long long)n, n == 1 ? "" : "s");
	for (i = 0; i < n; i++) {
		free(ws[i].name);
		free(ws[i].dir);
	}
	free(ws);
	free(top);
	if (r != 0)
		return cli_report(&e, NULL);
	return cli_finish_stdout(0);
}

const struct command cmd_init_entry = {
	"init", cmd_init, "create a cluster directory (.shardcap)", init_help,
};
