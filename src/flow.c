/* flow.c - the flow of a packet: link, network and transport headers
 * read, nothing else (see flow.h). */
#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include "flow.h"
#include "xalloc.h"
#include "banned.h"

/* LINKTYPE_ values (tcpdump.org/linktypes.html) */
#define LT_NULL 0
#define LT_ETHERNET 1
#define LT_PPP 9
#define LT_RAW_OLD1 12          /* DLT_RAW on some systems */
#define LT_RAW_OLD2 14
#define LT_PPP_HDLC 50
#define LT_RAW 101
#define LT_LOOP 108
#define LT_SLL 113
#define LT_IPV4 228
#define LT_IPV6 229
#define LT_SLL2 276

#define ETH_IPV4 0x0800
#define ETH_IPV6 0x86DD
#define ETH_VLAN 0x8100
#define ETH_QINQ 0x88A8
#define ETH_QINQ_OLD 0x9100
#define ETH_MPLS 0x8847
#define ETH_MPLS_MC 0x8848
#define ETH_PPPOE 0x8864

/* The hash's multiplier (2^64 over the golden ratio) and its start. */
#define FLOW_K 0x9e3779b97f4a7c15ull

static uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* splitmix64's finaliser: every bit of the hash moves the low ones,
 * which pick a bucket. */
static uint64_t
mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/*
 * The hash of a key of n bytes in a buffer of 40 (zeros after the key):
 * from h = n, for each 8 bytes as a little-endian word w, h = (h ^ w) * K
 * and h ^= h >> 29; then splitmix64's finaliser.
 */
static uint64_t
key_hash(const uint8_t *key, size_t n)
{
	uint64_t h = n, w;
	size_t i;

	for (i = 0; i < n; i += 8) {
		memcpy(&w, key + i, 8);
		h = (h ^ le64toh(w)) * FLOW_K;
		h ^= h >> 29;
	}
	return mix(h);
}

/*
 * The flow's key, the same both ways: version (4 or 6), protocol, then
 * the lower endpoint and the higher one, each its address (4 or 16
 * bytes) and port (2 bytes, big-endian; 0 without ports), endpoints
 * compared as those bytes.
 */
static uint64_t
flow_hash(int version, uint8_t proto, const uint8_t *src, const uint8_t *dst,
    size_t alen, uint16_t sport, uint16_t dport)
{
	uint8_t key[40] = { 0 }, *lo = key + 2, *hi = key + 4 + alen;
	int swap;

	if (alen == 4) {
		uint64_t a = (uint64_t)be16(src) << 32 | (uint64_t)be16(src + 2)
		    << 16 | sport;
		uint64_t b = (uint64_t)be16(dst) << 32 | (uint64_t)be16(dst + 2)
		    << 16 | dport;

		swap = a > b;
	} else {
		int c = memcmp(src, dst, alen);

		swap = c > 0 || (c == 0 && sport > dport);
	}
	key[0] = (uint8_t)version;
	key[1] = proto;
	memcpy(lo, swap ? dst : src, alen);
	lo[alen] = (uint8_t)((swap ? dport : sport) >> 8);
	lo[alen + 1] = (uint8_t)(swap ? dport : sport);
	memcpy(hi, swap ? src : dst, alen);
	hi[alen] = (uint8_t)((swap ? sport : dport) >> 8);
	hi[alen + 1] = (uint8_t)(swap ? sport : dport);
	return key_hash(key, 6 + 2 * alen);
}

/* A datagram's key: version, protocol, the two addresses in order, and
 * the identification (4 bytes, big-endian). */
static uint64_t
datagram_hash(int version, uint8_t proto, const uint8_t *src,
    const uint8_t *dst, size_t alen, uint32_t id)
{
	uint8_t key[40] = { 0 };
	int lo = memcmp(src, dst, alen) <= 0;

	key[0] = (uint8_t)version;
	key[1] = proto;
	memcpy(key + 2, lo ? src : dst, alen);
	memcpy(key + 2 + alen, lo ? dst : src, alen);
	key[2 + 2 * alen] = (uint8_t)(id >> 24);
	key[3 + 2 * alen] = (uint8_t)(id >> 16);
	key[4 + 2 * alen] = (uint8_t)(id >> 8);
	key[5 + 2 * alen] = (uint8_t)id;
	return key_hash(key, 6 + 2 * alen);
}

static int
has_ports(uint8_t proto)
{
	/* TCP, UDP, DCCP, SCTP, UDP-Lite: source and destination ports are
	 * the transport header's first four bytes */
	return proto == 6 || proto == 17 || proto == 33 || proto == 132 ||
	    proto == 136;
}

/* The flow of the transport header at p (n bytes), the network layer's
 * fields given. */
