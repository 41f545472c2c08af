/* beat.c - the coordinator's heartbeat to its slots on the workers, and
 * beacons: slots with no job that watch copies. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "beat.h"
#include "child.h"
#include "file.h"
#include "remote.h"
#include "slot.h"
#include "strvec.h"
#include "util.h"
#include "xalloc.h"
#include "banned.h"

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

void
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

void
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

void
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

void
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

int
beat_write(struct beat *b, int fd, const char *p, size_t len)
{
	int r;

	pthread_mutex_lock(&b->mu);
	r = file_write_all(fd, p, len);
	pthread_mutex_unlock(&b->mu);
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
struct run_beacon *
run_beacon_start_shared(const struct config *cfg, const char *control_dir,
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
	agent_ensure(cfg, control_dir, want);
	b = xcalloc(1, sizeof(*b));
	run_token_fill(token);
	b->n = cfg->n_workers;
	b->w = xcalloc(b->n + 1, sizeof(*b->w));
	b->beat = shared != NULL ? shared : &b->own;
	if (shared == NULL)
		beat_start(&b->own);
	for (i = 0; i < b->n; i++) {
		const struct config_worker *cw = &cfg->workers[i];
		struct beacon_slot *bs = &b->w[i];
		struct strvec args = STRVEC_INIT;
		struct sc_err e;

		strvec_init(&bs->argv);
		child_init(&bs->child, NULL);
		/* without the beat thread a beacon would end by itself */
		if (!want[i] || cw->local || !b->beat->running)
			continue;
		bs->mark = xasprintf("%s/.shardcap-copy-%s", cw->dir,
		    token + TOKEN_PREFIX_LEN);
		run_slot_args(&args, silence, bs->mark, NULL, NULL, NULL);
		if (agent_argv(&bs->argv, cfg, cw, control_dir, 0, "slot",
		    (const char *const *)args.v, args.n, &e) != 0) {
			strvec_release(&args);
			free(bs->mark);
			bs->mark = NULL;
			continue;
		}
		strvec_release(&args);
		child_init(&bs->child, bs->argv.v);
		bs->child.want_stdin = 1;
		if (child_start(&bs->child, &e) != 0) {
			/* the copies go unwatched, as before beacons */
			free(bs->mark);
			bs->mark = NULL;
			continue;
		}
		run_slot_token(bs->child.in_fd, token);
		beat_add(b->beat, bs->child.in_fd);
	}
	return b;
}

struct run_beacon *
run_beacon_start(const struct config *cfg, const char *control_dir,
    const unsigned char *want)
{
	return run_beacon_start_shared(cfg, control_dir, want, NULL);
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
