/* test-split.c - the splitter on captures built here: where it cuts, what
 * every chunk starts with, that chunks read back to the original records,
 * and that nothing is left behind when it fails. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture.h"
#include "digest.h"
#include "source.h"
#include "split.h"
#include "tap.h"
#include "testcap.h"
#include "unit.h"
#include "xalloc.h"

static char *
write_file(const char *name, const struct tbuf *b)
{
	char *path = xasprintf("%s/%s", tap_tmpdir(), name);
	FILE *f = fopen(path, "wb");

	if (f == NULL || fwrite(b->p, 1, b->len, f) != b->len || fclose(f)) {
		perror(path);
		exit(2);
	}
	return path;
}

static int
read_file(const char *path, struct tbuf *b)
{
	char buf[65536];
	size_t n;
	FILE *f = fopen(path, "rb");

	tb_init(b, 0);
	if (f == NULL)
		return -1;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		tb_bytes(b, buf, n);
	fclose(f);
	return 0;
}

/* The packet records of a file (or buffer), concatenated. */
static int
packets_of(const struct tbuf *b, struct tbuf *out, size_t *count)
{
	struct source src;
	struct capture cap;
	struct capture_rec rec;
	struct sc_err e;
	int r;

	source_open_mem(&src, b->p, b->len, 0);
	if ((r = capture_open(&cap, &src, &e)) == 0) {
		while ((r = capture_next(&cap, &rec, &e)) > 0) {
			if (rec.kind == REC_PACKET) {
				tb_bytes(out, rec.data, rec.len);
				(*count)++;
			}
		}
		capture_release(&cap);
	}
	source_close(&src);
	return r;
}

