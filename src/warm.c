/*
 * shardcap-warm.so: the tool started once per slot, forked once per chunk.
 *
 * A slot whose command is tshark reading -r {} (run.c, run_warm_command)
 * starts, next to its jobs, one tshark with this library preloaded and {}
 * replaced by an empty placeholder file named in SHARDCAP_WARM. tshark
 * sets itself up - its dissectors registered, its preferences read, its
 * filters compiled: about 0.2 s of CPU and 150 MB - and then opens the
 * file it was given. That open comes here, and the process becomes the
 * slot's warm tool: for each chunk path a job writes to PLACEHOLDER.q it
 * forks; the child goes on from that very open with the chunk instead of
 * the placeholder, exactly as a tshark started on the chunk would from
 * there; the warm tool waits for it and writes its exit status, as the
 * shell gives it ($?), to PLACEHOLDER.r. Each chunk has a process of its
 * own and its own output, and none pays the start again.
 *
 * The slot's shell (run_slot_script) starts it as
 *
 *	z=$(LD_PRELOAD=LIB SHARDCAP_WARM=PH setsid tshark ... -r PH ...
 *	    3>&1 8>&2 2>PH.e > /dev/null < /dev/null &)
 *
 * fd 3 the pipe that says it is ready (its pid, then closed: an empty
 * answer means tshark ended first, and the slot's jobs start tshark
 * each as usual). fds 4 and 8 are the slot's stdout and stderr, which
 * become its own once it is ready: until then its stdout goes nowhere
 * (nothing may come between jobs) and its stderr to a file of what
 * tshark said while setting up, passed on then (nothing is said twice:
 * a job that starts tshark says it again itself).
 *
 * Once ready it holds PH.r open for reading and writing (the slot's read
 * end sees the end of the file when the warm tool is gone) and reads
 * PH.q, which the slot's shell holds open for writing (and says so with
 * an empty line): the end of that file is the end of the slot, and the
 * warm tool's too. Its children stay in its process group, which the slot
 * kills with its job's.
 *
 * Only opens of the placeholder's exact path are taken; everything else
 * goes to the C library. No allocation, nothing but system calls between
 * the fork and the child's return.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define WARM_ENV "SHARDCAP_WARM"
#define READY_FD 3
#define STDOUT_FD 4
#define STDERR_FD 8

typedef int (*open_fn)(const char *, int, ...);

static char chunk[PATH_MAX];    /* the child's file, once forked */

static void
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

static void
write_number(int fd, long v)
{
	char b[24];
	int n = snprintf(b, sizeof(b), "%ld\n", v);

	if (n > 0)
		write_all(fd, b, (size_t)n);
}

/* Takes the slot's stdout and stderr, passing on first what tshark said
 * while it set itself up. */
