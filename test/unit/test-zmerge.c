/* test-zmerge.c - tshark's -z tables merged: which commands merge, how
 * the rows of several chunks make the whole table, what is refused, and
 * the record that gives a chunk the capture's first time. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "unit.h"
#include "iostat.h"
#include "xalloc.h"
#include "zmerge.h"

#define CONV_HEAD \
	"================================================================================\n" \
	"TCP Conversations\n" \
	"Filter:<No Filter>\n" \
	"        |  Frames  Bytes |\n"
#define RULE "================================================================================\n"

static int
plan(int flow, int whole, const char *a0, ...)
{
	char *argv[16];
	size_t n = 0;
	va_list ap;
	const char *s;
	struct sc_err e;

	argv[n++] = (char *)a0;
	va_start(ap, a0);
	while ((s = va_arg(ap, const char *)) != NULL)
		argv[n++] = (char *)s;
	va_end(ap);
	return zmerge_plan(argv, n, flow, whole, &e);
}

/* Merges the outputs of the chunks (NULL-ended); returns the code, the
 * table in out. */
static int
merge(int flow, struct strbuf *out, const char *const *chunks)
{
	struct zmerge *z = zmerge_new(flow);
	struct sc_err e;
	char file[32];
	size_t i;
	int r = 0;

	strbuf_reset(out);
	for (i = 0; chunks[i] != NULL && r == 0; i++) {
		snprintf(file, sizeof(file), "c-%zu.pcap", i + 1);
		if ((r = zmerge_add(z, chunks[i], strlen(chunks[i]), &e)) == 0)
			r = zmerge_chunk_end(z, file, &e);
	}
	if (r == 0)
		r = zmerge_finish(z, out, &e);
	zmerge_free(z);
	return r;
}

static void
test_plans(void)
{
	is_int(plan(0, 0, "tshark", "-r", "{}", "-q", "-z", "conv,tcp", NULL),
	    ZMERGE_CONV, "plan: conv,tcp merges");
	is_int(plan(1, 1, "/usr/bin/tshark", "-nq", "-r", "{}", "-zconv,udp,dns",
	    NULL), ZMERGE_CONV, "plan: flags run together, -z attached");
	is_int(plan(0, 1, "tshark", "-r", "{}", "-q", "-z", "io,phs", NULL),
	    ZMERGE_PHS, "plan: io,phs in the time layout with no flow cut");
	is_int(plan(0, 0, "tshark", "-r", "{}", "-q", "-z", "io,phs", NULL),
	    SC_ERR_USAGE, "plan: io,phs refused when flows are cut");
	is_int(plan(1, 1, "tshark", "-r", "{}", "-q", "-z", "io,phs,udp", NULL),
	    ZMERGE_PHS, "plan: io,phs in the flow layout");
	is_int(plan(1, 1, "tshark", "-r", "{}", "-q", "-z", "io,phs", "-z",
	    "io,phs,udp", NULL), SC_ERR_USAGE,
	    "plan: two io,phs tables refused in the flow layout");
	is_int(plan(0, 1, "tshark", "-r", "{}", "-q", "-z", "io,phs", "-z",
	    "io,phs,udp", NULL), ZMERGE_PHS,
	    "plan: two io,phs tables in the time layout");
	is_int(plan(0, 0, "tshark", "-r", "{}", "-q", "-z", "io,stat,1", NULL),
	    ZMERGE_IOSTAT, "plan: io,stat of frames and bytes, flows cut");
	is_int(plan(0, 0, "tshark", "-r", "{}", "-q", "-z", "io,stat,1,tcp",
	    NULL), SC_ERR_USAGE, "plan: io,stat with a filter, flows cut: "
	    "refused");
	is_int(plan(1, 1, "tshark", "-r", "{}", "-q", "-z",
	    "io,stat,1,http,COUNT(tcp.len)tcp.len", NULL), ZMERGE_IOSTAT,
	    "plan: io,stat with filters and fields in the flow layout");
	is_int(plan(1, 1, "tshark", "-r", "{}", "-q", "-z",
	    "io,stat,1,MIN(tcp.len)tcp.len", NULL), SC_ERR_USAGE,
	    "plan: io,stat's MIN refused");
	is_int(plan(1, 1, "tshark", "-r", "{}", "-q", "-z", "io,stat,1", "-z",
	    "io,stat,2", NULL), SC_ERR_USAGE, "plan: two io,stat refused");
	is_int(plan(1, 1, "tshark", "-r", "{}", "-q", "-z", "io,stat,1", "-z",
	    "io,phs", NULL), SC_ERR_USAGE, "plan: io,stat with io,phs refused");
	is_int(plan(1, 1, "tshark", "-r", "{}", "-q", "-z", "io,stat,1", "-z",
	    "conv,tcp", NULL), ZMERGE_IOSTAT | ZMERGE_CONV,
	    "plan: io,stat with conv");
	is_int(plan(1, 1, "tshark", "-r", "{}", "-q", "-t", "ad", "-z",
	    "io,stat,1", NULL), SC_ERR_USAGE, "plan: io,stat with -t ad "
	    "refused");
	is_int(plan(1, 1, "tshark", "-r", "{}", "-q", "-tr", "-z", "io,stat,1",
	    NULL), ZMERGE_IOSTAT, "plan: io,stat with -t r");
	is_int(plan(0, 1, "tshark", "-r", "{}", "-q", "-z", "endpoints,tcp",
	    NULL), SC_ERR_USAGE, "plan: endpoints refused");
	is_int(plan(0, 1, "tshark", "-r", "{}", "-z", "conv,tcp", NULL),
	    SC_ERR_USAGE, "plan: a table without -q refused");
	is_int(plan(0, 1, "tshark", "-r", "{}", "-q", "-z", "conv,tcp", "-z",
	    "io,phs", NULL), SC_ERR_USAGE, "plan: conv and io,phs together "
	    "refused");
	is_int(plan(0, 1, "tshark", "-r", "{}", "-q", "-z", "conv,tcp", "-w",
	    "{}.out", NULL), SC_ERR_USAGE, "plan: conv with {} twice refused");
	is_int(plan(0, 1, "tshark", "-r", "{}", "-z", "proto,colinfo,ip.ttl,"
	    "ip.ttl", NULL), 0, "plan: proto,colinfo is no table");
	is_int(plan(0, 1, "tshark", "-r", "{}", "-Y", "-z", NULL), 0,
	    "plan: an option's value is not an option");
	is_int(plan(0, 1, "tcpdump", "-r", "{}", "-z", "conv,tcp", NULL), 0,
	    "plan: not tshark, nothing to merge");
}

