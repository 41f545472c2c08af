/* cmd-repair.c - shardcap repair: every chunk back on `replicas` workers;
 * shardcap verify: every copy checked against its digest, and repaired. */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd.h"
#include "json.h"
#include "repair.h"
#include "table.h"
#include "util.h"
#include "banned.h"

#define REPAIR_USAGE "shardcap repair [-n|--dry-run] [--json] [NAME]"
#define VERIFY_USAGE "shardcap verify [--json] [NAME]"

static const char repair_help[] =
    "usage: " REPAIR_USAGE "\n"
    "\n"
    "Gives every chunk of capture NAME (of every capture without NAME) its\n"
    "'replicas' copies again, after a worker was lost or removed or a copy\n"
    "was found damaged. Every worker is asked first; the copies of one\n"
    "that does not answer do not count. Each missing copy is made from\n"
    "the store on the reachable worker holding the fewest bytes among\n"
    "those without one, checked against the store, then recorded - a\n"
    "crash in between is finished or rolled back by the next command.\n"
    "Copies beyond the replicas (a worker back after its chunks were\n"
    "copied elsewhere) are forgotten and, once no query runs, removed\n"
    "from the workers holding the most bytes.\n"
    "\n"
    "Options:\n"
    "  -n, --dry-run   say what would be copied, copy nothing\n"
    "      --json      as JSON\n"
    "\n"
    "Exit status: 0 when every chunk has its copies; 20 when some could\n"
    "not be made (too few reachable workers, a copy failed).\n";

static const char verify_help[] =
    "usage: " VERIFY_USAGE "\n"
    "\n"
    "Checks every chunk of capture NAME (of every capture without NAME):\n"
    "the store's copy against the digest recorded when it was added, and\n"
    "every worker's copy against the store's (rsync checksums, all\n"
    "workers at once). A copy damaged or missing on a worker is forgotten\n"
    "and made again from the store (as 'shardcap repair' does). A file in\n"
    "a worker's directory of the capture that is named as one of its\n"
    "chunks but claimed by none (left by a crash, or by a query that\n"
    "copied a chunk cut meanwhile) is removed, once no query runs.\n"
    "\n"
    "Options:\n"
    "      --json      as JSON\n"
    "\n"
    "Exit status: 0 when every copy is sound or was repaired; 20 when a\n"
    "worker could not be checked or a copy could not be made again; 22\n"
    "when a chunk in the store itself is damaged (it is named; re-add the\n"
    "capture from its source).\n";

static void
print_repair(FILE *f, const struct repair_result *res, int dry_run)
{
	static const char *h[] = { "capture", "replicas", "chunks", "short",
	    "copies", "made", "failed", "no room", "extra" };
	static const int num[] = { 0, 1, 1, 1, 1, 1, 1, 1, 1 };
	struct table t;
	size_t i, made = 0, needed = 0, extra = 0, removed = 0;
	uint64_t bytes = 0;
	struct strbuf sb = STRBUF_INIT;

	for (i = 0; i < res->n_down; i++)
		fprintf(f, "worker '%s' does not answer: its copies do not "
		    "count\n", res->down[i]);
	table_init(&t, ARRAY_SIZE(h), h, num);
	for (i = 0; i < res->n_caps; i++) {
		const struct repair_capture *rc = &res->caps[i];

		table_add(&t, rc->name);
		table_addf(&t, "%u", rc->replicas);
		table_addf(&t, "%zu", rc->chunks);
		table_addf(&t, "%zu", rc->short_chunks);
		table_addf(&t, "%zu", rc->needed);
		table_addf(&t, "%zu", rc->copied);
		table_addf(&t, "%zu", rc->failed);
		table_addf(&t, "%zu", rc->no_room);
		table_addf(&t, "%zu", rc->extra);
		made += dry_run ? rc->needed - rc->no_room : rc->copied;
		extra += rc->extra;
		removed += rc->removed;
		needed += rc->needed;
		bytes += rc->bytes;
	}
	table_print(&t, f);
	table_release(&t);
	format_bytes(&sb, bytes);
	if (needed == 0)
		fprintf(f, "every chunk has its copies\n");
	else
		fprintf(f, "%s %zu of %zu missing cop%s (%s) in %.2f s\n",
		    dry_run ? "would make" : "made", made, needed,
		    needed == 1 ? "y" : "ies", sb.buf, res->seconds);
	if (extra > 0 && dry_run)
		fprintf(f, "would remove %zu cop%s beyond the replicas\n",
		    extra, extra == 1 ? "y" : "ies");
	else if (extra > 0)
		fprintf(f, "removed %zu of %zu cop%s beyond the replicas\n",
		    removed, extra, extra == 1 ? "y" : "ies");
	for (i = 0; i < res->n_caps; i++)
		if (res->caps[i].error[0])
			fprintf(f, "%s: %s\n", res->caps[i].name,
			    res->caps[i].error);
	strbuf_release(&sb);
}

