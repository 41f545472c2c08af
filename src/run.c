/* run.c - a query over every chunk of a capture, in parallel. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "catalog.h"
#include "child.h"
#include "file.h"
#include "outbuf.h"
#include "remote.h"
#include "run.h"
#include "runner.h"
#include "strvec.h"
#include "util.h"
#include "xalloc.h"
#include "banned.h"

/* A child's exit wakes the poll loop at once, through this pipe. */
static int sigchld_pipe[2] = { -1, -1 };

static void
on_sigchld(int signo)
{
	int saved = errno;

	(void)signo;
	(void)!write(sigchld_pipe[1], "c", 1);
	errno = saved;
}

static int
merge_piece(void *ctx, const char *data, size_t len)
{
	return zmerge_add(ctx, data, len, NULL) != 0;
}

/* Writes the output of chunk c (held in ob) to the run's output, or
 * merges it: a merge that fails keeps its error for the caller, and the
 * run goes on. */
static int
write_output(struct runner *rn, size_t c, struct outbuf *ob)
{
	const struct run_chunk *ch = &rn->plan->chunks[c];

	if (ch->in_whole)
		return 0;       /* its group's first chunk had the output */
	if (rn->opt->merge != NULL) {
		if (outbuf_each(ob, merge_piece, rn->opt->merge) == 0)
			(void)zmerge_chunk_end(rn->opt->merge, ch->file, NULL);
		return 0;
	}
	return sink_write(&rn->sink, ch->file,
	    rn->plan->workers[ch->worker].name, ob);
}

void
run_chunk_path(struct strbuf *sb, const struct run_plan *plan, size_t w,
    size_t c)
{
	size_t from = sched_copy_for(plan, &plan->chunks[c], w);

	if (plan->base != NULL)
		strbuf_addf(sb, "%s/%s", plan->base, plan->chunks[c].file);
	else
		strbuf_addf(sb, "%s/%s/%s", plan->workers[from ==
		    (size_t)-1 ? w : from].cw.dir, plan->capture,
		    plan->chunks[c].file);
}

/* A slot waiting for a warm tool of the hub's gets the line that asks
 * for one, or an empty line when there is none. */
static void
hub_attach(struct runner *rn, struct slot *sl)
{
	struct strbuf line = STRBUF_INIT;

	if (rn->hub_state == HUB_UP) {
		run_attach_call(&line, sl->attach, rn->hub);
	} else {
		strbuf_addch(&line, '\n');
	}
	if (sl->child.in_fd >= 0 && !sl->closed)
		(void)beat_write(&rn->beat, sl->child.in_fd, line.buf,
		    line.len);
	strbuf_release(&line);
	free(sl->attach);
	sl->attach = NULL;
}

/* The first local slot is ready, with its warm tool (and so the hub) or
 * without: the slots waiting for the hub go on. */
void
run_hub_decided(struct runner *rn, int up)
{
	size_t i;

	rn->hub_state = up ? HUB_UP : HUB_DOWN;
	rn->hub_first = NULL;
	for (i = 0; i < rn->n_slots; i++)
		if (rn->slots[i]->attach != NULL)
			hub_attach(rn, rn->slots[i]);
}

/*
 * The hub's fifo, made and held open (read and write: no slot's open of
 * it waits, and the hub sees its end only when this process closes it
 * or dies) and its name gone at once: the slots, on this machine, open
 * it as this process's fd in /proc. Returns 0, or -1 with no hub.
 */
static int
hub_open(struct runner *rn, const char *near)
{
	char *path = xasprintf("%s.h", near);
	int fd = -1;

	(void)unlink(path);
	if (mkfifo(path, 0600) == 0) {
		fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		(void)unlink(path);
	}
	free(path);
	if (fd < 0)
		return -1;
	rn->hub_fd = fd;
	rn->hub = xasprintf("/proc/%ld/fd/%d", (long)getpid(), fd);
	return 0;
}

/*
 * The chunk a warm tool on worker w sets itself up on (its preamble is
 * what tshark reads before the first packet: src/warm.c): the first the
 * worker holds a copy of as planned, or (size_t)-1 if none.
 */
static size_t
warm_template(const struct run_plan *plan, size_t w)
{
	size_t c, i;

	for (c = 0; c < plan->n_chunks; c++) {
		const struct run_chunk *ch = &plan->chunks[c];

		if (plan->base != NULL)
			return c;
		for (i = 0; i < ch->n_holders; i++)
			if (ch->holders[i] == w &&
			    ch->copy[w] == RUN_COPY_AS_PLANNED)
				return c;
	}
	for (c = 0; c < plan->n_chunks; c++)
		if (sched_copy_for(plan, &plan->chunks[c], w) != (size_t)-1)
			return c;
	return (size_t)-1;
}

/* What a slot holds besides its child and output, released. */
static void
slot_release(struct slot *sl)
{
	strvec_release(&sl->argv);
	strbuf_release(&sl->err_scan);
	strbuf_release(&sl->err_line);
	strbuf_release(&sl->last_err);
	strbuf_release(&sl->job_err);
	strbuf_release(&sl->scan);
	free(sl->placeholder);
	free(sl->attach);
	sl->placeholder = sl->attach = NULL;
}

/* A slot that could not start, freed (and the hub given up, if it was
 * to start it). */
