/* child.h - running other programs: rsync, ssh, sh.
 *
 * A child is started from an argv with posix_spawn, in a process group of
 * its own (so that it and everything it starts can be stopped at once),
 * with signals as a fresh process has them, standard input from
 * /dev/null (or a pipe, kept open, with want_stdin) and its output on
 * pipes. child_wait_all runs one poll() loop
 * over all children until every one has exited: it hands complete lines
 * of standard output to a callback and keeps the last few kilobytes of
 * standard error for the message if the child fails. */
#ifndef SHARDCAP_CHILD_H
#define SHARDCAP_CHILD_H

#include <poll.h>
#include <signal.h>
#include <sys/types.h>

#include "error.h"
#include "strbuf.h"

#define CHILD_ERR_TAIL 4096     /* bytes of stderr kept */
#define CHILD_LINE_MAX 65536    /* longer stdout lines are cut */

struct child {
	char *const *argv;      /* not owned; must outlive the child */
	/* called with each line of stdout, without its newline */
	void (*on_line)(struct child *c, const char *line, void *ctx);
	void *ctx;

	int want_stdin;         /* give it a pipe as stdin, kept in in_fd */

	pid_t pid;
	int in_fd, out_fd, err_fd;
	int exited;
	int status;             /* as waitpid gives it */
	struct strbuf out_line; /* a line being read */
	struct strbuf err_tail; /* the end of stderr */
};

void child_init(struct child *c, char *const *argv);
void child_release(struct child *c);
/* Starts c. Returns 0, or SC_ERR_SYSTEM (e says why: not found, ...). */
int child_start(struct child *c, struct sc_err *e);
/* Waits for all n children, reading their output. If *interrupted (not
 * NULL) becomes set, the children's process groups get SIGTERM (and
 * SIGKILL two seconds later) and SC_ERR_INTERRUPTED is returned once they
 * are gone. Returns 0 otherwise, whatever the children's exit statuses. */
int child_wait_all(struct child **cs, size_t n,
    volatile sig_atomic_t *interrupted, struct sc_err *e);
/* For a caller's own poll loop: adds c's open pipes to pfd (room for two)
 * and returns how many; after poll(), child_service reads what the n
 * entries of pfd say is ready for c. */
size_t child_pollfds(const struct child *c, struct pollfd *pfd);
void child_service(struct child *c, const struct pollfd *pfd, size_t n);
/* Collects the child's exit status if it has exited (never waits).
 * Returns 1 once it has. */
int child_reap(struct child *c);
/* Sends sig to the child's process group. */
void child_signal(struct child *c, int sig);
/* 0 for success, the exit code, or 128 + the signal that ended it. */
int child_exit_code(const struct child *c);
/* The last non-empty line of the child's stderr, or "" (owned by c). */
const char *child_last_error(struct child *c);

#endif
