/* remote.c - how to reach a worker: argv of ssh and rsync, quoting. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "remote.h"
#include "strvec.h"
#include "util.h"
#include "xalloc.h"
#include "banned.h"

/* A unix socket path holds 107 bytes; ssh adds "/" + 40 hex digits of %C
 * and, while it sets up the master, 17 more. */
#define CONTROL_DIR_MAX 48

void
shell_quote(struct strbuf *sb, const char *s)
{
	strbuf_addch(sb, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			strbuf_addstr(sb, "'\\''");
		else
			strbuf_addch(sb, *s);
	}
	strbuf_addch(sb, '\'');
}

int
shell_unquote(const char *s, struct strvec *words)
{
	struct strbuf w = STRBUF_INIT;

	while (*s != '\0') {
		if (*s == ' ') {
			s++;
			continue;
		}
		strbuf_reset(&w);
		while (*s != '\0' && *s != ' ') {
			if (*s == '\'') {
				const char *end = strchr(s + 1, '\'');

				if (end == NULL)
					goto bad;
				strbuf_add(&w, s + 1, (size_t)(end - s - 1));
				s = end + 1;
			} else if (*s == '\\' && s[1] != '\0') {
				strbuf_addch(&w, s[1]);
				s += 2;
			} else {
				goto bad;
			}
		}
		strvec_push(words, w.buf);
	}
	strbuf_release(&w);
	return 0;
bad:
	strbuf_release(&w);
	return -1;
}

int
remote_control_dir(const char *cluster_dir, char **out, struct sc_err *e)
{
	char *dir = xasprintf("%s/ssh", cluster_dir);
	struct stat st;

	if (strlen(dir) > CONTROL_DIR_MAX) {
		/* FNV-1a of the cluster path names its private directory. */
		uint64_t h = fnv1a(FNV1A_BASIS, cluster_dir,
		    strlen(cluster_dir));
		char *base;

		free(dir);
		base = xasprintf("/tmp/shardcap-%u", (unsigned)getuid());
		if (mkdir(base, 0700) < 0 && errno != EEXIST) {
			int r = sc_err_sys(e, "cannot create '%s'", base);

			free(base);
			return r;
		}
		/* someone else's directory must not hold our sockets */
		if (lstat(base, &st) < 0 || !S_ISDIR(st.st_mode) ||
		    st.st_uid != getuid() || (st.st_mode & 077) != 0) {
			int r = sc_err_set(e, SC_ERR_SYSTEM, "'%s' is not a "
			    "private directory of this user", base);

			free(base);
			return r;
		}
		dir = xasprintf("%s/%016llx", base, (unsigned long long)h);
		free(base);
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		int r = sc_err_sys(e, "cannot create '%s'", dir);

		free(dir);
		return r;
	}
	(void)chmod(dir, 0700);
	*out = dir;
	return 0;
}

void
remote_ssh_argv(struct strvec *av, const struct config *cfg,
    const struct config_worker *w, const char *control_dir)
{
	strvec_split(av, cfg->ssh_command);
	if (cfg->ssh_config != NULL) {
		strvec_push(av, "-F");
		strvec_push(av, cfg->ssh_config);
	}
	/* Options given with -o win over every config file. */
	strvec_push(av, "-o");
	strvec_push(av, "BatchMode=yes");
	/* a worker's ssh to another worker (control_dir NULL) has no
	 * control socket of ours to share */
	if (control_dir != NULL) {
		strvec_push(av, "-o");
		strvec_push(av, "ControlMaster=auto");
		strvec_push(av, "-o");
		strvec_pushf(av, "ControlPath=%s/%%C", control_dir);
		strvec_push(av, "-o");
		strvec_pushf(av, "ControlPersist=%u", cfg->control_persist);
	}
	strvec_push(av, "-o");
	strvec_pushf(av, "ConnectTimeout=%u", cfg->connect_timeout);
	strvec_push(av, "-o");
	strvec_pushf(av, "ServerAliveInterval=%u", cfg->alive_interval);
	strvec_push(av, "-o");
	strvec_pushf(av, "ServerAliveCountMax=%u", cfg->alive_count);
	if (w->port != 0) {
		strvec_push(av, "-p");
		strvec_pushf(av, "%u", w->port);
	}
	if (w->user != NULL) {
		strvec_push(av, "-l");
		strvec_push(av, w->user);
	}
	if (w->identity != NULL) {
		strvec_push(av, "-i");
		strvec_push(av, w->identity);
	}
	if (cfg->ssh_options != NULL)
		strvec_split(av, cfg->ssh_options);
}

unsigned
remote_silence(const struct config *cfg)
{
	return cfg->alive_interval *
	    (cfg->alive_count > 3 ? cfg->alive_count : 3);
}

void
remote_script_argv(struct strvec *av, const struct config *cfg,
    const struct config_worker *w, const char *control_dir,
    const char *script)
{
	if (w->local) {
		strvec_push(av, "sh");
		strvec_push(av, "-c");
		strvec_push(av, script);
		return;
	}
	remote_ssh_argv(av, cfg, w, control_dir);
	/* the host cannot start with '-' (config.c) but "--" costs nothing */
	strvec_push(av, "--");
	strvec_push(av, w->host);
	strvec_push(av, script);
}

/* rsync splits its -e string at spaces and honours single and double
 * quotes (not backslashes). */
