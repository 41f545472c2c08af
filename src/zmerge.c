/* zmerge.c - tshark's -z tables of every chunk merged into the whole
 * capture's (zmerge.h). */
#include <inttypes.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture.h"
#include "file.h"
#include "iostat.h"
#include "slot.h"
#include "source.h"
#include "xalloc.h"
#include "zmerge.h"
#include "banned.h"

#define NS_PER_S INT64_C(1000000000)

enum zm_kind {
	ZM_CONV = 1,
	ZM_PHS,
	ZM_IOSTAT,
};

struct zm_row {                 /* a conversation */
	char *line;             /* as its chunk printed it */
	/* its two ends, A and B in the order of strcmp: the same
	 * conversation in another chunk may begin the other way */
	size_t lo_at, lo_len, hi_at, hi_len;
	int64_t rel_ns;         /* from the capture's first packet (the
	                         * reference record) */
	uint64_t total;         /* frames both ways */
	size_t chunk, idx;      /* which chunk, which row of its table */
};

struct zm_node {                /* a protocol of the hierarchy */
	char *label;            /* indent and name */
	unsigned level;
	uint64_t frames, bytes;
	size_t first_child, last_child, next;   /* node index; 0: none */
	/* the first chunk that has it and its row there, how many chunks
	 * have it and the last */
	size_t chunk, row, n_chunks, last;
};

struct zm_table {
	enum zm_kind kind;
	char *head;             /* its lines before the rows, first chunk's */
	char *foot;             /* the rule that ends it */
	struct zm_row *rows;
	size_t n_rows, alloc_rows;
	struct zm_node *nodes;  /* [0]: the root */
	size_t n_nodes, alloc_nodes;
	struct io_table io;     /* io,stat: the chunks' rows summed */
	size_t io_chunks;       /* how many chunks' tables (and records of
	                         * the capture's first time) are in it */
};

struct zm_item {                /* a line outside tables, or a table */
	char *line;             /* NULL: the table */
	size_t table;
};

struct zm_chunk {
	char *file;
};

struct zmerge {
	int flow;
	struct zm_item *items;
	size_t n_items, alloc_items;
	struct zm_table *tables;
	size_t n_tables, alloc_tables;
	struct zm_chunk *chunks;
	size_t n_chunks, alloc_chunks;
	struct strbuf text;     /* the chunk being given */
	size_t held;
	struct sc_err err;      /* the first failure, which sticks */
	size_t ties;            /* rows whose order is not known */
	size_t phs_ties;        /* the same, of the flow layout's hierarchy */
	/* the hierarchy tshark printed for the capture's first packets
	 * (zmerge_phs_prefix), when has_prefix */
	struct zm_table prefix;
	int has_prefix;
	struct strbuf prefix_text;
	/* io,stat (zmerge_iostat_begin): what the command asks, each chunk
	 * file's duration and the capture's; what one record of the
	 * capture's first time adds to a first row, when known */
	int has_io;
	struct io_spec io_spec;
	struct zm_span {
		char *file;
		uint64_t ns, group_ns;
		int untimed;
	} *spans;
	size_t n_spans;
	uint64_t whole_ns;
	struct io_table io_share;
	int has_share;
};

/* tshark's options that take a value (its optstring, 4.0) */
static int
tshark_takes_value(int c)
{
	return c != '\0' && strchr("abBcCdeEfFGHijJKMNoOrRsStTuUwWXyYz", c) !=
	    NULL;
}

/* What a -z value asks: 0 no table, ZMERGE_CONV or ZMERGE_PHS, or -1 a
 * table that is not merged (why says why). */
static int
table_kind(const char *z, int flow, int whole_flows, const char **why)
{
	if (strncmp(z, "proto,colinfo,", 14) == 0 || strcmp(z, "help") == 0)
		return 0;
	if (strncmp(z, "conv,", 5) == 0 && z[5] != '\0')
		return ZMERGE_CONV;
	if (strcmp(z, "io,phs") == 0 || strncmp(z, "io,phs,", 7) == 0) {
		if (!flow && !whole_flows) {
			*why = "flows cut by the chunks' boundaries change what "
			    "tshark reassembles (tcp.segments, http, tls), so "
			    "the chunks' counts do not add up to the whole "
			    "file's";
			return -1;
		}
		return ZMERGE_PHS;
	}
	if (strncmp(z, "io,stat,", 8) == 0) {
		struct io_spec s;
		size_t k;
		int kind = ZMERGE_IOSTAT;

		if (iostat_spec(&s, z, why) != 0)
			kind = -1;
		for (k = 0; kind > 0 && k < s.n_cols; k++)
			if (!flow && !whole_flows && !s.plain[k]) {
				*why = "flows cut by the chunks' boundaries "
				    "change what tshark reassembles, and so "
				    "what a column's filter or field counts; "
				    "columns of frames and bytes with no "
				    "filter can be merged";
				kind = -1;
			}
		iostat_spec_release(&s);
		return kind;
	}
	*why = "shardcap merges only -z conv,TYPE, io,phs and io,stat into "
	    "the whole capture's table";
	return -1;
}

/* The value of the next option opt (one that takes a value: -z, -t) of a
 * tshark command from argv[*i] on, or NULL; *i is left after it. *quiet
 * is set when -q or -Q is met on the way. */
static const char *
next_opt(char *const *argv, size_t argc, size_t *i, int opt, int *quiet)
{
	for (; *i < argc; ++*i) {
		const char *a = argv[*i], *z = NULL;
		size_t k;

		if (a[0] != '-' || a[1] == '\0' || a[1] == '-')
			continue;
		for (k = 1; a[k] != '\0'; k++) {
			if (a[k] == 'q' || a[k] == 'Q')
				*quiet = 1;
			if (!tshark_takes_value(a[k]))
				continue;
			if (a[k] == opt)
				z = a[k + 1] != '\0' ? a + k + 1 :
				    *i + 1 < argc ? argv[*i + 1] : NULL;
			if (a[k + 1] == '\0')
				++*i;
			break;
		}
		if (z != NULL) {
			++*i;
			return z;
		}
	}
	return NULL;
}

int
zmerge_plan(char *const *argv, size_t argc, int flow, int whole_flows,
    struct sc_err *e)
{
	int tables = 0, quiet = 0;
	size_t i = 1, n_phs = 0, n_io = 0;
	const char *z;

