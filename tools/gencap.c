/* gencap.c - writes the captures shardcap is tested and measured with.
 *
 * Every variant of the formats shardcap reads (pcap in both byte orders
 * and time resolutions, pcapng with several sections, interfaces, name
 * resolution, decryption secrets, custom, unknown, simple and obsolete
 * packet blocks), damaged files with the damage at a known place, and a
 * realistic mixed capture of any size: bulk TCP plus DNS whose density
 * varies from region to region as in the paper's dataset. Packets are real
 * Ethernet/IPv4/UDP/TCP with valid checksums and DNS messages that tshark
 * decodes without complaint. Output is deterministic for a given seed.
 *
 * This program shares no code with shardcap: it is the independent writer
 * the tests hold the reader to. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gencap.h"

/* --- variants -------------------------------------------------------- */

struct expect {
	int exit_status;        /* of shardcap split / inspect */
	uint64_t offset;        /* of the damage */
	uint64_t packets;       /* complete packets before it (or all) */
	int has_offset;
};

static void
pcap_stream(struct writer *w, uint32_t linktype, uint32_t snaplen, int n,
    struct expect *ex, size_t max_payload)
{
	struct traffic tr;
	uint8_t pkt[MAX_FRAME];
	int i;

	memset(&tr, 0, sizeof(tr));
	tr.t_ns = t0_ns;
	for (i = 0; i < n; i++) {
		size_t len = next_packet(&tr, linktype, w->be, pkt, max_payload);
		uint32_t cap = (uint32_t)len;

		if (snaplen != 0 && cap > snaplen)
			cap = snaplen;
		w_pcap_record(w, tr.t_ns, pkt, cap, (uint32_t)len);
		ex->packets++;
	}
}

static int
variant_pcap(struct writer *w, const char *v, int n, struct expect *ex)
{
	uint32_t linktype = 1, snaplen = 262144;
	size_t max_payload = 1400;

	if (strcmp(v, "pcap-le-us") == 0) {
	} else if (strcmp(v, "pcap-be-us") == 0) {
		w->be = 1;
	} else if (strcmp(v, "pcap-le-ns") == 0) {
		w->pcap_nsec = 1;
	} else if (strcmp(v, "pcap-be-ns") == 0) {
		w->be = 1;
		w->pcap_nsec = 1;
	} else if (strcmp(v, "pcap-raw") == 0) {
		linktype = 101;
		snaplen = 65535;
	} else if (strcmp(v, "pcap-ipv4") == 0) {
		linktype = 228;
	} else if (strcmp(v, "pcap-sll") == 0) {
		linktype = 113;
		w->be = 1;
	} else if (strcmp(v, "pcap-null") == 0) {
		linktype = 0;
	} else if (strcmp(v, "pcap-snaplen96") == 0) {
		snaplen = 96;
	} else if (strcmp(v, "pcap-kuznetzov") == 0) {
		w->pcap_kuz = 1;
	} else if (strcmp(v, "pcap-jumbo") == 0) {
		max_payload = 65000;
	} else if (strcmp(v, "pcap-empty") == 0) {
		n = 0;
	} else {
		return 0;
	}
	w_pcap_header(w, linktype, snaplen, 2);
	pcap_stream(w, linktype, snaplen, n, ex, max_payload);
	return 1;
}

/* Packets of the pcapng variants, spread over interfaces. */
static void
pcapng_packets(struct writer *w, struct traffic *tr, int n, int first_if,
    int n_if, int kinds, struct expect *ex)
{
	uint8_t pkt[MAX_FRAME];
	int i;

	for (i = 0; i < n; i++) {
		int ifn = first_if + (n_if > 1 ? (int)(rnd() % (uint64_t)n_if) : 0);
		const struct iface *ifc = &w->ifs[ifn];
		size_t len = next_packet(tr, ifc->linktype, w->be, pkt, 1400);
		uint32_t cap = (uint32_t)len;
		int kind = kinds == 1 ? 0 : (int)(rnd() % (uint64_t)kinds);

		if (ifc->snaplen != 0 && cap > ifc->snaplen)
			cap = ifc->snaplen;
		if (kind == 1 && ifn == 0)
			w_spb(w, pkt, (uint32_t)len);
		else if (kind == 2)
			w_pb(w, (uint16_t)ifn, tr->t_ns, pkt, cap, (uint32_t)len);
		else
			w_epb(w, (uint32_t)ifn, tr->t_ns, pkt, cap, (uint32_t)len,
			    rnd() % 8 == 0 ? "a packet comment" : NULL);
		ex->packets++;
	}
}