static void
test_conv(void)
{
	struct strbuf out = STRBUF_INIT;
	const char *two[] = {
		CONV_HEAD
		"10.0.0.1:1  <-> 10.0.0.2:80   3 300 bytes  2 200 bytes  5 500 bytes  0.000000000  1.0000\n"
		"10.0.0.1:2  <-> 10.0.0.2:80   1 100 bytes  1 100 bytes  2 200 bytes  0.500000000  0.1000\n"
		RULE,
		CONV_HEAD
		"10.0.0.1:3  <-> 10.0.0.2:80   4 4 kB  3 300 bytes  7 4 kB  2.000000000  1.0000\n"
		"10.0.0.1:4  <-> 10.0.0.2:80   1 100 bytes  1 100 bytes  2 200 bytes  0.250000000  0.1000\n"
		RULE, NULL,
	};
	const char *cut[] = {
		CONV_HEAD
		"10.0.0.1:1  <-> 10.0.0.2:80   3 300 bytes  2 200 bytes  5 500 bytes  0.000000000  1.0000\n"
		RULE,
		CONV_HEAD
		"10.0.0.2:80  <-> 10.0.0.1:1   1 100 bytes  0 0 bytes  1 100 bytes  2.000000000  0.0000\n"
		RULE, NULL,
	};
	const char *bad[] = {
		CONV_HEAD RULE,
		CONV_HEAD "10.0.0.1:1  <-> 10.0.0.2:80   3 300\n" RULE, NULL,
	};
	const char *other[] = { CONV_HEAD RULE, "\n", NULL };

	is_int(merge(0, &out, two), 0, "conv: two chunks merge");
	is_str(out.buf, CONV_HEAD
	    "10.0.0.1:3  <-> 10.0.0.2:80   4 4 kB  3 300 bytes  7 4 kB  2.000000000  1.0000\n"
	    "10.0.0.1:1  <-> 10.0.0.2:80   3 300 bytes  2 200 bytes  5 500 bytes  0.000000000  1.0000\n"
	    "10.0.0.1:2  <-> 10.0.0.2:80   1 100 bytes  1 100 bytes  2 200 bytes  0.500000000  0.1000\n"
	    "10.0.0.1:4  <-> 10.0.0.2:80   1 100 bytes  1 100 bytes  2 200 bytes  0.250000000  0.1000\n"
	    RULE, "conv, time layout: most frames first, ties in chunk order");
	is_int(merge(1, &out, two), 0, "conv: flow layout");
	ok(strstr(out.buf, ":4  <-> 10.0.0.2:80   1 100 bytes  1 100 bytes  2 200 bytes  0.25") <
	    strstr(out.buf, ":2  <-> 10.0.0.2:80   1 100 bytes  1 100 bytes  2 200 bytes  0.5"),
	    "conv, flow layout: ties by first time across chunks");
	is_int(merge(0, &out, cut), SC_ERR_MERGE,
	    "conv: one conversation in two chunks, either way round, refused");
	is_int(merge(0, &out, bad), SC_ERR_MERGE, "conv: a row not tshark's");
	is_int(merge(0, &out, other), SC_ERR_MERGE,
	    "conv: a chunk without the first one's tables");
	strbuf_release(&out);
}

