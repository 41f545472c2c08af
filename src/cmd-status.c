/* cmd-status.c - shardcap status: what the cluster holds, and where;
 * shardcap check: whether every worker is usable. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "check.h"
#include "cli.h"
#include "cmd.h"
#include "json.h"
#include "remote.h"
#include "slot.h"
#include "table.h"
#include "util.h"
#include "xalloc.h"
#include "banned.h"

#define STATUS_USAGE "shardcap status [--json] [NAME]"
#define CHECK_USAGE "shardcap check [--tool NAME]... [--json]"

static const char status_help[] =
    "usage: " STATUS_USAGE "\n"
    "\n"
    "Without NAME: per worker the chunks and bytes it holds, and per\n"
    "capture its chunks, packets, bytes, and whether every chunk has its\n"
    "replicas. With NAME: every chunk of that capture and the workers\n"
    "holding it. A copy that is not the chunk's current content (the\n"
    "capture changed and the worker was not reached since) is 'stale' and\n"
    "does not count. Reads the catalog only; no worker is contacted.\n";

static const char check_help[] =
    "usage: " CHECK_USAGE "\n"
    "\n"
    "Asks every worker, all at once: can it be reached (ssh in batch mode,\n"
    "within the configured connect timeout), is its directory writable,\n"
    "which of tshark, tcpdump, ngrep, editcap, mergecap and rsync it has\n"
    "and in which version (on the PATH its shell has), how many cores and\n"
    "how much free disk it has, and whether tshark can start warm there\n"
    "(the warm-start library at the path it has beside this shardcap: see\n"
    "'shardcap help run'). A worker whose tzdata lacks this machine's time\n"
    "zone is named, without failing the check: its tools print local\n"
    "times in UTC (--json: zone_missing).\n"
    "\n"
    "Options:\n"
    "      --tool NAME  a tool every worker must have (repeat for more; any\n"
    "                   command name): by default tshark, editcap (for\n"
    "                   run --since/--until) and rsync\n"
    "      --json       as JSON\n"
    "\n"
    "Exit status: 0 when every worker is reachable, writable and has the\n"
    "tools; 20 when one is not (each such worker named, with what it\n"
    "lacks).\n";

/* Per capture: how many chunks have all their replicas, how many lack
 * some, how many copies are stale. */
struct capture_health {
	size_t complete, missing, stale;
};

static void
health(const struct cat_capture *cap, const struct cat_chunk *chunks,
    size_t n, const struct cat_placement *pl, size_t n_pl,
    struct capture_health *h)
{
	size_t i, k;

	memset(h, 0, sizeof(*h));
	for (i = 0; i < n; i++) {
		unsigned current = 0;

		for (k = 0; k < n_pl; k++) {
			if (pl[k].chunk_id != chunks[i].id)
				continue;
			if (pl[k].current)
				current++;
			else
				h->stale++;
		}
		if (current >= cap->replicas)
			h->complete++;
		else
			h->missing++;
	}
}

/* n chunk moves or cuts (what) a crash left open, the first in state */
static void
say_open(const char *what, size_t n, const char *state)
{
	printf("\n%zu chunk %s%s left open by a command that stopped (%s ...); "
	    "the next command that changes the cluster finishes or rolls %s "
	    "back\n", n, what, n == 1 ? "" : "s", state,
	    n == 1 ? "it" : "them");
}

