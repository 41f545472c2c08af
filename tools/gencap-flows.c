/* gencap-flows.c - gencap's flows capture: many TCP streams at once -
 * HTTP/1.1, TLS and DNS over TCP - each a handshake, exchanges and a
 * close, interleaved packet by packet, every message in two segments or
 * more. A stream lives through a good part of the capture, so a cut of
 * the capture in time cuts streams, and messages, everywhere: what the
 * flow layout's tests need. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "gencap.h"

#define MAX_MSG 4096
#define TLS_PORT 443
#define HTTP_PORT 80
#define DNS_PORT 53

enum kind { HTTP, TLS, DNS_TCP };

enum state { SYN, SYNACK, ACK, READY, SEND, ACKED, FIN1, FIN2, FIN3 };

struct stream {
	enum kind kind;
	enum state state;
	uint32_t client, server;
	uint16_t cport, sport;
	uint32_t cseq, sseq;
	unsigned left;          /* exchanges to go */
	unsigned exchange;      /* exchanges done */
	uint8_t msg[MAX_MSG];   /* the message being sent */
	size_t msg_len, msg_off;
	int from_client;        /* its direction */
	char name[96];          /* the host it talks to (HTTP, TLS), or asks
				 * about (DNS) */
	uint16_t dns_id, dns_type;
};

struct flows {
	struct writer *w;
	int pcapng;
	uint64_t t_ns;
	uint16_t ip_id;
	unsigned next_client;
	uint64_t packets, streams;
};

static void
emit(struct flows *g, struct stream *s, int from_client, uint8_t flags,
    const uint8_t *payload, size_t len)
{
	uint8_t ip[MAX_FRAME], out[MAX_FRAME];
	size_t n;

	if (from_client)
		n = tcp_packet(ip, s->client, s->server, s->cport, s->sport,
		    s->cseq, flags == 0x02 ? 0 : s->sseq, flags, payload, len,
		    g->ip_id++);
	else
		n = tcp_packet(ip, s->server, s->client, s->sport, s->cport,
		    s->sseq, s->cseq, flags, payload, len, g->ip_id++);
	n = frame(out, 1, 0, ip, n, from_client);
	if (g->pcapng)
		w_epb(g->w, 0, g->t_ns, out, (uint32_t)n, (uint32_t)n, NULL);
	else
		w_pcap_record(g->w, g->t_ns, out, (uint32_t)n, (uint32_t)n);
	g->packets++;
	g->t_ns += rnd_range(2000, 40000);
}

/* A 24-bit big-endian length, as TLS handshakes have. */
static void
put24be(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)(v >> 16);
	put16be(p + 1, (uint16_t)v);
}

static void
random_bytes(uint8_t *p, size_t n)
{
	while (n-- > 0)
		*p++ = (uint8_t)rnd();
}

/* A TLS 1.2 record header for a body of len bytes at p + 5. */
static size_t
tls_record(uint8_t *p, uint8_t type, size_t len)
{
	p[0] = type;
	p[1] = 3;
	p[2] = type == 22 ? 1 : 3;
	put16be(p + 3, (uint16_t)len);
	return 5 + len;
}

/* A ClientHello naming name (server_name), padded to about 512 bytes, as
 * browsers pad theirs. */
