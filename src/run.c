/* run.c - a query over every chunk of a capture, in parallel. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "catalog.h"
#include "child.h"
#include "outbuf.h"
#include "remote.h"
#include "run.h"
#include "strvec.h"
#include "util.h"
#include "xalloc.h"
#include "banned.h"

#define OUT_MEMORY (8u << 20)           /* all jobs' output held in memory */
#define OUT_PER_JOB (1u << 20)          /* one job's */
#define ERR_LINE_MAX 4096
/* The first line a job's shell writes to stderr, never passed on: a job
 * that ends with 255 without it never reached its worker (ssh's 255). */
#define RUN_STARTED_MARK "shardcap-job-started"

/* --- planning --- */

static void
worker_from_config(struct run_worker *rw, const struct config_worker *w)
{
	struct strbuf sb = STRBUF_INIT;

	memset(rw, 0, sizeof(*rw));
	snprintf(rw->name, sizeof(rw->name), "%s", w->name);
	rw->cw.name = xstrdup(w->name);
	rw->cw.local = w->local;
	rw->cw.host = w->host ? xstrdup(w->host) : NULL;
	rw->cw.port = w->port;
	rw->cw.user = w->user ? xstrdup(w->user) : NULL;
	rw->cw.identity = w->identity ? xstrdup(w->identity) : NULL;
	rw->cw.dir = xstrdup(w->dir);
	rw->cw.jobs = w->jobs;
	rw->slots = w->jobs;
	remote_describe(&sb, w);
	snprintf(rw->where, sizeof(rw->where), "%s", sb.buf);
	strbuf_release(&sb);
}

static void
on_cores_line(struct child *c, const char *line, void *ctx)
{
	unsigned *slots = ctx;
	unsigned long v = strtoul(line, NULL, 10);

	(void)c;
	if (slots != NULL && v > 0 && v < 100000)
		*slots = (unsigned)v;
}

/* Asks every remote worker that holds chunks for its cores: those with
 * "jobs = 0" run one job per core. A worker that does not answer is
 * marked failed, with ssh's words. */
static int
ask_cores(struct run_plan *plan, volatile sig_atomic_t *interrupted,
    struct sc_err *e)
{
	struct child *cs = xcalloc(plan->n_workers + 1, sizeof(*cs));
	struct child **running = xcalloc(plan->n_workers + 1, sizeof(*running));
	struct strvec *argv = xcalloc(plan->n_workers + 1, sizeof(*argv));
	size_t i, n = 0;
	int r;

	for (i = 0; i < plan->n_workers; i++) {
		struct run_worker *w = &plan->workers[i];

		child_init(&cs[i], NULL);
		strvec_init(&argv[i]);
		if (w->chunks_total == 0)
			continue;
		if (w->cw.local) {
			long c = sysconf(_SC_NPROCESSORS_ONLN);

			if (w->slots == 0)
				w->slots = c > 0 ? (unsigned)c : 1;
			continue;
		}
		/* Every remote worker is asked, even with its jobs known: the
		 * answer opens its control connection before the jobs race to,
		 * and shows now which workers cannot be reached. */
		remote_script_argv(&argv[i], plan->cfg, &w->cw,
		    plan->control_dir, "nproc 2>/dev/null || "
		    "getconf _NPROCESSORS_ONLN");
		child_init(&cs[i], argv[i].v);
		cs[i].on_line = on_cores_line;
		cs[i].ctx = w->slots == 0 ? &w->slots : NULL;
		if (child_start(&cs[i], e) == 0)
			running[n++] = &cs[i];
	}
	r = child_wait_all(running, n, interrupted, e);
	for (i = 0; i < plan->n_workers; i++) {
		struct run_worker *w = &plan->workers[i];

		if (cs[i].pid > 0 && child_exit_code(&cs[i]) != 0) {
			w->failed = 1;
			snprintf(w->error, sizeof(w->error), "%s",
			    child_last_error(&cs[i]));
		}
		if (w->slots == 0)
			w->slots = 1;
		child_release(&cs[i]);
		strvec_release(&argv[i]);
	}
	free(cs);
	free(running);
	free(argv);
	return r;
}

