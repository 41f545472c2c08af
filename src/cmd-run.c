/* cmd-run.c - shardcap run: a command over every chunk of a capture;
 * shardcap stats: how the recent runs went. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "catalog.h"
#include "child.h"
#include "cli.h"
#include "cmd.h"
#include "file.h"
#include "flow.h"
#include "json.h"
#include "plan.h"
#include "remote.h"
#include "run.h"
#include "slot.h"
#include "split.h"
#include "strvec.h"
#include "table.h"
#include "util.h"
#include "zmerge.h"
#include "xalloc.h"
#include "banned.h"

#define RUN_USAGE "shardcap run NAME|CAPTURE [--since TIME] [--until TIME] [--chunks LIST] [--sample N [--seed S]] [--ordered] [--tag] [--pcap-out FILE] [--stdin] [--per-chunk] [--stats] [--timeout T] [--keep-going] [--balance[=ALGO]] -- COMMAND ARG...\n       shardcap run --rerun ID [--ordered] [--tag] [--pcap-out FILE] [--stats]"
/* Every chunk's output is there, but a worker failed or a copy was bad. */
#define RUN_EXIT_RECOVERED 23
#define STATS_USAGE "shardcap stats [--last N] [--json] [NAME]"

static const char run_help[] =
    "usage: " RUN_USAGE "\n"
    "\n"
    "Runs COMMAND once for every chunk of capture NAME, on a worker that\n"
    "holds it, every worker running up to its 'jobs' at once; {} in any\n"
    "argument is the chunk's path there. The output streams back: each\n"
    "chunk's output whole as soon as its job ends, never mixed with\n"
    "another's inside a line; the jobs' stderr goes to stderr, each line\n"
    "prefixed with [chunk worker].\n"
    "\n"
    "With a capture file instead of NAME, and no cluster needed, the file\n"
    "is split into a temporary directory, the command runs on local\n"
    "workers (one per core) and the directory is removed afterwards.\n"
    "\n"
    "  shardcap run dns -- tshark -r {} -Y 'dns.flags.response==1' \\\n"
    "      -T fields -e dns.qry.name | sort | uniq -c | sort -rn\n"
    "  shardcap run big.pcap -- tcpdump -nr {} 'udp port 53'\n"
    "  shardcap run dns --pcap-out dns.pcap -- tcpdump -r {} -w - 'port 53'\n"
    "\n"
    "Options:\n"
    "      --since TIME    only the packets from TIME on (see 'Time windows')\n"
    "      --until TIME    only the packets before TIME\n"
    "      --chunks LIST   only these chunks (by number from 1, as in\n"
    "                      'shardcap status': 1-3,17,40-)\n"
    "      --sample N      only N chunks spread over the capture, one\n"
    "                      picked at random in each of N equal stretches\n"
    "      --seed S        the sample's choice (default 1): the same seed,\n"
    "                      the same chunks\n"
    "      --ordered       write the outputs in chunk order\n"
    "      --tag           prefix every line with the chunk's file and the\n"
    "                      worker, tab-separated\n"
    "      --pcap-out FILE the jobs write captures to stdout (-w -); merge\n"
    "                      them, in chunk order, into FILE ('-': stdout)\n"
    "      --stdin         the chunk is the command's stdin (no {} needed)\n"
    "      --per-chunk     print each chunk's tshark -z tables, unmerged\n"
    "      --stats         after the run, per-worker times on stderr, and\n"
    "                      how many flows the chunks' boundaries cut\n"
    "      --balance[=ALGO] after a run of a cluster's capture, balance it\n"
    "                      from this run's times (shardcap balance; ALGO\n"
    "                      default or paper), the plan on stderr\n"
    "      --size SIZE     chunk size for a capture file (default 25M)\n"
    "      --layout L      for a capture file: time (default) or flow, each\n"
    "                      flow whole in one chunk (see 'shardcap help\n"
    "                      split')\n"
    "      --workers N     local workers for a capture file (default: cores)\n"
    "      --timeout T     a job running longer than T per chunk (30s, 2m)\n"
    "                      or than T times the median job (5x, per byte)\n"
    "                      is a straggler: its chunks start again on\n"
    "                      another worker, the first to finish wins and\n"
    "                      the other is killed, its output thrown away\n"
    "      --rerun ID      run ID's command again on the chunks it left\n"
    "                      (failed or not run), with its window; no\n"
    "                      capture and no command are given\n"
    "      --keep-going    run every chunk even when the command fails\n"
    "                      alike on two (the same exit status and\n"
    "                      stderr): by default that is the command's own\n"
    "                      error, and the run stops at once\n"
    "      --no-warm       start tshark for each chunk (or stream), not\n"
    "                      once per slot; see 'Warm start' below\n"
    "      --batch N       stream up to N chunks' worth of a worker's chunks\n"
    "                      (in bytes: parts of a cut chunk count as the\n"
    "                      chunk) into one tshark, tcpdump or ngrep\n"
    "                      (default " RUN_DEFAULT_BATCH_S " for tshark, 1 for the others);\n"
    "                      1: one process per chunk.\n"
    "                      See 'Streaming' below.\n"
    "  -q, --quiet         show no progress\n"
    "  -h, --help          show this help\n"
    "\n"
    "Failures: a worker whose shell cannot run the command (exit 126 or\n"
    "127: not on its PATH) is left out, its chunks run elsewhere (exit 23,\n"
    "naming it). The command's own error - the same exit status and\n"
    "stderr from two chunks, or tshark started warm ending with a message\n"
    "before it opens a file (a bad display filter) - stops the run at\n"
    "once, shown once (exit 21). A run that left chunks says its number:\n"
    "--rerun runs those again; both outputs make the whole run's. On a\n"
    "terminal a progress line (chunks, bytes, rate, ETA, running,\n"
    "failed) stays under the jobs' stderr, and a summary line ends it.\n"
    "\n"
    "Warm start: a tool started once per chunk pays its start-up (tshark:\n"
    "0.5 s and 160 MB) every time. When COMMAND is tshark reading -r {},\n"
    "each slot starts it once, with shardcap-warm.so preloaded, on a file\n"
    "of its own; once set up, tshark forks for each chunk, the child reading\n"
    "the chunk: one process and exit status per chunk, the same lines and\n"
    "per-file results (-c, -z --per-chunk, -2, --ordered, --pcap-out) as\n"
    "tshark over each chunk, memory of one chunk, one start per slot\n"
    "(local workers: one for them all). A worker without the library\n"
    "(looked for at the same path as here) streams instead.\n"
    "\n"
    "Streaming: when COMMAND is tshark (not warm) or, with --batch 2 or\n"
    "more, tcpdump reading -r {} (ngrep: -I {}), with no option that\n"
    "counts, sums up or writes per file (-c, -z, -q, -2, -w, ...),\n"
    "consecutive chunks of a worker, up to N times the largest chunk's\n"
    "bytes, are streamed into one process (pcap records follow one\n"
    "header, pcapng sections follow one another): the same lines, fewer\n"
    "start-ups, memory bounded by N chunks' bytes. Each chunk's cost is\n"
    "the time until it had gone into the stream. Not with --ordered, --tag,\n"
    "--pcap-out or --stdin, which need every line's chunk.\n"
    "\n"
    "Time windows: TIME is ISO 8601 (2015-05-12T10:00:00Z, '2015-05-12\n"
    "10:00', 2015-05-12; with Z or an offset such as +02:00, none is\n"
    "UTC), seconds since the epoch (1431424800.5), now, or a span before\n"
    "now (-90s, -10m, -1h, -2d). Only the chunks whose time stamps reach\n"
    "into [since, until) run; a chunk with packets outside it is cut to it\n"
    "on its worker (editcap, of wireshark-common) and streamed into the\n"
    "command, which must read -r {} (tshark, tcpdump), -I {} (ngrep) or\n"
    "--stdin. The lines are those the command gives over the capture cut\n"
    "to the window.\n"
    "\n"
    "Statistics: tshark -q -z conv,TYPE, -z io,phs and -z io,stat (each\n"
    "with a filter or not) print the whole capture's table: the chunks'\n"
    "tables merged, exactly as tshark prints it over the whole file. A\n"
    "conversation with packets in two chunks cannot be merged exactly\n"
    "(tshark rounds its bytes and duration): in the time layout that is\n"
    "refused after the run (exit 24), the flow layout never cuts one.\n"
    "io,phs needs the flow layout, or a time layout that cut no flow;\n"
    "in the flow layout its rows are put in the order tshark first meets\n"
    "them, by tshark run here over the capture's first 32 MiB (or 16th)\n"
    "in time order when the chunks do not say it. io,stat (frames and\n"
    "bytes, FRAMES, BYTES, COUNT, SUM, MAX) is merged when no packet goes\n"
    "back in time across chunks, any column in the flow layout, columns\n"
    "with no filter where flows are cut. Other tables are refused\n"
    "before the run (exit 2); --per-chunk prints every chunk's table\n"
    "instead.\n"
    "\n"
    "Failures: a worker that cannot be reached, or is lost during the\n"
    "run (its connection goes; a frozen host after ssh's keep-alives,\n"
    "15 s by default), leaves its chunks to another worker holding them,\n"
    "or they are copied there from the store; a copy found missing or cut\n"
    "(its size is checked before each job), or damaged (a failed job's\n"
    "copies are compared with the store's), is replaced the same way.\n"
    "Every chunk's output appears once: a job's output is written only\n"
    "when it has ended. What the run learnt goes into the catalog (copies\n"
    "made, bad copies forgotten); 'shardcap repair' restores replicas.\n"
    "\n"
    "Exit status: 0 when every chunk's command succeeded; 23 when it did,\n"
    "but only after a worker failed or a bad copy was replaced (the output\n"
    "is complete; stderr says what failed and what was recovered); 21 when\n"
    "the command failed on some chunks (named on stderr with their exit\n"
    "statuses); 20 when chunks could not be run anywhere; 24 when the -z\n"
    "tables cannot be merged exactly; 130 (and 128+N) when stopped by a\n"
    "signal - no process of the run is left on any worker; 141 when the\n"
    "reader of stdout went away.\n";