static void
test_phs(void)
{
	struct strbuf out = STRBUF_INIT;
	const char *head = "\n===================================================================\n"
	    "Protocol Hierarchy Statistics\nFilter: \n\n";
	char a[1024], b[1024];
	const char *chunks[] = { a, b, NULL };
	char want[2048];

	snprintf(a, sizeof(a), "%s%-40s frames:%d bytes:%d\n%-40s frames:%d bytes:%d\n"
	    "%-40s frames:%d bytes:%d\n%s", head, "eth", 3, 300, "  ip", 3, 300,
	    "    udp", 3, 300, "===================================================================\n");
	snprintf(b, sizeof(b), "%s%-40s frames:%d bytes:%d\n%-40s frames:%d bytes:%d\n"
	    "%-40s frames:%d bytes:%d\n%-40s frames:%d bytes:%d\n%s", head, "eth", 4, 400,
	    "  ip", 4, 400, "    tcp", 1, 100, "    udp", 3, 300,
	    "===================================================================\n");
	snprintf(want, sizeof(want), "%s%-40s frames:%d bytes:%d\n%-40s frames:%d bytes:%d\n"
	    "%-40s frames:%d bytes:%d\n%-40s frames:%d bytes:%d\n%s", head, "eth", 7, 700,
	    "  ip", 7, 700, "    udp", 6, 600, "    tcp", 1, 100,
	    "===================================================================\n");
	is_int(merge(0, &out, chunks), 0, "phs: two chunks merge");
	is_str(out.buf, want, "phs: counts summed, a protocol new in the "
	    "second chunk after those of the first");
	strbuf_release(&out);
}

#define PHS_HEAD "\n===================================================================\n" \
	"Protocol Hierarchy Statistics\nFilter: \n\n"
#define PHS_RULE "===================================================================\n"

/* A hierarchy of rows "NAME LEVEL FRAMES" (bytes 100 a frame) */
static void
phs_table(char *buf, size_t size, const char *const *rows)
{
	size_t i, at;

	at = (size_t)snprintf(buf, size, "%s", PHS_HEAD);
	for (i = 0; rows[i] != NULL; i += 3) {
		char label[64];
		int level = atoi(rows[i + 1]), frames = atoi(rows[i + 2]);

		snprintf(label, sizeof(label), "%*s%s", 2 * level, "", rows[i]);
		at += (size_t)snprintf(buf + at, size - at,
		    "%-40s frames:%d bytes:%d\n", label, frames, 100 * frames);
	}
	snprintf(buf + at, size - at, "%s", PHS_RULE);
}

/* The flow layout: rows whose order no chunk says (two chunks each have
 * one of two siblings) are ties until the prefix's table orders them;
 * one chunk alone having both says their order. */
