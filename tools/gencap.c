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

#define MAX_FRAME 70000

/* --- random numbers ------------------------------------------------- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t
rnd(void)
{
	/* splitmix64 */
	uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static uint32_t
rnd_range(uint32_t lo, uint32_t hi)
{
	return lo + (uint32_t)(rnd() % ((uint64_t)hi - lo + 1));
}

static void
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

struct buf {
	uint8_t *p;
	size_t len, cap;
};

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

static void
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

static void
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

static void
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

static size_t
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

static size_t
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

static void
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
static size_t
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

static uint16_t
random_qtype(void)
{
	static const uint16_t types[] = { 1, 1, 1, 1, 28, 28, 5, 15, 16 };

	return types[rnd() % (sizeof(types) / sizeof(types[0]))];
}

/* Link-layer framing of an IPv4 packet. */
static size_t
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

static const uint8_t *
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
static size_t
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

static void
w_raw(struct writer *w, const void *p, size_t len)
{
	if (len > 0 && fwrite(p, 1, len, w->f) != len)
		fatal("cannot write: %s", strerror(errno));
	w->bytes += len;
}

static void
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

static void
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
static void
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

static void
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

static void
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

static void
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

static void
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

static void
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

static void
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

static void
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

static void
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

static void
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

static void
w_custom(struct writer *w, uint32_t type, const char *text)
{
	w_block_start(w, type);
	buf_u32(&w->b, 32473, w->be);           /* example PEN (RFC 5612) */
	buf_add(&w->b, text, strlen(text));
	w_block_finish(w);
}

static void
w_unknown(struct writer *w, uint32_t type, size_t len)
{
	size_t i;

	w_block_start(w, type);
	for (i = 0; i < len; i++)
		buf_u8(&w->b, (uint8_t)rnd());
	w_block_finish(w);
}

/* --- variants -------------------------------------------------------- */

struct expect {
	int exit_status;        /* of shardcap split / inspect */
	uint64_t offset;        /* of the damage */
	uint64_t packets;       /* complete packets before it (or all) */
	int has_offset;
};

static uint64_t t0_ns = 1431388800ull * 1000000000ull; /* 2015-05-12 UTC */

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
	size_t len = frame(out, 1, 0, ip, iplen, to_server);

	if (m->pcapng)
		w_epb(m->w, 0, m->t_ns, out, (uint32_t)len, (uint32_t)len, NULL);
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

static void
mixed_capture(struct writer *w, uint64_t size, int pcapng, FILE *stats)
{
	struct mixed m;
	uint64_t region = 0;
	unsigned i;

	memset(&m, 0, sizeof(m));
	m.w = w;
	m.pcapng = pcapng;
	m.t_ns = t0_ns;
	if (pcapng) {
		w_shb(w, 0, 1, -1);
		w_idb(w, 1, 262144, 6, 0, "eth0");
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
		/* A DNS transaction is placed whenever the bytes written in
		 * this region pass the next of want evenly spaced marks. */
		while (w->bytes < region_end && w->bytes < size) {
			uint64_t into = w->bytes - region * REGION_BYTES;

			if (done < want && into >= done * REGION_BYTES / want +
			    (uint64_t)rnd_range(0, 4096)) {
				dns_transaction(&m);
				done++;
			} else if (rnd() % 3 != 0) {
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
	    "       gencap mixed --size SIZE [--pcapng] [-o FILE] [-s SEED] "
	    "[--stats]\n"
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
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = NULL, *variant;
	uint64_t size = 0;
	int c, n = 200, pcapng = 0, expect = 0, stats = 0, ok = 0;
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
		mixed_capture(&w, size, pcapng, stats ? stderr : NULL);
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