static int
status_all(struct cluster *cl, int json)
{
	struct cat_worker *ws = NULL;
	struct cat_capture *caps = NULL;
	size_t n_ws = 0, n_caps = 0, i, k;
	struct sc_err e;
	struct json j;
	int status = 0;

	sc_err_clear(&e);
	if (catalog_workers(cl->cat, &ws, &n_ws, &e) != 0 ||
	    catalog_captures(cl->cat, &caps, &n_caps, &e) != 0) {
		free(ws);
		return cli_report(&e, NULL);
	}
	if (json) {
		json_init(&j, stdout);
		json_object_begin(&j, NULL);
		json_string(&j, "cluster", cl->dir);
		json_array_begin(&j, "workers");
	} else {
		printf("cluster %s: %zu worker%s, %zu capture%s\n\n", cl->dir,
		    cl->cfg.n_workers, cl->cfg.n_workers == 1 ? "" : "s",
		    n_caps, n_caps == 1 ? "" : "s");
	}
	{
		static const char *h[] = { "worker", "where", "chunks", "bytes" };
		static const int num[] = { 0, 0, 1, 1 };
		struct table t;

		table_init(&t, ARRAY_SIZE(h), h, num);
		for (k = 0; k < cl->cfg.n_workers; k++) {
			const struct config_worker *w = &cl->cfg.workers[k];
			struct strbuf sb = STRBUF_INIT;
			uint64_t chunks = 0, bytes = 0;

			for (i = 0; i < n_ws; i++)
				if (strcmp(ws[i].name, w->name) == 0) {
					chunks = ws[i].chunks;
					bytes = ws[i].bytes;
				}
			remote_describe(&sb, w);
			if (json) {
				json_object_begin(&j, NULL);
				json_string(&j, "name", w->name);
				json_string(&j, "where", sb.buf);
				json_uint(&j, "chunks", chunks);
				json_uint(&j, "bytes", bytes);
				json_object_end(&j);
			} else {
				table_add(&t, w->name);
				table_add(&t, sb.buf);
				table_addf(&t, "%llu", (unsigned long long)chunks);
				strbuf_reset(&sb);
				format_bytes(&sb, bytes);
				table_add(&t, sb.buf);
			}
			strbuf_release(&sb);
		}
		if (!json) {
			table_print(&t, stdout);
			putchar('\n');
		}
		table_release(&t);
	}
	if (json) {
		json_array_end(&j);
		json_array_begin(&j, "captures");
	}
	{
		static const char *h[] = {
			"capture", "format", "chunks", "packets", "bytes",
			"replicas", "complete", "missing", "stale",
		};
		static const int num[] = { 0, 0, 1, 1, 1, 1, 1, 1, 1 };
		struct table t;

		table_init(&t, ARRAY_SIZE(h), h, num);
		for (i = 0; i < n_caps; i++) {
			struct cat_chunk *chunks = NULL;
			struct cat_placement *pl = NULL;
			size_t n_chunks = 0, n_pl = 0;
			struct capture_health hl;
			struct strbuf sb = STRBUF_INIT;

			if (catalog_chunks(cl->cat, caps[i].id, &chunks,
			    &n_chunks, &e) != 0 || catalog_placements(cl->cat,
			    caps[i].id, &pl, &n_pl, &e) != 0) {
				status = cli_report(&e, NULL);
				free(chunks);
				break;
			}
			health(&caps[i], chunks, n_chunks, pl, n_pl, &hl);
			if (json) {
				json_object_begin(&j, NULL);
				json_string(&j, "name", caps[i].name);
				json_string(&j, "format", caps[i].format);
				json_string(&j, "source", caps[i].source);
				json_uint(&j, "chunks", n_chunks);
				json_uint(&j, "packets", caps[i].packets);
				json_uint(&j, "bytes", caps[i].bytes);
				json_uint(&j, "replicas", caps[i].replicas);
				json_string(&j, "layout", caps[i].layout);
				json_uint(&j, "complete", hl.complete);
				json_uint(&j, "missing", hl.missing);
				json_uint(&j, "stale", hl.stale);
				json_object_end(&j);
			} else {
				table_add(&t, caps[i].name);
				table_add(&t, caps[i].format);
				table_addf(&t, "%zu", n_chunks);
				table_addf(&t, "%llu",
				    (unsigned long long)caps[i].packets);
				format_bytes(&sb, caps[i].bytes);
				table_add(&t, sb.buf);
				table_addf(&t, "%u", caps[i].replicas);
				table_addf(&t, "%zu", hl.complete);
				table_addf(&t, "%zu", hl.missing);
				table_addf(&t, "%zu", hl.stale);
			}
			strbuf_release(&sb);
			free(chunks);
			free(pl);
		}
		if (!json && n_caps > 0)
			table_print(&t, stdout);
		table_release(&t);
	}
	{
		struct cat_move *mv = NULL;
		size_t n_mv = 0;

		/* moves a crash left open: the next locking command ends them */
		if (status == 0 && catalog_moves_open(cl->cat, &mv, &n_mv,
		    &e) != 0)
			status = cli_report(&e, NULL);
		if (json) {
			json_array_end(&j);
			json_array_begin(&j, "moves_open");
			for (i = 0; i < n_mv; i++) {
				json_object_begin(&j, NULL);
				json_string(&j, "capture", mv[i].capture);
				json_string(&j, "chunk", mv[i].file);
				json_string(&j, "from", mv[i].from);
				json_string(&j, "to", mv[i].to);
				json_string(&j, "state", mv[i].state);
				json_object_end(&j);
			}
		} else if (n_mv > 0) {
			say_open("move", n_mv, mv[0].state);
		}
		free(mv);
	}
	{
		struct cat_cut *cuts = NULL;
		size_t n_cuts = 0;

		/* and cuts */
		if (status == 0 && catalog_cuts_open(cl->cat, &cuts, &n_cuts,
		    &e) != 0)
			status = cli_report(&e, NULL);
		if (json) {
			json_array_end(&j);
			json_array_begin(&j, "cuts_open");
			for (i = 0; i < n_cuts; i++) {
				json_object_begin(&j, NULL);
				json_string(&j, "capture", cuts[i].capture);
				json_string(&j, "chunk", cuts[i].file);
				json_uint(&j, "parts", cuts[i].parts);
				json_string(&j, "state", cuts[i].state);
				json_object_end(&j);
			}
		} else if (n_cuts > 0) {
			say_open("cut", n_cuts, cuts[0].state);
		}
		free(cuts);
	}
	if (json) {
		json_array_end(&j);
		json_object_end(&j);
		json_finish(&j);
	}
	free(ws);
	free(caps);
	return status ? status : cli_finish_stdout(0);
}