static int
abandon_slot(struct runner *rn, struct slot *sl)
{
	if (rn->hub_first == sl)
		run_hub_decided(rn, 0);
	slot_release(sl);
	free(sl);
	return SC_ERR_SYSTEM;
}

static int
open_slot(struct runner *rn, size_t w, struct sc_err *e)
{
	struct run_plan *plan = rn->plan;
	struct slot *sl = xcalloc(1, sizeof(*sl));
	struct strbuf template_path = STRBUF_INIT;
	struct strvec args = STRVEC_INIT;
	struct run_warm warm;
	unsigned silence = 0, number = ++rn->slots_opened;
	size_t template;
	char *mark = NULL;

	sl->worker = w;
	sl->number = number;
	sl->opened_at = monotonic_seconds() - rn->t0;
	/* A local slot's stdin closes when shardcap goes, whatever the
	 * way; a remote one waits as long as ssh takes to give up on
	 * shardcap, at least three beats. */
	if (!plan->workers[w].cw.local) {
		silence = remote_silence(plan->cfg);
		/* the run's name id (not its token), and the slot's number:
		 * unique even where workers share a directory */
		mark = xasprintf("%s/.shardcap-slot-%s-%u",
		    plan->workers[w].cw.dir, rn->name_id + TOKEN_PREFIX_LEN,
		    number);
	}
	if (rn->opt->warm_lib != NULL &&
	    (template = warm_template(plan, w)) != (size_t)-1) {
		run_chunk_path(&template_path, plan, w, template);
		sl->placeholder = xasprintf("%s/.shardcap-warm-%s-%u",
		    plan->base != NULL ? plan->base : plan->workers[w].cw.dir,
		    rn->name_id + TOKEN_PREFIX_LEN, number);
		memset(&warm, 0, sizeof(warm));
		warm.lib = rn->opt->warm_lib;
		warm.placeholder = sl->placeholder;
		warm.template = template_path.buf;
		if (plan->workers[w].cw.local && rn->hub_state == HUB_NONE &&
		    hub_open(rn, sl->placeholder) == 0) {
			rn->hub_state = HUB_STARTING;
			rn->hub_first = sl;
			rn->hub_placeholder = xstrdup(sl->placeholder);
			warm.hub = rn->hub;
		} else if (plan->workers[w].cw.local &&
		    (rn->hub_state == HUB_STARTING || rn->hub_state == HUB_UP)) {
			/* its tool's messages name the first slot's file */
			sl->attach = sl->placeholder;
			sl->placeholder = xstrdup(rn->hub_placeholder);
			warm.placeholder = sl->attach;
			warm.hub = rn->hub;
			warm.attach = 1;
		}
	}
	run_slot_args(&args, silence, mark,
	    sl->placeholder != NULL ? &warm : NULL, rn->zone, &rn->jc);
	strbuf_release(&template_path);
	free(mark);
	strvec_init(&sl->argv);
	if (agent_argv(&sl->argv, plan->cfg, &plan->workers[w].cw,
	    plan->control_dir, 0, "slot", (const char *const *)args.v,
	    args.n, e) != 0) {
		strvec_release(&args);
		return abandon_slot(rn, sl);
	}
	strvec_release(&args);
	child_init(&sl->child, sl->argv.v);
	sl->child.want_stdin = 1;
	strbuf_init(&sl->err_scan);
	strbuf_init(&sl->err_line);
	strbuf_init(&sl->last_err);
	strbuf_init(&sl->job_err);
	strbuf_init(&sl->scan);
	outbuf_init(&sl->out, &rn->budget);
	if (child_start(&sl->child, e) != 0)
		return abandon_slot(rn, sl);
	fcntl(sl->child.out_fd, F_SETFL, O_NONBLOCK);
	fcntl(sl->child.err_fd, F_SETFL, O_NONBLOCK);
	/* its first line, before any beat */
	run_slot_token(sl->child.in_fd, rn->token);
	if (silence > 0) {
		beat_add(&rn->beat, sl->child.in_fd);
		sl->beating = 1;
	}
	ALLOC_GROW(rn->slots, rn->n_slots + 1, rn->alloc_slots);
	rn->slots[rn->n_slots++] = sl;
	rn->open_slots[w]++;
	if (sl->attach != NULL && rn->hub_state == HUB_UP)
		hub_attach(rn, sl);
	return 0;
}

static void
close_slot_input(struct runner *rn, struct slot *sl)
{
	if (sl->child.in_fd >= 0) {
		if (sl->beating)
			beat_remove(&rn->beat, sl->child.in_fd);
		sl->beating = 0;
		close(sl->child.in_fd);
		sl->child.in_fd = -1;
	}
	sl->closed = 1;
}

/* Whether path, on local worker w (or the run's own directory), is
 * there with size bytes. */
static int
local_sizes_match(const struct run_plan *plan, size_t w, const char *path,
    uint64_t size)
{
	struct stat st;

	if (plan->base == NULL && !plan->workers[w].cw.local)
		return 0;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	    (uint64_t)st.st_size == size;
}

