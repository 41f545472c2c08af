/* runner.h - the state of one run, shared by the files that carry it
 * out: run.c (the slots and the poll loop), streams.c (what the slots
 * write), sched.c
 * (which chunks a slot runs next, and stragglers) and fetch.c (copies
 * from the store while the run goes on). Not for use outside them: the
 * contract of a run is run.h. */
#ifndef SHARDCAP_RUNNER_H
#define SHARDCAP_RUNNER_H

#include <stddef.h>
#include <stdint.h>

#include "beat.h"
#include "child.h"
#include "outbuf.h"
#include "remote.h"
#include "run.h"
#include "sink.h"
#include "slot.h"
#include "strbuf.h"
#include "strvec.h"

#define OUT_MEMORY (8u << 20)           /* all jobs' output held in memory */
#define OUT_PER_JOB (1u << 20)          /* one job's */
#define ERR_LINE_MAX 4096
/* A relative --timeout never calls a job of less than this a straggler:
 * below it, the time a job takes is noise. */
#define RUN_MIN_STRAGGLER 1.0
/* After this many failed jobs whose copies were found sound (and none
 * damaged), failures are taken as the command's own: no more checks. */
#define RUN_CHECKS_SOUND 2
/* Failures whose exit status and stderr are kept to compare the next
 * ones with; a job's stderr is kept up to JOB_ERR_MAX bytes. */
#define RUN_FAILS_KEPT 8
#define JOB_ERR_MAX 4096
/* Lines of stderr remembered to show once (a table of twice as many
 * slots); past it, new lines are all shown. */
#define SEEN_LINES_MAX 1024

/* One shell on a worker, running jobs one after another. */
struct slot {
	size_t worker;
	struct strvec argv;
	struct child child;
	int started;            /* its shell answered: ssh got through */
	int closed;             /* its stdin is closed: no more jobs */
	int beating;            /* its stdin gets the heartbeat */
	int out_eof, err_eof;
	char *placeholder;      /* its warm tool's file, or NULL */
	char *attach;           /* its fifos' path while it waits for a warm
	                         * tool of the hub's (run_attach_line) */
	unsigned number;        /* the run's count of slots when it opened */
	int warm;               /* with a warm tool set up */
	double ready_at;        /* when it said it was ready for jobs, or 0 */
	double opened_at;       /* when it was started */
	unsigned jobs_sent;     /* the first job's time runs from opened_at */
	struct strbuf err_scan; /* stderr not read yet: may hold a record's
	                         * start */
	struct strbuf err_line; /* a line of the tool's stderr being read */
	int err_cont;           /* a long one is being passed on in pieces */
	struct strbuf last_err; /* the last one (its start) */
	struct strbuf job_err;  /* its job's stderr so far (its start), to
	                         * tell the command's own error (fail_fast) */
	/* the job it runs */
	int busy;
	unsigned job_id;
	size_t batch[RUN_MAX_BATCH];    /* its chunks, in order */
	double fed[RUN_MAX_BATCH];      /* when each went into the stream */
	size_t n_batch, n_fed;
	double start;
	struct outbuf out;
	struct strbuf scan;     /* output that may be the start of the end */
	int got_out_end, got_err_end;
	int status;
	unsigned char bad[RUN_MAX_BATCH];       /* its copy is not sound */
	int bad_any;
	int overdue;            /* ran past its time: a straggler */
	int cancelled;          /* another run of its chunks won: the job
	                         * is killed, its output thrown away */
	int spec;               /* its job runs a straggler's chunk again */
	int whole;              /* its job streams a group of chunks */
};

/* A copy of chunks from the store to a worker, while the run goes on:
 * for chunks no usable worker holds (their worker failed, their copy was
 * bad), for a straggler's chunks, or to check a failed job's copies (rsync
 * -c sends only what differs: a copy sent was damaged). */
enum fetch_why { FETCH_RESCUE, FETCH_CHECK };

struct job_end {               /* a job that ended, its outcome pending */
	size_t worker;
	unsigned slot;          /* its slot's number */
	int warm;               /* its slot's warm tool ran its chunks */
	double ready;           /* when its slot was ready, if it was */
	size_t batch[RUN_MAX_BATCH];
	double fed[RUN_MAX_BATCH];
	size_t n_batch, n_fed;
	double start, end;
	int status;
	int spec;
	int whole;              /* it streamed a group of chunks */
	struct outbuf out;
	struct strbuf err;      /* its stderr (its start) */
};

