/* flowsplit.c - the flow layout: chunks that each hold whole flows.
 *
 * Two passes over the input. The first counts the bytes of every bucket
 * (a flow's hash, flow.h, modulo a power of two) and notes each bucket's
 * first record; the buckets are then packed into chunks of at most the
 * size, largest first, each into the emptiest chunk. A bucket larger
 * than a chunk (an elephant flow) gets consecutive chunks of its own, a
 * *group*, filled in input order to the size: chunks a query reads as one
 * stream (run.h), so that the flow is still read whole. Packets
 * of no IP flow and blocks that are not packets go, in order, into
 * chunks of their own, cut by size as the time layout cuts. The second
 * pass writes every record into its chunk, in input order. Chunks are
 * numbered in the order of their first record, so the first chunk holds
 * the capture's first packet.
 *
 * A chunk begins each section it holds records of with the section's
 * header and the interface, name resolution and decryption secrets
 * blocks seen so far in it, as in the time layout; such a block met later
 * is added to every chunk that has begun the section (interface numbers
 * must mean the same in every chunk).
 *
 * Memory: 32 bytes a bucket (a few per chunk's worth of input), a table of
 * fragmented datagrams (FRAG_MAX at most) and a buffer per chunk being
 * written; at most MAX_OPEN chunks are written at once, and a capture of
 * more chunks is read once more for each further MAX_OPEN.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"
#include "flow.h"
#include "split.h"
#include "strbuf.h"
#include "xalloc.h"
#include "banned.h"

#define BUF_BYTES (32u << 10)   /* a chunk's write buffer */
#define MAX_OPEN 512u           /* chunks written in one pass */
#define FRAG_MAX (1u << 18)     /* fragmented datagrams remembered */
#define MIN_BUCKETS 4096u
#define MAX_BUCKETS (1u << 24)
#define NO_RECORD UINT64_MAX

/* Datagram hash -> flow hash, open addressing; key 0 is an empty slot. */
struct frag_map {
	uint64_t *key, *val;
	size_t cap, n;
};

struct fchunk {
	uint64_t first;         /* ordinal of its first record */
	uint64_t bytes;         /* planned */
	int other;              /* of the packets of no flow and other blocks */
	size_t planned_as;      /* its index before chunks were ordered */
	size_t other_no;        /* an other-chunk's place among them */
	long part;              /* its place in its group (0, 1, ...); -1 */
	uint64_t fill;          /* a group's part: record bytes put in it so
	                         * far in this pass, written or not */
	/* while it is written */
	int fd;
	char *tmp;
	uint8_t *buf;
	size_t used;
	struct digest dg;
	uint64_t section;       /* the section it has begun (1, 2, ...), 0 */
	struct split_chunk *out;
};

struct fsplit {
	const struct split_options *opt;
	struct split_result *res;
	struct source src;
	struct capture cap;
	int src_open;

	uint64_t *bucket_bytes, *bucket_first;
	uint32_t *bucket_chunk;
	uint32_t *bucket_maxrec;  /* its largest record */
	uint32_t *bucket_parts;   /* an elephant's group: chunks planned; 0 */
	uint32_t *bucket_part;    /* ... and the one being filled */
	uint64_t room;          /* record bytes a chunk takes */
	size_t n_buckets;
	struct frag_map known, live;
	struct flow_count flows;  /* counted in the first pass */

	uint64_t *other_starts; /* ordinals that begin an other-chunk */
	size_t n_other, alloc_other;
	uint64_t preamble;      /* largest section header and carry */

	struct fchunk *chunks;  /* in their order: chunk k is NAME-(k+1) */
	size_t n_chunks;
	size_t *other_index;    /* other-chunk i is chunks[other_index[i]] */
	char **final_paths;
	int made_dir;
	mode_t mode;

	uint64_t records, packets; /* of the first pass */
	uint64_t backwards;     /* split_note_order */
	int damaged;
	struct sc_err damage;
	uint64_t input_bytes, dropped;
	int time_digits;
};

/* --- the table of fragmented datagrams --- */

static uint64_t *
map_slot(struct frag_map *m, uint64_t key)
{
	size_t i = (size_t)(key & (m->cap - 1));

	while (m->key[i] != 0 && m->key[i] != key)
		i = (i + 1) & (m->cap - 1);
	return &m->key[i];
}