int
run_plan_cluster(struct run_plan *plan, struct cluster *cl, const char *name,
    volatile sig_atomic_t *interrupted, struct sc_err *e)
{
	struct cat_capture cap;
	struct cat_chunk *chunks = NULL;
	struct cat_placement *pl = NULL;
	size_t n_chunks = 0, n_pl = 0, i, k;
	int r;

	memset(plan, 0, sizeof(*plan));
	plan->cfg = &cl->cfg;
	plan->control_dir = cl->control_dir;
	if ((r = catalog_capture_get(cl->cat, name, &cap, e)) != 0)
		return r;
	snprintf(plan->capture, sizeof(plan->capture), "%s", name);
	plan->capture_id = cap.id;
	if ((r = catalog_chunks(cl->cat, cap.id, &chunks, &n_chunks, e)) != 0 ||
	    (r = catalog_placements(cl->cat, cap.id, &pl, &n_pl, e)) != 0)
		goto out;
	plan->n_workers = cl->cfg.n_workers;
	plan->workers = xcalloc(plan->n_workers + 1, sizeof(*plan->workers));
	for (k = 0; k < plan->n_workers; k++) {
		worker_from_config(&plan->workers[k], &cl->cfg.workers[k]);
		if ((r = catalog_worker_ensure(cl->cat, cl->cfg.workers[k].name,
		    &plan->workers[k].worker_id, e)) != 0)
			goto out;
	}
	plan->n_chunks = n_chunks;
	plan->chunks = xcalloc(n_chunks + 1, sizeof(*plan->chunks));
	for (i = 0; i < n_chunks; i++) {
		struct run_chunk *c = &plan->chunks[i];

		c->seq = chunks[i].seq;
		c->chunk_id = chunks[i].id;
		snprintf(c->file, sizeof(c->file), "%s", chunks[i].file);
		c->bytes = chunks[i].bytes;
		c->holders = xcalloc(plan->n_workers + 1, sizeof(size_t));
		for (k = 0; k < n_pl; k++) {
			size_t w;

			if (pl[k].chunk_id != c->chunk_id || !pl[k].current)
				continue;
			for (w = 0; w < plan->n_workers; w++)
				if (plan->workers[w].worker_id == pl[k].worker_id) {
					c->holders[c->n_holders++] = w;
					plan->workers[w].chunks_total++;
				}
		}
	}
	r = ask_cores(plan, interrupted, e);
out:
	free(chunks);
	free(pl);
	return r;
}

int
run_plan_local(struct run_plan *plan, const struct config *cfg,
    const char *name, const char *dir, const struct split_result *sr,
    unsigned n, struct sc_err *e)
{
	size_t i, k;

	(void)e;
	memset(plan, 0, sizeof(*plan));
	plan->cfg = cfg;
	plan->control_dir = "/nonexistent";
	snprintf(plan->capture, sizeof(plan->capture), "%s", name);
	plan->base = xstrdup(dir);
	plan->n_workers = n ? n : 1;
	plan->workers = xcalloc(plan->n_workers, sizeof(*plan->workers));
	for (k = 0; k < plan->n_workers; k++) {
		struct config_worker w;

		memset(&w, 0, sizeof(w));
		w.name = xasprintf("local%zu", k + 1);
		w.local = 1;
		w.dir = (char *)dir;
		w.jobs = 1;
		worker_from_config(&plan->workers[k], &w);
		free(w.name);
	}
	plan->n_chunks = sr->n_chunks;
	plan->chunks = xcalloc(sr->n_chunks + 1, sizeof(*plan->chunks));
	for (i = 0; i < sr->n_chunks; i++) {
		struct run_chunk *c = &plan->chunks[i];

		c->seq = (unsigned)i + 1;
		snprintf(c->file, sizeof(c->file), "%s", sr->chunks[i]->file);
		c->bytes = sr->chunks[i]->bytes;
		c->holders = xcalloc(plan->n_workers, sizeof(size_t));
		for (k = 0; k < plan->n_workers; k++)
			c->holders[c->n_holders++] = k;
	}
	return 0;
}

