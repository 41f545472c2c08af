/* test-util.c - parsers, formatters and names. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "tap.h"
#include "unit.h"
#include "util.h"

static void
size_ok(const char *s, uint64_t want)
{
	uint64_t v = 0;
	int r = parse_size(s, &v);

	ok(r == 0 && v == want, "parse_size('%s') = %llu", s,
	    (unsigned long long)want);
}

static void
size_bad(const char *s)
{
	uint64_t v;

	ok(parse_size(s, &v) == SC_ERR_USAGE, "parse_size('%s') rejected", s);
}

static void
time_is(int64_t sec, uint32_t nsec, int digits, const char *want)
{
	struct strbuf sb = STRBUF_INIT;
	struct sc_time t = { sec, nsec };

	format_time(&sb, &t, digits);
	is_str(sb.buf, want, want);
	strbuf_release(&sb);
}

static void
name_from(const char *path, const char *want)
{
	char *n = name_from_path(path);

	is_str(n, want, path);
	free(n);
}

void
test_util(void)
{
	struct strbuf sb = STRBUF_INIT;
	struct sc_time t = { 1431388800, 5 };
	uint64_t v;

	size_ok("0", 0);
	size_ok("25M", 25u << 20);
	size_ok("25MB", 25000000);
	size_ok("1K", 1024);
	size_ok("1KB", 1000);
	size_ok("2G", 2ull << 30);
	size_ok("3GB", 3000000000ull);
	size_ok("1T", 1ull << 40);
	size_ok("100", 100);
	size_ok("7B", 7);
	size_bad("");
	size_bad("M");
	size_bad("-1");
	size_bad("25X");
	size_bad("25 M");
	size_bad("99999999999999999999");
	size_bad("20000000T");

	ok(parse_uint("42", 1, 100, &v) == 0 && v == 42, "parse_uint in range");
	ok(parse_uint("0", 1, 100, &v) != 0, "parse_uint below range");
	ok(parse_uint("4x", 1, 100, &v) != 0, "parse_uint trailing junk");

	time_is(0, 0, 0, "1970-01-01 00:00:00");
	time_is(1431388800, 123456000, 6, "2015-05-12 00:00:00.123456");
	time_is(1431388800, 123456789, 9, "2015-05-12 00:00:00.123456789");
	time_is(951782400, 0, 3, "2000-02-29 00:00:00.000");
	time_is(4294967295LL, 0, 0, "2106-02-07 06:28:15");
	time_is(-1, 0, 0, "1969-12-31 23:59:59");
	format_time_iso(&sb, &t);
	is_str(sb.buf, "2015-05-12T00:00:00.000000005Z", "RFC 3339 with ns");
	strbuf_reset(&sb);
	format_bytes(&sb, 999);
	is_str(sb.buf, "999 B", "bytes below a kilobyte");
	strbuf_reset(&sb);
	format_bytes(&sb, 728760475);
	is_str(sb.buf, "728.8 MB", "megabytes");
	strbuf_reset(&sb);
	format_duration(&sb, 3725.0);
	is_str(sb.buf, "1h02m05s", "hours");
	strbuf_release(&sb);

	ok(valid_name("big"), "plain name");
	ok(valid_name("dns-2015.05_a"), "dots, dashes, underscores");
	ok(!valid_name(""), "empty name");
	ok(!valid_name(".."), "dot-dot");
	ok(!valid_name(".hidden"), "leading dot");
	ok(!valid_name("-rf"), "leading dash");
	ok(!valid_name("a/b"), "slash");
	ok(!valid_name("a b"), "space");
	ok(!valid_name("$(reboot)"), "command substitution");
	ok(!valid_name("a;b"), "semicolon");
	ok(!valid_name("a'b"), "quote");
	ok(!valid_name("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
	    "65 characters");

	name_from("/data/big.pcap", "big");
	name_from("big.pcapng.gz", "big");
	name_from("dir/x.pcap.zst", "x");
	name_from("trace", "trace");
	name_from("a.b.cap", "a.b");

	/* FNV-1a 64's published vectors, from its published basis (the
	 * project's FNV1A_BASIS differs: util.h); and pieces chain */
	ok(fnv1a(0xcbf29ce484222325ull, "a", 1) == 0xaf63dc4c8601ec8cull &&
	    fnv1a(0xcbf29ce484222325ull, "foobar", 6) ==
	    0x85944171f73967e8ull, "fnv1a: the published vectors");
	ok(fnv1a(FNV1A_BASIS, "", 0) == FNV1A_BASIS, "fnv1a: no bytes, the basis");
	ok(fnv1a(fnv1a(FNV1A_BASIS, "foo", 3), "bar", 3) ==
	    fnv1a(FNV1A_BASIS, "foobar", 6), "fnv1a: pieces chain");
	ok(size_in((const size_t[]){ 3, 5, 8 }, 3, 5) &&
	    !size_in((const size_t[]){ 3, 5, 8 }, 3, 4) &&
	    !size_in(NULL, 0, 4), "size_in");

	/* run --since/--until: every form, against one instant */
	{
		static const struct {
			const char *s;
			int64_t sec;
			uint32_t nsec;
		} good[] = {
			{ "2015-05-12T10:00:00Z", 1431424800, 0 },
			{ "2015-05-12T10:00:00.25Z", 1431424800, 250000000 },
			{ "2015-05-12 10:00", 1431424800, 0 },
			{ "2015-05-12T12:00:00+02:00", 1431424800, 0 },
			{ "2015-05-12T09:30:00-0030", 1431424800, 0 },
			{ "2015-05-12", 1431388800, 0 },
			{ "1431424800", 1431424800, 0 },
			{ "1431424800.000000001", 1431424800, 1 },
			{ "now", 1431424800, 0 },
			{ "-1h", 1431421200, 0 },
			{ "-10m", 1431424200, 0 },
			{ "-2d", 1431252000, 0 },
			{ "-1.5", 1431424798, 500000000 },
			{ "-90s", 1431424710, 0 },
		};
		static const char *const bad[] = {
			"", "yesterday", "2015-13-01", "2015-05-12T25:00Z",
			"2015-05-12T10", "2015-05-12T10:00:00.Z", "12:00",
			"-1w", "-", "1431424800x", "2015-05-12T10:00:00+2",
		};
		struct sc_time tm;
		size_t i;
		int all = 1;

		for (i = 0; i < ARRAY_SIZE(good); i++)
			if (parse_time_arg(good[i].s, 1431424800, &tm) != 0 ||
			    tm.sec != good[i].sec || tm.nsec != good[i].nsec) {
				printf("# parse_time_arg('%s'): %lld.%09u\n", good[i].s,
				    (long long)tm.sec, tm.nsec);
				all = 0;
			}
		ok(all, "parse_time_arg: ISO 8601, epoch, now, spans before now");
		for (i = 0, all = 1; i < ARRAY_SIZE(bad); i++)
			if (parse_time_arg(bad[i], 1431424800, &tm) == 0) {
				printf("# parse_time_arg('%s') taken\n", bad[i]);
				all = 0;
			}
		ok(all, "parse_time_arg: refuses what is not a time");
	}
}
