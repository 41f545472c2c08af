/* cmd-worker.c - shardcap worker add|rm|list: the cluster's workers. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "catalog.h"
#include "cli.h"
#include "cluster.h"
#include "child.h"
#include "cmd.h"
#include "json.h"
#include "remote.h"
#include "repair.h"
#include "table.h"
#include "util.h"
#include "xalloc.h"
#include "banned.h"

#define WORKER_USAGE "shardcap worker add NAME [USER@]HOST[:PORT]:/DIR [--jobs N] [--identity FILE]\n" \
	"       shardcap worker add NAME --local /DIR [--jobs N]\n" \
	"       shardcap worker rm NAME [--force]\n" \
	"       shardcap worker list [--json]"

static const char worker_help[] =
    "usage: " WORKER_USAGE "\n"
    "\n"
    "add: adds a worker to the cluster: a machine reached by ssh, whose\n"
    "directory /DIR holds its chunks, or with --local a directory on this\n"
    "machine (no ssh). The worker is written to .shardcap/config; its\n"
    "chunks come with the next 'shardcap add'. ssh runs in batch mode\n"
    "through the user's own ssh configuration, agent and known_hosts.\n"
    "\n"
    "rm: removes a worker from the config and the catalog. A worker that\n"
    "holds chunks is drained first: each of its chunks gets its replicas\n"
    "on the other workers (copied from the store, as 'shardcap repair'\n"
    "does), then its copies are deleted there (if it answers). When the\n"
    "others cannot take them, nothing is removed (exit 20); --force then\n"
    "forgets its copies without draining (the store keeps every chunk;\n"
    "'shardcap repair' places them anew).\n"
    "\n"
    "list: the workers, how they are reached, and what they hold.\n"
    "\n"
    "Options:\n"
    "      --jobs N        jobs to run at once on it (default: its cores)\n"
    "      --identity FILE ssh private key for it\n"
    "      --local         the worker is a directory on this machine\n"
    "      --force         rm: forget the chunks it holds, do not drain\n"
    "      --json          list: as JSON\n"
    "  -h, --help          show this help\n";

/* Parses [user@]host[:port]:/dir ([v6:addr] in brackets) into w. */
static int
parse_location(const char *s, struct config_worker *w)
{
	const char *at = strchr(s, '@'), *h, *rest, *colon_dir;
	char *host;

	if (at != NULL) {
		w->user = xstrndup(s, (size_t)(at - s));
		h = at + 1;
	} else {
		h = s;
	}
	if (*h == '[') {
		const char *end = strchr(h, ']');

		if (end == NULL)
			return -1;
		host = xstrndup(h + 1, (size_t)(end - h - 1));
		rest = end + 1;
	} else {
		const char *c = strchr(h, ':');

		if (c == NULL)
			return -1;
		host = xstrndup(h, (size_t)(c - h));
		rest = c;
	}
	w->host = host;
	if (*rest != ':')
		return -1;
	rest++;
	if (*rest != '/') {
		uint64_t port;
		char *num;

		colon_dir = strchr(rest, ':');
		if (colon_dir == NULL)
			return -1;
		num = xstrndup(rest, (size_t)(colon_dir - rest));
		if (parse_uint(num, 1, 65535, &port) != 0) {
			free(num);
			return -1;
		}
		free(num);
		w->port = (unsigned)port;
		rest = colon_dir + 1;
	}
	if (*rest != '/')
		return -1;
	w->dir = xstrdup(rest);
	return 0;
}

static int
worker_add(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "jobs", required_argument, NULL, 'j' },
		{ "identity", required_argument, NULL, 'i' },
		{ "local", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct config_worker w;
	struct cluster cl;
	struct sc_err e;
	char *path;
	uint64_t jobs = 0;
	int c, local = 0, status;

	memset(&w, 0, sizeof(w));
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			if (parse_uint(optarg, 1, 4096, &jobs) != 0)
				return cli_usage_error(WORKER_USAGE,
				    "bad --jobs '%s'", optarg);
			break;
		case 'i':
			free(w.identity);
			w.identity = realpath(optarg, NULL);
			if (w.identity == NULL) {
				cli_error("cannot find the identity '%s'", optarg);
				return 2;
			}
			break;
		case 'l':
			local = 1;
			break;
		case 'h':
			return cli_help(worker_help);
		default:
			return cli_usage_error(WORKER_USAGE, "bad option");
		}
	}
	if (argc - optind != 2)
		return cli_usage_error(WORKER_USAGE, "worker add needs a name "
		    "and where the worker is");
	w.name = xstrdup(argv[optind]);
	w.jobs = (unsigned)jobs;
	w.local = local;
	if (local) {
		w.dir = xstrdup(argv[optind + 1]);
	} else if (parse_location(argv[optind + 1], &w) != 0) {
		status = cli_usage_error(WORKER_USAGE, "bad location '%s': want "
		    "[USER@]HOST[:PORT]:/DIR", argv[optind + 1]);
		goto out;
	}
	if (local && w.identity != NULL) {
		status = cli_usage_error(WORKER_USAGE, "--identity is for ssh "
		    "workers");
		goto out;
	}
	sc_err_clear(&e);
	if (config_check_worker(&w, &e) != 0) {
		cli_error("%s", e.msg);
		status = 2;
		goto out;
	}
	if ((status = cli_cluster_open(&cl, CLUSTER_LOCK)) != 0)
		goto out;
	if (cluster_worker(&cl, w.name) != NULL) {
		cli_error("worker '%s' exists already", w.name);
		cluster_close(&cl);
		status = sc_exit_code(SC_ERR_EXISTS);
		goto out;
	}
	path = xasprintf("%s/config", cl.dir);
	if (config_add_worker(path, &w, &e) == 0) {
		int64_t id;

		if (catalog_worker_ensure(cl.cat, w.name, &id, &e) == 0) {
			struct strbuf sb = STRBUF_INIT;

			remote_describe(&sb, &w);
			printf("added worker '%s' (%s)\n", w.name, sb.buf);
			strbuf_release(&sb);
			status = 0;
		} else {
			status = cli_report(&e, NULL);
		}
	} else {
		status = cli_report(&e, NULL);
	}
	free(path);
	cluster_close(&cl);