void
run_plan_release(struct run_plan *plan)
{
	size_t i;

	for (i = 0; i < plan->n_workers; i++) {
		struct config_worker *w = &plan->workers[i].cw;

		free(w->name);
		free(w->host);
		free(w->user);
		free(w->identity);
		free(w->dir);
	}
	for (i = 0; i < plan->n_chunks; i++)
		free(plan->chunks[i].holders);
	free(plan->workers);
	free(plan->chunks);
	free(plan->base);
	memset(plan, 0, sizeof(*plan));
}

/* --- jobs --- */

void
run_job_script(struct strbuf *sb, const struct run_options *opt,
    const char *path)
{
	size_t i;

	/*
	 * The job's shell:
	 *  - keeps its stdin as fd 3 for the watcher, and passes signals on
	 *    to the command;
	 *  - runs the command in a session of its own (so that it and
	 *    whatever it starts are killed as one), its stdin the chunk or
	 *    /dev/null;
	 *  - starts the watcher, a session too, which waits for the job's
	 *    stdin to close - shardcap closes it when the output has ended,
	 *    or when it stops; ssh when the connection goes; the kernel when
	 *    shardcap dies - and then kills the command's session;
	 *  - lets go of every descriptor (sshd may give stdin and stdout as
	 *    one socket: nothing but the command may hold it), waits for the
	 *    command, stops the watcher and exits with the command's status.
	 */
	strbuf_addstr(sb, "exec 3<&0; trap 'kill -TERM -$p 2>/dev/null; "
	    "exit 143' HUP INT TERM; echo " RUN_STARTED_MARK " >&2; setsid");
	for (i = 0; i < opt->n_command; i++) {
		struct strbuf word = STRBUF_INIT;
		const char *a = opt->command[i], *hit;

		while ((hit = strstr(a, "{}")) != NULL) {
			strbuf_add(&word, a, (size_t)(hit - a));
			strbuf_addstr(&word, path);
			a = hit + 2;
		}
		strbuf_addstr(&word, a);
		strbuf_addch(sb, ' ');
		shell_quote(sb, word.buf);
		strbuf_release(&word);
	}
	strbuf_addstr(sb, " < ");
	if (opt->use_stdin)
		shell_quote(sb, path);
	else
		strbuf_addstr(sb, "/dev/null");
	strbuf_addstr(sb, " 3<&- & p=$!; "
	    "setsid sh -c 'cat >/dev/null; kill -TERM -\"$1\" 2>/dev/null' "
	    "watchdog $p <&3 >/dev/null 2>&1 & w=$!; "
	    "exec 0</dev/null 3<&- >/dev/null 2>&1; "
	    "wait $p; s=$?; kill -TERM -$w 2>/dev/null; exit $s");
}

struct job {
	size_t chunk;
	size_t worker;
	struct strvec argv;
	struct child child;
	struct outbuf out;
	struct strbuf err_line;
	double start;
	int out_eof, err_eof;
	int started;            /* the marker came: ssh got through */
	struct strbuf last_err; /* its last line of stderr */
};

struct runner {
	struct run_plan *plan;
	const struct run_options *opt;
	struct run_result *res;
	struct outbuf_budget budget;
	struct job **jobs;      /* running */
	size_t n_jobs;
	struct outbuf *done_out; /* ordered/pcap: finished, not yet written */
	size_t next_write;      /* ordered/pcap: next chunk to write */
	double t0;
	int stopping;
	/* pcap merging */
	int pcap_kind;          /* 0 none yet, 1 pcap, 2 pcapng */
	uint8_t pcap_header[24];
	int pcap_bad;
	char pcap_msg[200];
	/* tag prefix of the output being written, and whether the last
	 * byte written ended a line */
	const char *tag_file, *tag_worker;
	int at_line_start;
};

static double
now(const struct runner *rn)
{
	return monotonic_seconds() - rn->t0;
}

