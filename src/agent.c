/* agent.c - the worker-side agent: its version, where it lives, the argv
 * of a call, and sending it where it is missing. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"
#include "file.h"
#include "remote.h"
#include "util.h"
#include "xalloc.h"
#include "banned.h"

const char *
agent_version(void)
{
	static char hex[17];

	if (hex[0] == '\0')
		snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)
		    fnv1a(FNV1A_BASIS, agent_text, strlen(agent_text)));
	return hex;
}

/* The agent's name in a directory. */
static void
agent_name(struct strbuf *sb, const char *dir)
{
	strbuf_addf(sb, "%s/.shardcap-agent-%s.sh", dir, agent_version());
}

/*
 * A local worker's agent: in /tmp/shardcap-UID (this user's alone: one
 * that another user could write is refused), written there when missing,
 * whole or not at all (a name of its own, then renamed).
 */
static int
local_agent(struct strbuf *path, struct sc_err *e)
{
	char *dir = xasprintf("/tmp/shardcap-%u", (unsigned)getuid());
	struct strbuf tmp = STRBUF_INIT;
	struct stat st;
	size_t len = strlen(agent_text);
	int fd, r = 0;

	agent_name(path, dir);
	if (stat(path->buf, &st) == 0 && (size_t)st.st_size == len)
		goto out;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		r = sc_err_sys(e, "cannot create '%s'", dir);
		goto out;
	}
	if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) ||
	    st.st_uid != getuid() || (st.st_mode & 077) != 0) {
		r = sc_err_set(e, SC_ERR_SYSTEM, "'%s' is not a private "
		    "directory of this user", dir);
		goto out;
	}
	strbuf_addf(&tmp, "%s.%ld", path->buf, (long)getpid());
	fd = open(tmp.buf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || file_write_all(fd, agent_text, len) < 0 ||
	    close(fd) < 0 || rename(tmp.buf, path->buf) < 0) {
		r = sc_err_sys(e, "cannot write '%s'", path->buf);
		(void)unlink(tmp.buf);
	}
out:
	strbuf_release(&tmp);
	free(dir);
	return r;
}

/*
 * The command line that runs the agent in a remote worker's directory:
 * taken from stdin first where it is missing (send), checked whole
 * before it is put in place; or the call ends with AGENT_MISSING.
 */
static void
remote_line(struct strbuf *sb, const struct config_worker *w, int send,
    const char *verb, const char *const *args, size_t n)
{
	struct strbuf path = STRBUF_INIT;
	size_t i;

	agent_name(&path, w->dir);
	strbuf_addstr(sb, "f=");
	shell_quote(sb, path.buf);
	strbuf_addstr(sb, "; [ -r \"$f\" ] || ");
	if (send) {
		strbuf_addstr(sb, "{ mkdir -p -- ");
		shell_quote(sb, w->dir);
		strbuf_addf(sb, " && cat > \"$f.$$\" && [ \"$(wc -c < \"$f.$$\")\" "
		    "= %zu ] && mv -f \"$f.$$\" \"$f\"; } || { rm -f \"$f.$$\"; "
		    "exit %d; }; ", strlen(agent_text), AGENT_MISSING);
	} else {
		strbuf_addf(sb, "exit %d; ", AGENT_MISSING);
	}
	strbuf_addstr(sb, "exec sh \"$f\" ");
	shell_quote(sb, verb);
	for (i = 0; i < n; i++) {
		strbuf_addch(sb, ' ');
		shell_quote(sb, args[i]);
	}
	strbuf_release(&path);
}

int
agent_argv(struct strvec *av, const struct config *cfg,
    const struct config_worker *w, const char *control_dir, int send,
    const char *verb, const char *const *args, size_t n, struct sc_err *e)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;
	int r;

	if (w->local) {
		if ((r = local_agent(&sb, e)) != 0) {
			strbuf_release(&sb);
			return r;
		}
		strvec_push(av, "sh");
		strvec_push(av, sb.buf);
		strvec_push(av, verb);
		for (i = 0; i < n; i++)
			strvec_push(av, args[i]);
		strbuf_release(&sb);
		return 0;
	}
	remote_line(&sb, w, send, verb, args, n);
	remote_script_argv(av, cfg, w, control_dir, sb.buf);
	strbuf_release(&sb);
	return 0;
}

void
agent_child_init(struct child *c, char *const *argv,
    const struct config_worker *w)
{
	child_init(c, argv);
	c->want_stdin = !w->local;
}

/* Starts c, the agent's version verb with send on worker w (its argv in
 * av), and sends the agent: the worker takes it where it lacks it. */
static int
start_sending(const struct config *cfg, const struct config_worker *w,
    const char *control_dir, struct strvec *av, struct child *c,
    struct sc_err *e)
{
	int r;

	if ((r = agent_argv(av, cfg, w, control_dir, 1, "version", NULL, 0,
	    e)) != 0)
		return r;
	agent_child_init(c, av->v, w);
	if ((r = child_start(c, e)) == 0)
		agent_send(c);
	return r;
}

void
agent_send(struct child *c)
{
	if (c->in_fd < 0)
		return;
	/* a worker that has it reads none of it: no matter */
	(void)file_write_all(c->in_fd, agent_text, strlen(agent_text));
	close(c->in_fd);
	c->in_fd = -1;
}

/* The file that says worker w has this version of the agent: in
 * CONTROL_DIR.agents/, named after the version and where the worker is. */
static char *
stamp_path(const char *control_dir, const struct config_worker *w)
{
	char *where = xasprintf("%s\n%s\n%s\n%u", w->host,
	    w->user != NULL ? w->user : "", w->dir, w->port), *path;

	/* beside the control directory, which holds ssh's sockets alone */
	path = xasprintf("%s.agents/%s-%016llx", control_dir, agent_version(),
	    (unsigned long long)fnv1a(FNV1A_BASIS, where, strlen(where)));
	free(where);
	return path;
}