static void
test_phs_flow(void)
{
	static const char *const ra[] = { "eth", "0", "3", "ip", "1", "3",
		"udp", "2", "2", "tcp", "2", "1", NULL };
	static const char *const rb[] = { "eth", "0", "2", "ip", "1", "2",
		"icmp", "2", "2", NULL };
	static const char *const rpre[] = { "eth", "0", "2", "ip", "1", "2",
		"icmp", "2", "1", "udp", "2", "1", NULL };
	static const char *const rwant[] = { "eth", "0", "5", "ip", "1", "5",
		"icmp", "2", "2", "udp", "2", "2", "tcp", "2", "1", NULL };
	char a[1024], b[1024], pre[1024], want[1024];
	struct strbuf out = STRBUF_INIT;
	struct zmerge *z = zmerge_new(1);
	struct sc_err e;

	phs_table(a, sizeof(a), ra);
	phs_table(b, sizeof(b), rb);
	phs_table(pre, sizeof(pre), rpre);
	phs_table(want, sizeof(want), rwant);
	ok(zmerge_add(z, a, strlen(a), &e) == 0 &&
	    zmerge_chunk_end(z, "a", &e) == 0 &&
	    zmerge_add(z, b, strlen(b), &e) == 0 &&
	    zmerge_chunk_end(z, "b", &e) == 0, "phs flow: two chunks taken");
	/* udp, tcp: chunk a alone has both; icmp: chunk b */
	is_int((long long)zmerge_phs_unsure(z), 1,
	    "phs flow: icmp and udp of two chunks, an order not known");
	ok(zmerge_local_add(z, pre, strlen(pre)) == 0 &&
	    zmerge_phs_prefix_end(z, &e) == 0, "phs flow: the prefix's table");
	is_int((long long)zmerge_phs_unsure(z), 0,
	    "phs flow: the prefix says it");
	is_int(zmerge_finish(z, &out, &e), 0, "phs flow: merged");
	is_str(out.buf, want, "phs flow: icmp met first in the prefix, then "
	    "udp, then tcp after udp in chunk a");
	is_int((long long)zmerge_phs_ties(z), 0, "phs flow: no tie left");
	zmerge_free(z);

	z = zmerge_new(1);
	strbuf_reset(&out);
	ok(zmerge_add(z, a, strlen(a), &e) == 0 &&
	    zmerge_chunk_end(z, "a", &e) == 0 &&
	    zmerge_add(z, b, strlen(b), &e) == 0 &&
	    zmerge_chunk_end(z, "b", &e) == 0 &&
	    zmerge_finish(z, &out, &e) == 0, "phs flow: merged, no prefix");
	is_int((long long)zmerge_phs_ties(z), 1, "phs flow: the tie said");
	ok(strstr(out.buf, "frames:5 bytes:500") != NULL,
	    "phs flow: counts summed all the same");
	zmerge_free(z);
	strbuf_release(&out);
}

/* A pcap of records (seconds, microseconds, one byte each) */
static void
write_pcap(const char *path, const unsigned *times, size_t n, int snaplen)
{
	unsigned char hdr[24] = { 0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0 };
	FILE *f = fopen(path, "wb");
	size_t i;

	hdr[16] = (unsigned char)snaplen;
	hdr[20] = 1;
	fwrite(hdr, 1, sizeof(hdr), f);
	for (i = 0; i < n; i++) {
		unsigned char r[17] = { 0 };

		r[0] = (unsigned char)times[i];
		r[8] = r[12] = 1;
		r[16] = (unsigned char)(0x10 + i);
		fwrite(r, 1, sizeof(r), f);
	}
	fclose(f);
}

static void
rewind_fd(int fd)
{
	ok(ftruncate(fd, 0) == 0 && lseek(fd, 0, SEEK_SET) == 0,
	    "prefix: the output emptied");
}

static void
test_phs_prefix(void)
{
	static const unsigned ta[] = { 1, 4, 6 }, tb[] = { 2, 3, 9 },
	    tback[] = { 5, 2 };
	char pa[] = "/tmp/zmerge-pa-XXXXXX", pb[] = "/tmp/zmerge-pb-XXXXXX",
	    po[] = "/tmp/zmerge-po-XXXXXX";
	char *paths[2] = { pa, pb };
	unsigned char got[256];
	struct sc_err e;
	ssize_t len;
	int fa = mkstemp(pa), fb = mkstemp(pb), fo = mkstemp(po);

	close(fa);
	close(fb);
	write_pcap(pa, ta, 3, 0xff);
	write_pcap(pb, tb, 3, 0xff);
	is_int(zmerge_phs_prefix(paths, 2, 1000, fo, &e), 0,
	    "prefix: two chunks");
	len = pread(fo, got, sizeof(got), 0);
	ok(len == 24 + 6 * 17 && got[24] == 1 && got[24 + 17] == 2 &&
	    got[24 + 34] == 3 && got[24 + 51] == 4 && got[24 + 68] == 6 &&
	    got[24 + 85] == 9 && got[24 + 16] == 0x10 && got[24 + 33] == 0x10,
	    "prefix: the header once, then every packet in time order");
	rewind_fd(fo);
	is_int(zmerge_phs_prefix(paths, 2, 3 * 17, fo, &e), 0,
	    "prefix: to a limit");
	ok(pread(fo, got, sizeof(got), 0) == 24 + 3 * 17 && got[24 + 34] == 3,
	    "prefix: the first packets that fit the limit");
	rewind_fd(fo);
	write_pcap(pb, tback, 2, 0xff);
	is_int(zmerge_phs_prefix(paths, 2, 1000, fo, &e), 0,
	    "prefix: a chunk that goes back in time");
	ok(pread(fo, got, sizeof(got), 0) == 24 + 3 * 17 && got[24] == 1 &&
	    got[24 + 17] == 4 && got[24 + 34] == 5,
	    "prefix: it ends where that chunk went back (5, then 2)");
	rewind_fd(fo);
	write_pcap(pb, tb, 3, 0x7f);
	is_int(zmerge_phs_prefix(paths, 2, 1000, fo, &e), SC_ERR_MERGE,
	    "prefix: chunks whose headers differ refused");
	close(fo);
	unlink(pa);
	unlink(pb);
	unlink(po);
}