struct fetch {
	enum fetch_why why;
	size_t worker;
	size_t *chunks;
	size_t n;
	struct strvec argv;
	struct child child;
	struct strbuf list;     /* the files, NUL-separated, for its stdin */
	size_t list_sent;
	struct remote_sent sent;        /* files rsync reported sending */
	struct job_end *job;    /* FETCH_CHECK: the failed job */
};

struct runner {
	struct run_plan *plan;
	const struct run_options *opt;
	struct job_command jc;  /* what each job runs, of opt */
	char *zone;             /* this machine's time zone for the slots
	                         * (run_local_zone), or NULL */
	struct run_result *res;
	struct outbuf_budget budget;
	struct slot **slots;
	size_t n_slots, alloc_slots;
	unsigned *open_slots;   /* per worker */
	unsigned next_job;
	unsigned slots_opened;
	char token[48];         /* begins its records (slot.h); random per
	                         * run, secret */
	size_t token_len;
	char name_id[48];       /* random per run, for names of files on
	                         * the workers: they show in ps, the token
	                         * must not */
	struct outbuf *done_out; /* ordered/pcap: finished, not yet written */
	size_t next_write;      /* ordered/pcap: next chunk to write */
	double t0;
	int stopping;
	struct sink sink;       /* where the results go */
	/* copies from the store under way */
	struct fetch **fetches;
	size_t n_fetches, alloc_fetches;
	/* per worker: the beacon that watches its end of those copies,
	 * started with the first (run_beacon_start) */
	struct run_beacon **beacons;
	/* seconds per byte of the chunks done, for a relative timeout */
	double *per_byte;
	size_t n_per_byte, alloc_per_byte, median_of;
	double median;
	/* failed jobs whose copies were checked: found sound, found bad */
	size_t checks_sound, checks_bad;
	/* the first failures: exit status and stderr, to tell a failure
	 * that is the command's own (two alike) from a chunk's */
	struct {
		int status;
		char *err;
		size_t chunk;
	} fails[RUN_FAILS_KEPT];
	size_t n_fails;
	/* the jobs' stderr lines shown so far: a line another job said
	 * already is counted, not shown again (run_stderr_summary) */
	struct seen_line {
		char *text;
		size_t count;
		size_t order;   /* it was the order-th line seen */
	} *seen;
	size_t n_seen, alloc_seen;
	struct beat beat;
	/* The local slots' warm tools come from one hub (src/warm.c): one
	 * set-up for this machine, not one per slot. hub_fd holds its fifo
	 * open (its end is the hub's), hub its path for the slots; the
	 * first local slot starts it, the others wait for it to be up. */
	enum { HUB_NONE, HUB_STARTING, HUB_UP, HUB_DOWN } hub_state;
	int hub_fd;
	char *hub;
	char *hub_placeholder;  /* the first slot's: the name in messages */
	struct slot *hub_first;
};

/* run.c */
/* Appends chunk c's path on worker w: where w reads it (copy_for). */
void run_chunk_path(struct strbuf *sb, const struct run_plan *plan, size_t w,
    size_t c);
/* The first local slot is ready, with its warm tool (and so the hub) or
 * without (up 0): the slots waiting for the hub learn which. */
void run_hub_decided(struct runner *rn, int up);
/* A slot's warm tool ended with status while it set itself up, before it
 * read a file: the command's arguments are wrong. */
void run_setup_failed(struct runner *rn, struct slot *sl, int status);
/* A worker is lost for the rest of the run; the message says why. */
void run_worker_lost(struct runner *rn, size_t w, const char *why);
/* Frees a job that ended (its output with it). */
void run_drop_job(struct job_end *j);
/* A job's result stands: its chunks are done, its output goes out, any
 * other run of its chunks is killed. */
int run_job_complete(struct runner *rn, struct job_end *j);

/* streams.c */
/* A slot's stderr: its tool's, passed on line by line, each prefixed
 * with the chunk its job works on, and records (slot.h), taken out
 * wherever they are. flush: the stream has ended. */
/* After the run: the lines of the jobs' stderr shown once for many jobs,
 * each with how many said it; then the lines are forgotten. */
