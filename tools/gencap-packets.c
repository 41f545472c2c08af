/* gencap-packets.c - gencap's random numbers, byte buffers, packets
 * (Ethernet/IPv4/UDP/TCP with valid checksums, DNS messages) and the
 * pcap and pcapng writers. */
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

/* --- random numbers ------------------------------------------------- */

/* the first packet's time: 2015-05-12 00:00:00 UTC */
const uint64_t t0_ns = 1431388800ull * 1000000000ull;

uint64_t rng_state = 0x9E3779B97F4A7C15ull;

uint64_t
rnd(void)
{
	/* splitmix64 */
	uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

uint32_t
rnd_range(uint32_t lo, uint32_t hi)
{
	return lo + (uint32_t)(rnd() % ((uint64_t)hi - lo + 1));
}

void
fatal(const char *fmt, ...)
{
	va_list ap;

	fputs("gencap: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* --- byte buffers ---------------------------------------------------- */

static void
buf_room(struct buf *b, size_t n)
{
	if (b->len + n <= b->cap)
		return;
	b->cap = (b->len + n) * 2;
	b->p = realloc(b->p, b->cap);
	if (b->p == NULL)
		fatal("out of memory");
}

void
buf_add(struct buf *b, const void *p, size_t n)
{
	buf_room(b, n);
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void
buf_u8(struct buf *b, uint8_t v)
{
	buf_add(b, &v, 1);
}

static void
buf_u16(struct buf *b, uint16_t v, int be)
{
	uint8_t x[2];

	if (be) {
		x[0] = (uint8_t)(v >> 8);
		x[1] = (uint8_t)v;
	} else {
		x[0] = (uint8_t)v;
		x[1] = (uint8_t)(v >> 8);
	}
	buf_add(b, x, 2);
}

void
buf_u32(struct buf *b, uint32_t v, int be)
{
	if (be) {
		buf_u16(b, (uint16_t)(v >> 16), 1);
		buf_u16(b, (uint16_t)v, 1);
	} else {
		buf_u16(b, (uint16_t)v, 0);
		buf_u16(b, (uint16_t)(v >> 16), 0);
	}
}

static void
buf_u64(struct buf *b, uint64_t v, int be)
{
	if (be) {
		buf_u32(b, (uint32_t)(v >> 32), 1);
		buf_u32(b, (uint32_t)v, 1);
	} else {
		buf_u32(b, (uint32_t)v, 0);
		buf_u32(b, (uint32_t)(v >> 32), 0);
	}
}

static void
buf_pad4(struct buf *b)
{
	while (b->len % 4)
		buf_u8(b, 0);
}

void
put16be(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32be(uint8_t *p, uint32_t v)
{
	put16be(p, (uint16_t)(v >> 16));
	put16be(p + 2, (uint16_t)v);
}

/* --- packets --------------------------------------------------------- */

static const char *words[] = {
	"alpha", "bravo", "cdn", "mail", "www", "api", "static", "img",
	"login", "news", "shop", "video", "update", "time", "ntp", "auth",
	"blog", "docs", "git", "wiki", "cloud", "edge", "files", "media",
	"search", "maps", "game", "store", "chat", "push", "track", "ads",
	"metrics", "status", "portal", "secure", "vpn", "proxy", "dns", "mx",
	"harbor", "falcon", "orchid", "quartz", "meadow", "summit", "tundra",
	"willow", "zephyr", "ember", "glacier", "lotus", "nimbus", "onyx",
};
static const char *domains[] = {
	"example", "acme", "contoso", "initech", "globex", "umbrella",
	"hooli", "vandelay", "stark", "wayne", "tyrell", "cyberdyne",
};
static const char *tlds[] = { "com", "net", "org", "io", "de", "co.uk" };

static uint16_t
csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint32_t
csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)(p[len - 1] << 8);
	return sum;
}

/* Writes an IPv4 header and the transport checksum for the len bytes of
 * transport header + payload already at ip + 20. Returns the IP length. */
static size_t
finish_ipv4(uint8_t *ip, uint8_t proto, uint32_t src, uint32_t dst,
    size_t len, uint16_t id)
{
	uint8_t pseudo[12];
	uint32_t sum;
	size_t total = 20 + len;
	int cksum_off = proto == 6 ? 16 : 6;

	ip[0] = 0x45;
	ip[1] = 0;
	put16be(ip + 2, (uint16_t)total);
	put16be(ip + 4, id);
	put16be(ip + 6, 0x4000);        /* don't fragment */
	ip[8] = 64;
	ip[9] = proto;
	put16be(ip + 10, 0);
	put32be(ip + 12, src);
	put32be(ip + 16, dst);
	put16be(ip + 10, csum_fold(csum_add(0, ip, 20)));

	put32be(pseudo, src);
	put32be(pseudo + 4, dst);
	pseudo[8] = 0;
	pseudo[9] = proto;
	put16be(pseudo + 10, (uint16_t)len);
	put16be(ip + 20 + cksum_off, 0);
	sum = csum_add(0, pseudo, 12);
	sum = csum_add(sum, ip + 20, len);
	put16be(ip + 20 + cksum_off, csum_fold(sum) ? csum_fold(sum) : 0xffff);
	return total;
}

size_t
udp_packet(uint8_t *ip, uint32_t src, uint32_t dst, uint16_t sport,
    uint16_t dport, const uint8_t *payload, size_t len, uint16_t id)
{
	uint8_t *u = ip + 20;

	put16be(u, sport);
	put16be(u + 2, dport);
	put16be(u + 4, (uint16_t)(8 + len));
	put16be(u + 6, 0);
	memcpy(u + 8, payload, len);
	return finish_ipv4(ip, 17, src, dst, 8 + len, id);
}

size_t
tcp_packet(uint8_t *ip, uint32_t src, uint32_t dst, uint16_t sport,
    uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
    const uint8_t *payload, size_t len, uint16_t id)
{
	uint8_t *t = ip + 20;

	put16be(t, sport);
	put16be(t + 2, dport);
	put32be(t + 4, seq);
	put32be(t + 8, ack);
	t[12] = 5 << 4;
	t[13] = flags;
	put16be(t + 14, 65535);
	put16be(t + 16, 0);
	put16be(t + 18, 0);
	if (len > 0)
		memcpy(t + 20, payload, len);
	return finish_ipv4(ip, 6, src, dst, 20 + len, id);
}

/* A DNS name in wire format, uncompressed. */
static size_t
dns_name(uint8_t *p, const char *name)
{
	size_t n = 0;

	while (*name) {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);

		p[n++] = (uint8_t)l;
		memcpy(p + n, name, l);
		n += l;
		name += l + (dot ? 1 : 0);
	}
	p[n++] = 0;
	return n;
}

void
random_name(char *out, size_t len)
{
	const char *tld = tlds[rnd() % (sizeof(tlds) / sizeof(tlds[0]))];
	const char *dom = domains[rnd() % (sizeof(domains) / sizeof(domains[0]))];
	const char *w = words[rnd() % (sizeof(words) / sizeof(words[0]))];

	if (rnd() % 4 == 0)
		snprintf(out, len, "%s%u.%s.%s", w, rnd_range(1, 99), dom, tld);
	else
		snprintf(out, len, "%s.%s.%s", w, dom, tld);
}

/* Writes a DNS query (or, with response set, its answer) into p. */
size_t
dns_message(uint8_t *p, uint16_t id, const char *name, uint16_t qtype,
    int response, int rcode)
{
	size_t n = 12, i, answers = 0;

	memset(p, 0, 12);
	put16be(p, id);
	put16be(p + 2, response ? (uint16_t)(0x8180 | rcode) : 0x0100);
	put16be(p + 4, 1);
	n += dns_name(p + n, name);
	put16be(p + n, qtype);
	put16be(p + n + 2, 1);
	n += 4;
	if (!response || rcode != 0)
		goto done;
	if (qtype == 5 || (qtype == 1 && rnd() % 3 == 0)) {
		/* CNAME to a name under the same domain, then its address */
		char target[96];
		size_t tl, target_off = n + 12;

		snprintf(target, sizeof(target), "edge%u.%s",
		    rnd_range(1, 40), strchr(name, '.') + 1);
		put16be(p + n, 0xc00c);
		put16be(p + n + 2, 5);
		put16be(p + n + 4, 1);
		put32be(p + n + 6, rnd_range(60, 3600));
		tl = dns_name(p + n + 12, target);
		put16be(p + n + 10, (uint16_t)tl);
		n += 12 + tl;
		answers++;
		if (qtype == 5)
			goto done;
		/* the A record for the CNAME target */
		put16be(p + n, (uint16_t)(0xc000 | target_off));
		put16be(p + n + 2, 1);
		put16be(p + n + 4, 1);
		put32be(p + n + 6, rnd_range(30, 300));
		put16be(p + n + 10, 4);
		put32be(p + n + 12, 0x5db8d800u + rnd_range(1, 250));
		n += 16;
		answers++;
		goto done;
	}
	for (i = 0; i < (qtype == 15 ? 2u : rnd_range(1, 4)); i++) {
		put16be(p + n, 0xc00c);
		put16be(p + n + 2, qtype);
		put16be(p + n + 4, 1);
		put32be(p + n + 6, rnd_range(30, 86400));
		n += 10;
		switch (qtype) {
		case 1:
			put16be(p + n, 4);
			put32be(p + n + 2, 0x68100000u | (uint32_t)(rnd() & 0xffff));
			n += 6;
			break;
		case 28:
			put16be(p + n, 16);
			put32be(p + n + 2, 0x2a001450u);
			put32be(p + n + 6, 0x40010800u);
			put32be(p + n + 10, 0);
			put32be(p + n + 14, (uint32_t)rnd());
			n += 18;
			break;
		case 15: {
			char mx[64];
			size_t ml;

			snprintf(mx, sizeof(mx), "mx%zu", i + 1);
			/* preference, then "mxN" + pointer to the qname */
			ml = strlen(mx);
			put16be(p + n, (uint16_t)(2 + 1 + ml + 2));
			put16be(p + n + 2, (uint16_t)(10 * (i + 1)));
			p[n + 4] = (uint8_t)ml;
			memcpy(p + n + 5, mx, ml);
			put16be(p + n + 5 + ml, 0xc00c);
			n += 2 + 2 + 1 + ml + 2;
			break;
		}
		case 16: {
			char txt[80];
			size_t tl;

			snprintf(txt, sizeof(txt), "v=spf1 include:_spf.%s ~all",
			    strchr(name, '.') + 1);
			tl = strlen(txt);
			put16be(p + n, (uint16_t)(tl + 1));
			p[n + 2] = (uint8_t)tl;
			memcpy(p + n + 3, txt, tl);
			n += 3 + tl;
			break;
		}
		}
		answers++;
	}
done:
	put16be(p + 6, (uint16_t)answers);
	return n;
}

uint16_t
random_qtype(void)
{
	static const uint16_t types[] = { 1, 1, 1, 1, 28, 28, 5, 15, 16 };

	return types[rnd() % (sizeof(types) / sizeof(types[0]))];
}

/* Link-layer framing of an IPv4 packet. */
size_t
frame(uint8_t *out, uint32_t linktype, int file_be, const uint8_t *ip,
    size_t len, int to_server)
{
	static const uint8_t mac_a[6] = { 0x00, 0x1b, 0x21, 0x3a, 0x4c, 0x5e };
	static const uint8_t mac_b[6] = { 0x3c, 0xfd, 0xfe, 0x12, 0x34, 0x56 };
	size_t h = 0;

	switch (linktype) {
	case 1: /* Ethernet */
		memcpy(out, to_server ? mac_b : mac_a, 6);
		memcpy(out + 6, to_server ? mac_a : mac_b, 6);
		put16be(out + 12, 0x0800);
		h = 14;
		break;
	case 113: /* Linux cooked */
		put16be(out, to_server ? 4 : 0);
		put16be(out + 2, 1);
		put16be(out + 4, 6);
		memcpy(out + 6, to_server ? mac_a : mac_b, 6);
		out[12] = out[13] = 0;
		put16be(out + 14, 0x0800);
		h = 16;
		break;
	case 0: /* BSD loopback: AF_INET in the writer's byte order */
		if (file_be)
			put32be(out, 2);
		else {
			out[0] = 2;
			out[1] = out[2] = out[3] = 0;
		}
		h = 4;
		break;
	default: /* RAW (101), IPV4 (228) */
		h = 0;
	}
	memcpy(out + h, ip, len);
	return h + len;
}

const uint8_t *
payload_bytes(size_t len)
{
	static uint8_t corpus[65536 + MAX_FRAME];
	static int ready;
	size_t i;

	if (!ready) {
		/* Text-like bytes: words, so that compression has work. */
		size_t n = 0;

		while (n < sizeof(corpus) - 16) {
			const char *w = words[rnd() % (sizeof(words) /
			    sizeof(words[0]))];
			size_t l = strlen(w);

			memcpy(corpus + n, w, l);
			n += l;
			corpus[n++] = (uint8_t)(rnd() % 5 == 0 ? '\n' : ' ');
			/* digits, never a byte a protocol heuristic could
			 * take for a binary header */
			if (rnd() % 7 == 0)
				for (i = 0; i < 8 && n < sizeof(corpus) - 16; i++)
					corpus[n++] = (uint8_t)('0' + rnd() % 10);
		}
		ready = 1;
	}
	(void)len; /* the corpus has room for any frame after any offset */
	return corpus + rnd() % 65536;
}

/* Next packet of the variant traffic, framed for linktype. */
size_t
next_packet(struct traffic *tr, uint32_t linktype, int file_be, uint8_t *out,
    size_t max_payload)
{
	uint8_t ip[MAX_FRAME], msg[1024];
	size_t iplen, n;

	tr->t_ns += rnd_range(1000, 900000);
	if (tr->dns_pending) {
		n = dns_message(msg, tr->dns_id, tr->dns_name, tr->dns_type, 1,
		    rnd() % 10 == 0 ? 3 : 0);
		iplen = udp_packet(ip, 0x0a000035u, tr->client, 53,
		    tr->dns_port, msg, n, tr->ip_id++);
		tr->dns_pending = 0;
		return frame(out, linktype, file_be, ip, iplen, 0);
	}
	if (rnd() % 3 == 0) {
		tr->client = 0x0a000100u + rnd_range(2, 200);
		tr->dns_id = (uint16_t)rnd();
		tr->dns_type = random_qtype();
		tr->dns_port = (uint16_t)rnd_range(1024, 65000);
		random_name(tr->dns_name, sizeof(tr->dns_name));
		n = dns_message(msg, tr->dns_id, tr->dns_name, tr->dns_type, 0, 0);
		iplen = udp_packet(ip, tr->client, 0x0a000035u, tr->dns_port,
		    53, msg, n, tr->ip_id++);
		tr->dns_pending = 1;
		return frame(out, linktype, file_be, ip, iplen, 1);
	}
	n = rnd_range(0, (uint32_t)max_payload);
	iplen = tcp_packet(ip, 0xc0a80a02u, 0x0a000207u, 49152, 41000, tr->seq,
	    tr->ack, 0x18, payload_bytes(n), n, tr->ip_id++);
	tr->seq += (uint32_t)n;
	return frame(out, linktype, file_be, ip, iplen, 1);
}

/* --- writers --------------------------------------------------------- */

void
w_raw(struct writer *w, const void *p, size_t len)
{
	if (len > 0 && fwrite(p, 1, len, w->f) != len)
		fatal("cannot write: %s", strerror(errno));
	w->bytes += len;
}

void
w_pcap_header(struct writer *w, uint32_t linktype, uint32_t snaplen,
    uint16_t major)
{
	struct buf *b = &w->b;
	uint32_t magic = w->pcap_kuz ? 0xa1b2cd34u :
	    w->pcap_nsec ? 0xa1b23c4du : 0xa1b2c3d4u;

	b->len = 0;
	buf_u32(b, magic, w->be);
	buf_u16(b, major, w->be);
	buf_u16(b, 4, w->be);
	buf_u32(b, 0, w->be);
	buf_u32(b, 0, w->be);
	buf_u32(b, snaplen, w->be);
	buf_u32(b, linktype, w->be);
	w->ifs[0].linktype = linktype;
	w->ifs[0].snaplen = snaplen;
	w->n_ifs = 1;
	w_raw(w, b->p, b->len);
}

void
w_pcap_record(struct writer *w, uint64_t t_ns, const uint8_t *data,
    uint32_t caplen, uint32_t origlen)
{
	struct buf *b = &w->b;

	b->len = 0;
	buf_u32(b, (uint32_t)(t_ns / 1000000000u), w->be);
	buf_u32(b, (uint32_t)(w->pcap_nsec ? t_ns % 1000000000u :
	    t_ns % 1000000000u / 1000u), w->be);
	buf_u32(b, caplen, w->be);
	buf_u32(b, origlen, w->be);
	if (w->pcap_kuz) {
		buf_u32(b, 2, w->be);           /* ifindex */
		buf_u16(b, 0x0800, w->be);      /* protocol */
		buf_u8(b, 0);                   /* packet type */
		buf_u8(b, 0);
	}
	w_raw(w, b->p, b->len);
	w_raw(w, data, caplen);
}

/* Ends the block being built in w->b (type already written, length
 * placeholder at 4) and writes it. */
void
w_block_finish(struct writer *w)
{
	struct buf *b = &w->b;
	uint32_t len;

	buf_pad4(b);
	len = (uint32_t)b->len + 4;
	buf_u32(b, len, w->be);
	/* the length after the type, now that it is known */
	if (w->be) {
		put32be(b->p + 4, len);
	} else {
		b->p[4] = (uint8_t)len;
		b->p[5] = (uint8_t)(len >> 8);
		b->p[6] = (uint8_t)(len >> 16);
		b->p[7] = (uint8_t)(len >> 24);
	}
	w_raw(w, b->p, b->len);
}

void
w_block_start(struct writer *w, uint32_t type)
{
	w->b.len = 0;
	buf_u32(&w->b, type, w->be);
	buf_u32(&w->b, 0, w->be);
}

static void
opt_add(struct buf *b, uint16_t code, const void *p, uint16_t len, int be)
{
	buf_u16(b, code, be);
	buf_u16(b, len, be);
	buf_add(b, p, len);
	buf_pad4(b);
}

static void
opt_str(struct buf *b, uint16_t code, const char *s, int be)
{
	opt_add(b, code, s, (uint16_t)strlen(s), be);
}

static void
opt_end(struct buf *b, int be)
{
	buf_u16(b, 0, be);
	buf_u16(b, 0, be);
}

void
w_shb(struct writer *w, int be, uint16_t major, int64_t section_len)
{
	w->be = be;
	w->n_ifs = 0;
	w_block_start(w, 0x0A0D0D0Au);
	buf_u32(&w->b, 0x1A2B3C4Du, be);
	buf_u16(&w->b, major, be);
	buf_u16(&w->b, 0, be);
	buf_u64(&w->b, (uint64_t)section_len, be);
	opt_str(&w->b, 4, "gencap (shardcap test generator)", be);
	opt_end(&w->b, be);
	w_block_finish(w);
}

void
w_idb(struct writer *w, uint32_t linktype, uint32_t snaplen, uint8_t tsresol,
    int64_t tsoffset, const char *name)
{
	struct buf *b = &w->b;
	struct iface *ifc = &w->ifs[w->n_ifs++];

	ifc->linktype = linktype;
	ifc->snaplen = snaplen;
	ifc->tsresol = tsresol;
	ifc->tsoffset = tsoffset;
	w_block_start(w, 1);
	buf_u16(b, (uint16_t)linktype, w->be);
	buf_u16(b, 0, w->be);
	buf_u32(b, snaplen, w->be);
	if (name != NULL)
		opt_str(b, 2, name, w->be);
	if (tsresol != 6)
		opt_add(b, 9, &tsresol, 1, w->be);
	if (tsoffset != 0) {
		struct buf t = { NULL, 0, 0 };

		buf_u64(&t, (uint64_t)tsoffset, w->be);
		opt_add(b, 14, t.p, 8, w->be);
		free(t.p);
	}
	if (name != NULL || tsresol != 6 || tsoffset != 0)
		opt_end(b, w->be);
	w_block_finish(w);
}

static uint64_t
units_of(const struct iface *ifc, uint64_t t_ns)
{
	unsigned __int128 ns = t_ns - (uint64_t)(ifc->tsoffset * 1000000000LL);
	unsigned __int128 per = 1;
	unsigned i;

	if (ifc->tsresol & 0x80)
		return (uint64_t)((ns << (ifc->tsresol & 0x7f)) / 1000000000u);
	for (i = 0; i < ifc->tsresol; i++)
		per *= 10;
	return (uint64_t)(ns * per / 1000000000u);
}

void
w_epb(struct writer *w, uint32_t iface, uint64_t t_ns, const uint8_t *data,
    uint32_t caplen, uint32_t origlen, const char *comment)
{
	struct buf *b = &w->b;
	uint64_t ts = units_of(&w->ifs[iface], t_ns);

	w_block_start(w, 6);
	buf_u32(b, iface, w->be);
	buf_u32(b, (uint32_t)(ts >> 32), w->be);
	buf_u32(b, (uint32_t)ts, w->be);
	buf_u32(b, caplen, w->be);
	buf_u32(b, origlen, w->be);
	buf_add(b, data, caplen);
	buf_pad4(b);
	if (comment != NULL) {
		opt_str(b, 1, comment, w->be);
		opt_end(b, w->be);
	}
	w_block_finish(w);
}

void
w_pb(struct writer *w, uint16_t iface, uint64_t t_ns, const uint8_t *data,
    uint32_t caplen, uint32_t origlen)
{
	struct buf *b = &w->b;
	uint64_t ts = units_of(&w->ifs[iface], t_ns);

	w_block_start(w, 2);
	buf_u16(b, iface, w->be);
	buf_u16(b, 0, w->be);
	buf_u32(b, (uint32_t)(ts >> 32), w->be);
	buf_u32(b, (uint32_t)ts, w->be);
	buf_u32(b, caplen, w->be);
	buf_u32(b, origlen, w->be);
	buf_add(b, data, caplen);
	w_block_finish(w);
}

void
w_spb(struct writer *w, const uint8_t *data, uint32_t origlen)
{
	uint32_t caplen = origlen;

	if (w->ifs[0].snaplen != 0 && caplen > w->ifs[0].snaplen)
		caplen = w->ifs[0].snaplen;
	w_block_start(w, 3);
	buf_u32(&w->b, origlen, w->be);
	buf_add(&w->b, data, caplen);
	w_block_finish(w);
}

void
w_nrb(struct writer *w, int n)
{
	struct buf *b = &w->b;
	int i;

	w_block_start(w, 4);
	for (i = 0; i < n; i++) {
		char name[96];
		uint8_t rec[128];
		size_t l;

		random_name(name, sizeof(name));
		l = strlen(name) + 1;
		put32be(rec, 0x0a000100u + (uint32_t)rnd_range(2, 200));
		memcpy(rec + 4, name, l);
		buf_u16(b, 1, w->be);           /* nrb_record_ipv4 */
		buf_u16(b, (uint16_t)(4 + l), w->be);
		buf_add(b, rec, 4 + l);
		buf_pad4(b);
	}
	buf_u16(b, 0, w->be);                   /* nrb_record_end */
	buf_u16(b, 0, w->be);
	w_block_finish(w);
}

void
w_isb(struct writer *w, uint32_t iface, uint64_t t_ns, uint64_t received)
{
	struct buf *b = &w->b;
	struct buf v = { NULL, 0, 0 };
	uint64_t ts = units_of(&w->ifs[iface], t_ns);

	w_block_start(w, 5);
	buf_u32(b, iface, w->be);
	buf_u32(b, (uint32_t)(ts >> 32), w->be);
	buf_u32(b, (uint32_t)ts, w->be);
	buf_u64(&v, received, w->be);
	opt_add(b, 4, v.p, 8, w->be);           /* isb_ifrecv */
	opt_end(b, w->be);
	free(v.p);
	w_block_finish(w);
}

void
w_dsb(struct writer *w, int n)
{
	struct buf *b = &w->b;
	struct buf s = { NULL, 0, 0 };
	char line[200];
	int i, j;

	for (i = 0; i < n; i++) {
		int l = snprintf(line, sizeof(line), "CLIENT_RANDOM ");

		for (j = 0; j < 32; j++)
			l += snprintf(line + l, sizeof(line) - (size_t)l, "%02x",
			    (unsigned)(rnd() & 0xff));
		l += snprintf(line + l, sizeof(line) - (size_t)l, " ");
		for (j = 0; j < 48 && l < (int)sizeof(line) - 3; j++)
			l += snprintf(line + l, sizeof(line) - (size_t)l, "%01x",
			    (unsigned)(rnd() & 0xf));
		line[l++] = '\n';
		buf_add(&s, line, (size_t)l);
	}
	w_block_start(w, 0x0A);
	buf_u32(b, 0x544c534bu, w->be);         /* TLS key log */
	buf_u32(b, (uint32_t)s.len, w->be);
	buf_add(b, s.p, s.len);
	w_block_finish(w);
	free(s.p);
}

void
w_custom(struct writer *w, uint32_t type, const char *text)
{
	w_block_start(w, type);
	buf_u32(&w->b, 32473, w->be);           /* example PEN (RFC 5612) */
	buf_add(&w->b, text, strlen(text));
	w_block_finish(w);
}

void
w_unknown(struct writer *w, uint32_t type, size_t len)
{
	size_t i;

	w_block_start(w, type);
	for (i = 0; i < len; i++)
		buf_u8(&w->b, (uint8_t)rnd());
	w_block_finish(w);
}