void
agent_mark_sent(const char *control_dir, const struct config_worker *w)
{
	char *path;
	int fd;

	if (control_dir == NULL || w->local)
		return;
	path = stamp_path(control_dir, w);
	*strrchr(path, '/') = '\0';
	(void)mkdir(path, 0700);
	path[strlen(path)] = '/';
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0)
		close(fd);
	free(path);
}

void
agent_ensure(const struct config *cfg, const char *control_dir,
    const unsigned char *want)
{
	struct strvec *avs;
	struct child *cs, **running;
	size_t i, n = 0;
	struct sc_err e;

	if (control_dir == NULL)
		return;
	avs = xcalloc(cfg->n_workers + 1, sizeof(*avs));
	cs = xcalloc(cfg->n_workers + 1, sizeof(*cs));
	running = xcalloc(cfg->n_workers + 1, sizeof(*running));
	for (i = 0; i < cfg->n_workers; i++) {
		const struct config_worker *w = &cfg->workers[i];
		char *stamp;
		int known;

		strvec_init(&avs[i]);
		child_init(&cs[i], NULL);
		if (w->local || (want != NULL && !want[i]))
			continue;
		stamp = stamp_path(control_dir, w);
		known = access(stamp, F_OK) == 0;
		free(stamp);
		if (!known && start_sending(cfg, w, control_dir, &avs[i],
		    &cs[i], &e) == 0)
			running[n++] = &cs[i];
	}
	if (n > 0)
		(void)child_wait_all(running, n, NULL, &e);
	for (i = 0; i < cfg->n_workers; i++) {
		if (cs[i].exited && child_exit_code(&cs[i]) == 0)
			agent_mark_sent(control_dir, &cfg->workers[i]);
		child_release(&cs[i]);
		strvec_release(&avs[i]);
	}
	free(running);
	free(cs);
	free(avs);
}

int
agent_install(const struct config *cfg, const struct config_worker *w,
    const char *control_dir, struct sc_err *e)
{
	struct strvec av = STRVEC_INIT;
	struct child c;
	struct child *cs[1];
	int r;

	if (w->local)
		return 0;
	child_init(&c, NULL);
	if ((r = start_sending(cfg, w, control_dir, &av, &c, e)) == 0) {
		cs[0] = &c;
		if ((r = child_wait_all(cs, 1, NULL, e)) == 0 &&
		    child_exit_code(&c) != 0)
			r = sc_err_set(e, SC_ERR_WORKER, "%s: cannot send the "
			    "agent (exit %d)%s%s", w->name, child_exit_code(&c),
			    *child_last_error(&c) ? ": " : "",
			    child_last_error(&c));
		if (r == 0)
			agent_mark_sent(control_dir, w);
		child_release(&c);
	}
	strvec_release(&av);
	return r;
}

int
agent_rsync_argv(struct strvec *av, const struct config *cfg,
    const struct config_worker *w, const char *control_dir,
    const char *src_dir, const char *files_from, const char *dest_subdir,
    const char *const *extra, const char *mark, struct sc_err *e)
{
	struct strvec opts = STRVEC_INIT;
	struct strbuf path = STRBUF_INIT, sb = STRBUF_INIT;
	size_t i;
	int r;

	if (mark == NULL || w->local)
		return remote_rsync_argv(av, cfg, w, control_dir, src_dir,
		    files_from, dest_subdir, extra, e);
	for (i = 0; extra != NULL && extra[i] != NULL; i++)
		strvec_push(&opts, extra[i]);
	/* the words rsync adds ("--server ...") follow: $0 is the agent,
	 * "$@" the watch's arguments and the rsync's words */
	agent_name(&path, w->dir);
	strbuf_addstr(&sb, "--rsync-path=sh -c '[ -r \"$0\" ] && exec sh "
	    "\"$0\" rsync-watch \"$@\"; shift 2; exec \"$@\"' ");
	shell_quote(&sb, path.buf);
	strbuf_addch(&sb, ' ');
	shell_quote(&sb, mark);
	strbuf_addf(&sb, " %u rsync", remote_silence(cfg));
	strvec_push(&opts, sb.buf);
	r = remote_rsync_argv(av, cfg, w, control_dir, src_dir, files_from,
	    dest_subdir, (const char *const *)opts.v, e);
	strbuf_release(&sb);
	strbuf_release(&path);
	strvec_release(&opts);
	return r;
}

int
agent_peer_args(struct strvec *args, const struct config *cfg,
    const struct config_worker *to, const char *subdir,
    const char *const *files, size_t n, const char *mark, struct sc_err *e)
{
	struct strvec av = STRVEC_INIT, words = STRVEC_INIT;
	size_t i;
	int r;

	r = agent_rsync_argv(&av, cfg, to, NULL, ".", "-", subdir, NULL, mark,
	    e);
	if (r == 0) {
		strvec_pushf(args, "%zu", n);
		for (i = 0; i < n; i++)
			strvec_push(args, files[i]);
		/* nobody reads the report of a worker's rsync: it is not
		 * asked for */
		for (i = 0; i < av.n; i++)
			if (strncmp(av.v[i], "--out-format=", 13) != 0 &&
			    strcmp(av.v[i], "--stats") != 0)
				strvec_push(&words, av.v[i]);
		strvec_pushf(args, "%zu", words.n);
		for (i = 0; i < words.n; i++)
			strvec_push(args, words.v[i]);
	}
	strvec_release(&words);
	strvec_release(&av);
	return r;
}