static void
map_put(struct frag_map *m, uint64_t key, uint64_t val)
{
	uint64_t *k;

	if (key == 0)
		key = 1;
	if (m->cap == 0 || (m->n + 1) * 2 > m->cap) {
		struct frag_map g;
		size_t i;

		if (m->n >= FRAG_MAX)
			return;
		g.cap = m->cap ? m->cap * 2 : 1024;
		g.n = 0;
		g.key = xcalloc(g.cap, sizeof(*g.key));
		g.val = xcalloc(g.cap, sizeof(*g.val));
		for (i = 0; i < m->cap; i++)
			if (m->key[i] != 0) {
				k = map_slot(&g, m->key[i]);
				*k = m->key[i];
				g.val[k - g.key] = m->val[i];
				g.n++;
			}
		free(m->key);
		free(m->val);
		*m = g;
	}
	k = map_slot(m, key);
	if (*k == 0)
		m->n++;
	*k = key;
	m->val[k - m->key] = val;
}

static int
map_get(struct frag_map *m, uint64_t key, uint64_t *val)
{
	uint64_t *k;

	if (m->cap == 0)
		return 0;
	if (key == 0)
		key = 1;
	k = map_slot(m, key);
	if (*k == 0)
		return 0;
	*val = m->val[k - m->key];
	return 1;
}

static void
map_release(struct frag_map *m)
{
	free(m->key);
	free(m->val);
	memset(m, 0, sizeof(*m));
}

/*
 * The bucket of a packet, or -1 when it is of no IP flow. A fragment
 * after the first goes with its datagram's first fragment: as met in this
 * pass (live), else as met anywhere in the first (known), else with its
 * datagram.
 */
static long
bucket_of(struct fsplit *fs, const struct capture_rec *rec, int second)
{
	struct flow f;
	uint64_t h;

	flow_of(rec->linktype, rec->packet, rec->caplen, &f);
	switch (f.kind) {
	case FLOW_IP:
		h = f.hash;
		if (!second)
			flow_count_add(&fs->flows, h, 0);
		if (f.first_fragment)
			map_put(second ? &fs->live : &fs->known, f.datagram, h);
		break;
	case FLOW_FRAGMENT:
		if (!(second && map_get(&fs->live, f.datagram, &h)) &&
		    !map_get(&fs->known, f.datagram, &h))
			h = f.datagram;
		break;
	default:
		return -1;
	}
	return (long)(h & (fs->n_buckets - 1));
}

/* --- reading --- */

static int
open_input(struct fsplit *fs, struct sc_err *e)
{
	int r;

	if ((r = source_open(&fs->src, fs->opt->input, fs->opt->interrupted,
	    e)) != 0)
		return r;
	fs->src_open = 1;
	if ((r = capture_open(&fs->cap, &fs->src, e)) != 0)
		return r;
	fs->res->format = fs->cap.format;
	fs->res->compression = fs->src.compression;
	return 0;
}

static void
close_input(struct fsplit *fs)
{
	if (!fs->src_open)
		return;
	capture_release(&fs->cap);
	source_close(&fs->src);
	memset(&fs->cap, 0, sizeof(fs->cap));
	fs->src_open = 0;
}

/*
 * The next record: 1, 0 at the end (or where the first pass met damage),
 * or an error. The second pass must meet the same records.
 */
static int
next_record(struct fsplit *fs, struct capture_rec *rec, int second,
    uint64_t ordinal, struct sc_err *e)
{
	struct sc_err rerr;
	int r;

	if ((ordinal & 4095) == 0 && fs->opt->interrupted != NULL &&
	    *fs->opt->interrupted)
		return sc_err_set(e, SC_ERR_INTERRUPTED, "interrupted");
	if (second && ordinal == fs->records)
		return 0;
	r = capture_next(&fs->cap, rec, &rerr);
	if (r < 0 && !second && fs->cap.started && sc_err_is_format(r)) {
		fs->damaged = 1;
		fs->damage = rerr;
		return 0;
	}
	if (r < 0) {
		*e = rerr;
		return r;
	}
	if (second && r == 0)
		return sc_err_set(e, SC_ERR_TRUNCATED, "'%s' changed while it "
		    "was split: it ends after %llu records, not %llu",
		    fs->opt->input, (unsigned long long)ordinal,
		    (unsigned long long)fs->records);
	return r;
}