static int
status_capture(struct cluster *cl, const char *name, int json)
{
	struct cat_capture cap;
	struct cat_chunk *chunks = NULL;
	struct cat_placement *pl = NULL;
	struct cat_source *src = NULL;
	size_t n = 0, n_pl = 0, n_src = 0, i, k;
	struct capture_health hl;
	struct sc_err e;
	int status;

	sc_err_clear(&e);
	if (catalog_capture_get(cl->cat, name, &cap, &e) != 0 ||
	    catalog_chunks(cl->cat, cap.id, &chunks, &n, &e) != 0 ||
	    catalog_placements(cl->cat, cap.id, &pl, &n_pl, &e) != 0 ||
	    catalog_sources(cl->cat, cap.id, &src, &n_src, &e) != 0) {
		status = cli_report(&e, NULL);
		free(chunks);
		free(pl);
		return status;
	}
	health(&cap, chunks, n, pl, n_pl, &hl);
	if (json) {
		struct json j;

		json_init(&j, stdout);
		json_object_begin(&j, NULL);
		json_string(&j, "name", cap.name);
		json_string(&j, "source", cap.source);
		json_string(&j, "format", cap.format);
		json_string(&j, "digest_algorithm", cap.digest_algo);
		json_uint(&j, "chunk_size", cap.chunk_size);
		json_string(&j, "layout", cap.layout);
		if (cap.flows >= 0) {
			json_int(&j, "flows", cap.flows);
			json_int(&j, "cut_flows", cap.cut_flows);
		} else {
			json_null(&j, "flows");
			json_null(&j, "cut_flows");
		}
		json_uint(&j, "replicas", cap.replicas);
		json_uint(&j, "packets", cap.packets);
		json_uint(&j, "bytes", cap.bytes);
		json_uint(&j, "complete", hl.complete);
		json_uint(&j, "missing", hl.missing);
		json_uint(&j, "stale", hl.stale);
		/* a capture made of many files: each, in capture order */
		json_array_begin(&j, "files");
		for (i = 0; i < n_src; i++) {
			json_object_begin(&j, NULL);
			json_string(&j, "path", src[i].path);
			json_string(&j, "format", src[i].format);
			json_uint(&j, "size", src[i].size);
			json_uint(&j, "packets", src[i].packets);
			json_string(&j, "min_time", src[i].min_time[0] ?
			    src[i].min_time : NULL);
			json_string(&j, "max_time", src[i].max_time[0] ?
			    src[i].max_time : NULL);
			json_uint(&j, "chunks", src[i].chunks);
			json_object_end(&j);
		}
		json_array_end(&j);
		json_array_begin(&j, "chunks");
		for (i = 0; i < n; i++) {
			json_object_begin(&j, NULL);
			json_uint(&j, "seq", chunks[i].seq);
			json_string(&j, "file", chunks[i].file);
			json_uint(&j, "bytes", chunks[i].bytes);
			json_uint(&j, "packets", chunks[i].packets);
			json_string(&j, "first_time", chunks[i].first_time[0] ?
			    chunks[i].first_time : NULL);
			json_string(&j, "last_time", chunks[i].last_time[0] ?
			    chunks[i].last_time : NULL);
			json_string(&j, "min_time", chunks[i].min_time[0] ?
			    chunks[i].min_time : NULL);
			json_string(&j, "max_time", chunks[i].max_time[0] ?
			    chunks[i].max_time : NULL);
			json_string(&j, "digest", chunks[i].digest);
			json_uint(&j, "flow_part", chunks[i].part);
			json_array_begin(&j, "workers");
			for (k = 0; k < n_pl; k++)
				if (pl[k].chunk_id == chunks[i].id && pl[k].current)
					json_string(&j, NULL, pl[k].worker);
			json_array_end(&j);
			json_array_begin(&j, "stale");
			for (k = 0; k < n_pl; k++)
				if (pl[k].chunk_id == chunks[i].id && !pl[k].current)
					json_string(&j, NULL, pl[k].worker);
			json_array_end(&j);
			json_object_end(&j);
		}
		json_array_end(&j);
		json_object_end(&j);
		json_finish(&j);
	} else {
		static const char *h[] = {
			"chunk", "file", "bytes", "packets", "workers",
		};
		static const int num[] = { 1, 0, 1, 1, 0 };
		struct strbuf sb = STRBUF_INIT;
		struct table t;

		format_bytes(&sb, cap.bytes);
		printf("%s: %s from %s, %zu chunks%s, %llu packets, %s; %u "
		    "replica%s: %zu chunks complete, %zu missing copies, %zu "
		    "stale\n\n", cap.name, cap.format, cap.source, n,
		    strcmp(cap.layout, "flow") == 0 ? " by flow" : "",
		    (unsigned long long)cap.packets, sb.buf, cap.replicas,
		    cap.replicas == 1 ? "" : "s", hl.complete, hl.missing,
		    hl.stale);
		if (n_src > 0) {
			static const char *fh[] = {
				"file", "from", "to", "packets", "chunks",
			};
			static const int fnum[] = { 0, 0, 0, 1, 1 };
			struct strbuf when = STRBUF_INIT;
			struct table ft;

			table_init(&ft, ARRAY_SIZE(fh), fh, fnum);
			for (i = 0; i < n_src; i++) {
				struct sc_time tm;

				table_add(&ft, src[i].path);
				strbuf_reset(&when);
				if (parse_time_iso(src[i].min_time, &tm) == 0)
					format_time(&when, &tm, 6);
				table_add(&ft, when.len ? when.buf : "-");
				strbuf_reset(&when);
				if (parse_time_iso(src[i].max_time, &tm) == 0)
					format_time(&when, &tm, 6);
				table_add(&ft, when.len ? when.buf : "-");
				table_addf(&ft, "%llu",
				    (unsigned long long)src[i].packets);
				table_addf(&ft, "%zu", src[i].chunks);
			}
			printf("%zu files, in capture order (times UTC):\n",
			    n_src);
			table_print(&ft, stdout);
			table_release(&ft);
			strbuf_release(&when);
			putchar('\n');
		}
		table_init(&t, ARRAY_SIZE(h), h, num);
		for (i = 0; i < n; i++) {
			table_addf(&t, "%u", chunks[i].seq);
			table_add(&t, chunks[i].file);
			table_addf(&t, "%llu", (unsigned long long)chunks[i].bytes);
			table_addf(&t, "%llu",
			    (unsigned long long)chunks[i].packets);
			strbuf_reset(&sb);
			for (k = 0; k < n_pl; k++) {
				if (pl[k].chunk_id != chunks[i].id)
					continue;
				strbuf_addf(&sb, "%s%s%s", sb.len ? " " : "",
				    pl[k].worker, pl[k].current ? "" : "(stale)");
			}
			table_add(&t, sb.len ? sb.buf : "-");
		}
		table_print(&t, stdout);
		table_release(&t);
		strbuf_release(&sb);
	}
	free(chunks);
	free(pl);
	catalog_sources_free(src, n_src);
	return cli_finish_stdout(0);
}

