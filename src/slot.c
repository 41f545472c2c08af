/* slot.c - the worker side of a run: the shell of a slot, the script of
 * each job, and which commands stream or start warm. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "remote.h"
#include "slot.h"
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

void
run_add_command(struct strbuf *sb, const struct job_command *jc,
    const char *path)
{
	size_t i;

	for (i = 0; i < jc->argc; i++) {
		struct strbuf word = STRBUF_INIT;
		const char *a = jc->argv[i], *hit;

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
run_job_script(struct strbuf *sb, const struct job_command *jc,
    char *const *paths, const uint64_t *sizes, size_t n)
{
	size_t i;

	/* every chunk there, whole: a missing or cut copy is reported, not
	 * read as a shorter capture */
	strbuf_addstr(sb, "b=; ");
	for (i = 0; sizes != NULL && i < n; i++) {
		strbuf_addstr(sb, "[ \"$(wc -c 2>/dev/null < ");
		shell_quote(sb, paths[i]);
		strbuf_addf(sb, ")\" = %llu ] || b=\"$b %zu\"; ",
		    (unsigned long long)sizes[i], i);
	}
	strbuf_addstr(sb, "if [ -n \"$b\" ]; then echo " RUN_BAD_MARK
	    " \"$1\" \"$2\"$b >&2; s=125; else ");
	if (jc->warm_lib != NULL) {
		/* each chunk to the slot's warm tool, when it has one; one it
		 * will not take (gone) started here, as without */
		strbuf_addstr(sb, "if [ -n \"$3\" ]; then s=0; ");
		for (i = 0; i < n; i++) {
			strbuf_addstr(sb, "if (printf '%s\\n' ");
			shell_quote(sb, paths[i]);
			strbuf_addstr(sb, " >&6) 2>/dev/null; then IFS= read -r t "
			    "<&5 || { t=126; echo 'shardcap: the slot'\\''s "
			    "warm tool ended' >&2; }; else");
			run_add_command(sb, jc, paths[i]);
			strbuf_addstr(sb, " < /dev/null 5<&- 6>&-; t=$?; fi; "
			    "[ \"$s\" = 0 ] && s=$t; ");
			if (n > 1)
				strbuf_addf(sb, "echo " RUN_CHUNK_MARK " %zu >&2; ",
				    i);
		}
		strbuf_addstr(sb, "else ");
	}
	if (jc->stream_arg >= 0) {
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
		run_add_command(sb, jc, "-");
	} else {
		run_add_command(sb, jc, paths[0]);
		strbuf_addstr(sb, " < ");
		if (jc->use_stdin)
			shell_quote(sb, paths[0]);
		else
			strbuf_addstr(sb, "/dev/null");
	}
	/* The end of the job's output, and of its stderr, each marked with
	 * the run's token ($1) and the job's number ($2). */
	strbuf_addstr(sb, jc->warm_lib != NULL ? "; s=$?; fi; fi; " :
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
	if (warm != NULL && warm->attach) {
		/* a warm tool from the hub: the first line says how */
		strbuf_addstr(sb, "IFS= read -r j && eval \"$j\"; ");
	} else if (warm != NULL) {
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
		    "if mkfifo \"$Z.q\" \"$Z.r\" 2>/dev/null && ln -s ");
		shell_quote(sb, warm->template);
		strbuf_addstr(sb, " \"$Z\" 2>/dev/null; then exec 4>&1; "
		    "z=$(LD_PRELOAD=");
		shell_quote(sb, warm->lib);
		strbuf_addstr(sb, " SHARDCAP_WARM=\"$Z\" ");
		if (warm->hub != NULL) {
			strbuf_addstr(sb, "SHARDCAP_WARM_HUB=");
			shell_quote(sb, warm->hub);
			strbuf_addch(sb, ' ');
		}
		strbuf_addstr(sb, "setsid ");
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

void
run_attach_line(struct strbuf *sb, const struct run_warm *warm)
{
	/*
	 * The hub answers a line "PID PATH" on its fifo with a warm tool
	 * for the slot whose process PID has the slot's stdout on fd 4, its
	 * stderr on fd 8 and, on fd 3, the pipe the tool's pid comes back
	 * on (src/warm.c; not fd 1, which the sh has on the hub's fifo
	 * while it writes there): a sh that becomes a sleep, which the tool
	 * kills once it has answered (its shell, in braces, says so to
	 * nowhere); a sleep that ends first, nothing came. The
	 * fifos are gone once both sides hold them, as the slot's own warm
	 * tool's are.
	 */
	strbuf_addstr(sb, "Z=");
	shell_quote(sb, warm->placeholder);
	strbuf_addstr(sb, "; rm -f \"$Z.q\" \"$Z.r\"; if mkfifo \"$Z.q\" "
	    "\"$Z.r\" 2>/dev/null; then exec 4>&1; z=$({ sh -c 'printf "
	    "\"%s %s\\n\" $$ \"$1\" > \"$2\" && exec sleep $3' warm \"$Z\" ");
	shell_quote(sb, warm->hub);
	strbuf_addf(sb, " %d; } 3>&1 8>&2 2>/dev/null < /dev/null); "
	    "[ -n \"$z\" ] && exec 6>\"$Z.q\" 5<\"$Z.r\" && "
	    "(echo >&6) 2>/dev/null; fi; rm -f \"$Z.q\" \"$Z.r\"; Z=\n",
	    RUN_ATTACH_WAIT);
}