static int
add_rsh_word(struct strbuf *sb, const char *s)
{
	if (sb->len > 0)
		strbuf_addch(sb, ' ');
	if (*s != '\0' && strpbrk(s, " \t'\"") == NULL) {
		strbuf_addstr(sb, s);
		return 0;
	}
	if (strchr(s, '\'') == NULL) {
		strbuf_addf(sb, "'%s'", s);
		return 0;
	}
	if (strchr(s, '"') == NULL) {
		strbuf_addf(sb, "\"%s\"", s);
		return 0;
	}
	return -1;
}

int
remote_rsync_argv(struct strvec *av, const struct config *cfg,
    const struct config_worker *w, const char *control_dir,
    const char *src_dir, const char *files_from, const char *dest_subdir,
    const char *const *extra, struct sc_err *e)
{
	struct strbuf src = STRBUF_INIT;
	size_t i;

	strvec_split(av, cfg->rsync_command);
	/* -t: keep times, so that an unchanged chunk is seen as unchanged;
	 * --partial-dir: an interrupted file is kept for the next try, but
	 * never under its real name; -s: file names are not shell words on
	 * the other side; --mkpath: create the worker's directory. */
	strvec_push(av, "-t");
	strvec_push(av, "--chmod=F644,D755");
	strvec_push(av, "--partial-dir=.shardcap-partial");
	strvec_push(av, "--mkpath");
	strvec_push(av, "-s");
	strvec_push(av, "--from0");
	strvec_pushf(av, "--files-from=%s", files_from);
	strvec_push(av, "--out-format=" REMOTE_SENT_PREFIX "%n %l %b");
	strvec_push(av, "--stats");
	for (i = 0; extra != NULL && extra[i] != NULL; i++)
		strvec_push(av, extra[i]);
	if (!w->local) {
		struct strvec ssh = STRVEC_INIT;
		struct strbuf rsh = STRBUF_INIT;

		strvec_push(av, "-z");
		strvec_pushf(av, "--compress-level=%u", cfg->compress_level);
		remote_ssh_argv(&ssh, cfg, w, control_dir);
		for (i = 0; i < ssh.n; i++) {
			if (add_rsh_word(&rsh, ssh.v[i]) != 0) {
				int r = sc_err_set(e, SC_ERR_CONFIG, "cannot pass "
				    "'%s' to rsync: it holds both kinds of quote",
				    ssh.v[i]);

				strvec_release(&ssh);
				strbuf_release(&rsh);
				return r;
			}
		}
		strvec_push(av, "-e");
		strvec_push(av, rsh.buf);
		strvec_release(&ssh);
		strbuf_release(&rsh);
	}
	strbuf_addstr(&src, src_dir);
	strbuf_addch(&src, '/');
	strvec_push(av, src.buf);
	if (w->local)
		strvec_pushf(av, "%s/%s/", w->dir, dest_subdir);
	else
		strvec_pushf(av, "%s:%s/%s/", w->host, w->dir, dest_subdir);
	strbuf_release(&src);
	return 0;
}

const char *
remote_sent_file(const char *line, size_t *len, const char **rest)
{
	const char *name, *sp;

	if (strncmp(line, REMOTE_SENT_PREFIX, strlen(REMOTE_SENT_PREFIX)) != 0)
		return NULL;
	name = line + strlen(REMOTE_SENT_PREFIX);
	sp = strchr(name, ' ');
	/* directories ("./") are reported too; only files count */
	if (sp == NULL || sp == name || sp[-1] == '/')
		return NULL;
	*len = (size_t)(sp - name);
	if (rest != NULL)
		*rest = sp + 1;
	return name;
}

int
remote_sent_add(struct remote_sent *s, const char *line, const char **rest)
{
	const char *name, *after, *sp;
	size_t len, alloc;

	if ((name = remote_sent_file(line, &len, &after)) == NULL)
		return 0;
	alloc = s->alloc;
	ALLOC_GROW(s->files, s->n + 1, s->alloc);
	if (s->alloc != alloc)
		s->bytes = xreallocarray(s->bytes, s->alloc, sizeof(*s->bytes));
	/* after the name: "LENGTH BYTES" */
	sp = strchr(after, ' ');
	s->bytes[s->n] = sp != NULL ? strtoull(sp + 1, NULL, 10) : 0;
	s->files[s->n++] = xstrndup(name, len);
	if (rest != NULL)
		*rest = after;
	return 1;
}

int
remote_sent_has(const struct remote_sent *s, const char *file)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->files[i], file) == 0)
			return 1;
	return 0;
}

uint64_t
remote_sent_bytes(const struct remote_sent *s, const char *file)
{
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->files[i], file) == 0)
			sum += s->bytes[i];
	return sum;
}

void
remote_sent_release(struct remote_sent *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->files[i]);
	free(s->files);
	free(s->bytes);
	memset(s, 0, sizeof(*s));
}

void
remote_describe(struct strbuf *sb, const struct config_worker *w)
{
	if (w->local) {
		strbuf_addf(sb, "local:%s", w->dir);
		return;
	}
	if (w->user != NULL)
		strbuf_addf(sb, "%s@", w->user);
	strbuf_addstr(sb, w->host);
	if (w->port != 0)
		strbuf_addf(sb, ":%u", w->port);
	strbuf_addf(sb, ":%s", w->dir);
}
