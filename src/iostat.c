/* iostat.c - tshark's -z io,stat table read, summed and drawn again
 * (iostat.h). The drawing follows what tshark 4.0 prints, found by
 * reading its tables: every number below (the widths 6 and 5, the 25 and
 * 30 of the border, the 102 of a long filter) is the width tshark gives. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iostat.h"
#include "xalloc.h"
#include "banned.h"

#define US_PER_S UINT64_C(1000000)

static const char *const type_name[] = {
	"FRAMES", "BYTES", "FRAMES BYTES", "COUNT", "SUM", "MIN", "MAX", "AVG",
	"LOAD",
};

/* A column's calculation, as tshark finds it: the last of its names the
 * column begins with, up to one followed by '(' (*paren then says where
 * the field's closing ')' is, or NULL). */
static enum io_type
column_type(const char *col, const char **paren)
{
	enum io_type t = IO_FRAMES_BYTES;
	size_t k;

	*paren = NULL;
	if (col == NULL)
		return t;
	for (k = 0; k < sizeof(type_name) / sizeof(type_name[0]); k++) {
		size_t len = strlen(type_name[k]);

		if (strncmp(col, type_name[k], len) != 0)
			continue;
		t = (enum io_type)k;
		if (col[len] == '(') {
			*paren = strchr(col + len + 1, ')');
			break;
		}
	}
	return t;
}

static char *
strip(const char *p, size_t len)
{
	while (len > 0 && (*p == ' ' || *p == '\t' || *p == '\n')) {
		p++;
		len--;
	}
	while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t' ||
	    p[len - 1] == '\n'))
		len--;
	return xstrndup(p, len);
}

int
iostat_spec(struct io_spec *s, const char *z, const char **why)
{
	const char *p, *cols, *comma;
	char *end;
	double f;
	size_t i;

	memset(s, 0, sizeof(*s));
	if (strncmp(z, "io,stat,", 8) != 0 || z[strlen(z) - 1] == ',') {
		*why = "it is not io,stat,INTERVAL[,COLUMN...]";
		return -1;
	}
	f = strtod(z + 8, &end);
	if (end == z + 8 || (*end != '\0' && *end != ',') || !(f >= 0) ||
	    f > 1e9) {
		*why = "its interval is not a number of seconds as shardcap "
		    "reads one";
		return -1;
	}
	cols = end;
	if (f == 0) {
		s->interval = UINT64_MAX;
	} else {
		uint64_t k;

		s->interval = (uint64_t)(f * 1e6 + 0.5);
		if (s->interval == 0) {
			*why = "its interval is under a microsecond";
			return -1;
		}
		s->prec = 6;
		for (k = 10; k < 10000000; k *= 10) {
			if (s->interval % k > 0)
				break;
			s->prec--;
		}
		/* "1.00": as many decimals as written (tshark looks for them
		 * up to the first comma, which there must then be) */
		p = memchr(z + 8, '.', (size_t)(end - (z + 8)));
		if (s->prec == 0 && p != NULL) {
			if (*end != ',') {
				*why = "an interval written with decimals needs "
				    "a column after it";
				return -1;
			}
			if (end - p - 1 > 0)
				s->prec = (unsigned)(end - p - 1 < 6 ?
				    end - p - 1 : 6);
		}
	}
	/* The columns, split at every comma: a filter with a comma of its
	 * own makes more of them than tshark's table has, which the
	 * merge finds. */
	if (*cols == '\0') {
		s->n_cols = 1;
	} else {
		for (p = cols + 1; ; p = comma + 1) {
			if (s->n_cols == IOSTAT_MAX_COLS) {
				*why = "it has too many columns";
				return -1;
			}
			comma = strchr(p, ',');
			if (comma == NULL) {
				char *c = strip(p, strlen(p));

				if (*c == '\0') {
					free(c);
					c = NULL;
				}
				s->col[s->n_cols++] = c;
				break;
			}
			s->col[s->n_cols++] = comma == p ? NULL :
			    strip(p, (size_t)(comma - p));
		}
	}
	for (i = 0; i < s->n_cols; i++) {
		const char *c = s->col[i], *paren;
		enum io_type t = column_type(c, &paren);

		s->type[i] = t;
		if (t == IO_MIN || t == IO_AVG || t == IO_LOAD) {
			*why = "its MIN, AVG and LOAD columns do not add up "
			    "(MIN depends on which packet came first in an "
			    "interval, AVG is printed rounded)";
			return -1;
		}
		if (c != NULL && t != IO_FRAMES_BYTES && paren == NULL &&
		    t != IO_FRAMES && t != IO_BYTES) {
			*why = "a COUNT, SUM or MAX column needs its field in "
			    "parentheses";
			return -1;
		}
		s->plain[i] = c == NULL || strcmp(c, "FRAMES") == 0 ||
		    strcmp(c, "BYTES") == 0 || strcmp(c, "FRAMES()") == 0 ||
		    strcmp(c, "BYTES()") == 0 || strcmp(c, "FRAMES BYTES()") == 0;
	}
	return 0;
}

