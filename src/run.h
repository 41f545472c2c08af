/* run.h - a query: a command over every chunk of a capture, on the workers
 * holding the chunks, in parallel, with the output brought back.
 *
 * The plan says which chunks there are and which workers may run each
 * (those holding a current copy). Each worker gets as many slots as it
 * runs jobs at once; a slot is one shell on the worker (one ssh session)
 * for the whole run, which runs the jobs it is sent one after another -
 * starting a session costs more than many a job. A job's output ends at
 * a token that is random per run, its stderr at a marker, so both are
 * attributed exactly. The slot's shell kills the running job when its
 * stdin closes: at the end, when shardcap stops, when it dies, when the
 * connection goes - nothing is left running on a worker. Output is held
 * per job (memory up to a budget, then a temporary file) and written
 * whole when the job ends, in completion or in chunk order; stderr is
 * passed on at once, line by line, prefixed. */
#ifndef SHARDCAP_RUN_H
#define SHARDCAP_RUN_H

#define RUN_MAX_BATCH 64
#define RUN_MAX_BATCH_S "64"
#define RUN_DEFAULT_BATCH 2
#define RUN_DEFAULT_BATCH_S "2"

#include <signal.h>
#include <stdint.h>

#include "catalog.h"
#include "config.h"
#include "error.h"
#include "util.h"
#include "zmerge.h"

enum run_output {
	RUN_COMPLETION,         /* each chunk's output when it finishes */
	RUN_ORDERED,            /* in chunk order */
	RUN_PCAP,               /* captures, merged in chunk order */
};

struct run_worker {
	char name[72];
	char where[300];
	struct config_worker cw;        /* how to reach it (owned strings) */
	int64_t worker_id;      /* in the catalog; 0 for an ad hoc run */
	unsigned slots;         /* jobs at once */
	unsigned busy;
	size_t chunks_total, chunks_done;
	double finished_at;     /* seconds from the start: its last job's end */
	double busy_seconds;    /* sum of its jobs' wall times */
	int failed;             /* could not be reached: no more jobs */
	char error[400];
	unsigned agent_sent;    /* the agent was sent to it when the run had
	                         * opened this many slots (0: not sent) */
	int no_zone_said;       /* its tzdata lacks the run's zone: said */
};

/* What a run learnt of a chunk's copy on a worker (run_chunk.copy). */
enum run_copy {
	RUN_COPY_AS_PLANNED,
	RUN_COPY_BAD,           /* missing or damaged: not used again */
	RUN_COPY_FETCHED,       /* copied (again) from the store in the run */
	RUN_COPY_UNFIT,         /* a copy from the store to it failed */
};

struct run_chunk {
	unsigned seq;
	int64_t chunk_id;       /* 0 for an ad hoc run */
	char file[96];
	char digest[72];
	uint64_t bytes;
	struct sc_time first;   /* of its first packet, when has_time */
	int has_time;
	/* its earliest and latest time stamps, when has_range (a chunk
	 * split before they were recorded has none) */
	struct sc_time min, max;
	int has_range;
	/* it holds packets outside the run's window (run_plan_select): the
	 * job streams it into the command cut to the window */
	int trim;
	/* The flow layout's groups: 0, or its place (1, 2, ...) among the
	 * consecutive chunks of one flow larger than a chunk, which a job
	 * reads as one stream (run_options.whole_groups) */
	unsigned part;
	int in_whole;           /* run as a part after a group's first, in
	                         * one job with it: its output is the
	                         * first's */
	size_t *holders;        /* workers with a current copy */
	size_t n_holders;
	unsigned char *copy;    /* per worker: enum run_copy */
	int state;              /* 0 waiting, 1 running, 2 done, 3 given up */
	unsigned running;       /* jobs running it: a straggler and its copy */
	int overdue;            /* its job ran past --timeout */
	int fetching;           /* a copy from the store is on its way */
	int again;              /* run again after a worker or copy failed */
	size_t worker;          /* who ran it */
	double start, wall;     /* seconds from the run's start */
	unsigned slot;          /* the number of the slot that ran it */
	double setup;           /* the slot's set-up, in its first job's first
	                         * chunk until the run ends (spread_setup) */
	int exit_code;
	uint64_t bytes_out;
};