static const char stats_help[] =
    "usage: " STATS_USAGE "\n"
    "\n"
    "The recent runs (of capture NAME, or of all), newest first: the\n"
    "number, the command, how long it took, the chunks it left for\n"
    "'run --rerun', and per worker its chunks, its completion\n"
    "time (when its last job ended) and how long its jobs ran; the mean and\n"
    "standard deviation of the completion times - the paper's measure of\n"
    "balance - and the slowest worker's lead over the mean.\n"
    "\n"
    "Options:\n"
    "      --last N    how many runs (default 10)\n"
    "      --json      as JSON\n";

struct run_cli {
	struct progress progress;
};

/* Where a run is: chunks and bytes done, of all. */
struct run_tally {
	size_t done, failed, running;
	uint64_t bytes_done, bytes;
};

static struct run_tally
tally(const struct run_plan *plan)
{
	struct run_tally t;
	size_t i;

	memset(&t, 0, sizeof(t));
	for (i = 0; i < plan->n_chunks; i++) {
		const struct run_chunk *c = &plan->chunks[i];

		t.bytes += c->bytes;
		if (c->state == 2) {
			t.done++;
			t.bytes_done += c->bytes;
			t.failed += c->exit_code != 0;
		}
	}
	for (i = 0; i < plan->n_workers; i++)
		t.running += plan->workers[i].busy;
	return t;
}

/* "run: 4/11 chunks  96.0/275.3 MB  38.2 MB/s  ETA 5s  3 running  1 failed
 * 2.5s", cut to the terminal's width. */
static void
show_progress(void *ctx, const struct run_plan *plan, double elapsed)
{
	struct run_cli *cli = ctx;
	struct strbuf sb = STRBUF_INIT;
	struct run_tally t = tally(plan);
	double rate = elapsed > 0 ? (double)t.bytes_done / elapsed : 0;

	strbuf_addf(&sb, "run: %zu/%zu chunks  ", t.done, plan->n_chunks);
	format_bytes(&sb, t.bytes_done);
	strbuf_addch(&sb, '/');
	format_bytes(&sb, t.bytes);
	if (t.bytes_done > 0 && rate > 0) {
		strbuf_addstr(&sb, "  ");
		format_bytes(&sb, (uint64_t)rate);
		strbuf_addstr(&sb, "/s  ETA ");
		strbuf_addf(&sb, "%.0fs", (double)(t.bytes - t.bytes_done) /
		    rate);
	}
	strbuf_addf(&sb, "  %zu running", t.running);
	if (t.failed > 0)
		strbuf_addf(&sb, "  %zu failed", t.failed);
	strbuf_addf(&sb, "  %.1fs", elapsed);
	progress_update(&cli->progress, 0, "%s", sb.buf);
	strbuf_release(&sb);
}

static void
clear_progress(void *ctx)
{
	struct run_cli *cli = ctx;

	progress_clear(&cli->progress);
}

/* The line a run that drew progress ends with: "run: 11 chunks, 275.3 MB
 * in 4.62 s (59.6 MB/s); 2 failed; 4 ran again after a worker failed". */
static void
progress_summary(const struct run_plan *plan, const struct run_result *res)
{
	struct strbuf sb = STRBUF_INIT;
	struct run_tally t = tally(plan);

	strbuf_addf(&sb, "run: %zu chunk%s, ", t.done, t.done == 1 ? "" : "s");
	format_bytes(&sb, t.bytes_done);
	strbuf_addstr(&sb, " in ");
	format_duration(&sb, res->wall);
	if (res->wall > 0) {
		strbuf_addstr(&sb, " (");
		format_bytes(&sb, (uint64_t)((double)t.bytes_done / res->wall));
		strbuf_addstr(&sb, "/s)");
	}
	if (t.failed > 0)
		strbuf_addf(&sb, "; %zu failed", t.failed);
	if (res->lost_chunks + res->not_run > 0)
		strbuf_addf(&sb, "; %zu not run", res->lost_chunks +
		    res->not_run);
	if (res->again_chunks > 0)
		strbuf_addf(&sb, "; %zu ran again after a worker or copy "
		    "failed", res->again_chunks);
	fprintf(stderr, "%s\n", sb.buf);
	strbuf_release(&sb);
}

/* Completion times of the workers of one run: their mean, standard
 * deviation and the slowest's lead over the mean. */
struct spread {
	double mean, sd, slowest;
};

static struct spread
spread_of(const double *t, size_t n)
{
	struct spread s = { 0, 0, 0 };
	size_t i;

	for (i = 0; i < n; i++) {
		s.mean += t[i];
		if (t[i] > s.slowest)
			s.slowest = t[i];
	}
	if (n == 0)
		return s;
	s.mean /= (double)n;
	for (i = 0; i < n; i++)
		s.sd += (t[i] - s.mean) * (t[i] - s.mean);
	s.sd = n > 1 ? sqrt(s.sd / (double)(n - 1)) : 0;
	return s;
}

static void
print_run_summary(FILE *f, const struct run_plan *plan,
    const struct run_result *res)
{
	static const char *h[] = { "worker", "chunks", "completion", "busy" };
	static const int num[] = { 0, 1, 1, 1 };
	double *t = xcalloc(plan->n_workers + 1, sizeof(*t));
	struct table tb;
	struct spread s;
	size_t i, n = 0;

	table_init(&tb, ARRAY_SIZE(h), h, num);
	for (i = 0; i < plan->n_workers; i++) {
		const struct run_worker *w = &plan->workers[i];

		if (w->chunks_done == 0)
			continue;
		t[n++] = w->finished_at;
		table_add(&tb, w->name);
		table_addf(&tb, "%zu", w->chunks_done);
		table_addf(&tb, "%.2f s", w->finished_at);
		table_addf(&tb, "%.2f s", w->busy_seconds);
	}
	s = spread_of(t, n);
	fprintf(f, "run of %zu chunks on %zu workers: %.2f s\n", plan->n_chunks,
	    n, res->wall);
	table_print(&tb, f);
	fprintf(f, "completion: mean %.2f s, standard deviation %.2f s, "
	    "slowest %.2f s (%.2f x the mean)\n", s.mean, s.sd, s.slowest,
	    s.mean > 0 ? s.slowest / s.mean : 0);
	table_release(&tb);
	free(t);
}

