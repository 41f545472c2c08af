/* gencap-mixed.c - gencap's mixed capture: bulk TCP, chatty TCP and DNS
 * whose density per 25 MiB region follows the paper's Figure 1. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gencap.h"

/* --- the mixed capture ---------------------------------------------- */

/*
 * DNS responses per 25 MiB region. Their statistics are the paper's
 * (Figure 1): 27 regions, 17604 responses, mean 652, median 419, minimum
 * 80, maximum 2393, sample standard deviation 526.83. A capture larger
 * than 27 regions repeats the profile.
 */
static const uint32_t dns_profile[27] = {
	356, 1310, 897, 1042, 174, 330, 418, 378, 389, 420, 2393, 923, 419,
	358, 561, 417, 796, 80, 179, 1963, 497, 841, 379, 364, 588, 744, 388,
};
#define REGION_BYTES (25ull << 20)

struct flow {
	uint32_t client, server;
	uint16_t cport, sport;
	uint32_t cseq, sseq;
	uint64_t left;          /* bytes the server still sends */
	int state;              /* 0 syn, 1 synack, 2 ack, 3 data, 4 fin */
	unsigned since_ack;
};

/* A chatty flow: small requests and responses, as interactive and API
 * traffic has; most packets of real traffic are small. */
struct chat {
	uint32_t client, server;
	uint16_t cport, sport;
	uint32_t cseq, sseq;
	unsigned left;          /* exchanges to go */
	int state;
};

struct mixed {
	struct writer *w;
	int pcapng;
	enum shape shape;
	unsigned n_ifs;         /* pcapng interfaces the packets go out on */
	uint64_t t_ns;
	uint16_t ip_id;
	struct flow flows[12];
	struct chat chats[24];
	uint64_t dns_responses, packets;
	uint64_t region_responses[4096];
};

static void
mixed_emit(struct mixed *m, const uint8_t *ip, size_t iplen, int to_server)
{
	uint8_t out[MAX_FRAME];
	/* a conversation keeps its interface: both addresses, either way */
	uint32_t iface = m->n_ifs > 1 ? (uint32_t)((ip[15] ^ ip[19]) %
	    m->n_ifs) : 0;
	size_t len = frame(out, m->pcapng ? m->w->ifs[iface].linktype : 1, 0,
	    ip, iplen, to_server);

	if (m->pcapng)
		w_epb(m->w, iface, m->t_ns, out, (uint32_t)len, (uint32_t)len,
		    NULL);
	else
		w_pcap_record(m->w, m->t_ns, out, (uint32_t)len, (uint32_t)len);
	m->packets++;
}

/*
 * A client's port: one of the dynamic ports (RFC 6335) that tshark decodes
 * as no protocol ('tshark -G decodes' lists the ports it does: 34980,
 * 44321, 44818, 48049, 48898, 57000 among the dynamic ones), so that
 * neither end of a flow makes a dissector take its payload.
 */
static uint16_t
client_port(void)
{
	return (uint16_t)rnd_range(50000, 56999);
}

static void
flow_new(struct flow *f, unsigned i)
{
	/* High ports no dissector claims, so that payload stays data. */
	static const uint16_t ports[] = { 41001, 41002, 41003, 41004 };

	f->client = 0x0a010000u + (uint32_t)rnd_range(2, 4000);
	f->server = 0xc0a80000u + (uint32_t)rnd_range(2, 250) + (i << 8);
	f->cport = client_port();
	f->sport = ports[rnd() % 4];
	f->cseq = (uint32_t)rnd();
	f->sseq = (uint32_t)rnd();
	f->left = rnd_range(200000, 40000000);
	f->state = 0;
	f->since_ack = 0;
}

/* One step of one bulk flow: handshake, data from the server with an ACK
 * every other segment, then FIN/ACK both ways. */