static void
take_slot_streams(const char *placeholder, open_fn real)
{
	char path[PATH_MAX], b[4096];
	ssize_t n;
	int fd;

	if (snprintf(path, sizeof(path), "%s.e", placeholder) >=
	    (int)sizeof(path))
		return;
	if ((fd = real(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		while ((n = read(fd, b, sizeof(b))) > 0)
			write_all(STDERR_FD, b, (size_t)n);
		close(fd);
	}
	dup2(STDERR_FD, 2);
	close(STDERR_FD);
	dup2(STDOUT_FD, 1);
	close(STDOUT_FD);
}

/*
 * Whether a writer comes to the fifo q (opened for reading, not
 * blocking) within WRITER_WAIT_MS: the slot writes an empty line once it
 * holds it. A fifo that has never had a writer is neither readable nor
 * hung up, so poll waits.
 */
#define WRITER_WAIT_MS 30000

static int
writer_came(int q)
{
	struct pollfd p = { q, POLLIN, 0 };
	int n;

	do
		n = poll(&p, 1, WRITER_WAIT_MS);
	while (n < 0 && errno == EINTR);
	return n > 0;
}

/* The shell's $? for a wait status. */
static long
shell_status(int ws)
{
	if (WIFEXITED(ws))
		return WEXITSTATUS(ws);
	if (WIFSIGNALED(ws))
		return 128 + WTERMSIG(ws);
	return 126;
}

/*
 * The warm tool: returns in each child (the fd its open should give),
 * never in itself.
 */
static int
serve(const char *placeholder, open_fn real, int flags, mode_t mode)
{
	char qpath[PATH_MAX], rpath[PATH_MAX], line[PATH_MAX + 1];
	size_t len = 0;
	int q, r;

	if (snprintf(qpath, sizeof(qpath), "%s.q", placeholder) >=
	    (int)sizeof(qpath) ||
	    snprintf(rpath, sizeof(rpath), "%s.r", placeholder) >=
	    (int)sizeof(rpath) ||
	    (r = real(rpath, O_RDWR | O_CLOEXEC)) < 0)
		_exit(126);
	fflush(NULL);
	take_slot_streams(placeholder, real);
	write_number(READY_FD, (long)getpid());
	close(READY_FD);
	/* The slot opens it for writing as soon as it has read the pid. A
	 * slot gone before that (killed with -9) never will: then, rather
	 * than wait for ever, the warm tool ends. */
	if ((q = real(qpath, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0 ||
	    !writer_came(q) || fcntl(q, F_SETFL, 0) < 0)
		_exit(126);
	/* nothing below this process is started warm */
	unsetenv("LD_PRELOAD");
	unsetenv(WARM_ENV);
	for (;;) {
		char *nl = memchr(line, '\n', len);
		ssize_t n;
		pid_t pid;
		int ws;

		if (nl == NULL) {
			if (len == sizeof(line))
				len = 0;        /* no path is that long */
			n = read(q, line + len, sizeof(line) - len);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				_exit(0);       /* the slot has ended */
			len += (size_t)n;
			continue;
		}
		*nl = '\0';
		if (nl == line) {
			/* the slot's first line: it is there */
		} else if ((size_t)(nl - line) >= sizeof(chunk)) {
			write_number(r, 126);
		} else if ((pid = fork()) == 0) {
			memcpy(chunk, line, (size_t)(nl - line) + 1);
			close(q);
			close(r);
			return real(chunk, flags, mode);
		} else if (pid < 0) {
			write_number(r, 126);
		} else {
			while (waitpid(pid, &ws, 0) < 0)
				if (errno != EINTR) {
					ws = 126 << 8;
					break;
				}
			write_number(r, shell_status(ws));
		}
		len -= (size_t)(nl + 1 - line);
		memmove(line, nl + 1, len);
	}
}

static char placeholder[PATH_MAX];

static int
warm_open(const char *path, int flags, mode_t mode, open_fn real)
{
	if (placeholder[0] == '\0') {
		const char *env = getenv(WARM_ENV);

		if (env == NULL || env[0] == '\0' ||
		    strlen(env) >= sizeof(placeholder))
			return real(path, flags, mode);
		memcpy(placeholder, env, strlen(env) + 1);
	}
	if (strcmp(path, placeholder) != 0)
		return real(path, flags, mode);
	if (chunk[0] != '\0')          /* a child opening it again: -2 */
		return real(chunk, flags, mode);
	return serve(placeholder, real, flags, mode);
}

/* The mode argument of open(path, flags, ...), read in the function. */
#define MODE_OF(flags, mode) do {					\
	va_list ap;							\
	va_start(ap, flags);						\
	mode = (flags & (O_CREAT | O_TMPFILE)) ? (mode_t)va_arg(ap, int) : 0; \
	va_end(ap);							\
} while (0)

static int
wrap(const char *name, open_fn *real, const char *path, int flags,
    mode_t mode)
{
	if (*real == NULL)
		*real = (open_fn)dlsym(RTLD_NEXT, name);
	return warm_open(path, flags, mode, *real);
}

int
open(const char *path, int flags, ...)
{
	static open_fn real;
	mode_t mode;

	MODE_OF(flags, mode);
	return wrap("open", &real, path, flags, mode);
}

int
open64(const char *path, int flags, ...)
{
	static open_fn real;
	mode_t mode;

	MODE_OF(flags, mode);
	return wrap("open64", &real, path, flags, mode);
}