/* How many flows the chunks cut: their stateful results may be
 * incomplete. */
static void
print_cut_flows(FILE *f, const char *layout, int64_t flows, int64_t cut)
{
	if (strcmp(layout, "flow") == 0)
		fprintf(f, "flows: each whole in one chunk (layout flow)\n");
	else if (flows < 0)
		fprintf(f, "flows cut by chunk boundaries: not known (add the "
		    "capture again to count them)\n");
	else
		fprintf(f, "flows cut by chunk boundaries: %lld of %lld%s\n",
		    (long long)cut, (long long)flows, cut > 0 ?
		    " (a query that follows TCP streams may miss or garble "
		    "what crosses a boundary: --layout flow keeps flows whole)"
		    : "");
}

/* Splits argv at "--": what comes after is the command. */
static int
split_dashes(int argc, char **argv, int *opts_argc, char ***cmd, size_t *n)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			*opts_argc = i;
			*cmd = argv + i + 1;
			*n = (size_t)(argc - i - 1);
			return 0;
		}
	}
	return -1;
}

static int
has_placeholder(char **cmd, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strstr(cmd[i], "{}") != NULL)
			return 1;
	return 0;
}

static int
report_outcome(const struct run_plan *plan, const struct run_result *res)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i, shown = 0;
	int status = 0;

	for (i = 0; i < plan->n_workers; i++)
		if (plan->workers[i].failed)
			cli_error("worker '%s' (%s): %s", plan->workers[i].name,
			    plan->workers[i].where, plan->workers[i].error);
	if (res->lost_chunks > 0) {
		for (i = 0; i < plan->n_chunks; i++)
			if (plan->chunks[i].state == 3 && shown++ < 10)
				strbuf_addf(&sb, "%s%s", sb.len ? ", " : "",
				    plan->chunks[i].file);
		cli_error("%zu of %zu chunks were not run: no worker that "
		    "could run them was left (%s%s)", res->lost_chunks,
		    plan->n_chunks, sb.buf, res->lost_chunks > 10 ? ", ..." : "");
		status = sc_exit_code(SC_ERR_WORKER);
	}
	strbuf_reset(&sb);
	shown = 0;
	if (res->stopped && res->stop_setup) {
		cli_error("tshark ended with exit %d on worker '%s' while it set "
		    "itself up, before it read a chunk: the command's own "
		    "error, the same for every chunk; stopped, %zu chunk%s not "
		    "run (--keep-going runs every chunk)", res->stop_status,
		    plan->workers[res->stop_worker].name, res->not_run,
		    res->not_run == 1 ? "" : "s");
		status = sc_exit_code(SC_ERR_JOBS);
	} else if (res->stopped) {
		cli_error("the command failed alike on %s and %s (exit %d, the "
		    "same stderr): stopped, %zu chunk%s not run (--keep-going "
		    "runs every chunk)", plan->chunks[res->stop_chunks[0]].file,
		    plan->chunks[res->stop_chunks[1]].file, res->stop_status,
		    res->not_run, res->not_run == 1 ? "" : "s");
		status = sc_exit_code(SC_ERR_JOBS);
	} else if (res->failed_chunks > 0) {
		for (i = 0; i < plan->n_chunks; i++) {
			const struct run_chunk *c = &plan->chunks[i];

			if (c->state == 2 && c->exit_code != 0 && shown++ < 10)
				strbuf_addf(&sb, "%s%s (exit %d)", sb.len ? ", " : "",
				    c->file, c->exit_code);
		}
		cli_error("%zu of %zu chunks failed: %s%s", res->failed_chunks,
		    plan->n_chunks, sb.buf, res->failed_chunks > 10 ? ", ..." : "");
		if (status == 0)
			status = sc_exit_code(SC_ERR_JOBS);
	}
	strbuf_release(&sb);
	if (res->stragglers > 0)
		cli_warning("%zu straggling job%s: %zu chunk%s started again "
		    "elsewhere, %zu of them finished there first",
		    res->stragglers, res->stragglers == 1 ? "" : "s",
		    res->speculated, res->speculated == 1 ? "" : "s",
		    res->speculation_won);
	if (!res->stopped && (res->failed_workers > 0 ||
	    res->bad_copies > 0)) {
		cli_warning("recovered: %zu chunk%s ran again or elsewhere than "
		    "planned%s; %zu cop%s made from the store; %zu bad cop%s "
		    "replaced or forgotten ('shardcap repair' restores the "
		    "replicas)", res->again_chunks,
		    res->again_chunks == 1 ? "" : "s",
		    res->failed_workers ? " after a worker failed" : "",
		    res->fetched, res->fetched == 1 ? "y" : "ies",
		    res->bad_copies, res->bad_copies == 1 ? "y" : "ies");
		if (status == 0)
			status = RUN_EXIT_RECOVERED;
	}
	return status;
}

/* --timeout: a duration (30, 30s, 2m, 1h, 500ms) or a factor (5x). */
static int
parse_timeout(const char *s, double *seconds, double *factor)
{
	char *end;
	double v = strtod(s, &end);

	*seconds = *factor = 0;
	if (end == s || !(v > 0) || v > 1e6)
		return -1;
	if (strcmp(end, "x") == 0) {
		if (v < 1)
			return -1;
		*factor = v;
		return 0;
	}
	return parse_duration(s, seconds);
}

/* The chunks' files here: the ad hoc split's, or the store's copies. */
static char **
chunk_paths(const struct run_plan *plan)
{
	char **paths = xcalloc(plan->n_chunks + 1, sizeof(*paths));
	size_t i;

	for (i = 0; i < plan->n_chunks; i++)
		paths[i] = xasprintf("%s/%s", plan->base != NULL ? plan->base :
		    plan->store, plan->chunks[i].file);
	return paths;
}

/* tshark's first packet: the first chunk's in the time layout; the flow
 * layout put it first in one of the chunks, the earliest. NULL: none. */
static const struct sc_time *
capture_first(const struct run_plan *plan, int flow)
{
	const struct sc_time *ref = NULL;
	size_t i;

	for (i = 0; i < plan->n_chunks; i++) {
		const struct run_chunk *c = &plan->chunks[i];

		if (!c->has_time)
			continue;
		if (ref == NULL || (flow && sc_time_cmp(&c->first, ref) < 0))
			ref = &c->first;
		if (!flow)
			break;
	}
	return ref;
}

/* A run that merges conversations or io,stat reads each chunk after a
 * record of the capture's first time (zmerge.h): the command becomes one
 * that does. Returns 0, or a negative code with e filled in. */
static int
merge_reference(const struct run_plan *plan, int flow,
    struct run_options *opt, char ***argv, struct sc_err *e)
{
	struct strbuf rec = STRBUF_INIT;
	const struct sc_time *ref = capture_first(plan, flow);
	char **paths;
	uint64_t offset = 0;
	size_t i, n;
	int r;

	if (ref == NULL)
		return sc_err_set(e, SC_ERR_MERGE, "cannot merge the -z table: "
		    "no chunk has a packet with a time stamp");
	paths = chunk_paths(plan);
	r = zmerge_reference(paths, plan->n_chunks, ref, &offset, &rec, e);
	for (i = 0; i < plan->n_chunks; i++)
		free(paths[i]);
	free(paths);
	if (r == 0) {
		*argv = zmerge_command(opt->command, opt->n_command, offset, &rec,
		    &n);
		opt->command = *argv;
		opt->n_command = n;
	}
	strbuf_release(&rec);
	return r;
}

static uint64_t
ns_after(const struct sc_time *t, const struct sc_time *ref)
{
	if (sc_time_cmp(t, ref) <= 0)
		return 0;
	return (uint64_t)(t->sec - ref->sec) * 1000000000u + t->nsec -
	    ref->nsec;
}

/* io,stat's rows add up when no packet goes back in time across chunks:
 * tshark counts such a packet in the interval it is at, not its own. The
 * time layout: each chunk's time stamps after the one's before it, unless
 * the interval is longer than the capture and no packet is earlier than
 * the first (one row); the flow layout: none in the whole file (its chunks
 * interleave). */
