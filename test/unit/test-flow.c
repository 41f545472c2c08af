/* test-flow.c - the flow of a packet: both directions alike, every link
 * type and encapsulation it reads, fragments, and what it gives up on. */
#include <string.h>

#include "flow.h"
#include "tap.h"
#include "testcap.h"
#include "unit.h"

static const uint8_t A4[4] = { 10, 0, 0, 1 }, B4[4] = { 192, 168, 7, 200 };
static const uint8_t A6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
static const uint8_t B6[16] = { 0x20, 0x01, 0x0d, 0xb8, [14] = 0xab, [15] = 2 };

static void
be16(struct tbuf *b, uint16_t v)
{
	uint8_t x[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	tb_bytes(b, x, 2);
}

/* An IPv4 header (20 bytes) and 8 bytes of a transport header with ports
 * sport and dport; frag is the flags and offset field. */
static void
ip4(struct tbuf *b, const uint8_t *src, const uint8_t *dst, uint8_t proto,
    uint16_t sport, uint16_t dport, uint16_t id, uint16_t frag)
{
	static const uint8_t zero[4];

	tb_bytes(b, "\x45\x00", 2);
	be16(b, 28);
	be16(b, id);
	be16(b, frag);
	tb_bytes(b, "\x40", 1);
	tb_bytes(b, &proto, 1);
	tb_bytes(b, zero, 2);
	tb_bytes(b, src, 4);
	tb_bytes(b, dst, 4);
	be16(b, sport);
	be16(b, dport);
	tb_bytes(b, zero, 4);
}

/* An IPv6 header, then ext (elen bytes of extension headers, the first
 * of type first), then 8 bytes of transport header. */
static void
ip6(struct tbuf *b, const uint8_t *src, const uint8_t *dst, uint8_t next,
    const uint8_t *ext, size_t elen, uint16_t sport, uint16_t dport)
{
	static const uint8_t zero[4];

	tb_bytes(b, "\x60\x00\x00\x00", 4);
	be16(b, (uint16_t)(elen + 8));
	tb_bytes(b, &next, 1);
	tb_bytes(b, "\x40", 1);
	tb_bytes(b, src, 16);
	tb_bytes(b, dst, 16);
	tb_bytes(b, ext, elen);
	be16(b, sport);
	be16(b, dport);
	tb_bytes(b, zero, 4);
}

static void
eth(struct tbuf *b, uint16_t type)
{
	tb_bytes(b, "\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb", 12);
	be16(b, type);
}

static struct flow
of(uint32_t linktype, const struct tbuf *b)
{
	struct flow f;

	flow_of(linktype, b->p, b->len, &f);
	return f;
}

/* The flow of a TCP packet A:sport -> B:dport over Ethernet and IPv4. */
static struct flow
tcp4(const uint8_t *src, const uint8_t *dst, uint16_t sport, uint16_t dport)
{
	struct tbuf b;
	struct flow f;

	tb_init(&b, 1);
	eth(&b, 0x0800);
	ip4(&b, src, dst, 6, sport, dport, 1, 0);
	f = of(1, &b);
	tb_free(&b);
	return f;
}

void
test_flow(void)
{
	struct flow f, g, h;
	struct tbuf b;
	uint8_t ext[16];

	f = tcp4(A4, B4, 40000, 80);
	g = tcp4(B4, A4, 80, 40000);
	ok(f.kind == FLOW_IP && g.kind == FLOW_IP && f.hash == g.hash,
	    "flow: both directions of a TCP connection alike");
	h = tcp4(A4, B4, 40001, 80);
	ok(h.hash != f.hash, "flow: another source port, another flow");
	h = tcp4(A4, B4, 80, 40000);
	ok(h.hash != f.hash, "flow: the ports are tied to their addresses");
	ok(!f.first_fragment && f.datagram == 0, "flow: not a fragment");

	/* UDP over two VLAN tags, and over Linux cooked capture (v1, v2) */
	tb_init(&b, 1);
	eth(&b, 0x88a8);
	tb_bytes(&b, "\x00\x05\x81\x00\x00\x07\x08\x00", 8);
	ip4(&b, A4, B4, 17, 5353, 53, 2, 0);
	f = of(1, &b);
	tb_free(&b);
	tb_init(&b, 1);
	tb_bytes(&b, "\x00\x00\x00\x01\x00\x06\x00\x11\x22\x33\x44\x55\x00\x00", 14);
	be16(&b, 0x0800);
	ip4(&b, B4, A4, 17, 53, 5353, 3, 0);
	g = of(113, &b);
	tb_free(&b);
	tb_init(&b, 1);
	be16(&b, 0x0800);
	tb_bytes(&b, "\x00\x00\x00\x00\x00\x02\x00\x00\x01\x06\x00\x11\x22\x33"
	    "\x44\x55\x00\x00", 18);
	ip4(&b, A4, B4, 17, 5353, 53, 4, 0);
	h = of(276, &b);
	tb_free(&b);
	ok(f.kind == FLOW_IP && f.hash == g.hash && g.hash == h.hash,
	    "flow: through QinQ, Linux cooked v1 and v2, the same UDP flow");

	/* raw IP, the BSD loopback's header, PPP, MPLS and PPPoE */
	tb_init(&b, 1);
	ip4(&b, A4, B4, 6, 1, 2, 5, 0);
	f = of(101, &b);
	tb_free(&b);
	tb_init(&b, 1);
	tb_bytes(&b, "\x02\x00\x00\x00", 4);
	ip4(&b, B4, A4, 6, 2, 1, 6, 0);
	g = of(0, &b);
	tb_free(&b);
	tb_init(&b, 1);
	tb_bytes(&b, "\xff\x03\x00\x21", 4);
	ip4(&b, A4, B4, 6, 1, 2, 7, 0);
	h = of(9, &b);
	tb_free(&b);
	ok(f.kind == FLOW_IP && f.hash == g.hash && g.hash == h.hash,
	    "flow: raw IP, null/loopback and PPP alike");
	tb_init(&b, 1);
	eth(&b, 0x8847);
	tb_bytes(&b, "\x00\x01\x00\x40\x00\x02\x01\x40", 8);
	ip4(&b, A4, B4, 6, 1, 2, 8, 0);
	g = of(1, &b);
	tb_free(&b);
	tb_init(&b, 1);
	eth(&b, 0x8864);
	tb_bytes(&b, "\x11\x00\x00\x01\x00\x1e\x00\x21", 8);
	ip4(&b, B4, A4, 6, 2, 1, 9, 0);
	h = of(1, &b);
	tb_free(&b);
	ok(g.kind == FLOW_IP && g.hash == f.hash && h.hash == f.hash,
	    "flow: under two MPLS labels, and in PPPoE");

	/* IPv4 fragments: the first has the ports, the others the datagram */
	tb_init(&b, 1);
	ip4(&b, A4, B4, 17, 4000, 53, 77, 0x2000);
	f = of(101, &b);
	tb_free(&b);
	tb_init(&b, 1);
	ip4(&b, A4, B4, 17, 0xdead, 0xbeef, 77, 0x0003);
	g = of(101, &b);
	tb_free(&b);
	h = tcp4(A4, B4, 4000, 53);
	ok(f.kind == FLOW_IP && f.first_fragment && g.kind == FLOW_FRAGMENT &&
	    f.datagram != 0 && f.datagram == g.datagram && !g.first_fragment,
	    "flow: an IPv4 datagram's fragments share its datagram hash, the "
	    "first has its flow");
	tb_init(&b, 1);
	ip4(&b, A4, B4, 17, 4000, 53, 78, 0x0003);
	h = of(101, &b);
	tb_free(&b);
	ok(h.datagram != g.datagram, "flow: another identification, another "
	    "datagram");

	/* IPv6: extension headers, and a fragment header */
	tb_init(&b, 1);
	ip6(&b, A6, B6, 6, NULL, 0, 443, 50000);
	f = of(229, &b);
	tb_free(&b);
	memset(ext, 0, sizeof(ext));
	ext[0] = 60;            /* hop-by-hop (8 bytes), then dest. options */
	ext[8] = 6;             /* destination options (8 bytes), then TCP */
	tb_init(&b, 1);
	eth(&b, 0x86dd);
	ip6(&b, B6, A6, 0, ext, 16, 50000, 443);
	g = of(1, &b);
	tb_free(&b);
	ok(f.kind == FLOW_IP && f.hash == g.hash,
	    "flow: IPv6 through its extension headers, both directions alike");
	memset(ext, 0, sizeof(ext));
	ext[0] = 17;            /* fragment header: offset 0, more; id 9 */
	ext[3] = 1;
	ext[7] = 9;
	tb_init(&b, 1);
	ip6(&b, A6, B6, 44, ext, 8, 500, 500);
	f = of(101, &b);
	tb_free(&b);
	ext[2] = 0x01;          /* offset 32 */
	ext[3] = 0x00;
	tb_init(&b, 1);
	ip6(&b, A6, B6, 44, ext, 8, 1, 2);
	g = of(101, &b);
	tb_free(&b);
	ok(f.kind == FLOW_IP && f.first_fragment && g.kind == FLOW_FRAGMENT &&
	    f.datagram == g.datagram, "flow: IPv6 fragments");

	/* what it gives up on: ARP, a cut header, an unknown link type */
	tb_init(&b, 1);
	eth(&b, 0x0806);
	tb_bytes(&b, "\x00\x01\x08\x00\x06\x04\x00\x01", 8);
	f = of(1, &b);
	g = of(1, &(struct tbuf){ b.p, 20, 0, 1 });
	h = of(147, &b);
	tb_free(&b);
	ok(f.kind == FLOW_NONE && g.kind == FLOW_NONE && h.kind == FLOW_NONE,
	    "flow: none for ARP, a header cut short, a link type it does not "
	    "read");
	/* ports cut off by the snap length: the flow of the addresses */
	tb_init(&b, 1);
	eth(&b, 0x0800);
	ip4(&b, A4, B4, 6, 1, 2, 1, 0);
	f = of(1, &(struct tbuf){ b.p, 34, 0, 1 });
	tb_free(&b);
	ok(f.kind == FLOW_IP, "flow: ports not captured, still IP");

	/* flows counted, and those in more than one chunk */
	{
		struct flow_count fc;
		uint32_t i;

		flow_count_init(&fc);
		flow_count_add(&fc, 0x1111ull << 44, 1);
		flow_count_add(&fc, 0x2222ull << 44, 1);
		flow_count_add(&fc, 0x1111ull << 44, 1);
		flow_count_add(&fc, 0x1111ull << 44, 2);
		flow_count_add(&fc, 0x3333ull << 44, 2);
		flow_count_add(&fc, 0x1111ull << 44, 3);
		flow_count_add(&fc, 0x2222ull << 44, 3);
		ok(fc.flows == 3 && fc.cut == 2 && fc.exact,
		    "flow count: 3 flows, 2 in more than one chunk (%llu, %llu)",
		    (unsigned long long)fc.flows, (unsigned long long)fc.cut);
		for (i = 0; i < FLOW_COUNT_MAX + 10; i++)
			flow_count_add(&fc, (uint64_t)i * 0x9e3779b97f4a7c15ull,
			    4);
		ok(!fc.exact && fc.flows == FLOW_COUNT_MAX,
		    "flow count: past %u flows, lower bounds", FLOW_COUNT_MAX);
		flow_count_release(&fc);
	}
}
