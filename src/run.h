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
#define RUN_DEFAULT_BATCH 2
#define RUN_DEFAULT_BATCH_S "2"

#include <signal.h>
#include <stdint.h>

#include "cluster.h"
#include "config.h"
#include "error.h"
#include "split.h"

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
	enum run_output output;
	/* A job running longer than timeout seconds a chunk, or (factor)
	 * timeout_factor times the median job's time per byte, is a
	 * straggler: its chunks may start again on another worker, the
	 * first to finish wins. 0: none. */
	double timeout, timeout_factor;
	int tag;                /* lines prefixed with chunk and worker */
	int out_fd, err_fd;     /* where results and job stderr go */
	volatile sig_atomic_t *interrupted;
	void (*progress)(void *ctx, const struct run_plan *plan, double elapsed);
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
	uint64_t bytes_out;
	int64_t started_ms;     /* wall clock, for the catalog */
};

/* Plans a run of capture name in the cluster: its chunks and the workers
 * holding current copies; asks workers with "jobs = 0" for their cores. */
int run_plan_cluster(struct run_plan *plan, struct cluster *cl,
    const char *name, volatile sig_atomic_t *interrupted, struct sc_err *e);
/* Plans an ad hoc run over the chunks of split result sr in dir, on n
 * local workers of one slot each that may run any chunk. */
int run_plan_local(struct run_plan *plan, const struct config *cfg,
    const char *name, const char *dir, const struct split_result *sr,
    unsigned n, struct sc_err *e);
void run_plan_release(struct run_plan *plan);

/* Runs opt->command over every chunk of the plan. Returns 0 when every
 * job ran (check res->failed_chunks and res->lost_chunks), or
 * SC_ERR_INTERRUPTED / another code with e filled in. */
int run_execute(struct run_plan *plan, const struct run_options *opt,
    struct run_result *res, struct sc_err *e);
/* Records the run, its workers' completion times and every job in the
 * catalog. */
int run_record(struct catalog *cat, const struct run_plan *plan,
    const struct run_options *opt, const struct run_result *res,
    struct sc_err *e);

/* The script of one job (shell syntax, every value quoted): first a check
 * that each of the n chunks at paths is there with its size (sizes[i]):
 * when one is not, the command does not run and a line on stderr names
 * them (RUN_BAD_MARK, the run's token, the job's number, their indexes);
 * then the command with {} replaced by paths[0]; or, streaming, the n
 * chunks fed into it one after the other (pcap chunks after the first
 * without their file header, pcapng chunks whole: their sections follow
 * one another), a marker on stderr after each; then the ends of its
 * output and stderr marked with the run's token ($1) and the job's
 * number ($2). */
#define RUN_BAD_MARK "shardcap-chunk-bad"
void run_job_script(struct strbuf *sb, const struct run_options *opt,
    char *const *paths, const uint64_t *sizes, size_t n);
/* The script of a slot: one shell on a worker that runs the jobs it is
 * sent on its stdin, ending each output with token. silence > 0: the
 * slot also ends (its job killed) when its stdin has brought nothing, not
 * even the empty line shardcap sends every RUN_BEAT_MS, for silence
 * seconds (at most twice that); the file mark (a path on the worker, in a
 * directory only shardcap writes) notes each line read. warm, when not
 * NULL: the slot starts the command warm (run_options.warm_lib) once its
 * library is there, and its jobs ($3 the warm tool's pid, empty when it
 * did not start) hand it their chunks. */
#define RUN_BEAT_MS 1000
/* The lines that stop a slot's watchdog (shardcap is about to stop) and
 * start it again (shardcap continues). */
#define RUN_SLOT_KILL_WD "for g in $w; do kill -TERM -$g $g; done 2>/dev/null"
#define RUN_SLOT_PAUSE RUN_SLOT_KILL_WD "; w=\n"
#define RUN_SLOT_RESUME "wd\n"
struct run_warm {
	const char *lib;        /* the library's path on the worker */
	const char *placeholder;        /* a path of the slot's own there */
	const char *command;    /* the command, quoted, {} the placeholder */
};
void run_slot_script(struct strbuf *sb, const char *token, unsigned silence,
    const char *mark, const struct run_warm *warm);

/* A beacon, for copies to remote workers: on each worker of want[]
 * (per configured worker) that is not local, a slot with no job that
 * hears shardcap every RUN_BEAT_MS (paused, as a run's, over Ctrl-Z) and
 * keeps a mark file of its own there. A worker's rsync given that mark
 * (remote_rsync_argv) ends once the mark is gone: when shardcap stops the
 * beacon - after its copies - or when the slot's watchdog found shardcap
 * silent (a cut link, a vanished host). A slot that cannot be started
 * leaves its worker's copies unwatched (run_beacon_mark is NULL). NULL
 * when no worker of want[] is remote: nothing to watch. */
struct run_beacon;
struct run_beacon *run_beacon_start(const struct config *cfg,
    const char *control_dir, const unsigned char *want);
const char *run_beacon_mark(const struct run_beacon *b, size_t worker);
/* Ends the slots (not waiting more than a second for one cut off) and
 * frees b; b may be NULL. */
void run_beacon_stop(struct run_beacon *b);
/* Whether command can be streamed (run_options.stream_arg): tshark,
 * tcpdump or ngrep reading "{}" with -r (-I), with no option whose
 * result would change (a count limit, per-file statistics, two passes,
 * writing files). Returns the index of "{}" or -1. */
int run_stream_arg(char *const *command, size_t n);
/* Whether command can start warm (run_options.warm_lib): tshark reading
 * "{}" with -r, "{}" nowhere else. */
int run_warm_command(char *const *command, size_t n);
/* The warm-start library next to this program (or installed beside it:
 * ../lib/shardcap/), or SHARDCAP_WARM_LIB's ("" for none); NULL when
 * there is none. Allocated. */
char *run_warm_lib(void);

#endif
