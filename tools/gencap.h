/* gencap.h - what the parts of tools/gencap share: random numbers,
 * packets (gencap-packets.c) and the pcap and pcapng writers; the mixed
 * capture (gencap-mixed.c). Like gencap, nothing of shardcap's. */
#ifndef GENCAP_H
#define GENCAP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define MAX_FRAME 70000

struct buf {
	uint8_t *p;
	size_t len, cap;
};

/* Traffic for the variants: DNS transactions and TCP segments mixed. */
struct traffic {
	uint64_t t_ns;
	uint32_t seq, ack;
	uint16_t ip_id;
	int dns_pending;        /* a response is owed */
	char dns_name[96];
	uint16_t dns_id, dns_type, dns_port;
	uint32_t client;
};

struct iface {
	uint32_t linktype;
	uint32_t snaplen;
	uint8_t tsresol;
	int64_t tsoffset;
};

struct writer {
	FILE *f;
	uint64_t bytes;
	int be;
	int pcap_nsec;
	int pcap_kuz;
	struct iface ifs[16];
	int n_ifs;
	struct buf b;
};

/* What a mixed capture is mostly made of (--shape). */
enum shape {
	SHAPE_MIXED,            /* bulk TCP, chatty TCP and the DNS profile */
	SHAPE_BULK,             /* full-sized TCP segments: few packets a chunk */
	SHAPE_SMALL,            /* DNS and chatty TCP: many small packets */
};

/* gencap-packets.c: random numbers (rng_state seeds them), byte buffers,
 * packets, the writers */
extern uint64_t rng_state;
extern const uint64_t t0_ns;    /* the first packet's time */
uint64_t rnd(void);
uint32_t rnd_range(uint32_t lo, uint32_t hi);
void fatal(const char *fmt, ...)
    __attribute__((noreturn, format(printf, 1, 2)));
void buf_add(struct buf *b, const void *p, size_t n);
void put16be(uint8_t *p, uint16_t v);
void buf_u32(struct buf *b, uint32_t v, int be);
size_t udp_packet(uint8_t *ip, uint32_t src, uint32_t dst, uint16_t sport,
    uint16_t dport, const uint8_t *payload, size_t len, uint16_t id);
size_t tcp_packet(uint8_t *ip, uint32_t src, uint32_t dst, uint16_t sport,
    uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
    const uint8_t *payload, size_t len, uint16_t id);
void random_name(char *out, size_t len);
size_t dns_message(uint8_t *p, uint16_t id, const char *name, uint16_t qtype,
    int response, int rcode);
uint16_t random_qtype(void);
size_t frame(uint8_t *out, uint32_t linktype, int file_be, const uint8_t *ip,
    size_t len, int to_server);
const uint8_t *payload_bytes(size_t len);
size_t next_packet(struct traffic *tr, uint32_t linktype, int file_be,
    uint8_t *out, size_t max_payload);
void w_raw(struct writer *w, const void *p, size_t len);
void w_pcap_header(struct writer *w, uint32_t linktype, uint32_t snaplen,
    uint16_t major);
void w_pcap_record(struct writer *w, uint64_t t_ns, const uint8_t *data,
    uint32_t caplen, uint32_t origlen);
void w_block_finish(struct writer *w);
void w_block_start(struct writer *w, uint32_t type);
void w_shb(struct writer *w, int be, uint16_t major, int64_t section_len);
void w_idb(struct writer *w, uint32_t linktype, uint32_t snaplen,
    uint8_t tsresol, int64_t tsoffset, const char *name);
void w_epb(struct writer *w, uint32_t iface, uint64_t t_ns,
    const uint8_t *data, uint32_t caplen, uint32_t origlen,
    const char *comment);
void w_pb(struct writer *w, uint16_t iface, uint64_t t_ns,
    const uint8_t *data, uint32_t caplen, uint32_t origlen);
void w_spb(struct writer *w, const uint8_t *data, uint32_t origlen);
void w_nrb(struct writer *w, int n);
void w_isb(struct writer *w, uint32_t iface, uint64_t t_ns, uint64_t received);
void w_dsb(struct writer *w, int n);
void w_custom(struct writer *w, uint32_t type, const char *text);
void w_unknown(struct writer *w, uint32_t type, size_t len);

/* gencap-mixed.c: a capture of size bytes shaped like the paper's
 * dataset (or bulk-heavy, or small-packet: shape), pcap or pcapng on
 * n_ifs interfaces (at most mixed_max_ifs); its statistics to stats
 * when not NULL */
extern const unsigned mixed_max_ifs;
void mixed_capture(struct writer *w, uint64_t size, int pcapng,
    enum shape shape, unsigned n_ifs, FILE *stats);

/* gencap-flows.c: a capture of size bytes of n_streams TCP streams at once
 * (HTTP, TLS, DNS over TCP) of so many exchanges each (0: 4 to 30), each
 * message in two segments or more */
void flows_capture(struct writer *w, uint64_t size, unsigned n_streams,
    unsigned exchanges, int pcapng, FILE *stats);

#endif