static void
json_repair(struct json *j, const struct repair_result *res)
{
	size_t i;

	json_array_begin(j, "down");
	for (i = 0; i < res->n_down; i++)
		json_string(j, NULL, res->down[i]);
	json_array_end(j);
	json_array_begin(j, "captures");
	for (i = 0; i < res->n_caps; i++) {
		const struct repair_capture *rc = &res->caps[i];

		json_object_begin(j, NULL);
		json_string(j, "name", rc->name);
		json_uint(j, "replicas", rc->replicas);
		json_uint(j, "chunks", rc->chunks);
		json_uint(j, "short_chunks", rc->short_chunks);
		json_uint(j, "copies_missing", rc->needed);
		json_uint(j, "copies_made", rc->copied);
		json_uint(j, "copies_failed", rc->failed);
		json_uint(j, "no_room", rc->no_room);
		json_uint(j, "copies_extra", rc->extra);
		json_uint(j, "copies_removed", rc->removed);
		json_uint(j, "bytes", rc->bytes);
		json_string(j, "error", rc->error);
		json_object_end(j);
	}
	json_array_end(j);
	json_double(j, "seconds", res->seconds);
}

static int
parse_common(int argc, char **argv, const char *usage, const char *help,
    int allow_dry, int *dry_run, int *as_json, const char **name)
{
	static const struct option longopts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "nh", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (!allow_dry)
				return cli_usage_error(usage, "bad option");
			*dry_run = 1;
			break;
		case 'J':
			*as_json = 1;
			break;
		case 'h':
			return cli_help(help) - 1;
		default:
			return cli_usage_error(usage, "bad option");
		}
	}
	if (argc - optind > 1)
		return cli_usage_error(usage, "want at most one capture name");
	*name = argc > optind ? argv[optind] : NULL;
	return 0;
}

static int
cmd_repair(int argc, char **argv)
{
	struct repair_options opt;
	struct repair_result res;
	struct cluster cl;
	struct sc_err e;
	int status, r, as_json = 0;

	memset(&opt, 0, sizeof(opt));
	if ((status = parse_common(argc, argv, REPAIR_USAGE, repair_help, 1,
	    &opt.dry_run, &as_json, &opt.capture)) != 0)
		return status < 0 ? 0 : status;
	cli_catch_signals();
	if ((status = cli_cluster_open(&cl, CLUSTER_LOCK)) != 0)
		return status;
	opt.probe = 1;
	opt.interrupted = &cli_signal;
	sc_err_clear(&e);
	r = repair_run(&cl, &opt, &res, &e);
	if (as_json) {
		struct json j;

		json_init(&j, stdout);
		json_object_begin(&j, NULL);
		json_bool(&j, "dry_run", opt.dry_run);
		json_repair(&j, &res);
		json_string(&j, "error", r ? e.msg : "");
		json_object_end(&j);
		json_finish(&j);
	} else if (r == 0 || r == SC_ERR_WORKER) {
		print_repair(stdout, &res, opt.dry_run);
	}
	status = r == 0 ? 0 : r == SC_ERR_INTERRUPTED && cli_signal ?
	    cli_signal_status() : cli_report(&e, NULL);
	repair_result_release(&res);
	cluster_close(&cl);
	return cli_finish_stdout(status);
}

static void
print_verify(FILE *f, const struct verify_result *vr)
{
	static const char *h[] = {
		"worker", "checked", "damaged", "unchecked", "unclaimed",
	};
	static const int num[] = { 0, 1, 1, 1, 1 };
	struct table t;
	size_t i;

	table_init(&t, ARRAY_SIZE(h), h, num);
	table_add(&t, "(store)");
	table_addf(&t, "%zu", vr->store_checked);
	table_addf(&t, "%zu", vr->store_bad);
	table_add(&t, "0");
	table_add(&t, "0");
	for (i = 0; i < vr->n_workers; i++) {
		const struct verify_worker *w = &vr->workers[i];

		table_add(&t, w->name);
		table_addf(&t, "%zu", w->checked);
		table_addf(&t, "%zu", w->bad);
		table_addf(&t, "%zu", w->unknown);
		table_addf(&t, "%zu", w->unclaimed);
	}
	table_print(&t, f);
	table_release(&t);
	for (i = 0; i < vr->n_bad_files; i++)
		fprintf(f, "damaged or missing: %s\n", vr->bad_files[i]);
	for (i = 0; i < vr->n_unclaimed_files; i++)
		fprintf(f, "removed, claimed by no chunk: %s\n",
		    vr->unclaimed_files[i]);
	for (i = 0; i < vr->n_workers; i++)
		if (vr->workers[i].unknown > 0)
			fprintf(f, "not checked on '%s': %s\n",
			    vr->workers[i].name, vr->workers[i].error);
}

