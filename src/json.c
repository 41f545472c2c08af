/* json.c - writing JSON to a stream, for --json output. */
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "json.h"
#include "banned.h"

void
json_init(struct json *j, FILE *f)
{
	memset(j, 0, sizeof(*j));
	j->f = f;
}

/* Length of the valid UTF-8 sequence at p (2-4), or 0. */
static size_t
utf8_len(const unsigned char *p)
{
	size_t n, i;
	uint32_t cp;

	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 2;
		cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		cp = p[0] & 0x07;
	} else {
		return 0;
	}
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	/* overlong forms, surrogates, beyond U+10FFFF */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

static void
put_string(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n;

	putc('"', f);
	while (*p != '\0') {
		switch (*p) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		default:
			if (*p >= 0x80 && (n = utf8_len(p)) > 0) {
				fwrite(p, 1, n, f);
				p += n;
				continue;
			}
			if (*p < 0x20 || *p >= 0x7f)
				fprintf(f, "\\u%04x", *p);
			else
				putc(*p, f);
		}
		p++;
	}
	putc('"', f);
}

/* Starts a member: separator, indentation and key. */
static void
member(struct json *j, const char *key)
{
	int i;

	if (j->depth > 0) {
		if (j->has_members[j->depth])
			putc(',', j->f);
		putc('\n', j->f);
		for (i = 0; i < j->depth; i++)
			fputs("  ", j->f);
	}
	j->has_members[j->depth] = 1;
	if (key != NULL) {
		put_string(j->f, key);
		fputs(": ", j->f);
	}
}

static void
open_scope(struct json *j, const char *key, int c)
{
	member(j, key);
	putc(c, j->f);
	if (j->depth + 1 < JSON_MAX_DEPTH)
		j->depth++;
	j->has_members[j->depth] = 0;
}

static void
close_scope(struct json *j, int c)
{
	int i, had = j->has_members[j->depth];

	if (j->depth > 0)
		j->depth--;
	if (had) {
		putc('\n', j->f);
		for (i = 0; i < j->depth; i++)
			fputs("  ", j->f);
	}
	putc(c, j->f);
}

void
json_object_begin(struct json *j, const char *key)
{
	open_scope(j, key, '{');
}

void
json_object_end(struct json *j)
{
	close_scope(j, '}');
}

void
json_array_begin(struct json *j, const char *key)
{
	open_scope(j, key, '[');
}

void
json_array_end(struct json *j)
{
	close_scope(j, ']');
}

void
json_string(struct json *j, const char *key, const char *value)
{
	member(j, key);
	if (value == NULL)
		fputs("null", j->f);
	else
		put_string(j->f, value);
}

void
json_uint(struct json *j, const char *key, uint64_t value)
{
	member(j, key);
	fprintf(j->f, "%" PRIu64, value);
}

void
json_int(struct json *j, const char *key, int64_t value)
{
	member(j, key);
	fprintf(j->f, "%" PRId64, value);
}

void
json_double(struct json *j, const char *key, double value)
{
	member(j, key);
	if (isfinite(value))
		fprintf(j->f, "%.6g", value);
	else
		fputs("null", j->f);
}

void
json_bool(struct json *j, const char *key, int value)
{
	member(j, key);
	fputs(value ? "true" : "false", j->f);
}

void
json_null(struct json *j, const char *key)
{
	member(j, key);
	fputs("null", j->f);
}

void
json_finish(struct json *j)
{
	putc('\n', j->f);
}