void run_stderr_summary(struct runner *rn);
/* Writes text to the run's stderr, above its progress line. */
void run_say(struct runner *rn, const char *text, size_t len);
void run_take_stderr(struct runner *rn, struct slot *sl, const char *data,
    size_t len, int flush);
/* A slot's stdout: everything up to the run's token is the job's
 * output; the token's record says which job ended, with what status. */
int run_take_stdout(struct runner *rn, struct slot *sl, const char *data,
    size_t len, struct sc_err *e);

/* sched.c */
/* Whether worker w holds a usable copy of chunk c. */
int sched_holds(const struct run_chunk *c, size_t w);
/*
 * The worker whose copy of c worker w reads: w itself if it holds one;
 * for a local worker (share-local), a local worker holding c, since they
 * share this machine's disk; or (size_t)-1.
 */
size_t sched_copy_for(const struct run_plan *plan, const struct run_chunk *c,
    size_t w);
/* Worker w holds no usable copy of c any more. */
void sched_drop_holder(struct run_chunk *c, size_t w);
/* A job's hold on its chunks ends without a result: those nobody else
 * runs wait again. */
void sched_requeue(struct run_plan *plan, const size_t *batch, size_t n);
/* How many chunks worker w could start now: of its own, waiting; of
 * another local worker's, waiting (share-local); of a straggler's, to
 * run again. */
size_t sched_waiting(const struct runner *rn, size_t w);
size_t sched_shareable(const struct runner *rn, size_t w);
size_t sched_speculable(const struct runner *rn, size_t w);
/* The next chunks worker w runs, as one job: the first waiting ones it
 * holds, as many as the batch allows - fewer towards the end, so that
 * its last jobs are short and its slots finish together. The batch is
 * counted in bytes, that many of the capture's largest chunks: the
 * parts of a cut chunk share a stream as the chunk would have, not each
 * a start-up of the tool, and the memory a stream takes stays bounded
 * the same. With none waiting, a straggler's chunk, alone. A group of
 * chunks (run_chunk.part) is a job of its own, whole (*whole set) when
 * the command reads streams and w holds all of it; when no worker that
 * can still run does, its chunks run one by one. */
size_t sched_next_batch(struct runner *rn, size_t w, size_t *batch,
    int *spec, int *whole);
/* Whether a worker other than except, not failed, holds c. */
int sched_usable_holder(const struct runner *rn, const struct run_chunk *c,
    size_t except);
/*
 * The first chunk of a stream also paid the tool's start-up, which the
 * stream as a whole costs: a chunk moved elsewhere takes its own work and
 * its share of a start-up with it, not the whole. The first chunk's own
 * work is taken as that of the others per byte; what it took beyond that
 * is the start-up, shared out equally. The batch's total is unchanged.
 */
void sched_spread_startup(struct run_plan *plan, const size_t *batch,
    size_t n);
/*
 * A slot's set-up - ssh, its shell, a warm tool's start - is paid once by
 * the slot, whatever chunks it runs, but its first job waited for it. It
 * is shared out equally among the chunks the slot ran, so that a chunk
 * balancing moves away takes its share with it, not the whole. Each
 * slot's chunks keep their order and the gaps between them, the first
 * starting when its job was sent: the last one ends when it did, and
 * the worker's total is unchanged.
 */
void sched_spread_setup(struct run_plan *plan);
/* Marks the jobs running past their limit: their chunks may start again
 * on another worker. */
void sched_find_stragglers(struct runner *rn);

/* fetch.c */
/*
 * Chunks that no usable worker holds - their workers failed, their copies
 * were bad - are copied from the store to the least loaded usable worker
 * (or given up, in an ad hoc run or when no worker can take them); a
 * straggler's chunk that only its own worker holds is copied to an idle
 * worker, to start it again there.
 */
int fetch_plan(struct runner *rn, struct sc_err *e);
/* Starts a copy of the n chunks from the store to worker w, among the
 * run's fetches. job, for FETCH_CHECK, is the failed job whose copies it
 * checks: the fetch owns it once started. SC_ERR_WORKER (e filled in)
 * when it cannot start; job is then still the caller's. */
int fetch_start(struct runner *rn, enum fetch_why why, size_t w,
    const size_t *chunks, size_t n, struct job_end *job, struct sc_err *e);
/* Frees f and the job it holds. */
void fetch_release(struct fetch *f);
/* A copy from the store has ended. */
int fetch_done(struct runner *rn, struct fetch *f);

#endif