static int
entries_in(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

struct outcome {
	int r;
	struct sc_err e;
	struct split_result res;
	struct tbuf packets;    /* of all chunks, concatenated */
	size_t n_packets;
	int readback;           /* every chunk read back cleanly */
	int digests;            /* every digest recomputed equal */
	uint64_t largest;
};

/* Non-zero: run_split cuts into this many parts instead of by size. */
static unsigned split_parts;

static void
run_split(const char *input, const char *dir, uint64_t size, int force,
    struct outcome *o)
{
	struct split_options opt;
	size_t i;

	memset(o, 0, sizeof(*o));
	memset(&opt, 0, sizeof(opt));
	opt.input = input;
	opt.dir = dir;
	opt.name = "t";
	opt.size = size;
	opt.parts = split_parts;
	opt.force = force;
	sc_err_clear(&o->e);
	o->r = split_capture(&opt, &o->res, &o->e);
	tb_init(&o->packets, 0);
	o->readback = o->digests = 1;
	for (i = 0; i < o->res.n_chunks; i++) {
		char *path = xasprintf("%s/%s", dir, o->res.chunks[i]->file);
		uint8_t d[DIGEST_MAX_LEN];
		struct digest dg;
		struct tbuf b;

		if (read_file(path, &b) != 0 ||
		    packets_of(&b, &o->packets, &o->n_packets) != 0)
			o->readback = 0;
		digest_init(&dg, DIGEST_XXH128);
		digest_update(&dg, b.p, b.len);
		digest_final(&dg, d);
		digest_release(&dg);
		if (memcmp(d, o->res.chunks[i]->digest, 16) != 0 ||
		    b.len != o->res.chunks[i]->bytes)
			o->digests = 0;
		if (b.len > o->largest)
			o->largest = b.len;
		tb_free(&b);
		free(path);
	}
}

static void
outcome_free(struct outcome *o)
{
	split_result_release(&o->res);
	tb_free(&o->packets);
}

/* Splits b at size and checks the invariants every split must keep. */
static void
check_split(const char *what, const struct tbuf *b, uint64_t size,
    size_t want_chunks, uint64_t biggest_packet)
{
	char *in = write_file("in.cap", b);
	char *dir = xasprintf("%s/out-%llu", tap_tmpdir(),
	    (unsigned long long)size);
	struct tbuf orig;
	size_t n_orig = 0;
	struct outcome o;

	tb_init(&orig, 0);
	packets_of(b, &orig, &n_orig);
	run_split(in, dir, size, 1, &o);
	is_int(o.r, 0, what);
	if (want_chunks > 0)
		is_int(o.res.n_chunks, want_chunks, "  number of chunks");
	ok(o.readback, "  every chunk reads back cleanly");
	ok(o.n_packets == n_orig && o.packets.len == orig.len &&
	    (orig.len == 0 || memcmp(o.packets.p, orig.p, orig.len) == 0),
	    "  chunks hold the original's %zu packet records, byte for byte",
	    n_orig);
	ok(o.digests, "  digests are the chunk files' digests");
	ok(o.largest <= size || o.largest <= biggest_packet,
	    "  no chunk above %llu bytes but for one big packet",
	    (unsigned long long)size);
	is_int(entries_in(dir), (long long)o.res.n_chunks,
	    "  no temporary files left");
	outcome_free(&o);
	tb_free(&orig);
	free(dir);
	free(in);
}

/* Cuts b into parts, as a hot chunk is cut: exactly that many chunks
 * (want, when the input has fewer packets), none above its share by more
 * than slack, and the same invariants as any split. */
static void
check_parts(const char *what, const struct tbuf *b, unsigned parts,
    size_t want, uint64_t slack)
{
	char *in = write_file("in.cap", b);
	char *dir = xasprintf("%s/parts-%u", tap_tmpdir(), parts);
	struct tbuf orig;
	size_t n_orig = 0;
	struct outcome o;

	tb_init(&orig, 0);
	packets_of(b, &orig, &n_orig);
	split_parts = parts;
	run_split(in, dir, 1, 1, &o);
	split_parts = 0;
	is_int(o.r, 0, what);
	is_int(o.res.n_chunks, want, "  number of parts");
	ok(o.readback, "  every part reads back cleanly");
	ok(o.n_packets == n_orig && o.packets.len == orig.len &&
	    (orig.len == 0 || memcmp(o.packets.p, orig.p, orig.len) == 0),
	    "  parts hold the original's %zu packet records, byte for byte",
	    n_orig);
	ok(o.digests, "  digests are the part files' digests");
	ok(o.largest <= b->len / parts + slack,
	    "  no part above its share (%zu) by more than %llu bytes: %llu",
	    b->len / parts, (unsigned long long)slack,
	    (unsigned long long)o.largest);
	outcome_free(&o);
	tb_free(&orig);
	free(dir);
	free(in);
}

void
test_split(void)
{
	struct tbuf b;
	int i;

	/* pcap: header 24, records of 16 + 84 = 100 bytes */
	tb_init(&b, 0);
	tb_pcap_header(&b, 0, 0, 1, 65535);
	for (i = 0; i < 10; i++)
		tb_pcap_record(&b, 0, (uint32_t)i, 0, 84, 84);
	check_split("pcap into chunks of 224 bytes", &b, 224, 5, 0);
	check_split("pcap into chunks of 223 bytes", &b, 223, 10, 0);
	check_split("pcap into one chunk", &b, 1024, 1, 0);
	check_split("pcap: size below one record", &b, 50, 10, 124);
	check_parts("pcap cut into 3 parts", &b, 3, 3, 24 + 100);
	check_parts("pcap cut into 2 parts", &b, 2, 2, 24 + 100);
	check_parts("pcap cut into more parts than packets", &b, 20, 10, 124);
	tb_free(&b);

	/* header only */
	tb_init(&b, 1);
	tb_pcap_header(&b, 1, 0, 101, 65535);
	check_split("a pcap without packets gives one empty chunk", &b, 1000,
	    1, 0);
	tb_free(&b);

	/* pcapng: chunks repeat SHB and IDBs and carried blocks */
	tb_init(&b, 0);
	tb_shb(&b, 99999);
	tb_block(&b, PCAPNG_DSB, 40);
	tb_idb(&b, 1, 65535, -1, 0, "eth0");
	for (i = 0; i < 20; i++) {
		tb_epb(&b, 0, (uint64_t)i, 100, 100);
		if (i == 5)
			tb_idb(&b, 101, 65535, 9, 0, "late");
		if (i % 4 == 0)
			tb_block(&b, PCAPNG_CB_COPY, 12);
	}
	tb_block(&b, PCAPNG_ISB, 8);
	b.be = 1;
	tb_shb(&b, -1);
	tb_idb(&b, 113, 65535, -1, 0, NULL);
	for (i = 0; i < 10; i++)
		tb_epb(&b, 0, (uint64_t)i, 60 + (uint32_t)i, 200);
	tb_shb(&b, -1);
	check_split("pcapng in small chunks", &b, 400, 0, 0);
	check_split("pcapng in one chunk", &b, 100000, 1, 0);
	check_split("pcapng with a size below any block", &b, 10, 0, 1000);
	check_parts("pcapng cut into 4 parts", &b, 4, 4, 1000);
	tb_free(&b);

	/* what a pcapng chunk starts with */
	{
		char *in, *dir = xasprintf("%s/preamble", tap_tmpdir());
		char *path;
		struct outcome o;
		struct tbuf c;
		struct source src;
		struct capture cap;
		struct capture_rec rec;
		struct sc_err e;
		int kinds[8], k = 0;

		tb_init(&b, 0);
		tb_shb(&b, 12345);
		tb_idb(&b, 1, 65535, -1, 0, NULL);
		tb_block(&b, PCAPNG_NRB, 16);
		tb_epb(&b, 0, 1, 200, 200);
		tb_block(&b, PCAPNG_ISB, 8);
		tb_epb(&b, 0, 2, 200, 200);
		in = write_file("pre.pcapng", &b);
		/* 308 bytes up to the first packet, the ISB fits after it */
		run_split(in, dir, 340, 0, &o);
		is_int(o.res.n_chunks, 2, "two chunks");
		path = xasprintf("%s/%s", dir, o.res.chunks[1]->file);
		read_file(path, &c);
		source_open_mem(&src, c.p, c.len, 0);
		capture_open(&cap, &src, &e);
		while (k < 8 && capture_next(&cap, &rec, &e) > 0) {
			kinds[k] = (int)rec.block_type;
			if (k == 0)
				ok(rec.data[16] == 0xff && rec.data[23] == 0xff,
				    "second chunk's SHB: section length unknown");
			k++;
		}
		ok(k == 4 && kinds[0] == (int)PCAPNG_SHB &&
		    kinds[1] == (int)PCAPNG_IDB && kinds[2] == (int)PCAPNG_NRB &&
		    kinds[3] == (int)PCAPNG_EPB,
		    "second chunk: SHB, IDB, NRB repeated, then the EPB");
		ok(strcmp(o.res.chunks[0]->file, "t-000001.pcapng") == 0 &&
		    strcmp(o.res.chunks[1]->file, "t-000002.pcapng") == 0,
		    "chunk names: NAME-NNNNNN.pcapng");
		capture_release(&cap);
		source_close(&src);
		tb_free(&c);
		outcome_free(&o);

		/* again without --force: refused, nothing changed */
		run_split(in, dir, 340, 0, &o);
		is_int(o.r, SC_ERR_EXISTS, "existing chunks are not replaced");
		is_int(entries_in(dir), 2, "and are left alone");
		outcome_free(&o);
		/* with --force and a larger size: one chunk, the old second
		 * one removed */
		run_split(in, dir, 100000, 1, &o);
		is_int(o.res.n_chunks, 1, "--force: one chunk now");
		is_int(entries_in(dir), 1, "--force removes the stale second");
		outcome_free(&o);
		free(path);
		free(in);
		free(dir);
		tb_free(&b);
	}
}

void
test_split_damage(void)
{
	struct tbuf b;
	struct outcome o;
	char *in, *dir;
	int i;

	/* truncated at the end: complete packets kept */
	tb_init(&b, 0);
	tb_pcap_header(&b, 0, 0, 1, 65535);
	for (i = 0; i < 6; i++)
		tb_pcap_record(&b, 0, (uint32_t)i, 0, 84, 84);
	b.len -= 10;
	in = write_file("trunc.pcap", &b);
	dir = xasprintf("%s/trunc", tap_tmpdir());
	run_split(in, dir, 250, 0, &o);
	is_int(o.r, 0, "a truncated capture still splits");
	is_int(o.res.damage.code, SC_ERR_TRUNCATED, "and says it is truncated");
	is_int(o.res.damage.offset, 24 + 5 * 100, "at the last record");
	is_int(o.res.dropped_bytes, 90, "90 bytes dropped");
	is_int(o.n_packets, 5, "the five whole packets are in the chunks");
	ok(o.readback, "and the chunks are sound");
	is_int(entries_in(dir), 3, "three chunks, no temporary file");
	outcome_free(&o);
	free(in);
	free(dir);
	tb_free(&b);

	/* damaged before the first packet: nothing is written at all */
	tb_init(&b, 0);
	tb_shb(&b, -1);
	tb_spb(&b, 40, 40);
	in = write_file("nointerface.pcapng", &b);
	dir = xasprintf("%s/nointerface", tap_tmpdir());
	run_split(in, dir, 250, 0, &o);
	is_int(o.r, SC_ERR_INTERFACE, "damage before any packet fails");
	is_int(entries_in(dir), -1, "and does not even create the directory");
	outcome_free(&o);
	free(in);
	free(dir);
	tb_free(&b);

	/* a directory that cannot be written */
	tb_init(&b, 0);
	tb_pcap_header(&b, 0, 0, 1, 65535);
	tb_pcap_record(&b, 0, 1, 0, 84, 84);
	in = write_file("ok.pcap", &b);
	run_split(in, "/proc/shardcap-cannot-exist/x", 250, 0, &o);
	is_int(o.r, SC_ERR_SYSTEM, "an impossible output directory fails");
	ok(strstr(o.e.msg, "cannot create directory") != NULL,
	    "and says so: %s", o.e.msg);
	outcome_free(&o);
	free(in);
	tb_free(&b);
}

/* A raw-IP pcap record: UDP (or, frag non-zero, an IPv4 fragment with
 * that flags-and-offset field) from 10.0.0.src port sport to 10.0.0.dst
 * port dport, id ipid; its last payload byte is mark. */
static void
udp_record(struct tbuf *b, uint8_t src, uint8_t dst, uint16_t sport,
    uint16_t dport, uint16_t ipid, uint16_t frag, uint8_t mark)
{
	uint8_t p[60];

	memset(p, 0, sizeof(p));
	p[0] = 0x45;
	p[2] = 0;
	p[3] = sizeof(p);
	p[4] = (uint8_t)(ipid >> 8);
	p[5] = (uint8_t)ipid;
	p[6] = (uint8_t)(frag >> 8);
	p[7] = (uint8_t)frag;
	p[8] = 64;
	p[9] = 17;
	p[12] = 10, p[15] = src;
	p[16] = 10, p[19] = dst;
	p[20] = (uint8_t)(sport >> 8);
	p[21] = (uint8_t)sport;
	p[22] = (uint8_t)(dport >> 8);
	p[23] = (uint8_t)dport;
	p[sizeof(p) - 1] = mark;
	tb_pcap_record_hdr(b, 0, 1, mark, sizeof(p), sizeof(p));
	tb_bytes(b, p, sizeof(p));
}

/* The chunk (1, 2, ...) of the record marked mark, or 0. */
static int
chunk_of_mark(const struct outcome *o, const char *dir, uint8_t mark)
{
	size_t i;
	int found = 0;

	for (i = 0; i < o->res.n_chunks; i++) {
		char *path = xasprintf("%s/%s", dir, o->res.chunks[i]->file);
		struct tbuf b, pk;
		size_t n = 0, at;

		tb_init(&pk, 0);
		if (read_file(path, &b) == 0 && packets_of(&b, &pk, &n) == 0)
			for (at = 0; at + 76 <= pk.len; at += 76)
				if (pk.p[at + 75] == mark)
					found = found ? -1 : (int)i + 1;
		tb_free(&b);
		tb_free(&pk);
		free(path);
	}
	return found;
}

void
test_split_flow(void)
{
	struct split_options opt;
	struct outcome o;
	struct tbuf b;
	char *in, *dir = xasprintf("%s/flow", tap_tmpdir());
	struct sc_err e;
	int i, c1, same = 1;
	uint8_t mark = 1;

	/* 40 flows of 4 packets each, in turn; flow 7's datagram 900 in
	 * three fragments: one before its first fragment (with the ports),
	 * one after; and a fragment of a datagram whose first never came */
	tb_init(&b, 0);
	tb_pcap_header(&b, 0, 0, 101, 65535);
	for (i = 0; i < 160; i++) {
		uint8_t f = (uint8_t)(i % 40);

		if (i == 50)
			udp_record(&b, 7, 99, 0, 0, 900, 0x0008, 200);
		if (i == 90)
			udp_record(&b, 7, 99, 1007, 53, 900, 0x2000, 201);
		if (i == 130)
			udp_record(&b, 7, 99, 0, 0, 900, 0x0010, 202);
		if (i == 140)
			udp_record(&b, 8, 99, 0, 0, 901, 0x0010, 203);
		if (i % 80 < 40)
			udp_record(&b, f, 99, (uint16_t)(1000 + f), 53,
			    (uint16_t)i, 0, mark++);
		else
			udp_record(&b, 99, f, 53, (uint16_t)(1000 + f),
			    (uint16_t)i, 0, mark++);
	}
	in = write_file("flow.cap", &b);
	memset(&opt, 0, sizeof(opt));
	memset(&o, 0, sizeof(o));
	opt.input = in;
	opt.dir = dir;
	opt.name = "t";
	opt.size = 2000;
	opt.layout = SPLIT_FLOW;
	is_int(split_capture(&opt, &o.res, &e), 0, "flow split");
	ok(o.res.n_chunks >= 6 && o.res.packets == 164,
	    "  %zu chunks, %llu packets", o.res.n_chunks,
	    (unsigned long long)o.res.packets);
	/* each flow's packets (marks f+1, f+41, f+81, f+121) together */
	for (i = 0; i < 40; i++) {
		int c = chunk_of_mark(&o, dir, (uint8_t)(i + 1));

		if (c <= 0 || chunk_of_mark(&o, dir, (uint8_t)(i + 41)) != c ||
		    chunk_of_mark(&o, dir, (uint8_t)(i + 81)) != c ||
		    chunk_of_mark(&o, dir, (uint8_t)(i + 121)) != c)
			same = 0;
	}
	ok(same, "  every flow in one chunk, both directions");
	c1 = chunk_of_mark(&o, dir, 8);
	ok(c1 > 0 && chunk_of_mark(&o, dir, 200) == c1 &&
	    chunk_of_mark(&o, dir, 201) == c1 &&
	    chunk_of_mark(&o, dir, 202) == c1,
	    "  a datagram's fragments with its flow, before and after its "
	    "first");
	ok(chunk_of_mark(&o, dir, 203) > 0, "  a lone fragment kept");
	split_result_release(&o.res);
	opt.input = "-";
	is_int(split_capture(&opt, &o.res, &e), SC_ERR_USAGE,
	    "flow split: standard input refused");
	tb_free(&b);
	free(in);
	free(dir);
}