/* Sends a slot its next job: the chunks of batch. */
static int
send_job(struct runner *rn, struct slot *sl, const size_t *batch, size_t n)
{
	struct run_plan *plan = rn->plan;
	struct run_worker *rw = &plan->workers[sl->worker];
	struct strbuf line = STRBUF_INIT;
	char *paths[RUN_MAX_BATCH];
	uint64_t sizes[RUN_MAX_BATCH];
	size_t i;
	int r = 0, trim = 0;

	for (i = 0; i < n; i++) {
		const struct run_chunk *ch = &plan->chunks[batch[i]];
		struct strbuf path = STRBUF_INIT;

		trim |= ch->trim;
		run_chunk_path(&path, plan, sl->worker, batch[i]);
		paths[i] = strbuf_detach(&path, NULL);
		sizes[i] = ch->bytes;
		sl->batch[i] = batch[i];
		sl->bad[i] = 0;
	}
	sl->n_batch = n;
	sl->n_fed = 0;
	sl->bad_any = 0;
	sl->overdue = 0;
	strbuf_reset(&sl->job_err);
	sl->job_id = ++rn->next_job;
	/* A local worker's copies are on this disk: their sizes checked
	 * here, not by a `wc -c` each on the worker (a fork and an exec a
	 * chunk). One that differs: the job checks them all and says. */
	for (i = 0; i < n && local_sizes_match(plan, sl->worker, paths[i],
	    sizes[i]); i++)
		;
	/* a chunk cut to the run's window is streamed, cut (so are the
	 * others of its job: a group, or a stream of chunks; a chunk
	 * wholly in the window is the same cut), its output the job's */
	if (trim)
		sl->whole = 1;
	run_job_call(&line, sl->job_id, paths, i == n ? NULL : sizes, n,
	    sl->whole, trim ? plan->since : NULL, trim ? plan->until : NULL);
	for (i = 0; i < n; i++)
		free(paths[i]);
	if (beat_write(&rn->beat, sl->child.in_fd, line.buf, line.len) < 0)
		r = -1;
	strbuf_release(&line);
	sl->busy = 1;
	sl->got_out_end = sl->got_err_end = 0;
	sl->status = -1;
	/* a slot's first job waits with it from its start (a slot waiting
	 * for the hub gets it later, but its wait is as much a set-up) */
	sl->start = sl->jobs_sent++ == 0 ? sl->opened_at :
	    monotonic_seconds() - rn->t0;
	for (i = 0; i < n; i++) {
		struct run_chunk *ch = &plan->chunks[batch[i]];

		/* a fresh run of it is no straggler (yet) */
		if (ch->running == 0)
			ch->overdue = 0;
		ch->state = 1;
		ch->running++;
		ch->worker = sl->worker;
		ch->start = sl->start;
	}
	rw->busy++;
	return r;
}

/* A worker is lost for the rest of the run; the message says why. */
void
run_worker_lost(struct runner *rn, size_t w, const char *why)
{
	struct run_worker *rw = &rn->plan->workers[w];

	if (rw->failed)
		return;
	rw->failed = 1;
	snprintf(rw->error, sizeof(rw->error), "%s", why);
	rn->res->failed_workers++;
}

/* Keeps every worker's slots busy: opens slots where there is work for
 * them, gives idle ones their next job, lets those without one go. */
static int
assign(struct runner *rn, struct sc_err *e)
{
	size_t w, i, batch[RUN_MAX_BATCH], n;
	int r, spec, whole;

	if ((r = fetch_plan(rn, e)) != 0)
		return r;
	for (w = 0; w < rn->plan->n_workers && !rn->stopping; w++) {
		struct run_worker *rw = &rn->plan->workers[w];
		size_t waiting = rw->failed ? 0 : sched_waiting(rn, w);

		/* A worker whose cores are not known yet gets one slot: its
		 * answer says how many, and it has opened the worker's
		 * control connection for the others by then. */
		unsigned want = rw->slots ? rw->slots : 1;

		if (waiting == 0 && !rw->failed)
			waiting = sched_shareable(rn, w) > 0 ||
			    sched_speculable(rn, w) > 0;
		if (rw->slots == 0 && rn->open_slots[w] > 0)
			continue;
		while (waiting > 0 && rn->open_slots[w] < want &&
		    rn->open_slots[w] < rw->busy + waiting) {
			if ((r = open_slot(rn, w, e)) != 0)
				return r;
		}
	}
	for (i = 0; i < rn->n_slots; i++) {
		struct slot *sl = rn->slots[i];

		if (sl->busy || sl->closed || sl->attach != NULL)
			continue;       /* (waiting for the hub: not ready) */
		if (!rn->stopping && !rn->plan->workers[sl->worker].failed &&
		    (n = sched_next_batch(rn, sl->worker, batch, &spec,
		    &whole)) > 0) {
			sl->whole = whole;
			if (send_job(rn, sl, batch, n) < 0)
				close_slot_input(rn, sl);
			sl->spec = spec;
			rn->res->speculated += (size_t)spec;
		} else {
			close_slot_input(rn, sl);
		}
	}
	return 0;
}

/* Writes finished outputs that are due, in chunk order. */
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