static int
iostat_in_order(const struct run_plan *plan, int flow, int64_t backwards,
    uint64_t interval, struct sc_err *e)
{
	const struct sc_time *ref = capture_first(plan, flow);
	const struct run_chunk *prev = NULL;
	uint64_t whole = 0;
	size_t i;
	int one_row = !flow && ref != NULL;

	for (i = 0; one_row && i < plan->n_chunks; i++) {
		const struct run_chunk *c = &plan->chunks[i];

		if (!c->has_time)
			continue;
		if (!c->has_range || sc_time_cmp(&c->min, ref) < 0)
			one_row = 0;
		else if (ns_after(&c->max, ref) > whole)
			whole = ns_after(&c->max, ref);
	}
	if (one_row && (interval == UINT64_MAX ||
	    interval > whole / 1000 + 1))
		return 0;

	if (flow && backwards != 0)
		return sc_err_set(e, SC_ERR_USAGE, "cannot merge -z io,stat in "
		    "the flow layout: %s; --per-chunk prints each chunk's "
		    "table", backwards < 0 ? "the capture was added before "
		    "shardcap noted whether its packets go back in time "
		    "(touch its file and add it again: a changed file is "
		    "split again)" : "some of the capture's "
		    "packets are earlier than one before them, and tshark "
		    "counts such a packet in the interval it is at, which "
		    "the chunks do not say");
	for (i = 0; i < plan->n_chunks; i++) {
		const struct run_chunk *c = &plan->chunks[i];

		if (!c->has_time)
			continue;       /* no packet: its table has no row */
		if (!c->has_range)
			return sc_err_set(e, SC_ERR_USAGE, "cannot merge -z "
			    "io,stat: chunk '%s' has no time range noted "
			    "(added before shardcap noted them: touch the "
			    "capture's file and add it again)", c->file);
		if (!flow && prev != NULL && sc_time_cmp(&c->min,
		    &prev->max) < 0)
			return sc_err_set(e, SC_ERR_USAGE, "cannot merge -z "
			    "io,stat: chunk '%s' has packets earlier than the "
			    "latest of '%s', and tshark counts such a packet "
			    "in the interval it is at, which the chunks do "
			    "not say; --per-chunk prints each chunk's table",
			    c->file, prev->file);
		prev = c;
	}
	return 0;
}

/* Each chunk's duration from the capture's first time, and its group's
 * (zmerge_iostat_begin). */
static int
iostat_begin(struct zmerge *merge, const struct run_plan *plan, int flow,
    char *const *argv, size_t argc, struct sc_err *e)
{
	const struct sc_time *ref = capture_first(plan, flow);
	struct zmerge_span *sp = xcalloc(plan->n_chunks + 1, sizeof(*sp));
	uint64_t whole = 0;
	size_t i, k;
	int r;

	for (i = 0; i < plan->n_chunks; i++) {
		sp[i].file = plan->chunks[i].file;
		sp[i].untimed = !plan->chunks[i].has_time;
		sp[i].ns = sp[i].group_ns = sp[i].untimed ? 0 :
		    ns_after(&plan->chunks[i].max, ref);
		if (sp[i].ns > whole)
			whole = sp[i].ns;
	}
	for (i = 0; i < plan->n_chunks; i++)
		for (k = i + 1; plan->chunks[i].part == 1 &&
		    k < plan->n_chunks && plan->chunks[k].part > 1; k++)
			if (sp[k].ns > sp[i].group_ns)
				sp[i].group_ns = sp[k].ns;
	r = zmerge_iostat_begin(merge, argv, argc, sp, plan->n_chunks, whole,
	    e);
	free(sp);
	return r;
}

/* The command run on this machine beside the run, over a file made here,
 * its table given to the merge. The flow layout's protocol hierarchy:
 * where the chunks do not say in which order tshark first met two
 * protocols, the command over the capture's first packets in time order
 * says it (zmerge_phs_prefix): 32 MiB of them, or a 16th of the capture
 * when that is more. It is started with the run, at the lowest priority
 * (on a cluster this machine is idle meanwhile; with local workers it
 * takes what they leave), and waited for only when the chunks leave an
 * order unknown. When it cannot be run (a local tshark that fails, chunks
 * that do not make one capture), the ties stay, and the run warns of
 * them. io,stat: see iostat_share_start. */
struct local_run {
	struct child child;
	int started;
	int iostat;             /* io,stat's share of a record, not the
	                         * hierarchy's first packets */
	char *in;               /* the file it reads */
	char **argv;
};

static void
local_line(struct child *c, const char *line, void *ctx)
{
	(void)c;
	if (zmerge_local_add(ctx, line, strlen(line)) == 0)
		(void)zmerge_local_add(ctx, "\n", 1);
}

/* Runs the command here, at the lowest priority, over a file that write
 * makes (0 or an error), its lines given to merge. */
static void
local_start(struct local_run *pp, struct zmerge *merge, char *const *argv,
    size_t argc, int (*write)(int fd, const void *ctx, struct sc_err *e),
    const void *ctx)
{
	const char *dir = getenv("TMPDIR");
	struct sc_err e;
	size_t i;
	int fd, ok = 1;

	child_init(&pp->child, NULL);
	pp->in = xasprintf("%s/shardcap-%s-XXXXXX", dir != NULL && *dir ?
	    dir : "/tmp", pp->iostat ? "io" : "phs");
	pp->argv = xcalloc(argc + 1, sizeof(*pp->argv));
	for (i = 0; i < argc; i++) {
		pp->argv[i] = strcmp(argv[i], "{}") == 0 ? pp->in : argv[i];
		if (pp->argv[i] != pp->in && strstr(argv[i], "{}") != NULL)
			ok = 0;
	}
	if (ok && (fd = mkostemp(pp->in, O_CLOEXEC)) >= 0) {
		ok = write(fd, ctx, &e) == 0;
		if (close(fd) != 0)
			ok = 0;
		pp->child.argv = pp->argv;
		pp->child.on_line = local_line;
		pp->child.ctx = merge;
		if (ok && child_start(&pp->child, &e) == 0) {
			pp->started = 1;
			(void)setpriority(PRIO_PROCESS, pp->child.pid, 19);
		} else {
			(void)unlink(pp->in);
		}
	}
}

struct prefix_args {
	const struct run_plan *plan;
	uint64_t limit;
};

static int
write_prefix(int fd, const void *ctx, struct sc_err *e)
{
	const struct prefix_args *pa = ctx;
	char **paths = chunk_paths(pa->plan);
	size_t i;
	int r;

	r = zmerge_phs_prefix(paths, pa->plan->n_chunks, pa->limit, fd, e);
	for (i = 0; i < pa->plan->n_chunks; i++)
		free(paths[i]);
	free(paths);
	return r;
}

static void
phs_prefix_start(struct local_run *pp, const struct run_plan *plan,
    struct zmerge *merge, char *const *argv, size_t argc)
{
	const char *env = getenv("SHARDCAP_PHS_PREFIX");
	struct prefix_args pa = { plan, ZMERGE_PHS_PREFIX };
	uint64_t total = 0;
	size_t i;

	memset(pp, 0, sizeof(*pp));
	for (i = 0; i < plan->n_chunks; i++)
		total += plan->chunks[i].bytes;
	if (total / 16 > pa.limit)
		pa.limit = total / 16;
	/* SHARDCAP_PHS_PREFIX: another limit, in bytes (0: none), for tests
	 * and measurements of what the chunks alone say */
	if (env != NULL && parse_size(env, &pa.limit) != 0)
		pa.limit = ZMERGE_PHS_PREFIX;
	if (pa.limit > 0)
		local_start(pp, merge, argv, argc, write_prefix, &pa);
}

/* io,stat: what the record of the capture's first time adds to a chunk's
 * first row, where a column has a filter or a field, is what the command
 * counts in a file of two such records (zmerge_iostat_file): the second
 * two intervals later, so that the first row is the first record's, or a
 * second later when the interval is longer (both in the one row). */
struct share_args {
	const char *chunk;
	const struct sc_time *ref;
	uint64_t later_ns;
};

static int
write_share(int fd, const void *ctx, struct sc_err *e)
{
	const struct share_args *sa = ctx;

	return zmerge_iostat_file(sa->chunk, sa->ref, sa->later_ns, fd, e);
}

