/* cmd-add.c - shardcap add: split a capture into the store and push its
 * chunks to the workers; shardcap rm: take it away again. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "catalog.h"
#include "cli.h"
#include "cmd.h"
#include "json.h"
#include "push.h"
#include "split.h"
#include "table.h"
#include "util.h"
#include "xalloc.h"
#include "banned.h"

#define ADD_USAGE "shardcap add [--name NAME] [--replace] [--strict] [--size SIZE] [--replicas R] [--layout time|flow] [--follow [--every T]] [--settle T] [--json] [-q] [NAME] CAPTURE|DIR..."
#define RM_USAGE "shardcap rm [--force] NAME"

static const char add_help[] =
    "usage: " ADD_USAGE "\n"
    "\n"
    "Splits CAPTURE into chunks in the cluster's store (.shardcap/store/\n"
    "NAME/), places the chunks round-robin over the workers, from the one\n"
    "holding the fewest bytes on (each on R distinct workers), and pushes\n"
    "them: one 'rsync -z' per worker for all its chunks, all workers at\n"
    "once, over the worker's ssh connection (a local worker gets the same\n"
    "rsync without ssh).\n"
    "\n"
    "Many files - rotated files of a sensor (tcpdump -C or -G, dumpcap's\n"
    "ring buffer), a directory of them, a glob - make one capture: each\n"
    "file is split into chunks named after it (FILE-000001.pcap), and the\n"
    "files follow one another in the order of their first packets, not of\n"
    "their names (files whose times overlap are said so: their packets\n"
    "follow one another, they are not interleaved). pcap, pcapng and\n"
    "compressed files may be mixed. Adding the set again splits and sends\n"
    "only the files that are new or changed (size or time), and the chunks\n"
    "of files no longer in it leave the workers: give the whole set each\n"
    "time (a directory, or the same glob). The name is --name, or a first\n"
    "word that names no file (add sensor1 /data/sensor1/*.pcap), or a\n"
    "directory's own name. With --follow, the set is added\n"
    "again every --every (10s) until Ctrl-C, a line for each round that\n"
    "found something; files modified in the last --settle (10s with\n"
    "--follow, else 0) are still being written and wait (one added before\n"
    "keeps its chunks until then). A cron job can run the same add with\n"
    "--settle instead: an unchanged set of thousands of files costs a\n"
    "fraction of a second, one call on each worker.\n"
    "\n"
    "Adding a capture again sends only what changed: an unchanged capture\n"
    "is not even split again, and a capture that has grown since (packets\n"
    "appended) sends its new and changed chunks only. Chunks a worker lost\n"
    "are sent again. The catalog records a chunk on a worker only once it\n"
    "is there.\n"
    "\n"
    "Options:\n"
    "  -n, --name NAME     the capture's name (default: CAPTURE's file name\n"
    "                      without its extensions)\n"
    "  -s, --size SIZE     chunk size (default: the config's, 25M)\n"
    "  -r, --replicas R    copies of every chunk on distinct workers\n"
    "                      (default: the config's, 1)\n"
    "      --layout L      time (default, or the capture's when added\n"
    "                      before): chunks in capture order; flow: each\n"
    "                      flow whole in one chunk, so that queries that\n"
    "                      follow TCP streams give the whole-file answer\n"
    "                      (see 'shardcap help split'). Changing it splits\n"
    "                      the capture again.\n"
    "      --json          print the result as JSON\n"
    "      --replace       NAME is a capture of another file: replace it\n"
    "                      (without, that is refused, exit 11, unless the\n"
    "                      file begins as the capture did: moved or grown)\n"
    "      --strict        an incomplete last record is damage (exit 6),\n"
    "                      not the tail of a file still being written\n"
    "      --follow        add the set again every --every, until stopped\n"
    "      --every T       between rounds of --follow (default 10s)\n"
    "      --settle T      files modified within T are not added yet\n"
    "  -q, --quiet         show no progress\n"
    "  -h, --help          show this help\n"
    "\n"
    "A last record cut short - a file still being written - is a note:\n"
    "its complete packets are added, the tail waits for the next add\n"
    "(--strict: exit 6). Damage anywhere else is a warning and its\n"
    "status.\n"
    "\n"
    "Exit status: 0 when every worker holds its chunks, 20 when a worker\n"
    "could not be reached or failed (named on stderr with what ssh or rsync\n"
    "said), the statuses of 'shardcap split' for a damaged capture.\n";

static const char rm_help[] =
    "usage: " RM_USAGE "\n"
    "\n"
    "Removes capture NAME from every worker that holds chunks of it, from\n"
    "the store and from the catalog. If a worker cannot be reached the\n"
    "capture stays in the catalog with what that worker still holds;\n"
    "--force forgets it instead.\n";

struct add_cli {
	struct progress progress;
};

static void
show_progress(void *ctx, const struct add_progress *p)
{
	struct add_cli *cli = ctx;
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	if (p->phase == 0) {
		format_bytes(&sb, p->split.done);
		progress_update(&cli->progress, 0, "add: splitting %s, %zu "
		    "chunks", sb.buf, p->split.chunks);
	} else {
		strbuf_addstr(&sb, "add: pushing");
		for (i = 0; i < p->n_workers && sb.len < 200; i++)
			if (p->workers[i].chunks > 0)
				strbuf_addf(&sb, "  %s %zu/%zu", p->workers[i].name,
				    p->workers[i].sent_files, p->workers[i].chunks);
		progress_update(&cli->progress, 0, "%s", sb.buf);
	}
	strbuf_release(&sb);
}

static void
print_workers_table(const struct push_worker *ws, size_t n)
{
	static const char *headers[] = {
		"worker", "chunks", "bytes", "sent", "file data sent",
		"on the wire", "status",
	};
	static const int numeric[] = { 0, 1, 1, 1, 1, 1, 0 };
	struct strbuf sb = STRBUF_INIT;
	struct table t;
	size_t i;

	table_init(&t, ARRAY_SIZE(headers), headers, numeric);
	for (i = 0; i < n; i++) {
		const struct push_worker *w = &ws[i];

		table_add(&t, w->name);
		table_addf(&t, "%zu", w->chunks);
		strbuf_reset(&sb);
		format_bytes(&sb, w->bytes);
		table_add(&t, sb.buf);
		table_addf(&t, "%zu", w->sent_files);
		strbuf_reset(&sb);
		format_bytes(&sb, w->literal_bytes);
		table_add(&t, sb.buf);
		strbuf_reset(&sb);
		format_bytes(&sb, w->wire_bytes);
		table_add(&t, sb.buf);
		table_add(&t, w->failed ? "FAILED" : "ok");
	}
	table_print(&t, stdout);
	table_release(&t);
	strbuf_release(&sb);
}

static const char *const file_states[] = { "unchanged", "new", "changed",
    "removed" };

static void
print_json(const char *name, const struct add_result *res)
{
	struct json j;
	size_t i;

	json_init(&j, stdout);
	json_object_begin(&j, NULL);
	json_string(&j, "name", name);
	json_bool(&j, "existed", res->existed);
	json_bool(&j, "source_unchanged", res->source_unchanged);
	json_uint(&j, "chunks", res->chunks);
	json_uint(&j, "chunks_new", res->chunks_new);
	json_uint(&j, "chunks_changed", res->chunks_changed);
	json_uint(&j, "chunks_removed", res->chunks_removed);
	json_uint(&j, "packets", res->packets);
	json_uint(&j, "bytes", res->bytes);
	json_uint(&j, "replicas", res->replicas);
	if (res->files != NULL) {
		json_uint(&j, "overlaps", res->overlaps);
		json_array_begin(&j, "files");
		for (i = 0; i < res->n_files; i++) {
			json_object_begin(&j, NULL);
			json_string(&j, "path", res->files[i].path);
			json_string(&j, "state", file_states[res->files[i].state]);
			json_object_end(&j);
		}
		json_array_end(&j);
	}
	json_array_begin(&j, "workers");
	for (i = 0; i < res->n_workers; i++) {
		const struct push_worker *w = &res->workers[i];

		json_object_begin(&j, NULL);
		json_string(&j, "name", w->name);
		json_uint(&j, "chunks", w->chunks);
		json_uint(&j, "bytes", w->bytes);
		json_uint(&j, "files_sent", w->sent_files);
		json_uint(&j, "file_bytes_sent", w->sent_bytes);
		json_uint(&j, "literal_bytes", w->literal_bytes);
		json_uint(&j, "wire_bytes", w->wire_bytes);
		json_bool(&j, "ok", !w->failed);
		if (w->failed)
			json_string(&j, "error", w->error);
		else
			json_null(&j, "error");
		json_object_end(&j);
	}
	json_array_end(&j);
	json_object_end(&j);
	json_finish(&j);
}

/* Tells of damage after good packets: an incomplete last record (a file
 * still being written: the next add takes it) is a note, unless
 * --strict; anything else a warning. Returns whether it is to end the
 * add with the damage's status. */