static void
transport(struct flow *f, int version, uint8_t proto, const uint8_t *src,
    const uint8_t *dst, size_t alen, const uint8_t *p, size_t n)
{
	uint16_t sport = 0, dport = 0;

	if (has_ports(proto) && n >= 4) {
		sport = be16(p);
		dport = be16(p + 2);
	}
	f->kind = FLOW_IP;
	f->hash = flow_hash(version, proto, src, dst, alen, sport, dport);
}

static void
ipv4(struct flow *f, const uint8_t *p, size_t n)
{
	size_t ihl, total;
	uint16_t frag, offset;
	uint8_t proto;

	if (n < 20 || (p[0] >> 4) != 4 || (ihl = (size_t)(p[0] & 0xf) * 4) < 20
	    || ihl > n)
		return;
	/* the datagram's own end: a frame may be padded after it */
	total = be16(p + 2);
	if (total >= ihl && total < n)
		n = total;
	proto = p[9];
	frag = be16(p + 6);
	offset = frag & 0x1fff;
	if ((frag & 0x2000) != 0 || offset != 0)
		f->datagram = datagram_hash(4, proto, p + 12, p + 16, 4,
		    be16(p + 4));
	if (offset != 0) {
		f->kind = FLOW_FRAGMENT;
		return;
	}
	transport(f, 4, proto, p + 12, p + 16, 4, p + ihl, n - ihl);
	f->first_fragment = (frag & 0x2000) != 0;
}

static void
ipv6(struct flow *f, const uint8_t *p, size_t n)
{
	const uint8_t *src = p + 8, *dst = p + 24;
	uint8_t next;
	size_t at = 40, len, guard;
	int more = 0;

	if (n < 40 || (p[0] >> 4) != 6)
		return;
	if (40 + (size_t)be16(p + 4) < n)
		n = 40 + be16(p + 4);
	next = p[6];
	/* extension headers, as far as they were captured */
	for (guard = 0; guard < 16; guard++) {
		if (next == 0 || next == 43 || next == 60 || next == 135 ||
		    next == 139 || next == 140) {
			/* hop-by-hop, routing, destination options, mobility,
			 * HIP, shim6: 8-byte units after the first 8 */
			if (at + 2 > n)
				return;
			len = ((size_t)p[at + 1] + 1) * 8;
		} else if (next == 51) {
			/* authentication header: 4-byte units, less 2 */
			if (at + 2 > n)
				return;
			len = ((size_t)p[at + 1] + 2) * 4;
		} else if (next == 44) {
			uint16_t off;

			if (at + 8 > n)
				return;
			off = be16(p + at + 2) >> 3;
			more = p[at + 3] & 1;
			f->datagram = datagram_hash(6, p[at], src, dst, 16,
			    (uint32_t)be16(p + at + 4) << 16 |
			    be16(p + at + 6));
			if (off != 0) {
				f->kind = FLOW_FRAGMENT;
				return;
			}
			len = 8;
		} else {
			break;
		}
		next = p[at];
		at += len;
		if (at > n)
			return;
	}
	transport(f, 6, next, src, dst, 16, p + at, n - at);
	f->first_fragment = more;
}

/* An IP packet at p, whose version its first nibble says. */
static void
ip(struct flow *f, const uint8_t *p, size_t n)
{
	if (n == 0)
		return;
	if ((p[0] >> 4) == 4)
		ipv4(f, p, n);
	else if ((p[0] >> 4) == 6)
		ipv6(f, p, n);
}

/* What follows an Ethernet type (or a Linux cooked header's protocol). */
static void
ethertype(struct flow *f, uint16_t type, const uint8_t *p, size_t n)
{
	size_t guard;

	for (guard = 0; guard < 8; guard++) {
		switch (type) {
		case ETH_IPV4:
		case ETH_IPV6:
			ip(f, p, n);
			return;
		case ETH_VLAN:
		case ETH_QINQ:
		case ETH_QINQ_OLD:
			if (n < 4)
				return;
			type = be16(p + 2);
			p += 4;
			n -= 4;
			break;
		case ETH_MPLS:
		case ETH_MPLS_MC:
			/* labels to the bottom of the stack, then IP if its
			 * first nibble says so */
			while (n >= 4 && (p[2] & 1) == 0) {
				p += 4;
				n -= 4;
			}
			if (n < 4)
				return;
			ip(f, p + 4, n - 4);
			return;
		case ETH_PPPOE:
			/* session header (6), then PPP's protocol */
			if (n < 8)
				return;
			if (be16(p + 6) == 0x0021 || be16(p + 6) == 0x0057)
				ip(f, p + 8, n - 8);
			return;
		default:
			return;
		}
	}
}

