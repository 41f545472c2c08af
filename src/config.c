/* config.c - the cluster's config file. */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "file.h"
#include "strbuf.h"
#include "util.h"
#include "xalloc.h"
#include "banned.h"

#define CONFIG_MAX_SIZE (1u << 20)

enum key_type {
	K_SIZE,         /* uint64_t: 25M, 100MB */
	K_UINT,         /* unsigned in [min, max] */
	K_PORT,         /* unsigned 1..65535 */
	K_SECONDS,      /* unsigned: 10, 10s, 2m, 1h */
	K_PERCENT,      /* double: 10% (or 0.1) */
	K_STRING,       /* char * */
	K_PATH,         /* char *, absolute */
	K_BOOL,         /* int */
	K_DIGEST,       /* enum digest_algo */
};

struct keyword {
	const char *section;
	const char *key;
	enum key_type type;
	size_t offset;
	uint64_t min, max;
};

#define CK(s, k, t, f, lo, hi) { s, k, t, offsetof(struct config, f), lo, hi }
#define WK(k, t, f, lo, hi) { "worker", k, t, offsetof(struct config_worker, f), lo, hi }

static const struct keyword cluster_keys[] = {
	CK("cluster", "chunk-size", K_SIZE, chunk_size, 4096, 1ULL << 40),
	CK("cluster", "replicas", K_UINT, replicas, 1, 64),
	CK("cluster", "threshold", K_PERCENT, threshold, 0, 0),
	CK("cluster", "digest", K_DIGEST, digest, 0, 0),
	CK("cluster", "peer-copy", K_BOOL, peer_copy, 0, 0),
	CK("cluster", "share-local", K_BOOL, share_local, 0, 0),
	CK("ssh", "command", K_STRING, ssh_command, 0, 0),
	CK("ssh", "options", K_STRING, ssh_options, 0, 0),
	CK("ssh", "config", K_PATH, ssh_config, 0, 0),
	CK("ssh", "connect-timeout", K_SECONDS, connect_timeout, 1, 3600),
	CK("ssh", "control-persist", K_SECONDS, control_persist, 0, 86400),
	CK("ssh", "alive-interval", K_SECONDS, alive_interval, 1, 600),
	CK("ssh", "alive-count", K_UINT, alive_count, 1, 100),
	CK("rsync", "command", K_STRING, rsync_command, 0, 0),
	CK("rsync", "compress-level", K_UINT, compress_level, 0, 9),
};

static const struct keyword worker_keys[] = {
	WK("local", K_BOOL, local, 0, 0),
	WK("host", K_STRING, host, 0, 0),
	WK("port", K_PORT, port, 1, 65535),
	WK("user", K_STRING, user, 0, 0),
	WK("identity", K_PATH, identity, 0, 0),
	WK("dir", K_PATH, dir, 0, 0),
	WK("jobs", K_UINT, jobs, 0, 4096),
};

void
config_init(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->chunk_size = 25u << 20;
	cfg->replicas = 1;
	cfg->threshold = 0.10;
	cfg->digest = DIGEST_XXH128;
	cfg->share_local = 1;
	cfg->ssh_command = xstrdup("ssh");
	cfg->connect_timeout = 10;
	cfg->control_persist = 60;
	cfg->alive_interval = 5;
	cfg->alive_count = 3;
	cfg->rsync_command = xstrdup("rsync");
	cfg->compress_level = 1;
}

static void
worker_release(struct config_worker *w)
{
	free(w->name);
	free(w->host);
	free(w->user);
	free(w->identity);
	free(w->dir);
	memset(w, 0, sizeof(*w));
}

void
config_release(struct config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->n_workers; i++)
		worker_release(&cfg->workers[i]);
	free(cfg->workers);
	free(cfg->path);
	free(cfg->ssh_command);
	free(cfg->ssh_options);
	free(cfg->ssh_config);
	free(cfg->rsync_command);
	memset(cfg, 0, sizeof(*cfg));
}

const struct config_worker *
config_worker(const struct config *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < cfg->n_workers; i++)
		if (strcmp(cfg->workers[i].name, name) == 0)
			return &cfg->workers[i];
	return NULL;
}

/* A whole number of seconds, as parse_duration reads it. */
static int
parse_seconds(const char *s, uint64_t *out)
{
	double v;

	if (parse_duration(s, &v) != 0 || v != (double)(uint64_t)v)
		return -1;
	*out = (uint64_t)v;
	return 0;
}