/* Takes a job that ended off its slot: its chunks, times and output. */
static struct job_end *
detach_job(struct runner *rn, struct slot *sl)
{
	struct job_end *j = xcalloc(1, sizeof(*j));

	j->worker = sl->worker;
	j->slot = sl->number;
	j->warm = sl->warm && !sl->whole;
	j->whole = sl->whole;
	j->ready = sl->ready_at;
	memcpy(j->batch, sl->batch, sl->n_batch * sizeof(*j->batch));
	memcpy(j->fed, sl->fed, sl->n_fed * sizeof(*j->fed));
	j->n_batch = sl->n_batch;
	j->n_fed = sl->n_fed;
	j->start = sl->start;
	j->end = monotonic_seconds() - rn->t0;
	j->status = sl->status;
	j->spec = sl->spec;
	j->out = sl->out;
	outbuf_init(&sl->out, &rn->budget);
	j->err = sl->job_err;
	strbuf_init(&sl->job_err);
	rn->plan->workers[sl->worker].busy--;
	sl->busy = 0;
	return j;
}

void
run_drop_job(struct job_end *j)
{
	outbuf_release(&j->out);
	strbuf_release(&j->err);
	free(j);
}

/* Kills a slot's job, throws its output away: another run of its chunks
 * won. The slot ends (its shell kills the job when its stdin closes). */
static void
cancel_slot(struct runner *rn, struct slot *sl)
{
	if (sl->busy) {
		rn->plan->workers[sl->worker].busy--;
		sl->busy = 0;
		sched_requeue(rn->plan, sl->batch, sl->n_batch);
		outbuf_release(&sl->out);
		outbuf_init(&sl->out, &rn->budget);
	}
	sl->cancelled = 1;
	close_slot_input(rn, sl);
}

/* A job's result stands: its chunks are done, its output goes out, any
 * other run of its chunks is killed. */
int
run_job_complete(struct runner *rn, struct job_end *j)
{
	struct run_plan *plan = rn->plan;
	struct run_worker *rw = &plan->workers[j->worker];
	double prev = j->start, setup = 0;
	size_t i, k, m, first = j->batch[0];
	int r = 0;

	/* won by another run meanwhile: this output would repeat it */
	for (i = 0; i < j->n_batch; i++)
		if (plan->chunks[j->batch[i]].state == 2) {
			sched_requeue(plan, j->batch, j->n_batch);
			run_drop_job(j);
			return 0;
		}
	rn->res->bytes_out += j->out.len;
	/* The slot's first job was sent before its shell was ready: the
	 * wait (ssh, the shell, a warm tool's set-up) is the slot's, not
	 * its first chunk's (spread_setup). */
	if (j->ready > j->start) {
		setup = j->ready - j->start;
		prev = j->ready;
	}
	/* A chunk of a stream costs the time from the one before it went
	 * into the pipe until it had; the last one, until the tool ended. */
	for (i = 0; i < j->n_batch; i++) {
		struct run_chunk *ch = &plan->chunks[j->batch[i]];
		double until = i + 1 < j->n_batch && i < j->n_fed ?
		    j->fed[i] : j->end;

		if (ch->running > 0)
			ch->running--;
		ch->state = 2;
		ch->worker = j->worker;
		ch->start = prev;
		ch->wall = until > prev ? until - prev : 0;
		ch->slot = j->slot;
		ch->setup = i == 0 ? setup : 0;
		ch->exit_code = j->status;
		ch->bytes_out = j->out.len / j->n_batch;
		ch->in_whole = j->whole && i > 0;
		prev = until;
		rw->chunks_done++;
	}
	/* a warm tool's children start nothing: each chunk's time is its own */
	if (!j->warm)
		sched_spread_startup(plan, j->batch, j->n_batch);
	for (i = 0; i < j->n_batch && j->status == 0; i++) {
		const struct run_chunk *ch = &plan->chunks[j->batch[i]];

		if (ch->bytes == 0)
			continue;
		ALLOC_GROW(rn->per_byte, rn->n_per_byte + 1,
		    rn->alloc_per_byte);
		rn->per_byte[rn->n_per_byte++] = ch->wall / (double)ch->bytes;
	}
	rw->busy_seconds += j->end - j->start;
	if (j->end > rw->finished_at)
		rw->finished_at = j->end;
	if (j->status != 0)
		rn->res->failed_chunks += j->n_batch;
	if (j->spec)
		rn->res->speculation_won++;
	/* the other runs of these chunks lose: a job still running a chunk
	 * that is done can only be one */
	for (k = 0; k < rn->n_slots; k++) {
		struct slot *sl = rn->slots[k];

		for (m = 0; sl->busy && m < sl->n_batch; m++)
			if (plan->chunks[sl->batch[m]].state == 2)
				cancel_slot(rn, sl);
	}
	if (rn->stopping) {
		outbuf_release(&j->out);
	} else if (rn->opt->output == RUN_COMPLETION) {
		r = write_output(rn, first, &j->out);
		outbuf_release(&j->out);
	} else {
		/* ordered and merged outputs run one chunk per job */
		rn->done_out[first] = j->out;
		outbuf_init(&j->out, &rn->budget);
		r = flush_ordered(rn);
	}
	strbuf_release(&j->err);
	free(j);
	return r;
}

/* What a shell said when it could not run a command, without the
 * script's name and line ("/x/agent.sh: 74: tshark: not found" is
 * "tshark: not found"): its first line. */