	if (argc == 0 || !run_tool_is(argv[0], "tshark"))
		return 0;
	while ((z = next_opt(argv, argc, &i, 'z', &quiet)) != NULL) {
		const char *why = "";
		int kind;

		if ((kind = table_kind(z, flow, whole_flows, &why)) < 0)
			return sc_err_set(e, SC_ERR_USAGE, "cannot merge -z %s "
			    "over the chunks: %s; --per-chunk prints each "
			    "chunk's table", z, why);
		tables |= kind;
		if (kind == ZMERGE_PHS)
			n_phs++;
		if (kind == ZMERGE_IOSTAT)
			n_io++;
	}
	if (tables != 0 && !quiet)
		return sc_err_set(e, SC_ERR_USAGE, "merging -z tables needs "
		    "tshark's -q (the packets' lines would come between "
		    "them); add -q, or --per-chunk");
	if ((tables & ZMERGE_PHS) && tables != ZMERGE_PHS)
		return sc_err_set(e, SC_ERR_USAGE, "cannot merge -z io,phs "
		    "with -z %s in one run: the record that gives the chunks "
		    "the capture's first time counts in the hierarchy; run "
		    "them one at a time", tables & ZMERGE_CONV ? "conv" :
		    "io,stat");
	if (n_io > 1)
		return sc_err_set(e, SC_ERR_USAGE, "cannot merge two -z io,stat "
		    "tables in one run; run them one at a time");
	for (i = 1; n_io > 0 && (z = next_opt(argv, argc, &i, 't',
	    &quiet)) != NULL; )
		if (strcmp(z, "r") != 0)
			return sc_err_set(e, SC_ERR_USAGE, "cannot merge -z "
			    "io,stat with -t %s: shardcap draws its rows in "
			    "relative time (-t r) only", z);
	if (flow && n_phs > 1)
		return sc_err_set(e, SC_ERR_USAGE, "cannot merge two -z io,phs "
		    "tables in one run in the flow layout; run them one at a "
		    "time");
	if ((tables & (ZMERGE_CONV | ZMERGE_IOSTAT)) &&
	    !run_warm_command(argv, argc))
		return sc_err_set(e, SC_ERR_USAGE, "merging -z %s needs the "
		    "chunk read as tshark -r {}, and {} nowhere else; "
		    "--per-chunk prints each chunk's table", tables &
		    ZMERGE_CONV ? "conv" : "io,stat");
	return tables;
}

struct zmerge *
zmerge_new(int flow)
{
	struct zmerge *z = xcalloc(1, sizeof(*z));

	z->flow = flow;
	strbuf_init(&z->text);
	strbuf_init(&z->prefix_text);
	sc_err_clear(&z->err);
	return z;
}

void
zmerge_free(struct zmerge *z)
{
	size_t i, k;

	if (z == NULL)
		return;
	for (i = 0; i < z->n_items; i++)
		free(z->items[i].line);
	for (i = 0; i < z->n_tables; i++) {
		struct zm_table *t = &z->tables[i];

		free(t->head);
		free(t->foot);
		for (k = 0; k < t->n_rows; k++)
			free(t->rows[k].line);
		for (k = 0; k < t->n_nodes; k++)
			free(t->nodes[k].label);
		free(t->rows);
		free(t->nodes);
		iostat_release(&t->io);
	}
	for (i = 0; i < z->n_spans; i++)
		free(z->spans[i].file);
	free(z->spans);
	iostat_spec_release(&z->io_spec);
	iostat_release(&z->io_share);
	for (i = 0; i < z->n_chunks; i++)
		free(z->chunks[i].file);
	for (k = 0; k < z->prefix.n_nodes; k++)
		free(z->prefix.nodes[k].label);
	free(z->prefix.nodes);
	strbuf_release(&z->prefix_text);
	free(z->items);
	free(z->tables);
	free(z->chunks);
	strbuf_release(&z->text);
	free(z);
}

/* A failure sticks: what comes after it is not merged, and every call
 * returns it again. */
static int
failed(struct zmerge *z, struct sc_err *e)
{
	if (e != NULL)
		*e = z->err;
	return z->err.code;
}

int
zmerge_add(struct zmerge *z, const char *data, size_t len, struct sc_err *e)
{
	if (z->err.code != 0)
		return failed(z, e);
	if (z->held + z->text.len + len > ZMERGE_MAX_BYTES) {
		sc_err_set(&z->err, SC_ERR_LIMIT, "the -z tables of the "
		    "chunks hold more than %u MiB; --per-chunk prints each "
		    "chunk's table", ZMERGE_MAX_BYTES >> 20);
		strbuf_release(&z->text);
		return failed(z, e);
	}
	strbuf_add(&z->text, data, len);
	return 0;
}

static int
is_rule(const char *line)
{
	size_t n = strspn(line, "=");

	return n >= 10 && line[n] == '\0';
}

/* A conversation's line: "A <-> B  F B U  F B U  F B U  START  DURATION"
 * (frames, bytes and their unit each way and in total). */
static int
parse_conv_row(struct zm_row *row, char *line)
{
	const char *tok[16];
	size_t len[16], n = 0, i;
	const char *p = line, *q;
	uint64_t whole = 0, frac = 0;
	int neg = 0;

	while (*p != '\0') {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		if (n == ARRAY_SIZE(tok))
			return -1;
		tok[n] = p;
		while (*p != ' ' && *p != '\0')
			p++;
		len[n] = (size_t)(p - tok[n]);
		n++;
	}
	if (n != 14 || len[1] != 3 || strncmp(tok[1], "<->", 3) != 0)
		return -1;
	{
		size_t m = len[0] < len[2] ? len[0] : len[2];
		int c = memcmp(tok[0], tok[2], m);
		int swap = c > 0 || (c == 0 && len[0] > len[2]);

		row->lo_at = (size_t)(tok[swap ? 2 : 0] - line);
		row->lo_len = len[swap ? 2 : 0];
		row->hi_at = (size_t)(tok[swap ? 0 : 2] - line);
		row->hi_len = len[swap ? 0 : 2];
	}
	row->total = strtoull(tok[9], NULL, 10);
	/* Relative Start: -?D+.DDDDDDDDD */
	q = tok[12];
	if (*q == '-') {
		neg = 1;
		q++;
	}
	for (i = 0; q + i < tok[12] + len[12] && q[i] != '.'; i++) {
		if (q[i] < '0' || q[i] > '9' || i > 12)
			return -1;
		whole = whole * 10 + (uint64_t)(q[i] - '0');
	}
	if (i == 0 || q + i + 10 != tok[12] + len[12])
		return -1;
	for (q += i + 1, i = 0; i < 9; i++) {
		if (q[i] < '0' || q[i] > '9')
			return -1;
		frac = frac * 10 + (uint64_t)(q[i] - '0');
	}
	row->rel_ns = (int64_t)(whole * (uint64_t)NS_PER_S + frac);
	if (neg)
		row->rel_ns = -row->rel_ns;
	return 0;
}

/* A protocol's line: "%-40s frames:%u bytes:%u", the name indented two
 * spaces a level (past 16 levels tshark writes "..." for the rest of the
 * indent: such rows are not taken, since their level is not known). */
static int
parse_phs_row(struct zm_node *node, const char *line)
{
	const char *f = strstr(line, " frames:"), *b, *end;
	char *stop;
	size_t indent = strspn(line, " "), label;

	if (f == NULL || (b = strstr(f, " bytes:")) == NULL ||
	    indent % 2 != 0 || line[indent] == '.')
		return -1;
	for (end = f; end > line && end[-1] == ' '; end--)
		;
	label = (size_t)(end - line);
	if (label <= indent)
		return -1;
	node->frames = strtoull(f + 8, &stop, 10);
	if (stop != b)
		return -1;
	node->bytes = strtoull(b + 7, &stop, 10);
	if (*stop != '\0' || stop == b + 7)
		return -1;
	node->label = xstrndup(line, label);
	node->level = (unsigned)(indent / 2);
	return 0;
}

