/* beat.h - the coordinator's heartbeat: a thread that writes an empty
 * line to every slot's stdin each RUN_BEAT_MS, so that a slot's watchdog
 * (slot.h) can tell a silent coordinator from a busy one, and that
 * handles job control (Ctrl-Z: the slots told to pause first). And
 * beacons, which use it to watch the copies to remote workers. */
#ifndef SHARDCAP_BEAT_H
#define SHARDCAP_BEAT_H

#include <pthread.h>
#include <signal.h>
#include <stddef.h>

#include "config.h"

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

/* Starts the thread; the first beat started handles job control until it
 * stops. Without the thread (b->running 0) nothing is beaten. */
void beat_start(struct beat *b);
void beat_stop(struct beat *b);
/* fd (a slot's stdin) gets the beats from now on. */
void beat_add(struct beat *b, int fd);
/* fd gets no more beats (it is about to be closed). */
void beat_remove(struct beat *b, int fd);
/* Writes len bytes to fd (a slot's stdin) whole, never inside a beat. */
int beat_write(struct beat *b, int fd, const char *p, size_t len);

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
/* A beacon beaten by shared's thread (a run's: paused with the run's
 * slots over Ctrl-Z), or by a thread of its own when shared is NULL. */
struct run_beacon *run_beacon_start_shared(const struct config *cfg,
    const char *control_dir, const unsigned char *want, struct beat *shared);

#endif
