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

#include "catalog.h"
#include "child.h"
#include "file.h"
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
/* A relative --timeout never calls a job of less than this a straggler:
 * below it, the time a job takes is noise. */
#define RUN_MIN_STRAGGLER 1.0
/* After this many failed jobs whose copies were found sound (and none
 * damaged), failures are taken as the command's own: no more checks. */
#define RUN_CHECKS_SOUND 2

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
	plan->store = cluster_store_dir(cl, name);
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
		snprintf(c->digest, sizeof(c->digest), "%s", chunks[i].digest);
		c->bytes = chunks[i].bytes;
		c->holders = xcalloc(plan->n_workers + 1, sizeof(size_t));
		c->copy = xcalloc(plan->n_workers + 1, 1);
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
	/* Local workers with "jobs = 0" run one job per core of this
	 * machine; remote ones learn theirs from their first slot. */
	for (k = 0; k < plan->n_workers; k++) {
		long cores = sysconf(_SC_NPROCESSORS_ONLN);

		if (plan->workers[k].slots == 0 && plan->workers[k].cw.local)
			plan->workers[k].slots = cores > 0 ? (unsigned)cores : 1;
	}
	(void)interrupted;
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
		c->copy = xcalloc(plan->n_workers + 1, 1);
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
	for (i = 0; i < plan->n_chunks; i++) {
		free(plan->chunks[i].holders);
		free(plan->chunks[i].copy);
	}
	free(plan->workers);
	free(plan->chunks);
	free(plan->base);
	free(plan->store);
	memset(plan, 0, sizeof(*plan));
}

/* --- jobs --- */

/* The program's name: argv[0] without its directory. */
static const char *
tool_name(const char *argv0)
{
	const char *slash = strrchr(argv0, '/');

	return slash ? slash + 1 : argv0;
}

int
run_stream_arg(char *const *command, size_t n)
{
	static const char *const changes_tshark[] = {
		"-c", "-z", "-q", "-Q", "-2", "-w", "-b", "-a", "-M", "-F", NULL,
	};
	static const char *const changes_tcpdump[] = {
		"-c", "-w", "-C", "-G", "-W", NULL,
	};
	static const char *const changes_ngrep[] = {
		"-n", "-O", "-I", NULL,
	};
	const char *tool = tool_name(command[0]);
	const char *const *changes;
	const char *read_opt;
	size_t i, k;
	int arg = -1;

	if (strcmp(tool, "tshark") == 0) {
		changes = changes_tshark;
		read_opt = "-r";
	} else if (strcmp(tool, "tcpdump") == 0) {
		changes = changes_tcpdump;
		read_opt = "-r";
	} else if (strcmp(tool, "ngrep") == 0) {
		changes = changes_ngrep;
		read_opt = "-I";
	} else {
		return -1;
	}
	for (i = 1; i < n; i++) {
		if (strstr(command[i], "{}") != NULL) {
			if (strcmp(command[i], "{}") != 0 || arg >= 0 ||
			    strcmp(command[i - 1], read_opt) != 0)
				return -1;
			arg = (int)i;
			continue;
		}
		for (k = 0; changes[k] != NULL; k++) {
			/* "-c 5" and "-c5" alike; ngrep's own -I we read */
			if (strncmp(command[i], changes[k], 2) == 0 &&
			    !(i + 1 < n && strcmp(command[i + 1], "{}") == 0 &&
			    strcmp(changes[k], read_opt) == 0))
				return -1;
		}
	}
	return arg;
}

int
run_warm_command(char *const *command, size_t n)
{
	size_t i, hits = 0;
	int read_arg = 0;

	if (strcmp(tool_name(command[0]), "tshark") != 0)
		return 0;
	for (i = 1; i < n; i++) {
		if (strstr(command[i], "{}") == NULL)
			continue;
		hits++;
		if (strcmp(command[i], "{}") == 0 &&
		    strcmp(command[i - 1], "-r") == 0)
			read_arg = 1;
	}
	return hits == 1 && read_arg;
}

char *
run_warm_lib(void)
{
	static const char *const beside[] = {
		"shardcap-warm.so", "../lib/shardcap/shardcap-warm.so", NULL,
	};
	const char *env = getenv("SHARDCAP_WARM_LIB");
	char self[4096], *slash, *path;
	ssize_t n;
	size_t i;

	if (env != NULL)
		return env[0] == '/' && access(env, R_OK) == 0 ?
		    xstrdup(env) : NULL;
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return NULL;
	self[n] = '\0';
	if ((slash = strrchr(self, '/')) == NULL)
		return NULL;
	*slash = '\0';
	for (i = 0; beside[i] != NULL; i++) {
		char *real;

		path = xasprintf("%s/%s", self, beside[i]);
		real = access(path, R_OK) == 0 ? realpath(path, NULL) : NULL;
		free(path);
		if (real != NULL)
			return real;
	}
	return NULL;
}

/* Appends the command, every argument quoted, {} replaced by path. */
static void
add_command(struct strbuf *sb, const struct run_options *opt,
    const char *path)
{
	size_t i;

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
}

void
run_job_script(struct strbuf *sb, const struct run_options *opt,
    char *const *paths, const uint64_t *sizes, size_t n)
{
	size_t i;

	/* every chunk there, whole: a missing or cut copy is reported, not
	 * read as a shorter capture */
	strbuf_addstr(sb, "b=; ");
	for (i = 0; i < n; i++) {
		strbuf_addstr(sb, "[ \"$(wc -c 2>/dev/null < ");
		shell_quote(sb, paths[i]);
		strbuf_addf(sb, ")\" = %llu ] || b=\"$b %zu\"; ",
		    (unsigned long long)sizes[i], i);
	}
	strbuf_addstr(sb, "if [ -n \"$b\" ]; then echo " RUN_BAD_MARK
	    " \"$1\" \"$2\"$b >&2; s=125; else ");
	if (opt->warm_lib != NULL) {
		/* each chunk to the slot's warm tool, when it has one; one it
		 * will not take (gone) started here, as without */
		strbuf_addstr(sb, "if [ -n \"$3\" ]; then s=0; ");
		for (i = 0; i < n; i++) {
			strbuf_addstr(sb, "if (printf '%s\\n' ");
			shell_quote(sb, paths[i]);
			strbuf_addstr(sb, " >&6) 2>/dev/null; then IFS= read -r t "
			    "<&5 || { t=126; echo 'shardcap: the slot'\\''s "
			    "warm tool ended' >&2; }; else");
			add_command(sb, opt, paths[i]);
			strbuf_addstr(sb, " < /dev/null 5<&- 6>&-; t=$?; fi; "
			    "[ \"$s\" = 0 ] && s=$t; ");
			if (n > 1)
				strbuf_addf(sb, "echo " RUN_CHUNK_MARK " %zu >&2; ",
				    i);
		}
		strbuf_addstr(sb, "else ");
	}
	if (opt->stream_arg >= 0) {
		/* the chunks into one process, a marker after each */
		strbuf_addstr(sb, "{ ");
		for (i = 0; i < n; i++) {
			size_t len = strlen(paths[i]);
			int ng = len > 7 && strcmp(paths[i] + len - 7,
			    ".pcapng") == 0;

			strbuf_addstr(sb, i == 0 || ng ? "cat " : "tail -c +25 ");
			shell_quote(sb, paths[i]);
			strbuf_addf(sb, "; echo " RUN_CHUNK_MARK " %zu >&2; ", i);
		}
		strbuf_addstr(sb, "} |");
		add_command(sb, opt, "-");
	} else {
		add_command(sb, opt, paths[0]);
		strbuf_addstr(sb, " < ");
		if (opt->use_stdin)
			shell_quote(sb, paths[0]);
		else
			strbuf_addstr(sb, "/dev/null");
	}
	/* The end of the job's output, and of its stderr, each marked with
	 * the run's token ($1) and the job's number ($2). */
	strbuf_addstr(sb, opt->warm_lib != NULL ? "; s=$?; fi; fi; " :
	    "; s=$?; fi; ");
	strbuf_addstr(sb, "printf '%s %s %s\\n' \"$1\" \"$2\" \"$s\"; "
	    "printf '" RUN_DONE_MARK " %s %s\\n' \"$1\" \"$2\" >&2");
}