void
iostat_spec_release(struct io_spec *s)
{
	size_t i;

	for (i = 0; i < s->n_cols; i++)
		free(s->col[i]);
	memset(s, 0, sizeof(*s));
}

static int
starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int
all_is(const char *s, int c)
{
	size_t n = strspn(s, (const char[]){ (char)c, '\0' });

	return n > 0 && s[n] == '\0';
}

/* tshark's microseconds of a time in nanoseconds: rounded */
static uint64_t
micros(uint64_t ns)
{
	return ns / 1000000000 * US_PER_S + (ns % 1000000000 + 500) / 1000;
}

/* a's rows up to rows, the new ones zero */
static void
grow_rows(struct io_table *a, size_t rows)
{
	size_t old = a->n_rows * a->n_cols, alloc = a->alloc_cells;

	if (rows <= a->n_rows)
		return;
	ALLOC_GROW(a->frames, rows * a->n_cols, a->alloc_cells);
	if (a->alloc_cells != alloc)
		a->value = xreallocarray(a->value, a->alloc_cells,
		    sizeof(*a->value));
	memset(a->frames + old, 0, (rows * a->n_cols - old) * sizeof(uint64_t));
	memset(a->value + old, 0, (rows * a->n_cols - old) * sizeof(uint64_t));
	a->n_rows = rows;
}

/* One row's numbers, after its interval: each cell " N |"; a last cell of
 * spaces is the border's filler. */
static int
parse_row(struct io_table *t, const char *line, const char **why)
{
	const char *p = strchr(line + 1, '|');
	size_t col = 0, half = 0, row = t->n_rows;

	if (p == NULL) {
		*why = "a row has no interval";
		return -1;
	}
	if ((row + 1) * t->n_cols > IOSTAT_MAX_CELLS) {
		*why = "it has more than 8 million cells (a shorter capture "
		    "or a longer interval)";
		return -1;
	}
	grow_rows(t, row + 1);
	for (p++; *p != '\0'; ) {
		const char *bar = strchr(p, '|');
		const char *q = p;
		uint64_t v = 0;
		size_t digits = 0;

		if (bar == NULL) {
			*why = "a row's last cell is not closed";
			return -1;
		}
		while (q < bar && *q == ' ')
			q++;
		if (q == bar) {                 /* the filler */
			if (bar[1] != '\0') {
				*why = "a row has an empty cell";
				return -1;
			}
			break;
		}
		for (; q < bar && *q >= '0' && *q <= '9'; q++, digits++) {
			if (v > (UINT64_MAX - 9) / 10) {
				*why = "a value is too large";
				return -1;
			}
			v = v * 10 + (uint64_t)(*q - '0');
		}
		while (q < bar && *q == ' ')
			q++;
		if (digits == 0 || q != bar) {
			*why = "a value is not a whole number (a SUM or MAX of "
			    "a time, a real or a negative field is printed "
			    "rounded or cannot be added)";
			return -1;
		}
		if (col >= t->n_cols) {
			*why = "a row has more cells than the table has columns";
			return -1;
		}
		if (t->type[col] == IO_FRAMES_BYTES && half == 0) {
			t->frames[row * t->n_cols + col] = v;
			half = 1;
		} else {
			if (t->type[col] == IO_FRAMES)
				t->frames[row * t->n_cols + col] = v;
			else
				t->value[row * t->n_cols + col] = v;
			half = 0;
			col++;
		}
		p = bar + 1;
	}
	if (col != t->n_cols) {
		*why = "a row has fewer cells than the table has columns";
		return -1;
	}
	return 0;
}

