/* tap.c - a small TAP producer for the unit tests. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"

static int count, failures;
static char tmpdir[256];

int
tap_ok(int cond, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	count++;
	printf("%sok %d - ", cond ? "" : "not ", count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!cond) {
		failures++;
		printf("#   failed at %s:%d\n", file, line);
	}
	fflush(stdout);
	return cond;
}

int
tap_is_int(long long got, long long want, const char *file, int line,
    const char *what)
{
	if (!tap_ok(got == want, file, line, "%s", what)) {
		printf("#        got: %lld\n#   expected: %lld\n", got, want);
		return 0;
	}
	return 1;
}

int
tap_is_str(const char *got, const char *want, const char *file, int line,
    const char *what)
{
	int same = got != NULL && want != NULL && strcmp(got, want) == 0;

	if (!tap_ok(same, file, line, "%s", what)) {
		printf("#        got: '%s'\n#   expected: '%s'\n",
		    got ? got : "(null)", want ? want : "(null)");
		return 0;
	}
	return 1;
}

int
tap_failures(void)
{
	return failures;
}

int
tap_count(void)
{
	return count;
}

const char *
tap_tmpdir(void)
{
	if (tmpdir[0] == '\0') {
		const char *base = getenv("TMPDIR");

		snprintf(tmpdir, sizeof(tmpdir), "%s/shardcap-unit-XXXXXX",
		    base ? base : "/tmp");
		if (mkdtemp(tmpdir) == NULL) {
			perror("mkdtemp");
			exit(2);
		}
	}
	return tmpdir;
}
