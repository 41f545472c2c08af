/* strvec.h - a NULL-terminated, growable array of strings: an argv.
 * v[n] is always NULL; every string is owned by the strvec. */
#ifndef SHARDCAP_STRVEC_H
#define SHARDCAP_STRVEC_H

#include <stddef.h>

struct strvec {
	char **v;
	size_t n, alloc;
};

#define STRVEC_INIT { NULL, 0, 0 }

void strvec_init(struct strvec *sv);
void strvec_push(struct strvec *sv, const char *s);
void strvec_pushf(struct strvec *sv, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Pushes every word of s split at white space. */
void strvec_split(struct strvec *sv, const char *s);
void strvec_release(struct strvec *sv);

#endif
