/* child.c - running other programs. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "xalloc.h"
#include "banned.h"

extern char **environ;

void
child_init(struct child *c, char *const *argv)
{
	memset(c, 0, sizeof(*c));
	c->argv = argv;
	c->pid = -1;
	c->in_fd = c->out_fd = c->err_fd = -1;
	strbuf_init(&c->out_line);
	strbuf_init(&c->err_tail);
}

void
child_release(struct child *c)
{
	if (c->in_fd >= 0)
		close(c->in_fd);
	if (c->out_fd >= 0)
		close(c->out_fd);
	if (c->err_fd >= 0)
		close(c->err_fd);
	strbuf_release(&c->out_line);
	strbuf_release(&c->err_tail);
	c->in_fd = c->out_fd = c->err_fd = -1;
}

int
child_start(struct child *c, struct sc_err *e)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, dfl;
	int in[2] = { -1, -1 }, out[2], err[2], r;

	if (c->want_stdin && pipe2(in, O_CLOEXEC) < 0)
		return sc_err_sys(e, "cannot make a pipe");
	if (pipe2(out, O_CLOEXEC) < 0) {
		r = sc_err_sys(e, "cannot make a pipe");
		goto close_in;
	}
	if (pipe2(err, O_CLOEXEC) < 0) {
		r = sc_err_sys(e, "cannot make a pipe");
		close(out[0]);
		close(out[1]);
		goto close_in;
	}
	posix_spawn_file_actions_init(&fa);
	if (c->want_stdin)
		posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	else
		posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, err[1], 2);
	posix_spawnattr_init(&at);
	/* A fresh process's signals: nothing blocked, nothing ignored (we
	 * ignore SIGPIPE ourselves; a child must not inherit that). */
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	sigaddset(&dfl, SIGINT);
	sigaddset(&dfl, SIGTERM);
	sigaddset(&dfl, SIGHUP);
	sigaddset(&dfl, SIGQUIT);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &dfl);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK |
	    POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
	r = posix_spawnp(&c->pid, c->argv[0], &fa, &at, c->argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(out[1]);
	close(err[1]);
	if (in[0] >= 0)
		close(in[0]);
	if (r != 0) {
		close(out[0]);
		close(err[0]);
		if (in[1] >= 0)
			close(in[1]);
		errno = r;
		return sc_err_sys(e, "cannot run '%s'", c->argv[0]);
	}
	c->in_fd = in[1];
	c->out_fd = out[0];
	c->err_fd = err[0];
	return 0;
close_in:
	if (in[0] >= 0) {
		close(in[0]);
		close(in[1]);
	}
	return r;
}

static void
take_output(struct child *c, const char *buf, size_t n)
{
	size_t i, start = 0;

	for (i = 0; i < n; i++) {
		if (buf[i] != '\n')
			continue;
		if (c->out_line.len < CHILD_LINE_MAX)
			strbuf_add(&c->out_line, buf + start, i - start);
		if (c->on_line != NULL)
			c->on_line(c, c->out_line.buf, c->ctx);
		strbuf_reset(&c->out_line);
		start = i + 1;
	}
	if (start < n && c->out_line.len < CHILD_LINE_MAX)
		strbuf_add(&c->out_line, buf + start, n - start);
}

static void
take_error(struct child *c, const char *buf, size_t n)
{
	strbuf_add(&c->err_tail, buf, n);
	if (c->err_tail.len > CHILD_ERR_TAIL) {
		size_t drop = c->err_tail.len - CHILD_ERR_TAIL;

		memmove(c->err_tail.buf, c->err_tail.buf + drop,
		    c->err_tail.len - drop);
		c->err_tail.len -= drop;
		c->err_tail.buf[c->err_tail.len] = '\0';
	}
}