out:
	free(w.name);
	free(w.host);
	free(w.user);
	free(w.identity);
	free(w.dir);
	return status ? status : cli_finish_stdout(0);
}

/* Deletes worker name's copies of the captures it holds, best effort:
 * they are about to be forgotten. */
static void
drop_copies(struct cluster *cl, const char *name)
{
	const struct config_worker *cw = cluster_worker(cl, name);
	struct cat_capture *caps = NULL;
	struct strvec args = STRVEC_INIT, av = STRVEC_INIT;
	struct child ch, *chp = &ch;
	struct sc_err e;
	size_t n = 0, i;

	sc_err_clear(&e);
	if (cw == NULL || catalog_captures(cl->cat, &caps, &n, &e) != 0)
		return;
	for (i = 0; i < n; i++)
		strvec_pushf(&args, "%s/%s", cw->dir, caps[i].name);
	free(caps);
	child_init(&ch, NULL);
	/* the agent's remove, the agent sent along */
	if (n > 0 && agent_argv(&av, &cl->cfg, cw, cl->control_dir, 1,
	    "remove", (const char *const *)args.v, args.n, &e) == 0) {
		agent_child_init(&ch, av.v, cw);
		if (child_start(&ch, &e) == 0) {
			agent_send(&ch);
			if (child_wait_all(&chp, 1, &cli_signal, &e) == 0 &&
			    child_exit_code(&ch) != 0)
				cli_warning("could not delete the copies on "
				    "worker '%s': %s (they are forgotten all "
				    "the same)", name, child_last_error(&ch));
		}
	}
	child_release(&ch);
	strvec_release(&av);
	strvec_release(&args);
}

/* Gives every chunk worker name holds its replicas elsewhere. */
static int
drain(struct cluster *cl, const char *name)
{
	struct repair_options opt;
	struct repair_result res;
	struct sc_err e;
	size_t i, made = 0;
	int r;

	memset(&opt, 0, sizeof(opt));
	opt.exclude = name;
	opt.probe = 1;
	opt.interrupted = &cli_signal;
	sc_err_clear(&e);
	r = repair_run(cl, &opt, &res, &e);
	for (i = 0; i < res.n_caps; i++)
		made += res.caps[i].copied;
	if (r == SC_ERR_WORKER) {
		cli_error("cannot drain worker '%s': %s; nothing removed "
		    "('--force' forgets its copies without draining)", name,
		    e.msg);
		repair_result_release(&res);
		return sc_exit_code(r);
	}
	repair_result_release(&res);
	if (r != 0)
		return r == SC_ERR_INTERRUPTED && cli_signal ?
		    cli_signal_status() : cli_report(&e, NULL);
	printf("drained worker '%s': %zu cop%s made on the others\n", name,
	    made, made == 1 ? "y" : "ies");
	drop_copies(cl, name);
	return 0;
}