static size_t
phs_child(struct zm_table *t, size_t parent, const struct zm_node *like)
{
	size_t c;

	for (c = t->nodes[parent].first_child; c != 0; c = t->nodes[c].next)
		if (strcmp(t->nodes[c].label, like->label) == 0)
			return c;
	ALLOC_GROW(t->nodes, t->n_nodes + 1, t->alloc_nodes);
	c = t->n_nodes++;
	memset(&t->nodes[c], 0, sizeof(t->nodes[c]));
	t->nodes[c].label = xstrdup(like->label);
	t->nodes[c].level = like->level;
	if (t->nodes[parent].last_child != 0)
		t->nodes[t->nodes[parent].last_child].next = c;
	else
		t->nodes[parent].first_child = c;
	t->nodes[parent].last_child = c;
	return c;
}

/* The rows of one chunk's table, lines[from] its first row, into t.
 * Returns the index of the rule that ends it, or -1. */
static long
merge_rows(struct zmerge *z, struct zm_table *t, char **lines, size_t n,
    size_t from, size_t *held)
{
	size_t path[64], i, idx = 0;

	path[0] = 0;
	for (i = from; i < n && !is_rule(lines[i]); i++, idx++) {
		if (t->kind == ZM_CONV) {
			struct zm_row row;

			memset(&row, 0, sizeof(row));
			if (parse_conv_row(&row, lines[i]) != 0)
				return -1;
			row.line = xstrdup(lines[i]);
			row.chunk = z->n_chunks;
			row.idx = idx;
			*held += strlen(lines[i]) + sizeof(row);
			ALLOC_GROW(t->rows, t->n_rows + 1, t->alloc_rows);
			t->rows[t->n_rows++] = row;
		} else {
			struct zm_node node;
			size_t c;

			memset(&node, 0, sizeof(node));
			if (parse_phs_row(&node, lines[i]) != 0)
				return -1;
			if (node.level >= ARRAY_SIZE(path) - 1 ||
			    (node.level > 0 && idx == 0)) {
				free(node.label);
				return -1;
			}
			c = phs_child(t, path[node.level], &node);
			t->nodes[c].frames += node.frames;
			t->nodes[c].bytes += node.bytes;
			if (t->nodes[c].n_chunks == 0 ||
			    t->nodes[c].last != z->n_chunks) {
				if (t->nodes[c].n_chunks++ == 0) {
					t->nodes[c].chunk = z->n_chunks;
					t->nodes[c].row = idx;
				}
				t->nodes[c].last = z->n_chunks;
			}
			path[node.level + 1] = c;
			*held += strlen(node.label);
			free(node.label);
			/* a level deeper than the one before it skips none */
			if (i + 1 < n && !is_rule(lines[i + 1]) &&
			    strspn(lines[i + 1], " ") / 2 > node.level + 1)
				return -1;
		}
	}
	return i < n ? (long)i : -1;
}

static int
is_row(enum zm_kind kind, const char *line)
{
	if (kind == ZM_CONV)
		return strstr(line, " <-> ") != NULL;
	return strstr(line, " frames:") != NULL && strstr(line, " bytes:");
}

static int
bad_output(struct sc_err *e, const char *file, const char *what)
{
	return sc_err_set(e, SC_ERR_MERGE, "cannot merge the -z tables: "
	    "the output of chunk '%s' %s", file, what);
}

/* The lines of text, each ended where its newline was: pointers into
 * text, in an array to be freed. */
static char **
split_lines(struct strbuf *text, size_t *n_out)
{
	char **lines = NULL, *p, *end = text->buf + text->len;
	size_t n = 0, alloc = 0;

	for (p = text->buf; p < end; ) {
		char *nl = memchr(p, '\n', (size_t)(end - p));

		if (nl != NULL)
			*nl = '\0';
		ALLOC_GROW(lines, n + 1, alloc);
		lines[n++] = p;
		p = nl != NULL ? nl + 1 : end;
	}
	*n_out = n;
	return lines;
}

static const struct zm_span *
span_of(const struct zmerge *z, const char *file)
{
	size_t i;

	for (i = 0; i < z->n_spans; i++)
		if (strcmp(z->spans[i].file, file) == 0)
			return &z->spans[i];
	return NULL;
}

/* Whether tshark's table of one chunk (lines[0..n)) is the one drawn
 * again from its numbers over the chunk's duration: sets *ns to it. */
static int
drawn_again(const struct zmerge *z, const struct io_table *ct,
    char *const *lines, size_t n, const struct zm_span *sp,
    uint64_t *ns)
{
	struct strbuf orig = STRBUF_INIT, again = STRBUF_INIT;
	uint64_t tries[2];
	size_t i, k;
	int same = 0;

	for (i = 0; i < n; i++) {
		strbuf_addstr(&orig, lines[i]);
		strbuf_addch(&orig, '\n');
	}
	tries[0] = sp->ns;
	tries[1] = sp->group_ns;
	for (k = 0; k < 2 && !same; k++) {
		strbuf_reset(&again);
		iostat_draw(ct, &z->io_spec, tries[k], &again);
		if ((same = strcmp(again.buf, orig.buf) == 0))
			*ns = tries[k];
	}
	strbuf_release(&orig);
	strbuf_release(&again);
	return same;
}

/* One chunk's io,stat table, lines[0..n), into the table of item (a new
 * one for the first chunk). */
