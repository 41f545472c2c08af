/*
 * shardcap-warm.so: the tool started once per slot, forked once per chunk,
 * after everything that does not depend on the chunk.
 *
 * A slot whose command is tshark reading -r {} (slot.c, run_warm_command)
 * starts, next to its jobs, one tshark with this library preloaded and {}
 * replaced by a placeholder named in SHARDCAP_WARM: a link to one of the
 * worker's chunks of the capture, the *template*. tshark sets itself up -
 * dissectors registered, preferences read, filters compiled - opens the
 * template, and sets up the dissection of a file: name resolution tables
 * (manuf, services, enterprises: a tenth of a second), every dissector's
 * per-file state, its output's preamble. Then it asks wiretap for the
 * first packet, and that call (wtap_read) comes here: the process becomes
 * the slot's warm tool. For each chunk path a job writes to PLACEHOLDER.q
 * it forks; the child opens the chunk with wiretap and goes on from that
 * very call as the tshark started on the chunk would from there, every
 * later call about the template's file answered from the chunk's; the
 * warm tool waits for it and writes its exit status, as the shell gives
 * it ($?), to PLACEHOLDER.r. Each chunk has a process of its own, its own
 * output and exit status, and none pays the set-up again.
 *
 * What tshark did before the first packet depends on the file only
 * through what wiretap read when it opened it, the *preamble*: a pcap's
 * 24-byte header, a pcapng's section header and the interface blocks
 * right after it. Name resolution and secrets blocks - which a pcapng
 * chunk repeats from earlier in its section, so that chunks after one
 * differ from those before - are read with the packets, in the child.
 * A chunk's preamble is compared with the template's; a chunk whose
 * preamble differs, or that wiretap reads as another kind of file, is
 * not read in the fork: the child becomes a tshark of its own (exec, the
 * command's arguments with the chunk for the placeholder), as a job
 * would start it without a warm tool.
 *
 * A child ends without tearing down what it inherited (epan_free,
 * epan_cleanup, wtap_cleanup): freeing it would cost a tenth of a second
 * and copy every page it touches. It has written all it writes by then.
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
 * and its stderr to a file of what tshark said while setting up, passed
 * on then (nothing is said twice: a job that starts tshark says it again
 * itself). What tshark has written to stdout's buffer by then - the
 * preamble of its output (XML, JSON, the fields' header) - stays in the
 * buffer: each child writes it first, as a tshark of its own would.
 *
 * Once ready it holds PH.r open for reading and writing (the slot's read
 * end sees the end of the file when the warm tool is gone) and reads
 * PH.q, which the slot's shell holds open for writing (and says so with
 * an empty line): the end of that file is the end of the slot, and the
 * warm tool's too. Its children stay in its process group, which the slot
 * kills with its job's.
 *
 * Only wiretap's and epan's exported functions are taken, by name and
 * with the signatures they have had since Wireshark 3.0; a call this
 * library does not know of passes through untouched. A template that
 * cannot be read, or a first read not of the template, and the process
 * ends at once (126) without reading a packet: the slot then runs its
 * jobs without a warm tool.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/kcmp.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define WARM_ENV "SHARDCAP_WARM"
#define HUB_ENV "SHARDCAP_WARM_HUB"
#define READY_FD 3
#define STDOUT_FD 4
#define STDERR_FD 8
/* the longest preamble compared; a longer one is not warm */
#define PREAMBLE_MAX (1u << 20)

/* wiretap's types, opaque here */
typedef struct wtap wtap;
typedef void (*any_fn)(void);

static char chunk[PATH_MAX];    /* the child's file, once forked */
static int in_child;
/* tshark has asked for the placeholder (until then, what stops it is
 * its arguments: filters and fields are checked first), and the warm
 * tool serves its slot */
static int placeholder_asked, serving;
static char **saved_argv;       /* tshark's arguments, as it was started */

static wtap *template_wth;      /* tshark's file: the placeholder's */
static wtap *chunk_wth;         /* the child's: its chunk's */
static unsigned open_type;      /* how tshark opened it */
static int open_random;
static unsigned char *template_preamble;
static size_t template_len;
static any_fn cb_ipv4, cb_ipv6, cb_secrets;
static unsigned idbs_taken;     /* interfaces tshark had had of it */

/* The C library's or wiretap's own function of that name, or NULL. */
static void *
next_fn(const char *name)
{
	return dlsym(RTLD_NEXT, name);
}