static int
variant_pcapng(struct writer *w, const char *v, int n, struct expect *ex)
{
	struct traffic tr;
	int i;

	memset(&tr, 0, sizeof(tr));
	tr.t_ns = t0_ns;
	if (strcmp(v, "pcapng-le") == 0 || strcmp(v, "pcapng-be") == 0) {
		w_shb(w, v[7] == 'b', 1, -1);
		w_idb(w, 1, 262144, 6, 0, "eth0");
		pcapng_packets(w, &tr, n, 0, 1, 1, ex);
	} else if (strcmp(v, "pcapng-section-length") == 0) {
		/* An SHB with a real section length, which a chunk must
		 * not keep. */
		long pos;

		w_shb(w, 0, 1, 0);
		pos = ftell(w->f);
		w_idb(w, 1, 262144, 6, 0, "eth0");
		pcapng_packets(w, &tr, n, 0, 1, 1, ex);
		if (pos > 0) {
			uint64_t len = w->bytes - (uint64_t)pos;
			uint8_t le[8];

			for (i = 0; i < 8; i++)
				le[i] = (uint8_t)(len >> (8 * i));
			fflush(w->f);
			if (fseek(w->f, 16, SEEK_SET) == 0) {
				fwrite(le, 1, 8, w->f);
				fseek(w->f, 0, SEEK_END);
			}
		}
	} else if (strcmp(v, "pcapng-multi-if") == 0) {
		w_shb(w, 0, 1, -1);
		w_idb(w, 1, 262144, 6, 0, "eth0");
		w_idb(w, 101, 65535, 9, 0, "tun0");
		w_idb(w, 113, 262144, 0x94, 0, "any");  /* 2^-20 s */
		w_idb(w, 0, 65535, 3, 100, "lo0");      /* ms, +100 s */
		pcapng_packets(w, &tr, n / 2, 0, 4, 1, ex);
		w_idb(w, 228, 128, 9, 0, "late0");      /* defined mid-way */
		pcapng_packets(w, &tr, n - n / 2, 0, 5, 1, ex);
	} else if (strcmp(v, "pcapng-sections") == 0) {
		/* three sections: LE, BE, LE with different interfaces */
		w_shb(w, 0, 1, -1);
		w_idb(w, 1, 262144, 6, 0, "eth0");
		pcapng_packets(w, &tr, n / 3, 0, 1, 1, ex);
		w_shb(w, 1, 1, -1);
		w_idb(w, 101, 65535, 9, 0, "raw0");
		w_idb(w, 1, 128, 6, 0, "eth1");
		pcapng_packets(w, &tr, n / 3, 0, 2, 1, ex);
		w_shb(w, 0, 1, -1);
		w_idb(w, 113, 262144, 6, 0, "any");
		pcapng_packets(w, &tr, n - 2 * (n / 3), 0, 1, 1, ex);
		w_shb(w, 1, 1, -1);     /* an empty section at the end */
	} else if (strcmp(v, "pcapng-nrb") == 0) {
		w_shb(w, 0, 1, -1);
		w_nrb(w, 5);
		w_idb(w, 1, 262144, 6, 0, "eth0");
		for (i = 0; i < 4; i++) {
			pcapng_packets(w, &tr, n / 4, 0, 1, 1, ex);
			w_nrb(w, 3);
		}
	} else if (strcmp(v, "pcapng-dsb") == 0) {
		w_shb(w, 0, 1, -1);
		w_dsb(w, 4);
		w_idb(w, 1, 262144, 6, 0, "eth0");
		pcapng_packets(w, &tr, n / 2, 0, 1, 1, ex);
		w_dsb(w, 2);
		pcapng_packets(w, &tr, n - n / 2, 0, 1, 1, ex);
	} else if (strcmp(v, "pcapng-custom") == 0) {
		w_shb(w, 1, 1, -1);
		w_custom(w, 0x00000BADu, "copyable custom block");
		w_idb(w, 1, 262144, 6, 0, "eth0");
		for (i = 0; i < 5; i++) {
			pcapng_packets(w, &tr, n / 5, 0, 1, 1, ex);
			w_custom(w, i % 2 ? 0x40000BADu : 0x00000BADu,
			    "custom block between packets");
			w_unknown(w, 0x00000101u + (uint32_t)i, 24);
		}
	} else if (strcmp(v, "pcapng-spb") == 0) {
		w_shb(w, 0, 1, -1);
		w_idb(w, 1, 128, 6, 0, "eth0");
		pcapng_packets(w, &tr, n, 0, 1, 2, ex);
	} else if (strcmp(v, "pcapng-pb") == 0) {
		w_shb(w, 1, 1, -1);
		w_idb(w, 1, 262144, 6, 0, "eth0");
		w_idb(w, 1, 262144, 6, 0, "eth1");
		pcapng_packets(w, &tr, n, 0, 2, 3, ex);
	} else if (strcmp(v, "pcapng-isb") == 0) {
		w_shb(w, 0, 1, -1);
		w_idb(w, 1, 262144, 6, 0, "eth0");
		w_idb(w, 101, 65535, 6, 0, "tun0");
		pcapng_packets(w, &tr, n, 0, 2, 1, ex);
		w_isb(w, 0, tr.t_ns, ex->packets);
		w_isb(w, 1, tr.t_ns, ex->packets);
	} else if (strcmp(v, "pcapng-all") == 0) {
		/* everything at once, in two sections of each byte order */
		for (i = 0; i < 2; i++) {
			w_shb(w, i, 1, -1);
			w_custom(w, 0x00000BADu, "at the start");
			w_dsb(w, 1);
			w_nrb(w, 2);
			w_idb(w, 1, 262144, 6, 0, "eth0");
			w_idb(w, 101, 96, 9, 0, "raw0");
			pcapng_packets(w, &tr, n / 4, 0, 2, 3, ex);
			w_nrb(w, 1);
			w_idb(w, 113, 262144, 0x94, 0, "any");
			w_unknown(w, 0x0000ABCDu, 40);
			pcapng_packets(w, &tr, n / 4, 0, 3, 3, ex);
			w_isb(w, 0, tr.t_ns, ex->packets);
			w_custom(w, 0x40000BADu, "at the end");
		}
	} else if (strcmp(v, "pcapng-empty") == 0) {
		w_shb(w, 0, 1, -1);
		w_idb(w, 1, 262144, 6, 0, "eth0");
	} else {
		return 0;
	}
	return 1;
}