struct run_plan {
	char capture[72];
	int64_t capture_id;     /* 0 for an ad hoc run */
	const struct config *cfg;
	const char *control_dir;
	char *base;             /* ad hoc: the directory of the chunk files */
	char *store;            /* a cluster's: the capture's store, from
	                         * which chunks are copied to workers when no
	                         * usable worker holds them */
	struct run_worker *workers;
	size_t n_workers;
	struct run_chunk *chunks;
	size_t n_chunks;
	/* the window of the run (run_plan_select), for its trimmed chunks:
	 * RFC 3339 times, "" for no bound */
	char since[40], until[40];
	/* what run_plan_select was told, as options ("--chunks 1-3"), for
	 * the catalog; "" when it takes every chunk */
	char selection[256];
};

struct run_options {
	char **command;         /* the user's argv, with {} for the chunk */
	size_t n_command;
	int use_stdin;          /* the chunk on stdin instead of {} */
	/* Streaming: when stream_arg >= 0, command[stream_arg] is "{}" as
	 * the file a tool reads (tshark -r {}), which then reads "-" and up
	 * to batch consecutive chunks of one worker are streamed into one
	 * process: the tool starts once per batch, not once per chunk. */
	int stream_arg;
	unsigned batch;
	/* Warm start: when warm_lib is set (its path, the same on every
	 * worker), the command is tshark reading -r {} and each slot starts
	 * it once, with that library preloaded, to fork it for each chunk
	 * (src/warm.c): one process per chunk, one start-up per slot. A
	 * worker without the library runs the jobs as it would without. */
	const char *warm_lib;
	/* Each group of chunks (run_chunk.part) goes to one worker holding
	 * it all and runs as one job, its chunks streamed into the command
	 * (which reads {} as "-", or stdin): set when the command can read
	 * a stream (slot.h, run_reads_stream). Otherwise its chunks run
	 * one by one, and whole_missed counts the groups. */
	int whole_groups;
	enum run_output output;
	/* When set (with RUN_ORDERED), the outputs go to it, not out_fd:
	 * tshark's -z tables merged (zmerge.h), which the caller prints. */
	struct zmerge *merge;
	/* A job running longer than timeout seconds a chunk, or (factor)
	 * timeout_factor times the median job's time per byte, is a
	 * straggler: its chunks may start again on another worker, the
	 * first to finish wins. 0: none. */
	double timeout, timeout_factor;
	int tag;                /* lines prefixed with chunk and worker */
	/* Run every chunk even when two fail alike (with the same exit
	 * status and stderr): by default that is the command's own error,
	 * and the run stops at once. */
	int keep_going;
	int out_fd, err_fd;     /* where results and job stderr go */
	volatile sig_atomic_t *interrupted;
	void (*progress)(void *ctx, const struct run_plan *plan, double elapsed);
	/* clears the progress line for text to go above it */
	void (*progress_clear)(void *ctx);
	void *progress_ctx;
};

struct run_result {
	double wall;            /* seconds */
	size_t failed_chunks;   /* command exited non-zero */
	size_t lost_chunks;     /* no reachable worker holds them */
	size_t failed_workers;  /* lost during the run */
	size_t again_chunks;    /* run again after a worker or copy failed */
	size_t bad_copies;      /* copies found missing or damaged */
	size_t fetched;         /* copies made from the store in the run */
	size_t stragglers;      /* jobs that ran past the timeout */
	size_t speculated;      /* chunks started again for a straggler */
	size_t speculation_won; /* ... whose second run finished first */
	int broken_pipe;        /* the reader of out_fd went away */
	size_t split_groups;    /* groups whose chunks ran apart */
	/* stopped at the command's own error: these two chunks failed
	 * alike, with exit status stop_status; not_run chunks were not run */
	int stopped;
	int stop_status;
	size_t stop_chunks[2];
	/* ... or tshark ended so while it set itself up (warm) on worker
	 * stop_worker, before it read a chunk */
	int stop_setup;
	size_t stop_worker;
	size_t not_run;
	/* --pcap-out of pcapng: sections in the capture (1 when all the
	 * jobs' sections were merged), and why not */
	size_t pcap_sections;
	char pcap_sections_why[160];
	uint64_t bytes_out;
	int64_t started_ms;     /* wall clock, for the catalog */
};

/* Runs opt->command over every chunk of the plan. Returns 0 when every
 * job ran (check res->failed_chunks and res->lost_chunks), or
 * SC_ERR_INTERRUPTED / another code with e filled in. */
int run_execute(struct run_plan *plan, const struct run_options *opt,
    struct run_result *res, struct sc_err *e);
/* Records the run, its workers' completion times, every job and the
 * chunks it left (failed or not run) in the catalog; *id (if not NULL)
 * is its id then. */
int run_record(struct catalog *cat, const struct run_plan *plan,
    const struct run_options *opt, const struct run_result *res,
    int64_t *id, struct sc_err *e);

#endif