/* A slot's job and watchdog killed: each runs in a session of its own,
 * the pid's process group; a process that has not reached its setsid yet
 * is killed by its pid (RUN_SLOT_KILL_WD: the watchdog alone). */
#define SLOT_KILL "for g in $p $w $z; do kill -TERM -$g $g; done 2>/dev/null"
/* The mark file (and a warm tool's files, if it was starting) removed,
 * without the slot waiting for rm (ends in "&": the next command follows
 * it without a ";"). */
#define SLOT_UNMARK "[ -n \"$h$Z\" ] && rm -f ${h:+\"$h\"} " \
	"${Z:+\"$Z\" \"$Z.q\" \"$Z.r\" \"$Z.e\"} < /dev/null > /dev/null 2>&1 &"

void
run_slot_script(struct strbuf *sb, const char *token, unsigned silence,
    const char *mark, const struct run_warm *warm)
{
	/*
	 * A slot: one shell on the worker for the whole run, which reads
	 * jobs from its stdin, one line each, and starts each in a session
	 * of its own (so that it and whatever it starts are killed as one);
	 * shardcap sends the next job once the last one has ended. When its
	 * stdin closes - shardcap closes it at the end of the run or when
	 * it stops; ssh when the connection goes; the kernel when shardcap
	 * dies - the running job's session is killed and the slot ends. One
	 * session per slot, not per chunk: starting an ssh session costs
	 * more than many a job.
	 *
	 * A connection can also go without sshd seeing it: the coordinator's
	 * host or the network between gone, nothing sent that would come
	 * back reset. So, with silence > 0, shardcap sends an empty line
	 * every second, each line read marks a file (mark: a name of its
	 * own in the worker's directory, made by shell builtins alone: a
	 * slot starts and ends without waiting for a process), and a
	 * watchdog in a session of its own looks every silence seconds: no
	 * mark since the last look, and it stops the slot as a closed stdin
	 * would.
	 */
	strbuf_addf(sb, "trap '" SLOT_KILL "; " SLOT_UNMARK " exit 143' "
	    "HUP INT TERM; p= w= h= z= Z=; T=%s; ", token);
	if (silence > 0 && mark != NULL) {
		strbuf_addstr(sb, "h=");
		shell_quote(sb, mark);
		strbuf_addf(sb, "; : > \"$h\" 2>/dev/null || h=; "
		    "wd() { " RUN_SLOT_KILL_WD "; [ -n \"$h\" ] && { "
		    "setsid sh -c 'while sleep %u; do if [ -e \"$1\" ]; then "
		    "rm -f \"$1\"; else kill -TERM $2; exit 0; fi; done' "
		    "watchdog \"$h\" $$ < /dev/null > /dev/null 2>&1 & w=$!; "
		    "}; }; wd; ", silence);
	}
	strbuf_addstr(sb, "echo " RUN_STARTED_MARK " $(nproc 2>/dev/null || "
	    "getconf _NPROCESSORS_ONLN) >&2; ");
	if (warm != NULL) {
		/*
		 * The warm tool (src/warm.c): its answer on fd 3 is its pid
		 * once it has set itself up, nothing if it ended first; it
		 * takes the slot's stdout (fd 4) and stderr (fd 8) then. The
		 * requests' fifo is held open for writing (fd 6), the
		 * answers' for reading (fd 5); the files are gone once it
		 * holds them.
		 */
		strbuf_addstr(sb, "if [ -r ");
		shell_quote(sb, warm->lib);
		strbuf_addstr(sb, " ]; then Z=");
		shell_quote(sb, warm->placeholder);
		strbuf_addstr(sb, "; rm -f \"$Z\" \"$Z.q\" \"$Z.r\" \"$Z.e\"; "
		    "if mkfifo \"$Z.q\" \"$Z.r\" 2>/dev/null && "
		    ": 2>/dev/null > \"$Z\"; then exec 4>&1; z=$(LD_PRELOAD=");
		shell_quote(sb, warm->lib);
		strbuf_addstr(sb, " SHARDCAP_WARM=\"$Z\" setsid ");
		strbuf_addstr(sb, warm->command);
		strbuf_addstr(sb, " 3>&1 8>&2 2>\"$Z.e\" > /dev/null < /dev/null &); "
		    "[ -n \"$z\" ] && exec 6>\"$Z.q\" 5<\"$Z.r\" && "
		    "(echo >&6) 2>/dev/null; "
		    "fi; "
		    "rm -f \"$Z\" \"$Z.q\" \"$Z.r\" \"$Z.e\"; Z=; fi; ");
	}
	strbuf_addstr(sb, "echo " RUN_READY_MARK " ${z:+warm} >&2; "
	    "while IFS= read -r j; do [ -n \"$h\" ] && : > \"$h\"; "
	    "eval \"$j\"; done; " SLOT_KILL "; " SLOT_UNMARK " exit 0");
}

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
	unsigned number;        /* the run's count of slots when it opened */
	int warm;               /* with a warm tool set up */
	double ready_at;        /* when it said it was ready for jobs, or 0 */
	struct strbuf err_line; /* a line of stderr being read */
	struct strbuf last_err; /* the last whole one */
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
	struct outbuf out;
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

/*
 * The heartbeat: a thread that writes an empty line to each remote slot's
 * stdin every RUN_BEAT_MS, so that its worker knows the coordinator is
 * there (run_slot_script). A thread, not the poll loop: that loop may wait
 * in a write to a slow reader of the output (a pager) for as long as the
 * reader likes, and the workers must not take that for a lost
 * coordinator. Every write to a slot's stdin goes through beat_write,
 * under mu, so that a beat never lands inside a job's line.
 *
 * Stopped on purpose (Ctrl-Z, SIGTSTP; SIGTTIN, SIGTTOU), shardcap first
 * tells every slot to stop its watchdog, then stops; continued, it starts
 * them again. The signal handlers only wake the thread, which does both.
 */
#define N_BEAT_SIGNALS 4

struct beat {
	pthread_t thread;
	pthread_mutex_t mu;
	int running;
	int wake[2];            /* 'q' quit, 'Z' stop, 'C' continued */
	int *fds;
	size_t n_fds, alloc_fds;
	int handles;            /* it installed the job-control handlers */
	int paused;             /* the slots were told to pause */
	struct sigaction old[N_BEAT_SIGNALS];
};

static const int beat_signals[N_BEAT_SIGNALS] = {
	SIGTSTP, SIGTTIN, SIGTTOU, SIGCONT
};
static int beat_wake = -1;      /* the running beat's wake[1] */

static void
on_job_control(int signo)
{
	int saved = errno;

	(void)!write(beat_wake, signo == SIGCONT ? "C" : "Z", 1);
	errno = saved;
}

/* Writes s to each slot (under mu). A pipe with no room (its ssh stuck)
 * is skipped, never waited for: the next line will do. */
static void
beat_send(struct beat *b, const char *s)
{
	size_t i;

	for (i = 0; i < b->n_fds; i++) {
		struct pollfd pf = { b->fds[i], POLLOUT, 0 };

		if (poll(&pf, 1, 0) == 1 && (pf.revents & POLLOUT))
			(void)!write(b->fds[i], s, strlen(s));
	}
}