static void
test_reference(void)
{
	static const unsigned char pcap[] = {
		0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0xff, 0xff, 0, 0, 1, 0, 0, 0,
		0x10, 0, 0, 0, 0x20, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0xab,
	};
	char path[] = "/tmp/zmerge-ref-XXXXXX", *paths[2];
	char a0[] = "tshark", a1[] = "-r", a2[] = "{}", a3[] = "-q", a4[] = "-z",
	    a5[] = "conv,tcp";
	char *argv[] = { a0, a1, a2, a3, a4, a5 };
	struct strbuf rec = STRBUF_INIT;
	struct sc_time ref = { 0x01020304, 5000 };
	struct sc_err e;
	uint64_t off = 0;
	char **cmd;
	size_t n, i;
	int fd = mkstemp(path);

	ok(fd >= 0 && write(fd, pcap, sizeof(pcap)) == (ssize_t)sizeof(pcap),
	    "reference: a pcap of one packet");
	close(fd);
	paths[0] = paths[1] = path;
	is_int(zmerge_reference(paths, 2, &ref, &off, &rec, &e), 0,
	    "reference: a pcap in microseconds");
	is_int((long long)off, 24, "reference: after the file header");
	ok(rec.len == 16 && memcmp(rec.buf, "\x04\x03\x02\x01\x05\0\0\0"
	    "\0\0\0\0\0\0\0\0", 16) == 0,
	    "reference: seconds, microseconds, no bytes, little-endian");
	ref.nsec = 5001;
	is_int(zmerge_reference(paths, 1, &ref, &off, &rec, &e), SC_ERR_MERGE,
	    "reference: a time finer than the file's refused");
	unlink(path);

	ref.nsec = 5000;
	strbuf_reset(&rec);
	strbuf_add(&rec, "\x01\x00", 2);
	cmd = zmerge_command(argv, 6, 24, &rec, &n);
	ok(n == 11 && strcmp(cmd[0], "sh") == 0 && strcmp(cmd[1], "-c") == 0 &&
	    strcmp(cmd[4], "{}") == 0 && strcmp(cmd[5], "tshark") == 0 &&
	    strcmp(cmd[7], "-") == 0 && cmd[11] == NULL &&
	    strstr(cmd[2], "bs=24 ") != NULL &&
	    strstr(cmd[2], "printf '\\001\\000'") != NULL &&
	    strstr(cmd[2], "tail -c +25 ") != NULL,
	    "command: the chunk after the record, tshark reading -r -");
	for (i = 0; i < n; i++)
		free(cmd[i]);
	free(cmd);
	strbuf_release(&rec);
}


