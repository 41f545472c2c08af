/* cmd-split.c - shardcap split: cut a capture into chunks. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd.h"
#include "json.h"
#include "split.h"
#include "strbuf.h"
#include "table.h"
#include "util.h"
#include "xalloc.h"
#include "banned.h"

#define SPLIT_USAGE "shardcap split [-o DIR] [-s SIZE] [-n NAME] [-f] [--layout time|flow] [--digest ALGO] [--json] CAPTURE"

static const char split_help[] =
    "usage: " SPLIT_USAGE "\n"
    "\n"
    "Cuts CAPTURE (pcap or pcapng, plain or .gz or .zst, told apart by its\n"
    "content; '-' reads standard input) into chunks of at most SIZE bytes\n"
    "at packet boundaries, named NAME-000001.pcap, NAME-000002.pcap, ...\n"
    "(.pcapng for pcapng) so that they sort in capture order. Every chunk is\n"
    "a valid capture on its own; the packets of all chunks, in order, are\n"
    "exactly the packets of CAPTURE, byte for byte. A chunk is larger than\n"
    "SIZE only when one packet alone is.\n"
    "\n"
    "With --layout flow, each chunk holds whole flows instead: all packets\n"
    "between two IP endpoints (addresses, protocol, ports), both ways, are\n"
    "in one chunk, in capture order, so that a query whose output depends\n"
    "only on the packets of a flow (TCP reassembly: HTTP, TLS, DNS over TCP)\n"
    "gives over the chunks what it gives over CAPTURE. Packets of no IP flow\n"
    "and other blocks go, in order, to chunks of their own. A flow larger\n"
    "than SIZE gets a group of consecutive chunks of its own, which shardcap\n"
    "run reads as one stream (--json: each chunk's group). CAPTURE is read\n"
    "twice (not from standard input). docs/formats.md says how flows are\n"
    "told.\n"
    "\n"
    "Prints a manifest: for every chunk its file, bytes, packets, first and\n"
    "last time stamp (UTC) and a digest of its content.\n"
    "\n"
    "Options:\n"
    "  -o, --output DIR  write the chunks to DIR, created if missing\n"
    "                    (default: the current directory)\n"
    "  -s, --size SIZE   largest chunk (default 25M); K, M, G are powers of\n"
    "                    1024, KB, MB, GB powers of 1000\n"
    "  -n, --name NAME   chunk name prefix (default: CAPTURE's file name\n"
    "                    without its extensions); letters, digits, '.', '_'\n"
    "                    and '-'\n"
    "  -f, --force       replace chunks of the same name, and remove those\n"
    "                    an earlier, longer split left beyond the last one\n"
    "      --layout L    time (default: chunks in capture order) or flow\n"
    "                    (each flow whole in one chunk)\n"
    "      --digest ALGO xxh128 (default; as 'xxhsum -H2' prints it) or\n"
    "                    sha256 (as 'sha256sum' prints it; slower)\n"
    "      --json        print the manifest as JSON\n"
    "  -q, --quiet       show no progress\n"
    "  -h, --help        show this help\n"
    "\n"
    "A damaged capture (truncated, impossible length, bad block trailer,\n"
    "unknown interface, damaged compression) is split up to the damage: the\n"
    "chunks hold every complete packet before it, a warning says how many\n"
    "bytes were dropped, and the exit status names the damage. If the first\n"
    "header is already bad, nothing is written. An interrupted or failed\n"
    "split removes every chunk it wrote.\n"
    "\n"
    "Exit status: 0 success, 1 system error, 2 usage, 3 empty input, 4 not a\n"
    "capture, 5 unsupported version, 6 truncated, 7 impossible length,\n"
    "8 block trailer mismatch, 9 unknown interface, 10 damaged compressed\n"
    "stream, 11 chunks exist, 12 limit reached, 128+N killed by signal N.\n";

struct split_cli {
	struct progress progress;
	const char *input;
};

static void
show_progress(void *ctx, const struct split_progress *p)
{
	struct split_cli *cli = ctx;
	struct strbuf done = STRBUF_INIT, total = STRBUF_INIT;
	double secs = monotonic_seconds() - cli->progress.start;
	double rate = secs > 0 ? (double)p->done / secs / 1e6 : 0;

	format_bytes(&done, p->done);
	if (p->total > 0) {
		format_bytes(&total, p->total);
		progress_update(&cli->progress, 0,
		    "split: %3.0f%%  %s of %s  %zu chunks  %.0f MB/s",
		    100.0 * (double)p->done / (double)p->total, done.buf,
		    total.buf, p->chunks, rate);
	} else {
		progress_update(&cli->progress, 0,
		    "split: %s  %zu chunks  %.0f MB/s", done.buf, p->chunks, rate);
	}
	strbuf_release(&done);
	strbuf_release(&total);
}

static const char *
compression_name(enum source_compression c)
{
	return c == SOURCE_GZIP ? "gzip" : c == SOURCE_ZSTD ? "zstd" : "none";
}

static void
print_json(const struct split_options *opt, const struct split_result *res)
{
	struct strbuf sb = STRBUF_INIT;
	char hex[DIGEST_MAX_HEX + 1];
	struct json j;
	size_t i;

	json_init(&j, stdout);
	json_object_begin(&j, NULL);
	json_string(&j, "capture", opt->input);
	json_string(&j, "name", opt->name);
	json_string(&j, "format", capture_format_name(res->format));
	json_string(&j, "compression", compression_name(res->compression));
	json_string(&j, "directory", opt->dir);
	json_uint(&j, "size_limit", opt->size);
	json_string(&j, "layout", split_layout_name(opt->layout));
	json_string(&j, "digest_algorithm", digest_algo_name(opt->digest));
	json_uint(&j, "packets", res->packets);
	json_uint(&j, "bytes", res->input_bytes);
	json_uint(&j, "flows", res->flows);
	json_uint(&j, "cut_flows", res->cut_flows);
	json_bool(&j, "flows_exact", res->flows_exact);
	json_array_begin(&j, "chunks");
	for (i = 0; i < res->n_chunks; i++) {
		const struct split_chunk *c = res->chunks[i];
		char *path = xasprintf("%s/%s", opt->dir, c->file);

		json_object_begin(&j, NULL);
		json_uint(&j, "index", i + 1);
		json_string(&j, "file", c->file);
		json_string(&j, "path", path);
		json_uint(&j, "bytes", c->bytes);
		json_uint(&j, "packets", c->packets);
		if (c->has_time) {
			strbuf_reset(&sb);
			format_time_iso(&sb, &c->first);
			json_string(&j, "first_time", sb.buf);
			strbuf_reset(&sb);
			format_time_iso(&sb, &c->last);
			json_string(&j, "last_time", sb.buf);
		} else {
			json_null(&j, "first_time");
			json_null(&j, "last_time");
		}
		digest_hex(opt->digest, c->digest, hex);
		json_string(&j, "digest", hex);
		/* the number of the group's first chunk, or 0 */
		json_uint(&j, "group", c->part > 0 ? i + 2 - c->part : 0);
		json_object_end(&j);
		free(path);
	}
	json_array_end(&j);
	if (res->damage.code != 0) {
		json_object_begin(&j, "damage");
		json_string(&j, "kind", sc_strerror(res->damage.code));
		json_uint(&j, "exit_status", (uint64_t)sc_exit_code(res->damage.code));
		json_uint(&j, "offset", res->damage.offset);
		json_string(&j, "message", res->damage.msg);
		json_uint(&j, "dropped_bytes", res->dropped_bytes);
		json_object_end(&j);
	} else {
		json_null(&j, "damage");
	}
	json_object_end(&j);
	json_finish(&j);
	strbuf_release(&sb);
}

