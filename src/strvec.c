/* strvec.c - a NULL-terminated, growable array of strings. */
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>

#include "strbuf.h"
#include "strvec.h"
#include "xalloc.h"
#include "banned.h"

void
strvec_init(struct strvec *sv)
{
	sv->v = NULL;
	sv->n = sv->alloc = 0;
}

static void
push_owned(struct strvec *sv, char *s)
{
	ALLOC_GROW(sv->v, sv->n + 2, sv->alloc);
	sv->v[sv->n++] = s;
	sv->v[sv->n] = NULL;
}

void
strvec_push(struct strvec *sv, const char *s)
{
	push_owned(sv, xstrdup(s));
}

void
strvec_pushf(struct strvec *sv, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	push_owned(sv, strbuf_detach(&sb, NULL));
}

void
strvec_split(struct strvec *sv, const char *s)
{
	while (*s) {
		const char *start;

		while (isspace((unsigned char)*s))
			s++;
		start = s;
		while (*s && !isspace((unsigned char)*s))
			s++;
		if (s > start)
			push_owned(sv, xstrndup(start, (size_t)(s - start)));
	}
}

void
strvec_release(struct strvec *sv)
{
	size_t i;

	for (i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	strvec_init(sv);
}