/* Sets the field at base + k->offset from the text value. */
static int
set_value(const struct keyword *k, void *base, const char *value,
    const char *where, struct sc_err *e)
{
	char *field = (char *)base + k->offset;
	uint64_t v;
	double d;
	int algo;

	switch (k->type) {
	case K_SIZE:
		if (parse_size(value, &v) != 0 || v < k->min || v > k->max)
			goto bad;
		*(uint64_t *)(void *)field = v;
		return 0;
	case K_UINT:
	case K_PORT:
		if (parse_uint(value, k->min, k->max, &v) != 0)
			goto bad;
		*(unsigned *)(void *)field = (unsigned)v;
		return 0;
	case K_SECONDS:
		if (parse_seconds(value, &v) != 0 || v < k->min || v > k->max)
			goto bad;
		*(unsigned *)(void *)field = (unsigned)v;
		return 0;
	case K_PERCENT:
		if (parse_percent(value, &d) != 0)
			goto bad;
		*(double *)(void *)field = d;
		return 0;
	case K_BOOL:
		if (strcmp(value, "true") == 0 || strcmp(value, "yes") == 0 ||
		    strcmp(value, "1") == 0)
			*(int *)(void *)field = 1;
		else if (strcmp(value, "false") == 0 || strcmp(value, "no") == 0 ||
		    strcmp(value, "0") == 0)
			*(int *)(void *)field = 0;
		else
			goto bad;
		return 0;
	case K_DIGEST:
		if ((algo = digest_algo_from_name(value)) < 0)
			goto bad;
		*(enum digest_algo *)(void *)field = (enum digest_algo)algo;
		return 0;
	case K_PATH:
		if (value[0] != '/')
			return sc_err_set(e, SC_ERR_CONFIG,
			    "%s: %s.%s must be an absolute path, not '%s'",
			    where, k->section, k->key, value);
		/* fall through */
	case K_STRING:
		free(*(char **)(void *)field);
		*(char **)(void *)field = xstrdup(value);
		return 0;
	}
bad:
	return sc_err_set(e, SC_ERR_CONFIG, "%s: bad value '%s' for %s.%s",
	    where, value, k->section, k->key);
}

/* Splits a line into section header or key/value. Returns 1 for a header
 * (section and name set; name may be NULL), 2 for key = value, 0 for a
 * blank or comment line, -1 for a malformed one. Modifies line. */
static int
parse_line(char *line, char **section, char **name, char **key, char **value)
{
	char *p = line, *q;

	while (isspace((unsigned char)*p))
		p++;
	if (*p == '\0' || *p == '#' || *p == ';')
		return 0;
	if (*p == '[') {
		p++;
		*section = p;
		while (isalnum((unsigned char)*p) || *p == '-')
			p++;
		*name = NULL;
		if (*p == ' ' || *p == '\t') {
			*p++ = '\0';
			while (*p == ' ' || *p == '\t')
				p++;
			if (*p != '"')
				return -1;
			*name = ++p;
			if ((q = strchr(p, '"')) == NULL)
				return -1;
			*q = '\0';
			p = q + 1;
		}
		if (*p != ']')
			return -1;
		*p++ = '\0';
		while (isspace((unsigned char)*p))
			p++;
		if (*p != '\0' && *p != '#' && *p != ';')
			return -1;
		return **section ? 1 : -1;
	}
	*key = p;
	while (isalnum((unsigned char)*p) || *p == '-')
		p++;
	q = p;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p != '=' || q == *key)
		return -1;
	*q = '\0';
	p++;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '"') {
		/* quoted: \" and \\ are the escapes */
		char *w = ++p;

		*value = w;
		while (*p != '"') {
			if (*p == '\0')
				return -1;
			if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
				p++;
			*w++ = *p++;
		}
		*w = '\0';
		p++;
		while (isspace((unsigned char)*p))
			p++;
		return *p == '\0' || *p == '#' || *p == ';' ? 2 : -1;
	}
	*value = p;
	while (*p != '\0' && *p != '#' && *p != ';')
		p++;
	while (p > *value && isspace((unsigned char)p[-1]))
		p--;
	*p = '\0';
	return 2;
}

static void
lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* A host name, address or [IPv6] that cannot be taken for an option. */
static int
valid_host(const char *h)
{
	const char *p;

	if (*h == '\0' || *h == '-')
		return 0;
	for (p = h; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr(".-_:[]%", *p))
			return 0;
	return 1;
}

static int
valid_user(const char *u)
{
	const char *p;

	if (*u == '\0' || *u == '-')
		return 0;
	for (p = u; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("._-", *p))
			return 0;
	return 1;
}

/* An absolute path without "..", "." or empty components or control
 * characters: what a worker directory may be. */