/* Tables tshark 4.0.17 printed, and the duration of their file */
static const struct {
	const char *z;
	uint64_t elapsed_ns;
	const char *table;
} tshark_tables[] = {
	{ "io,stat,1", UINT64_C(4009489000),
	    "=============================\n"
	    "| IO Statistics             |\n"
	    "|                           |\n"
	    "| Duration: 4.  9489 secs   |\n"
	    "| Interval: 1 secs          |\n"
	    "|                           |\n"
	    "| Col 1: Frames and bytes   |\n"
	    "|---------------------------|\n"
	    "|          |1               |\n"
	    "| Interval | Frames | Bytes |\n"
	    "|---------------------------|\n"
	    "|  0 <> 1  |      6 |  4908 |\n"
	    "|  1 <> 2  |      1 |  1196 |\n"
	    "|  2 <> 3  |      5 |  3940 |\n"
	    "|  3 <> 4  |      0 |     0 |\n"
	    "|  4 <> Dur|      1 |   312 |\n"
	    "=============================\n"
	},
	{ "io,stat,0", UINT64_C(4009489000),
	    "===================================\n"
	    "| IO Statistics                   |\n"
	    "|                                 |\n"
	    "| Duration: 4.009 secs            |\n"
	    "| Interval: 4.009 secs            |\n"
	    "|                                 |\n"
	    "| Col 1: Frames and bytes         |\n"
	    "|---------------------------------|\n"
	    "|                |1               |\n"
	    "| Interval       | Frames | Bytes |\n"
	    "|---------------------------------|\n"
	    "| 0.000 <> 4.009 |     13 | 10356 |\n"
	    "===================================\n"
	},
	{ "io,stat,0.5,FRAMES()ip,BYTES()", UINT64_C(4009489000),
	    "===============================\n"
	    "| IO Statistics               |\n"
	    "|                             |\n"
	    "| Duration: 4.0 secs          |\n"
	    "| Interval: 0.5 secs          |\n"
	    "|                             |\n"
	    "| Col 1: FRAMES()ip           |\n"
	    "|     2: BYTES()              |\n"
	    "|-----------------------------|\n"
	    "|            |1       |2      |\n"
	    "| Interval   | FRAMES | BYTES |\n"
	    "|-----------------------------|\n"
	    "| 0.0 <> 0.5 |      0 |  3380 |\n"
	    "| 0.5 <> 1.0 |      0 |  1528 |\n"
	    "| 1.0 <> 1.5 |      0 |     0 |\n"
	    "| 1.5 <> 2.0 |      0 |  1196 |\n"
	    "| 2.0 <> 2.5 |      0 |  3940 |\n"
	    "| 2.5 <> 3.0 |      0 |     0 |\n"
	    "| 3.0 <> 3.5 |      0 |     0 |\n"
	    "| 3.5 <> 4.0 |      0 |     0 |\n"
	    "| 4.0 <> 4.0 |      0 |   312 |\n"
	    "===============================\n"
	},
	{ "io,stat,5,tcp,COUNT(tcp.len)tcp.len,SUM(tcp.len)tcp.len,MAX(frame.len)frame.len", UINT64_C(15645760000),
	    "========================================================\n"
	    "| IO Statistics                                        |\n"
	    "|                                                      |\n"
	    "| Duration: 15.645760 secs                             |\n"
	    "| Interval:  5 secs                                    |\n"
	    "|                                                      |\n"
	    "| Col 1: tcp                                           |\n"
	    "|     2: COUNT(tcp.len)tcp.len                         |\n"
	    "|     3: SUM(tcp.len)tcp.len                           |\n"
	    "|     4: MAX(frame.len)frame.len                       |\n"
	    "|------------------------------------------------------|\n"
	    "|          |1                 |2      |3        |4     |\n"
	    "| Interval | Frames |  Bytes  | COUNT |   SUM   |  MAX |\n"
	    "|------------------------------------------------------|\n"
	    "|  0 <>  5 |   1547 | 1284531 |  1547 | 1181681 | 1414 |\n"
	    "|  5 <> 10 |   2072 | 1858613 |  2072 | 1721853 | 1414 |\n"
	    "| 10 <> 15 |    850 |  577621 |   850 |  521261 | 1414 |\n"
	    "| 15 <> Dur|     23 |    2704 |    23 |    1246 |  909 |\n"
	    "========================================================\n"
	},
	{ "io,stat,1", UINT64_C(9894493000),
	    "===============================\n"
	    "| IO Statistics               |\n"
	    "|                             |\n"
	    "| Duration: 9.894493 secs    |\n"
	    "| Interval: 1 secs           |\n"
	    "|                             |\n"
	    "| Col 1: Frames and bytes     |\n"
	    "|-----------------------------|\n"
	    "|          |1                 |\n"
	    "| Interval | Frames |  Bytes  |\n"
	    "|-----------------------------|\n"
	    "| 0 <> 1 |      2 |     184 |\n"
	    "| 1 <> 2 |      0 |       0 |\n"
	    "| 2 <> 3 |      0 |       0 |\n"
	    "| 3 <> 4 |    425 |  273136 |\n"
	    "| 4 <> 5 |   1154 | 1015130 |\n"
	    "| 5 <> 6 |   1275 | 1207140 |\n"
	    "| 6 <> 7 |    547 |  485633 |\n"
	    "| 7 <> 8 |      9 |    1876 |\n"
	    "| 8 <> 9 |     13 |    1228 |\n"
	    "| 9 <> Dur|    206 |  144843 |\n"
	    "===============================\n"
	},
};