int
iostat_parse(struct io_table *t, char *const *lines, size_t n,
    const char **why)
{
	size_t i, k;

	memset(t, 0, sizeof(*t));
	*why = "it is not tshark's io,stat table";
	if (n < 10 || !all_is(lines[0], '=') || !all_is(lines[n - 1], '=') ||
	    !starts(lines[1], "| IO Statistics"))
		return -1;
	for (i = 2; i < n && !starts(lines[i], "| Col"); i++)
		;
	/* the columns: "| Col 1: FILTER   |", then "|     2: ..." */
	for (; i < n && !starts(lines[i], "|-"); i++) {
		const char *l = lines[i], *text, *bar;
		const char *paren;

		if (strlen(l) < 10 || (!starts(l, "| Col") &&
		    !starts(l, "|    ")) || l[6] < '0' || l[6] > '9' ||
		    l[7] != ':' || l[8] != ' ') {
			*why = "a column's filter is written over two lines";
			goto bad;
		}
		if (t->n_cols == IOSTAT_MAX_COLS) {
			*why = "it has too many columns";
			goto bad;
		}
		text = l + 9;
		bar = l + strlen(l) - 1;
		if (*bar != '|' || bar < text)
			goto bad;
		while (bar > text && bar[-1] == ' ')
			bar--;
		t->filter[t->n_cols] = xstrndup(text, (size_t)(bar - text));
		if (strcmp(t->filter[t->n_cols], "Frames and bytes") == 0) {
			free(t->filter[t->n_cols]);
			t->filter[t->n_cols] = NULL;
		}
		t->type[t->n_cols] = column_type(t->filter[t->n_cols], &paren);
		t->n_cols++;
	}
	/* the rule, the column numbers, the names, a rule, the rows */
	if (t->n_cols == 0 || i + 4 >= n || !starts(lines[i + 3], "|-")) {
		*why = "it is not tshark's io,stat table";
		goto bad;
	}
	for (k = 0; k < t->n_cols; k++)
		if (t->type[k] == IO_MIN || t->type[k] == IO_AVG ||
		    t->type[k] == IO_LOAD) {
			*why = "it has a MIN, AVG or LOAD column";
			goto bad;
		}
	for (i += 4; i < n - 1; i++)
		if (parse_row(t, lines[i], why) != 0)
			goto bad;
	return 0;
bad:
	iostat_release(t);
	return -1;
}

size_t
iostat_unlike(const struct io_table *t, const struct io_spec *s)
{
	size_t k;

	for (k = 0; k < s->n_cols; k++)
		if (k >= t->n_cols || t->type[k] != s->type[k] ||
		    (t->filter[k] == NULL) != (s->col[k] == NULL) ||
		    (s->col[k] != NULL && strcmp(t->filter[k], s->col[k]) != 0))
			return k + 1;
	return 0;
}

void
iostat_add(struct io_table *a, const struct io_table *b)
{
	size_t r, k;

	grow_rows(a, b->n_rows);
	for (r = 0; r < b->n_rows; r++)
		for (k = 0; k < a->n_cols; k++) {
			size_t x = r * a->n_cols + k;

			a->frames[x] += b->frames[x];
			if (a->type[k] == IO_MAX)
				a->value[x] = a->value[x] > b->value[x] ?
				    a->value[x] : b->value[x];
			else
				a->value[x] += b->value[x];
		}
}

