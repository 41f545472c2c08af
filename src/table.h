/* table.h - columns of text for people to read.
 *
 * Cells are added row by row; table_print pads every column to its widest
 * cell, right-aligning the columns marked numeric. */
#ifndef SHARDCAP_TABLE_H
#define SHARDCAP_TABLE_H

#include <stddef.h>
#include <stdio.h>

struct table {
	size_t n_cols;
	const char **headers;
	const int *numeric;     /* per column, or NULL */
	char **cells;           /* row-major, owned */
	size_t n_cells, alloc_cells;
};

/* headers and numeric must outlive the table. */
void table_init(struct table *t, size_t n_cols, const char **headers,
    const int *numeric);
/* Adds the next cell (copied), filling rows left to right. */
void table_add(struct table *t, const char *cell);
void table_addf(struct table *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void table_print(const struct table *t, FILE *f);
void table_release(struct table *t);

#endif