static int
write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Writes text output, with a tag before every line when asked. */
static int
emit_text(void *ctx, const char *data, size_t len)
{
	struct runner *rn = ctx;
	int fd = rn->opt->out_fd;

	if (!rn->opt->tag) {
		if (len > 0)
			rn->at_line_start = data[len - 1] == '\n';
		return write_all(fd, data, len);
	}
	while (len > 0) {
		const char *nl = memchr(data, '\n', len);
		size_t n = nl ? (size_t)(nl - data) + 1 : len;

		if (rn->at_line_start) {
			struct strbuf t = STRBUF_INIT;
			int r;

			strbuf_addf(&t, "%s\t%s\t", rn->tag_file, rn->tag_worker);
			r = write_all(fd, t.buf, t.len);
			strbuf_release(&t);
			if (r < 0)
				return -1;
		}
		if (write_all(fd, data, n) < 0)
			return -1;
		rn->at_line_start = data[n - 1] == '\n';
		data += n;
		len -= n;
	}
	return 0;
}

/* Writes one job's capture output into the merged capture: the first 24
 * bytes (the pcap header, or the start of a pcapng SHB) are held until
 * the format is known; a pcap header is written for the first output
 * only, pcapng sections go through as they are. */
struct pcap_emit {
	struct runner *rn;
	uint8_t head[24];
	size_t held;
	int kind;               /* 0 not known yet, 1 pcap, 2 pcapng */
	int passing;            /* the head is dealt with */
};

static int
pcap_settle(struct pcap_emit *pe)
{
	static const uint8_t ng[4] = { 0x0a, 0x0d, 0x0d, 0x0a };
	struct runner *rn = pe->rn;

	pe->passing = 1;
	if (pe->held == 0)
		return 0;       /* the job wrote nothing */
	pe->kind = pe->held >= 4 && memcmp(pe->head, ng, 4) == 0 ? 2 : 1;
	if (rn->pcap_kind == 0)
		rn->pcap_kind = pe->kind;
	if (pe->kind != rn->pcap_kind) {
		rn->pcap_bad = 1;
		snprintf(rn->pcap_msg, sizeof(rn->pcap_msg),
		    "jobs wrote both pcap and pcapng");
		return 0;
	}
	if (pe->kind == 2)
		return write_all(rn->opt->out_fd, (const char *)pe->head,
		    pe->held);
	if (pe->held < 24) {
		rn->pcap_bad = 1;
		snprintf(rn->pcap_msg, sizeof(rn->pcap_msg),
		    "a job wrote %zu bytes, not a pcap header", pe->held);
		return 0;
	}
	if (rn->pcap_header[0] == 0) {
		memcpy(rn->pcap_header, pe->head, 24);
		return write_all(rn->opt->out_fd, (const char *)pe->head, 24);
	}
	if (memcmp(rn->pcap_header, pe->head, 4) != 0 ||
	    memcmp(rn->pcap_header + 20, pe->head + 20, 4) != 0) {
		rn->pcap_bad = 1;
		snprintf(rn->pcap_msg, sizeof(rn->pcap_msg), "jobs wrote pcap "
		    "files of different byte order, time resolution or link "
		    "type");
	}
	return 0;
}

static int
emit_pcap(void *ctx, const char *data, size_t len)
{
	struct pcap_emit *pe = ctx;
	size_t take;
	int r;

	if (pe->rn->pcap_bad)
		return 0;
	if (!pe->passing) {
		take = 24 - pe->held < len ? 24 - pe->held : len;
		memcpy(pe->head + pe->held, data, take);
		pe->held += take;
		data += take;
		len -= take;
		if (pe->held < 24)
			return 0;
		if ((r = pcap_settle(pe)) != 0)
			return r;
	}
	if (pe->rn->pcap_bad || len == 0)
		return 0;
	return write_all(pe->rn->opt->out_fd, data, len);
}