static int
valid_dir(const char *d)
{
	const char *p = d;

	if (*d != '/')
		return 0;
	while (*p) {
		const char *slash = strchr(p + 1, '/');
		size_t len = slash ? (size_t)(slash - p - 1) : strlen(p + 1);

		if ((len == 1 && p[1] == '.') || (len == 2 && p[1] == '.' &&
		    p[2] == '.'))
			return 0;
		if (len == 0 && slash != NULL)
			return 0;
		p = slash ? slash : p + 1 + len;
	}
	for (p = d; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

int
config_check_worker(const struct config_worker *w, struct sc_err *e)
{
	if (!valid_name(w->name))
		return sc_err_set(e, SC_ERR_CONFIG, "bad worker name '%s': use "
		    "1-64 letters, digits, '.', '_', '-', not first '.' or '-'",
		    w->name);
	if (w->dir == NULL)
		return sc_err_set(e, SC_ERR_CONFIG, "worker '%s' has no dir",
		    w->name);
	if (!valid_dir(w->dir))
		return sc_err_set(e, SC_ERR_CONFIG, "worker '%s': bad dir '%s' "
		    "(an absolute path without '.' or '..')", w->name, w->dir);
	if (w->local) {
		if (w->host != NULL || w->user != NULL || w->port != 0 ||
		    w->identity != NULL)
			return sc_err_set(e, SC_ERR_CONFIG, "worker '%s' is "
			    "local: host, user, port and identity do not apply",
			    w->name);
		return 0;
	}
	if (w->host == NULL)
		return sc_err_set(e, SC_ERR_CONFIG, "worker '%s' has neither "
		    "host nor local = true", w->name);
	if (!valid_host(w->host))
		return sc_err_set(e, SC_ERR_CONFIG, "worker '%s': bad host '%s'",
		    w->name, w->host);
	if (w->user != NULL && !valid_user(w->user))
		return sc_err_set(e, SC_ERR_CONFIG, "worker '%s': bad user '%s'",
		    w->name, w->user);
	return 0;
}

int
config_load(struct config *cfg, const char *path, struct sc_err *e)
{
	struct strbuf text = STRBUF_INIT;
	struct config_worker *w = NULL;
	char section[32] = "", *line, *next;
	int lineno = 0, r = 0;
	size_t i;

	free(cfg->path);
	cfg->path = xstrdup(path);
	if ((r = file_read(path, CONFIG_MAX_SIZE, &text, e)) != 0)
		return r;
	for (line = text.buf; line != NULL && r == 0; line = next) {
		char *sec, *name, *key, *value, where[300];
		const struct keyword *table;
		size_t n;

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		lineno++;
		snprintf(where, sizeof(where), "'%s' line %d", path, lineno);
		switch (parse_line(line, &sec, &name, &key, &value)) {
		case 0:
			continue;
		case -1:
			r = sc_err_set(e, SC_ERR_CONFIG, "%s: cannot parse '%s'",
			    where, line);
			continue;
		case 1:
			lower(sec);
			w = NULL;
			if (strcmp(sec, "worker") == 0) {
				if (name == NULL || !valid_name(name)) {
					r = sc_err_set(e, SC_ERR_CONFIG,
					    "%s: a worker section needs a valid "
					    "name: [worker \"NAME\"]", where);
					continue;
				}
				if (config_worker(cfg, name) != NULL) {
					r = sc_err_set(e, SC_ERR_CONFIG,
					    "%s: worker '%s' defined twice",
					    where, name);
					continue;
				}
				ALLOC_GROW(cfg->workers, cfg->n_workers + 1,
				    cfg->alloc_workers);
				w = &cfg->workers[cfg->n_workers++];
				memset(w, 0, sizeof(*w));
				w->name = xstrdup(name);
				w->line = lineno;
			} else if (name != NULL || (strcmp(sec, "cluster") &&
			    strcmp(sec, "ssh") && strcmp(sec, "rsync"))) {
				r = sc_err_set(e, SC_ERR_CONFIG,
				    "%s: unknown section [%s%s%s%s]", where, sec,
				    name ? " \"" : "", name ? name : "",
				    name ? "\"" : "");
				continue;
			}
			snprintf(section, sizeof(section), "%s", sec);
			continue;
		}
		lower(key);
		if (section[0] == '\0') {
			r = sc_err_set(e, SC_ERR_CONFIG,
			    "%s: '%s' outside any section", where, key);
			continue;
		}
		if (w != NULL) {
			table = worker_keys;
			n = ARRAY_SIZE(worker_keys);
		} else {
			table = cluster_keys;
			n = ARRAY_SIZE(cluster_keys);
		}
		for (i = 0; i < n; i++)
			if (strcmp(table[i].section, section) == 0 &&
			    strcmp(table[i].key, key) == 0)
				break;
		if (i == n) {
			r = sc_err_set(e, SC_ERR_CONFIG, "%s: unknown key '%s.%s'",
			    where, section, key);
			continue;
		}
		r = set_value(&table[i], w != NULL ? (void *)w : (void *)cfg,
		    value, where, e);
	}
	for (i = 0; r == 0 && i < cfg->n_workers; i++) {
		struct sc_err we;

		if (config_check_worker(&cfg->workers[i], &we) != 0)
			r = sc_err_set(e, SC_ERR_CONFIG, "'%s' line %d: %s", path,
			    cfg->workers[i].line, we.msg);
	}
	strbuf_release(&text);
	return r;
}

/* Appends value, quoted if it needs to be. */
static void
add_value(struct strbuf *sb, const char *v)
{
	const char *p;
	int plain = *v != '\0' && !isspace((unsigned char)*v);

	for (p = v; *p && plain; p++)
		if (*p == '"' || *p == '\\' || *p == '#' || *p == ';')
			plain = 0;
	if (plain && !isspace((unsigned char)p[-1])) {
		strbuf_addstr(sb, v);
		return;
	}
	strbuf_addch(sb, '"');
	for (p = v; *p; p++) {
		if (*p == '"' || *p == '\\')
			strbuf_addch(sb, '\\');
		strbuf_addch(sb, *p);
	}
	strbuf_addch(sb, '"');
}

static void
add_worker_section(struct strbuf *sb, const struct config_worker *w)
{
	strbuf_addf(sb, "[worker \"%s\"]\n", w->name);
	if (w->local)
		strbuf_addstr(sb, "\tlocal = true\n");
	if (w->host != NULL) {
		strbuf_addstr(sb, "\thost = ");
		add_value(sb, w->host);
		strbuf_addch(sb, '\n');
	}
	if (w->port != 0)
		strbuf_addf(sb, "\tport = %u\n", w->port);
	if (w->user != NULL)
		strbuf_addf(sb, "\tuser = %s\n", w->user);
	if (w->identity != NULL) {
		strbuf_addstr(sb, "\tidentity = ");
		add_value(sb, w->identity);
		strbuf_addch(sb, '\n');
	}
	strbuf_addstr(sb, "\tdir = ");
	add_value(sb, w->dir);
	strbuf_addch(sb, '\n');
	if (w->jobs != 0)
		strbuf_addf(sb, "\tjobs = %u\n", w->jobs);
}

int
config_add_worker(const char *path, const struct config_worker *w,
    struct sc_err *e)
{
	struct strbuf text = STRBUF_INIT;
	int r;

	if ((r = config_check_worker(w, e)) != 0)
		return r;
	if ((r = file_read(path, CONFIG_MAX_SIZE, &text, e)) != 0)
		return r;
	if (text.len > 0 && text.buf[text.len - 1] != '\n')
		strbuf_addch(&text, '\n');
	add_worker_section(&text, w);
	r = file_write_atomic(path, text.buf, text.len, 0644, e);
	strbuf_release(&text);
	return r;
}

int
config_remove_worker(const char *path, const char *name, struct sc_err *e)
{
	struct strbuf text = STRBUF_INIT, out = STRBUF_INIT;
	char *line, *next;
	int r, skipping = 0, found = 0;

	if ((r = file_read(path, CONFIG_MAX_SIZE, &text, e)) != 0)
		return r;
	for (line = text.buf; line != NULL && *line != '\0'; line = next) {
		char *copy, *sec, *nm, *key, *value;
		size_t len;

		next = strchr(line, '\n');
		len = next ? (size_t)(next - line + 1) : strlen(line);
		if (next != NULL)
			next++;
		copy = xstrndup(line, len);
		if (len > 0 && copy[len - 1] == '\n')
			copy[len - 1] = '\0';
		if (parse_line(copy, &sec, &nm, &key, &value) == 1) {
			lower(sec);
			skipping = strcmp(sec, "worker") == 0 && nm != NULL &&
			    strcmp(nm, name) == 0;
			found |= skipping;
		}
		free(copy);
		if (!skipping)
			strbuf_add(&out, line, len);
	}
	if (!found)
		r = sc_err_set(e, SC_ERR_NOT_FOUND, "no worker '%s' in '%s'",
		    name, path);
	else
		r = file_write_atomic(path, out.buf, out.len, 0644, e);
	strbuf_release(&text);
	strbuf_release(&out);
	return r;
}

int
config_create(const char *path, const struct config_worker *workers,
    size_t n, struct sc_err *e)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;
	int r;

	strbuf_addstr(&sb,
	    "# shardcap cluster configuration; every key is described in\n"
	    "# docs/config.md. 'shardcap worker add' and 'worker rm' edit the\n"
	    "# worker sections.\n"
	    "[cluster]\n"
	    "\tchunk-size = 25M\n"
	    "\treplicas = 1\n"
	    "\tthreshold = 10%\n"
	    "\tdigest = xxh128\n"
	    "[ssh]\n"
	    "\tconnect-timeout = 10\n"
	    "\tcontrol-persist = 60\n");
	for (i = 0; i < n; i++)
		add_worker_section(&sb, &workers[i]);
	r = file_write_atomic(path, sb.buf, sb.len, 0644, e);
	strbuf_release(&sb);
	return r;
}