static char **
table_lines(char *text, size_t *n)
{
	char **lines = NULL, *p;
	size_t alloc = 0;

	*n = 0;
	for (p = strtok(text, "\n"); p != NULL; p = strtok(NULL, "\n")) {
		ALLOC_GROW(lines, *n + 1, alloc);
		lines[(*n)++] = p;
	}
	return lines;
}

static void
test_iostat_spec(void)
{
	struct io_spec s;
	const char *why;

	ok(iostat_spec(&s, "io,stat,1", &why) == 0 && s.interval == 1000000 &&
	    s.prec == 0 && s.n_cols == 1 && s.col[0] == NULL && s.plain[0],
	    "io,stat spec: a whole second, one column of frames and bytes");
	iostat_spec_release(&s);
	ok(iostat_spec(&s, "io,stat,0.25,tcp, udp ,,FRAMES()", &why) == 0 &&
	    s.interval == 250000 && s.prec == 2 && s.n_cols == 4 &&
	    strcmp(s.col[0], "tcp") == 0 && strcmp(s.col[1], "udp") == 0 &&
	    s.col[2] == NULL && s.type[3] == IO_FRAMES && !s.plain[0] &&
	    s.plain[2] && s.plain[3], "io,stat spec: decimals, columns "
	    "stripped, an empty one, FRAMES()");
	iostat_spec_release(&s);
	ok(iostat_spec(&s, "io,stat,1.00,tcp", &why) == 0 && s.prec == 2,
	    "io,stat spec: decimals as written");
	iostat_spec_release(&s);
	ok(iostat_spec(&s, "io,stat,0", &why) == 0 &&
	    s.interval == UINT64_MAX, "io,stat spec: 0 is the whole capture");
	iostat_spec_release(&s);
	ok(iostat_spec(&s, "io,stat,2,COUNT(tcp.len)tcp.len,SUM(ip.len),"
	    "MAX(frame.len)", &why) == 0 && s.type[0] == IO_COUNT &&
	    s.type[1] == IO_SUM && s.type[2] == IO_MAX && !s.plain[1],
	    "io,stat spec: COUNT, SUM and MAX");
	iostat_spec_release(&s);
	ok(iostat_spec(&s, "io,stat,1,AVG(tcp.len)tcp.len", &why) != 0 &&
	    strstr(why, "AVG") != NULL, "io,stat spec: AVG refused");
	iostat_spec_release(&s);
	ok(iostat_spec(&s, "io,stat,1.0", &why) != 0, "io,stat spec: "
	    "decimals with no column refused");
	iostat_spec_release(&s);
	ok(iostat_spec(&s, "io,stat,x", &why) != 0 &&
	    iostat_spec(&s, "io,stat,1,", &why) != 0,
	    "io,stat spec: no number, a last comma refused");
	iostat_spec_release(&s);
}

/* Every table tshark printed is read and drawn again as it was. */
static void
test_iostat_draw(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(tshark_tables); i++) {
		struct io_spec s;
		struct io_table t;
		struct strbuf out = STRBUF_INIT;
		const char *why = "";
		char *text = xstrdup(tshark_tables[i].table);
		char **lines;
		size_t n;
		int r;

		lines = table_lines(text, &n);
		r = iostat_spec(&s, tshark_tables[i].z, &why) == 0 &&
		    iostat_parse(&t, lines, n, &why) == 0;
		if (r)
			iostat_draw(&t, &s, tshark_tables[i].elapsed_ns, &out);
		ok(r && strcmp(out.buf, tshark_tables[i].table) == 0,
		    "io,stat drawn again as tshark drew it: %s (%s)",
		    tshark_tables[i].z, r ? "" : why);
		if (r && strcmp(out.buf, tshark_tables[i].table) != 0)
			fprintf(stderr, "# got:\n%s", out.buf);
		if (r)
			iostat_release(&t);
		iostat_spec_release(&s);
		strbuf_release(&out);
		free(lines);
		free(text);
	}
}

/* Two chunks' tables, each with the record of the capture's first time
 * in its first row: the whole file's rows, without the records. */