static int
merge_iostat(struct zmerge *z, const char *file, char *const *lines,
    size_t n, int first_chunk, size_t item, struct sc_err *e)
{
	const struct zm_span *sp = span_of(z, file);
	const struct io_spec *s = &z->io_spec;
	struct io_table ct;
	struct zm_table *t;
	const char *why;
	uint64_t ns = 0;
	size_t k;

	if (!z->has_io || sp == NULL)
		return sc_err_set(e, SC_ERR_MERGE, "cannot merge -z io,stat: "
		    "chunk '%s' was not read with the capture's first time",
		    file);
	if (iostat_parse(&ct, lines, n, &why) != 0)
		return sc_err_set(e, SC_ERR_MERGE, "cannot merge -z io,stat: "
		    "the table of chunk '%s': %s", file, why);
	if (ct.n_cols != s->n_cols) {
		iostat_release(&ct);
		return sc_err_set(e, SC_ERR_MERGE, "cannot merge -z io,stat: "
		    "tshark's table has %zu columns, not the %zu the "
		    "command's commas make (a filter with a comma of its "
		    "own); --per-chunk prints each chunk's table", ct.n_cols,
		    s->n_cols);
	}
	if ((k = iostat_unlike(&ct, s)) != 0) {
		iostat_release(&ct);
		return sc_err_set(e, SC_ERR_MERGE, "cannot merge -z io,stat: "
		    "column %zu of tshark's table is not as the command "
		    "writes it", k);
	}
	if (!drawn_again(z, &ct, lines, n, sp, &ns)) {
		iostat_release(&ct);
		return sc_err_set(e, SC_ERR_MERGE, "cannot merge -z io,stat: "
		    "tshark drew the table of chunk '%s' otherwise than "
		    "shardcap draws it again from its numbers (shardcap "
		    "draws as tshark 4.0 with relative times); --per-chunk "
		    "prints each chunk's table", file);
	}
	if (sp->untimed && ct.n_rows > 0) {
		iostat_release(&ct);
		return sc_err_set(e, SC_ERR_MERGE, "cannot merge -z io,stat: "
		    "chunk '%s' has packets with no time stamp", file);
	}
	if (!sp->untimed && iostat_last_row(s, ns) >= ct.n_rows) {
		iostat_release(&ct);
		return sc_err_set(e, SC_ERR_MERGE, "cannot merge -z io,stat: "
		    "tshark leaves out of the table of chunk '%s' the row of "
		    "its latest packet, whose time from the capture's first "
		    "is a whole number of intervals; --per-chunk prints each "
		    "chunk's table", file);
	}
	if (first_chunk) {
		ALLOC_GROW(z->tables, z->n_tables + 1, z->alloc_tables);
		t = &z->tables[z->n_tables];
		memset(t, 0, sizeof(*t));
		t->kind = ZM_IOSTAT;
		t->io = ct;
		ALLOC_GROW(z->items, z->n_items + 1, z->alloc_items);
		z->items[z->n_items].line = NULL;
		z->items[z->n_items++].table = z->n_tables++;
	} else {
		/* (its columns are the command's, as the first chunk's) */
		if (item >= z->n_items || z->items[item].line != NULL ||
		    z->tables[z->items[item].table].kind != ZM_IOSTAT) {
			iostat_release(&ct);
			return bad_output(e, file, "has other tables than the "
			    "first chunk's");
		}
		t = &z->tables[z->items[item].table];
		iostat_add(&t->io, &ct);
		iostat_release(&ct);
	}
	/* (a chunk of no packet: its record printed in no row) */
	if (!sp->untimed)
		t->io_chunks++;
	z->held += t->io.n_rows * t->io.n_cols * 2 * sizeof(uint64_t);
	return 0;
}

int
zmerge_chunk_end(struct zmerge *z, const char *file, struct sc_err *caller_e)
{
	struct sc_err *e;
	char **lines;
	size_t n = 0, i, item = 0, tables = 0;
	struct strbuf head = STRBUF_INIT;
	int first_chunk = z->n_chunks == 0, r = 0;

	if (z->err.code != 0)
		return failed(z, caller_e);
	e = &z->err;
	lines = split_lines(&z->text, &n);
	for (i = 0; i < n && r == 0; i++) {
		struct zm_table *t;
		enum zm_kind kind;
		long end;

		if (!is_rule(lines[i])) {
			if (first_chunk) {
				ALLOC_GROW(z->items, z->n_items + 1,
				    z->alloc_items);
				z->items[z->n_items].line = xstrdup(lines[i]);
				z->items[z->n_items++].table = 0;
			} else if (item >= z->n_items ||
			    z->items[item].line == NULL ||
			    strcmp(z->items[item].line, lines[i]) != 0) {
				r = bad_output(e, file, "differs from the first "
				    "chunk's outside its tables");
			}
			item++;
			continue;
		}
		/* a table: its rule, title and other lines up to its rows */
		if (i + 1 >= n) {
			r = bad_output(e, file, "ends inside a table");
			break;
		}
		if (strncmp(lines[i + 1], "| IO Statistics", 15) == 0) {
			size_t j = i + 1;

			while (j < n && !is_rule(lines[j]))
				j++;
			if (j >= n) {
				r = bad_output(e, file, "ends inside a table");
				break;
			}
			r = merge_iostat(z, file, lines + i, j - i + 1,
			    first_chunk, item, e);
			item++;
			tables++;
			i = j;
			continue;
		}
		if (strcmp(lines[i + 1], "Protocol Hierarchy Statistics") == 0)
			kind = ZM_PHS;
		else if (strlen(lines[i + 1]) > 14 && strcmp(lines[i + 1] +
		    strlen(lines[i + 1]) - 14, " Conversations") == 0)
			kind = ZM_CONV;
		else {
			r = sc_err_set(e, SC_ERR_MERGE, "cannot merge the -z "
			    "table '%.80s' of chunk '%s'", lines[i + 1], file);
			break;
		}
		strbuf_reset(&head);
		for (; i < n && (head.len == 0 || !is_rule(lines[i])) &&
		    !(head.len > 0 && is_row(kind, lines[i])); i++) {
			strbuf_addstr(&head, lines[i]);
			strbuf_addch(&head, '\n');
		}
		if (first_chunk) {
			ALLOC_GROW(z->tables, z->n_tables + 1, z->alloc_tables);
			t = &z->tables[z->n_tables];
			memset(t, 0, sizeof(*t));
			t->kind = kind;
			t->head = xstrdup(head.buf);
			if (kind == ZM_PHS) {
				ALLOC_GROW(t->nodes, 1, t->alloc_nodes);
				memset(&t->nodes[0], 0, sizeof(t->nodes[0]));
				t->n_nodes = 1;
			}
			ALLOC_GROW(z->items, z->n_items + 1, z->alloc_items);
			z->items[z->n_items].line = NULL;
			z->items[z->n_items++].table = z->n_tables++;
		} else if (item >= z->n_items || z->items[item].line != NULL ||
		    strcmp(z->tables[z->items[item].table].head,
		    head.buf) != 0) {
			r = bad_output(e, file, "has other tables than the "
			    "first chunk's");
			break;
		}
		t = &z->tables[first_chunk ? z->n_tables - 1 :
		    z->items[item].table];
		item++;
		tables++;
		if ((end = merge_rows(z, t, lines, n, i, &z->held)) < 0) {
			r = bad_output(e, file, i < n ? "has a row that is not "
			    "tshark's" : "ends inside a table");
			if (i < n)
				snprintf(e->msg + strlen(e->msg),
				    sizeof(e->msg) - strlen(e->msg),
				    ": '%.60s'", lines[i]);
			break;
		}
		i = (size_t)end;
		if (first_chunk)
			t->foot = xstrdup(lines[i]);
		else if (strcmp(t->foot, lines[i]) != 0)
			r = bad_output(e, file, "ends a table otherwise than "
			    "the first chunk's");
	}
	if (r == 0 && !first_chunk && item != z->n_items)
		r = bad_output(e, file, "has fewer lines than the first chunk's");
	if (r == 0 && first_chunk && tables == 0)
		r = bad_output(e, file, "holds no -z table");
	if (r == 0 && z->held > ZMERGE_MAX_BYTES)
		r = sc_err_set(e, SC_ERR_LIMIT, "the -z tables of the chunks "
		    "hold more than %u MiB; --per-chunk prints each chunk's "
		    "table", ZMERGE_MAX_BYTES >> 20);
	if (r == 0) {
		ALLOC_GROW(z->chunks, z->n_chunks + 1, z->alloc_chunks);
		z->chunks[z->n_chunks++].file = xstrdup(file);
	}
	free(lines);
	strbuf_release(&head);
	strbuf_reset(&z->text);
	return r != 0 ? failed(z, caller_e) : 0;
}