/* Damaged captures: good packets, then the damage at a known offset. */
static int
variant_bad(struct writer *w, const char *v, int n, struct expect *ex)
{
	struct traffic tr;
	uint8_t pkt[MAX_FRAME];
	int k = n * 2 / 3;
	size_t len;

	memset(&tr, 0, sizeof(tr));
	tr.t_ns = t0_ns;
	ex->has_offset = 1;
	if (strcmp(v, "bad-empty") == 0) {
		ex->exit_status = 3;
	} else if (strcmp(v, "bad-garbage") == 0) {
		static const char html[] = "<!DOCTYPE html>\n<html><body>not a "
		    "capture</body></html>\n";

		w_raw(w, html, sizeof(html) - 1);
		ex->exit_status = 4;
	} else if (strcmp(v, "bad-short") == 0) {
		w_raw(w, "\xd4\xc3", 2);
		ex->exit_status = 4;
	} else if (strcmp(v, "pcap-bad-version") == 0) {
		w_pcap_header(w, 1, 65535, 1);
		pcap_stream(w, 1, 65535, 3, &(struct expect){ 0, 0, 0, 0 }, 1400);
		ex->exit_status = 5;
		ex->offset = 4;
	} else if (strcmp(v, "pcap-trunc-header") == 0) {
		w_pcap_header(w, 1, 65535, 2);
		fflush(w->f);
		if (ftruncate(fileno(w->f), 10) != 0 || fseek(w->f, 10, SEEK_SET))
			fatal("pcap-trunc-header needs -o FILE");
		ex->exit_status = 6;
	} else if (strcmp(v, "pcap-trunc-record") == 0) {
		w_pcap_header(w, 1, 262144, 2);
		pcap_stream(w, 1, 262144, n - 1, ex, 1400);
		ex->offset = w->bytes;
		len = next_packet(&tr, 1, 0, pkt, 1400);
		w_pcap_record(w, tr.t_ns, pkt, (uint32_t)len, (uint32_t)len);
		fflush(w->f);
		if (ftruncate(fileno(w->f), (off_t)(w->bytes - len / 2)) != 0)
			fatal("pcap-trunc-record needs -o FILE");
		ex->exit_status = 6;
	} else if (strcmp(v, "pcap-trunc-rechdr") == 0) {
		w_pcap_header(w, 1, 262144, 2);
		pcap_stream(w, 1, 262144, n, ex, 1400);
		ex->offset = w->bytes;
		w_raw(w, "\x0a\x00\x00\x00\x00\x00\x00", 7);
		ex->exit_status = 6;
	} else if (strcmp(v, "pcap-bad-caplen") == 0) {
		w_pcap_header(w, 1, 262144, 2);
		pcap_stream(w, 1, 262144, k, ex, 1400);
		ex->offset = w->bytes;
		len = next_packet(&tr, 1, 0, pkt, 1400);
		w_pcap_record(w, tr.t_ns, pkt, 0, 0x00400000);
		w->b.len = 0;
		/* patch: a record header claiming 4 MiB, then its bytes */
		buf_u32(&w->b, 0x00400000u, 0);
		fflush(w->f);
		if (fseek(w->f, (long)(ex->offset + 8), SEEK_SET) != 0)
			fatal("pcap-bad-caplen needs -o FILE");
		fwrite(w->b.p, 1, 4, w->f);
		fseek(w->f, 0, SEEK_END);
		pcap_stream(w, 1, 262144, n - k, &(struct expect){ 0, 0, 0, 0 },
		    1400);
		ex->exit_status = 7;
	} else if (strncmp(v, "pcapng-bad-", 11) == 0 ||
	    strcmp(v, "pcapng-trunc") == 0 || strcmp(v, "pcapng-trailer") == 0) {
		if (strcmp(v, "pcapng-bad-bom") == 0) {
			w_raw(w, "\x0a\x0d\x0d\x0a\x1c\x00\x00\x00\x11\x22\x33\x44"
			    "\x01\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\xff"
			    "\x1c\x00\x00\x00", 28);
			ex->exit_status = 4;
			return 1;
		}
		w_shb(w, 0, strcmp(v, "pcapng-bad-version") == 0 ? 2 : 1, -1);
		if (strcmp(v, "pcapng-bad-version") == 0) {
			ex->exit_status = 5;
			return 1;
		}
		if (strcmp(v, "pcapng-bad-spb") == 0) {
			/* a simple packet block before any interface */
			ex->offset = w->bytes;
			len = next_packet(&tr, 1, 0, pkt, 1400);
			w->ifs[0].snaplen = 0;
			w_spb(w, pkt, (uint32_t)len);
			ex->exit_status = 9;
			return 1;
		}
		w_idb(w, 1, 262144, 6, 0, "eth0");
		pcapng_packets(w, &tr, k, 0, 1, 1, ex);
		ex->offset = w->bytes;
		if (strcmp(v, "pcapng-bad-blocklen") == 0) {
			w->b.len = 0;
			buf_u32(&w->b, 6, 0);
			buf_u32(&w->b, 1001, 0);
			w_raw(w, w->b.p, w->b.len);
			ex->exit_status = 7;
		} else if (strcmp(v, "pcapng-bad-hugelen") == 0) {
			w->b.len = 0;
			buf_u32(&w->b, 6, 0);
			buf_u32(&w->b, 0x7ffffff0u, 0);
			w_raw(w, w->b.p, w->b.len);
			ex->exit_status = 7;
		} else if (strcmp(v, "pcapng-bad-caplen") == 0) {
			/* EPB whose captured length overruns the block */
			len = next_packet(&tr, 1, 0, pkt, 1400);
			w_block_start(w, 6);
			buf_u32(&w->b, 0, 0);
			buf_u32(&w->b, 0, 0);
			buf_u32(&w->b, 0, 0);
			buf_u32(&w->b, (uint32_t)len + 400, 0);
			buf_u32(&w->b, (uint32_t)len, 0);
			buf_add(&w->b, pkt, len);
			w_block_finish(w);
			ex->exit_status = 7;
		} else if (strcmp(v, "pcapng-trailer") == 0) {
			len = next_packet(&tr, 1, 0, pkt, 1400);
			w_epb(w, 0, tr.t_ns, pkt, (uint32_t)len, (uint32_t)len,
			    NULL);
			fflush(w->f);
			/* spoil the trailing length of that block */
			fseek(w->f, (long)(w->bytes - 4), SEEK_SET);
			fwrite("\x08\x00\x00\x00", 1, 4, w->f);
			fseek(w->f, 0, SEEK_END);
			ex->exit_status = 8;
		} else if (strcmp(v, "pcapng-bad-iface") == 0) {
			len = next_packet(&tr, 1, 0, pkt, 1400);
			w->ifs[7] = w->ifs[0];
			w_epb(w, 7, tr.t_ns, pkt, (uint32_t)len, (uint32_t)len,
			    NULL);
			ex->exit_status = 9;
		} else if (strcmp(v, "pcapng-bad-shb") == 0) {
			/* a later section whose header is garbage */
			w_raw(w, "\x0a\x0d\x0d\x0a\x1c\x00\x00\x00GARBAGE!"
			    "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
			    "\x1c\x00\x00\x00", 32);
			ex->exit_status = 4;
		} else if (strcmp(v, "pcapng-trunc") == 0) {
			len = next_packet(&tr, 1, 0, pkt, 1400);
			w_epb(w, 0, tr.t_ns, pkt, (uint32_t)len, (uint32_t)len,
			    NULL);
			fflush(w->f);
			if (ftruncate(fileno(w->f), (off_t)(w->bytes - 9)) != 0)
				fatal("pcapng-trunc needs -o FILE");
			ex->exit_status = 6;
		} else {
			return 0;
		}
		/* good-looking packets after the damage are lost too */
		if (ex->exit_status != 6)
			pcapng_packets(w, &tr, n - k, 0, 1, 1,
			    &(struct expect){ 0, 0, 0, 0 });
	} else {
		return 0;
	}
	return 1;
}