static int
cmd_status(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cluster cl;
	int c, json = 0, status;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'J':
			json = 1;
			break;
		case 'h':
			return cli_help(status_help);
		default:
			return cli_usage_error(STATUS_USAGE, "bad option");
		}
	}
	if (argc - optind > 1)
		return cli_usage_error(STATUS_USAGE, "at most one capture");
	if ((status = cli_cluster_open(&cl, 0)) != 0)
		return status;
	if (argc - optind == 1)
		status = status_capture(&cl, argv[optind], json);
	else
		status = status_all(&cl, json);
	cluster_close(&cl);
	return status;
}

static int
cmd_check(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'J' },
		{ "tool", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *tools[CHECK_REQUIRED_MAX];
	size_t n_tools = 0;
	struct check_result *res = NULL;
	struct cluster cl;
	struct sc_err e;
	char *zone;
	size_t n = 0, i, t;
	int c, json = 0, status, bad = 0;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'J':
			json = 1;
			break;
		case 't':
			if (!check_tool_name_ok(optarg))
				return cli_usage_error(CHECK_USAGE, "bad --tool "
				    "'%s': want a command's name", optarg);
			if (n_tools == CHECK_REQUIRED_MAX)
				return cli_usage_error(CHECK_USAGE, "at most %d "
				    "--tool", CHECK_REQUIRED_MAX);
			tools[n_tools++] = optarg;
			break;
		case 'h':
			return cli_help(check_help);
		default:
			return cli_usage_error(CHECK_USAGE, "bad option");
		}
	}
	if (argc - optind != 0)
		return cli_usage_error(CHECK_USAGE, "check takes no arguments");
	if ((status = cli_cluster_open(&cl, 0)) != 0)
		return status;
	cli_catch_signals();
	sc_err_clear(&e);
	zone = run_local_zone();
	if (check_workers(&cl, n_tools ? tools : NULL, n_tools, zone,
	    &cli_signal, &res, &n, &e) != 0) {
		status = cli_report(&e, NULL);
		free(res);
		free(zone);
		cluster_close(&cl);
		return status;
	}
	for (i = 0; i < n; i++)
		if (!res[i].reachable || !res[i].writable || res[i].n_missing)
			bad++;
	if (json) {
		struct json j;

		json_init(&j, stdout);
		json_array_begin(&j, NULL);
		for (i = 0; i < n; i++) {
			json_object_begin(&j, NULL);
			json_string(&j, "name", res[i].name);
			json_string(&j, "where", res[i].where);
			json_bool(&j, "reachable", res[i].reachable);
			json_bool(&j, "writable", res[i].writable);
			json_uint(&j, "cores", res[i].cores);
			json_uint(&j, "free_bytes", res[i].free_bytes);
			json_object_begin(&j, "tools");
			for (t = 0; t < CHECK_TOOLS; t++)
				json_string(&j, check_tool_names[t],
				    res[i].tools[t][0] ? res[i].tools[t] : NULL);
			json_object_end(&j);
			json_array_begin(&j, "missing");
			for (t = 0; t < res[i].n_missing; t++)
				json_string(&j, NULL, res[i].missing[t]);
			json_array_end(&j);
			json_bool(&j, "warm", res[i].warm);
			json_bool(&j, "zone_missing", res[i].no_zone);
			json_string(&j, "error", res[i].error[0] ?
			    res[i].error : NULL);
			json_object_end(&j);
		}
		json_array_end(&j);
		json_finish(&j);
	} else {
		static const char *h[] = {
			"worker", "where", "reachable", "writable", "cores",
			"free", "tshark", "tcpdump", "ngrep", "editcap",
			"mergecap", "rsync", "warm",
		};
		static const int num[] = { 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0,
		    0 };
		struct table tb;
		struct strbuf sb = STRBUF_INIT;

		table_init(&tb, ARRAY_SIZE(h), h, num);
		for (i = 0; i < n; i++) {
			table_add(&tb, res[i].name);
			table_add(&tb, res[i].where);
			table_add(&tb, res[i].reachable ? "yes" : "NO");
			table_add(&tb, !res[i].reachable ? "-" :
			    res[i].writable ? "yes" : "NO");
			if (res[i].reachable)
				table_addf(&tb, "%u", res[i].cores);
			else
				table_add(&tb, "-");
			strbuf_reset(&sb);
			if (res[i].reachable)
				format_bytes(&sb, res[i].free_bytes);
			table_add(&tb, res[i].reachable ? sb.buf : "-");
			for (t = 0; t < CHECK_TOOLS; t++)
				table_add(&tb, !res[i].reachable ? "-" :
				    res[i].tools[t][0] ? res[i].tools[t] : "missing");
			table_add(&tb, !res[i].reachable ? "-" :
			    res[i].warm ? "yes" : "no");
		}
		table_print(&tb, stdout);
		table_release(&tb);
		strbuf_release(&sb);
		for (i = 0; i < n; i++)
			if (!res[i].reachable)
				printf("%s: %s\n", res[i].name, res[i].error);
			else if (res[i].n_missing > 0) {
				printf("%s: no ", res[i].name);
				for (t = 0; t < res[i].n_missing; t++)
					printf("%s%s", t ? ", " : "",
					    res[i].missing[t]);
				printf(" on its PATH\n");
			}
		/* (not a fault: its tools run, and print UTC) */
		for (i = 0; i < n; i++)
			if (res[i].reachable && res[i].no_zone)
				printf("%s: no time zone '%s' (tzdata): its tools "
				    "print local times in UTC\n", res[i].name,
				    zone);
	}
	free(res);
	free(zone);
	cluster_close(&cl);
	status = bad ? sc_exit_code(SC_ERR_WORKER) : 0;
	return cli_finish_stdout(status);
}

const struct command cmd_status_entry = {
	"status", cmd_status, "what the cluster holds and where", status_help,
};

const struct command cmd_check_entry = {
	"check", cmd_check, "whether every worker is usable", check_help,
};
