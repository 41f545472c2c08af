/* strbuf.h - growable byte strings.
 *
 * Invariants: buf is never NULL after strbuf_init (it points at a shared
 * empty string until the first append); buf[len] == '\0'; len < alloc
 * whenever alloc != 0. A strbuf may hold NUL bytes. */
#ifndef SHARDCAP_STRBUF_H
#define SHARDCAP_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

struct strbuf {
	size_t alloc;
	size_t len;
	char *buf;
};

extern char strbuf_empty[];
#define STRBUF_INIT { 0, 0, strbuf_empty }

void strbuf_init(struct strbuf *sb);
/* Frees the buffer and leaves sb empty and reusable. */
void strbuf_release(struct strbuf *sb);
/* Returns the buffer, which the caller frees; sb is left empty. */
char *strbuf_detach(struct strbuf *sb, size_t *len);
/* Ensures room for extra more bytes plus the terminating NUL. */
void strbuf_grow(struct strbuf *sb, size_t extra);
void strbuf_reset(struct strbuf *sb);
/* Cuts sb to len bytes (len <= sb->len). */
void strbuf_setlen(struct strbuf *sb, size_t len);
void strbuf_add(struct strbuf *sb, const void *data, size_t len);
/* Takes len bytes out at pos (pos + len at most sb->len). */
void strbuf_remove(struct strbuf *sb, size_t pos, size_t len);
void strbuf_addstr(struct strbuf *sb, const char *s);
void strbuf_addch(struct strbuf *sb, int c);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Appends c count times. */
void strbuf_addchars(struct strbuf *sb, int c, size_t count);

#endif