/* Writes the output of chunk c (held in ob) to out_fd, as the mode says. */
static int
write_output(struct runner *rn, size_t c, struct outbuf *ob)
{
	const struct run_chunk *ch = &rn->plan->chunks[c];
	int r;

	if (rn->opt->output == RUN_PCAP) {
		struct pcap_emit pe;

		memset(&pe, 0, sizeof(pe));
		pe.rn = rn;
		r = outbuf_each(ob, emit_pcap, &pe);
		if (r == 0 && !pe.passing)
			r = pcap_settle(&pe);
		return r;
	}
	rn->tag_file = ch->file;
	rn->tag_worker = rn->plan->workers[ch->worker].name;
	rn->at_line_start = 1;
	r = outbuf_each(ob, emit_text, rn);
	/* A last line without its newline gets one, so that the next
	 * job's output never continues it. */
	if (r == 0 && ob->len > 0 && !rn->at_line_start)
		r = write_all(rn->opt->out_fd, "\n", 1);
	return r;
}

static void
pass_stderr(struct runner *rn, struct job *j, const char *data, size_t len,
    int flush)
{
	const struct run_chunk *ch = &rn->plan->chunks[j->chunk];
	size_t i, start = 0;

	for (i = 0; i <= len; i++) {
		int end = i == len;

		if (!end && data[i] != '\n')
			continue;
		if (j->err_line.len < ERR_LINE_MAX)
			strbuf_add(&j->err_line, data + start, i - start);
		start = i + 1;
		if (end && !flush)
			break;
		if (end && j->err_line.len == 0)
			break;
		if (!j->started && strcmp(j->err_line.buf, RUN_STARTED_MARK) == 0) {
			/* our own marker: the worker's shell is running */
			j->started = 1;
		} else {
			strbuf_reset(&j->last_err);
			strbuf_addstr(&j->last_err, j->err_line.buf);
			struct strbuf sb = STRBUF_INIT;

			strbuf_addf(&sb, "[%s %s] %s\n", ch->file,
			    rn->plan->workers[j->worker].name, j->err_line.buf);
			(void)write_all(rn->opt->err_fd, sb.buf, sb.len);
			strbuf_release(&sb);
		}
		strbuf_reset(&j->err_line);
	}
}

static int
start_job(struct runner *rn, size_t c, size_t w, struct sc_err *e)
{
	struct run_plan *plan = rn->plan;
	struct run_worker *rw = &plan->workers[w];
	struct run_chunk *ch = &plan->chunks[c];
	struct job *j = xcalloc(1, sizeof(*j));
	struct strbuf script = STRBUF_INIT;
	char *path;

	if (plan->base != NULL)
		path = xasprintf("%s/%s", plan->base, ch->file);
	else
		path = xasprintf("%s/%s/%s", rw->cw.dir, plan->capture, ch->file);
	run_job_script(&script, rn->opt, path);
	free(path);
	strvec_init(&j->argv);
	remote_script_argv(&j->argv, plan->cfg, &rw->cw, plan->control_dir,
	    script.buf);
	strbuf_release(&script);
	child_init(&j->child, j->argv.v);
	j->child.want_stdin = 1;
	j->chunk = c;
	j->worker = w;
	outbuf_init(&j->out, &rn->budget);
	strbuf_init(&j->err_line);
	strbuf_init(&j->last_err);
	j->start = now(rn);
	if (child_start(&j->child, e) != 0) {
		strvec_release(&j->argv);
		free(j);
		return SC_ERR_SYSTEM;
	}
	fcntl(j->child.out_fd, F_SETFL, O_NONBLOCK);
	fcntl(j->child.err_fd, F_SETFL, O_NONBLOCK);
	ch->state = 1;
	ch->worker = w;
	ch->start = j->start;
	rw->busy++;
	rn->jobs[rn->n_jobs++] = j;
	return 0;
}

/* The next chunk worker w may run: the first waiting one it holds. */
static size_t
next_chunk(struct runner *rn, size_t w)
{
	size_t i, k;

	for (i = 0; i < rn->plan->n_chunks; i++) {
		const struct run_chunk *c = &rn->plan->chunks[i];

		if (c->state != 0)
			continue;
		for (k = 0; k < c->n_holders; k++)
			if (c->holders[k] == w)
				return i;
	}
	return (size_t)-1;
}