/*
 * tshark ends while it sets itself up, before it has asked for the
 * placeholder: its arguments are wrong (a display filter that does not
 * compile, a field that does not exist), as they are for every chunk.
 * The slot is told on the ready pipe - "exit STATUS" rather than a pid -
 * and stops the run at once rather than start tshark again for each
 * chunk (src/agent.sh, warm_start). Children and the warm tool end with
 * _exit, which does not come here.
 */
static void
ended_early(int status, void *arg)
{
	char line[32];
	int n;

	(void)arg;
	/* (not tshark's: setsid, which starts it, has the library too,
	 * but no wiretap; and a tshark that did all it was asked) */
	if (placeholder_asked || serving || in_child || status == 0 ||
	    next_fn("wtap_open_offline") == NULL)
		return;
	n = snprintf(line, sizeof(line), "exit %d\n", status & 0xff);
	if (n > 0)
		(void)!write(READY_FD, line, (size_t)n);
}

/* glibc passes the program's arguments to a library's constructors; the
 * copy is taken before tshark's option parsing reorders them. */
__attribute__((constructor)) static void
save_arguments(int argc, char **argv)
{
	int i;

	if (getenv(WARM_ENV) != NULL)
		(void)on_exit(ended_early, NULL);
	if (argc <= 0 || argv == NULL ||
	    (saved_argv = calloc((size_t)argc + 1, sizeof(char *))) == NULL)
		return;
	for (i = 0; i < argc; i++)
		if ((saved_argv[i] = strdup(argv[i])) == NULL) {
			saved_argv = NULL;
			return;
		}
}

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

static uint32_t
u32_at(const unsigned char *p, int be)
{
	return be ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3] :
	    (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[1] << 8 | p[0];
}

/*
 * The preamble of the capture in fd: what wiretap reads when it opens the
 * file (a pcapng's section header block and the interface blocks that
 * follow it, up to the first block of another type). Returns its length
 * (the bytes in buf), or 0 when it is not a pcap or pcapng preamble of
 * at most PREAMBLE_MAX bytes.
 */
static size_t
read_preamble(int fd, unsigned char *buf)
{
	static const unsigned char pcap_magic[][4] = {
		{ 0xd4, 0xc3, 0xb2, 0xa1 }, { 0xa1, 0xb2, 0xc3, 0xd4 },
		{ 0x4d, 0x3c, 0xb2, 0xa1 }, { 0xa1, 0xb2, 0x3c, 0x4d },
		{ 0x34, 0xcd, 0xb2, 0xa1 }, { 0xa1, 0xb2, 0xcd, 0x34 },
	};
	size_t have = 0, at = 0, i;
	int be = 0;

	for (;;) {
		uint32_t type, len;

		while (have < at + 24 && have < PREAMBLE_MAX) {
			size_t room = PREAMBLE_MAX - have;
			ssize_t n = read(fd, buf + have,
			    room < 65536 ? room : 65536);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			have += (size_t)n;
		}
		if (at == 0) {
			if (have < 24)
				return 0;
			for (i = 0; i < sizeof(pcap_magic) / 4; i++)
				if (memcmp(buf, pcap_magic[i], 4) == 0)
					return 24;
			if (u32_at(buf, 0) != 0x0A0D0D0Au)
				return 0;
			be = u32_at(buf + 8, 1) == 0x1A2B3C4Du;
			if (!be && u32_at(buf + 8, 0) != 0x1A2B3C4Du)
				return 0;
		} else if (have < at + 12) {
			return have == at ? at : 0;     /* the file ends */
		}
		type = u32_at(buf + at, be);
		if (at != 0 && type != 1)
			return at;      /* not an IDB: the end */
		len = u32_at(buf + at + 4, be);
		if (len < 12 || len % 4 != 0 || len > PREAMBLE_MAX - at)
			return 0;
		at += len;
	}
}