static const struct zmerge *sort_z;

static int
cmp_field(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c != 0)
		return c;
	return alen < blen ? -1 : alen > blen;
}

/* The same conversation, either way round */
static int
same_ends(const struct zm_row *x, const struct zm_row *y)
{
	int c = cmp_field(x->line + x->lo_at, x->lo_len, y->line + y->lo_at,
	    y->lo_len);

	return c != 0 ? c : cmp_field(x->line + x->hi_at, x->hi_len,
	    y->line + y->hi_at, y->hi_len);
}

static int
by_ends(const void *a, const void *b)
{
	const struct zm_row *x = a, *y = b;
	int c = same_ends(x, y);

	if (c != 0)
		return c;
	return x->chunk < y->chunk ? -1 : x->chunk > y->chunk;
}

/* tshark's order: most frames first; of equal ones, the conversation it
 * met first. In the time layout that is chunk order, then the chunk's
 * own; in the flow layout the earlier first packet comes first. */
static int
by_frames(const void *a, const void *b)
{
	const struct zm_row *x = a, *y = b;

	if (x->total != y->total)
		return x->total > y->total ? -1 : 1;
	if (sort_z->flow && x->chunk != y->chunk && x->rel_ns != y->rel_ns)
		return x->rel_ns < y->rel_ns ? -1 : 1;
	if (x->chunk != y->chunk)
		return x->chunk < y->chunk ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int
put_conv(struct zmerge *z, struct zm_table *t, struct strbuf *out,
    struct sc_err *e)
{
	size_t i;

	sort_z = z;
	qsort(t->rows, t->n_rows, sizeof(*t->rows), by_ends);
	for (i = 1; i < t->n_rows; i++) {
		struct zm_row *a = &t->rows[i - 1], *b = &t->rows[i];

		if (a->chunk != b->chunk && same_ends(a, b) == 0)
			return sc_err_set(e, SC_ERR_MERGE, "cannot merge -z conv "
			    "exactly: %.*s <-> %.*s has packets in chunks "
			    "'%s' and '%s', and tshark rounds bytes and "
			    "durations (the flow layout keeps conversations "
			    "whole; --per-chunk prints each chunk's table)",
			    (int)a->lo_len, a->line + a->lo_at, (int)a->hi_len,
			    a->line + a->hi_at, z->chunks[a->chunk].file,
			    z->chunks[b->chunk].file);
	}
	qsort(t->rows, t->n_rows, sizeof(*t->rows), by_frames);
	/* Of two conversations in two chunks with as many frames and the
	 * same first time, tshark lists first the one whose first packet
	 * came first in the file: the chunks do not say which. */
	for (i = 1; z->flow && i < t->n_rows; i++) {
		const struct zm_row *a = &t->rows[i - 1], *b = &t->rows[i];

		if (a->total == b->total && a->rel_ns == b->rel_ns &&
		    a->chunk != b->chunk)
			z->ties++;
	}
	strbuf_addstr(out, t->head);
	for (i = 0; i < t->n_rows; i++) {
		strbuf_addstr(out, t->rows[i].line);
		strbuf_addch(out, '\n');
	}
	strbuf_addstr(out, t->foot);
	strbuf_addch(out, '\n');
	return 0;
}

static void
put_phs(const struct zm_table *t, size_t node, struct strbuf *out)
{
	size_t c;

	for (c = t->nodes[node].first_child; c != 0; c = t->nodes[c].next) {
		strbuf_addf(out, "%-40s frames:%" PRIu64 " bytes:%" PRIu64 "\n",
		    t->nodes[c].label, t->nodes[c].frames, t->nodes[c].bytes);
		put_phs(t, c, out);
	}
}

/* A row of the flow layout's hierarchy, to be put in order among its
 * siblings */
struct phs_key {
	size_t node;            /* in the merged table */
	size_t pre;             /* in the prefix's table, or SIZE_MAX */
};

static const struct zmerge *sort_phs_z;
static const struct zm_table *sort_table;

/* Those met in the capture's first packets come first, in the order
 * tshark met them there; then by the first chunk that has them and their
 * row there (an order that is tshark's only where one chunk alone has
 * both: phs_sure). */
static int
by_first_met(const void *a, const void *b)
{
	const struct phs_key *x = a, *y = b;
	const struct zm_node *p = &sort_table->nodes[x->node];
	const struct zm_node *q = &sort_table->nodes[y->node];

	if (x->pre != SIZE_MAX || y->pre != SIZE_MAX) {
		size_t r, s;

		if (x->pre == SIZE_MAX || y->pre == SIZE_MAX)
			return x->pre == SIZE_MAX ? 1 : -1;
		r = sort_phs_z->prefix.nodes[x->pre].row;
		s = sort_phs_z->prefix.nodes[y->pre].row;
		return r < s ? -1 : r > s;
	}
	if (p->chunk != q->chunk)
		return p->chunk < q->chunk ? -1 : 1;
	return p->row < q->row ? -1 : p->row > q->row;
}

/* Whether tshark's order between two neighbours is known. */
static int
phs_sure(const struct zm_table *t, const struct phs_key *x,
    const struct phs_key *y)
{
	const struct zm_node *p = &t->nodes[x->node], *q = &t->nodes[y->node];

	return x->pre != SIZE_MAX || y->pre != SIZE_MAX ||
	    (p->n_chunks == 1 && q->n_chunks == 1 && p->chunk == q->chunk);
}

static size_t
child_named(const struct zm_table *t, size_t parent, const char *label)
{
	size_t c;

	for (c = t->nodes[parent].first_child; c != 0; c = t->nodes[c].next)
		if (strcmp(t->nodes[c].label, label) == 0)
			return c;
	return SIZE_MAX;
}

/* The flow layout's hierarchy, from node down, its rows in the order
 * tshark first met them over the whole capture as far as that is known
 * (by_first_met), into out when not NULL; the pairs of neighbours whose
 * order is not known are counted in z->phs_ties. pre: node in the
 * prefix's table, or SIZE_MAX. */
static void
put_phs_met(struct zmerge *z, const struct zm_table *t, size_t node,
    size_t pre, struct strbuf *out)
{
	struct phs_key *keys;
	size_t n = 0, c, k;

	for (c = t->nodes[node].first_child; c != 0; c = t->nodes[c].next)
		n++;
	if (n == 0)
		return;
	keys = xcalloc(n, sizeof(*keys));
	for (c = t->nodes[node].first_child, k = 0; c != 0;
	    c = t->nodes[c].next, k++) {
		keys[k].node = c;
		keys[k].pre = pre == SIZE_MAX ? SIZE_MAX :
		    child_named(&z->prefix, pre, t->nodes[c].label);
	}
	sort_phs_z = z;
	sort_table = t;
	qsort(keys, n, sizeof(*keys), by_first_met);
	for (k = 1; k < n; k++)
		if (!phs_sure(t, &keys[k - 1], &keys[k]))
			z->phs_ties++;
	for (k = 0; k < n; k++) {
		const struct zm_node *nd = &t->nodes[keys[k].node];

		if (out != NULL)
			strbuf_addf(out, "%-40s frames:%" PRIu64 " bytes:%"
			    PRIu64 "\n", nd->label, nd->frames, nd->bytes);
		put_phs_met(z, t, keys[k].node, keys[k].pre, out);
	}
	free(keys);
}

int
zmerge_finish(struct zmerge *z, struct strbuf *out, struct sc_err *e)
{
	size_t i;
	int r;

	if (z->err.code != 0)
		return failed(z, e);
	z->phs_ties = 0;
	for (i = 0; i < z->n_items; i++) {
		struct zm_table *t;

		if (z->items[i].line != NULL) {
			strbuf_addstr(out, z->items[i].line);
			strbuf_addch(out, '\n');
			continue;
		}
		t = &z->tables[z->items[i].table];
		if (t->kind == ZM_CONV) {
			if ((r = put_conv(z, t, out, e)) != 0)
				return r;
		} else if (t->kind == ZM_IOSTAT) {
			if (!z->has_share)
				return sc_err_set(e, SC_ERR_MERGE, "cannot merge "
				    "-z io,stat: what the record of the "
				    "capture's first time adds to the chunks' "
				    "first rows is not known (the command run "
				    "here over such records failed)");
			if (iostat_take(&t->io, &z->io_share, t->io_chunks) != 0)
				return sc_err_set(e, SC_ERR_MERGE, "cannot merge "
				    "-z io,stat: the record of the capture's "
				    "first time counts in a MAX column, or more "
				    "than the chunks' first rows hold");
			iostat_draw(&t->io, &z->io_spec, z->whole_ns, out);
		} else {
			strbuf_addstr(out, t->head);
			if (z->flow)
				put_phs_met(z, t, 0, z->has_prefix ? 0 :
				    SIZE_MAX, out);
			else
				put_phs(t, 0, out);
			strbuf_addstr(out, t->foot);
			strbuf_addch(out, '\n');
		}
	}
	return 0;
}

static void
put_u32(uint8_t *p, uint32_t v, int big)
{
	int i;

	for (i = 0; i < 4; i++)
		p[big ? i : 3 - i] = (uint8_t)(v >> (24 - 8 * i));
}

/* The reference record of one chunk, and where it goes. */
static int
reference_of(const char *path, const struct sc_time *ref, uint64_t *offset,
    uint8_t *rec, size_t *len, struct sc_err *e)
{
	struct source src;
	struct capture cap;
	struct capture_rec r;
	int got, ret = 0;

	memset(&cap, 0, sizeof(cap));
	if ((ret = source_open(&src, path, NULL, e)) != 0)
		return ret;
	if ((ret = capture_open(&cap, &src, e)) != 0)
		goto out;
	/* the file header: a pcap's records follow it */
	if ((got = capture_next(&cap, &r, e)) <= 0) {
		ret = got < 0 ? got : sc_err_set(e, SC_ERR_MERGE, "chunk '%s' "
		    "has no file header", path);
		goto out;
	}
	*offset = r.offset + r.len;
	if (cap.format == CAPTURE_PCAP) {
		uint32_t frac = cap.pcap_nsec ? ref->nsec : ref->nsec / 1000;

		if (cap.pcap_rec_hdr != 16 || ref->sec < 0 ||
		    ref->sec > UINT32_MAX || (!cap.pcap_nsec && ref->nsec % 1000))
			goto cannot;
		memset(rec, 0, 16);
		put_u32(rec, (uint32_t)ref->sec, cap.big_endian);
		put_u32(rec + 4, frac, cap.big_endian);
		*len = 16;
	} else {
		/* a section of its own before the chunk's, little-endian, one
		 * interface in nanoseconds (if_tsresol 9), one packet */
		static const uint8_t shb[28] = {
			0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0,
			0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0,
			0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 28, 0, 0, 0,
		};
		static const uint8_t idb[32] = {
			1, 0, 0, 0, 32, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0,
			9, 0, 1, 0, 9, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0, 0,
		};
		uint64_t ticks;

		if (ref->sec < 0)
			goto cannot;
		ticks = (uint64_t)ref->sec * (uint64_t)NS_PER_S + ref->nsec;
		memcpy(rec, shb, sizeof(shb));
		memcpy(rec + 28, idb, sizeof(idb));
		memset(rec + 60, 0, 32);
		put_u32(rec + 60, PCAPNG_EPB, 0);
		put_u32(rec + 64, 32, 0);
		put_u32(rec + 72, (uint32_t)(ticks >> 32), 0);
		put_u32(rec + 76, (uint32_t)ticks, 0);
		put_u32(rec + 88, 32, 0);
		*len = 92;
		*offset = 0;
	}
	goto out;
cannot:
	ret = sc_err_set(e, SC_ERR_MERGE, "cannot merge the -z table: chunk "
	    "'%s' cannot take a record of the capture's first time (its time "
	    "stamps' resolution or range)", path);
out:
	capture_release(&cap);
	source_close(&src);
	return ret;
}

int
zmerge_reference(char *const *paths, size_t n, const struct sc_time *ref,
    uint64_t *offset, struct strbuf *rec, struct sc_err *e)
{
	uint8_t one[96];
	size_t i, len = 0;
	uint64_t off = 0;
	int r;

	for (i = 0; i < n; i++) {
		if ((r = reference_of(paths[i], ref, &off, one, &len, e)) != 0)
			return r;
		if (i == 0) {
			*offset = off;
			strbuf_reset(rec);
			strbuf_add(rec, one, len);
		} else if (off != *offset || len != rec->len ||
		    memcmp(one, rec->buf, len) != 0) {
			return sc_err_set(e, SC_ERR_MERGE, "cannot merge the -z "
			    "table: chunk '%s' begins otherwise than '%s' (another "
			    "pcapng section or interfaces)", paths[i], paths[0]);
		}
	}
	return 0;
}

char **
zmerge_command(char *const *argv, size_t argc, uint64_t offset,
    const struct strbuf *rec, size_t *n_out)
{
	struct strbuf script = STRBUF_INIT, bytes = STRBUF_INIT;
	char **out = xcalloc(argc + 6, sizeof(*out));
	size_t i, k = 0;

	/* The chunk is $1, the tool and its arguments the rest; the
	 * record's bytes as printf's octal escapes (no '%', no quote).
	 * "-": a group's chunks streamed in, which dd reads a byte at a
	 * time up to the offset, so as to take no more from the pipe. */
	for (i = 0; i < rec->len; i++)
		strbuf_addf(&bytes, "\\%03o", (unsigned char)rec->buf[i]);
	if (offset == 0)
		strbuf_addf(&script, "f=$1; shift; { printf '%s' && cat \"$f\"; "
		    "} | \"$@\"", bytes.buf);
	else
		strbuf_addf(&script, "f=$1; shift; { if [ \"$f\" = - ]; then "
		    "dd bs=1 count=%" PRIu64 " 2>/dev/null && printf '%s' && "
		    "cat; else dd if=\"$f\" bs=%" PRIu64 " count=1 2>/dev/null "
		    "&& printf '%s' && tail -c +%" PRIu64 " \"$f\"; fi; } | "
		    "\"$@\"", offset, bytes.buf, offset, bytes.buf, offset + 1);
	strbuf_release(&bytes);
	out[k++] = xstrdup("sh");
	out[k++] = xstrdup("-c");
	out[k++] = strbuf_detach(&script, NULL);
	out[k++] = xstrdup("sh");
	out[k++] = xstrdup("{}");
	for (i = 0; i < argc; i++)
		out[k++] = xstrdup(strcmp(argv[i], "{}") == 0 ? "-" : argv[i]);
	*n_out = k;
	return out;
}

size_t
zmerge_ties(const struct zmerge *z)
{
	return z->ties;
}

size_t
zmerge_phs_unsure(struct zmerge *z)
{
	size_t i;

	if (z->err.code != 0 || !z->flow)
		return 0;
	z->phs_ties = 0;
	for (i = 0; i < z->n_tables; i++)
		if (z->tables[i].kind == ZM_PHS)
			put_phs_met(z, &z->tables[i], 0, z->has_prefix ? 0 :
			    SIZE_MAX, NULL);
	return z->phs_ties;
}

int
zmerge_local_add(struct zmerge *z, const char *data, size_t len)
{
	if (z->prefix_text.len + len > ZMERGE_MAX_BYTES)
		return SC_ERR_LIMIT;
	strbuf_add(&z->prefix_text, data, len);
	return 0;
}

int
zmerge_phs_prefix_end(struct zmerge *z, struct sc_err *e)
{
	char **lines;
	size_t n = 0, i, held = 0;
	struct strbuf *tx = &z->prefix_text;
	long end = -1;

	lines = split_lines(tx, &n);
	for (i = 0; i < n; i++)
		if (strcmp(lines[i], "Protocol Hierarchy Statistics") == 0)
			break;
	while (i < n && !is_row(ZM_PHS, lines[i]))
		i++;
	memset(&z->prefix, 0, sizeof(z->prefix));
	z->prefix.kind = ZM_PHS;
	ALLOC_GROW(z->prefix.nodes, 1, z->prefix.alloc_nodes);
	memset(&z->prefix.nodes[0], 0, sizeof(z->prefix.nodes[0]));
	z->prefix.n_nodes = 1;
	if (i < n)
		end = merge_rows(z, &z->prefix, lines, n, i, &held);
	free(lines);
	strbuf_release(tx);
	if (end < 0)
		return sc_err_set(e, SC_ERR_MERGE, "the hierarchy of the "
		    "capture's first packets is not tshark's table");
	z->has_prefix = 1;
	return 0;
}

/* One chunk being read for the prefix: its file mapped, its next
 * packet. */
struct prefix_in {
	const uint8_t *map;
	size_t len;
	struct source src;
	struct capture cap;
	struct capture_rec rec;
	int live;
};

/* The next packet of one chunk into in->rec: 1, 0 at its end, or
 * SC_ERR_MERGE where the prefix cannot be made of it. */
static int
prefix_next(struct prefix_in *in, const char *path, struct sc_err *e)
{
	int r;

	for (;;) {
		if ((r = capture_next(&in->cap, &in->rec, e)) <= 0)
			return r;
		if (in->rec.kind == REC_OTHER)
			continue;
		if (in->rec.kind != REC_PACKET || !in->rec.has_time)
			return sc_err_set(e, SC_ERR_MERGE, "chunk '%s' has %s "
			    "among its packets", path, in->rec.kind ==
			    REC_PACKET ? "a packet with no time stamp" :
			    "a section, an interface or name blocks");
		return 1;
	}
}

int
zmerge_phs_prefix(char *const *paths, size_t n, uint64_t limit, int fd,
    struct sc_err *e)
{
	struct prefix_in *in = xcalloc(n + 1, sizeof(*in));
	struct strbuf head = STRBUF_INIT, first = STRBUF_INIT;
	uint64_t written = 0;
	size_t i;
	int r = 0;

	for (i = 0; i < n && r == 0; i++) {
		int carry;
		struct stat st;
		int cfd = open(paths[i], O_RDONLY | O_CLOEXEC);

		if (cfd < 0 || fstat(cfd, &st) != 0 || st.st_size == 0) {
			r = cfd < 0 ? sc_err_sys(e, "cannot open '%s'", paths[i]) :
			    sc_err_set(e, SC_ERR_MERGE, "chunk '%s' is empty",
			    paths[i]);
			if (cfd >= 0)
				close(cfd);
			break;
		}
		in[i].len = (size_t)st.st_size;
		in[i].map = mmap(NULL, in[i].len, PROT_READ, MAP_PRIVATE, cfd, 0);
		close(cfd);
		if (in[i].map == MAP_FAILED) {
			in[i].map = NULL;
			r = sc_err_sys(e, "cannot map '%s'", paths[i]);
			break;
		}
		source_open_mem(&in[i].src, in[i].map, in[i].len, 0);
		if ((r = capture_open(&in[i].cap, &in[i].src, e)) != 0)
			break;
		/* what comes before its first packet: the same in every
		 * chunk, or the prefix is not one capture */
		strbuf_reset(&head);
		carry = 0;
		while ((r = capture_next(&in[i].cap, &in[i].rec, e)) > 0 &&
		    in[i].rec.kind != REC_PACKET) {
			carry |= in[i].rec.kind == REC_CARRY;
			if (in[i].rec.kind == REC_SECTION)
				strbuf_add(&head, in[i].rec.header,
				    in[i].rec.header_len);
			else
				strbuf_add(&head, in[i].rec.data, in[i].rec.len);
		}
		if (r < 0)
			break;
		in[i].live = r > 0;
		r = 0;
		/* (a chunk of no packets, the blocks after the last one,
		 * gives the prefix nothing, unless it names or keys) */
		if (!in[i].live && carry)
			r = sc_err_set(e, SC_ERR_MERGE, "chunk '%s' has name "
			    "or decryption blocks and no packets", paths[i]);
		else if (!in[i].live)
			;
		else if (!in[i].rec.has_time)
			r = sc_err_set(e, SC_ERR_MERGE, "chunk '%s' has a packet "
			    "with no time stamp", paths[i]);
		else if (first.len == 0)
			strbuf_add(&first, head.buf, head.len);
		else if (head.len != first.len ||
		    memcmp(head.buf, first.buf, head.len) != 0)
			r = sc_err_set(e, SC_ERR_MERGE, "chunk '%s' begins "
			    "otherwise than the others", paths[i]);
	}
	if (r == 0 && file_write_all(fd, first.buf, first.len) != 0)
		r = sc_err_sys(e, "cannot write the capture's first packets");
	while (r == 0) {
		size_t best = SIZE_MAX;
		struct sc_time prev;

		for (i = 0; i < n; i++)
			if (in[i].live && (best == SIZE_MAX ||
			    sc_time_cmp(&in[i].rec.time, &in[best].rec.time) < 0))
				best = i;
		if (best == SIZE_MAX || written + in[best].rec.len > limit)
			break;
		if (file_write_all(fd, in[best].rec.data, in[best].rec.len) != 0) {
			r = sc_err_sys(e, "cannot write the capture's first "
			    "packets");
			break;
		}
		written += in[best].rec.len;
		prev = in[best].rec.time;
		/* a chunk that goes back in time: the capture's packets
		 * are not in time order from there on, and the prefix ends
		 * where it still was */
		if ((r = prefix_next(&in[best], paths[best], e)) > 0 &&
		    sc_time_cmp(&in[best].rec.time, &prev) < 0) {
			r = 0;
			break;
		}
		if (r >= 0) {
			in[best].live = r > 0;
			r = 0;
		}
	}
	for (i = 0; i < n; i++) {
		if (in[i].map == NULL)
			continue;
		capture_release(&in[i].cap);
		source_close(&in[i].src);
		munmap((void *)in[i].map, in[i].len);
	}
	free(in);
	strbuf_release(&head);
	strbuf_release(&first);
	return r;
}

size_t
zmerge_phs_ties(const struct zmerge *z)
{
	return z->phs_ties;
}

int
zmerge_iostat_begin(struct zmerge *z, char *const *argv, size_t argc,
    struct zmerge_span *spans, size_t n, uint64_t whole_ns,
    struct sc_err *e)
{
	const char *zv, *why = "";
	size_t i = 1, k;
	int quiet = 0;

	while ((zv = next_opt(argv, argc, &i, 'z', &quiet)) != NULL)
		if (strncmp(zv, "io,stat,", 8) == 0)
			break;
	if (zv == NULL || iostat_spec(&z->io_spec, zv, &why) != 0)
		return sc_err_set(e, SC_ERR_USAGE, "cannot merge -z io,stat: "
		    "%s", zv == NULL ? "the command has none" : why);
	z->has_io = 1;
	z->spans = xcalloc(n + 1, sizeof(*z->spans));
	for (k = 0; k < n; k++) {
		z->spans[k].file = xstrdup(spans[k].file);
		z->spans[k].ns = spans[k].ns;
		z->spans[k].group_ns = spans[k].group_ns;
		z->spans[k].untimed = spans[k].untimed;
	}
	z->n_spans = n;
	z->whole_ns = whole_ns;
	if (!zmerge_iostat_needs_share(z)) {
		/* one frame of no bytes, where no filter can leave it out */
		struct io_table *sh = &z->io_share;

		sh->n_cols = z->io_spec.n_cols;
		sh->frames = xcalloc(sh->n_cols, sizeof(*sh->frames));
		sh->value = xcalloc(sh->n_cols, sizeof(*sh->value));
		sh->alloc_cells = sh->n_cols;
		sh->n_rows = 1;
		for (k = 0; k < sh->n_cols; k++) {
			sh->type[k] = z->io_spec.type[k];
			sh->frames[k] = 1;
		}
		z->has_share = 1;
	}
	return 0;
}

uint64_t
zmerge_iostat_interval(const struct zmerge *z)
{
	return z->io_spec.interval;
}

int
zmerge_iostat_needs_share(const struct zmerge *z)
{
	size_t k;

	for (k = 0; k < z->io_spec.n_cols; k++)
		if (!z->io_spec.plain[k])
			return 1;
	return 0;
}

int
zmerge_iostat_file(const char *path, const struct sc_time *ref,
    uint64_t later_ns, int fd, struct sc_err *e)
{
	uint8_t a[96], b[96];
	size_t la = 0, lb = 0;
	uint64_t off = 0, off2 = 0;
	struct sc_time later = *ref;
	struct strbuf head = STRBUF_INIT;
	int r;

	later.sec += (int64_t)(later_ns / NS_PER_S);
	later.nsec += (uint32_t)(later_ns % NS_PER_S);
	if (later.nsec >= NS_PER_S) {
		later.sec++;
		later.nsec -= NS_PER_S;
	}
	if ((r = reference_of(path, ref, &off, a, &la, e)) != 0 ||
	    (r = reference_of(path, &later, &off2, b, &lb, e)) != 0)
		return r;
	/* a pcap's file header, which the chunk's first bytes are */
	if (off > 0) {
		int in = open(path, O_RDONLY | O_CLOEXEC);
		ssize_t got = -1;

		strbuf_grow(&head, off);
		if (in >= 0 && off <= 4096)
			got = pread(in, head.buf, off, 0);
		if (in >= 0)
			(void)close(in);
		if (got != (ssize_t)off)
			r = sc_err_set(e, SC_ERR_MERGE, "cannot read the header "
			    "of chunk '%s'", path);
	}
	if (r == 0 && (file_write_all(fd, head.buf, off) != 0 ||
	    file_write_all(fd, a, la) != 0 || file_write_all(fd, b, lb) != 0))
		r = sc_err_sys(e, "cannot write a file of two records");
	strbuf_release(&head);
	return r;
}

int
zmerge_iostat_share_end(struct zmerge *z, struct sc_err *e)
{
	struct io_table sh;
	const char *why = "it holds no io,stat table";
	char **lines;
	size_t n = 0, i, j, k;
	int r = -1;

	lines = split_lines(&z->prefix_text, &n);
	for (i = 0; i + 1 < n; i++)
		if (is_rule(lines[i]) &&
		    strncmp(lines[i + 1], "| IO Statistics", 15) == 0)
			break;
	for (j = i + 1; j < n && !is_rule(lines[j]); j++)
		;
	if (j < n && (r = iostat_parse(&sh, lines + i, j - i + 1, &why)) == 0) {
		/* two records: in the first row and the next, or both in
		 * the first when it is the only one */
		int both = sh.n_rows == 1;

		for (k = 0; k < sh.n_cols && both; k++)
			if (sh.frames[k] % 2 != 0 || sh.value[k] % 2 != 0 ||
			    (sh.type[k] == IO_MAX && sh.value[k] != 0))
				r = -1;
			else if (sh.type[k] != IO_MAX) {
				sh.frames[k] /= 2;
				sh.value[k] /= 2;
			}
		if (sh.n_rows == 0)
			r = -1;
		sh.n_rows = 1;
		if (r == 0) {
			iostat_release(&z->io_share);
			z->io_share = sh;
			z->has_share = 1;
		} else {
			iostat_release(&sh);
			why = "its rows are not two records'";
		}
	}
	free(lines);
	strbuf_reset(&z->prefix_text);
	if (r != 0)
		return sc_err_set(e, SC_ERR_MERGE, "cannot merge -z io,stat: "
		    "the command run here over two records of the capture's "
		    "first time: %s", why);
	return 0;
}