/* Chunks that no worker able to run them holds any more are given up. */
static void
give_up_lost(struct runner *rn)
{
	size_t i, k;

	for (i = 0; i < rn->plan->n_chunks; i++) {
		struct run_chunk *c = &rn->plan->chunks[i];
		int alive = 0;

		if (c->state != 0)
			continue;
		for (k = 0; k < c->n_holders; k++)
			if (!rn->plan->workers[c->holders[k]].failed)
				alive = 1;
		if (!alive) {
			c->state = 3;
			c->exit_code = -1;
			rn->res->lost_chunks++;
		}
	}
}

static int
start_jobs(struct runner *rn, struct sc_err *e)
{
	size_t w;
	int r;

	give_up_lost(rn);
	for (w = 0; w < rn->plan->n_workers && !rn->stopping; w++) {
		struct run_worker *rw = &rn->plan->workers[w];

		while (!rw->failed && rw->busy < rw->slots) {
			size_t c = next_chunk(rn, w);

			if (c == (size_t)-1)
				break;
			if ((r = start_job(rn, c, w, e)) != 0)
				return r;
		}
	}
	return 0;
}

/* Writes finished outputs that are due: all at once in completion order,
 * the next ones in chunk order otherwise. */
static int
flush_ordered(struct runner *rn)
{
	while (rn->next_write < rn->plan->n_chunks) {
		struct run_chunk *c = &rn->plan->chunks[rn->next_write];

		if (c->state == 3) {
			rn->next_write++;
			continue;
		}
		if (c->state != 2)
			break;
		if (write_output(rn, rn->next_write,
		    &rn->done_out[rn->next_write]) < 0)
			return -1;
		outbuf_release(&rn->done_out[rn->next_write]);
		rn->next_write++;
	}
	return 0;
}

static int
finish_job(struct runner *rn, size_t idx)
{
	struct job *j = rn->jobs[idx];
	struct run_plan *plan = rn->plan;
	struct run_chunk *ch = &plan->chunks[j->chunk];
	struct run_worker *rw = &plan->workers[j->worker];
	int code = child_exit_code(&j->child), r = 0;
	double end = now(rn);

	pass_stderr(rn, j, "", 0, 1);
	rw->busy--;
	ch->wall = end - j->start;
	ch->exit_code = code;
	ch->bytes_out = j->out.len;
	rn->res->bytes_out += j->out.len;
	/* ssh says 255 when it could not reach the worker: its other chunks
	 * wait for a worker that can be reached (issue of recovery). */
	if (code == 255 && !j->started && !rw->cw.local && !rn->stopping) {
		rw->failed = 1;
		snprintf(rw->error, sizeof(rw->error), "%s", j->last_err.len ?
		    j->last_err.buf : "ssh failed (exit 255)");
		ch->state = 0;
		outbuf_release(&j->out);
	} else {
		ch->state = 2;
		rw->chunks_done++;
		rw->busy_seconds += ch->wall;
		if (end > rw->finished_at)
			rw->finished_at = end;
		if (code != 0)
			rn->res->failed_chunks++;
		if (!rn->stopping && rn->opt->output == RUN_COMPLETION) {
			r = write_output(rn, j->chunk, &j->out);
			outbuf_release(&j->out);
		} else {
			rn->done_out[j->chunk] = j->out;
			r = rn->stopping ? 0 : flush_ordered(rn);
		}
	}
	child_release(&j->child);
	strvec_release(&j->argv);
	strbuf_release(&j->err_line);
	strbuf_release(&j->last_err);
	free(j);
	rn->jobs[idx] = rn->jobs[--rn->n_jobs];
	return r;
}

/* Stops every job: closing its stdin makes the watchdog kill the command
 * (on the far side of ssh too, and the job then ends by itself); a job
 * still there later gets sig (0: none) - the watchdog traps it and kills
 * the command as well. */