/* The preamble of path, allocated; NULL if it has none. */
static unsigned char *
preamble_of(const char *path, size_t *len)
{
	unsigned char *buf = malloc(PREAMBLE_MAX);
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*len = 0;
	if (buf != NULL && fd >= 0)
		*len = read_preamble(fd, buf);
	if (fd >= 0)
		close(fd);
	if (*len == 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/*
 * The child becomes the tshark a job starts without a warm tool: the
 * command's arguments, the chunk for the placeholder. What the warm tool
 * had buffered for stdout goes with the old image.
 */
static void
exec_alone(const char *placeholder)
{
	size_t i;

	if (saved_argv == NULL)
		_exit(126);
	for (i = 0; saved_argv[i] != NULL; i++)
		if (strcmp(saved_argv[i], placeholder) == 0)
			saved_argv[i] = chunk;
	execv("/proc/self/exe", saved_argv);
	_exit(126);
}

/* Whether fds a and b share one open file (a dup of it, or itself). */
static int
same_file(int a, int b)
{
	struct stat sa, sb;
	long r = syscall(SYS_kcmp, (long)getpid(), (long)getpid(),
	    (long)KCMP_FILE, (long)a, (long)b);

	if (r == 0 || r == 1 || r == 2)
		return r == 0;
	/* no kcmp: the same file, opened the same way */
	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 &&
	    sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino &&
	    sa.st_rdev == sb.st_rdev &&
	    (fcntl(a, F_GETFL) & O_ACCMODE) == (fcntl(b, F_GETFL) & O_ACCMODE);
}

/*
 * fd becomes the slot's stream slot_fd, and so does every copy tshark
 * made of fd meanwhile: `-w -` writes through a dup of stdout made when
 * it opened its output, before the first packet.
 */
static void
take_stream(int fd, int slot_fd)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;

	while (d != NULL && (de = readdir(d)) != NULL) {
		char *end;
		long other = strtol(de->d_name, &end, 10);

		if (*end != '\0' || end == de->d_name || other == fd ||
		    other == slot_fd || other == dirfd(d) || other > INT_MAX)
			continue;
		if (same_file(fd, (int)other))
			dup2(slot_fd, (int)other);
	}
	if (d != NULL)
		closedir(d);
	dup2(slot_fd, fd);
	close(slot_fd);
}

/* Passes on to the first slot's stderr what tshark said while it set
 * itself up. */
static void
pass_setup_messages(const char *placeholder)
{
	char path[PATH_MAX], b[4096];
	ssize_t n;
	int fd;

	fflush(stderr);
	if (snprintf(path, sizeof(path), "%s.e", placeholder) <
	    (int)sizeof(path) && (fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		while ((n = read(fd, b, sizeof(b))) > 0)
			write_all(STDERR_FD, b, (size_t)n);
		close(fd);
	}
}

/* What a warm tool answers its slot through: the slot's stdout and
 * stderr, the pipe its pid goes to once it is ready, and the process of
 * the slot's that waits for it, to be killed then (0: none). */
struct slot_ends {
	int out, err, ready;
	pid_t waiting;
};

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
 * The next line of fd into line (len bytes held): its length, the line
 * ended by a NUL in place of its newline, the rest kept for the next
 * call; -1 at the end of the file. A line longer than the buffer is
 * dropped.
 */
static ssize_t
next_line(int fd, char *line, size_t size, size_t *len, size_t *taken)
{
	memmove(line, line + *taken, *len - *taken);
	*len -= *taken;
	*taken = 0;
	for (;;) {
		char *nl = memchr(line, '\n', *len);
		ssize_t n;

		if (nl != NULL) {
			*nl = '\0';
			*taken = (size_t)(nl + 1 - line);
			return nl - line;
		}
		if (*len == size)
			*len = 0;       /* no line of ours is that long */
		n = read(fd, line + *len, size - *len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		*len += (size_t)n;
	}
}

/*
 * The hub (SHARDCAP_WARM_HUB names a fifo the coordinator holds open):
 * the slots of one run on this machine share one set-up. The slot that
 * starts tshark gets the warm tool as before; before it takes that
 * slot's streams, the warm tool forks the hub, which reads the fifo. A
 * line there, "PID PATH" from another slot of the run, asks for a warm
 * tool of its own: the hub forks one, which takes as its stdout, stderr
 * and ready pipe fds 4, 8 and 3 of process PID (the slot's waiting
 * `sleep`, which it kills once it has answered: its pid on that pipe),
 * PATH.r for its answers and PATH.q for the slot's chunks, and from there
 * is that slot's warm tool. The hub ends with the end of the fifo: the
 * coordinator closes it when the run ends, or dies. Hub and slot tools
 * each have a session of their own: a slot that ends kills its own.
 *
 * Returns in the warm tool (0) and in each tool the hub forks (1, with
 * path[] the slot's PATH and *ends the slot's); never in the hub.
 */
static int
fork_hub(const char *hub, char *path, size_t size, struct slot_ends *ends)
{
	char line[PATH_MAX + 32];
	size_t len = 0, taken = 0;
	ssize_t n;
	int h;
	pid_t pid;

	if (fork() != 0)
		return 0;       /* the warm tool; a hub not forked: no hub */
	(void)setsid();
	/* the first slot's: its warm tool has them */
	(void)close(READY_FD);
	(void)close(STDOUT_FD);
	(void)close(STDERR_FD);
	/* servers are reaped as they end */
	signal(SIGCHLD, SIG_IGN);
	if ((h = open(hub, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0 ||
	    fcntl(h, F_SETFL, 0) < 0)
		_exit(0);
	while ((n = next_line(h, line, sizeof(line), &len, &taken)) >= 0) {
		char *at, proc[64];
		long slot_pid = strtol(line, &at, 10);

		if (at == line || *at != ' ' || slot_pid <= 1 ||
		    strlen(at + 1) + 3 > size)
			continue;
		if ((pid = fork()) != 0)
			continue;
		/* a slot's warm tool */
		(void)close(h);
		(void)setsid();
		signal(SIGCHLD, SIG_DFL);
		snprintf(path, size, "%s", at + 1);
		snprintf(proc, sizeof(proc), "/proc/%ld/fd/%d", slot_pid,
		    STDOUT_FD);
		ends->out = open(proc, O_WRONLY | O_CLOEXEC);
		snprintf(proc, sizeof(proc), "/proc/%ld/fd/%d", slot_pid,
		    STDERR_FD);
		ends->err = open(proc, O_WRONLY | O_CLOEXEC);
		snprintf(proc, sizeof(proc), "/proc/%ld/fd/%d", slot_pid,
		    READY_FD);
		ends->ready = open(proc, O_WRONLY | O_CLOEXEC);
		if (ends->out < 0 || ends->err < 0 || ends->ready < 0)
			_exit(126);
		ends->waiting = (pid_t)slot_pid;
		return 1;
	}
	_exit(0);
}

/* The warm tool: returns in each child, chunk[] its file; never in itself. */
static void
serve(const char *placeholder)
{
	char path[PATH_MAX], qpath[PATH_MAX + 2], line[PATH_MAX + 1];
	const char *hub = getenv(HUB_ENV);
	struct slot_ends ends = { STDOUT_FD, STDERR_FD, READY_FD, 0 };
	size_t len = 0, taken = 0;
	ssize_t n;
	int q, r;

	serving = 1;
	snprintf(path, sizeof(path), "%s", placeholder);
	if (hub == NULL || !fork_hub(hub, path, sizeof(path), &ends))
		pass_setup_messages(placeholder);
	/* The slot's streams taken (stdout's buffer is not flushed: what
	 * is in it belongs to every chunk's output), then its pid said,
	 * PATH.r held first: the slot opens it once it has the pid. */
	if (snprintf(line, sizeof(line), "%s.r", path) >= (int)sizeof(line) ||
	    (r = open(line, O_RDWR | O_CLOEXEC)) < 0)
		_exit(126);
	take_stream(2, ends.err);
	take_stream(1, ends.out);
	write_number(ends.ready, (long)getpid());
	close(ends.ready);
	if (ends.waiting > 0)
		(void)kill(ends.waiting, SIGTERM);
	/* The slot opens it for writing as soon as it has read the pid. A
	 * slot gone before that (killed with -9) never will: then, rather
	 * than wait for ever, the warm tool ends. */
	if (snprintf(qpath, sizeof(qpath), "%s.q", path) >=
	    (int)sizeof(qpath) ||
	    (q = open(qpath, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0 ||
	    !writer_came(q) || fcntl(q, F_SETFL, 0) < 0)
		_exit(126);
	/* nothing below this process is started warm */
	unsetenv("LD_PRELOAD");
	unsetenv(WARM_ENV);
	unsetenv(HUB_ENV);
	while ((n = next_line(q, line, sizeof(line), &len, &taken)) >= 0) {
		pid_t pid;
		int ws;

		if (n == 0)
			continue;       /* the slot's first line: it is there */
		if ((size_t)n >= sizeof(chunk)) {
			write_number(r, 126);
		} else if ((pid = fork()) == 0) {
			memcpy(chunk, line, (size_t)n + 1);
			close(q);
			close(r);
			in_child = 1;
			return;
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
	}
	_exit(0);       /* the slot has ended */
}

typedef wtap *(*open_fn)(const char *, unsigned, int *, char **, int);
typedef void (*set_cb_fn)(wtap *, any_fn);
typedef int (*int_of_fn)(wtap *);
typedef void *(*ptr_of_fn)(wtap *);

/*
 * In the child: the chunk opened as tshark opened the template, given
 * what tshark had set on and taken of the template; or the child becomes
 * a tshark of its own.
 */
static void
open_chunk(const char *placeholder)
{
	open_fn open_offline = (open_fn)next_fn("wtap_open_offline");
	ptr_of_fn next_idb = (ptr_of_fn)
	    next_fn("wtap_get_next_interface_description");
	int_of_fn type_of = (int_of_fn)next_fn("wtap_file_type_subtype");
	int_of_fn encap_of = (int_of_fn)next_fn("wtap_file_encap");
	set_cb_fn set;
	unsigned char *mine;
	size_t len;
	char *err_info = NULL;
	int err = 0;
	unsigned i;

	mine = preamble_of(chunk, &len);
	if (mine == NULL || len != template_len ||
	    memcmp(mine, template_preamble, len) != 0)
		exec_alone(placeholder);
	free(mine);
	if (open_offline == NULL ||
	    (chunk_wth = open_offline(chunk, open_type, &err, &err_info,
	    open_random)) == NULL)
		exec_alone(placeholder);
	if ((type_of != NULL && type_of(chunk_wth) != type_of(template_wth)) ||
	    (encap_of != NULL && encap_of(chunk_wth) != encap_of(template_wth)))
		exec_alone(placeholder);
	if (cb_ipv4 != NULL &&
	    (set = (set_cb_fn)next_fn("wtap_set_cb_new_ipv4")) != NULL)
		set(chunk_wth, cb_ipv4);
	if (cb_ipv6 != NULL &&
	    (set = (set_cb_fn)next_fn("wtap_set_cb_new_ipv6")) != NULL)
		set(chunk_wth, cb_ipv6);
	if (cb_secrets != NULL &&
	    (set = (set_cb_fn)next_fn("wtap_set_cb_new_secrets")) != NULL)
		set(chunk_wth, cb_secrets);
	/* the same interfaces, since the same preamble: those tshark has
	 * had already are not given again */
	for (i = 0; i < idbs_taken && next_idb != NULL; i++)
		(void)next_idb(chunk_wth);
}

/* The file a call about w is about: in a child, the template is its chunk. */
static wtap *
file_of(wtap *w)
{
	return in_child && w != NULL && w == template_wth ? chunk_wth : w;
}

wtap *wtap_open_offline(const char *filename, unsigned type, int *err,
    char **err_info, int do_random);
int wtap_read(wtap *wth, void *rec, void *buf, int *err, char **err_info,
    int64_t *offset);
int wtap_seek_read(wtap *wth, int64_t seek_off, void *rec, void *buf,
    int *err, char **err_info);
void *wtap_get_next_interface_description(wtap *wth);
void *wtap_file_get_idb_info(wtap *wth);
int wtap_file_type_subtype(wtap *wth);
int wtap_file_encap(wtap *wth);
unsigned wtap_snapshot_length(wtap *wth);
void wtap_cleareof(wtap *wth);
void wtap_sequential_close(wtap *wth);
void wtap_close(wtap *wth);
void wtap_set_cb_new_ipv4(wtap *wth, any_fn cb);
void wtap_set_cb_new_ipv6(wtap *wth, any_fn cb);
void wtap_set_cb_new_secrets(wtap *wth, any_fn cb);
void epan_free(void *session);
void epan_cleanup(void);
void wtap_cleanup(void);

wtap *
wtap_open_offline(const char *filename, unsigned type, int *err,
    char **err_info, int do_random)
{
	static open_fn real;
	const char *placeholder = getenv(WARM_ENV);
	wtap *w;

	if (placeholder != NULL && strcmp(filename, placeholder) == 0)
		placeholder_asked = 1;
	if (real == NULL && (real = (open_fn)next_fn("wtap_open_offline")) ==
	    NULL)
		_exit(126);
	w = real(filename, type, err, err_info, do_random);
	if (w != NULL && template_wth == NULL && !in_child &&
	    placeholder != NULL && strcmp(filename, placeholder) == 0) {
		template_wth = w;
		open_type = type;
		open_random = do_random;
		template_preamble = preamble_of(filename, &template_len);
	}
	return w;
}

int
wtap_read(wtap *wth, void *rec, void *buf, int *err, char **err_info,
    int64_t *offset)
{
	static int (*real)(wtap *, void *, void *, int *, char **, int64_t *);
	const char *placeholder = getenv(WARM_ENV);

	if (real == NULL && (real = (int (*)(wtap *, void *, void *, int *,
	    char **, int64_t *))next_fn("wtap_read")) == NULL)
		_exit(126);
	if (!in_child && placeholder != NULL) {
		/* the first packet asked for: the set-up is done */
		char *ph = strdup(placeholder);

		if (ph == NULL || wth == NULL || wth != template_wth ||
		    template_preamble == NULL)
			_exit(126);
		serve(ph);
		open_chunk(ph);
		free(ph);
	}
	return real(file_of(wth), rec, buf, err, err_info, offset);
}

int
wtap_seek_read(wtap *wth, int64_t seek_off, void *rec, void *buf, int *err,
    char **err_info)
{
	static int (*real)(wtap *, int64_t, void *, void *, int *, char **);

	if (real == NULL && (real = (int (*)(wtap *, int64_t, void *, void *,
	    int *, char **))next_fn("wtap_seek_read")) == NULL)
		_exit(126);
	return real(file_of(wth), seek_off, rec, buf, err, err_info);
}

void *
wtap_get_next_interface_description(wtap *wth)
{
	static ptr_of_fn real;
	void *idb;

	if (real == NULL && (real = (ptr_of_fn)
	    next_fn("wtap_get_next_interface_description")) == NULL)
		_exit(126);
	idb = real(file_of(wth));
	if (idb != NULL && !in_child && wth == template_wth)
		idbs_taken++;
	return idb;
}

/* The calls that only ask about the file, or set its reading state. */
#define ABOUT_FILE(type, name)						\
type									\
name(wtap *wth)								\
{									\
	static type (*real)(wtap *);					\
									\
	if (real == NULL && (real = (type (*)(wtap *))next_fn(#name)) == \
	    NULL)							\
		_exit(126);						\
	return real(file_of(wth));					\
}
ABOUT_FILE(void *, wtap_file_get_idb_info)
ABOUT_FILE(int, wtap_file_type_subtype)
ABOUT_FILE(int, wtap_file_encap)
ABOUT_FILE(unsigned, wtap_snapshot_length)
ABOUT_FILE(void, wtap_cleareof)
ABOUT_FILE(void, wtap_sequential_close)

void
wtap_close(wtap *wth)
{
	static void (*real)(wtap *);

	if (real == NULL && (real = (void (*)(wtap *))next_fn("wtap_close")) ==
	    NULL)
		_exit(126);
	/* the child's template stays as it came: its chunk is what it read */
	real(file_of(wth));
}

/* A callback tshark sets on the template is set on each chunk too. */
#define CALLBACK(name, saved)						\
void									\
name(wtap *wth, any_fn cb)						\
{									\
	static set_cb_fn real;						\
									\
	if (real == NULL && (real = (set_cb_fn)next_fn(#name)) == NULL)	\
		_exit(126);						\
	if (!in_child && wth != NULL && wth == template_wth)		\
		saved = cb;						\
	real(file_of(wth), cb);						\
}
CALLBACK(wtap_set_cb_new_ipv4, cb_ipv4)
CALLBACK(wtap_set_cb_new_ipv6, cb_ipv6)
CALLBACK(wtap_set_cb_new_secrets, cb_secrets)

/* A child's tear-down is left to exit. */
#define NOT_IN_CHILD(name, params, args)				\
void									\
name params								\
{									\
	static void (*real) params;					\
									\
	if (in_child)							\
		return;							\
	if (real == NULL && (real = (void (*) params)next_fn(#name)) ==	\
	    NULL)							\
		_exit(126);						\
	real args;							\
}
NOT_IN_CHILD(epan_free, (void *session), (session))
NOT_IN_CHILD(epan_cleanup, (void), ())
NOT_IN_CHILD(wtap_cleanup, (void), ())
