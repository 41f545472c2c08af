/* file.c - whole files: reading with a bound, writing atomically, locks. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"
#include "xalloc.h"
#include "banned.h"

int
file_read(const char *path, size_t max, struct strbuf *sb, struct sc_err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t start = sb->len;

	if (fd < 0)
		return sc_err_sys(e, "cannot open '%s'", path);
	for (;;) {
		ssize_t n;

		strbuf_grow(sb, 8192);
		n = read(fd, sb->buf + sb->len, sb->alloc - sb->len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int r = sc_err_sys(e, "cannot read '%s'", path);

			close(fd);
			return r;
		}
		if (n == 0)
			break;
		sb->len += (size_t)n;
		sb->buf[sb->len] = '\0';
		if (sb->len - start > max) {
			close(fd);
			return sc_err_set(e, SC_ERR_LIMIT,
			    "'%s' is larger than %zu bytes", path, max);
		}
	}
	close(fd);
	return 0;
}

int
file_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
file_write_atomic(const char *path, const void *data, size_t len,
    mode_t mode, struct sc_err *e)
{
	char *tmp = xasprintf("%s.tmp-XXXXXX", path);
	int fd = mkostemp(tmp, O_CLOEXEC), r = 0;

	if (fd < 0) {
		r = sc_err_sys(e, "cannot create '%s'", tmp);
		free(tmp);
		return r;
	}
	if (file_write_all(fd, data, len) < 0)
		r = sc_err_sys(e, "cannot write '%s'", tmp);
	if (r == 0 && fchmod(fd, mode) < 0)
		r = sc_err_sys(e, "cannot set the mode of '%s'", tmp);
	if (r == 0 && fsync(fd) < 0)
		r = sc_err_sys(e, "cannot write '%s'", tmp);
	if (close(fd) < 0 && r == 0)
		r = sc_err_sys(e, "cannot write '%s'", tmp);
	if (r == 0 && rename(tmp, path) < 0)
		r = sc_err_sys(e, "cannot rename '%s' to '%s'", tmp, path);
	if (r != 0)
		(void)unlink(tmp);
	free(tmp);
	return r;
}

int
file_lock_mode(const char *path, int *fd, int shared,
    void (*waiting)(void *ctx), void *ctx, struct sc_err *e)
{
	int f = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	int op = shared ? LOCK_SH : LOCK_EX;

	if (f < 0)
		return sc_err_sys(e, "cannot open the lock '%s'", path);
	if (flock(f, op | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK) {
			int r = sc_err_sys(e, "cannot lock '%s'", path);

			close(f);
			return r;
		}
		if (waiting != NULL)
			waiting(ctx);
		while (flock(f, op) < 0) {
			if (errno != EINTR) {
				int r = sc_err_sys(e, "cannot lock '%s'", path);

				close(f);
				return r;
			}
		}
	}
	*fd = f;
	return 0;
}

int
file_lock(const char *path, int *fd, void (*waiting)(void *ctx), void *ctx,
    struct sc_err *e)
{
	return file_lock_mode(path, fd, 0, waiting, ctx, e);
}

void
file_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

int
file_mkdirs(const char *path, mode_t mode, struct sc_err *e)
{
	char *p = xstrdup(path), *s;
	int r = 0;

	for (s = p + 1; r == 0; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;

		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			r = sc_err_sys(e, "cannot create directory '%s'", p);
		*s = c;
		if (c == '\0')
			break;
	}
	free(p);
	return r;
}

static int
remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		return rmdir(path) < 0 && errno != ENOENT ? -1 : 0;
	return unlink(path) < 0 && errno != ENOENT ? -1 : 0;
}

int
file_remove_tree(const char *path, struct sc_err *e)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : sc_err_sys(e, "cannot remove '%s'",
		    path);
	if (nftw(path, remove_one, 32, FTW_DEPTH | FTW_PHYS) < 0)
		return sc_err_sys(e, "cannot remove '%s'", path);
	return 0;
}
