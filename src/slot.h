/* slot.h - the worker side of a run: the shell of a slot (one per job
 * slot on a worker, for the whole run), the script of each job it is
 * sent, the marks both write on stderr, and which commands can be
 * streamed or started warm. Every value put into a script is quoted by
 * shell_quote (remote.h). */
#ifndef SHARDCAP_SLOT_H
#define SHARDCAP_SLOT_H

#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

/* A run's token: this, then 32 random hex digits. */
#define TOKEN_PREFIX "shardcap-end-"
#define TOKEN_PREFIX_LEN (sizeof(TOKEN_PREFIX) - 1)
/* The first line a job's shell writes to stderr, never passed on: a job
 * that ends with 255 without it never reached its worker (ssh's 255). */
#define RUN_STARTED_MARK "shardcap-job-started"
/* Written to stderr once the slot's shell is ready for jobs (and its
 * warm tool set up, when it has one: "warm" follows). */
#define RUN_READY_MARK "shardcap-slot-ready"
/* Written to stderr after each chunk of a stream has gone into the pipe. */
#define RUN_CHUNK_MARK "shardcap-chunk-fed"
/* Written to stderr, with the run's token, when a job ends. */
#define RUN_DONE_MARK "shardcap-job-done"
/* What a job runs: run_options' fields of the same names (run.h). */
struct job_command {
	char *const *argv;      /* the user's command, {} for the chunk */
	size_t argc;
	int use_stdin;          /* the chunk on stdin instead of {} */
	int stream_arg;         /* >= 0: the chunks streamed into it */
	const char *warm_lib;   /* non-NULL: handed to the slot's warm tool */
};

/* Appends the command, every argument quoted, {} replaced by path. */
void run_add_command(struct strbuf *sb, const struct job_command *jc,
    const char *path);

/* Fills out (48 bytes) with a run's token: TOKEN_PREFIX and 32 random
 * hex digits. */
void run_token_fill(char *out);

/* The script of one job (shell syntax, every value quoted): first a check
 * that each of the n chunks at paths is there with its size (sizes[i]):
 * when one is not, the command does not run and a line on stderr names
 * them (RUN_BAD_MARK, the run's token, the job's number, their indexes);
 * no check with sizes NULL (the caller has made it);
 * then the command with {} replaced by paths[0]; or, streaming, the n
 * chunks fed into it one after the other (pcap chunks after the first
 * without their file header, pcapng chunks whole: their sections follow
 * one another), a marker on stderr after each; then the ends of its
 * output and stderr marked with the run's token ($1) and the job's
 * number ($2). */
#define RUN_BAD_MARK "shardcap-chunk-bad"
void run_job_script(struct strbuf *sb, const struct job_command *jc,
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
	const char *template;   /* a chunk there: linked as the placeholder */
	const char *command;    /* the command, quoted, {} the placeholder */
	/* The hub's fifo (src/warm.c), shared by the run's slots on one
	 * machine, or NULL. With attach, the slot does not start the
	 * command: its first line (run_attach_line, or an empty one) gets
	 * it a warm tool of the hub's, and only then is it ready. Without,
	 * the warm tool it starts forks the hub. */
	const char *hub;
	int attach;
};
void run_slot_script(struct strbuf *sb, const char *token, unsigned silence,
    const char *mark, const struct run_warm *warm);
/* The line that gets a slot waiting to attach (run_warm.attach) a warm
 * tool from the hub, its fifos at placeholder.q and .r; it goes on
 * without one if none answers within RUN_ATTACH_WAIT seconds. */
#define RUN_ATTACH_WAIT 10
void run_attach_line(struct strbuf *sb, const struct run_warm *warm);

/* Whether argv0 is tool (by its last path component). */
int run_tool_is(const char *argv0, const char *tool);
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