static int
damage_report(const struct add_options *opt, const char *path,
    const struct sc_err *d, uint64_t dropped, uint64_t packets)
{
	struct strbuf sb = STRBUF_INIT;

	if (packets > 0)
		strbuf_addf(&sb, "the %llu complete packets before it",
		    (unsigned long long)packets);
	else
		strbuf_addstr(&sb, "the complete packets before it");
	if (d->code == SC_ERR_TRUNCATED && !opt->strict) {
		cli_note("'%s': incomplete tail at byte %llu, %llu bytes left "
		    "for the next add (a file still being written); added %s",
		    path, (unsigned long long)d->offset,
		    (unsigned long long)dropped, sb.buf);
		strbuf_release(&sb);
		return 0;
	}
	cli_warning("'%s' is damaged at byte %llu: %s; added %s, dropped %llu "
	    "bytes", path, (unsigned long long)d->offset, d->msg, sb.buf,
	    (unsigned long long)dropped);
	strbuf_release(&sb);
	return 1;
}

/* One add: of the capture, or of the set of files (set), once. */
static int
add_round(struct add_options *opt, int set, int json, int quiet,
    int follow)
{
	struct add_result res;
	struct add_cli cli;
	struct cluster cl;
	struct sc_err e;
	int r, status;
	size_t i;

	memset(&res, 0, sizeof(res));
	if ((status = cli_cluster_open(&cl, CLUSTER_LOCK)) != 0)
		return status;
	progress_init(&cli.progress, !quiet);
	opt->interrupted = &cli_signal;
	opt->progress = show_progress;
	opt->progress_ctx = &cli;
	sc_err_clear(&e);
	if (!set) {
		/* a capture made of many files stays one, given one file */
		struct cat_capture cap;
		struct cat_source *src = NULL;
		size_t n_src = 0;

		if (catalog_capture_get(cl.cat, opt->name, &cap, &e) == 0 &&
		    catalog_sources(cl.cat, cap.id, &src, &n_src, &e) == 0)
			set = n_src > 0;
		catalog_sources_free(src, n_src);
		sc_err_clear(&e);
	}
	r = set ? push_add_set(&cl, opt, &res, &e) :
	    push_add(&cl, opt, &res, &e);
	progress_done(&cli.progress);
	if (r != 0 && r != SC_ERR_WORKER) {
		status = cli_report(&e, res.bad_file != NULL ? res.bad_file :
		    set ? NULL : opt->input);
		goto out;
	}
	if (res.files == NULL && res.files_waiting > 0) {
		if (!follow)
			printf("'%s': nothing to add yet: %zu file%s still being "
			    "written\n", opt->name, res.files_waiting,
			    res.files_waiting == 1 ? " is" : "s are");
	} else if (follow && res.source_unchanged) {
		/* following: a round that found nothing says nothing */
	} else if (json) {
		print_json(opt->name, &res);
	} else {
		struct strbuf sb = STRBUF_INIT;

		format_bytes(&sb, res.bytes);
		if (follow) {
			struct sc_time now = { (int64_t)time(NULL), 0 };

			strbuf_reset(&sb);
			format_time(&sb, &now, 0);
			printf("%s UTC ", sb.buf);
			strbuf_reset(&sb);
			format_bytes(&sb, res.bytes);
		}
		if (res.files != NULL)
			printf("'%s': %zu file%s: %zu new, %zu changed, %zu "
			    "removed, %zu unchanged\n", opt->name, res.n_files -
			    res.files_by_state[ADD_FILE_GONE], res.n_files -
			    res.files_by_state[ADD_FILE_GONE] == 1 ? "" : "s",
			    res.files_by_state[ADD_FILE_NEW],
			    res.files_by_state[ADD_FILE_CHANGED],
			    res.files_by_state[ADD_FILE_GONE],
			    res.files_by_state[ADD_FILE_SAME]);
		if (res.files_waiting > 0)
			printf("'%s': %zu file%s still being written, not added "
			    "yet\n", opt->name, res.files_waiting,
			    res.files_waiting == 1 ? "" : "s");
		if (res.source_unchanged)
			printf("'%s' is unchanged since it was added (%zu chunks)"
			    "\n", opt->name, res.chunks);
		else if (!res.existed)
			printf("added '%s': %zu chunks, %llu packets, %s\n",
			    opt->name, res.chunks,
			    (unsigned long long)res.packets, sb.buf);
		else
			printf("'%s' changed: %zu new chunk%s, %zu changed, %zu "
			    "removed, %zu unchanged (%zu chunks, %s)\n", opt->name,
			    res.chunks_new, res.chunks_new == 1 ? "" : "s",
			    res.chunks_changed, res.chunks_removed,
			    res.chunks - res.chunks_new - res.chunks_changed,
			    res.chunks, sb.buf);
		strbuf_release(&sb);
		print_workers_table(res.workers, res.n_workers);
	}
	for (i = 0; i < res.n_workers; i++)
		if (res.workers[i].failed)
			cli_error("worker '%s' (%s): %s", res.workers[i].name,
			    res.workers[i].where, res.workers[i].error);
	status = r == SC_ERR_WORKER ? sc_exit_code(SC_ERR_WORKER) : 0;
	if (res.overlaps > 0)
		cli_warning("%zu file%s of '%s' overlap%s the one before in time: "
		    "%s; the packets of each follow the other's, not "
		    "interleaved", res.overlaps, res.overlaps == 1 ? "" : "s",
		    opt->name, res.overlaps == 1 ? "s" : "", res.overlap);
	for (i = 0; i < res.n_files; i++) {
		const struct add_file *af = &res.files[i];

		if (af->damage.code == 0)
			continue;
		if (damage_report(opt, af->path, &af->damage,
		    af->dropped_bytes, 0) && status == 0)
			status = sc_exit_code(af->damage.code);
	}
	if (res.split.damage.code != 0 && damage_report(opt, opt->input,
	    &res.split.damage, res.split.dropped_bytes, res.packets) &&
	    status == 0)
		status = sc_exit_code(res.split.damage.code);

	status = cli_finish_stdout(status);
out:
	add_result_release(&res);
	cluster_close(&cl);
	return status;
}