static const char *
shell_error(char *err)
{
	char *nl = strchr(err, '\n'), *p, *q;

	if (nl != NULL)
		*nl = '\0';
	/* "SCRIPT: LINE: " */
	if ((p = strstr(err, ".sh: ")) != NULL) {
		q = p + 5;
		while (*q >= '0' && *q <= '9')
			q++;
		if (q > p + 5 && q[0] == ':' && q[1] == ' ')
			return q + 2;
	}
	return err;
}

/*
 * Whether a failed job's failure is the command's own: an earlier job
 * failed with the same exit status (1 to 125: not a signal's) and the
 * same stderr, which says something (a chunk's own trouble, damage say,
 * names the chunk's file). Then, unless --keep-going, the run stops at
 * once: the other chunks would fail alike. Otherwise its failure is
 * kept to compare later ones with.
 */
static int
command_error(struct runner *rn, const struct job_end *j)
{
	struct run_result *res = rn->res;
	const char *err = j->err.len ? j->err.buf : "", *line, *nl;
	size_t i;

	/* A death by a signal (128 + N: killed, out of memory) is the
	 * worker's trouble as much as the command's. A failure that says
	 * nothing but what tshark says to root every time is no error
	 * message: grep's "no line matched" (exit 1), the same for many
	 * chunks, must not stop a run. */
	if (j->status < 1 || j->status > 125)
		return 0;
	for (line = err; *line != '\0'; line = nl + 1) {
		if (strncmp(line, "Running as user \"", 17) != 0)
			break;
		if ((nl = strchr(line, '\n')) == NULL) {
			line += strlen(line);
			break;
		}
	}
	if (*line == '\0')
		return 0;
	for (i = 0; i < rn->n_fails; i++)
		if (rn->fails[i].status == j->status &&
		    strcmp(rn->fails[i].err, err) == 0)
			break;
	if (i == rn->n_fails) {
		if (rn->n_fails < RUN_FAILS_KEPT) {
			rn->fails[i].status = j->status;
			rn->fails[i].err = xstrdup(err);
			rn->fails[i].chunk = j->batch[0];
			rn->n_fails++;
		}
		return 0;
	}
	if (!rn->opt->keep_going && !res->stopped) {
		res->stopped = 1;
		res->stop_status = j->status;
		res->stop_chunks[0] = rn->fails[i].chunk < j->batch[0] ?
		    rn->fails[i].chunk : j->batch[0];
		res->stop_chunks[1] = rn->fails[i].chunk < j->batch[0] ?
		    j->batch[0] : rn->fails[i].chunk;
		rn->stopping = 1;
	}
	return 1;
}

/* Unless --keep-going, the run stops at once: tshark's error is the
 * same for every chunk. (With it, the slot's jobs start tshark each, as
 * they do when a worker has no warm-start library.) */
void
run_setup_failed(struct runner *rn, struct slot *sl, int status)
{
	struct run_result *res = rn->res;

	if (rn->opt->keep_going || res->stopped || rn->stopping)
		return;
	res->stopped = 1;
	res->stop_setup = 1;
	res->stop_status = status;
	res->stop_worker = sl->worker;
	rn->stopping = 1;
}

/* A slot's job has ended (its output and stderr both marked). */
static int
finish_job(struct runner *rn, struct slot *sl, struct sc_err *e)
{
	struct run_plan *plan = rn->plan;
	struct job_end *j = detach_job(rn, sl);
	size_t i, from;

	/* Its shell on the worker forgets the job's pid: it has ended (its
	 * ends were the job's last words), and a pid the worker may give
	 * to another process must not be killed when the slot ends. */
	if (sl->child.in_fd >= 0 && !sl->closed)
		(void)beat_write(&rn->beat, sl->child.in_fd, RUN_SLOT_FORGET,
		    strlen(RUN_SLOT_FORGET));
	if (sl->bad_any) {
		/* a copy missing or cut: the command did not run; that
		 * worker's copy is not used again, the chunks wait for
		 * another (or a fresh copy from the store) */
		for (i = 0; i < j->n_batch; i++) {
			struct run_chunk *c = &plan->chunks[j->batch[i]];

			if (!sl->bad[i])
				continue;
			/* (a chunk another local worker holds: that copy) */
			if ((from = sched_copy_for(plan, c, j->worker)) == (size_t)-1)
				from = j->worker;
			sched_drop_holder(c, from);
			c->copy[from] = RUN_COPY_BAD;
			rn->res->bad_copies++;
		}
		sched_requeue(plan, j->batch, j->n_batch);
		run_drop_job(j);
		return 0;
	}
	/* The shell on the worker could not run the command (126: not
	 * executable, 127: not found): the worker lacks the tool, and its
	 * chunks run elsewhere, as a lost worker's. */
	if ((j->status == 126 || j->status == 127) && !rn->stopping) {
		char why[400];

		snprintf(why, sizeof(why), "cannot run the command there "
		    "(exit %d)%s%s", j->status, j->err.len ? ": " : "",
		    shell_error(j->err.buf));
		run_worker_lost(rn, j->worker, why);
		sched_requeue(plan, j->batch, j->n_batch);
		run_drop_job(j);
		return 0;
	}
	if (j->status != 0 && !rn->stopping && command_error(rn, j))
		return run_job_complete(rn, j);
	/* A job that failed may have read a damaged copy of the right
	 * size: its copies are checked against the store before its
	 * failure stands - unless failures so far were the command's own. */
	/* (a chunk another local worker holds: that copy) */
	from = sched_copy_for(plan, &plan->chunks[j->batch[0]], j->worker);
	if (j->status != 0 && plan->store != NULL && !rn->stopping &&
	    (rn->checks_bad > 0 || rn->checks_sound < RUN_CHECKS_SOUND) &&
	    fetch_start(rn, FETCH_CHECK, from == (size_t)-1 ? j->worker : from,
	    j->batch, j->n_batch, j, e) == 0)
		return 0;
	return run_job_complete(rn, j);
}

