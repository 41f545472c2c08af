/* table.c - columns of text for people to read. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"
#include "table.h"
#include "xalloc.h"
#include "banned.h"

void
table_init(struct table *t, size_t n_cols, const char **headers,
    const int *numeric)
{
	memset(t, 0, sizeof(*t));
	t->n_cols = n_cols;
	t->headers = headers;
	t->numeric = numeric;
}

void
table_add(struct table *t, const char *cell)
{
	ALLOC_GROW(t->cells, t->n_cells + 1, t->alloc_cells);
	t->cells[t->n_cells++] = xstrdup(cell);
}

void
table_addf(struct table *t, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	ALLOC_GROW(t->cells, t->n_cells + 1, t->alloc_cells);
	t->cells[t->n_cells++] = strbuf_detach(&sb, NULL);
}

static void
print_row(const struct table *t, FILE *f, const char **row, const size_t *w)
{
	size_t c;

	for (c = 0; c < t->n_cols; c++) {
		const char *s = row[c] ? row[c] : "";
		int pad = (int)(w[c] - strlen(s));
		int last = c + 1 == t->n_cols;

		if (t->numeric != NULL && t->numeric[c])
			fprintf(f, "%*s%s", pad, "", s);
		else if (last)
			fputs(s, f);
		else
			fprintf(f, "%s%*s", s, pad, "");
		fputs(last ? "\n" : "  ", f);
	}
}

void
table_print(const struct table *t, FILE *f)
{
	size_t *w = xcalloc(t->n_cols, sizeof(*w));
	size_t r, c, rows = (t->n_cells + t->n_cols - 1) / t->n_cols;
	const char **row = xcalloc(t->n_cols, sizeof(*row));

	for (c = 0; c < t->n_cols; c++)
		w[c] = strlen(t->headers[c]);
	for (r = 0; r < t->n_cells; r++) {
		size_t len = strlen(t->cells[r]);

		if (len > w[r % t->n_cols])
			w[r % t->n_cols] = len;
	}
	print_row(t, f, t->headers, w);
	for (r = 0; r < rows; r++) {
		for (c = 0; c < t->n_cols; c++) {
			size_t i = r * t->n_cols + c;

			row[c] = i < t->n_cells ? t->cells[i] : "";
		}
		print_row(t, f, row, w);
	}
	free(row);
	free(w);
}

void
table_release(struct table *t)
{
	size_t i;

	for (i = 0; i < t->n_cells; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}