static void
flow_step(struct mixed *m, struct flow *f, unsigned i)
{
	uint8_t ip[MAX_FRAME];
	size_t n;

	switch (f->state) {
	case 0:
		n = tcp_packet(ip, f->client, f->server, f->cport, f->sport,
		    f->cseq++, 0, 0x02, NULL, 0, m->ip_id++);
		mixed_emit(m, ip, n, 1);
		f->state = 1;
		break;
	case 1:
		n = tcp_packet(ip, f->server, f->client, f->sport, f->cport,
		    f->sseq++, f->cseq, 0x12, NULL, 0, m->ip_id++);
		mixed_emit(m, ip, n, 0);
		f->state = 2;
		break;
	case 2:
		n = tcp_packet(ip, f->client, f->server, f->cport, f->sport,
		    f->cseq, f->sseq, 0x10, NULL, 0, m->ip_id++);
		mixed_emit(m, ip, n, 1);
		f->state = 3;
		break;
	case 3: {
		size_t len = f->left < 1448 ? (size_t)f->left : 1448;

		n = tcp_packet(ip, f->server, f->client, f->sport, f->cport,
		    f->sseq, f->cseq, 0x18, payload_bytes(len), len,
		    m->ip_id++);
		mixed_emit(m, ip, n, 0);
		f->sseq += (uint32_t)len;
		f->left -= len;
		if (++f->since_ack == 2 || f->left == 0) {
			m->t_ns += rnd_range(1000, 8000);
			n = tcp_packet(ip, f->client, f->server, f->cport,
			    f->sport, f->cseq, f->sseq, 0x10, NULL, 0,
			    m->ip_id++);
			mixed_emit(m, ip, n, 1);
			f->since_ack = 0;
		}
		if (f->left == 0)
			f->state = 4;
		break;
	}
	case 4:
		n = tcp_packet(ip, f->server, f->client, f->sport, f->cport,
		    f->sseq++, f->cseq, 0x11, NULL, 0, m->ip_id++);
		mixed_emit(m, ip, n, 0);
		m->t_ns += rnd_range(1000, 8000);
		n = tcp_packet(ip, f->client, f->server, f->cport, f->sport,
		    f->cseq++, f->sseq, 0x11, NULL, 0, m->ip_id++);
		mixed_emit(m, ip, n, 1);
		m->t_ns += rnd_range(1000, 8000);
		n = tcp_packet(ip, f->server, f->client, f->sport, f->cport,
		    f->sseq, f->cseq, 0x10, NULL, 0, m->ip_id++);
		mixed_emit(m, ip, n, 0);
		flow_new(f, i);
		break;
	}
}

static void
chat_new(struct chat *c, unsigned i)
{
	c->client = 0x0a030000u + (uint32_t)rnd_range(2, 60000);
	c->server = 0xac100000u + (uint32_t)rnd_range(2, 250) + (i << 8);
	c->cport = client_port();
	c->sport = (uint16_t)(42000 + i % 8);
	c->cseq = (uint32_t)rnd();
	c->sseq = (uint32_t)rnd();
	c->left = rnd_range(5, 400);
	c->state = 0;
}

/* One packet of a chatty flow, from the client or from the server. */
static void
chat_packet(struct mixed *m, uint8_t *ip, const struct chat *c,
    int from_client, uint32_t seq, uint32_t ack, uint8_t flags,
    const uint8_t *payload, size_t len)
{
	size_t n;

	if (from_client)
		n = tcp_packet(ip, c->client, c->server, c->cport, c->sport,
		    seq, ack, flags, payload, len, m->ip_id++);
	else
		n = tcp_packet(ip, c->server, c->client, c->sport, c->cport,
		    seq, ack, flags, payload, len, m->ip_id++);
	mixed_emit(m, ip, n, from_client);
}

/* One step of a chatty flow: handshake, then request, response, ACK,
 * with payloads of tens to hundreds of bytes, then the close. */
static void
chat_step(struct mixed *m, struct chat *c, unsigned i)
{
	uint8_t ip[2048];
	size_t len;

	switch (c->state) {
	case 0:
		chat_packet(m, ip, c, 1, c->cseq++, 0, 0x02, NULL, 0);
		m->t_ns += rnd_range(20000, 90000);
		chat_packet(m, ip, c, 0, c->sseq++, c->cseq, 0x12, NULL, 0);
		chat_packet(m, ip, c, 1, c->cseq, c->sseq, 0x10, NULL, 0);
		c->state = 1;
		break;
	case 1:
		len = rnd_range(40, 300);
		chat_packet(m, ip, c, 1, c->cseq, c->sseq, 0x18,
		    payload_bytes(len), len);
		c->cseq += (uint32_t)len;
		m->t_ns += rnd_range(5000, 60000);
		len = rnd_range(20, 600);
		chat_packet(m, ip, c, 0, c->sseq, c->cseq, 0x18,
		    payload_bytes(len), len);
		c->sseq += (uint32_t)len;
		chat_packet(m, ip, c, 1, c->cseq, c->sseq, 0x10, NULL, 0);
		if (--c->left == 0)
			c->state = 2;
		break;
	default:
		chat_packet(m, ip, c, 1, c->cseq++, c->sseq, 0x11, NULL, 0);
		chat_packet(m, ip, c, 0, c->sseq++, c->cseq, 0x11, NULL, 0);
		chat_packet(m, ip, c, 1, c->cseq, c->sseq, 0x10, NULL, 0);
		chat_new(c, i);
		break;
	}
}