/* A slot whose shell has gone: if it never answered with ssh's 255, or
 * went in the middle of a job, its worker is lost for this run and the
 * chunks it was working on wait for another worker holding them. */
static void
slot_gone(struct runner *rn, struct slot *sl)
{
	struct run_worker *rw = &rn->plan->workers[sl->worker];
	int code = child_exit_code(&sl->child);

	run_take_stderr(rn, sl, "", 0, 1);
	if (!sl->started && code == AGENT_MISSING && !rn->stopping &&
	    !rw->failed && (rw->agent_sent == 0 ||
	    sl->number <= rw->agent_sent)) {
		/* the worker lacks this version of the agent: it is sent
		 * (once; slots opened before that try again) and the worker
		 * opens slots again */
		struct sc_err ae;

		if (rw->agent_sent == 0 && agent_install(rn->plan->cfg, &rw->cw,
		    rn->plan->control_dir, &ae) != 0)
			run_worker_lost(rn, sl->worker, ae.msg);
		if (rw->agent_sent == 0)
			rw->agent_sent = rn->slots_opened;
	} else if (sl->busy && !rn->stopping && !sl->cancelled) {
		char why[400];

		if (code == AGENT_MISSING && !sl->started)
			snprintf(why, sizeof(why), "the agent was sent, and "
			    "is still not there");
		else if (!sl->started)
			snprintf(why, sizeof(why), "%s", sl->last_err.len ?
			    sl->last_err.buf : "ssh failed");
		else
			snprintf(why, sizeof(why), "the connection went during "
			    "a job (exit %d)%s%s", code, sl->last_err.len ?
			    ": " : "", sl->last_err.buf);
		run_worker_lost(rn, sl->worker, why);
	}
	if (sl->busy) {
		rw->busy--;
		sl->busy = 0;
		sched_requeue(rn->plan, sl->batch, sl->n_batch);
	}
	rn->open_slots[sl->worker]--;
	if (sl == rn->hub_first)
		run_hub_decided(rn, 0);     /* gone before it was ready */
	outbuf_release(&sl->out);
	close_slot_input(rn, sl);
	child_release(&sl->child);
	slot_release(sl);
}

/* --- copies from the store during a run --- */

/* Stops every slot: a closed stdin makes its shell kill the running job
 * (on the far side of ssh too) and end; a slot still there later gets
 * sig (0: none), which its shell traps to the same effect. Copies from
 * the store get sig too. */
static void
stop_all(struct runner *rn, int sig)
{
	size_t i;

	for (i = 0; i < rn->n_slots; i++) {
		close_slot_input(rn, rn->slots[i]);
		if (sig != 0)
			child_signal(&rn->slots[i]->child, sig);
	}
	for (i = 0; i < rn->n_fetches; i++)
		child_signal(&rn->fetches[i]->child, sig ? sig : SIGTERM);
}