static void
stop_all(struct runner *rn, int sig)
{
	size_t i;

	for (i = 0; i < rn->n_jobs; i++) {
		struct job *j = rn->jobs[i];

		if (j->child.in_fd >= 0) {
			close(j->child.in_fd);
			j->child.in_fd = -1;
		}
		if (sig != 0)
			child_signal(&j->child, sig);
	}
}

/* Reads what a job's pipes have; returns -1 when writing output failed. */
static int
drain_job(struct runner *rn, struct job *j, struct sc_err *e)
{
	char buf[65536];
	ssize_t n;

	while (!j->out_eof) {
		n = read(j->child.out_fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		if (n == 0) {
			j->out_eof = 1;
			close(j->child.out_fd);
			j->child.out_fd = -1;
			/* the command is done writing: let the watchdog go */
			if (j->child.in_fd >= 0) {
				close(j->child.in_fd);
				j->child.in_fd = -1;
			}
			break;
		}
		if (outbuf_add(&j->out, buf, (size_t)n, e) != 0)
			return -2;
		if ((size_t)n < sizeof(buf))
			break;
	}
	while (!j->err_eof) {
		n = read(j->child.err_fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		if (n == 0) {
			j->err_eof = 1;
			close(j->child.err_fd);
			j->child.err_fd = -1;
			break;
		}
		pass_stderr(rn, j, buf, (size_t)n, 0);
	}
	return 0;
}

int
run_execute(struct run_plan *plan, const struct run_options *opt,
    struct run_result *res, struct sc_err *e)
{
	struct runner rn;
	struct pollfd *pfd;
	struct timeval tv;
	double killed_at = -1;
	size_t i;
	int r = 0, stop_stage = 0, out_is_pipe;

	memset(res, 0, sizeof(*res));
	memset(&rn, 0, sizeof(rn));
	rn.plan = plan;
	rn.opt = opt;
	rn.res = res;
	rn.budget.limit = OUT_MEMORY;
	rn.budget.per_buf = OUT_PER_JOB;
	rn.jobs = xcalloc(plan->n_chunks + 1, sizeof(*rn.jobs));
	rn.done_out = xcalloc(plan->n_chunks + 1, sizeof(*rn.done_out));
	for (i = 0; i < plan->n_chunks; i++)
		outbuf_init(&rn.done_out[i], &rn.budget);
	pfd = xcalloc(2 * plan->n_chunks + 2, sizeof(*pfd));
	{
		struct stat st;

		out_is_pipe = fstat(opt->out_fd, &st) == 0 &&
		    (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
	}
	gettimeofday(&tv, NULL);
	res->started_ms = (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
	rn.t0 = monotonic_seconds();

	if ((r = start_jobs(&rn, e)) != 0)
		rn.stopping = 1;
	while (rn.n_jobs > 0) {
		size_t k = 0;

		if (!rn.stopping && opt->interrupted != NULL &&
		    *opt->interrupted) {
			rn.stopping = 1;
			r = sc_err_set(e, SC_ERR_INTERRUPTED, "interrupted");
		}
		if (rn.stopping && killed_at < 0) {
			stop_all(&rn, 0);
			killed_at = now(&rn);
			stop_stage = 1;
		} else if (rn.stopping && stop_stage == 1 &&
		    now(&rn) - killed_at > 2.0) {
			stop_all(&rn, SIGTERM);
			stop_stage = 2;
		} else if (rn.stopping && stop_stage == 2 &&
		    now(&rn) - killed_at > 5.0) {
			stop_all(&rn, SIGKILL);
			stop_stage = 3;
		}
		for (i = 0; i < rn.n_jobs; i++) {
			struct job *j = rn.jobs[i];

			if (!j->out_eof) {
				pfd[k].fd = j->child.out_fd;
				pfd[k++].events = POLLIN;
			}
			if (!j->err_eof) {
				pfd[k].fd = j->child.err_fd;
				pfd[k++].events = POLLIN;
			}
		}
		/* A reader of the output that goes away shows as an error on
		 * the pipe at once, not only when the next job ends. */
		if (out_is_pipe && !rn.stopping) {
			pfd[k].fd = opt->out_fd;
			pfd[k++].events = 0;
		}
		if (k > 0 && poll(pfd, k, 100) < 0 && errno != EINTR) {
			r = sc_err_sys(e, "poll failed");
			rn.stopping = 1;
		}
		if (k == 0) {
			struct timespec ts = { 0, 5000000 };

			nanosleep(&ts, NULL);
		} else if (out_is_pipe && !rn.stopping &&
		    pfd[k - 1].fd == opt->out_fd &&
		    (pfd[k - 1].revents & (POLLERR | POLLHUP))) {
			res->broken_pipe = 1;
			rn.stopping = 1;
		}
		for (i = 0; i < rn.n_jobs; i++) {
			int d = drain_job(&rn, rn.jobs[i], e);

			if (d == -2) {
				r = SC_ERR_SYSTEM;
				rn.stopping = 1;
			}
		}
		for (i = 0; i < rn.n_jobs; ) {
			struct job *j = rn.jobs[i];

			if (j->out_eof && j->err_eof && child_reap(&j->child)) {
				if (finish_job(&rn, i) < 0 && !rn.stopping) {
					if (errno == EPIPE) {
						res->broken_pipe = 1;
					} else {
						r = sc_err_sys(e, "cannot write "
						    "the output");
					}
					rn.stopping = 1;
				}
				continue;
			}
			i++;
		}
		if (!rn.stopping && (r = start_jobs(&rn, e)) != 0)
			rn.stopping = 1;
		if (opt->progress != NULL)
			opt->progress(opt->progress_ctx, plan, now(&rn));
	}
	if (!rn.stopping && (opt->output != RUN_COMPLETION) &&
	    flush_ordered(&rn) < 0) {
		if (errno == EPIPE)
			res->broken_pipe = 1;
		else
			r = sc_err_sys(e, "cannot write the output");
	}
	if (r == 0 && rn.pcap_bad)
		r = sc_err_set(e, SC_ERR_USAGE, "cannot merge the captures: %s",
		    rn.pcap_msg);
	give_up_lost(&rn);
	res->wall = now(&rn);
	for (i = 0; i < plan->n_chunks; i++)
		outbuf_release(&rn.done_out[i]);
	free(rn.done_out);
	free(rn.jobs);
	free(pfd);
	return r;
}

/* --- the catalog --- */

int
run_record(struct catalog *cat, const struct run_plan *plan,
    const struct run_options *opt, const struct run_result *res,
    struct sc_err *e)
{
	struct strbuf cmd = STRBUF_INIT;
	int64_t run_id;
	size_t i;
	int r, status = res->failed_chunks || res->lost_chunks ? 1 : 0;

	for (i = 0; i < opt->n_command; i++) {
		if (i > 0)
			strbuf_addch(&cmd, ' ');
		shell_quote(&cmd, opt->command[i]);
	}
	if ((r = catalog_begin(cat, e)) != 0)
		goto out;
	r = catalog_run_add(cat, plan->capture_id, cmd.buf, res->started_ms,
	    res->started_ms + (int64_t)(res->wall * 1000), status, &run_id, e);
	for (i = 0; r == 0 && i < plan->n_workers; i++) {
		const struct run_worker *w = &plan->workers[i];

		if (w->chunks_done > 0)
			r = catalog_run_worker_add(cat, run_id, w->worker_id,
			    w->chunks_done, (int64_t)(w->finished_at * 1000), e);
	}
	for (i = 0; r == 0 && i < plan->n_chunks; i++) {
		const struct run_chunk *c = &plan->chunks[i];

		if (c->state != 2)
			continue;
		r = catalog_job_add(cat, run_id, c->chunk_id,
		    plan->workers[c->worker].worker_id,
		    (int64_t)(c->start * 1000), (int64_t)(c->wall * 1000),
		    c->exit_code, c->bytes_out, e);
	}
	if (r == 0)
		r = catalog_commit(cat, e);
	else
		catalog_rollback(cat);
out:
	strbuf_release(&cmd);
	return r;
}