static int
cmd_add(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "size", required_argument, NULL, 's' },
		{ "replicas", required_argument, NULL, 'r' },
		{ "layout", required_argument, NULL, 'L' },
		{ "json", no_argument, NULL, 'J' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "follow", no_argument, NULL, 'F' },
		{ "replace", no_argument, NULL, 'R' },
		{ "strict", no_argument, NULL, 'T' },
		{ "every", required_argument, NULL, 'E' },
		{ "settle", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct add_options opt;
	char *derived = NULL;
	uint64_t v;
	int c, json = 0, quiet = 0, status, set = 0, follow = 0;
	int named_first = 0;
	double every = 10, settle = -1;
	struct stat st;

	memset(&opt, 0, sizeof(opt));
	opt.layout = -1;
	while ((c = getopt_long(argc, argv, "n:s:r:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			opt.name = optarg;
			break;
		case 's':
			if (parse_size(optarg, &opt.size) != 0 ||
			    opt.size < 4096)
				return cli_usage_error(ADD_USAGE, "bad --size '%s': "
				    "want a byte count of 4K or more", optarg);
			break;
		case 'r':
			if (parse_uint(optarg, 1, 64, &v) != 0)
				return cli_usage_error(ADD_USAGE, "bad --replicas "
				    "'%s': want 1 to 64", optarg);
			opt.replicas = (unsigned)v;
			break;
		case 'L':
			if ((opt.layout = split_layout_from_name(optarg)) < 0)
				return cli_usage_error(ADD_USAGE, "bad --layout "
				    "'%s': want time or flow", optarg);
			break;
		case 'J':
			json = 1;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'F':
			follow = 1;
			break;
		case 'R':
			opt.replace = 1;
			break;
		case 'T':
			opt.strict = 1;
			break;
		case 'E':
		case 'S':
			if (parse_duration(optarg, c == 'E' ? &every : &settle) != 0)
				return cli_usage_error(ADD_USAGE, "bad --%s '%s': "
				    "want a duration such as 30s, 2m", c == 'E' ?
				    "every" : "settle", optarg);
			break;
		case 'h':
			return cli_help(add_help);
		default:
			return cli_usage_error(ADD_USAGE, "bad option");
		}
	}
	if (argc - optind < 1)
		return cli_usage_error(ADD_USAGE, "add needs a capture, files or "
		    "a directory");
	if (follow && every < 1)
		return cli_usage_error(ADD_USAGE, "--every: at least 1s");
	/* add NAME FILE|DIR...: a first word that names no file and has
	 * no capture's extension (a mistyped file is not taken for a
	 * name), followed by files, is the capture's name */
	if (opt.name == NULL && argc - optind >= 2 &&
	    valid_name(argv[optind]) && stat(argv[optind], &st) < 0 &&
	    errno == ENOENT) {
		char *bare = name_from_path(argv[optind]);

		if (strcmp(bare, argv[optind]) == 0) {
			opt.name = argv[optind++];
			named_first = 1;
		}
		free(bare);
	}
	opt.input = argv[optind];
	opt.inputs = argv + optind;
	opt.n_inputs = (size_t)(argc - optind);
	set = opt.n_inputs > 1 || named_first || (stat(opt.input, &st) == 0 &&
	    S_ISDIR(st.st_mode));
	if (opt.name == NULL && opt.n_inputs > 1)
		return cli_usage_error(ADD_USAGE, "a capture of many files needs "
		    "--name");
	if (opt.name == NULL) {
		/* a directory: its name */
		size_t len = strlen(opt.input);

		derived = xstrdup(opt.input);
		while (len > 1 && derived[len - 1] == '/')
			derived[--len] = '\0';
		if (!set) {
			free(derived);
			derived = name_from_path(opt.input);
		} else if (strrchr(derived, '/') != NULL) {
			char *base = xstrdup(strrchr(derived, '/') + 1);

			free(derived);
			derived = base;
		}
		opt.name = derived;
	}
	if (!valid_name(opt.name)) {
		cli_error("bad capture name '%s': give --name (1-64 letters, "
		    "digits, '.', '_', '-', not first '.' or '-')", opt.name);
		free(derived);
		return 2;
	}
	/* files still being written wait: 10 s unchanged by default when
	 * following a directory, none otherwise */
	opt.settle = settle >= 0 ? settle : follow ? 10 : 0;
	if ((follow || opt.settle > 0) && !set)
		return cli_usage_error(ADD_USAGE, "--follow and --settle are for "
		    "a directory or files of one capture");
	cli_catch_signals();
	if (!follow) {
		status = add_round(&opt, set, json, quiet, 0);
		free(derived);
		return status;
	}
	/* --follow: a round every `every` seconds, until a signal */
	for (;;) {
		double until;

		status = add_round(&opt, set, json, 1, 1);
		if (cli_signal || status == sc_exit_code(SC_ERR_USAGE))
			break;
		fflush(stdout);
		for (until = monotonic_seconds() + every; !cli_signal &&
		    monotonic_seconds() < until;)
			usleep(100000);
		if (cli_signal)
			break;
	}
	free(derived);
	return cli_signal ? cli_signal_status() : status;
}

static int
cmd_rm(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct push_worker *ws = NULL;
	struct cluster cl;
	struct sc_err e;
	size_t n = 0, i;
	int c, force = 0, r, status;

	while ((c = getopt_long(argc, argv, "fh", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			force = 1;
			break;
		case 'h':
			return cli_help(rm_help);
		default:
			return cli_usage_error(RM_USAGE, "bad option");
		}
	}
	if (argc - optind != 1)
		return cli_usage_error(RM_USAGE, "rm needs one capture name");
	if (!valid_name(argv[optind])) {
		cli_error("bad capture name '%s'", argv[optind]);
		return 2;
	}
	if ((status = cli_cluster_open(&cl, CLUSTER_LOCK)) != 0)
		return status;
	cli_catch_signals();
	sc_err_clear(&e);
	r = push_remove(&cl, argv[optind], force, &cli_signal, &ws, &n, &e);
	for (i = 0; i < n; i++)
		if (ws[i].failed && (!force || strstr(ws[i].error, "config") == NULL))
			cli_error("worker '%s'%s%s%s: %s", ws[i].name,
			    ws[i].where[0] ? " (" : "", ws[i].where,
			    ws[i].where[0] ? ")" : "", ws[i].error);
	if (r == 0) {
		printf("removed '%s' from %zu worker%s, the store and the "
		    "catalog\n", argv[optind], n, n == 1 ? "" : "s");
		status = cli_finish_stdout(0);
	} else {
		status = cli_report(&e, NULL);
	}
	free(ws);
	cluster_close(&cl);
	return status;
}

const struct command cmd_add_entry = {
	"add", cmd_add, "split a capture and push its chunks to the workers",
	add_help,
};

const struct command cmd_rm_entry = {
	"rm", cmd_rm, "remove a capture from the workers and the cluster",
	rm_help,
};
