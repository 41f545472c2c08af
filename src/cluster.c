/* cluster.c - the cluster directory. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cluster.h"
#include "file.h"
#include "remote.h"
#include "xalloc.h"
#include "banned.h"

static int
is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int
cluster_find(char **dir, struct sc_err *e)
{
	const char *env = getenv("SHARDCAP_DIR");
	char cwd[PATH_MAX], *p;

	if (env != NULL && *env != '\0') {
		char *abs = realpath(env, NULL);

		if (abs == NULL || !is_dir(abs)) {
			free(abs);
			return sc_err_set(e, SC_ERR_NO_CLUSTER, "SHARDCAP_DIR "
			    "'%s' is not a directory", env);
		}
		*dir = abs;
		return 0;
	}
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return sc_err_sys(e, "cannot find the current directory");
	for (;;) {
		char *cand = xasprintf("%s/%s", strcmp(cwd, "/") ? cwd : "",
		    CLUSTER_DIRNAME);

		if (is_dir(cand)) {
			*dir = cand;
			return 0;
		}
		free(cand);
		if (strcmp(cwd, "/") == 0)
			break;
		p = strrchr(cwd, '/');
		if (p == cwd)
			p[1] = '\0';
		else
			*p = '\0';
	}
	return sc_err_set(e, SC_ERR_NO_CLUSTER, "not in a shardcap cluster "
	    "(no %s here or above; see 'shardcap init')", CLUSTER_DIRNAME);
}

int
cluster_open(struct cluster *cl, unsigned flags, void (*waiting)(void *ctx),
    void *ctx, struct sc_err *e)
{
	char *path = NULL;
	size_t i;
	int r;

	memset(cl, 0, sizeof(*cl));
	cl->lock_fd = -1;
	cl->runs_fd = -1;
	cl->waiting = waiting;
	cl->waiting_ctx = ctx;
	config_init(&cl->cfg);
	if ((r = cluster_find(&cl->dir, e)) != 0)
		goto fail;
	if (flags & CLUSTER_READS) {
		path = xasprintf("%s/runs.lock", cl->dir);
		r = file_lock_mode(path, &cl->runs_fd, 1, waiting, ctx, e);
		free(path);
		if (r != 0)
			goto fail;
	}
	if (flags & CLUSTER_LOCK) {
		path = xasprintf("%s/lock", cl->dir);
		r = file_lock(path, &cl->lock_fd, waiting, ctx, e);
		free(path);
		if (r != 0)
			goto fail;
	}
	path = xasprintf("%s/config", cl->dir);
	r = config_load(&cl->cfg, path, e);
	free(path);
	if (r != 0)
		goto fail;
	path = xasprintf("%s/catalog.db", cl->dir);
	r = catalog_open(&cl->cat, path, e);
	free(path);
	if (r != 0)
		goto fail;
	if ((r = remote_control_dir(cl->dir, &cl->control_dir, e)) != 0)
		goto fail;
	if (flags & CLUSTER_LOCK) {
		if ((r = catalog_begin(cl->cat, e)) != 0)
			goto fail;
		for (i = 0; i < cl->cfg.n_workers && r == 0; i++) {
			int64_t id;

			r = catalog_worker_ensure(cl->cat,
			    cl->cfg.workers[i].name, &id, e);
		}
		if (r != 0) {
			catalog_rollback(cl->cat);
			goto fail;
		}
		if ((r = catalog_commit(cl->cat, e)) != 0)
			goto fail;
	}
	return 0;
fail:
	cluster_close(cl);
	return r;
}

void
cluster_close(struct cluster *cl)
{
	catalog_close(cl->cat);
	config_release(&cl->cfg);
	file_unlock(cl->lock_fd);
	file_unlock(cl->runs_fd);
	free(cl->dir);
	free(cl->control_dir);
	memset(cl, 0, sizeof(*cl));
	cl->lock_fd = -1;
	cl->runs_fd = -1;
}

int
cluster_quiesce(struct cluster *cl, struct sc_err *e)
{
	char *path;
	int r;

	if (cl->runs_exclusive)
		return 0;
	/* a query that balances afterwards lets go of its own share */
	file_unlock(cl->runs_fd);
	cl->runs_fd = -1;
	path = xasprintf("%s/runs.lock", cl->dir);
	r = file_lock_mode(path, &cl->runs_fd, 0, cl->waiting, cl->waiting_ctx,
	    e);
	free(path);
	if (r == 0)
		cl->runs_exclusive = 1;
	return r;
}

int
cluster_create(const char *top, const struct config_worker *workers,
    size_t n, struct sc_err *e)
{
	char *dir = xasprintf("%s/%s", top, CLUSTER_DIRNAME), *path;
	struct catalog *cat;
	int r;

	if (mkdir(dir, 0755) < 0) {
		if (errno == EEXIST)
			r = sc_err_set(e, SC_ERR_EXISTS, "'%s' exists already",
			    dir);
		else
			r = sc_err_sys(e, "cannot create '%s'", dir);
		free(dir);
		return r;
	}
	path = xasprintf("%s/store", dir);
	r = file_mkdirs(path, 0755, e);
	free(path);
	if (r == 0) {
		path = xasprintf("%s/ssh", dir);
		if (mkdir(path, 0700) < 0 && errno != EEXIST)
			r = sc_err_sys(e, "cannot create '%s'", path);
		free(path);
	}
	if (r == 0) {
		path = xasprintf("%s/config", dir);
		r = config_create(path, workers, n, e);
		free(path);
	}
	if (r == 0) {
		path = xasprintf("%s/catalog.db", dir);
		r = catalog_open(&cat, path, e);
		free(path);
		if (r == 0)
			catalog_close(cat);
	}
	if (r != 0)
		(void)file_remove_tree(dir, NULL);
	free(dir);
	return r;
}

char *
cluster_store_dir(const struct cluster *cl, const char *capture)
{
	return xasprintf("%s/store/%s", cl->dir, capture);
}

const struct config_worker *
cluster_worker(const struct cluster *cl, const char *name)
{
	return config_worker(&cl->cfg, name);
}

int
cluster_write_list(const struct cluster *cl, const char *prefix,
    const char *worker, const struct strbuf *list, char **path,
    struct sc_err *e)
{
	char *dir = xasprintf("%s/tmp", cl->dir);
	int r;

	*path = NULL;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		r = sc_err_sys(e, "cannot create '%s'", dir);
		free(dir);
		return r;
	}
	*path = xasprintf("%s/%s-%s-%ld.list", dir, prefix, worker,
	    (long)getpid());
	free(dir);
	return file_write_atomic(*path, list->buf, list->len, 0600, e);
}