static size_t
client_hello(uint8_t *p, const char *name)
{
	uint8_t *h = p + 5, *b = h + 4, *x;
	size_t nl = strlen(name), n = 0, ext;

	b[n++] = 3;
	b[n++] = 3;
	random_bytes(b + n, 32);
	n += 32;
	b[n++] = 32;
	random_bytes(b + n, 32);
	n += 32;
	put16be(b + n, 4);
	memcpy(b + n + 2, "\x13\x01\x13\x02", 4);
	n += 6;
	b[n++] = 1;
	b[n++] = 0;
	x = b + n + 2;
	ext = 0;
	/* server_name */
	put16be(x, 0);
	put16be(x + 2, (uint16_t)(nl + 5));
	put16be(x + 4, (uint16_t)(nl + 3));
	x[6] = 0;
	put16be(x + 7, (uint16_t)nl);
	memcpy(x + 9, name, nl);
	ext += 9 + nl;
	/* supported_versions: TLS 1.3 */
	memcpy(x + ext, "\x00\x2b\x00\x03\x02\x03\x04", 7);
	ext += 7;
	/* padding to 508 bytes of handshake body */
	if (n + 2 + ext + 4 < 508) {
		size_t pad = 508 - (n + 2 + ext + 4);

		put16be(x + ext, 21);
		put16be(x + ext + 2, (uint16_t)pad);
		memset(x + ext + 4, 0, pad);
		ext += 4 + pad;
	}
	put16be(b + n, (uint16_t)ext);
	n += 2 + ext;
	h[0] = 1;
	put24be(h + 1, n);
	return tls_record(p, 22, 4 + n);
}

static size_t
server_hello(uint8_t *p)
{
	uint8_t *h = p + 5, *b = h + 4;
	size_t n = 0;

	b[n++] = 3;
	b[n++] = 3;
	random_bytes(b + n, 32);
	n += 32;
	b[n++] = 32;
	random_bytes(b + n, 32);
	n += 32;
	memcpy(b + n, "\x13\x01\x00", 3);
	n += 3;
	memcpy(b + n, "\x00\x06\x00\x2b\x00\x02\x03\x04", 8);
	n += 8;
	h[0] = 2;
	put24be(h + 1, n);
	return tls_record(p, 22, 4 + n);
}

/* Encrypted application data: a record of len random bytes. */
static size_t
app_data(uint8_t *p, size_t len)
{
	random_bytes(p + 5, len);
	return tls_record(p, 23, len);
}

/* The next message of s: the client's request, or the server's answer. */
static void
next_message(struct stream *s, int from_client)
{
	uint8_t *m = s->msg;
	size_t n = 0, body;

	s->from_client = from_client;
	s->msg_off = 0;
	switch (s->kind) {
	case HTTP:
		if (from_client) {
			n = (size_t)snprintf((char *)m, MAX_MSG, "GET /obj/%u/"
			    "%08x.txt HTTP/1.1\r\nHost: %s\r\nUser-Agent: "
			    "gencap/1.0\r\nAccept: */*\r\n\r\n", s->exchange,
			    (unsigned)rnd(), s->name);
		} else {
			body = rnd_range(100, 2800);
			n = (size_t)snprintf((char *)m, MAX_MSG, "HTTP/1.1 200 "
			    "OK\r\nContent-Type: text/plain\r\nContent-Length: "
			    "%zu\r\n\r\n", body);
			memcpy(m + n, payload_bytes(body), body);
			n += body;
		}
		break;
	case TLS:
		if (s->exchange == 0)
			n = from_client ? client_hello(m, s->name) :
			    server_hello(m);
		else
			n = app_data(m, rnd_range(40, from_client ? 600 : 3000));
		break;
	case DNS_TCP:
		if (from_client) {
			s->dns_id = (uint16_t)rnd();
			s->dns_type = random_qtype();
			random_name(s->name, sizeof(s->name));
		}
		n = 2 + dns_message(m + 2, s->dns_id, s->name, s->dns_type,
		    !from_client, 0);
		put16be(m, (uint16_t)(n - 2));
		break;
	}
	s->msg_len = n;
}

