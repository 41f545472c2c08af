/* iostat.h - tshark's -z io,stat table: read, summed and drawn again.
 *
 * tshark counts each packet in the interval of its time from the file's
 * first packet (in tshark's own words, "relative time"), or in the one it
 * is already at when the packet is earlier, and draws the table with
 * widths sized to its values. Each chunk read after a record of the
 * capture's first time (zmerge_reference) counts in the whole file's
 * intervals, so the chunks' rows add up, row by row, to the whole file's,
 * when no packet goes back in time across chunks (zmerge.h says when).
 * The table is then drawn again as tshark 4.0 draws it with relative
 * times (no -t, or -t r): iostat_draw. Every chunk's own table is drawn
 * again from its values first and must come out as tshark printed it, so
 * that a tshark that draws otherwise is found, not followed.
 *
 * Merged columns: frames and bytes (with or without a filter), FRAMES,
 * BYTES, COUNT, SUM and MAX of a field with whole values. MIN, AVG and
 * LOAD are not: tshark's MIN of an interval depends on which packet came
 * first in it, AVG is printed rounded, LOAD spreads over intervals. */
#ifndef SHARDCAP_IOSTAT_H
#define SHARDCAP_IOSTAT_H

#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

#define IOSTAT_MAX_COLS 64
/* rows times columns held: 16 bytes each, a chunk's and the sum's */
#define IOSTAT_MAX_CELLS (1u << 23)

enum io_type {
	IO_FRAMES = 0,          /* the order of tshark's names */
	IO_BYTES,
	IO_FRAMES_BYTES,
	IO_COUNT,
	IO_SUM,
	IO_MIN,
	IO_MAX,
	IO_AVG,
	IO_LOAD,
};

/* A -z io,stat,INTERVAL[,COLUMN...] value: its interval in microseconds
 * (UINT64_MAX for 0: the whole capture) and its decimals, as tshark reads
 * them; the columns as written. */
struct io_spec {
	uint64_t interval;
	unsigned prec;
	size_t n_cols;
	char *col[IOSTAT_MAX_COLS];     /* NULL: frames and bytes */
	enum io_type type[IOSTAT_MAX_COLS];
	/* what a record of no bytes adds to the column is known without
	 * tshark: frames and bytes with no filter */
	int plain[IOSTAT_MAX_COLS];
};

/* Returns 0, or -1 with *why when z is not one that can be merged. */
int iostat_spec(struct io_spec *s, const char *z, const char **why);
void iostat_spec_release(struct io_spec *s);

struct io_table {
	size_t n_cols;
	enum io_type type[IOSTAT_MAX_COLS];
	char *filter[IOSTAT_MAX_COLS];  /* as its Col lines say; NULL: frames
	                                 * and bytes */
	size_t n_rows, alloc_cells;     /* both arrays have alloc_cells */
	uint64_t *frames, *value;       /* [row * n_cols + col] */
};

/* Reads the table of lines[0..n) (its first and last lines the rules of
 * '='). Returns 0, or -1 with *why. */
int iostat_parse(struct io_table *t, char *const *lines, size_t n,
    const char **why);
/* 0 when t's columns are those s asks, in type and filter; else the
 * first column (1, 2, ...) that is not. */
size_t iostat_unlike(const struct io_table *t, const struct io_spec *s);
/* The row tshark counts a file's latest packet in, elapsed_ns after its
 * first: a table of fewer rows left it out (tshark prints the rows up to
 * the duration, and not the row of a latest packet a whole number of
 * intervals after the first). */
uint64_t iostat_last_row(const struct io_spec *s, uint64_t elapsed_ns);
/* Adds b's rows to a's: frames, bytes, counts and sums added, MAX the
 * larger. */
void iostat_add(struct io_table *a, const struct io_table *b);
/* Takes times the first row of ref (a record's share) from a's first row.
 * Returns 0, or -1 when a MAX column has a share or a count would go
 * below 0. */
int iostat_take(struct io_table *a, const struct io_table *ref,
    uint64_t times);
/* Appends the table as tshark draws it, elapsed the file's duration (its
 * latest time stamp from its first) in nanoseconds: from its first rule to
 * its last, each line ended by a newline. */
void iostat_draw(const struct io_table *t, const struct io_spec *s,
    uint64_t elapsed_ns, struct strbuf *out);
void iostat_release(struct io_table *t);

#endif