static void
progress(struct fsplit *fs, unsigned pass, unsigned passes)
{
	struct split_progress pr;

	if (fs->opt->progress == NULL)
		return;
	pr.total = fs->src.file_size * passes;
	pr.done = fs->src.file_size * pass + source_progress(&fs->src);
	pr.chunks = 0;
	fs->opt->progress(fs->opt->progress_ctx, &pr);
}

/* --- the first pass: what goes where --- */

static void
other_start(struct fsplit *fs, uint64_t ordinal)
{
	ALLOC_GROW(fs->other_starts, fs->n_other + 1, fs->alloc_other);
	fs->other_starts[fs->n_other++] = ordinal;
}

static int
scan(struct fsplit *fs, struct sc_err *e)
{
	struct capture_rec rec;
	uint64_t ordinal = 0, other_fill = 0, cap, carry = 0, hdr = 0;
	uint64_t next_progress = 0;
	struct sc_time latest = { 0, 0 };
	int r, seen = 0;

	cap = fs->opt->size > 0 ? fs->opt->size : UINT64_MAX;
	while ((r = next_record(fs, &rec, 0, ordinal, e)) > 0) {
		long b;

		switch (rec.kind) {
		case REC_SECTION:
			hdr = rec.header_len;
			carry = 0;
			break;
		case REC_INTERFACE:
		case REC_CARRY:
			carry += rec.len;
			if (carry > SPLIT_MAX_CARRY)
				return sc_err_at(e, SC_ERR_LIMIT, rec.offset,
				    "the interface, name resolution and "
				    "decryption secrets blocks of one section "
				    "exceed %u bytes", SPLIT_MAX_CARRY);
			break;
		case REC_PACKET:
			fs->packets++;
			if (rec.has_time)
				split_note_order(&rec.time, &latest, &seen,
				    &fs->backwards);
			if ((b = bucket_of(fs, &rec, 0)) >= 0) {
				fs->bucket_bytes[b] += rec.len;
				if (rec.len > fs->bucket_maxrec[b])
					fs->bucket_maxrec[b] = (uint32_t)rec.len;
				if (fs->bucket_first[b] == NO_RECORD)
					fs->bucket_first[b] = ordinal;
				break;
			}
			/* fall through - a packet of no flow */
		case REC_OTHER:
			if (fs->n_other == 0 || (fs->opt->parts == 0 &&
			    other_fill > 0 && other_fill + rec.len > cap)) {
				other_start(fs, ordinal);
				other_fill = 0;
			}
			other_fill += rec.len;
			break;
		}
		if (hdr + carry > fs->preamble)
			fs->preamble = hdr + carry;
		ordinal++;
		if (fs->src.pos >= next_progress) {
			progress(fs, 0, 2);
			next_progress = fs->src.pos + (16u << 20);
		}
	}
	if (r < 0)
		return r;
	fs->records = ordinal;
	if (fs->damaged && fs->packets == 0) {
		*e = fs->damage;
		return fs->damage.code;
	}
	if (fs->damaged) {
		uint64_t end = source_drain(&fs->src);

		fs->dropped = end > fs->damage.offset ?
		    end - fs->damage.offset : 0;
		fs->input_bytes = source_end(&fs->src);
	} else {
		fs->input_bytes = fs->src.pos;
	}
	fs->time_digits = capture_time_digits(&fs->cap);
	return 0;
}

/* Buckets by bytes, most first; ties by number, so plans repeat. */
static const uint64_t *sort_bytes;

static int
by_bytes(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	if (sort_bytes[x] != sort_bytes[y])
		return sort_bytes[x] > sort_bytes[y] ? -1 : 1;
	return x < y ? -1 : 1;
}

static int
by_first(const void *a, const void *b)
{
	const struct fchunk *x = a, *y = b;

	/* (a group's parts share their first record, and come in order) */
	if (x->first != y->first)
		return x->first < y->first ? -1 : 1;
	return x->planned_as < y->planned_as ? -1 :
	    x->planned_as > y->planned_as;
}