static void
iostat_share_start(struct local_run *pp, const struct run_plan *plan,
    int flow, struct zmerge *merge, char *const *argv, size_t argc)
{
	char **paths = chunk_paths(plan);
	uint64_t iv = zmerge_iostat_interval(merge);
	struct share_args sa;
	size_t i;

	memset(pp, 0, sizeof(*pp));
	pp->iostat = 1;
	sa.chunk = paths[0];
	sa.ref = capture_first(plan, flow);
	sa.later_ns = iv != UINT64_MAX && iv <= UINT64_C(1000000000) ?
	    2 * iv * 1000 : UINT64_C(1000000000);
	if (sa.ref != NULL)
		local_start(pp, merge, argv, argc, write_share, &sa);
	for (i = 0; i < plan->n_chunks; i++)
		free(paths[i]);
	free(paths);
}

/* Waits for it, and gives its table to merge when use (else stops it). */
static void
local_finish(struct local_run *pp, struct zmerge *merge, int use)
{
	struct child *cp = &pp->child;
	struct sc_err e;

	if (pp->argv == NULL)
		return;
	if (pp->started) {
		if (!use)
			child_signal(cp, SIGTERM);
		if (child_wait_all(&cp, 1, &cli_signal, &e) == 0 && use &&
		    child_exit_code(cp) == 0) {
			if (pp->iostat)
				(void)zmerge_iostat_share_end(merge, &e);
			else
				(void)zmerge_phs_prefix_end(merge, &e);
		}
		(void)unlink(pp->in);
	}
	child_release(cp);
	free(pp->in);
	free(pp->argv);
	pp->argv = NULL;
}

/* --rerun ID: the run's command, how it read its chunks and its window,
 * from the catalog. Returns 0 or the exit status, said. */
static int
load_rerun(int64_t id, struct cat_run_spec *spec, struct strvec *words,
    struct run_options *opt, struct run_select *sel)
{
	struct cluster cl;
	struct sc_err e;
	int status;

	if ((status = cli_cluster_open(&cl, 0)) != 0)
		return status;
	sc_err_clear(&e);
	status = catalog_run_spec(cl.cat, id, spec, &e);
	cluster_close(&cl);
	if (status != 0)
		return cli_report(&e, NULL);
	if (shell_unquote(spec->command, words) != 0 || words->n == 0) {
		cli_error("run %lld's command cannot be read back from the "
		    "catalog: run it again with the command", (long long)id);
		return sc_exit_code(SC_ERR_CATALOG);
	}
	opt->command = words->v;
	opt->n_command = words->n;
	opt->use_stdin = spec->use_stdin;
	/* (the window as the run recorded it: RFC 3339) */
	sel->has_since = spec->since[0] != '\0' &&
	    parse_time_arg(spec->since, 0, &sel->since) == 0;
	sel->has_until = spec->until[0] != '\0' &&
	    parse_time_arg(spec->until, 0, &sel->until) == 0;
	return 0;
}

static int
by_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* The chunks run `id` left, as a --chunks list of the plan's numbers; an
 * error when one is gone (cut, re-added) since. spec->left is sorted. */
static int
rerun_list(const struct run_plan *plan, struct cat_run_spec *spec,
    int64_t id, char **list, struct sc_err *e)
{
	struct strbuf sb = STRBUF_INIT;
	size_t k, found = 0;

	qsort(spec->left, spec->n_left, sizeof(*spec->left), by_id);
	for (k = 0; k < plan->n_chunks; k++) {
		if (bsearch(&plan->chunks[k].chunk_id, spec->left,
		    spec->n_left, sizeof(*spec->left), by_id) == NULL)
			continue;
		strbuf_addf(&sb, "%s%u", sb.len ? "," : "",
		    plan->chunks[k].seq);
		found++;
	}
	/* (a chunk gone since is 0 in spec->left, or in no plan) */
	if (found < spec->n_left) {
		strbuf_release(&sb);
		return sc_err_set(e, SC_ERR_NOT_FOUND, "chunks run %lld left "
		    "have changed since (cut by a balance, or the capture added "
		    "again): run the query again", (long long)id);
	}
	*list = strbuf_detach(&sb, NULL);
	return 0;
}

