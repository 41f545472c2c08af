/* xalloc.h - allocation that cannot fail: on exhaustion the process reports
 * "out of memory" and exits 1 (the one exit below the command layer, as in
 * git and tmux; there is nothing sensible to unwind to). */
#ifndef SHARDCAP_XALLOC_H
#define SHARDCAP_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
/* Grows or shrinks ptr to nmemb * size bytes, checking the multiplication. */
void *xreallocarray(void *ptr, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Returns a newly allocated formatted string. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Makes room for at least want elements in *array of *alloc. */
#define ALLOC_GROW(array, want, alloc)                                       \
	do {                                                                 \
		if ((want) > (alloc)) {                                      \
			size_t alloc_grow_n_ = (alloc) < 8 ? 8 : (alloc) * 2; \
			if (alloc_grow_n_ < (want))                          \
				alloc_grow_n_ = (want);                      \
			(array) = xreallocarray((array), alloc_grow_n_,      \
			    sizeof(*(array)));                               \
			(alloc) = alloc_grow_n_;                             \
		}                                                            \
	} while (0)

#endif