int
iostat_take(struct io_table *a, const struct io_table *ref, uint64_t times)
{
	size_t k;

	if (ref->n_rows == 0)
		return 0;
	grow_rows(a, 1);
	for (k = 0; k < a->n_cols; k++) {
		uint64_t f = ref->frames[k] * times, v = ref->value[k] * times;

		if (a->type[k] == IO_MAX) {
			if (ref->value[k] != 0)
				return -1;
			continue;
		}
		if (a->frames[k] < f || a->value[k] < v)
			return -1;
		a->frames[k] -= f;
		a->value[k] -= v;
	}
	return 0;
}

uint64_t
iostat_last_row(const struct io_spec *s, uint64_t elapsed_ns)
{
	uint64_t dur = micros(elapsed_ns);

	return s->interval > dur ? 0 : dur / s->interval;
}

void
iostat_release(struct io_table *t)
{
	size_t k;

	for (k = 0; k < t->n_cols; k++)
		free(t->filter[k]);
	free(t->frames);
	free(t->value);
	memset(t, 0, sizeof(*t));
}

/* --- drawing --- */

static unsigned
magnitude(uint64_t v, unsigned max_w)
{
	unsigned i, mag = 0;

	for (i = 0; i < max_w; i++) {
		mag++;
		if ((v /= 10) == 0)
			break;
	}
	return mag;
}

static void
repeat(struct strbuf *out, int c, size_t n)
{
	while (n-- > 0)
		strbuf_addch(out, c);
}

/* "%*s" of "|" that ends a line at width w, from where it is now */
static void
close_at(struct strbuf *out, size_t line_start, size_t w)
{
	size_t used = out->len - line_start;

	strbuf_addf(out, "%*s\n", (int)(w > used ? w - used : 1), "|");
}

/* A name centred over a column of width w, as tshark does (and, past a
 * width of 10 more than the name, does not). */
static void
centre(struct strbuf *out, const char *label, unsigned w)
{
	int lab = (int)strlen(label), len = 6 - (((int)w - lab) / 2 + 1);

	if (len > 0 && len < 6) {
		int pad = 6 - len;

		strbuf_addf(out, "%*s%s%*s|", ((int)w - lab) % 2 == 0 ? pad :
		    pad + 1, "", label, pad, "");
	} else if (len > 0 && len <= 15) {
		strbuf_addf(out, "%s|", label);
	}
}

/* "| NAME: VALUE secs", then spaces to the border as if VALUE were w
 * characters */
static void
head_line(struct strbuf *out, const char *name, const char *value, int w,
    size_t borderlen)
{
	int pad = (int)borderlen - (12 + w + 5 + 1);

	strbuf_addf(out, "| %s: %s secs%*s|\n", name, value, pad > 0 ? pad : 0,
	    "");
}