static void
test_iostat_merge(void)
{
	static uint64_t a_f[] = { 3, 0, 2 }, a_b[] = { 200, 0, 120 };
	static uint64_t b_f[] = { 1, 4, 0, 0, 5 };
	static uint64_t b_b[] = { 0, 400, 0, 0, 90 };
	static uint64_t w_f[] = { 2, 4, 2, 0, 5 };
	static uint64_t w_b[] = { 200, 400, 120, 0, 90 };
	struct io_spec s;
	struct io_table a, b, w;
	struct strbuf ta = STRBUF_INIT, tb = STRBUF_INIT, want = STRBUF_INIT,
	    got = STRBUF_INIT;
	struct zmerge_span spans[2] = {
		{ "c-1.pcap", UINT64_C(2500000000), UINT64_C(2500000000), 0 },
		{ "c-2.pcap", UINT64_C(4700000000), UINT64_C(4700000000), 0 },
	};
	struct zmerge *z;
	struct sc_err e;
	char *argv[] = { (char *)"tshark", (char *)"-r", (char *)"{}",
	    (char *)"-q", (char *)"-z", (char *)"io,stat,1" };
	size_t i;
	int r;

	const char *why;

	(void)iostat_spec(&s, "io,stat,1", &why);
	memset(&a, 0, sizeof(a));
	a.n_cols = b.n_cols = w.n_cols = 1;
	a.type[0] = IO_FRAMES_BYTES;
	b = w = a;
	a.frames = a_f;
	a.value = a_b;
	a.n_rows = 3;
	b.frames = b_f;
	b.value = b_b;
	b.n_rows = 5;
	w.frames = w_f;
	w.value = w_b;
	w.n_rows = 5;
	strbuf_addch(&ta, '\n');
	iostat_draw(&a, &s, spans[0].ns, &ta);
	strbuf_addch(&tb, '\n');
	iostat_draw(&b, &s, spans[1].ns, &tb);
	strbuf_addch(&want, '\n');
	iostat_draw(&w, &s, spans[1].ns, &want);

	z = zmerge_new(1);
	r = zmerge_iostat_begin(z, argv, ARRAY_SIZE(argv), spans, 2,
	    spans[1].ns, &e);
	ok(r == 0 && !zmerge_iostat_needs_share(z) &&
	    zmerge_iostat_interval(z) == 1000000, "io,stat merge: begun, "
	    "the record's share known");
	if (r == 0 && (r = zmerge_add(z, ta.buf, ta.len, &e)) == 0)
		r = zmerge_chunk_end(z, "c-1.pcap", &e);
	if (r == 0 && (r = zmerge_add(z, tb.buf, tb.len, &e)) == 0)
		r = zmerge_chunk_end(z, "c-2.pcap", &e);
	if (r == 0)
		r = zmerge_finish(z, &got, &e);
	ok(r == 0 && strcmp(got.buf, want.buf) == 0, "io,stat merge: rows "
	    "added, one frame of no bytes less a chunk in the first");
	if (r != 0)
		fprintf(stderr, "# %s\n", e.msg);
	zmerge_free(z);

	/* a chunk drawn otherwise than shardcap draws it */
	z = zmerge_new(1);
	r = zmerge_iostat_begin(z, argv, ARRAY_SIZE(argv), spans, 2,
	    spans[1].ns, &e);
	for (i = 0; i < ta.len; i++)
		if (ta.buf[i] == '<')
			ta.buf[i] = '-';
	if (r == 0 && (r = zmerge_add(z, ta.buf, ta.len, &e)) == 0)
		r = zmerge_chunk_end(z, "c-1.pcap", &e);
	ok(r == SC_ERR_MERGE && strstr(e.msg, "drew the table") != NULL,
	    "io,stat merge: a table drawn otherwise refused");
	zmerge_free(z);

	/* a chunk whose latest packet's row tshark leaves out */
	spans[0].ns = spans[0].group_ns = UINT64_C(3000000000);
	strbuf_reset(&ta);
	strbuf_addch(&ta, '\n');
	iostat_draw(&a, &s, spans[0].ns, &ta);
	z = zmerge_new(1);
	r = zmerge_iostat_begin(z, argv, ARRAY_SIZE(argv), spans, 2,
	    spans[1].ns, &e);
	if (r == 0 && (r = zmerge_add(z, ta.buf, ta.len, &e)) == 0)
		r = zmerge_chunk_end(z, "c-1.pcap", &e);
	ok(r == SC_ERR_MERGE && strstr(e.msg, "leaves out") != NULL,
	    "io,stat merge: a row tshark leaves out refused");
	zmerge_free(z);

	iostat_spec_release(&s);
	strbuf_release(&ta);
	strbuf_release(&tb);
	strbuf_release(&want);
	strbuf_release(&got);
}

void
test_zmerge(void)
{
	test_plans();
	test_conv();
	test_phs();
	test_phs_flow();
	test_phs_prefix();
	test_reference();
	test_iostat_spec();
	test_iostat_draw();
	test_iostat_merge();
}