static int
cmd_verify(int argc, char **argv)
{
	struct repair_options opt;
	struct repair_result res;
	struct verify_result vr;
	struct cluster cl;
	struct sc_err e, e2;
	int status, r, r2 = 0, as_json = 0, dry = 0;
	size_t i, unknown = 0;

	memset(&opt, 0, sizeof(opt));
	memset(&res, 0, sizeof(res));
	if ((status = parse_common(argc, argv, VERIFY_USAGE, verify_help, 0,
	    &dry, &as_json, &opt.capture)) != 0)
		return status < 0 ? 0 : status;
	cli_catch_signals();
	if ((status = cli_cluster_open(&cl, CLUSTER_LOCK)) != 0)
		return status;
	opt.probe = 1;
	opt.interrupted = &cli_signal;
	sc_err_clear(&e);
	sc_err_clear(&e2);
	r = repair_verify(&cl, opt.capture, &cli_signal, &vr, &e);
	/* what was found bad is made again, also when the store has damage
	 * elsewhere */
	if (r == 0 || r == SC_ERR_STORE)
		r2 = repair_run(&cl, &opt, &res, &e2);
	for (i = 0; i < vr.n_workers; i++)
		unknown += vr.workers[i].unknown;
	if (as_json) {
		struct json j;

		json_init(&j, stdout);
		json_object_begin(&j, NULL);
		json_uint(&j, "store_checked", vr.store_checked);
		json_uint(&j, "store_damaged", vr.store_bad);
		json_array_begin(&j, "workers");
		for (i = 0; i < vr.n_workers; i++) {
			json_object_begin(&j, NULL);
			json_string(&j, "name", vr.workers[i].name);
			json_uint(&j, "checked", vr.workers[i].checked);
			json_uint(&j, "damaged", vr.workers[i].bad);
			json_uint(&j, "unchecked", vr.workers[i].unknown);
			json_uint(&j, "unclaimed", vr.workers[i].unclaimed);
			json_string(&j, "error", vr.workers[i].error);
			json_object_end(&j);
		}
		json_array_end(&j);
		json_array_begin(&j, "damaged");
		for (i = 0; i < vr.n_bad_files; i++)
			json_string(&j, NULL, vr.bad_files[i]);
		json_array_end(&j);
		json_array_begin(&j, "unclaimed");
		for (i = 0; i < vr.n_unclaimed_files; i++)
			json_string(&j, NULL, vr.unclaimed_files[i]);
		json_array_end(&j);
		json_object_begin(&j, "repair");
		json_repair(&j, &res);
		json_object_end(&j);
		json_string(&j, "error", r ? e.msg : r2 ? e2.msg : "");
		json_object_end(&j);
		json_finish(&j);
	} else if (r == 0 || r == SC_ERR_STORE) {
		print_verify(stdout, &vr);
		if (r2 == 0 || r2 == SC_ERR_WORKER)
			print_repair(stdout, &res, 0);
	}
	if (r != 0)
		status = r == SC_ERR_INTERRUPTED && cli_signal ?
		    cli_signal_status() : cli_report(&e, NULL);
	else if (r2 != 0)
		status = r2 == SC_ERR_INTERRUPTED && cli_signal ?
		    cli_signal_status() : cli_report(&e2, NULL);
	else if (unknown > 0) {
		cli_error("%zu cop%s could not be checked: a worker did not "
		    "answer", unknown, unknown == 1 ? "y" : "ies");
		status = sc_exit_code(SC_ERR_WORKER);
	}
	verify_result_release(&vr);
	repair_result_release(&res);
	cluster_close(&cl);
	return cli_finish_stdout(status);
}

const struct command cmd_repair_entry = {
	"repair", cmd_repair,
	"give every chunk its replicas again (after a worker is lost)",
	repair_help,
};

const struct command cmd_verify_entry = {
	"verify", cmd_verify,
	"check every copy of every chunk against its digest; repair",
	verify_help,
};
