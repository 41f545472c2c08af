/* slot.h - a run's side of the worker-side agent (src/agent.sh): the
 * protocol of a slot, the arguments it is started with and the calls it
 * is sent, and which commands can be streamed or started warm. Every
 * value put into a call is quoted by shell_quote (remote.h). */
#ifndef SHARDCAP_SLOT_H
#define SHARDCAP_SLOT_H

#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"
#include "strvec.h"

/*
 * The protocol between shardcap and a slot. A slot's stdout and stderr
 * carry its jobs' own output and stderr, byte for byte; shardcap's
 * records travel among them, each "TOKEN TYPE ARGS\n" written in one
 * write (a builtin printf of far less than PIPE_BUF: never split, never
 * inside another writer's write), TOKEN a secret random per run that a
 * slot is told on the first line of its stdin and its tools never see
 * (in no argv, no environment, no file). A record is found wherever it
 * is, not only at the start of a line, and taken out; what is not one is
 * the tool's. So a tool's output without a last newline, a tool printing
 * the names of the records, or binary output cannot end, stall or fake a
 * job.
 *
 * On stdout, the end of a job's output: "TOKEN JOB STATUS". On stderr:
 */
#define TOKEN_PREFIX "shardcap-end-"    /* then 32 random hex digits */
#define TOKEN_PREFIX_LEN (sizeof(TOKEN_PREFIX) - 1)
/* The slot's shell has started, on a worker of this many cores: a slot
 * that ends with 255 without it never reached its worker (ssh's 255). */
#define RUN_REC_STARTED "started"
/* Ready for jobs (with its warm tool set up: " warm" follows). */
#define RUN_REC_READY "ready"
/* "fed I": chunk I of the job's stream has gone into the pipe. */
#define RUN_REC_FED "fed"
/* "bad JOB I...": the job's chunks I... are missing or cut; the command
 * did not run. */
#define RUN_REC_BAD "bad"
/* "done JOB": the end of the job's stderr. */
#define RUN_REC_DONE "done"
/* "note no-zone": the worker has no zone of the name --tz gave it
 * (run_local_zone): its tools print local times in UTC. */
#define RUN_REC_NOTE "note"
/* A record is at most this long: a token with no newline within it is
 * no record (and is not shown). */
#define RUN_REC_MAX 256

/* What a job runs: run_options' fields of the same names (run.h). */
struct job_command {
	char *const *argv;      /* the user's command, {} for the chunk */
	size_t argc;
	int use_stdin;          /* the chunk on stdin instead of {} */
	int stream_arg;         /* >= 0: the chunks streamed into it */
	const char *warm_lib;   /* non-NULL: handed to the slot's warm tool */
};

/* Fills out (48 bytes) with a run's token: TOKEN_PREFIX and 32 random
 * hex digits. */
void run_token_fill(char *out);

/*
 * A slot is the agent's verb "slot" (src/agent.sh): one shell on a
 * worker for the whole run, which reads its stdin - the token, then one
 * call a line - and runs one job at a time, each in a session of its
 * own. silence > 0: it also ends (its job killed) when its stdin has
 * brought nothing, not even the empty line shardcap sends every
 * RUN_BEAT_MS, for silence seconds (at most twice that); the file mark
 * (a path on the worker, in a directory only shardcap writes) notes each
 * line read. warm, when not NULL: the slot starts the command warm
 * (run_options.warm_lib) once its library is there, and its jobs hand it
 * their chunks.
 */
#define RUN_BEAT_MS 1000
struct run_warm {
	const char *lib;        /* the library's path on the worker */
	const char *placeholder;        /* a path of the slot's own there */
	const char *template;   /* a chunk there: linked as the placeholder */
	/* The hub's fifo (src/warm.c), shared by the run's slots on one
	 * machine, or NULL. With attach, the slot does not start the
	 * command: its first call (run_attach_call, or an empty line) gets
	 * it a warm tool of the hub's, and only then is it ready. Without,
	 * the warm tool it starts forks the hub. */
	const char *hub;
	int attach;
};
/* This machine's time zone as a worker can be told it, so that the
 * tools print local times as they would here: TZ's value (a path under a
 * zoneinfo directory as the zone's name), else the zone /etc/localtime
 * links to ("Europe/Paris"), "UTC0" where glibc would use UTC; NULL when
 * it has no name (a copied zone file), and each worker keeps its own.
 * Allocated. */
char *run_local_zone(void);
/* Appends the slot's arguments, after the verb: its options (zone, the
 * run's run_local_zone, or NULL), "--", and the command (":" for a slot
 * without jobs, jc NULL). */
void run_slot_args(struct strvec *args, unsigned silence, const char *mark,
    const struct run_warm *warm, const char *zone,
    const struct job_command *jc);
/* Writes a slot's first line, the run's token, to fd (its stdin, before
 * anything else). */
void run_slot_token(int fd, const char *token);
/* The call that starts job number job on the n chunks at paths: each
 * checked against its size first when sizes is not NULL (the caller has
 * checked them otherwise); then the command with {} the first, or the
 * chunks streamed into one, or handed to the warm tool. Its ends come,
 * with its exit status (125: a chunk missing or cut, a RUN_REC_BAD record
 * says which; 137 and the like: it was killed), however it ended. With
 * whole, the chunks are streamed into the command (as the slot's
 * --stream does) whatever the slot does: a group of one flow's chunks.
 * With since (and until) not NULL, so are they, each cut to the packets
 * of time stamps in [since, until) (RFC 3339; "" for no bound) by the
 * worker's editcap, in the chunk's own format. */
void run_job_call(struct strbuf *sb, unsigned job, char *const *paths,
    const uint64_t *sizes, size_t n, int whole, const char *since,
    const char *until);
/* Whether command can read a stream of chunks in place of its one chunk:
 * tshark or tcpdump reading -r {} (-nr {} too), ngrep -I {}, {} nowhere
 * else. */
int run_reads_stream(char *const *command, size_t n);
/* The call that gets a slot waiting to attach (run_warm.attach) a warm
 * tool from the hub, its fifos at placeholder.q and .r; it goes on
 * without one if none answers within 10 seconds. */
void run_attach_call(struct strbuf *sb, const char *placeholder,
    const char *hub);
/* The calls that forget the job that ended (its pid may be another
 * process's soon), that stop a slot's watchdog (shardcap is about to
 * stop) and that start it again (shardcap continues). */
#define RUN_SLOT_FORGET "forget\n"
#define RUN_SLOT_PAUSE "pause\n"
#define RUN_SLOT_RESUME "resume\n"

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