static int
cmd_run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "ordered", no_argument, NULL, 'O' },
		{ "tag", no_argument, NULL, 'T' },
		{ "pcap-out", required_argument, NULL, 'P' },
		{ "stdin", no_argument, NULL, 'I' },
		{ "per-chunk", no_argument, NULL, 'C' },
		{ "stats", no_argument, NULL, 'S' },
		{ "size", required_argument, NULL, 's' },
		{ "layout", required_argument, NULL, 'L' },
		{ "workers", required_argument, NULL, 'w' },
		{ "batch", required_argument, NULL, 'B' },
		{ "no-warm", no_argument, NULL, 'W' },
		{ "timeout", required_argument, NULL, 't' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "balance", optional_argument, NULL, 'b' },
		{ "since", required_argument, NULL, 'a' },
		{ "until", required_argument, NULL, 'u' },
		{ "chunks", required_argument, NULL, 'c' },
		{ "sample", required_argument, NULL, 'm' },
		{ "seed", required_argument, NULL, 'd' },
		{ "keep-going", no_argument, NULL, 'k' },
		{ "rerun", required_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct run_select sel;
	struct run_selected selected;
	struct balance_request bal;
	struct run_options opt;
	struct run_result res;
	struct run_plan plan;
	struct run_cli cli;
	struct cluster cl;
	struct config adhoc_cfg;
	struct split_result sr;
	struct sc_err e;
	const char *target, *pcap_out = NULL;
	char *tmpdir = NULL, *out_tmp = NULL, *warm_lib = NULL;
	int opts_argc, c, quiet = 0, stats = 0, have_cluster = 0, status, r;
	int balance = 0, warm = 1, layout = SPLIT_TIME, per_chunk = 0;
	struct zmerge *merge = NULL;
	char **merge_argv = NULL;
	struct local_run local = { .argv = NULL };
	struct cat_capture cap;
	struct cat_run_spec spec;
	struct strvec rerun_words = STRVEC_INIT;
	char *rerun_chunks = NULL;
	int64_t run_id = 0;
	size_t i, left;
	uint64_t size = 25u << 20, workers = 0, batch = 0, v, rerun = 0;

	memset(&opt, 0, sizeof(opt));
	memset(&sel, 0, sizeof(sel));
	memset(&selected, 0, sizeof(selected));
	sel.seed = 1;
	memset(&bal, 0, sizeof(bal));
	bal.threshold = -1;
	bal.report = stderr;
	memset(&sr, 0, sizeof(sr));
	memset(&cap, 0, sizeof(cap));
	memset(&plan, 0, sizeof(plan));
	memset(&spec, 0, sizeof(spec));
	if (argc >= 2 && (strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0))
		return cli_help(run_help);
	if (split_dashes(argc, argv, &opts_argc, &opt.command,
	    &opt.n_command) != 0) {
		/* (--rerun takes the command of the run) */
		opts_argc = argc;
		opt.command = NULL;
		opt.n_command = 0;
		for (i = 1; i < (size_t)argc; i++)
			if (strncmp(argv[i], "--rerun", 7) == 0)
				break;
		if (i == (size_t)argc)
			return cli_usage_error(RUN_USAGE, "the command goes "
			    "after '--'");
	}
	while ((c = getopt_long(opts_argc, argv, "qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'O':
			opt.output = RUN_ORDERED;
			break;
		case 'T':
			opt.tag = 1;
			break;
		case 'P':
			pcap_out = optarg;
			opt.output = RUN_PCAP;
			break;
		case 'I':
			opt.use_stdin = 1;
			break;
		case 'C':
			per_chunk = 1;
			break;
		case 'S':
			stats = 1;
			break;
		case 's':
			if (parse_size(optarg, &size) != 0 || size == 0)
				return cli_usage_error(RUN_USAGE, "bad --size '%s'",
				    optarg);
			break;
		case 'L':
			if ((layout = split_layout_from_name(optarg)) < 0)
				return cli_usage_error(RUN_USAGE, "bad --layout "
				    "'%s': want time or flow", optarg);
			break;
		case 'w':
			if (parse_uint(optarg, 1, 1024, &workers) != 0)
				return cli_usage_error(RUN_USAGE,
				    "bad --workers '%s'", optarg);
			break;
		case 'B':
			if (parse_uint(optarg, 1, RUN_MAX_BATCH, &batch) != 0)
				return cli_usage_error(RUN_USAGE, "bad --batch '%s': "
				    "want 1 to %d", optarg, RUN_MAX_BATCH);
			break;
		case 'W':
			warm = 0;
			break;
		case 't':
			if (parse_timeout(optarg, &opt.timeout,
			    &opt.timeout_factor) != 0)
				return cli_usage_error(RUN_USAGE, "bad --timeout "
				    "'%s': want a duration (30s, 2m) or a factor "
				    "of the median job (5x)", optarg);
			break;
		case 'q':
			quiet = 1;
			break;
		case 'b':
			balance = 1;
			if (optarg != NULL &&
			    balance_parse_algorithm(optarg, &bal.algo) != 0)
				return cli_usage_error(RUN_USAGE, "bad --balance "
				    "'%s': want default or paper", optarg);
			break;
		case 'a':
		case 'u':
			if (parse_time_arg(optarg, (int64_t)time(NULL), c == 'a' ?
			    &sel.since : &sel.until) != 0)
				return cli_usage_error(RUN_USAGE, "bad --%s '%s': "
				    "want ISO 8601 (2015-05-12T10:00:00Z), seconds "
				    "since the epoch, now, or -10m, -1h, -2d",
				    c == 'a' ? "since" : "until", optarg);
			*(c == 'a' ? &sel.has_since : &sel.has_until) = 1;
			break;
		case 'c':
			sel.chunks = optarg;
			break;
		case 'm':
			if (parse_uint(optarg, 1, UINT32_MAX, &v) != 0)
				return cli_usage_error(RUN_USAGE, "bad --sample '%s': "
				    "want a number of chunks", optarg);
			sel.sample = (unsigned)v;
			break;
		case 'd':
			if (parse_uint(optarg, 0, UINT64_MAX, &sel.seed) != 0)
				return cli_usage_error(RUN_USAGE, "bad --seed '%s'",
				    optarg);
			break;
		case 'k':
			opt.keep_going = 1;
			break;
		case 'R':
			if (parse_uint(optarg, 1, INT64_MAX, &rerun) != 0)
				return cli_usage_error(RUN_USAGE, "bad --rerun "
				    "'%s': want a run's number (shardcap stats)",
				    optarg);
			break;
		case 'h':
			return cli_help(run_help);
		default:
			return cli_usage_error(RUN_USAGE, "bad option");
		}
	}
	if (rerun > 0) {
		if (opts_argc - optind != 0 || opt.n_command != 0)
			return cli_usage_error(RUN_USAGE, "--rerun runs the "
			    "run's command on its capture: give neither");
		if (sel.chunks != NULL || sel.sample > 0 || sel.has_since ||
		    sel.has_until || opt.use_stdin || balance)
			return cli_usage_error(RUN_USAGE, "--rerun takes the "
			    "run's chunks, window and --stdin: not --chunks, "
			    "--sample, --since, --until, --stdin or --balance");
		if ((status = load_rerun((int64_t)rerun, &spec, &rerun_words,
		    &opt, &sel)) != 0)
			return status;
		target = spec.capture;
	} else {
		if (opt.n_command == 0)
			return cli_usage_error(RUN_USAGE, "the command goes "
			    "after '--'");
		if (opts_argc - optind != 1)
			return cli_usage_error(RUN_USAGE, "run needs one "
			    "capture name or file before '--'");
		target = argv[optind];
	}
	if (opt.tag && opt.output == RUN_PCAP)
		return cli_usage_error(RUN_USAGE, "--tag makes no sense with "
		    "--pcap-out");
	if (sel.has_since && sel.has_until &&
	    sc_time_cmp(&sel.since, &sel.until) >= 0)
		return cli_usage_error(RUN_USAGE, "the window is empty: --since "
		    "must come before --until");
	if ((sel.has_since || sel.has_until) && !opt.use_stdin &&
	    !run_reads_stream(opt.command, opt.n_command))
		return cli_usage_error(RUN_USAGE, "--since and --until stream "
		    "chunks cut to the window into the command: it must read "
		    "-r {} (tshark, tcpdump) or -I {} (ngrep), or take --stdin");
	if (balance && (sel.chunks != NULL || sel.sample > 0 ||
	    sel.has_since || sel.has_until))
		return cli_usage_error(RUN_USAGE, "--balance needs the times "
		    "of a run over every chunk, not --chunks, --sample, "
		    "--since or --until");
	/* (the command goes to a remote worker's login shell, quoted; not
	 * every shell can quote a newline) */
	for (i = 0; i < opt.n_command; i++)
		if (strchr(opt.command[i], '\n') != NULL)
			return cli_usage_error(RUN_USAGE, "an argument of the "
			    "command holds a newline, which not every worker's "
			    "shell can take");
	if (!opt.use_stdin && !has_placeholder(opt.command, opt.n_command))
		return cli_usage_error(RUN_USAGE, "the command has no {} for the "
		    "chunk (or use --stdin)");
	if (pcap_out != NULL && strcmp(pcap_out, "-") == 0 && isatty(1)) {
		cli_error("refusing to write a capture to a terminal; redirect "
		    "stdout or give --pcap-out FILE");
		return 2;
	}

	cli_catch_signals();
	progress_init(&cli.progress, !quiet);
	sc_err_clear(&e);

	/* a capture of the cluster, or a file to run on ad hoc */
	{
		struct sc_err ignore;
		char *dir = NULL;
		struct stat st;

		if (cluster_find(&dir, &ignore) == 0) {
			free(dir);
			/* CLUSTER_READS: no copy this run may read is
			 * removed by a balance until it ends */
			if ((status = cli_cluster_open(&cl, CLUSTER_READS)) != 0)
				return status;
			have_cluster = catalog_capture_get(cl.cat, target, &cap,
			    &ignore) == 0;
			if (!have_cluster)
				cluster_close(&cl);
		}
		if (!have_cluster && rerun > 0) {
			cli_error("run %llu's capture '%s' is no longer in the "
			    "cluster", (unsigned long long)rerun, target);
			status = sc_exit_code(SC_ERR_NOT_FOUND);
			goto out;
		}
		if (!have_cluster && stat(target, &st) != 0) {
			cli_error("no capture '%s' in a cluster, and no such file",
			    target);
			return sc_exit_code(SC_ERR_NOT_FOUND);
		}
		if (!have_cluster && balance)
			return cli_usage_error(RUN_USAGE, "--balance needs a "
			    "capture of the cluster, not a file");
	}
	if (have_cluster) {
		r = run_plan_cluster(&plan, &cl, target, &cli_signal, &e);
	} else {
		struct split_options so;
		char *name = name_from_path(target);
		const char *base = getenv("TMPDIR");

		config_init(&adhoc_cfg);
		tmpdir = xasprintf("%s/shardcap-run-XXXXXX", base && *base ?
		    base : "/tmp");
		if (mkdtemp(tmpdir) == NULL) {
			cli_error("cannot make a temporary directory: %s",
			    strerror(errno));
			free(name);
			free(tmpdir);
			config_release(&adhoc_cfg);
			return 1;
		}
		memset(&so, 0, sizeof(so));
		so.input = target;
		so.dir = tmpdir;
		so.name = valid_name(name) ? name : "capture";
		so.size = size;
		so.layout = (enum split_layout)layout;
		so.force = 1;
		so.interrupted = &cli_signal;
		r = split_capture(&so, &sr, &e);
		if (r == 0 && sr.damage.code != 0)
			cli_warning("'%s' is damaged at byte %llu: %s; running on "
			    "the %llu complete packets before it", target,
			    (unsigned long long)sr.damage.offset, sr.damage.msg,
			    (unsigned long long)sr.packets);
		if (r == 0) {
			long cores = sysconf(_SC_NPROCESSORS_ONLN);

			r = run_plan_local(&plan, &adhoc_cfg, so.name, tmpdir, &sr,
			    workers ? (unsigned)workers :
			    (unsigned)(cores > 0 ? cores : 1), &e);
		}
		free(name);
	}
	if (r == 0 && rerun > 0) {
		if (spec.n_left == 0) {
			cli_note("run %llu left no chunk to run again",
			    (unsigned long long)rerun);
			status = 0;
			goto out;
		}
		r = rerun_list(&plan, &spec, (int64_t)rerun, &rerun_chunks,
		    &e);
		sel.chunks = rerun_chunks;
	}
	if (r == 0)
		r = run_plan_select(&plan, &sel, &selected, &e);
	if (r == 0 && rerun > 0)
		snprintf(plan.selection, sizeof(plan.selection), "--rerun %llu",
		    (unsigned long long)rerun);
	if (r != 0) {
		status = cli_report(&e, target);
		goto out;
	}
	if (plan.n_chunks == 0) {
		progress_done(&cli.progress);
		cli_warning("no chunk of '%s' is %s", target, sel.has_since ||
		    sel.has_until ? "in the window: nothing to run" :
		    "selected: nothing to run");
		status = 0;
		goto out;
	}
	/* a group of chunks (one flow larger than a chunk) is read as one
	 * stream where the command can read one */
	opt.whole_groups = opt.use_stdin ||
	    run_reads_stream(opt.command, opt.n_command);
	/* tshark's -z tables, merged: refused now when they cannot be */
	if (!per_chunk && !opt.tag && opt.output != RUN_PCAP &&
	    !opt.use_stdin) {
		int flow = have_cluster ? strcmp(cap.layout, "flow") == 0 :
		    layout == SPLIT_FLOW;
		/* (the flow count stops at 2^17: past it, cuts are not known) */
		int whole = flow || (have_cluster ? cap.cut_flows == 0 &&
		    cap.flows >= 0 && cap.flows < FLOW_COUNT_MAX :
		    sr.cut_flows == 0 && sr.flows_exact);

		/* the command as given (the chunks get it with the record
		 * of the capture's first time before them) */
		char *const *given = opt.command;
		size_t n_given = opt.n_command;
		int tables;

		if ((r = tables = zmerge_plan(opt.command, opt.n_command, flow,
		    whole, &e)) > 0 && (sel.has_since || sel.has_until))
			r = sc_err_set(&e, SC_ERR_USAGE, "the -z tables of a time "
			    "window cannot be merged: give --per-chunk, or a "
			    "display filter on frame.time instead of --since "
			    "and --until");
		if (r > 0) {
			opt.merge = merge = zmerge_new(flow);
			opt.output = RUN_ORDERED;
		}
		if (r > 0 && (tables & ZMERGE_IOSTAT) && (r = iostat_begin(merge,
		    &plan, flow, given, n_given, &e)) == 0)
			r = iostat_in_order(&plan, flow, have_cluster ?
			    cap.backwards : (int64_t)sr.backwards,
			    zmerge_iostat_interval(merge), &e);
		if (r >= 0 && (tables & (ZMERGE_CONV | ZMERGE_IOSTAT)))
			r = merge_reference(&plan, flow, &opt, &merge_argv, &e);
		if (r < 0) {
			status = cli_report(&e, NULL);
			goto out;
		}
		if (tables == ZMERGE_PHS && flow && plan.n_chunks > 1)
			phs_prefix_start(&local, &plan, merge, given, n_given);
		if ((tables & ZMERGE_IOSTAT) && zmerge_iostat_needs_share(merge))
			iostat_share_start(&local, &plan, flow, merge, given,
			    n_given);
	}

	/* Streaming gives the same lines, but not which chunk each came
	 * from: not for chunk order, tags, merged captures or --stdin. By
	 * default only tshark is streamed: tcpdump and ngrep start in a few
	 * milliseconds, and reading a pipe costs them more than that (bulk
	 * TCP through tcpdump: 1.8 CPU s streamed 2 chunks a process, 1.4
	 * one file each, 1.05 the whole file; docs/architecture.md). */
	if (batch == 0)
		batch = run_tool_is(opt.command[0], "tshark") ?
		    RUN_DEFAULT_BATCH : 1;
	opt.stream_arg = -1;
	if (opt.output == RUN_COMPLETION && !opt.tag && !opt.use_stdin &&
	    batch > 1)
		opt.stream_arg = run_stream_arg(opt.command, opt.n_command);
	opt.batch = (unsigned)batch;
	if (warm && !opt.use_stdin &&
	    run_warm_command(opt.command, opt.n_command))
		opt.warm_lib = warm_lib = run_warm_lib();
	opt.out_fd = STDOUT_FILENO;
	opt.err_fd = STDERR_FILENO;
	opt.interrupted = &cli_signal;
	opt.progress = show_progress;
	opt.progress_clear = clear_progress;
	opt.progress_ctx = &cli;
	if (pcap_out != NULL && strcmp(pcap_out, "-") != 0) {
		out_tmp = xasprintf("%s.tmp-XXXXXX", pcap_out);
		opt.out_fd = mkostemp(out_tmp, O_CLOEXEC);
		if (opt.out_fd >= 0) {
			mode_t m = umask(0);

			umask(m);
			(void)fchmod(opt.out_fd, 0666 & ~m);
		}
		if (opt.out_fd < 0) {
			cli_error("cannot create '%s': %s", out_tmp,
			    strerror(errno));
			status = 1;
			free(out_tmp);
			out_tmp = NULL;
			goto out;
		}
	}
	fflush(stdout);
	r = run_execute(&plan, &opt, &res, &e);
	progress_done(&cli.progress);
	if (cli.progress.drawn && r != SC_ERR_INTERRUPTED)
		progress_summary(&plan, &res);
	if (have_cluster && r != SC_ERR_INTERRUPTED) {
		struct sc_err ce;

		if (run_record(cl.cat, &plan, &opt, &res, &run_id, &ce) != 0)
			cli_warning("the run was not recorded: %s", ce.msg);
	}
	if (out_tmp != NULL) {
		int ok = r == 0 && !res.broken_pipe && fsync(opt.out_fd) == 0;

		if (close(opt.out_fd) != 0)
			ok = 0;
		if (ok && (res.failed_chunks == 0 && res.lost_chunks == 0) &&
		    rename(out_tmp, pcap_out) != 0) {
			cli_error("cannot rename '%s' to '%s': %s", out_tmp,
			    pcap_out, strerror(errno));
			ok = 0;
		}
		if (!ok || res.failed_chunks || res.lost_chunks)
			(void)unlink(out_tmp);
	}
	if (r == SC_ERR_INTERRUPTED) {
		status = cli_signal_status();
		goto out;
	}
	if (r != 0) {
		status = cli_report(&e, NULL);
		goto out;
	}
	if (res.broken_pipe) {
		status = 128 + SIGPIPE;
		goto out;
	}
	if (merge != NULL && res.failed_chunks == 0 && res.lost_chunks == 0) {
		struct strbuf merged = STRBUF_INIT;

		if (local.iostat || zmerge_phs_unsure(merge) > 0) {
			local_finish(&local, merge, 1);
			if (cli_signal) {
				status = cli_signal_status();
				strbuf_release(&merged);
				goto out;
			}
		}
		if (zmerge_finish(merge, &merged, &e) != 0) {
			status = cli_report(&e, NULL);
			strbuf_release(&merged);
			goto out;
		}
		if (file_write_all(STDOUT_FILENO, merged.buf, merged.len) != 0) {
			strbuf_release(&merged);
			status = errno == EPIPE ? 128 + SIGPIPE : 1;
			if (status == 1)
				cli_error("cannot write the output: %s",
				    strerror(errno));
			goto out;
		}
		strbuf_release(&merged);
		if (zmerge_phs_ties(merge) > 0)
			cli_warning("%zu pairs of neighbouring rows of the merged "
			    "protocol hierarchy were first met in two chunks, "
			    "and not in the capture's first packets read "
			    "here: tshark lists first the protocol it met "
			    "first in the file, which the chunks do not say, "
			    "so each pair may be the other way round",
			    zmerge_phs_ties(merge));
		if (zmerge_ties(merge) > 0)
			cli_warning("%zu pairs of conversations of the merged "
			    "table have as many frames and the same first time "
			    "stamp in two chunks: tshark lists first the one "
			    "whose first packet came first in the file, which "
			    "the chunks do not say, so each pair may be the "
			    "other way round", zmerge_ties(merge));
	}
	if (res.pcap_sections > 1)
		cli_warning("the capture written has %zu pcapng sections, not "
		    "one: %s", res.pcap_sections, res.pcap_sections_why);
	if (res.split_groups > 0)
		cli_warning("%zu flow%s larger than a chunk ran chunk by chunk, "
		    "not as one stream (%s): what the command says of %s may "
		    "be incomplete", res.split_groups, res.split_groups == 1 ?
		    "" : "s", opt.whole_groups ? "no worker able to run held "
		    "all of a group's chunks, or a group had more than "
		    RUN_MAX_BATCH_S " chunks" : "the command reads one file, "
		    "not -r {} or -I {}", res.split_groups == 1 ? "it" : "them");
	if (stats) {
		if (selected.chunks < selected.of)
			fprintf(stderr, "selected: %zu of %zu chunks, %zu cut to "
			    "the window%s\n", selected.chunks, selected.of,
			    selected.trimmed, selected.group_added > 0 ?
			    " (with the rest of their groups)" : "");
		print_run_summary(stderr, &plan, &res);
		if (have_cluster)
			print_cut_flows(stderr, cap.layout, cap.flows,
			    cap.cut_flows);
		else
			print_cut_flows(stderr, split_layout_name(layout),
			    (int64_t)sr.flows, (int64_t)sr.cut_flows);
	}
	status = report_outcome(&plan, &res);
	left = res.failed_chunks + res.lost_chunks + res.not_run;
	if (run_id > 0 && left > 0)
		cli_note("'shardcap run --rerun %lld' runs the %zu chunk%s this "
		    "run left (failed or not run) again", (long long)run_id,
		    left, left == 1 ? "" : "s");
	if (balance && have_cluster && status != 0)
		cli_warning("not balancing: the run did not complete, so its "
		    "times do not tell where the chunks should be");
	if (balance && have_cluster && status == 0) {
		/* the run's share of runs.lock must go first: moving
		 * waits for every query to end */
		run_plan_release(&plan);
		cluster_close(&cl);
		have_cluster = 0;
		status = balance_capture(target, &bal);
	}
out:
	local_finish(&local, NULL, 0);
	run_plan_release(&plan);
	if (have_cluster)
		cluster_close(&cl);
	if (tmpdir != NULL) {
		(void)file_remove_tree(tmpdir, NULL);
		free(tmpdir);
		split_result_release(&sr);
		config_release(&adhoc_cfg);
	}
	free(out_tmp);
	free(warm_lib);
	zmerge_free(merge);
	for (i = 0; merge_argv != NULL && merge_argv[i] != NULL; i++)
		free(merge_argv[i]);
	free(merge_argv);
	free(rerun_chunks);
	strvec_release(&rerun_words);
	catalog_run_spec_free(&spec);
	return status;
}

static int
cmd_stats(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "last", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cat_run *runs = NULL;
	struct cluster cl;
	struct sc_err e;
	struct json j;
	uint64_t last = 10;
	size_t n = 0, i, k;
	int c, json = 0, status;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (parse_uint(optarg, 1, 100000, &last) != 0)
				return cli_usage_error(STATS_USAGE,
				    "bad --last '%s'", optarg);
			break;
		case 'J':
			json = 1;
			break;
		case 'h':
			return cli_help(stats_help);
		default:
			return cli_usage_error(STATS_USAGE, "bad option");
		}
	}
	if (argc - optind > 1)
		return cli_usage_error(STATS_USAGE, "at most one capture");
	if ((status = cli_cluster_open(&cl, 0)) != 0)
		return status;
	sc_err_clear(&e);
	if (catalog_runs(cl.cat, argc - optind == 1 ? argv[optind] : NULL,
	    (size_t)last, 0, &runs, &n, &e) != 0) {
		status = cli_report(&e, NULL);
		cluster_close(&cl);
		return status;
	}
	if (json) {
		json_init(&j, stdout);
		json_array_begin(&j, NULL);
	}
	for (i = 0; i < n; i++) {
		struct cat_run_worker *ws = NULL;
		size_t nw = 0;
		double *t;
		struct spread s;
		double wall = (double)(runs[i].finished_ms - runs[i].started_ms) /
		    1000.0;

		if (catalog_run_workers(cl.cat, runs[i].id, &ws, &nw, &e) != 0) {
			status = cli_report(&e, NULL);
			break;
		}
		t = xcalloc(nw + 1, sizeof(*t));
		for (k = 0; k < nw; k++)
			t[k] = (double)ws[k].completion_ms / 1000.0;
		s = spread_of(t, nw);
		if (json) {
			json_object_begin(&j, NULL);
			json_int(&j, "run", runs[i].id);
			json_string(&j, "capture", runs[i].capture);
			json_string(&j, "command", runs[i].command);
			json_string(&j, "selection", runs[i].selection[0] ?
			    runs[i].selection : NULL);
			json_int(&j, "started_ms", runs[i].started_ms);
			json_double(&j, "seconds", wall);
			json_int(&j, "status", runs[i].status);
			json_uint(&j, "jobs", runs[i].jobs);
			json_uint(&j, "left", runs[i].left);
			json_array_begin(&j, "workers");
			for (k = 0; k < nw; k++) {
				json_object_begin(&j, NULL);
				json_string(&j, "name", ws[k].worker);
				json_uint(&j, "chunks", ws[k].chunks);
				json_double(&j, "completion", t[k]);
				json_double(&j, "busy",
				    (double)ws[k].busy_ms / 1000.0);
				json_object_end(&j);
			}
			json_array_end(&j);
			json_double(&j, "mean", s.mean);
			json_double(&j, "sd", s.sd);
			json_double(&j, "slowest", s.slowest);
			json_object_end(&j);
		} else {
			static const char *h[] = {
				"worker", "chunks", "completion", "busy",
			};
			static const int num[] = { 0, 1, 1, 1 };
			struct strbuf when = STRBUF_INIT, left = STRBUF_INIT;
			struct sc_time st = { runs[i].started_ms / 1000, 0 };
			struct table tb;

			format_time(&when, &st, 0);
			if (runs[i].left > 0)
				strbuf_addf(&left, "  (%zu chunk%s left: run "
				    "--rerun %lld)", runs[i].left,
				    runs[i].left == 1 ? "" : "s",
				    (long long)runs[i].id);
			else if (runs[i].status)
				strbuf_addstr(&left, "  (some failed)");
			printf("%srun %lld  %s  %s UTC  %.2f s  %zu jobs%s\n  %s"
			    "%s%s\n", i ? "\n" : "", (long long)runs[i].id,
			    runs[i].capture, when.buf, wall, runs[i].jobs,
			    left.buf, runs[i].command, runs[i].selection[0] ?
			    "\n  of " : "", runs[i].selection);
			table_init(&tb, ARRAY_SIZE(h), h, num);
			for (k = 0; k < nw; k++) {
				table_add(&tb, ws[k].worker);
				table_addf(&tb, "%zu", ws[k].chunks);
				table_addf(&tb, "%.2f s", t[k]);
				table_addf(&tb, "%.2f s",
				    (double)ws[k].busy_ms / 1000.0);
			}
			table_print(&tb, stdout);
			table_release(&tb);
			printf("completion: mean %.2f s, standard deviation "
			    "%.2f s, slowest %.2f x the mean\n", s.mean, s.sd,
			    s.mean > 0 ? s.slowest / s.mean : 0);
			strbuf_release(&when);
			strbuf_release(&left);
		}
		free(t);
		free(ws);
	}
	if (json) {
		json_array_end(&j);
		json_finish(&j);
	}
	free(runs);
	cluster_close(&cl);
	return status ? status : cli_finish_stdout(0);
}

const struct command cmd_run_entry = {
	"run", cmd_run, "run a command over every chunk of a capture",
	run_help,
};

const struct command cmd_stats_entry = {
	"stats", cmd_stats, "how the recent runs went, per worker", stats_help,
};