static int
worker_rm(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cat_worker *ws = NULL;
	struct cluster cl;
	struct sc_err e;
	size_t n = 0, i;
	const char *name;
	char *path;
	int c, force = 0, status, known = 0, drained = 0;
	uint64_t held = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "fh", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			force = 1;
			break;
		case 'h':
			return cli_help(worker_help);
		default:
			return cli_usage_error(WORKER_USAGE, "bad option");
		}
	}
	if (argc - optind != 1)
		return cli_usage_error(WORKER_USAGE, "worker rm needs a name");
	name = argv[optind];
	cli_catch_signals();
	if ((status = cli_cluster_open(&cl, CLUSTER_LOCK)) != 0)
		return status;
	sc_err_clear(&e);
	if (catalog_workers(cl.cat, &ws, &n, &e) != 0) {
		status = cli_report(&e, NULL);
		goto out;
	}
	for (i = 0; i < n; i++)
		if (strcmp(ws[i].name, name) == 0) {
			known = 1;
			held = ws[i].chunks;
		}
	if (!known && cluster_worker(&cl, name) == NULL) {
		cli_error("no worker '%s'", name);
		status = sc_exit_code(SC_ERR_NOT_FOUND);
		goto out;
	}
	if (held > 0 && !force) {
		if ((status = drain(&cl, name)) != 0)
			goto out;
		drained = 1;
	}
	path = xasprintf("%s/config", cl.dir);
	if (cluster_worker(&cl, name) != NULL &&
	    config_remove_worker(path, name, &e) != 0) {
		free(path);
		status = cli_report(&e, NULL);
		goto out;
	}
	free(path);
	if (catalog_worker_delete(cl.cat, name, &e) != 0) {
		status = cli_report(&e, NULL);
		goto out;
	}
	printf("removed worker '%s'%s\n", name, !held ? "" : drained ?
	    " (drained)" : " and forgot its chunks");
	status = cli_finish_stdout(0);
out:
	free(ws);
	cluster_close(&cl);
	return status;
}

static int
worker_list(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *headers[] = {
		"worker", "kind", "where", "jobs", "chunks", "bytes",
	};
	static const int numeric[] = { 0, 0, 0, 1, 1, 1 };
	struct cat_worker *ws = NULL;
	struct cluster cl;
	struct sc_err e;
	size_t n = 0, i, k;
	int c, json = 0, status;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'J':
			json = 1;
			break;
		case 'h':
			return cli_help(worker_help);
		default:
			return cli_usage_error(WORKER_USAGE, "bad option");
		}
	}
	if ((status = cli_cluster_open(&cl, 0)) != 0)
		return status;
	sc_err_clear(&e);
	if (catalog_workers(cl.cat, &ws, &n, &e) != 0) {
		status = cli_report(&e, NULL);
		cluster_close(&cl);
		return status;
	}
	if (json) {
		struct json j;

		json_init(&j, stdout);
		json_array_begin(&j, NULL);
		for (k = 0; k < cl.cfg.n_workers; k++) {
			const struct config_worker *w = &cl.cfg.workers[k];
			uint64_t chunks = 0, bytes = 0;

			for (i = 0; i < n; i++)
				if (strcmp(ws[i].name, w->name) == 0) {
					chunks = ws[i].chunks;
					bytes = ws[i].bytes;
				}
			json_object_begin(&j, NULL);
			json_string(&j, "name", w->name);
			json_string(&j, "kind", w->local ? "local" : "ssh");
			json_string(&j, "host", w->host);
			if (w->port)
				json_uint(&j, "port", w->port);
			else
				json_null(&j, "port");
			json_string(&j, "user", w->user);
			json_string(&j, "dir", w->dir);
			json_uint(&j, "jobs", w->jobs);
			json_uint(&j, "chunks", chunks);
			json_uint(&j, "bytes", bytes);
			json_object_end(&j);
		}
		json_array_end(&j);
		json_finish(&j);
	} else {
		struct table t;

		table_init(&t, ARRAY_SIZE(headers), headers, numeric);
		for (k = 0; k < cl.cfg.n_workers; k++) {
			const struct config_worker *w = &cl.cfg.workers[k];
			struct strbuf sb = STRBUF_INIT;
			uint64_t chunks = 0, bytes = 0;

			for (i = 0; i < n; i++)
				if (strcmp(ws[i].name, w->name) == 0) {
					chunks = ws[i].chunks;
					bytes = ws[i].bytes;
				}
			remote_describe(&sb, w);
			table_add(&t, w->name);
			table_add(&t, w->local ? "local" : "ssh");
			table_add(&t, sb.buf);
			if (w->jobs)
				table_addf(&t, "%u", w->jobs);
			else
				table_add(&t, "cores");
			table_addf(&t, "%llu", (unsigned long long)chunks);
			strbuf_reset(&sb);
			format_bytes(&sb, bytes);
			table_add(&t, sb.buf);
			strbuf_release(&sb);
		}
		table_print(&t, stdout);
		table_release(&t);
	}
	free(ws);
	cluster_close(&cl);
	return cli_finish_stdout(0);
}

static int
cmd_worker(int argc, char **argv)
{
	if (argc < 2)
		return cli_usage_error(WORKER_USAGE, "worker needs add, rm or "
		    "list");
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)
		return cli_help(worker_help);
	if (strcmp(argv[1], "add") == 0)
		return worker_add(argc - 1, argv + 1);
	if (strcmp(argv[1], "rm") == 0)
		return worker_rm(argc - 1, argv + 1);
	if (strcmp(argv[1], "list") == 0)
		return worker_list(argc - 1, argv + 1);
	return cli_usage_error(WORKER_USAGE, "unknown worker command '%s'",
	    argv[1]);
}

const struct command cmd_worker_entry = {
	"worker", cmd_worker, "add, remove and list workers", worker_help,
};