static void
ethernet(struct flow *f, const uint8_t *p, size_t n)
{
	uint16_t type;

	if (n < 14)
		return;
	type = be16(p + 12);
	if (type >= 0x0600) {
		ethertype(f, type, p + 14, n - 14);
		return;
	}
	/* 802.3 with LLC: SNAP (AA AA 03, an OUI, a type) */
	if (n >= 22 && p[14] == 0xAA && p[15] == 0xAA && p[16] == 0x03)
		ethertype(f, be16(p + 20), p + 22, n - 22);
}

static void
ppp(struct flow *f, const uint8_t *p, size_t n)
{
	uint16_t proto;

	if (n >= 2 && p[0] == 0xFF && p[1] == 0x03) {
		p += 2;
		n -= 2;
	}
	if (n < 2)
		return;
	proto = be16(p);
	if (proto == 0x0021 || proto == 0x0057)
		ip(f, p + 2, n - 2);
}

void
flow_of(uint32_t linktype, const uint8_t *p, size_t n, struct flow *f)
{
	memset(f, 0, sizeof(*f));
	switch (linktype) {
	case LT_ETHERNET:
		ethernet(f, p, n);
		break;
	case LT_RAW:
	case LT_RAW_OLD1:
	case LT_RAW_OLD2:
	case LT_IPV4:
	case LT_IPV6:
		ip(f, p, n);
		break;
	case LT_NULL:
	case LT_LOOP:
		/* a 4-byte address family, in either byte order: the IP
		 * header's first nibble says which version follows */
		if (n > 4)
			ip(f, p + 4, n - 4);
		break;
	case LT_SLL:
		if (n >= 16)
			ethertype(f, be16(p + 14), p + 16, n - 16);
		break;
	case LT_SLL2:
		if (n >= 20)
			ethertype(f, be16(p), p + 20, n - 20);
		break;
	case LT_PPP:
	case LT_PPP_HDLC:
		ppp(f, p, n);
		break;
	default:
		break;
	}
}

void
flow_count_init(struct flow_count *fc)
{
	memset(fc, 0, sizeof(*fc));
	fc->exact = 1;
}

/*
 * A slot: the hash's upper 43 bits (never all zero: an empty slot is 0),
 * a bit saying the flow was counted as cut, and the 20-bit number of the
 * chunk it was last seen in (chunk numbers are below a million).
 */
#define TAG_SHIFT 21
#define CUT_BIT (1ull << 20)
#define CHUNK_MASK (CUT_BIT - 1)

static uint64_t
tag_of(uint64_t hash)
{
	uint64_t t = hash >> TAG_SHIFT;

	return (t != 0 ? t : 1) << TAG_SHIFT;
}

static size_t
count_slot(const struct flow_count *fc, uint64_t hash, uint64_t tag)
{
	size_t i = (size_t)(hash & (fc->cap - 1));

	while (fc->slot[i] != 0 && (fc->slot[i] & ~(CUT_BIT | CHUNK_MASK)) !=
	    tag)
		i = (i + 1) & (fc->cap - 1);
	return i;
}

static void
count_grow(struct flow_count *fc)
{
	struct flow_count g = *fc;
	size_t i;

	g.cap = fc->cap ? fc->cap * 2 : 4096;
	g.slot = xcalloc(g.cap, sizeof(*g.slot));
	for (i = 0; i < fc->cap; i++)
		if (fc->slot[i] != 0) {
			uint64_t tag = fc->slot[i] & ~(CUT_BIT | CHUNK_MASK);

			/* the index comes from the tag's bits: the low bits
			 * of the hash are not kept */
			g.slot[count_slot(&g, tag >> TAG_SHIFT, tag)] =
			    fc->slot[i];
		}
	free(fc->slot);
	*fc = g;
}

void
flow_count_add(struct flow_count *fc, uint64_t hash, uint32_t chunk)
{
	uint64_t tag = tag_of(hash), c = chunk & CHUNK_MASK, *p;
	/* a slot's place: from the tag, so that growing keeps it */
	uint64_t at = tag >> TAG_SHIFT;

	/* full: the counts are lower bounds from here on, and cost nothing
	 * more (a look-up in a full table, for every packet, would) */
	if (!fc->exact)
		return;
	if (fc->cap > 0) {
		p = &fc->slot[count_slot(fc, at, tag)];
		if (*p != 0) {
			if ((*p & CHUNK_MASK) != c) {
				if (!(*p & CUT_BIT))
					fc->cut++;
				*p = tag | CUT_BIT | c;
			}
			return;
		}
	}
	if (fc->n >= FLOW_COUNT_MAX) {
		fc->exact = 0;
		return;
	}
	if ((fc->n + 1) * 2 > fc->cap)
		count_grow(fc);
	fc->slot[count_slot(fc, at, tag)] = tag | c;
	fc->n++;
	fc->flows++;
}

void
flow_count_release(struct flow_count *fc)
{
	free(fc->slot);
	memset(fc, 0, sizeof(*fc));
}