/* A min-heap of chunk numbers by planned bytes. */
static void
heap_down(size_t *h, size_t n, size_t i, const struct fchunk *c)
{
	for (;;) {
		size_t l = 2 * i + 1, m = i, t;

		if (l < n && c[h[l]].bytes < c[h[m]].bytes)
			m = l;
		if (l + 1 < n && c[h[l + 1]].bytes < c[h[m]].bytes)
			m = l + 1;
		if (m == i)
			return;
		t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

static void
heap_up(size_t *h, size_t i, const struct fchunk *c)
{
	while (i > 0 && c[h[(i - 1) / 2]].bytes > c[h[i]].bytes) {
		size_t p = (i - 1) / 2, t = h[i];

		h[i] = h[p];
		h[p] = t;
		i = p;
	}
}

/*
 * Packs the buckets into chunks, adds the other-chunks, and puts them in
 * the order of their first record. By size: a chunk takes what fits in
 * the size less the largest preamble, the emptiest first, and a bucket
 * that fits in none opens a chunk. By parts: exactly that many chunks,
 * the emptiest first.
 */
static int
plan(struct fsplit *fs, struct sc_err *e)
{
	uint32_t *order;
	size_t n = 0, i, alloc = 0, *heap = NULL, hn = 0, halloc = 0;
	size_t *perm;
	uint64_t total = 0, cap = UINT64_MAX;
	struct fchunk *c = NULL;

	if (fs->opt->parts == 0 && fs->opt->size > 0)
		cap = fs->opt->size > 2 * fs->preamble ?
		    fs->opt->size - fs->preamble : fs->opt->size / 2 + 1;
	fs->room = cap;
	order = xcalloc(fs->n_buckets, sizeof(*order));
	for (i = 0; i < fs->n_buckets; i++) {
		uint64_t bytes = fs->bucket_bytes[i];

		if (bytes == 0)
			continue;
		/* An elephant: its parts are filled to the size, each but the
		 * last with more than cap - maxrec bytes, so this many will
		 * do (those left empty go after the writing). Not where one
		 * record is near a chunk's size: a chunk of its own, larger. */
		if (bytes > cap && cap != UINT64_MAX &&
		    cap > 2 * (uint64_t)fs->bucket_maxrec[i]) {
			uint64_t m = bytes / (cap - fs->bucket_maxrec[i]) + 1;
			size_t k;

			if (m > SPLIT_MAX_CHUNKS)
				m = SPLIT_MAX_CHUNKS + 1;
			fs->bucket_parts[i] = (uint32_t)m;
			for (k = 0; k < m; k++) {
				ALLOC_GROW(c, fs->n_chunks + 1, alloc);
				memset(&c[fs->n_chunks], 0, sizeof(*c));
				c[fs->n_chunks].first = fs->bucket_first[i];
				c[fs->n_chunks].part = (long)k;
				if (k == 0)
					fs->bucket_chunk[i] =
					    (uint32_t)fs->n_chunks;
				fs->n_chunks++;
			}
			continue;
		}
		order[n++] = (uint32_t)i;
		total += bytes;
	}
	sort_bytes = fs->bucket_bytes;
	qsort(order, n, sizeof(*order), by_bytes);
	/* the chunks the bytes need at least, each empty */
	if (n > 0) {
		size_t want = fs->opt->parts > 0 ? fs->opt->parts :
		    (size_t)(total / cap + 1);

		if (want > n)
			want = n;
		for (i = 0; i < want; i++) {
			size_t k = fs->n_chunks++;

			ALLOC_GROW(c, k + 1, alloc);
			memset(&c[k], 0, sizeof(c[k]));
			c[k].first = NO_RECORD;
			c[k].part = -1;
			ALLOC_GROW(heap, hn + 1, halloc);
			heap[hn++] = k;
		}
	}
	for (i = 0; i < n; i++) {
		uint32_t b = order[i];
		uint64_t bytes = fs->bucket_bytes[b];
		size_t k = heap[0];

		if (c[k].bytes > 0 && c[k].bytes + bytes > cap) {
			/* none has room: a chunk of its own */
			k = fs->n_chunks++;
			ALLOC_GROW(c, k + 1, alloc);
			memset(&c[k], 0, sizeof(c[k]));
			c[k].first = NO_RECORD;
			c[k].part = -1;
			ALLOC_GROW(heap, hn + 1, halloc);
			heap[hn++] = k;
			c[k].bytes = bytes;
			heap_up(heap, hn - 1, c);
		} else {
			c[k].bytes += bytes;
			heap_down(heap, hn, 0, c);
		}
		fs->bucket_chunk[b] = (uint32_t)k;
		if (fs->bucket_first[b] < c[k].first)
			c[k].first = fs->bucket_first[b];
	}
	free(heap);
	free(order);
	/* the other-chunks; and one for the header alone when there is
	 * nothing else, so that every input makes a valid file */
	if (fs->n_other == 0 && fs->n_chunks == 0)
		other_start(fs, 0);
	for (i = 0; i < fs->n_other; i++) {
		size_t k = fs->n_chunks++;

		ALLOC_GROW(c, k + 1, alloc);
		memset(&c[k], 0, sizeof(c[k]));
		c[k].first = fs->other_starts[i];
		c[k].part = -1;
		c[k].other = 1;
		c[k].other_no = i;
	}
	if (fs->n_chunks > SPLIT_MAX_CHUNKS) {
		free(c);
		fs->n_chunks = 0;       /* none made: nothing to free or undo */
		return sc_err_set(e, SC_ERR_LIMIT, "more than %u chunks; use a "
		    "larger --size", SPLIT_MAX_CHUNKS);
	}
	/* in the order of their first record: where each chunk went */
	for (i = 0; i < fs->n_chunks; i++)
		c[i].planned_as = i;
	qsort(c, fs->n_chunks, sizeof(*c), by_first);
	perm = xcalloc(fs->n_chunks + 1, sizeof(*perm));
	fs->other_index = xcalloc(fs->n_other + 1, sizeof(*fs->other_index));
	for (i = 0; i < fs->n_chunks; i++) {
		perm[c[i].planned_as] = i;
		if (c[i].other)
			fs->other_index[c[i].other_no] = i;
		c[i].fd = -1;
	}
	for (i = 0; i < fs->n_buckets; i++)
		if (fs->bucket_bytes[i] > 0)
			fs->bucket_chunk[i] = (uint32_t)perm[fs->bucket_chunk[i]];
	free(perm);
	fs->chunks = c;
	return 0;
}

/* --- the second pass: writing --- */

static int
flush_chunk(struct fsplit *fs, struct fchunk *c, struct sc_err *e)
{
	if (c->used == 0)
		return 0;
	digest_update(&c->dg, c->buf, c->used);
	if (file_write_all(c->fd, c->buf, c->used) < 0)
		return sc_err_sys(e, "cannot write '%s'", fs->final_paths[c -
		    fs->chunks]);
	c->used = 0;
	return 0;
}

static int
put(struct fsplit *fs, struct fchunk *c, const uint8_t *p, size_t len,
    struct sc_err *e)
{
	int r;

	c->out->bytes += len;
	while (len > 0) {
		size_t n = BUF_BYTES - c->used;

		if (n > len)
			n = len;
		memcpy(c->buf + c->used, p, n);
		c->used += n;
		p += n;
		len -= n;
		if (c->used == BUF_BYTES && (r = flush_chunk(fs, c, e)) != 0)
			return r;
	}
	return 0;
}

/* The current section's header and carry, if c has not begun it. */
static int
begin_section(struct fsplit *fs, struct fchunk *c, uint64_t section,
    const uint8_t *hdr, size_t hdr_len, const struct strbuf *carry,
    struct sc_err *e)
{
	int r;

	if (c->section == section)
		return 0;
	c->section = section;
	if ((r = put(fs, c, hdr, hdr_len, e)) != 0)
		return r;
	return put(fs, c, (const uint8_t *)carry->buf, carry->len, e);
}

static int
open_chunk(struct fsplit *fs, size_t k, struct sc_err *e)
{
	struct fchunk *c = &fs->chunks[k];
	struct split_chunk *out = fs->res->chunks[k];

	if ((c->fd = split_open_tmp(fs->opt, out->file, fs->mode, &c->tmp,
	    e)) < 0)
		return e->code;
	c->buf = xmalloc(BUF_BYTES);
	digest_init(&c->dg, fs->opt->digest);
	c->out = out;
	return 0;
}

static int
close_chunk(struct fsplit *fs, struct fchunk *c, struct sc_err *e)
{
	int r = flush_chunk(fs, c, e);

	if (r == 0 && close(c->fd) < 0)
		r = sc_err_sys(e, "cannot write '%s'",
		    fs->final_paths[c - fs->chunks]);
	else if (r != 0)
		close(c->fd);
	c->fd = -1;
	digest_final(&c->dg, c->out->digest);
	digest_release(&c->dg);
	free(c->buf);
	c->buf = NULL;
	return r;
}

/* The part of elephant bucket b a record of len bytes goes to: the one
 * being filled, or the next when it would pass the size. */
static struct fchunk *
group_part(struct fsplit *fs, size_t b, size_t len)
{
	struct fchunk *g = &fs->chunks[fs->bucket_chunk[b] +
	    fs->bucket_part[b]];

	if (g->fill > 0 && g->fill + len > fs->room &&
	    fs->bucket_part[b] + 1 < fs->bucket_parts[b])
		g = &fs->chunks[fs->bucket_chunk[b] + ++fs->bucket_part[b]];
	g->fill += len;
	return g;
}

/* Drops the parts of groups that the writing left empty (plan() makes as
 * many as a group may need), and names the chunks that stay, in order,
 * each part of a group with its place in it (split_chunk.part). */
static void
drop_empty_parts(struct fsplit *fs)
{
	struct split_result *res = fs->res;
	size_t k, n = 0;

	for (k = 0; k < fs->n_chunks; k++) {
		struct fchunk *c = &fs->chunks[k];
		struct split_chunk *out = res->chunks[k];

		if (c->part > 0 && out->packets == 0) {
			(void)unlink(c->tmp);
			free(c->tmp);
			free(fs->final_paths[k]);
			free(out->file);
			free(out);
			continue;
		}
		fs->chunks[n] = *c;
		fs->final_paths[n] = fs->final_paths[k];
		res->chunks[n] = out;
		n++;
	}
	for (k = 0; k < n; k++) {
		struct split_chunk *out = res->chunks[k];

		free(out->file);
		free(fs->final_paths[k]);
		out->file = xasprintf("%s-%06zu%s", fs->opt->name, k + 1,
		    capture_format_extension(res->format));
		fs->final_paths[k] = xasprintf("%s/%s", fs->opt->dir,
		    out->file);
	}
	for (k = 0; k < n; k++) {
		res->chunks[k]->part = fs->chunks[k].part < 0 ? 0 :
		    (unsigned)fs->chunks[k].part + 1;
		/* a group left with one part is a chunk like any other */
		if (fs->chunks[k].part == 0 && (k + 1 == n ||
		    fs->chunks[k + 1].part <= 0))
			res->chunks[k]->part = 0;
	}
	fs->n_chunks = n;
	res->n_chunks = n;
}

/* Writes chunks [lo, hi) in one pass over the input. */
static int
write_pass(struct fsplit *fs, size_t lo, size_t hi, unsigned pass,
    unsigned passes, struct sc_err *e)
{
	struct capture_rec rec;
	struct strbuf carry = STRBUF_INIT;
	const uint8_t *hdr = NULL;
	size_t hdr_len = 0, other = 0, k;
	uint64_t ordinal = 0, section = 0, next_progress = 0;
	int r;

	for (k = lo; k < hi; k++)
		if ((r = open_chunk(fs, k, e)) != 0)
			goto out;
	/* the groups fill again from their first part, every pass alike */
	memset(fs->bucket_part, 0, fs->n_buckets * sizeof(*fs->bucket_part));
	for (k = 0; k < fs->n_chunks; k++)
		fs->chunks[k].fill = 0;
	map_release(&fs->live);
	if ((r = open_input(fs, e)) != 0)
		goto out;
	while ((r = next_record(fs, &rec, 1, ordinal, e)) > 0) {
		struct fchunk *c = NULL;
		long b;

		switch (rec.kind) {
		case REC_SECTION:
			hdr = rec.header;
			hdr_len = rec.header_len;
			strbuf_reset(&carry);
			section++;
			break;
		case REC_INTERFACE:
		case REC_CARRY:
			strbuf_add(&carry, rec.data, rec.len);
			for (k = lo; k < hi; k++)
				if (fs->chunks[k].section == section &&
				    (r = put(fs, &fs->chunks[k], rec.data,
				    rec.len, e)) != 0)
					goto out;
			break;
		case REC_PACKET:
			if ((b = bucket_of(fs, &rec, 1)) >= 0) {
				c = &fs->chunks[fs->bucket_chunk[b]];
				if (fs->bucket_parts[b] > 0)
					c = group_part(fs, (size_t)b, rec.len);
				break;
			}
			/* fall through */
		case REC_OTHER:
			if (other + 1 < fs->n_other &&
			    ordinal == fs->other_starts[other + 1])
				other++;
			c = &fs->chunks[fs->other_index[other]];
			break;
		}
		k = c != NULL ? (size_t)(c - fs->chunks) : hi;
		if (k >= lo && k < hi) {
			if ((r = begin_section(fs, c, section, hdr, hdr_len,
			    &carry, e)) != 0 ||
			    (r = put(fs, c, rec.data, rec.len, e)) != 0)
				goto out;
			if (rec.kind == REC_PACKET) {
				c->out->packets++;
				if (rec.has_time)
					split_chunk_time(c->out, &rec.time);
			}
		}
		ordinal++;
		if (fs->src.pos >= next_progress) {
			progress(fs, pass, passes);
			next_progress = fs->src.pos + (16u << 20);
		}
	}
	if (r < 0)
		goto out;
	/* a chunk with no record (the header alone) still begins the last
	 * section */
	for (k = lo; k < hi; k++)
		if (fs->chunks[k].section == 0 && (r = begin_section(fs,
		    &fs->chunks[k], section, hdr, hdr_len, &carry, e)) != 0)
			goto out;
	for (k = lo; k < hi; k++) {
		int r2 = close_chunk(fs, &fs->chunks[k], e);

		if (r == 0)
			r = r2;
	}
out:
	for (k = lo; k < hi; k++)
		if (fs->chunks[k].fd >= 0) {
			close(fs->chunks[k].fd);
			fs->chunks[k].fd = -1;
			if (fs->chunks[k].buf != NULL)
				digest_release(&fs->chunks[k].dg);
			free(fs->chunks[k].buf);
			fs->chunks[k].buf = NULL;
		}
	close_input(fs);
	strbuf_release(&carry);
	return r;
}

/* Removes every file this run made. */
static void
undo(struct fsplit *fs, size_t renamed)
{
	size_t k;

	for (k = 0; k < fs->n_chunks; k++) {
		if (k < renamed)
			(void)unlink(fs->final_paths[k]);
		else if (fs->chunks[k].tmp != NULL)
			(void)unlink(fs->chunks[k].tmp);
	}
	if (fs->made_dir)
		(void)rmdir(fs->opt->dir);
}

int
split_flows(const struct split_options *opt, struct split_result *res,
    struct sc_err *e)
{
	struct fsplit fs;
	struct capture_rec rec;
	size_t k, renamed = 0, lo;
	unsigned pass, passes;
	uint64_t want, fsize;
	int r, compressed;

	memset(res, 0, sizeof(*res));
	memset(&fs, 0, sizeof(fs));
	flow_count_init(&fs.flows);
	fs.opt = opt;
	fs.res = res;
	fs.mode = umask(0);
	umask(fs.mode);
	fs.mode = 0666 & ~fs.mode;

	if (strcmp(opt->input, "-") == 0)
		return sc_err_set(e, SC_ERR_USAGE, "the flow layout reads its "
		    "input twice: give a file, not standard input");
	if ((r = open_input(&fs, e)) != 0)
		goto out;
	/* Nothing is created before the first header has proved good. */
	if ((r = capture_next(&fs.cap, &rec, e)) <= 0) {
		if (r == 0)
			r = sc_err_at(e, SC_ERR_TRUNCATED, 0, "no header");
		goto out;
	}
	fsize = fs.src.file_size;
	compressed = fs.src.compression != SOURCE_PLAIN;
	close_input(&fs);
	/* 64 buckets a chunk at least (a compressed file's size says less
	 * of how much it holds) */
	want = opt->parts > 0 ? opt->parts : (opt->size > 0 ?
	    fsize / opt->size + 1 : 1);
	if (compressed)
		want *= 8;
	for (fs.n_buckets = MIN_BUCKETS; fs.n_buckets < MAX_BUCKETS &&
	    fs.n_buckets < want * 64; fs.n_buckets *= 2)
		;
	fs.bucket_bytes = xcalloc(fs.n_buckets, sizeof(*fs.bucket_bytes));
	fs.bucket_first = xmalloc(fs.n_buckets * sizeof(*fs.bucket_first));
	fs.bucket_chunk = xcalloc(fs.n_buckets, sizeof(*fs.bucket_chunk));
	fs.bucket_maxrec = xcalloc(fs.n_buckets, sizeof(*fs.bucket_maxrec));
	fs.bucket_parts = xcalloc(fs.n_buckets, sizeof(*fs.bucket_parts));
	fs.bucket_part = xcalloc(fs.n_buckets, sizeof(*fs.bucket_part));
	memset(fs.bucket_first, 0xff, fs.n_buckets * sizeof(*fs.bucket_first));

	if ((r = open_input(&fs, e)) != 0 || (r = scan(&fs, e)) != 0)
		goto out;
	close_input(&fs);
	if ((r = plan(&fs, e)) != 0)
		goto out;
	if ((r = split_prepare_dir(opt, res->format, &fs.made_dir, e)) != 0)
		goto out;

	res->chunks = xcalloc(fs.n_chunks + 1, sizeof(*res->chunks));
	res->alloc_chunks = fs.n_chunks + 1;
	fs.final_paths = xcalloc(fs.n_chunks + 1, sizeof(*fs.final_paths));
	for (k = 0; k < fs.n_chunks; k++) {
		struct split_chunk *c = xcalloc(1, sizeof(*c));

		c->file = xasprintf("%s-%06zu%s", opt->name, k + 1,
		    capture_format_extension(res->format));
		fs.final_paths[k] = xasprintf("%s/%s", opt->dir, c->file);
		res->chunks[res->n_chunks++] = c;
	}
	passes = 1 + (unsigned)((fs.n_chunks + MAX_OPEN - 1) / MAX_OPEN);
	for (lo = 0, pass = 1; lo < fs.n_chunks; lo += MAX_OPEN, pass++) {
		size_t hi = lo + MAX_OPEN < fs.n_chunks ? lo + MAX_OPEN :
		    fs.n_chunks;

		if ((r = write_pass(&fs, lo, hi, pass, passes, e)) != 0)
			goto out;
	}
	drop_empty_parts(&fs);
	for (k = 0; k < fs.n_chunks; k++, renamed++)
		if (rename(fs.chunks[k].tmp, fs.final_paths[k]) < 0) {
			r = sc_err_sys(e, "cannot rename a chunk to '%s'",
			    fs.final_paths[k]);
			goto out;
		}
	res->packets = fs.packets;
	res->input_bytes = fs.input_bytes;
	res->flows = fs.flows.flows;
	res->cut_flows = 0;
	res->flows_exact = fs.flows.exact;
	res->backwards = fs.backwards;
	res->time_digits = fs.time_digits;
	if (fs.damaged) {
		res->damage = fs.damage;
		res->dropped_bytes = fs.dropped;
	}
	split_remove_stale(opt, res->format, res->n_chunks);
out:
	if (r != 0) {
		undo(&fs, renamed);
		split_result_release(res);
	}
	close_input(&fs);
	for (k = 0; k < fs.n_chunks; k++) {
		free(fs.chunks[k].tmp);
		if (fs.final_paths != NULL)
			free(fs.final_paths[k]);
	}
	free(fs.final_paths);
	free(fs.chunks);
	free(fs.other_index);
	free(fs.other_starts);
	free(fs.bucket_bytes);
	free(fs.bucket_first);
	free(fs.bucket_chunk);
	free(fs.bucket_maxrec);
	free(fs.bucket_parts);
	free(fs.bucket_part);
	map_release(&fs.known);
	map_release(&fs.live);
	flow_count_release(&fs.flows);
	return r;
}
