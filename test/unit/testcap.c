/* testcap.c - building pcap and pcapng captures byte by byte in tests. */
#include <stdlib.h>
#include <string.h>

#include "testcap.h"

void
tb_init(struct tbuf *b, int be)
{
	memset(b, 0, sizeof(*b));
	b->be = be;
}

void
tb_free(struct tbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

void
tb_bytes(struct tbuf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 64;
		b->p = realloc(b->p, b->cap);
		if (b->p == NULL)
			abort();
	}
	if (n > 0)
		memcpy(b->p + b->len, p, n);
	b->len += n;
}

void
tb_put16(struct tbuf *b, size_t at, uint16_t v)
{
	b->p[at + (b->be ? 0 : 1)] = (uint8_t)(v >> 8);
	b->p[at + (b->be ? 1 : 0)] = (uint8_t)v;
}

void
tb_put32(struct tbuf *b, size_t at, uint32_t v)
{
	if (b->be) {
		tb_put16(b, at, (uint16_t)(v >> 16));
		tb_put16(b, at + 2, (uint16_t)v);
	} else {
		tb_put16(b, at, (uint16_t)v);
		tb_put16(b, at + 2, (uint16_t)(v >> 16));
	}
}

void
tb_u16(struct tbuf *b, uint16_t v)
{
	uint8_t z[2] = { 0, 0 };

	tb_bytes(b, z, 2);
	tb_put16(b, b->len - 2, v);
}

void
tb_u32(struct tbuf *b, uint32_t v)
{
	uint8_t z[4] = { 0, 0, 0, 0 };

	tb_bytes(b, z, 4);
	tb_put32(b, b->len - 4, v);
}

void
tb_u64(struct tbuf *b, uint64_t v)
{
	if (b->be) {
		tb_u32(b, (uint32_t)(v >> 32));
		tb_u32(b, (uint32_t)v);
	} else {
		tb_u32(b, (uint32_t)v);
		tb_u32(b, (uint32_t)(v >> 32));
	}
}

static void
pattern(struct tbuf *b, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++) {
		uint8_t c = (uint8_t)(i * 31 + n);

		tb_bytes(b, &c, 1);
	}
}

static void
pad4(struct tbuf *b)
{
	static const uint8_t z[3];

	tb_bytes(b, z, (4 - b->len % 4) % 4);
}

void
tb_pcap_header(struct tbuf *b, int nsec, int patched, uint32_t linktype,
    uint32_t snaplen)
{
	tb_u32(b, patched ? 0xa1b2cd34u : nsec ? 0xa1b23c4du : 0xa1b2c3d4u);
	tb_u16(b, 2);
	tb_u16(b, 4);
	tb_u32(b, 0);
	tb_u32(b, 0);
	tb_u32(b, snaplen);
	tb_u32(b, linktype);
}

void
tb_pcap_record_hdr(struct tbuf *b, int patched, uint32_t sec, uint32_t frac,
    uint32_t caplen, uint32_t origlen)
{
	tb_u32(b, sec);
	tb_u32(b, frac);
	tb_u32(b, caplen);
	tb_u32(b, origlen);
	if (patched) {
		tb_u32(b, 3);
		tb_u32(b, 0x08000000u);
	}
}

void
tb_pcap_record(struct tbuf *b, int patched, uint32_t sec, uint32_t frac,
    uint32_t caplen, uint32_t origlen)
{
	tb_pcap_record_hdr(b, patched, sec, frac, caplen, origlen);
	pattern(b, caplen);
}

/* Starts a block; returns where it starts, for block_end. */
static size_t
block_start(struct tbuf *b, uint32_t type)
{
	size_t at = b->len;

	tb_u32(b, type);
	tb_u32(b, 0);
	return at;
}

static void
block_end(struct tbuf *b, size_t at)
{
	pad4(b);
	tb_u32(b, (uint32_t)(b->len - at + 4));
	tb_put32(b, at + 4, (uint32_t)(b->len - at));
}

void
tb_shb(struct tbuf *b, int64_t section_len)
{
	size_t at = block_start(b, 0x0A0D0D0Au);

	tb_u32(b, 0x1A2B3C4Du);
	tb_u16(b, 1);
	tb_u16(b, 0);
	tb_u64(b, (uint64_t)section_len);
	block_end(b, at);
}

static void
option(struct tbuf *b, uint16_t code, const void *p, uint16_t len)
{
	tb_u16(b, code);
	tb_u16(b, len);
	tb_bytes(b, p, len);
	pad4(b);
}

void
tb_idb(struct tbuf *b, uint16_t linktype, uint32_t snaplen, int tsresol,
    int64_t tsoffset, const char *name)
{
	size_t at = block_start(b, 1);
	int opts = 0;

	tb_u16(b, linktype);
	tb_u16(b, 0);
	tb_u32(b, snaplen);
	if (name != NULL) {
		option(b, 2, name, (uint16_t)strlen(name));
		opts = 1;
	}
	if (tsresol >= 0) {
		uint8_t r = (uint8_t)tsresol;

		option(b, 9, &r, 1);
		opts = 1;
	}
	if (tsoffset != 0) {
		struct tbuf v;

		tb_init(&v, b->be);
		tb_u64(&v, (uint64_t)tsoffset);
		option(b, 14, v.p, 8);
		tb_free(&v);
		opts = 1;
	}
	if (opts) {
		tb_u16(b, 0);
		tb_u16(b, 0);
	}
	block_end(b, at);
}

void
tb_epb(struct tbuf *b, uint32_t iface, uint64_t ts, uint32_t caplen,
    uint32_t origlen)
{
	size_t at = block_start(b, 6);

	tb_u32(b, iface);
	tb_u32(b, (uint32_t)(ts >> 32));
	tb_u32(b, (uint32_t)ts);
	tb_u32(b, caplen);
	tb_u32(b, origlen);
	pattern(b, caplen);
	block_end(b, at);
}

void
tb_spb(struct tbuf *b, uint32_t origlen, uint32_t snaplen)
{
	size_t at = block_start(b, 3);

	tb_u32(b, origlen);
	pattern(b, origlen < snaplen ? origlen : snaplen);
	block_end(b, at);
}

void
tb_pb(struct tbuf *b, uint16_t iface, uint64_t ts, uint32_t caplen,
    uint32_t origlen)
{
	size_t at = block_start(b, 2);

	tb_u16(b, iface);
	tb_u16(b, 0);
	tb_u32(b, (uint32_t)(ts >> 32));
	tb_u32(b, (uint32_t)ts);
	tb_u32(b, caplen);
	tb_u32(b, origlen);
	pattern(b, caplen);
	block_end(b, at);
}

void
tb_block(struct tbuf *b, uint32_t type, uint32_t body_len)
{
	size_t at = block_start(b, type);

	pattern(b, body_len);
	block_end(b, at);
}