static void
dns_transaction(struct mixed *m)
{
	uint8_t ip[2048], msg[1024];
	char name[96];
	uint32_t client = 0x0a020000u + (uint32_t)rnd_range(2, 60000);
	uint32_t resolver = rnd() % 2 ? 0x08080808u : 0x01010101u;
	uint16_t port = (uint16_t)rnd_range(1024, 65000), id = (uint16_t)rnd();
	uint16_t qtype = random_qtype();
	size_t n;

	random_name(name, sizeof(name));
	n = dns_message(msg, id, name, qtype, 0, 0);
	n = udp_packet(ip, client, resolver, port, 53, msg, n, m->ip_id++);
	mixed_emit(m, ip, n, 1);
	m->t_ns += rnd_range(5000, 60000);
	n = dns_message(msg, id, name, qtype, 1, rnd() % 12 == 0 ? 3 : 0);
	n = udp_packet(ip, resolver, client, 53, port, msg, n, m->ip_id++);
	mixed_emit(m, ip, n, 0);
	m->dns_responses++;
}

/* The interfaces of a pcapng mixed capture with --interfaces N. */
static const struct {
	uint32_t linktype;
	uint8_t tsresol;
	const char *name;
} mixed_ifs[] = {
	{ 1, 6, "eth0" }, { 113, 9, "any" }, { 101, 9, "tun0" },
	{ 1, 9, "eth1" }, { 1, 6, "eth2" }, { 113, 6, "any1" },
	{ 101, 6, "tun1" }, { 1, 9, "eth3" },
};
#define MAX_MIXED_IFS (sizeof(mixed_ifs) / sizeof(mixed_ifs[0]))
const unsigned mixed_max_ifs = MAX_MIXED_IFS;

void
mixed_capture(struct writer *w, uint64_t size, int pcapng, enum shape shape,
    unsigned n_ifs, FILE *stats)
{
	struct mixed m;
	uint64_t region = 0;
	unsigned i;

	memset(&m, 0, sizeof(m));
	m.w = w;
	m.pcapng = pcapng;
	m.shape = shape;
	m.n_ifs = pcapng ? n_ifs : 1;
	m.t_ns = t0_ns;
	if (pcapng) {
		w_shb(w, 0, 1, -1);
		for (i = 0; i < m.n_ifs; i++)
			w_idb(w, mixed_ifs[i].linktype, 262144,
			    mixed_ifs[i].tsresol, 0, mixed_ifs[i].name);
	} else {
		w_pcap_header(w, 1, 262144, 2);
	}
	for (i = 0; i < sizeof(m.flows) / sizeof(m.flows[0]); i++)
		flow_new(&m.flows[i], i);
	for (i = 0; i < sizeof(m.chats) / sizeof(m.chats[0]); i++)
		chat_new(&m.chats[i], i);
	while (w->bytes < size) {
		uint64_t region_end = (region + 1) * REGION_BYTES;
		uint64_t want = dns_profile[region % 27], done = 0;

		/* bulk: twice the paper's responses, as the 695 MB capture
		 * of 726k packets with 32,684 of them; small: a DNS
		 * transaction every 250 bytes or so */
		if (shape == SHAPE_BULK)
			want *= 2;
		else if (shape == SHAPE_SMALL)
			want = REGION_BYTES / 250;
		/* A DNS transaction is placed whenever the bytes written in
		 * this region pass the next of want evenly spaced marks. */
		while (w->bytes < region_end && w->bytes < size) {
			uint64_t into = w->bytes - region * REGION_BYTES;

			if (done < want && into >= done * REGION_BYTES / want +
			    (uint64_t)rnd_range(0, 4096)) {
				dns_transaction(&m);
				done++;
			} else if (shape == SHAPE_SMALL) {
				i = (unsigned)(rnd() % 24);
				chat_step(&m, &m.chats[i], i);
			} else if (shape == SHAPE_BULK || rnd() % 3 != 0) {
				i = (unsigned)(rnd() % 12);
				flow_step(&m, &m.flows[i], i);
			} else {
				i = (unsigned)(rnd() % 24);
				chat_step(&m, &m.chats[i], i);
			}
			m.t_ns += rnd_range(2000, 14000);
		}
		if (region < 4096)
			m.region_responses[region] = done;
		region++;
	}
	if (pcapng)
		w_isb(w, 0, m.t_ns, m.packets);
	if (stats != NULL) {
		fprintf(stats, "bytes=%" PRIu64 " packets=%" PRIu64
		    " dns_responses=%" PRIu64 " regions=%" PRIu64 "\n",
		    w->bytes, m.packets, m.dns_responses, region);
		for (i = 0; i < region && i < 4096; i++)
			fprintf(stats, "region %u: %" PRIu64 " dns responses\n",
			    i + 1, m.region_responses[i]);
	}
}