static void
print_table(const struct split_options *opt, const struct split_result *res)
{
	const char *headers[] = {
		"file", "bytes", "packets", "first (UTC)", "last (UTC)",
		digest_algo_name(opt->digest),
	};
	static const int numeric[] = { 0, 1, 1, 0, 0, 0 };
	struct strbuf sb = STRBUF_INIT;
	char hex[DIGEST_MAX_HEX + 1];
	struct table t;
	size_t i;

	table_init(&t, ARRAY_SIZE(headers), headers, numeric);
	for (i = 0; i < res->n_chunks; i++) {
		const struct split_chunk *c = res->chunks[i];

		table_add(&t, c->file);
		table_addf(&t, "%llu", (unsigned long long)c->bytes);
		table_addf(&t, "%llu", (unsigned long long)c->packets);
		if (c->has_time) {
			strbuf_reset(&sb);
			format_time(&sb, &c->first, res->time_digits);
			table_add(&t, sb.buf);
			strbuf_reset(&sb);
			format_time(&sb, &c->last, res->time_digits);
			table_add(&t, sb.buf);
		} else {
			table_add(&t, "-");
			table_add(&t, "-");
		}
		digest_hex(opt->digest, c->digest, hex);
		table_add(&t, hex);
	}
	table_print(&t, stdout);
	table_release(&t);
	strbuf_reset(&sb);
	format_bytes(&sb, res->input_bytes);
	printf("%zu chunk%s of %s in '%s': %llu packets, %s, %s%llu IP flows",
	    res->n_chunks, res->n_chunks == 1 ? "" : "s",
	    capture_format_name(res->format), opt->dir,
	    (unsigned long long)res->packets, sb.buf,
	    res->flows_exact ? "" : "at least ", (unsigned long long)res->flows);
	if (res->cut_flows > 0)
		printf(" (%llu cut by chunk boundaries: --layout flow keeps "
		    "flows whole)", (unsigned long long)res->cut_flows);
	{
		size_t groups = 0;

		for (i = 0; i < res->n_chunks; i++)
			groups += res->chunks[i]->part == 1;
		if (groups > 0)
			printf(" (%zu larger than a chunk, each in a group of "
			    "consecutive chunks read as one stream)", groups);
	}
	putchar('\n');
	strbuf_release(&sb);
}

