/* error.c - status codes, their descriptions and exit statuses. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "banned.h"

void
sc_err_clear(struct sc_err *e)
{
	e->code = 0;
	e->sys_errno = 0;
	e->has_offset = 0;
	e->offset = 0;
	e->msg[0] = '\0';
}

static int
vset(struct sc_err *e, int code, int has_offset, uint64_t offset,
    const char *fmt, va_list ap)
{
	if (e == NULL)
		return code;
	e->code = code;
	e->sys_errno = 0;
	e->has_offset = has_offset;
	e->offset = offset;
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	return code;
}

int
sc_err_set(struct sc_err *e, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset(e, code, 0, 0, fmt, ap);
	va_end(ap);
	return code;
}

int
sc_err_at(struct sc_err *e, int code, uint64_t offset, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset(e, code, 1, offset, fmt, ap);
	va_end(ap);
	return code;
}

int
sc_err_sys(struct sc_err *e, const char *fmt, ...)
{
	int saved = errno;
	size_t len;
	va_list ap;

	if (e == NULL)
		return SC_ERR_SYSTEM;
	va_start(ap, fmt);
	vset(e, SC_ERR_SYSTEM, 0, 0, fmt, ap);
	va_end(ap);
	e->sys_errno = saved;
	len = strlen(e->msg);
	snprintf(e->msg + len, sizeof(e->msg) - len, ": %s", strerror(saved));
	errno = saved;
	return SC_ERR_SYSTEM;
}

static const struct {
	int code;
	int exit_status;
	const char *text;
} codes[] = {
	{ SC_OK, 0, "success" },
	{ SC_ERR_SYSTEM, 1, "system error" },
	{ SC_ERR_USAGE, 2, "usage error" },
	{ SC_ERR_EMPTY, 3, "empty input" },
	{ SC_ERR_NOT_CAPTURE, 4, "not a capture file" },
	{ SC_ERR_UNSUPPORTED, 5, "unsupported capture format" },
	{ SC_ERR_TRUNCATED, 6, "truncated capture" },
	{ SC_ERR_LENGTH, 7, "impossible length" },
	{ SC_ERR_TRAILER, 8, "block trailer mismatch" },
	{ SC_ERR_INTERFACE, 9, "unknown interface" },
	{ SC_ERR_DECOMPRESS, 10, "damaged compressed stream" },
	{ SC_ERR_EXISTS, 11, "output exists" },
	{ SC_ERR_LIMIT, 12, "limit reached" },
	{ SC_ERR_CONFIG, 13, "bad config" },
	{ SC_ERR_NO_CLUSTER, 14, "not in a cluster" },
	{ SC_ERR_NOT_FOUND, 15, "not found" },
	{ SC_ERR_CATALOG, 16, "catalog failure" },
	{ SC_ERR_WORKER, 20, "worker failure" },
	{ SC_ERR_JOBS, 21, "jobs failed" },
	{ SC_ERR_STORE, 22, "damaged store" },
	{ SC_ERR_MERGE, 24, "tables not mergeable" },
	{ SC_ERR_CHANGED, 25, "file changed while read" },
	{ SC_ERR_BUSY, 17, "in use" },
	{ SC_ERR_INTERRUPTED, 130, "interrupted" },
};

const char *
sc_strerror(int code)
{
	size_t i;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (codes[i].code == code)
			return codes[i].text;
	return "unknown error";
}

int
sc_exit_code(int code)
{
	size_t i;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (codes[i].code == code)
			return codes[i].exit_status;
	return 1;
}

int
sc_err_is_format(int code)
{
	return code <= SC_ERR_EMPTY && code >= SC_ERR_DECOMPRESS;
}
