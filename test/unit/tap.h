/* tap.h - a small TAP producer for the unit tests.
 *
 * Every check prints "ok N - what" or "not ok N - what" with the values
 * that differed; test/run counts them. A test file exports functions of
 * type unit_fn, listed in test-main.c. */
#ifndef SHARDCAP_TAP_H
#define SHARDCAP_TAP_H

#include <stdint.h>
#include <string.h>

typedef void (*unit_fn)(void);

int tap_ok(int cond, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int tap_is_int(long long got, long long want, const char *file, int line,
    const char *what);
int tap_is_str(const char *got, const char *want, const char *file, int line,
    const char *what);
int tap_failures(void);
int tap_count(void);
/* A scratch directory for this process, created on first use. */
const char *tap_tmpdir(void);

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define is_int(got, want, what) \
	tap_is_int((long long)(got), (long long)(want), __FILE__, __LINE__, what)
#define is_str(got, want, what) \
	tap_is_str((got), (want), __FILE__, __LINE__, what)

#endif