/* Reads what is there on fd; closes it at the end. */
static void
drain(struct child *c, int *fd, int is_err)
{
	char buf[65536];
	ssize_t n = read(*fd, buf, sizeof(buf));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		close(*fd);
		*fd = -1;
		if (!is_err && c->out_line.len > 0) {
			if (c->on_line != NULL)
				c->on_line(c, c->out_line.buf, c->ctx);
			strbuf_reset(&c->out_line);
		}
		return;
	}
	if (is_err)
		take_error(c, buf, (size_t)n);
	else
		take_output(c, buf, (size_t)n);
}

size_t
child_pollfds(const struct child *c, struct pollfd *pfd)
{
	size_t k = 0;

	if (c->out_fd >= 0) {
		pfd[k].fd = c->out_fd;
		pfd[k++].events = POLLIN;
	}
	if (c->err_fd >= 0) {
		pfd[k].fd = c->err_fd;
		pfd[k++].events = POLLIN;
	}
	return k;
}

void
child_service(struct child *c, const struct pollfd *pfd, size_t n)
{
	size_t j;

	for (j = 0; j < n; j++) {
		if (pfd[j].revents == 0 || pfd[j].fd < 0)
			continue;
		if (pfd[j].fd == c->out_fd)
			drain(c, &c->out_fd, 0);
		else if (pfd[j].fd == c->err_fd)
			drain(c, &c->err_fd, 1);
	}
}

int
child_reap(struct child *c)
{
	int status;
	pid_t p;

	if (c->exited || c->pid < 0)
		return c->exited;
	p = waitpid(c->pid, &status, WNOHANG);
	if (p == c->pid) {
		c->exited = 1;
		c->status = status;
	}
	return c->exited;
}

void
child_signal(struct child *c, int sig)
{
	if (c->pid > 0 && !c->exited)
		kill(-c->pid, sig);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
child_wait_all(struct child **cs, size_t n, volatile sig_atomic_t *interrupted,
    struct sc_err *e)
{
	struct pollfd *pfd = xcalloc(2 * n + 1, sizeof(*pfd));
	double killed_at = 0;
	int stopping = 0;

	for (;;) {
		size_t i, k = 0, running = 0;

		for (i = 0; i < n; i++) {
			struct child *c = cs[i];

			k += child_pollfds(c, pfd + k);
			child_reap(c);
			if (!c->exited && c->pid >= 0)
				running++;
		}
		if (running == 0 && k == 0)
			break;
		if (!stopping && interrupted != NULL && *interrupted) {
			stopping = 1;
			killed_at = now();
			for (i = 0; i < n; i++)
				if (!cs[i]->exited && cs[i]->pid > 0)
					kill(-cs[i]->pid, SIGTERM);
		}
		if (stopping && killed_at > 0 && now() - killed_at > 2.0) {
			for (i = 0; i < n; i++)
				if (!cs[i]->exited && cs[i]->pid > 0)
					kill(-cs[i]->pid, SIGKILL);
			killed_at = -1;
		}
		if (k == 0) {
			/* output closed, waiting for the exit */
			struct timespec ts = { 0, 20000000 };

			nanosleep(&ts, NULL);
			continue;
		}
		if (poll(pfd, k, 100) < 0 && errno != EINTR) {
			free(pfd);
			return sc_err_sys(e, "poll failed");
		}
		for (i = 0; i < n; i++)
			child_service(cs[i], pfd, k);
	}
	free(pfd);
	if (stopping)
		return sc_err_set(e, SC_ERR_INTERRUPTED, "interrupted");
	return 0;
}

int
child_exit_code(const struct child *c)
{
	if (!c->exited)
		return -1;
	if (WIFEXITED(c->status))
		return WEXITSTATUS(c->status);
	if (WIFSIGNALED(c->status))
		return 128 + WTERMSIG(c->status);
	return -1;
}

const char *
child_last_error(struct child *c)
{
	char *s = c->err_tail.buf, *end, *line;

	end = s + c->err_tail.len;
	while (end > s && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
		end--;
	*end = '\0';
	line = end;
	while (line > s && line[-1] != '\n')
		line--;
	return line;
}