static void *
beat_main(void *arg)
{
	struct beat *b = arg;
	double next = monotonic_seconds() + RUN_BEAT_MS / 1000.0;

	for (;;) {
		struct pollfd pf = { b->wake[0], POLLIN, 0 };
		double now = monotonic_seconds();
		int ms = next > now ? (int)((next - now) * 1000) + 1 : 0;
		char got[16];
		ssize_t n = 0, i;

		if (poll(&pf, 1, ms) > 0)
			n = read(b->wake[0], got, sizeof(got));
		for (i = 0; i < n; i++) {
			if (got[i] == 'q')
				return NULL;
			pthread_mutex_lock(&b->mu);
			beat_send(b, got[i] == 'Z' ? RUN_SLOT_PAUSE :
			    RUN_SLOT_RESUME);
			b->paused = got[i] == 'Z';
			pthread_mutex_unlock(&b->mu);
			/* every thread stops here, until SIGCONT */
			if (got[i] == 'Z')
				kill(getpid(), SIGSTOP);
		}
		if (monotonic_seconds() >= next) {
			pthread_mutex_lock(&b->mu);
			beat_send(b, "\n");
			pthread_mutex_unlock(&b->mu);
			next += RUN_BEAT_MS / 1000.0;
			if (next < monotonic_seconds())
				next = monotonic_seconds() + RUN_BEAT_MS / 1000.0;
		}
	}
}

static void
beat_start(struct beat *b)
{
	struct sigaction sa;
	sigset_t all, old;
	size_t i;

	pthread_mutex_init(&b->mu, NULL);
	b->wake[0] = b->wake[1] = -1;
	if (pipe2(b->wake, O_CLOEXEC | O_NONBLOCK) != 0)
		return;
	/* signals are the main thread's business */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	/* without the thread, a remote slot only hears the job lines: it
	 * may end early, which the run survives as a lost worker */
	b->running = pthread_create(&b->thread, NULL, beat_main, b) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	/* one beat handles job control: a second (a beacon while a run
	 * goes on) only beats */
	if (!b->running || beat_wake >= 0)
		return;
	b->handles = 1;
	beat_wake = b->wake[1];
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_job_control;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < N_BEAT_SIGNALS; i++)
		sigaction(beat_signals[i], &sa, &b->old[i]);
}

static void
beat_stop(struct beat *b)
{
	size_t i;

	if (b->handles) {
		for (i = 0; i < N_BEAT_SIGNALS; i++)
			sigaction(beat_signals[i], &b->old[i], NULL);
		beat_wake = -1;
	}
	if (b->running) {
		(void)!write(b->wake[1], "q", 1);
		pthread_join(b->thread, NULL);
	}
	if (b->wake[0] >= 0) {
		close(b->wake[0]);
		close(b->wake[1]);
	}
	pthread_mutex_destroy(&b->mu);
	free(b->fds);
}

static void
beat_add(struct beat *b, int fd)
{
	pthread_mutex_lock(&b->mu);
	ALLOC_GROW(b->fds, b->n_fds + 1, b->alloc_fds);
	b->fds[b->n_fds++] = fd;
	/* A slot opened after the others were told to pause, before the
	 * stop took hold, would watch a coordinator about to be silent. */
	if (b->paused)
		(void)!write(fd, RUN_SLOT_PAUSE, strlen(RUN_SLOT_PAUSE));
	pthread_mutex_unlock(&b->mu);
}

/* fd gets no more beats (it is about to be closed). */
static void
beat_remove(struct beat *b, int fd)
{
	size_t i;

	pthread_mutex_lock(&b->mu);
	for (i = 0; i < b->n_fds; i++) {
		if (b->fds[i] == fd) {
			b->fds[i] = b->fds[--b->n_fds];
			break;
		}
	}
	pthread_mutex_unlock(&b->mu);
}

static int
beat_write(struct beat *b, int fd, const char *p, size_t len)
{
	int r;

	pthread_mutex_lock(&b->mu);
	r = file_write_all(fd, p, len);
	pthread_mutex_unlock(&b->mu);
	return r;
}

static struct run_beacon *beacon_start(const struct config *cfg,
    const char *control_dir, const unsigned char *want, struct beat *shared);

struct runner {
	struct run_plan *plan;
	const struct run_options *opt;
	struct run_result *res;
	struct outbuf_budget budget;
	struct slot **slots;
	size_t n_slots, alloc_slots;
	unsigned *open_slots;   /* per worker */
	unsigned next_job;
	unsigned slots_opened;
	char token[48];         /* ends a job's output; random per run */
	size_t token_len;
	struct outbuf *done_out; /* ordered/pcap: finished, not yet written */
	size_t next_write;      /* ordered/pcap: next chunk to write */
	double t0;
	int stopping;
	/* pcap merging */
	int pcap_kind;          /* 0 none yet, 1 pcap, 2 pcapng */
	uint8_t pcap_header[24];
	int pcap_bad;
	char pcap_msg[200];
	/* the output being written: its tag, and whether the last byte
	 * written ended a line */
	const char *tag_file, *tag_worker;
	int at_line_start;
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
	struct beat beat;
};

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

