/* slot.c - a run's calls of the worker-side agent (src/agent.sh): a
 * slot's arguments and the lines of its stdin; the run's token; which
 * commands stream or start warm. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "file.h"
#include "remote.h"
#include "slot.h"
#include "strvec.h"
#include "xalloc.h"
#include "banned.h"

void
run_token_fill(char *out)
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

/* The program's name: argv[0] without its directory. */
static const char *
tool_name(const char *argv0)
{
	const char *slash = strrchr(argv0, '/');

	return slash ? slash + 1 : argv0;
}

int
run_tool_is(const char *argv0, const char *tool)
{
	return strcmp(tool_name(argv0), tool) == 0;
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

/* Whether arg is option letter c ("-r"), or, with joined, ends with it
 * among letters run together ("-nr"). */
static int
is_option(const char *arg, char c, int joined)
{
	size_t i, n = strlen(arg);

	if (n < 2 || arg[0] != '-' || arg[n - 1] != c || (!joined && n != 2))
		return 0;
	for (i = 1; i < n; i++)
		if (!((arg[i] >= 'a' && arg[i] <= 'z') ||
		    (arg[i] >= 'A' && arg[i] <= 'Z')))
			return 0;
	return 1;
}

/* Whether {} is in one argument of command only, the value of option c. */
static int
reads_chunk_once(char *const *command, size_t n, char c, int joined)
{
	size_t i, hits = 0;
	int read_arg = 0;

	for (i = 1; i < n; i++) {
		if (strstr(command[i], "{}") == NULL)
			continue;
		hits++;
		if (strcmp(command[i], "{}") == 0 &&
		    is_option(command[i - 1], c, joined))
			read_arg = 1;
	}
	return hits == 1 && read_arg;
}

int
run_reads_stream(char *const *command, size_t n)
{
	const char *tool = tool_name(command[0]);

	if (strcmp(tool, "ngrep") == 0)
		return reads_chunk_once(command, n, 'I', 1);
	return (strcmp(tool, "tshark") == 0 || strcmp(tool, "tcpdump") == 0) &&
	    reads_chunk_once(command, n, 'r', 1);
}

int
run_warm_command(char *const *command, size_t n)
{
	return strcmp(tool_name(command[0]), "tshark") == 0 &&
	    reads_chunk_once(command, n, 'r', 0);
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

char *
run_local_zone(void)
{
	const char *tz = getenv("TZ"), *path = "/etc/localtime", *name;
	char *real, *out;

	if (tz != NULL) {
		if (*tz == ':')
			tz++;
		if (*tz == '\0')
			return xstrdup("UTC0");         /* glibc: UTC */
		if (*tz != '/')
			return xstrdup(tz);     /* a zone's name, or a rule */
		path = tz;
	}
	if ((real = realpath(path, NULL)) == NULL)
		/* no /etc/localtime: UTC */
		return tz == NULL && access(path, F_OK) < 0 ? xstrdup("UTC0") :
		    NULL;
	name = strstr(real, "/zoneinfo/");
	out = name != NULL && name[10] != '\0' ? xstrdup(name + 10) : NULL;
	free(real);
	return out;
}

void
run_slot_args(struct strvec *args, unsigned silence, const char *mark,
    const struct run_warm *warm, const char *zone,
    const struct job_command *jc)
{
	size_t i;

	if (silence > 0 && mark != NULL) {
		strvec_push(args, "--silence");
		strvec_pushf(args, "%u", silence);
		strvec_push(args, "--mark");
		strvec_push(args, mark);
	}
	if (warm != NULL) {
		strvec_push(args, "--warm");
		strvec_push(args, warm->lib);
		strvec_push(args, "--placeholder");
		strvec_push(args, warm->placeholder);
		if (warm->template != NULL) {
			strvec_push(args, "--template");
			strvec_push(args, warm->template);
		}
		if (warm->hub != NULL) {
			strvec_push(args, "--hub");
			strvec_push(args, warm->hub);
		}
		if (warm->attach)
			strvec_push(args, "--attach");
	}
	if (jc != NULL && zone != NULL) {
		strvec_push(args, "--tz");
		strvec_push(args, zone);
	}
	if (jc != NULL && jc->stream_arg >= 0)
		strvec_push(args, "--stream");
	else if (jc != NULL && jc->use_stdin)
		strvec_push(args, "--stdin");
	strvec_push(args, "--");
	if (jc == NULL)
		strvec_push(args, ":");
	for (i = 0; jc != NULL && i < jc->argc; i++)
		strvec_push(args, jc->argv[i]);
}

void
run_slot_token(int fd, const char *token)
{
	struct strbuf line = STRBUF_INIT;

	strbuf_addf(&line, "%s\n", token);
	(void)file_write_all(fd, line.buf, line.len);
	strbuf_release(&line);
}

void
run_job_call(struct strbuf *sb, unsigned job, char *const *paths,
    const uint64_t *sizes, size_t n, int whole, const char *since,
    const char *until)
{
	size_t i;

	strbuf_addstr(sb, "start ");
	if (whole || since != NULL)
		strbuf_addstr(sb, "-s ");
	if (since != NULL) {
		strbuf_addstr(sb, "-t ");
		shell_quote(sb, since);
		strbuf_addch(sb, ' ');
		shell_quote(sb, until);
		strbuf_addch(sb, ' ');
	}
	strbuf_addf(sb, "%u %d %zu", job, sizes != NULL, n);
	for (i = 0; i < n; i++) {
		strbuf_addch(sb, ' ');
		shell_quote(sb, paths[i]);
		strbuf_addf(sb, " %llu", sizes != NULL ?
		    (unsigned long long)sizes[i] : 0ull);
	}
	strbuf_addch(sb, '\n');
}

void
run_attach_call(struct strbuf *sb, const char *placeholder, const char *hub)
{
	strbuf_addstr(sb, "attach ");
	shell_quote(sb, placeholder);
	strbuf_addch(sb, ' ');
	shell_quote(sb, hub);
	strbuf_addch(sb, '\n');
}
