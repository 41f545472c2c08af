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
	    SC_ERR_USAGE, "plan: io,phs refused in the flow layout");
	is_int(plan(0, 1, "tshark", "-r", "{}", "-q", "-z", "io,stat,1", NULL),
	    SC_ERR_USAGE, "plan: io,stat refused");
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

void
test_zmerge(void)
{
	test_plans();
	test_conv();
	test_phs();
	test_reference();
}