static const char *variant_names[] = {
	"pcap-le-us", "pcap-be-us", "pcap-le-ns", "pcap-be-ns", "pcap-raw",
	"pcap-ipv4", "pcap-sll", "pcap-null", "pcap-snaplen96",
	"pcap-kuznetzov", "pcap-jumbo", "pcap-empty",
	"pcapng-le", "pcapng-be", "pcapng-section-length", "pcapng-multi-if",
	"pcapng-sections", "pcapng-nrb", "pcapng-dsb", "pcapng-custom",
	"pcapng-spb", "pcapng-pb", "pcapng-isb", "pcapng-all", "pcapng-empty",
	NULL,
};

static const char *bad_names[] = {
	"bad-empty", "bad-garbage", "bad-short", "pcap-bad-version",
	"pcap-trunc-header", "pcap-trunc-record", "pcap-trunc-rechdr",
	"pcap-bad-caplen", "pcapng-bad-bom", "pcapng-bad-version",
	"pcapng-bad-spb", "pcapng-bad-blocklen", "pcapng-bad-hugelen",
	"pcapng-bad-caplen", "pcapng-trailer", "pcapng-bad-iface",
	"pcapng-bad-shb", "pcapng-trunc",
	NULL,
};

/* --- main ------------------------------------------------------------ */

