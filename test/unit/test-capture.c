/* test-capture.c - the pcap and pcapng readers on captures built here,
 * byte by byte, including every way of being cut short. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "source.h"
#include "tap.h"
#include "testcap.h"
#include "unit.h"
#include "xalloc.h"

/* What a reader made of a buffer: the records, then how it ended. */
struct seen {
	struct capture_rec recs[256];
	uint64_t sums[256];     /* of each record's bytes */
	int n;
	int end;                /* 0 clean, or the error code */
	struct sc_err err;
	uint64_t interfaces, sections;
};

static uint64_t
sum_bytes(const uint8_t *p, size_t len)
{
	uint64_t h = 1469598103934665603ull;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

static void
read_all(const struct tbuf *b, uint32_t trickle, struct seen *s)
{
	struct source src;
	struct capture cap;
	int r;

	memset(s, 0, sizeof(*s));
	sc_err_clear(&s->err);
	source_open_mem(&src, b->p, b->len, trickle);
	r = capture_open(&cap, &src, &s->err);
	if (r != 0) {
		s->end = r;
		source_close(&src);
		return;
	}
	for (;;) {
		struct capture_rec rec;

		r = capture_next(&cap, &rec, &s->err);
		if (r <= 0) {
			s->end = r;
			break;
		}
		if (s->n < 256) {
			s->sums[s->n] = sum_bytes(rec.data, rec.len);
			rec.data = NULL;
			rec.header = NULL;
			s->recs[s->n++] = rec;
		}
	}
	s->interfaces = cap.n_interfaces;
	s->sections = cap.n_sections;
	capture_release(&cap);
	source_close(&src);
}

void
test_capture_pcap(void)
{
	struct tbuf b;
	struct seen s;
	int be, nsec;

	for (be = 0; be < 2; be++) {
		for (nsec = 0; nsec < 2; nsec++) {
			tb_init(&b, be);
			tb_pcap_header(&b, nsec, 0, 113, 65535);
			tb_pcap_record(&b, 0, 1000, nsec ? 999999999 : 999999, 60, 60);
			tb_pcap_record(&b, 0, 1001, 5, 1514, 1514);
			tb_pcap_record(&b, 0, 1002, 0, 96, 1500);
			read_all(&b, 0, &s);
			is_int(s.end, 0, "pcap reads to a clean end");
			is_int(s.n, 4, "header and three records");
			is_int(s.recs[0].kind, REC_SECTION, "first comes the section");
			is_int(s.recs[0].len, 24, "the file header is 24 bytes");
			is_int(s.recs[1].kind, REC_PACKET, "then packets");
			is_int(s.recs[1].offset, 24, "first record at 24");
			is_int(s.recs[2].offset, 24 + 16 + 60, "second record offset");
			is_int(s.recs[2].len, 16 + 1514, "record length");
			is_int(s.recs[3].caplen, 96, "captured length");
			is_int(s.recs[3].origlen, 1500, "original length");
			is_int(s.recs[1].linktype, 113, "link type from the header");
			is_int(s.recs[1].time.sec, 1000, "seconds");
			is_int(s.recs[1].time.nsec, 999999999 - (nsec ? 0 : 999),
			    "fraction in nanoseconds");
			is_int(s.recs[2].time.nsec, nsec ? 5 : 5000, "small fraction");
			tb_free(&b);
		}
	}

	/* Kuznetzov's patched format: 24-byte record headers */
	tb_init(&b, 0);
	tb_pcap_header(&b, 0, 1, 1, 65535);
	tb_pcap_record(&b, 1, 7, 0, 40, 40);
	tb_pcap_record(&b, 1, 8, 0, 50, 50);
	read_all(&b, 0, &s);
	is_int(s.end, 0, "patched pcap reads");
	is_int(s.n, 3, "patched pcap: two records");
	is_int(s.recs[2].offset, 24 + 24 + 40, "patched records are 24+caplen");
	tb_free(&b);

	/* out-of-range fractions carry into the seconds */
	tb_init(&b, 0);
	tb_pcap_header(&b, 0, 0, 1, 65535);
	tb_pcap_record(&b, 0, 10, 2500000, 40, 40);
	read_all(&b, 0, &s);
	is_int(s.recs[1].time.sec, 12, "2.5 s of microseconds carry");
	is_int(s.recs[1].time.nsec, 500000000, "and leave half a second");
	tb_free(&b);

	/* a DBUS capture may hold records up to 128 MiB; Ethernet not */
	tb_init(&b, 0);
	tb_pcap_header(&b, 0, 0, 1, 65535);
	tb_pcap_record_hdr(&b, 0, 1, 0, 262145, 262145);
	read_all(&b, 0, &s);
	is_int(s.end, SC_ERR_LENGTH, "262145 bytes are impossible on Ethernet");
	tb_free(&b);
	tb_init(&b, 0);
	tb_pcap_header(&b, 0, 0, 231, 65535);
	tb_pcap_record_hdr(&b, 0, 1, 0, 262145, 262145);
	read_all(&b, 0, &s);
	is_int(s.end, SC_ERR_TRUNCATED, "but only truncated on D-Bus");
	tb_free(&b);
}

void
test_capture_pcapng(void)
{
	struct tbuf b;
	struct seen s;
	int be;

	for (be = 0; be < 2; be++) {
		size_t shb_at;

		tb_init(&b, be);
		shb_at = b.len;
		tb_shb(&b, 123456);
		tb_idb(&b, 1, 262144, -1, 0, "eth0");
		tb_idb(&b, 101, 128, 9, 0, NULL);
		tb_idb(&b, 113, 0, 0x94, 100, NULL);
		tb_epb(&b, 0, 1431388800ull * 1000000 + 250000, 60, 60);
		tb_epb(&b, 1, 1431388800123456789ull, 100, 1500);
		tb_epb(&b, 2, (3ull << 20) + (1ull << 19), 42, 42);
		tb_block(&b, PCAPNG_NRB, 20);
		tb_block(&b, PCAPNG_DSB, 16);
		tb_block(&b, PCAPNG_ISB, 12);
		tb_block(&b, PCAPNG_CB_COPY, 8);
		tb_block(&b, PCAPNG_CB_NOCOPY, 8);
		tb_block(&b, 0x00001234, 4);
		tb_spb(&b, 1000, 128);
		tb_pb(&b, 1, 5000000000ull, 30, 30);
		read_all(&b, 0, &s);
		(void)shb_at;
		is_int(s.end, 0, be ? "big-endian pcapng reads" :
		    "little-endian pcapng reads");
		is_int(s.n, 15, "every block is a record");
		is_int(s.recs[0].kind, REC_SECTION, "SHB is a section");
		is_int(s.recs[1].kind, REC_INTERFACE, "IDB is an interface");
		is_int(s.recs[4].kind, REC_PACKET, "EPB is a packet");
		is_int(s.recs[4].linktype, 1, "its interface's link type");
		is_int(s.recs[4].time.sec, 1431388800, "microsecond stamp: seconds");
		is_int(s.recs[4].time.nsec, 250000000, "microsecond stamp: fraction");
		is_int(s.recs[5].interface, 1, "second interface");
		is_int(s.recs[5].linktype, 101, "RAW");
		is_int(s.recs[5].time.nsec, 123456789, "nanosecond resolution");
		is_int(s.recs[5].caplen, 100, "EPB captured length");
		is_int(s.recs[5].origlen, 1500, "EPB original length");
		is_int(s.recs[6].time.sec, 103, "2^-20 resolution plus offset 100");
		is_int(s.recs[6].time.nsec, 500000000, "2^-20: half a second");
		is_int(s.recs[7].kind, REC_CARRY, "NRB is carried");
		is_int(s.recs[8].kind, REC_CARRY, "DSB is carried");
		is_int(s.recs[9].kind, REC_OTHER, "ISB is copied as it is");
		is_int(s.recs[10].kind, REC_OTHER, "custom block");
		is_int(s.recs[11].kind, REC_OTHER, "non-copyable custom block");
		is_int(s.recs[12].kind, REC_OTHER, "unknown block type");
		is_int(s.recs[13].kind, REC_PACKET, "SPB is a packet");
		is_int(s.recs[13].caplen, 128, "SPB holds what its block holds");
		is_int(s.recs[13].has_time, 0, "SPB has no time stamp");
		is_int(s.recs[13].interface, 0, "SPB belongs to interface 0");
		is_int(s.recs[14].interface, 1, "obsolete PB names its interface");
		is_int(s.recs[14].time.sec, 5, "obsolete PB time stamp");
		tb_free(&b);
	}

	/* the rewritten section header: length unknown, all else kept */
	{
		struct source src;
		struct capture cap;
		struct capture_rec rec;
		struct sc_err e;
		uint8_t expect[8];

		tb_init(&b, 0);
		tb_shb(&b, 5000);
		tb_idb(&b, 1, 65535, -1, 0, NULL);
		source_open_mem(&src, b.p, b.len, 0);
		capture_open(&cap, &src, &e);
		is_int(capture_next(&cap, &rec, &e), 1, "SHB read");
		memset(expect, 0xff, 8);
		ok(memcmp(rec.header + 16, expect, 8) == 0,
		    "chunk SHB says 'section length unknown'");
		ok(memcmp(rec.data + 16, expect, 8) != 0,
		    "the input's SHB is left as it was");
		ok(memcmp(rec.header, rec.data, 16) == 0 &&
		    memcmp(rec.header + 24, rec.data + 24, rec.len - 24) == 0,
		    "and every other byte is the same");
		capture_release(&cap);
		source_close(&src);
		tb_free(&b);
	}

	/* sections: byte order and interfaces start over */
	tb_init(&b, 0);
	tb_shb(&b, -1);
	tb_idb(&b, 1, 65535, -1, 0, NULL);
	tb_idb(&b, 0, 65535, -1, 0, NULL);
	tb_epb(&b, 1, 1, 10, 10);
	b.be = 1;
	tb_shb(&b, -1);
	tb_idb(&b, 101, 65535, -1, 0, NULL);
	tb_epb(&b, 0, 2, 10, 10);
	read_all(&b, 0, &s);
	is_int(s.end, 0, "mixed byte orders read");
	is_int(s.sections, 2, "two sections");
	is_int(s.interfaces, 3, "three interfaces in all");
	is_int(s.recs[3].linktype, 0, "interface 1 of section 1");
	is_int(s.recs[6].linktype, 101, "interface 0 of section 2");
	tb_free(&b);
}

/* Cuts a good capture at every byte: the reader must keep exactly the
 * records wholly before the cut and blame the one the cut is in. */
static void
cut_everywhere(struct tbuf *b, const char *what)
{
	struct seen full, s;
	size_t cut;
	int bad = 0, i;

	read_all(b, 0, &full);
	for (cut = 0; cut < b->len && !bad; cut++) {
		struct tbuf c = *b;
		int whole = 0;

		c.len = cut;
		read_all(&c, 0, &s);
		for (i = 0; i < full.n; i++)
			if (full.recs[i].offset + full.recs[i].len <= cut)
				whole++;
		if (cut == 0) {
			bad = s.end != SC_ERR_EMPTY;
		} else if (cut < 4) {
			bad = s.end != SC_ERR_NOT_CAPTURE;
		} else if (s.n != whole) {
			bad = 1;
		} else if (whole < full.n && full.recs[whole].offset == cut) {
			/* the cut is at a record boundary */
			bad = s.end != 0;
		} else {
			bad = s.end != SC_ERR_TRUNCATED ||
			    s.err.offset != full.recs[whole].offset;
		}
		if (bad)
			printf("# cut at %zu: %d records, end %d at %llu\n", cut,
			    s.n, s.end, (unsigned long long)s.err.offset);
	}
	ok(!bad, "%s cut at every byte: whole records kept, the cut one "
	    "blamed at its start", what);
}

static void
expect_damage(struct tbuf *b, int code, uint64_t offset, int records,
    const char *what)
{
	struct seen s;

	read_all(b, 0, &s);
	if (!ok(s.end == code && s.err.offset == offset && s.n == records,
	    "%s", what))
		printf("#   end %d (want %d) at %llu (want %llu), %d records "
		    "(want %d): %s\n", s.end, code,
		    (unsigned long long)s.err.offset, (unsigned long long)offset,
		    s.n, records, s.err.msg);
}

void
test_capture_damage(void)
{
	struct tbuf b;
	size_t at;

	tb_init(&b, 0);
	tb_pcap_header(&b, 0, 0, 1, 65535);
	tb_pcap_record(&b, 0, 1, 0, 60, 60);
	tb_pcap_record(&b, 0, 2, 0, 61, 61);
	tb_pcap_record(&b, 0, 3, 0, 1, 1);
	cut_everywhere(&b, "pcap");
	tb_free(&b);

	tb_init(&b, 1);
	tb_shb(&b, -1);
	tb_idb(&b, 1, 65535, -1, 0, "eth0");
	tb_epb(&b, 0, 1, 61, 61);
	tb_block(&b, PCAPNG_NRB, 20);
	tb_spb(&b, 17, 65535);
	tb_epb(&b, 0, 2, 3, 3);
	cut_everywhere(&b, "pcapng");
	tb_free(&b);

	tb_init(&b, 0);
	expect_damage(&b, SC_ERR_EMPTY, 0, 0, "empty input");
	tb_bytes(&b, "GET / HTTP/1.1\r\n", 16);
	expect_damage(&b, SC_ERR_NOT_CAPTURE, 0, 0, "text is not a capture");
	tb_free(&b);

	tb_init(&b, 0);
	tb_pcap_header(&b, 0, 0, 1, 65535);
	b.p[4] = 1; /* version 1.4 */
	expect_damage(&b, SC_ERR_UNSUPPORTED, 4, 0, "pcap version 1");
	tb_free(&b);

	tb_init(&b, 0);
	tb_pcap_header(&b, 0, 0, 1, 65535);
	tb_pcap_record(&b, 0, 1, 0, 60, 60);
	at = b.len;
	tb_pcap_record_hdr(&b, 0, 2, 0, 4325376, 60);
	tb_bytes(&b, "more bytes that never matter", 28);
	expect_damage(&b, SC_ERR_LENGTH, at, 2, "bogus captured length");
	tb_free(&b);

	tb_init(&b, 0);
	tb_shb(&b, -1);
	b.p[12] = 2; /* major version 2 */
	expect_damage(&b, SC_ERR_UNSUPPORTED, 0, 0, "pcapng version 2");
	tb_free(&b);

	tb_init(&b, 0);
	tb_shb(&b, -1);
	b.p[8] = 'X';
	expect_damage(&b, SC_ERR_NOT_CAPTURE, 0, 0, "bad byte-order magic");
	tb_free(&b);

	tb_init(&b, 0);
	tb_shb(&b, -1);
	tb_idb(&b, 1, 65535, -1, 0, NULL);
	at = b.len;
	tb_epb(&b, 0, 1, 60, 60);
	tb_put32(&b, at + 4, 70);    /* not a multiple of 4 */
	expect_damage(&b, SC_ERR_LENGTH, at, 2, "block length not a multiple of 4");
	tb_put32(&b, at + 4, 8);     /* below the minimum */
	expect_damage(&b, SC_ERR_LENGTH, at, 2, "block length below 12");
	tb_put32(&b, at + 4, 24);    /* EPB below its 32 */
	expect_damage(&b, SC_ERR_LENGTH, at, 2, "EPB shorter than its fields");
	tb_put32(&b, at + 4, 0x7ffffff0u);
	expect_damage(&b, SC_ERR_LENGTH, at, 2, "block of 2 GB");
	tb_put32(&b, at + 4, 92);
	tb_put32(&b, at + 88, 96);
	expect_damage(&b, SC_ERR_TRAILER, at, 2, "trailer disagrees");
	tb_put32(&b, at + 88, 92);
	tb_put32(&b, at + 20, 65);   /* caplen past the block */
	expect_damage(&b, SC_ERR_LENGTH, at, 2, "EPB captured length overruns");
	tb_put32(&b, at + 20, 60);
	tb_put32(&b, at + 8, 1);     /* interface 1 of 1 */
	expect_damage(&b, SC_ERR_INTERFACE, at, 2, "EPB names a missing interface");
	tb_put32(&b, at + 8, 0);
	expect_damage(&b, 0, 0, 3, "and repaired, it reads");
	tb_free(&b);

	tb_init(&b, 0);
	tb_shb(&b, -1);
	at = b.len;
	tb_spb(&b, 60, 65535);
	expect_damage(&b, SC_ERR_INTERFACE, at, 1, "SPB before any interface");
	tb_free(&b);

	tb_init(&b, 0);
	tb_shb(&b, -1);
	at = b.len;
	tb_idb(&b, 1, 65535, -1, 0, "a-long-interface-name");
	tb_put16(&b, at + 16 + 2, 200); /* if_name runs past the block */
	expect_damage(&b, SC_ERR_LENGTH, at, 1, "interface option overruns");
	tb_free(&b);
}

/* The same records whether the bytes come all at once or in odd pieces
 * through a growing, sliding window. */
void
test_capture_trickle(void)
{
	struct tbuf b;
	struct seen whole, s;
	uint32_t seed;
	int i, same = 1;

	tb_init(&b, 0);
	tb_shb(&b, -1);
	tb_idb(&b, 1, 262144, -1, 0, "eth0");
	for (i = 0; i < 60; i++) {
		tb_epb(&b, 0, (uint64_t)i, (uint32_t)(i * 97 % 3000), 3000);
		if (i % 7 == 0)
			tb_block(&b, PCAPNG_NRB, (uint32_t)(i * 13 % 200));
	}
	tb_epb(&b, 0, 99, 70000, 70000);     /* larger than any first buffer */
	read_all(&b, 0, &whole);
	is_int(whole.end, 0, "reference read");
	for (seed = 1; seed <= 40 && same; seed++) {
		read_all(&b, seed, &s);
		same = s.end == 0 && s.n == whole.n;
		for (i = 0; same && i < s.n; i++)
			same = s.sums[i] == whole.sums[i] &&
			    s.recs[i].offset == whole.recs[i].offset &&
			    s.recs[i].len == whole.recs[i].len;
	}
	ok(same, "40 ways of trickling give the same records, byte for byte");
	tb_free(&b);
}

/* The regression corpus (test/fuzz/regress/README.md): every input must
 * read to an end, clean or an error, the same in both ways of reading.
 * Its first byte is the fuzz target's mode, not the capture's. A corpus
 * missing or empty fails: a test that reads nothing proves nothing. */
void
test_capture_regress(void)
{
	const char *dir = getenv("SHARDCAP_FUZZ_REGRESS");
	struct dirent *de;
	DIR *d;
	int files = 0;

	if (dir == NULL)
		dir = "test/fuzz/regress";
	d = opendir(dir);
	if (d == NULL) {
		ok(0, "the regression corpus '%s' is there", dir);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		char *path;
		FILE *f;
		struct tbuf b;
		struct seen s1, s2;
		char buf[65536];
		size_t n;

		if (de->d_name[0] == '.' || strstr(de->d_name, ".md") != NULL)
			continue;
		path = xasprintf("%s/%s", dir, de->d_name);
		f = fopen(path, "rb");
		free(path);
		if (f == NULL)
			continue;
		tb_init(&b, 0);
		(void)fgetc(f);         /* the fuzz target's mode */
		while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
			tb_bytes(&b, buf, n);
		fclose(f);
		read_all(&b, 0, &s1);
		read_all(&b, 7, &s2);
		ok(s1.end == s2.end && s1.n == s2.n,
		    "regression input %s: same end both ways", de->d_name);
		tb_free(&b);
		files++;
	}
	closedir(d);
	ok(files >= 10, "the regression corpus holds %d inputs", files);
}