/* Reads what a slot's pipes have. */
static int
drain_slot(struct runner *rn, struct slot *sl, struct sc_err *e)
{
	char buf[65536];
	ssize_t n;
	int r;

	while (!sl->out_eof) {
		n = read(sl->child.out_fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		if (n == 0) {
			sl->out_eof = 1;
			close(sl->child.out_fd);
			sl->child.out_fd = -1;
			break;
		}
		if ((r = run_take_stdout(rn, sl, buf, (size_t)n, e)) != 0)
			return r;
		if ((size_t)n < sizeof(buf))
			break;
	}
	while (!sl->err_eof) {
		n = read(sl->child.err_fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		if (n == 0) {
			sl->err_eof = 1;
			close(sl->child.err_fd);
			sl->child.err_fd = -1;
			break;
		}
		run_take_stderr(rn, sl, buf, (size_t)n, 0);
	}
	return 0;
}

static void
make_token(struct runner *rn)
{
	run_token_fill(rn->token);
	rn->token_len = strlen(rn->token);
	run_token_fill(rn->name_id);
}

/* Writing a result failed: the run stops; a reader of the output that
 * went away is not an error (the status is SIGPIPE's), anything else is
 * (in *r). */
static void
output_failed(struct runner *rn, int *r, struct sc_err *e)
{
	rn->stopping = 1;
	if (errno == EPIPE)
		rn->res->broken_pipe = 1;
	else
		*r = sc_err_sys(e, "cannot write the output");
}

int
run_execute(struct run_plan *plan, const struct run_options *opt,
    struct run_result *res, struct sc_err *e)
{
	struct runner rn;
	struct pollfd *pfd = NULL;
	size_t alloc_pfd = 0;
	struct sigaction old_chld;
	struct timeval tv;
	struct stat st;
	double stop_at = -1;
	size_t i;
	int r = 0, stop_stage = 0, out_is_pipe;

	memset(res, 0, sizeof(*res));
	memset(&rn, 0, sizeof(rn));
	rn.hub_fd = -1;
	rn.plan = plan;
	rn.opt = opt;
	rn.jc.argv = opt->command;
	rn.jc.argc = opt->n_command;
	rn.jc.use_stdin = opt->use_stdin;
	rn.jc.stream_arg = opt->stream_arg;
	rn.jc.warm_lib = opt->warm_lib;
	rn.zone = run_local_zone();
	sink_init(&rn.sink, opt->out_fd, opt->output == RUN_PCAP, opt->tag);
	rn.res = res;
	rn.budget.limit = OUT_MEMORY;
	rn.budget.per_buf = OUT_PER_JOB;
	rn.open_slots = xcalloc(plan->n_workers + 1, sizeof(*rn.open_slots));
	rn.done_out = xcalloc(plan->n_chunks + 1, sizeof(*rn.done_out));
	for (i = 0; i < plan->n_chunks; i++)
		outbuf_init(&rn.done_out[i], &rn.budget);
	make_token(&rn);
	beat_start(&rn.beat);
	out_is_pipe = fstat(opt->out_fd, &st) == 0 &&
	    (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
	if (pipe2(sigchld_pipe, O_CLOEXEC | O_NONBLOCK) == 0) {
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_sigchld;
		sa.sa_flags = SA_NOCLDSTOP | SA_RESTART;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGCHLD, &sa, &old_chld);
	}
	gettimeofday(&tv, NULL);
	res->started_ms = (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
	rn.t0 = monotonic_seconds();

	if ((r = assign(&rn, e)) != 0)
		rn.stopping = 1;
	while (rn.n_slots > 0 || rn.n_fetches > 0) {
		size_t k = 0;

		if (!rn.stopping && opt->interrupted != NULL &&
		    *opt->interrupted) {
			rn.stopping = 1;
			r = sc_err_set(e, SC_ERR_INTERRUPTED, "interrupted");
		}
		if (rn.stopping && stop_stage == 0) {
			stop_all(&rn, 0);
			stop_at = monotonic_seconds();
			stop_stage = 1;
		} else if (stop_stage == 1 && monotonic_seconds() - stop_at > 2) {
			stop_all(&rn, SIGTERM);
			stop_stage = 2;
		} else if (stop_stage == 2 && monotonic_seconds() - stop_at > 5) {
			stop_all(&rn, SIGKILL);
			stop_stage = 3;
		}
		ALLOC_GROW(pfd, 2 * rn.n_slots + 2 * rn.n_fetches + 2,
		    alloc_pfd);
		for (i = 0; i < rn.n_fetches; i++)
			k += child_pollfds(&rn.fetches[i]->child, pfd + k);
		for (i = 0; i < rn.n_slots; i++) {
			struct slot *sl = rn.slots[i];

			if (!sl->out_eof) {
				pfd[k].fd = sl->child.out_fd;
				pfd[k++].events = POLLIN;
			}
			if (!sl->err_eof) {
				pfd[k].fd = sl->child.err_fd;
				pfd[k++].events = POLLIN;
			}
		}
		pfd[k].fd = sigchld_pipe[0];
		pfd[k++].events = POLLIN;
		/* A reader of the output that goes away shows as an error on
		 * the pipe at once, not only when the next job ends. */
		if (out_is_pipe && !rn.stopping) {
			pfd[k].fd = opt->out_fd;
			pfd[k++].events = 0;
		}
		if (poll(pfd, k, 100) < 0 && errno != EINTR) {
			r = sc_err_sys(e, "poll failed");
			rn.stopping = 1;
		}
		{
			char drain[64];

			while (read(sigchld_pipe[0], drain, sizeof(drain)) > 0)
				;
		}
		if (out_is_pipe && !rn.stopping &&
		    pfd[k - 1].fd == opt->out_fd &&
		    (pfd[k - 1].revents & (POLLERR | POLLHUP))) {
			res->broken_pipe = 1;
			rn.stopping = 1;
		}
		for (i = 0; i < rn.n_slots; i++) {
			struct slot *sl = rn.slots[i];

			if (drain_slot(&rn, sl, e) != 0) {
				r = SC_ERR_SYSTEM;
				rn.stopping = 1;
			}
			if (sl->busy && sl->got_out_end && sl->got_err_end &&
			    finish_job(&rn, sl, e) < 0 && !rn.stopping)
				output_failed(&rn, &r, e);
		}
		for (i = 0; i < rn.n_slots; ) {
			struct slot *sl = rn.slots[i];

			if (sl->out_eof && sl->err_eof &&
			    child_reap(&sl->child)) {
				slot_gone(&rn, sl);
				free(sl);
				rn.slots[i] = rn.slots[--rn.n_slots];
				continue;
			}
			i++;
		}
		for (i = 0; i < rn.n_fetches; ) {
			struct fetch *f = rn.fetches[i];

			child_service(&f->child, pfd, k);
			if (f->child.out_fd < 0 && f->child.err_fd < 0 &&
			    child_reap(&f->child)) {
				if (fetch_done(&rn, f) < 0 && !rn.stopping)
					output_failed(&rn, &r, e);
				fetch_release(f);
				rn.fetches[i] = rn.fetches[--rn.n_fetches];
				continue;
			}
			i++;
		}
		if (!rn.stopping)
			sched_find_stragglers(&rn);
		if (!rn.stopping && (r = assign(&rn, e)) != 0)
			rn.stopping = 1;
		if (opt->progress != NULL)
			opt->progress(opt->progress_ctx, plan,
			    monotonic_seconds() - rn.t0);
	}
	if (!rn.stopping && opt->output != RUN_COMPLETION &&
	    flush_ordered(&rn) < 0) {
		if (errno == EPIPE)
			res->broken_pipe = 1;
		else
			r = sc_err_sys(e, "cannot write the output");
	}
	if (r == 0 && rn.sink.bad)
		r = sc_err_set(e, SC_ERR_USAGE, "cannot merge the captures: %s",
		    rn.sink.msg);
	res->pcap_sections = rn.sink.sections;
	snprintf(res->pcap_sections_why, sizeof(res->pcap_sections_why), "%s",
	    rn.sink.why_sections);
	sink_release(&rn.sink);
	/* what did not run: given up (or stopped) */
	for (i = 0; i < plan->n_chunks; i++) {
		struct run_chunk *c = &plan->chunks[i];

		if (c->state == 0 || c->state == 1) {
			c->state = 3;
			c->exit_code = -1;
			if (!rn.stopping)
				res->lost_chunks++;
			else
				res->not_run++;
		}
		if (c->state == 2 && c->again)
			res->again_chunks++;
	}
	sched_spread_setup(plan);
	run_stderr_summary(&rn);
	/* groups whose chunks were not read as one stream */
	for (i = 0; i < plan->n_chunks; i++)
		if (plan->chunks[i].part == 1 && plan->chunks[i].state == 2 &&
		    (i + 1 >= plan->n_chunks || !plan->chunks[i + 1].in_whole))
			res->split_groups++;
	res->wall = monotonic_seconds() - rn.t0;
	/* the copies have ended: their beacons go, then the beat */
	for (i = 0; rn.beacons != NULL && i < plan->n_workers; i++)
		run_beacon_stop(rn.beacons[i]);
	free(rn.beacons);
	beat_stop(&rn.beat);
	if (sigchld_pipe[0] >= 0) {
		sigaction(SIGCHLD, &old_chld, NULL);
		close(sigchld_pipe[0]);
		close(sigchld_pipe[1]);
		sigchld_pipe[0] = sigchld_pipe[1] = -1;
	}
	for (i = 0; i < plan->n_chunks; i++)
		outbuf_release(&rn.done_out[i]);
	free(rn.done_out);
	if (rn.hub_fd >= 0)
		close(rn.hub_fd);       /* the hub's end */
	free(rn.hub);
	free(rn.hub_placeholder);
	free(rn.zone);
	free(rn.open_slots);
	free(rn.slots);
	free(rn.fetches);
	free(rn.per_byte);
	for (i = 0; i < rn.n_fails; i++)
		free(rn.fails[i].err);
	free(pfd);
	return r;
}

/* --- the catalog --- */

int
run_record(struct catalog *cat, const struct run_plan *plan,
    const struct run_options *opt, const struct run_result *res,
    int64_t *id, struct sc_err *e)
{
	struct strbuf cmd = STRBUF_INIT;
	int64_t run_id = 0;
	size_t i;
	int r, status = res->failed_chunks || res->lost_chunks ? 1 : 0;

	for (i = 0; i < opt->n_command; i++) {
		if (i > 0)
			strbuf_addch(&cmd, ' ');
		shell_quote(&cmd, opt->command[i]);
	}
	if ((r = catalog_begin(cat, e)) != 0)
		goto out;
	r = catalog_run_add_spec(cat, plan->capture_id, cmd.buf,
	    plan->selection, opt->use_stdin, plan->since, plan->until,
	    res->started_ms, res->started_ms + (int64_t)(res->wall * 1000),
	    status, &run_id, e);
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
	/* the chunks it leaves for a rerun: failed, or not run */
	for (i = 0; r == 0 && i < plan->n_chunks; i++) {
		const struct run_chunk *c = &plan->chunks[i];

		if (c->state == 3 || (c->state == 2 && c->exit_code != 0))
			r = catalog_run_left_add(cat, run_id, c->chunk_id,
			    c->state == 3 ? -1 : c->exit_code, e);
	}
	/* What the run learnt of the copies: one made from the store is
	 * there now; one found missing or damaged is claimed no more. */
	for (i = 0; r == 0 && i < plan->n_chunks; i++) {
		const struct run_chunk *c = &plan->chunks[i];
		size_t w;

		for (w = 0; r == 0 && w < plan->n_workers; w++) {
			int64_t wid = plan->workers[w].worker_id;

			if (c->copy[w] == RUN_COPY_FETCHED)
				r = catalog_placement_set(cat, c->chunk_id, wid,
				    c->digest, e);
			else if (c->copy[w] == RUN_COPY_BAD)
				r = catalog_placement_delete(cat, c->chunk_id,
				    wid, e);
		}
	}
	if (r == 0)
		r = catalog_commit(cat, e);
	else
		catalog_rollback(cat);
	if (r == 0 && id != NULL)
		*id = run_id;
out:
	strbuf_release(&cmd);
	return r;
}