static int
cmd_split(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "size", required_argument, NULL, 's' },
		{ "name", required_argument, NULL, 'n' },
		{ "force", no_argument, NULL, 'f' },
		{ "digest", required_argument, NULL, 'D' },
		{ "layout", required_argument, NULL, 'L' },
		{ "json", no_argument, NULL, 'J' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct split_options opt;
	struct split_result res;
	struct split_cli cli;
	struct sc_err e;
	char *derived = NULL;
	int c, json = 0, quiet = 0, r, status;

	memset(&opt, 0, sizeof(opt));
	opt.dir = ".";
	opt.size = 25u << 20;
	while ((c = getopt_long(argc, argv, "o:s:n:fqh", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			opt.dir = optarg;
			break;
		case 's':
			if (parse_size(optarg, &opt.size) != 0 || opt.size == 0)
				return cli_usage_error(SPLIT_USAGE,
				    "bad --size '%s': want a byte count such "
				    "as 25M or 100MB", optarg);
			break;
		case 'n':
			opt.name = optarg;
			break;
		case 'f':
			opt.force = 1;
			break;
		case 'D':
			if ((r = digest_algo_from_name(optarg)) < 0)
				return cli_usage_error(SPLIT_USAGE,
				    "bad --digest '%s': want xxh128 or sha256",
				    optarg);
			opt.digest = (enum digest_algo)r;
			break;
		case 'L':
			if ((r = split_layout_from_name(optarg)) < 0)
				return cli_usage_error(SPLIT_USAGE,
				    "bad --layout '%s': want time or flow",
				    optarg);
			opt.layout = (enum split_layout)r;
			break;
		case 'J':
			json = 1;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			return cli_help(split_help);
		default:
			return cli_usage_error(SPLIT_USAGE, "bad option");
		}
	}
	if (argc - optind != 1)
		return cli_usage_error(SPLIT_USAGE, argc - optind < 1 ?
		    "no capture given" : "more than one capture given");
	opt.input = argv[optind];
	if (opt.name == NULL) {
		if (strcmp(opt.input, "-") == 0)
			return cli_usage_error(SPLIT_USAGE,
			    "reading standard input needs --name");
		opt.name = derived = name_from_path(opt.input);
		if (!valid_name(opt.name)) {
			cli_error("cannot name chunks after '%s'; give --name "
			    "(letters, digits, '.', '_', '-')", opt.input);
			free(derived);
			return 2;
		}
	} else if (!valid_name(opt.name)) {
		return cli_usage_error(SPLIT_USAGE, "bad --name '%s': use "
		    "1-64 letters, digits, '.', '_', '-', not first '.' or '-'",
		    opt.name);
	}

	cli_catch_signals();
	progress_init(&cli.progress, !quiet);
	cli.input = opt.input;
	opt.interrupted = &cli_signal;
	opt.progress = show_progress;
	opt.progress_ctx = &cli;

	sc_err_clear(&e);
	r = split_capture(&opt, &res, &e);
	progress_done(&cli.progress);
	if (r != 0) {
		status = cli_report(&e, opt.input);
		free(derived);
		return status;
	}
	if (json)
		print_json(&opt, &res);
	else
		print_table(&opt, &res);
	status = 0;
	if (res.damage.code != 0) {
		cli_warning("'%s' is damaged at byte %llu: %s; kept the %llu "
		    "complete packets before it, dropped %llu bytes",
		    opt.input, (unsigned long long)res.damage.offset,
		    res.damage.msg, (unsigned long long)res.packets,
		    (unsigned long long)res.dropped_bytes);
		status = sc_exit_code(res.damage.code);
	}
	split_result_release(&res);
	free(derived);
	return cli_finish_stdout(status);
}

const struct command cmd_split_entry = {
	"split", cmd_split, "cut a capture into chunks at packet boundaries",
	split_help,
};
