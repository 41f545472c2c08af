/* testcap.h - building pcap and pcapng captures byte by byte in tests. */
#ifndef SHARDCAP_TESTCAP_H
#define SHARDCAP_TESTCAP_H

#include <stddef.h>
#include <stdint.h>

struct tbuf {
	uint8_t *p;
	size_t len, cap;
	int be;                 /* byte order of what is appended next */
};

void tb_init(struct tbuf *b, int be);
void tb_free(struct tbuf *b);
void tb_bytes(struct tbuf *b, const void *p, size_t n);
void tb_u16(struct tbuf *b, uint16_t v);
void tb_u32(struct tbuf *b, uint32_t v);
void tb_u64(struct tbuf *b, uint64_t v);
/* Overwrite at offset at, in b->be order. */
void tb_put16(struct tbuf *b, size_t at, uint16_t v);
void tb_put32(struct tbuf *b, size_t at, uint32_t v);

void tb_pcap_header(struct tbuf *b, int nsec, int patched, uint32_t linktype,
    uint32_t snaplen);
/* A record with caplen bytes of data (a pattern). */
void tb_pcap_record(struct tbuf *b, int patched, uint32_t sec, uint32_t frac,
    uint32_t caplen, uint32_t origlen);
/* Only the header of a record. */
void tb_pcap_record_hdr(struct tbuf *b, int patched, uint32_t sec,
    uint32_t frac, uint32_t caplen, uint32_t origlen);

void tb_shb(struct tbuf *b, int64_t section_len);
/* tsresol < 0: no if_tsresol option. name NULL: no if_name. */
void tb_idb(struct tbuf *b, uint16_t linktype, uint32_t snaplen, int tsresol,
    int64_t tsoffset, const char *name);
void tb_epb(struct tbuf *b, uint32_t iface, uint64_t ts, uint32_t caplen,
    uint32_t origlen);
void tb_spb(struct tbuf *b, uint32_t origlen, uint32_t snaplen);
void tb_pb(struct tbuf *b, uint16_t iface, uint64_t ts, uint32_t caplen,
    uint32_t origlen);
/* A block of any type with body_len bytes of body (padded to 4). */
void tb_block(struct tbuf *b, uint32_t type, uint32_t body_len);

#endif