/* A new stream of so many exchanges (0: 4 to 30). */
static void
stream_new(struct flows *g, struct stream *s, unsigned exchanges)
{
	static const char *const tlds[] = { "example", "test", "invalid" };
	unsigned r = (unsigned)(rnd() % 10);

	memset(s, 0, sizeof(*s));
	s->kind = r < 4 ? HTTP : r < 8 ? TLS : DNS_TCP;
	s->client = 0x0a020000u + (g->next_client++ % 60000) + 2;
	s->server = 0xc6336400u + (uint32_t)rnd_range(1, 250);
	s->cport = (uint16_t)rnd_range(50000, 56999);
	s->sport = s->kind == HTTP ? HTTP_PORT : s->kind == TLS ? TLS_PORT :
	    DNS_PORT;
	s->cseq = (uint32_t)rnd();
	s->sseq = (uint32_t)rnd();
	s->left = exchanges > 0 ? exchanges : rnd_range(4, 30);
	s->state = SYN;
	if (s->kind != DNS_TCP) {
		char label[32];

		random_name(label, sizeof(label));
		label[strcspn(label, ".")] = '\0';
		snprintf(s->name, sizeof(s->name), "www.%s%u.%s", label,
		    (unsigned)(rnd() % 1000), tlds[rnd() % 3]);
	}
	g->streams++;
}

/* One packet of stream s. Returns 0 once it has closed. */
static int
stream_step(struct flows *g, struct stream *s)
{
	size_t seg, rest;

	switch (s->state) {
	case SYN:
		emit(g, s, 1, 0x02, NULL, 0);
		s->cseq++;
		s->state = SYNACK;
		break;
	case SYNACK:
		emit(g, s, 0, 0x12, NULL, 0);
		s->sseq++;
		s->state = ACK;
		break;
	case ACK:
		emit(g, s, 1, 0x10, NULL, 0);
		s->state = READY;
		break;
	case READY:
		if (s->left == 0) {
			emit(g, s, 1, 0x11, NULL, 0);
			s->cseq++;
			s->state = FIN1;
			break;
		}
		next_message(s, 1);
		s->state = SEND;
		/* fall through */
	case SEND:
		/* the first segment ends inside the message, so that no
		 * message is whole in one segment */
		rest = s->msg_len - s->msg_off;
		if (s->msg_off == 0)
			seg = rnd_range(1, (uint32_t)(rest < 1400 ? rest - 1 :
			    1399));
		else
			seg = rest < 1400 ? rest : 1400;
		emit(g, s, s->from_client, 0x18, s->msg + s->msg_off, seg);
		if (s->from_client)
			s->cseq += (uint32_t)seg;
		else
			s->sseq += (uint32_t)seg;
		s->msg_off += seg;
		if (s->msg_off == s->msg_len)
			s->state = ACKED;
		break;
	case ACKED:
		emit(g, s, !s->from_client, 0x10, NULL, 0);
		if (s->from_client) {
			next_message(s, 0);
			s->state = SEND;
		} else {
			s->exchange++;
			s->left--;
			s->state = READY;
		}
		break;
	case FIN1:
		emit(g, s, 0, 0x11, NULL, 0);
		s->sseq++;
		s->state = FIN2;
		break;
	case FIN2:
		emit(g, s, 1, 0x10, NULL, 0);
		s->state = FIN3;
		return 0;
	case FIN3:
		return 0;
	}
	return 1;
}

void
flows_capture(struct writer *w, uint64_t size, unsigned n_streams,
    unsigned exchanges, int pcapng, FILE *stats)
{
	static struct stream streams[20000];
	struct flows g;
	unsigned i;

	if (n_streams < 1 || n_streams > sizeof(streams) / sizeof(streams[0]))
		fatal("--streams takes 1 to %zu",
		    sizeof(streams) / sizeof(streams[0]));
	memset(&g, 0, sizeof(g));
	g.w = w;
	g.pcapng = pcapng;
	g.t_ns = t0_ns;
	if (pcapng) {
		w_shb(w, 0, 1, -1);
		w_idb(w, 1, 262144, 6, 0, "eth0");
	} else {
		w_pcap_header(w, 1, 262144, 2);
	}
	for (i = 0; i < n_streams; i++)
		stream_new(&g, &streams[i], exchanges);
	while (w->bytes < size) {
		struct stream *s = &streams[rnd() % n_streams];

		if (!stream_step(&g, s))
			stream_new(&g, s, exchanges);
	}
	if (stats != NULL)
		fprintf(stats, "packets %llu streams %llu\n",
		    (unsigned long long)g.packets,
		    (unsigned long long)g.streams);
}