static uint64_t
parse_size_arg(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || v < 0)
		fatal("bad size '%s'", s);
	switch (*end) {
	case 'K': v *= 1024; break;
	case 'M': v *= 1024 * 1024; break;
	case 'G': v *= 1024.0 * 1024 * 1024; break;
	case '\0': break;
	default: fatal("bad size '%s'", s);
	}
	return (uint64_t)v;
}

static void
usage(void)
{
	size_t i;

	fputs("usage: gencap VARIANT [-o FILE] [-n PACKETS] [-s SEED] "
	    "[--expect]\n"
	    "       gencap mixed --size SIZE [--shape mixed|bulk|small] "
	    "[--pcapng [--interfaces N]]\n"
	    "             [-o FILE] [-s SEED] [--stats]\n"
	    "       gencap flows --size SIZE [--streams N] [--exchanges N] "
	    "[--pcapng]\n"
	    "             [-o FILE] [-s SEED] [--stats]\n"
	    "       gencap list | list-bad\n\n"
	    "Writes a capture to FILE (default standard output). --expect "
	    "prints\nwhat shardcap must make of it: exit=N offset=N "
	    "packets=N.\n\nvariants:", stderr);
	for (i = 0; variant_names[i]; i++)
		fprintf(stderr, " %s", variant_names[i]);
	fputs("\ndamaged:", stderr);
	for (i = 0; bad_names[i]; i++)
		fprintf(stderr, " %s", bad_names[i]);
	fputc('\n', stderr);
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "packets", required_argument, NULL, 'n' },
		{ "seed", required_argument, NULL, 's' },
		{ "size", required_argument, NULL, 'S' },
		{ "pcapng", no_argument, NULL, 'P' },
		{ "expect", no_argument, NULL, 'E' },
		{ "stats", no_argument, NULL, 'T' },
		{ "shape", required_argument, NULL, 'H' },
		{ "interfaces", required_argument, NULL, 'I' },
		{ "streams", required_argument, NULL, 'F' },
		{ "exchanges", required_argument, NULL, 'X' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = NULL, *variant;
	uint64_t size = 0;
	int c, n = 200, pcapng = 0, expect = 0, stats = 0, ok = 0;
	enum shape shape = SHAPE_MIXED;
	unsigned n_ifs = 1, n_streams = 1200, exchanges = 0;
	struct writer w;
	struct expect ex;
	static char iobuf[1 << 20];
	size_t i;

	while ((c = getopt_long(argc, argv, "o:n:s:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'n': n = (int)strtol(optarg, NULL, 10); break;
		case 's': rng_state ^= strtoull(optarg, NULL, 0) * 0x100000001B3ull; break;
		case 'S': size = parse_size_arg(optarg); break;
		case 'P': pcapng = 1; break;
		case 'E': expect = 1; break;
		case 'T': stats = 1; break;
		case 'H':
			if (strcmp(optarg, "mixed") == 0)
				shape = SHAPE_MIXED;
			else if (strcmp(optarg, "bulk") == 0)
				shape = SHAPE_BULK;
			else if (strcmp(optarg, "small") == 0)
				shape = SHAPE_SMALL;
			else
				fatal("unknown shape '%s' (mixed, bulk, small)",
				    optarg);
			break;
		case 'F':
			n_streams = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'X':
			exchanges = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'I':
			n_ifs = (unsigned)strtoul(optarg, NULL, 10);
			if (n_ifs < 1 || n_ifs > mixed_max_ifs)
				fatal("--interfaces takes 1 to %u",
				    mixed_max_ifs);
			break;
		default: usage();
		}
	}
	if (optind != argc - 1)
		usage();
	variant = argv[optind];
	if (strcmp(variant, "list") == 0 || strcmp(variant, "list-bad") == 0) {
		const char **names = variant[4] ? bad_names : variant_names;

		for (i = 0; names[i]; i++)
			puts(names[i]);
		return 0;
	}
	if (n < 4)
		n = 4;
	memset(&w, 0, sizeof(w));
	memset(&ex, 0, sizeof(ex));
	w.f = out ? fopen(out, "w+b") : stdout;
	if (w.f == NULL)
		fatal("cannot create '%s': %s", out, strerror(errno));
	setvbuf(w.f, iobuf, _IOFBF, sizeof(iobuf));
	if (strcmp(variant, "mixed") == 0) {
		if (size == 0)
			fatal("mixed needs --size");
		mixed_capture(&w, size, pcapng, shape, n_ifs,
		    stats ? stderr : NULL);
		ok = 1;
	} else if (strcmp(variant, "flows") == 0) {
		if (size == 0)
			fatal("flows needs --size");
		flows_capture(&w, size, n_streams, exchanges, pcapng,
		    stats ? stderr : NULL);
		ok = 1;
	} else {
		ok = variant_pcap(&w, variant, n, &ex) ||
		    variant_pcapng(&w, variant, n, &ex) ||
		    variant_bad(&w, variant, n, &ex);
	}
	if (!ok)
		fatal("unknown variant '%s' (try 'gencap list')", variant);
	if (fflush(w.f) != 0 || (out && fclose(w.f) != 0))
		fatal("cannot write: %s", strerror(errno));
	if (expect)
		printf("exit=%d offset=%" PRIu64 " packets=%" PRIu64 "\n",
		    ex.exit_status, ex.offset, ex.packets);
	free(w.b.p);
	return 0;
}