void
iostat_draw(const struct io_table *t, const struct io_spec *s,
    uint64_t elapsed_ns, struct strbuf *out)
{
	uint64_t duration, interval, dv = US_PER_S, tt, max_f, max_v;
	unsigned dur_mag, mag0, invl_mag, prec, fr[IOSTAT_MAX_COLS],
	    val[IOSTAT_MAX_COLS], invl_col_w, k, i;
	size_t borderlen, tabrow_w, maxfltr_w = 0, row, start;
	int whole = 0;
	char b1[48], b2[48];

	duration = micros(elapsed_ns);
	if (s->interval > duration || s->interval == UINT64_MAX) {
		interval = duration;
		whole = 1;
	} else {
		interval = s->interval;
	}
	dur_mag = magnitude(duration / US_PER_S, 5);
	invl_mag = magnitude(interval / US_PER_S, 5);
	if (interval == duration) {
		prec = dur_mag >= 2 ? 1 : dur_mag == 1 ? 3 : 6;
		borderlen = 30 + dur_mag + (prec == 0 ? 0 : prec + 1);
	} else {
		prec = s->prec;
		borderlen = 25 + (invl_mag > dur_mag ? invl_mag : dur_mag) +
		    (prec == 0 ? 0 : prec + 1);
	}
	for (i = 0; i < prec; i++)
		dv /= 10;
	/* The duration rounded to the decimals shown: its seconds' width
	 * before (mag0) is that of the numbers printed, after (dur_mag)
	 * that of the spaces around them */
	mag0 = dur_mag;
	if (duration % dv > 5 * (dv / 10)) {
		duration += 5 * (dv / 10);
		duration = duration / dv * dv;
		dur_mag = magnitude(duration / US_PER_S, 5);
	}
	if (whole)
		interval = duration;
	invl_col_w = prec == 0 ? 2 * dur_mag + 8 :
	    2 * dur_mag + 2 * prec + 10;
	if (invl_col_w < 12)
		invl_col_w = 12;

	tabrow_w = invl_col_w;
	for (k = 0; k < t->n_cols; k++) {
		unsigned least = t->type[k] == IO_SUM || t->type[k] == IO_MAX ?
		    3 : 5;

		max_f = max_v = 0;
		for (row = 0; row < t->n_rows; row++) {
			if (t->frames[row * t->n_cols + k] > max_f)
				max_f = t->frames[row * t->n_cols + k];
			if (t->value[row * t->n_cols + k] > max_v)
				max_v = t->value[row * t->n_cols + k];
		}
		fr[k] = magnitude(max_f, 15);
		if (fr[k] < 6)
			fr[k] = 6;
		val[k] = magnitude(max_v, 15);
		if (val[k] < least)
			val[k] = least;
		if (t->type[k] == IO_FRAMES)
			tabrow_w += fr[k] + 3;
		else if (t->type[k] == IO_FRAMES_BYTES)
			tabrow_w += fr[k] + 3 + val[k] + 3;
		else
			tabrow_w += val[k] + 3;
		i = t->filter[k] != NULL ? (unsigned)strlen(t->filter[k]) + 11 :
		    26;
		if (i > maxfltr_w)
			maxfltr_w = i;
	}
	if (tabrow_w > borderlen)
		borderlen = tabrow_w;
	if (maxfltr_w > borderlen && borderlen < 102)
		borderlen = maxfltr_w < 102 ? maxfltr_w : 102;
	if (borderlen - tabrow_w == 1)
		borderlen++;

	/* the head */
	repeat(out, '=', borderlen);
	strbuf_addf(out, "\n|%-*s|\n", (int)borderlen - 2, " IO Statistics");
	strbuf_addf(out, "|%-*s|\n", (int)borderlen - 2, "");
	{
		/* "%*u.%0*u secs" and spaces to where that would end at the
		 * width of the duration's seconds, even when it does not:
		 * the seconds past 99999 push the border out */
		unsigned dmag = magnitude(elapsed_ns / 1000000000, 5);
		int w = (int)dur_mag + (prec == 0 ? 0 : (int)prec + 1);
		uint64_t unit = 1, rounded;

		for (i = prec == 0 ? 6 : prec; i < 9; i++)
			unit *= 10;
		rounded = (elapsed_ns + unit / 2) / unit * unit;
		if (prec == 0) {
			/* microseconds, padded with spaces ("4.  9489") */
			uint64_t us = micros(elapsed_ns);

			snprintf(b1, sizeof(b1), "%*" PRIu64 ".%6" PRIu64,
			    (int)dmag, us / US_PER_S, us % US_PER_S);
			snprintf(b2, sizeof(b2), "%*" PRIu64, (int)dmag,
			    interval / US_PER_S);
			head_line(out, "Duration", b1, w + 7, borderlen);
		} else {
			snprintf(b1, sizeof(b1), "%*" PRIu64 ".%0*" PRIu64,
			    (int)dmag, rounded / 1000000000, (int)prec,
			    rounded % 1000000000 / unit);
			snprintf(b2, sizeof(b2), "%*" PRIu64 ".%0*" PRIu64,
			    (int)dmag, interval / US_PER_S, (int)prec,
			    interval % US_PER_S / dv);
			head_line(out, "Duration", b1, w, borderlen);
		}
		head_line(out, "Interval", b2, w, borderlen);
	}
	strbuf_addf(out, "|%-*s|\n", (int)borderlen - 2, "");
	for (k = 0; k < t->n_cols; k++) {
		start = out->len;
		strbuf_addf(out, "%s%2u: %s", k == 0 ? "| Col" : "|    ",
		    k + 1, t->filter[k] != NULL ? t->filter[k] :
		    "Frames and bytes");
		close_at(out, start, borderlen);
	}
	strbuf_addstr(out, "|-");
	repeat(out, '-', borderlen - 3);
	strbuf_addstr(out, "|\n");

	/* the column numbers and names */
	strbuf_addf(out, "|%*s", (int)invl_col_w - 1, "|");
	for (k = 0; k < t->n_cols; k++)
		strbuf_addf(out, "%-2u%*s|", k + 1, (int)(t->type[k] ==
		    IO_FRAMES_BYTES ? fr[k] + val[k] + 3 : t->type[k] ==
		    IO_FRAMES ? fr[k] : val[k]), "");
	if (tabrow_w < borderlen)
		strbuf_addf(out, "%*s", (int)(borderlen - tabrow_w), "|");
	strbuf_addf(out, "\n| Interval%*s", (int)invl_col_w - 10, "|");
	for (k = 0; k < t->n_cols; k++) {
		if (t->type[k] == IO_FRAMES_BYTES) {
			centre(out, "Frames", fr[k]);
			centre(out, "Bytes", val[k]);
		} else {
			centre(out, type_name[t->type[k]], t->type[k] ==
			    IO_FRAMES ? fr[k] : val[k]);
		}
	}
	if (tabrow_w < borderlen)
		strbuf_addf(out, "%*s", (int)(borderlen - tabrow_w), "|");
	strbuf_addstr(out, "\n|-");
	repeat(out, '-', tabrow_w - 3);
	strbuf_addch(out, '|');
	if (tabrow_w < borderlen)
		strbuf_addf(out, "%*s", (int)(borderlen - tabrow_w), "|");
	strbuf_addch(out, '\n');

	/* the rows */
	for (tt = 0, row = 0; interval > 0 && tt < duration; tt += interval,
	    row++) {
		uint64_t end = tt + interval;
		int last = 0;

		if (end >= duration) {
			last = 1;
			end = duration;
		}
		if (prec == 0 && last) {
			strbuf_addf(out, "| %s%*" PRIu64 " <> %-*s|",
			    dur_mag == 1 ? " " : "", (int)mag0,
			    tt / US_PER_S, dur_mag >= 3 ? (int)dur_mag + 1 : 3,
			    "Dur");
		} else if (prec == 0) {
			strbuf_addf(out, "|%s%*" PRIu64 " <> %*" PRIu64 "%s|",
			    dur_mag == 1 ? "  " : " ", (int)mag0,
			    tt / US_PER_S, (int)mag0, end / US_PER_S,
			    dur_mag == 1 ? "  " : " ");
		} else {
			strbuf_addf(out, "| %*" PRIu64 ".%0*" PRIu64 " <> %*"
			    PRIu64 ".%0*" PRIu64 " |", (int)mag0,
			    tt / US_PER_S, (int)prec, tt % US_PER_S / dv,
			    (int)mag0, end / US_PER_S, (int)prec,
			    end % US_PER_S / dv);
		}
		for (k = 0; k < t->n_cols; k++) {
			uint64_t f = 0, v = 0;

			if (row < t->n_rows) {
				f = t->frames[row * t->n_cols + k];
				v = t->value[row * t->n_cols + k];
			}
			if (t->type[k] == IO_FRAMES)
				strbuf_addf(out, " %*" PRIu64 " |", (int)fr[k], f);
			else if (t->type[k] == IO_FRAMES_BYTES)
				strbuf_addf(out, " %*" PRIu64 " | %*" PRIu64 " |",
				    (int)fr[k], f, (int)val[k], v);
			else
				strbuf_addf(out, " %*" PRIu64 " |", (int)val[k], v);
		}
		if (tabrow_w < borderlen)
			strbuf_addf(out, "%*s", (int)(borderlen - tabrow_w), "|");
		strbuf_addch(out, '\n');
	}
	repeat(out, '=', borderlen);
	strbuf_addch(out, '\n');
}