/* Writes text output, with a tag before every line when asked. */
static int
emit_text(void *ctx, const char *data, size_t len)
{
	struct runner *rn = ctx;
	int fd = rn->opt->out_fd;

	if (!rn->opt->tag) {
		if (len > 0)
			rn->at_line_start = data[len - 1] == '\n';
		return file_write_all(fd, data, len);
	}
	while (len > 0) {
		const char *nl = memchr(data, '\n', len);
		size_t n = nl ? (size_t)(nl - data) + 1 : len;

		if (rn->at_line_start) {
			struct strbuf t = STRBUF_INIT;
			int r;

			strbuf_addf(&t, "%s\t%s\t", rn->tag_file, rn->tag_worker);
			r = file_write_all(fd, t.buf, t.len);
			strbuf_release(&t);
			if (r < 0)
				return -1;
		}
		if (file_write_all(fd, data, n) < 0)
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
		return file_write_all(rn->opt->out_fd, (const char *)pe->head,
		    pe->held);
	if (pe->held < 24) {
		rn->pcap_bad = 1;
		snprintf(rn->pcap_msg, sizeof(rn->pcap_msg),
		    "a job wrote %zu bytes, not a pcap header", pe->held);
		return 0;
	}
	if (rn->pcap_header[0] == 0) {
		memcpy(rn->pcap_header, pe->head, 24);
		return file_write_all(rn->opt->out_fd, (const char *)pe->head, 24);
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
	return file_write_all(pe->rn->opt->out_fd, data, len);
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
		r = file_write_all(rn->opt->out_fd, "\n", 1);
	return r;
}

/* Appends chunk c's path on worker w. */
static void
chunk_path(struct strbuf *sb, const struct run_plan *plan, size_t w, size_t c)
{
	if (plan->base != NULL)
		strbuf_addf(sb, "%s/%s", plan->base, plan->chunks[c].file);
	else
		strbuf_addf(sb, "%s/%s/%s", plan->workers[w].cw.dir,
		    plan->capture, plan->chunks[c].file);
}

/* Passes a slot's stderr on, line by line, prefixed with the chunk its
 * job works on; takes our own markers out. */
static void
take_stderr(struct runner *rn, struct slot *sl, const char *data, size_t len,
    int flush)
{
	size_t i, start = 0, chunk_mark = strlen(RUN_CHUNK_MARK);
	size_t done_mark = strlen(RUN_DONE_MARK);
	size_t started_mark = strlen(RUN_STARTED_MARK);
	size_t ready_mark = strlen(RUN_READY_MARK);
	size_t bad_mark = strlen(RUN_BAD_MARK);

	for (i = 0; i <= len; i++) {
		int end = i == len;
		const char *line;

		if (!end && data[i] != '\n')
			continue;
		if (sl->err_line.len < ERR_LINE_MAX)
			strbuf_add(&sl->err_line, data + start, i - start);
		start = i + 1;
		if (end && (!flush || sl->err_line.len == 0))
			break;
		line = sl->err_line.buf;
		if (!sl->started && strncmp(line, RUN_STARTED_MARK,
		    started_mark) == 0) {
			struct run_worker *rw = &rn->plan->workers[sl->worker];
			unsigned long cores = strtoul(line + started_mark, NULL, 10);

			/* "jobs = 0": as many slots as the worker has cores */
			sl->started = 1;
			if (rw->slots == 0)
				rw->slots = cores > 0 && cores < 4096 ?
				    (unsigned)cores : 1;
		} else if (sl->ready_at == 0 && strncmp(line, RUN_READY_MARK,
		    ready_mark) == 0) {
			sl->ready_at = monotonic_seconds() - rn->t0;
			sl->warm = strstr(line + ready_mark, "warm") != NULL;
		} else if (sl->busy && strncmp(line, RUN_CHUNK_MARK,
		    chunk_mark) == 0 && sl->n_fed < sl->n_batch) {
			sl->fed[sl->n_fed++] = monotonic_seconds() - rn->t0;
		} else if (strncmp(line, RUN_DONE_MARK, done_mark) == 0 &&
		    strncmp(line + done_mark + 1, rn->token,
		    rn->token_len) == 0) {
			if (sl->busy && strtoul(line + done_mark + 1 +
			    rn->token_len, NULL, 10) == sl->job_id)
				sl->got_err_end = 1;
		} else if (strncmp(line, RUN_BAD_MARK, bad_mark) == 0 &&
		    strncmp(line + bad_mark + 1, rn->token,
		    rn->token_len) == 0) {
			const char *p = line + bad_mark + 1 + rn->token_len;
			char *q;
			unsigned long id = strtoul(p, &q, 10), k;

			while (sl->busy && id == sl->job_id && q != p) {
				p = q;
				k = strtoul(p, &q, 10);
				if (q != p && k < sl->n_batch) {
					sl->bad[k] = 1;
					sl->bad_any = 1;
				}
			}
		} else if (sl->cancelled) {
			/* a killed job's last words are noise */
		} else {
			struct strbuf sb = STRBUF_INIT, named = STRBUF_INIT;
			size_t c = sl->busy ? sl->batch[sl->n_fed < sl->n_batch ?
			    sl->n_fed : sl->n_batch - 1] : (size_t)-1;
			const char *hit;

			if (c != (size_t)-1 && sl->placeholder != NULL &&
			    (hit = strstr(line, sl->placeholder)) != NULL) {
				/* a warm tool's child names the file it read */
				strbuf_add(&named, line, (size_t)(hit - line));
				chunk_path(&named, rn->plan, sl->worker, c);
				strbuf_addstr(&named,
				    hit + strlen(sl->placeholder));
				line = named.buf;
			}
			strbuf_reset(&sl->last_err);
			strbuf_addstr(&sl->last_err, line);
			if (c != (size_t)-1)
				strbuf_addf(&sb, "[%s %s] %s\n",
				    rn->plan->chunks[c].file,
				    rn->plan->workers[sl->worker].name, line);
			else
				strbuf_addf(&sb, "[%s] %s\n",
				    rn->plan->workers[sl->worker].name, line);
			(void)file_write_all(rn->opt->err_fd, sb.buf, sb.len);
			strbuf_release(&sb);
			strbuf_release(&named);
		}
		strbuf_reset(&sl->err_line);
	}
}

/* Output of a slot: everything up to the run's token is the job's; the
 * token's line says which job and its exit status. */
static int
take_stdout(struct runner *rn, struct slot *sl, const char *data, size_t len,
    struct sc_err *e)
{
	const char *hit, *nl;
	size_t keep;
	int r;

	if (!sl->busy || sl->got_out_end)
		return 0;       /* nothing may come between jobs */
	strbuf_add(&sl->scan, data, len);
	hit = memmem(sl->scan.buf, sl->scan.len, rn->token, rn->token_len);
	if (hit == NULL) {
		/* all but what could be the token's beginning is output */
		keep = rn->token_len - 1;
		if (sl->scan.len > keep) {
			size_t n = sl->scan.len - keep;

			if ((r = outbuf_add(&sl->out, sl->scan.buf, n, e)) != 0)
				return r;
			memmove(sl->scan.buf, sl->scan.buf + n, keep);
			strbuf_setlen(&sl->scan, keep);
		}
		return 0;
	}
	nl = memchr(hit, '\n', sl->scan.len - (size_t)(hit - sl->scan.buf));
	if (nl == NULL)
		return 0;       /* the rest of the token's line is coming */
	if (hit > sl->scan.buf && (r = outbuf_add(&sl->out, sl->scan.buf,
	    (size_t)(hit - sl->scan.buf), e)) != 0)
		return r;
	{
		unsigned id = 0;
		int status = -1;

		if (sscanf(hit + rn->token_len, " %u %d", &id, &status) == 2 &&
		    id == sl->job_id) {
			sl->status = status;
			sl->got_out_end = 1;
		}
	}
	strbuf_reset(&sl->scan);
	return 0;
}

static int
open_slot(struct runner *rn, size_t w, struct sc_err *e)
{
	struct run_plan *plan = rn->plan;
	struct slot *sl = xcalloc(1, sizeof(*sl));
	struct strbuf script = STRBUF_INIT, cmd = STRBUF_INIT;
	struct run_warm warm;
	unsigned silence = 0, number = ++rn->slots_opened;
	char *mark = NULL;

	sl->worker = w;
	sl->number = number;
	/* A local slot's stdin closes when shardcap goes, whatever the
	 * way; a remote one waits as long as ssh takes to give up on
	 * shardcap, at least three beats. */
	if (!plan->workers[w].cw.local) {
		silence = remote_silence(plan->cfg);
		/* the run's token without its prefix, and the slot's number:
		 * unique even where workers share a directory */
		mark = xasprintf("%s/.shardcap-slot-%s-%u",
		    plan->workers[w].cw.dir, rn->token + TOKEN_PREFIX_LEN,
		    number);
	}
	if (rn->opt->warm_lib != NULL) {
		sl->placeholder = xasprintf("%s/.shardcap-warm-%s-%u",
		    plan->base != NULL ? plan->base : plan->workers[w].cw.dir,
		    rn->token + TOKEN_PREFIX_LEN, number);
		add_command(&cmd, rn->opt, sl->placeholder);
		warm.lib = rn->opt->warm_lib;
		warm.placeholder = sl->placeholder;
		warm.command = cmd.buf + 1;     /* its leading space */
	}
	run_slot_script(&script, rn->token, silence, mark,
	    sl->placeholder != NULL ? &warm : NULL);
	strbuf_release(&cmd);
	free(mark);
	strvec_init(&sl->argv);
	remote_script_argv(&sl->argv, plan->cfg, &plan->workers[w].cw,
	    plan->control_dir, script.buf);
	strbuf_release(&script);
	child_init(&sl->child, sl->argv.v);
	sl->child.want_stdin = 1;
	strbuf_init(&sl->err_line);
	strbuf_init(&sl->last_err);
	strbuf_init(&sl->scan);
	outbuf_init(&sl->out, &rn->budget);
	if (child_start(&sl->child, e) != 0) {
		strvec_release(&sl->argv);
		free(sl->placeholder);
		free(sl);
		return SC_ERR_SYSTEM;
	}
	fcntl(sl->child.out_fd, F_SETFL, O_NONBLOCK);
	fcntl(sl->child.err_fd, F_SETFL, O_NONBLOCK);
	if (silence > 0) {
		beat_add(&rn->beat, sl->child.in_fd);
		sl->beating = 1;
	}
	ALLOC_GROW(rn->slots, rn->n_slots + 1, rn->alloc_slots);
	rn->slots[rn->n_slots++] = sl;
	rn->open_slots[w]++;
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

/* Sends a slot its next job: the chunks of batch. */
static int
send_job(struct runner *rn, struct slot *sl, const size_t *batch, size_t n)
{
	struct run_plan *plan = rn->plan;
	struct run_worker *rw = &plan->workers[sl->worker];
	struct strbuf job = STRBUF_INIT, line = STRBUF_INIT;
	char *paths[RUN_MAX_BATCH];
	uint64_t sizes[RUN_MAX_BATCH];
	size_t i;
	int r = 0;

	for (i = 0; i < n; i++) {
		const struct run_chunk *ch = &plan->chunks[batch[i]];
		struct strbuf path = STRBUF_INIT;

		chunk_path(&path, plan, sl->worker, batch[i]);
		paths[i] = strbuf_detach(&path, NULL);
		sizes[i] = ch->bytes;
		sl->batch[i] = batch[i];
		sl->bad[i] = 0;
	}
	sl->n_batch = n;
	sl->n_fed = 0;
	sl->bad_any = 0;
	sl->overdue = 0;
	sl->job_id = ++rn->next_job;
	run_job_script(&job, rn->opt, paths, sizes, n);
	for (i = 0; i < n; i++)
		free(paths[i]);
	strbuf_addstr(&line, "setsid sh -c ");
	shell_quote(&line, job.buf);
	strbuf_addf(&line, " job \"$T\" %u \"$z\" < /dev/null & p=$!\n",
	    sl->job_id);
	strbuf_release(&job);
	if (beat_write(&rn->beat, sl->child.in_fd, line.buf, line.len) < 0)
		r = -1;
	strbuf_release(&line);
	sl->busy = 1;
	sl->got_out_end = sl->got_err_end = 0;
	sl->status = -1;
	sl->start = monotonic_seconds() - rn->t0;
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

static int
holds(const struct run_chunk *c, size_t w)
{
	size_t k;

	for (k = 0; k < c->n_holders; k++)
		if (c->holders[k] == w)
			return 1;
	return 0;
}

static void
drop_holder(struct run_chunk *c, size_t w)
{
	size_t k;

	for (k = 0; k < c->n_holders; k++)
		if (c->holders[k] == w) {
			c->holders[k] = c->holders[--c->n_holders];
			return;
		}
}

/* A worker is lost for the rest of the run; the message says why. */
static void
worker_lost(struct runner *rn, size_t w, const char *why)
{
	struct run_worker *rw = &rn->plan->workers[w];

	if (rw->failed)
		return;
	rw->failed = 1;
	snprintf(rw->error, sizeof(rw->error), "%s", why);
	rn->res->failed_workers++;
}

/* A job's hold on its chunks ends without a result: those nobody else
 * runs wait again. */
static void
requeue(struct run_plan *plan, const size_t *batch, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct run_chunk *c = &plan->chunks[batch[i]];

		if (c->running > 0)
			c->running--;
		if (c->state == 1 && c->running == 0) {
			c->state = 0;
			c->again = 1;
		}
	}
}

static size_t
waiting_for(const struct runner *rn, size_t w)
{
	size_t i, n = 0;

	for (i = 0; i < rn->plan->n_chunks; i++)
		if (rn->plan->chunks[i].state == 0 &&
		    holds(&rn->plan->chunks[i], w))
			n++;
	return n;
}

/* A straggler's chunk that worker w may run too: its job is overdue, it
 * runs once, elsewhere. */
static int
speculable(const struct run_chunk *c, size_t w)
{
	return c->state == 1 && c->overdue && c->running == 1 &&
	    c->worker != w && holds(c, w);
}

static size_t
speculable_for(const struct runner *rn, size_t w)
{
	size_t i, n = 0;

	for (i = 0; i < rn->plan->n_chunks; i++)
		n += speculable(&rn->plan->chunks[i], w);
	return n;
}

/* The next chunks worker w runs, as one job: the first waiting ones it
 * holds, as many as the batch allows - fewer towards the end, so that
 * its last jobs are short and its slots finish together. The batch is
 * counted in bytes, that many of the capture's largest chunks: the
 * parts of a cut chunk share a stream as the chunk would have, not each
 * a start-up of the tool, and the memory a stream takes stays bounded
 * the same. With none waiting, a straggler's chunk, alone. */
static size_t
next_batch(struct runner *rn, size_t w, size_t *batch, int *spec)
{
	const struct run_worker *rw = &rn->plan->workers[w];
	size_t i, n = 0;
	unsigned b = rn->opt->stream_arg >= 0 && rn->opt->batch > 1 ?
	    rn->opt->batch : 1;
	uint64_t largest = 0, waiting = 0, want, taken = 0;

	*spec = 0;
	for (i = 0; i < rn->plan->n_chunks; i++) {
		const struct run_chunk *c = &rn->plan->chunks[i];

		if (c->bytes > largest)
			largest = c->bytes;
		if (c->state == 0 && holds(c, w))
			waiting += c->bytes;
	}
	/* this slot's share of what is left, at most the batch */
	want = (waiting + rw->slots - 1) / (rw->slots ? rw->slots : 1);
	if (want > b * largest)
		want = b * largest;
	for (i = 0; i < rn->plan->n_chunks && n < RUN_MAX_BATCH; i++) {
		const struct run_chunk *c = &rn->plan->chunks[i];

		if (c->state != 0 || !holds(c, w))
			continue;
		if (n > 0 && (b == 1 || taken + c->bytes > want))
			break;
		batch[n++] = i;
		taken += c->bytes;
	}
	for (i = 0; i < rn->plan->n_chunks && n == 0; i++)
		if (speculable(&rn->plan->chunks[i], w)) {
			batch[n++] = i;
			*spec = 1;
		}
	return n;
}

static int
usable_holder(const struct runner *rn, const struct run_chunk *c,
    size_t except)
{
	size_t k;

	for (k = 0; k < c->n_holders; k++)
		if (c->holders[k] != except &&
		    !rn->plan->workers[c->holders[k]].failed)
			return 1;
	return 0;
}

static int start_fetch(struct runner *rn, enum fetch_why why, size_t w,
    const size_t *chunks, size_t n, struct job_end *job, struct sc_err *e);

/*
 * Chunks that no usable worker holds - their workers failed, their copies
 * were bad - are copied from the store to the least loaded usable worker
 * (or given up, in an ad hoc run or when no worker can take them); a
 * straggler's chunk that only its own worker holds is copied to an idle
 * worker, to start it again there.
 */
static int
plan_fetches(struct runner *rn, struct sc_err *e)
{
	struct run_plan *plan = rn->plan;
	size_t W = plan->n_workers, i, w;
	size_t *wait = xcalloc(W + 1, sizeof(*wait));
	size_t **lists = xcalloc(W + 1, sizeof(*lists));
	size_t *n_list = xcalloc(W + 1, sizeof(*n_list));
	size_t *alloc_list = xcalloc(W + 1, sizeof(*alloc_list));
	int r = 0, computed = 0;

	for (i = 0; i < plan->n_chunks; i++) {
		struct run_chunk *c = &plan->chunks[i];
		size_t best = W;
		double best_load = 0;
		int lost = c->state == 0 && !c->fetching &&
		    !usable_holder(rn, c, W);
		int straggler = c->state == 1 && c->overdue &&
		    c->running == 1 && !c->fetching &&
		    !usable_holder(rn, c, c->worker);

		if (!lost && !(straggler && plan->store != NULL))
			continue;
		if (!computed) {
			for (w = 0; w < W; w++)
				wait[w] = waiting_for(rn, w);
			computed = 1;
		}
		for (w = 0; w < W && plan->store != NULL; w++) {
			const struct run_worker *rw = &plan->workers[w];
			unsigned slots = rw->slots ? rw->slots : 1;
			double load = (double)(wait[w] + rw->busy +
			    n_list[w]) / slots;

			if (rw->failed || c->copy[w] == RUN_COPY_UNFIT)
				continue;
			if (straggler && (w == c->worker || wait[w] > 0 ||
			    n_list[w] > 0 || rw->busy >= slots))
				continue;
			/* a bad copy is made sound where it is */
			if (lost && c->copy[w] == RUN_COPY_BAD) {
				best = w;
				break;
			}
			if (best == W || load < best_load) {
				best = w;
				best_load = load;
			}
		}
		if (best == W) {
			if (lost) {
				c->state = 3;
				c->exit_code = -1;
				rn->res->lost_chunks++;
			}
			continue;
		}
		ALLOC_GROW(lists[best], n_list[best] + 1, alloc_list[best]);
		lists[best][n_list[best]++] = i;
		c->fetching = 1;
		c->again |= lost;
	}
	for (w = 0; w < W; w++) {
		if (n_list[w] > 0 && r == 0 &&
		    (r = start_fetch(rn, FETCH_RESCUE, w, lists[w], n_list[w],
		    NULL, e)) != 0) {
			/* could not even start: that worker will not do */
			for (i = 0; i < n_list[w]; i++) {
				plan->chunks[lists[w][i]].fetching = 0;
				plan->chunks[lists[w][i]].copy[w] =
				    RUN_COPY_UNFIT;
			}
			r = 0;
		}
		free(lists[w]);
	}
	free(lists);
	free(n_list);
	free(alloc_list);
	free(wait);
	return r;
}

/* Keeps every worker's slots busy: opens slots where there is work for
 * them, gives idle ones their next job, lets those without one go. */
static int
assign(struct runner *rn, struct sc_err *e)
{
	size_t w, i, batch[RUN_MAX_BATCH], n;
	int r, spec;

	if ((r = plan_fetches(rn, e)) != 0)
		return r;
	for (w = 0; w < rn->plan->n_workers && !rn->stopping; w++) {
		struct run_worker *rw = &rn->plan->workers[w];
		size_t waiting = rw->failed ? 0 : waiting_for(rn, w);

		/* A worker whose cores are not known yet gets one slot: its
		 * answer says how many, and it has opened the worker's
		 * control connection for the others by then. */
		unsigned want = rw->slots ? rw->slots : 1;

		if (waiting == 0 && !rw->failed)
			waiting = speculable_for(rn, w) > 0;
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

		if (sl->busy || sl->closed)
			continue;
		if (!rn->stopping && !rn->plan->workers[sl->worker].failed &&
		    (n = next_batch(rn, sl->worker, batch, &spec)) > 0) {
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

/*
 * The first chunk of a stream also paid the tool's start-up, which the
 * stream as a whole costs: a chunk moved elsewhere takes its own work and
 * its share of a start-up with it, not the whole. The first chunk's own
 * work is taken as that of the others per byte; what it took beyond that
 * is the start-up, shared out equally. The batch's total is unchanged.
 */
static void
spread_startup(struct run_plan *plan, const size_t *batch, size_t n)
{
	struct run_chunk *first = &plan->chunks[batch[0]];
	double rest = 0, rest_bytes = 0, own, startup;
	size_t i;

	if (n < 2)
		return;
	for (i = 1; i < n; i++) {
		rest += plan->chunks[batch[i]].wall;
		rest_bytes += (double)plan->chunks[batch[i]].bytes;
	}
	if (rest_bytes <= 0)
		return;
	own = rest * (double)first->bytes / rest_bytes;
	if (own >= first->wall)
		return;
	startup = first->wall - own;
	first->wall = own;
	for (i = 0; i < n; i++) {
		struct run_chunk *ch = &plan->chunks[batch[i]];

		ch->wall += startup / (double)n;
		if (i > 0)
			ch->start = plan->chunks[batch[i - 1]].start +
			    plan->chunks[batch[i - 1]].wall;
	}
}

static int
cmp_slot_start(const void *a, const void *b)
{
	const struct run_chunk *x = *(const struct run_chunk *const *)a;
	const struct run_chunk *y = *(const struct run_chunk *const *)b;

	if (x->slot != y->slot)
		return x->slot < y->slot ? -1 : 1;
	return x->start < y->start ? -1 : x->start > y->start;
}

/*
 * A slot's set-up - ssh, its shell, a warm tool's start - is paid once by
 * the slot, whatever chunks it runs, but its first job waited for it. It
 * is shared out equally among the chunks the slot ran, so that a chunk
 * balancing moves away takes its share with it, not the whole. Each
 * slot's chunks keep their order and the gaps between them, the first
 * starting when its job was sent: the last one ends when it did, and
 * the worker's total is unchanged.
 */
static void
spread_setup(struct run_plan *plan)
{
	struct run_chunk **by = xcalloc(plan->n_chunks + 1, sizeof(*by));
	size_t n = 0, i, k, m;

	for (i = 0; i < plan->n_chunks; i++)
		if (plan->chunks[i].state == 2)
			by[n++] = &plan->chunks[i];
	qsort(by, n, sizeof(*by), cmp_slot_start);
	for (i = 0; i < n; i = m) {
		double setup = 0, share, at, end = 0;

		for (m = i; m < n && by[m]->slot == by[i]->slot; m++)
			setup += by[m]->setup;
		if (setup <= 0)
			continue;
		share = setup / (double)(m - i);
		at = by[i]->start - setup;
		for (k = i; k < m; k++) {
			if (k > i && by[k]->start > end)
				at += by[k]->start - end;   /* the gap before it */
			end = by[k]->start + by[k]->wall;
			by[k]->start = at;
			by[k]->wall += share;
			by[k]->setup = 0;
			at += by[k]->wall;
		}
	}
	free(by);
}

/* Takes a job that ended off its slot: its chunks, times and output. */
static struct job_end *
detach_job(struct runner *rn, struct slot *sl)
{
	struct job_end *j = xcalloc(1, sizeof(*j));

	j->worker = sl->worker;
	j->slot = sl->number;
	j->warm = sl->warm;
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
	rn->plan->workers[sl->worker].busy--;
	sl->busy = 0;
	return j;
}

static void
drop_job(struct job_end *j)
{
	outbuf_release(&j->out);
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
		requeue(rn->plan, sl->batch, sl->n_batch);
		outbuf_release(&sl->out);
		outbuf_init(&sl->out, &rn->budget);
	}
	sl->cancelled = 1;
	close_slot_input(rn, sl);
}

static double
median_per_byte(struct runner *rn)
{
	if (rn->median_of != rn->n_per_byte) {
		double *v = xcalloc(rn->n_per_byte + 1, sizeof(*v));
		size_t n = rn->n_per_byte;

		memcpy(v, rn->per_byte, n * sizeof(*v));
		rn->median = sort_median(v, n);
		rn->median_of = n;
		free(v);
	}
	return rn->median;
}

/* How long a job of these chunks may run before it is a straggler; 0: no
 * limit (yet). */
static double
job_limit(struct runner *rn, const struct slot *sl)
{
	double bytes = 0, limit;
	size_t i;

	if (rn->opt->timeout > 0)
		return rn->opt->timeout * (double)sl->n_batch;
	if (rn->opt->timeout_factor <= 0 || rn->n_per_byte < 3)
		return 0;
	for (i = 0; i < sl->n_batch; i++)
		bytes += (double)rn->plan->chunks[sl->batch[i]].bytes;
	limit = rn->opt->timeout_factor * median_per_byte(rn) * bytes;
	return limit < RUN_MIN_STRAGGLER ? RUN_MIN_STRAGGLER : limit;
}

/* Marks the jobs running past their limit: their chunks may start again
 * on another worker. */
static void
find_stragglers(struct runner *rn)
{
	double now = monotonic_seconds() - rn->t0;
	size_t i, k;

	if (rn->opt->timeout <= 0 && rn->opt->timeout_factor <= 0)
		return;
	for (i = 0; i < rn->n_slots; i++) {
		struct slot *sl = rn->slots[i];
		double limit;

		if (!sl->busy || sl->overdue || sl->cancelled)
			continue;
		limit = job_limit(rn, sl);
		if (limit <= 0 || now - sl->start <= limit)
			continue;
		sl->overdue = 1;
		rn->res->stragglers++;
		for (k = 0; k < sl->n_batch; k++)
			rn->plan->chunks[sl->batch[k]].overdue = 1;
		{
			struct strbuf sb = STRBUF_INIT;

			strbuf_addf(&sb, "[%s %s] running for %.1f s, past its "
			    "%.1f s: a straggler; it may start again on "
			    "another worker\n",
			    rn->plan->chunks[sl->batch[0]].file,
			    rn->plan->workers[sl->worker].name,
			    now - sl->start, limit);
			(void)file_write_all(rn->opt->err_fd, sb.buf, sb.len);
			strbuf_release(&sb);
		}
	}
}

/* A job's result stands: its chunks are done, its output goes out, any
 * other run of its chunks is killed. */
static int
job_complete(struct runner *rn, struct job_end *j)
{
	struct run_plan *plan = rn->plan;
	struct run_worker *rw = &plan->workers[j->worker];
	double prev = j->start, setup = 0;
	size_t i, k, m, first = j->batch[0];
	int r = 0;

	/* won by another run meanwhile: this output would repeat it */
	for (i = 0; i < j->n_batch; i++)
		if (plan->chunks[j->batch[i]].state == 2) {
			requeue(plan, j->batch, j->n_batch);
			drop_job(j);
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
		prev = until;
		rw->chunks_done++;
	}
	/* a warm tool's children start nothing: each chunk's time is its own */
	if (!j->warm)
		spread_startup(plan, j->batch, j->n_batch);
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
	free(j);
	return r;
}

/* A slot's job has ended (its output and stderr both marked). */
static int
finish_job(struct runner *rn, struct slot *sl, struct sc_err *e)
{
	struct run_plan *plan = rn->plan;
	struct job_end *j = detach_job(rn, sl);
	size_t i;

	/* Its shell on the worker forgets the job's pid: it has ended (its
	 * ends were the job's last words), and a pid the worker may give
	 * to another process must not be killed when the slot ends. */
	if (sl->child.in_fd >= 0 && !sl->closed)
		(void)beat_write(&rn->beat, sl->child.in_fd, "p=\n", 3);
	if (sl->bad_any) {
		/* a copy missing or cut: the command did not run; that
		 * worker's copy is not used again, the chunks wait for
		 * another (or a fresh copy from the store) */
		for (i = 0; i < j->n_batch; i++) {
			struct run_chunk *c = &plan->chunks[j->batch[i]];

			if (!sl->bad[i])
				continue;
			drop_holder(c, j->worker);
			c->copy[j->worker] = RUN_COPY_BAD;
			rn->res->bad_copies++;
		}
		requeue(plan, j->batch, j->n_batch);
		drop_job(j);
		return 0;
	}
	/* A job that failed may have read a damaged copy of the right
	 * size: its copies are checked against the store before its
	 * failure stands - unless failures so far were the command's own. */
	if (j->status != 0 && plan->store != NULL && !rn->stopping &&
	    (rn->checks_bad > 0 || rn->checks_sound < RUN_CHECKS_SOUND) &&
	    start_fetch(rn, FETCH_CHECK, j->worker, j->batch, j->n_batch, j,
	    e) == 0)
		return 0;
	return job_complete(rn, j);
}

/* A slot whose shell has gone: if it never answered with ssh's 255, or
 * went in the middle of a job, its worker is lost for this run and the
 * chunks it was working on wait for another worker holding them. */
static void
slot_gone(struct runner *rn, struct slot *sl)
{
	struct run_worker *rw = &rn->plan->workers[sl->worker];
	int code = child_exit_code(&sl->child);

	take_stderr(rn, sl, "", 0, 1);
	if (sl->busy && !rn->stopping && !sl->cancelled) {
		char why[400];

		if (!sl->started)
			snprintf(why, sizeof(why), "%s", sl->last_err.len ?
			    sl->last_err.buf : "ssh failed");
		else
			snprintf(why, sizeof(why), "the connection went during "
			    "a job (exit %d)%s%s", code, sl->last_err.len ?
			    ": " : "", sl->last_err.buf);
		worker_lost(rn, sl->worker, why);
	}
	if (sl->busy) {
		rw->busy--;
		sl->busy = 0;
		requeue(rn->plan, sl->batch, sl->n_batch);
	}
	rn->open_slots[sl->worker]--;
	outbuf_release(&sl->out);
	close_slot_input(rn, sl);
	child_release(&sl->child);
	strvec_release(&sl->argv);
	strbuf_release(&sl->err_line);
	strbuf_release(&sl->last_err);
	strbuf_release(&sl->scan);
	free(sl->placeholder);
}

/* --- copies from the store during a run --- */

static void
on_fetch_line(struct child *c, const char *line, void *ctx)
{
	struct fetch *f = ctx;

	(void)c;
	(void)remote_sent_add(&f->sent, line, NULL);
}

static int
start_fetch(struct runner *rn, enum fetch_why why, size_t w,
    const size_t *chunks, size_t n, struct job_end *job, struct sc_err *e)
{
	static const char *const checksum[] = { "-c", NULL };
	struct run_plan *plan = rn->plan;
	struct fetch *f = xcalloc(1, sizeof(*f));
	size_t i;

	f->why = why;
	f->worker = w;
	f->chunks = xcalloc(n + 1, sizeof(*f->chunks));
	memcpy(f->chunks, chunks, n * sizeof(*chunks));
	f->n = n;
	f->job = job;
	strbuf_init(&f->list);
	for (i = 0; i < n; i++) {
		strbuf_addstr(&f->list, plan->chunks[chunks[i]].file);
		strbuf_addch(&f->list, '\0');
	}
	strvec_init(&f->argv);
	/* (the plan's workers are the config's, in its order) */
	if (!plan->workers[w].cw.local && w < plan->cfg->n_workers) {
		if (rn->beacons == NULL)
			rn->beacons = xcalloc(plan->n_workers + 1,
			    sizeof(*rn->beacons));
		if (rn->beacons[w] == NULL) {
			unsigned char *want = xcalloc(plan->cfg->n_workers + 1,
			    1);

			want[w] = 1;
			rn->beacons[w] = beacon_start(plan->cfg,
			    plan->control_dir, want, &rn->beat);
			free(want);
		}
	}
	if (remote_rsync_argv(&f->argv, plan->cfg, &plan->workers[w].cw,
	    plan->control_dir, plan->store, "-", plan->capture, checksum,
	    rn->beacons != NULL ? run_beacon_mark(rn->beacons[w], w) : NULL,
	    e) != 0)
		goto fail;
	child_init(&f->child, f->argv.v);
	f->child.want_stdin = 1;
	f->child.on_line = on_fetch_line;
	f->child.ctx = f;
	if (child_start(&f->child, e) != 0)
		goto fail;
	/* the list is short; rsync reads it first */
	if (file_write_all(f->child.in_fd, f->list.buf, f->list.len) < 0)
		child_signal(&f->child, SIGTERM);
	close(f->child.in_fd);
	f->child.in_fd = -1;
	ALLOC_GROW(rn->fetches, rn->n_fetches + 1, rn->alloc_fetches);
	rn->fetches[rn->n_fetches++] = f;
	return 0;
fail:
	strvec_release(&f->argv);
	strbuf_release(&f->list);
	free(f->chunks);
	free(f);
	return SC_ERR_WORKER;
}

static void
fetch_release(struct fetch *f)
{
	child_release(&f->child);
	strvec_release(&f->argv);
	strbuf_release(&f->list);
	remote_sent_release(&f->sent);
	free(f->chunks);
	if (f->job != NULL)
		drop_job(f->job);
	free(f);
}

/* A copy from the store has ended. */
static int
fetch_done(struct runner *rn, struct fetch *f)
{
	struct run_plan *plan = rn->plan;
	int code = child_exit_code(&f->child), r = 0;
	size_t i, bad = 0;

	if (f->why == FETCH_RESCUE) {
		for (i = 0; i < f->n; i++) {
			struct run_chunk *c = &plan->chunks[f->chunks[i]];

			c->fetching = 0;
			if (code != 0) {
				c->copy[f->worker] = RUN_COPY_UNFIT;
				continue;
			}
			if (!holds(c, f->worker))
				c->holders[c->n_holders++] = f->worker;
			c->copy[f->worker] = RUN_COPY_FETCHED;
			rn->res->fetched++;
		}
	} else if (code == 0) {
		for (i = 0; i < f->n; i++) {
			struct run_chunk *c = &plan->chunks[f->chunks[i]];

			if (!remote_sent_has(&f->sent, c->file))
				continue;
			/* it was damaged; it is sound now */
			c->copy[f->worker] = RUN_COPY_FETCHED;
			rn->res->bad_copies++;
			bad++;
		}
		if (bad > 0) {
			rn->checks_bad++;
			requeue(plan, f->job->batch, f->job->n_batch);
			drop_job(f->job);
		} else {
			rn->checks_sound++;
			r = job_complete(rn, f->job);
		}
		f->job = NULL;
	} else {
		/* could not check: the failure stands */
		r = job_complete(rn, f->job);
		f->job = NULL;
	}
	if (code == 255)
		worker_lost(rn, f->worker, *child_last_error(&f->child) ?
		    child_last_error(&f->child) : "ssh failed");
	else if (code != 0) {
		struct strbuf sb = STRBUF_INIT;

		strbuf_addf(&sb, "[%s] copying %zu chunk%s from the store "
		    "failed (rsync exit %d): %s\n", plan->workers[f->worker].name,
		    f->n, f->n == 1 ? "" : "s", code,
		    child_last_error(&f->child));
		(void)file_write_all(rn->opt->err_fd, sb.buf, sb.len);
		strbuf_release(&sb);
	}
	return r;
}

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
		if ((r = take_stdout(rn, sl, buf, (size_t)n, e)) != 0)
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
		take_stderr(rn, sl, buf, (size_t)n, 0);
	}
	return 0;
}

/* A random token: TOKEN_PREFIX and 32 hex digits (out: 48 bytes). */
static void
token_fill(char *out)
{
	unsigned char raw[16];
	size_t i;
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

	if (fd < 0 || read(fd, raw, sizeof(raw)) != (ssize_t)sizeof(raw)) {
		/* the clock and pid will do where urandom cannot */
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		for (i = 0; i < sizeof(raw); i++)
			raw[i] = (unsigned char)((uint64_t)ts.tv_nsec >> (i % 4 * 8) ^
			    (unsigned)getpid() >> (i % 2 * 8) ^ i * 37);
	}
	if (fd >= 0)
		close(fd);
	memcpy(out, TOKEN_PREFIX, TOKEN_PREFIX_LEN);
	for (i = 0; i < sizeof(raw); i++)
		snprintf(out + TOKEN_PREFIX_LEN + 2 * i, 3, "%02x", raw[i]);
}

static void
make_token(struct runner *rn)
{
	token_fill(rn->token);
	rn->token_len = strlen(rn->token);
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
	rn.plan = plan;
	rn.opt = opt;
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
			find_stragglers(&rn);
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
	if (r == 0 && rn.pcap_bad)
		r = sc_err_set(e, SC_ERR_USAGE, "cannot merge the captures: %s",
		    rn.pcap_msg);
	/* what did not run: given up (or stopped) */
	for (i = 0; i < plan->n_chunks; i++) {
		struct run_chunk *c = &plan->chunks[i];

		if (c->state == 0 || c->state == 1) {
			c->state = 3;
			c->exit_code = -1;
			if (!rn.stopping)
				res->lost_chunks++;
		}
		if (c->state == 2 && c->again)
			res->again_chunks++;
	}
	spread_setup(plan);
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
	free(rn.open_slots);
	free(rn.slots);
	free(rn.fetches);
	free(rn.per_byte);
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
out:
	strbuf_release(&cmd);
	return r;
}

/* A beacon's slot on one worker. */
struct beacon_slot {
	struct strvec argv;
	struct child child;
	char *mark;             /* NULL: none on this worker */
};

struct run_beacon {
	struct beat own;
	struct beat *beat;      /* &own, or a run's */
	struct beacon_slot *w;  /* per configured worker */
	size_t n;
};

/* A beacon beaten by its own thread, or by shared's (a run's: paused
 * with the run's slots over Ctrl-Z). */
static struct run_beacon *
beacon_start(const struct config *cfg, const char *control_dir,
    const unsigned char *want, struct beat *shared)
{
	struct run_beacon *b;
	unsigned silence = remote_silence(cfg);
	char token[48];
	size_t i;

	/* a local copy has no link to lose: none wanted, no thread */
	for (i = 0; i < cfg->n_workers; i++)
		if (want[i] && !cfg->workers[i].local)
			break;
	if (i == cfg->n_workers)
		return NULL;
	b = xcalloc(1, sizeof(*b));
	token_fill(token);
	b->n = cfg->n_workers;
	b->w = xcalloc(b->n + 1, sizeof(*b->w));
	b->beat = shared != NULL ? shared : &b->own;
	if (shared == NULL)
		beat_start(&b->own);
	for (i = 0; i < b->n; i++) {
		const struct config_worker *cw = &cfg->workers[i];
		struct beacon_slot *bs = &b->w[i];
		struct strbuf script = STRBUF_INIT;
		struct sc_err e;

		strvec_init(&bs->argv);
		child_init(&bs->child, NULL);
		/* without the beat thread a beacon would end by itself */
		if (!want[i] || cw->local || !b->beat->running)
			continue;
		bs->mark = xasprintf("%s/.shardcap-copy-%s", cw->dir,
		    token + TOKEN_PREFIX_LEN);
		run_slot_script(&script, token, silence, bs->mark, NULL);
		remote_script_argv(&bs->argv, cfg, cw, control_dir, script.buf);
		strbuf_release(&script);
		child_init(&bs->child, bs->argv.v);
		bs->child.want_stdin = 1;
		if (child_start(&bs->child, &e) != 0) {
			/* the copies go unwatched, as before beacons */
			free(bs->mark);
			bs->mark = NULL;
			continue;
		}
		beat_add(b->beat, bs->child.in_fd);
	}
	return b;
}

struct run_beacon *
run_beacon_start(const struct config *cfg, const char *control_dir,
    const unsigned char *want)
{
	return beacon_start(cfg, control_dir, want, NULL);
}

const char *
run_beacon_mark(const struct run_beacon *b, size_t worker)
{
	return b != NULL && worker < b->n ? b->w[worker].mark : NULL;
}

void
run_beacon_stop(struct run_beacon *b)
{
	struct child **left;
	size_t i, n_left = 0;
	double until = monotonic_seconds() + 1;
	struct sc_err e;

	if (b == NULL)
		return;
	/* stdin closed, each slot removes its mark and ends */
	for (i = 0; i < b->n; i++) {
		struct child *c = &b->w[i].child;

		if (b->w[i].mark != NULL && c->in_fd >= 0) {
			beat_remove(b->beat, c->in_fd);
			close(c->in_fd);
			c->in_fd = -1;
		}
	}
	if (b->beat == &b->own)
		beat_stop(&b->own);
	/* one that has not ended within a second (its link cut) is not
	 * waited for: its ssh is stopped, its worker's watchdog does the
	 * rest */
	left = xcalloc(b->n + 1, sizeof(*left));
	for (;;) {
		n_left = 0;
		for (i = 0; i < b->n; i++)
			if (b->w[i].mark != NULL && !child_reap(&b->w[i].child))
				left[n_left++] = &b->w[i].child;
		if (n_left == 0 || monotonic_seconds() >= until)
			break;
		(void)poll(NULL, 0, 20);
	}
	for (i = 0; i < n_left; i++)
		child_signal(left[i], SIGTERM);
	if (n_left > 0)
		(void)child_wait_all(left, n_left, NULL, &e);
	for (i = 0; i < b->n; i++) {
		if (b->w[i].mark != NULL)
			child_release(&b->w[i].child);
		strvec_release(&b->w[i].argv);
		free(b->w[i].mark);
	}
	free(left);
	free(b->w);
	free(b);
}
