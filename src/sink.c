/* sink.c - a run's results, each chunk's output written whole. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "capture.h"
#include "file.h"
#include "sink.h"
#include "strbuf.h"
#include "banned.h"

void
sink_init(struct sink *sk, int fd, int pcap, int tag)
{
	memset(sk, 0, sizeof(*sk));
	sk->fd = fd;
	sk->pcap = pcap;
	sk->tag = tag;
	strbuf_init(&sk->ng_header);
}

void
sink_release(struct sink *sk)
{
	strbuf_release(&sk->ng_header);
}

/* Writes text output, with a tag before every line when asked. */
static int
emit_text(void *ctx, const char *data, size_t len)
{
	struct sink *sk = ctx;
	int fd = sk->fd;

	if (!sk->tag) {
		if (len > 0)
			sk->at_line_start = data[len - 1] == '\n';
		return file_write_all(fd, data, len);
	}
	while (len > 0) {
		const char *nl = memchr(data, '\n', len);
		size_t n = nl ? (size_t)(nl - data) + 1 : len;

		if (sk->at_line_start) {
			struct strbuf t = STRBUF_INIT;
			int r;

			strbuf_addf(&t, "%s\t%s\t", sk->tag_file, sk->tag_worker);
			r = file_write_all(fd, t.buf, t.len);
			strbuf_release(&t);
			if (r < 0)
				return -1;
		}
		if (file_write_all(fd, data, n) < 0)
			return -1;
		sk->at_line_start = data[n - 1] == '\n';
		data += n;
		len -= n;
	}
	return 0;
}

/* Writes one job's capture output into the merged capture: the first 24
 * bytes (the pcap header, or the start of a pcapng SHB) are held until
 * the format is known; a pcap header is written for the first output
 * only, pcapng sections go through as they are. */
struct pcap_emit {
	struct sink *sk;
	uint8_t head[24];
	size_t held;
	int kind;               /* 0 not known yet, 1 pcap, 2 pcapng */
	int passing;            /* the head is dealt with */
	/* pcapng, block by block: the start of the next block's header,
	 * the bytes left of the current block, the byte order of its
	 * section, and the job's section header while it is read */
	uint8_t blk[12];
	size_t blk_held;
	uint64_t left;
	int big_endian;
	int in_header;
	struct strbuf header;
};

#define NG_SHB_LENGTH_AT 16     /* the SHB's section length, 8 bytes */

/* A job's section header, read whole: left out when it is the header of
 * the section being written (and that section has not grown), written
 * as a new section's otherwise - the section length set to "not
 * given", which stays true as the section grows. */
static int
ng_header_done(struct pcap_emit *pe)
{
	struct sink *sk = pe->sk;
	struct strbuf *h = &pe->header;

	pe->in_header = 0;
	if (h->len >= NG_SHB_LENGTH_AT + 8)
		memset(h->buf + NG_SHB_LENGTH_AT, 0xff, 8);
	if (sk->sections > 0 && !sk->ng_grown && h->len == sk->ng_header.len &&
	    memcmp(h->buf, sk->ng_header.buf, h->len) == 0) {
		strbuf_reset(h);
		return 0;
	}
	if (sk->sections == 1)
		snprintf(sk->why_sections, sizeof(sk->why_sections), "%s",
		    sk->ng_grown ? "the first section got an interface after "
		    "its packets" : "the jobs' section headers differ (the "
		    "tool's version, options or interfaces)");
	sk->sections++;
	sk->ng_grown = 0;
	strbuf_reset(&sk->ng_header);
	strbuf_add(&sk->ng_header, h->buf, h->len);
	strbuf_reset(h);
	return file_write_all(sk->fd, sk->ng_header.buf, sk->ng_header.len);
}

/* Bytes of a job's pcapng output: each block's header read, the block
 * passed on (or kept, in a section header). */
static int
ng_feed(struct pcap_emit *pe, const uint8_t *data, size_t len)
{
	struct sink *sk = pe->sk;
	uint32_t type, blen;
	size_t need, take;
	int r;

	while (len > 0 && !sk->bad) {
		if (pe->left > 0) {
			take = pe->left < len ? (size_t)pe->left : len;
			if (pe->in_header)
				strbuf_add(&pe->header, data, take);
			else if ((r = file_write_all(sk->fd, (const char *)data,
			    take)) != 0)
				return r;
			pe->left -= take;
			data += take;
			len -= take;
			continue;
		}
		/* a block's type and length; an SHB's byte order too (its
		 * type reads the same both ways) */
		need = pe->blk_held >= 4 &&
		    capture_get32(pe->blk, 0) == PCAPNG_SHB ? 12 : 8;
		take = need - pe->blk_held < len ? need - pe->blk_held : len;
		memcpy(pe->blk + pe->blk_held, data, take);
		pe->blk_held += take;
		data += take;
		len -= take;
		if (pe->blk_held < 8 || (pe->blk_held < 12 &&
		    capture_get32(pe->blk, 0) == PCAPNG_SHB))
			continue;
		if (capture_get32(pe->blk, 0) == PCAPNG_SHB) {
			if (capture_get32(pe->blk + 8, 1) == PCAPNG_BOM)
				pe->big_endian = 1;
			else if (capture_get32(pe->blk + 8, 0) == PCAPNG_BOM)
				pe->big_endian = 0;
			else
				goto bad;
		}
		type = capture_get32(pe->blk, pe->big_endian);
		blen = capture_get32(pe->blk + 4, pe->big_endian);
		if (blen < 12 || blen % 4 != 0 || blen > PCAPNG_MAX_BLOCK ||
		    blen < pe->blk_held)
			goto bad;
		if (type == PCAPNG_SHB) {
			if (pe->in_header && (r = ng_header_done(pe)) != 0)
				return r;
			pe->in_header = 1;
		} else if (pe->in_header && type != PCAPNG_IDB) {
			if ((r = ng_header_done(pe)) != 0)
				return r;
		} else if (!pe->in_header && type == PCAPNG_IDB) {
			sk->ng_grown = 1;
		}
		if (pe->in_header)
			strbuf_add(&pe->header, pe->blk, pe->blk_held);
		else if ((r = file_write_all(sk->fd, (const char *)pe->blk,
		    pe->blk_held)) != 0)
			return r;
		pe->left = blen - pe->blk_held;
		pe->blk_held = 0;
	}
	return 0;
bad:
	sk->bad = 1;
	snprintf(sk->msg, sizeof(sk->msg), "a job wrote a pcapng stream with "
	    "a damaged block");
	return 0;
}

/* The end of a job's pcapng output: a section with no packets ends its
 * header; the output must end at a block's end. */
static int
ng_end(struct pcap_emit *pe)
{
	struct sink *sk = pe->sk;

	if (sk->bad)
		return 0;
	if (pe->left > 0 || pe->blk_held > 0) {
		sk->bad = 1;
		snprintf(sk->msg, sizeof(sk->msg), "a job's pcapng output "
		    "ends inside a block");
		return 0;
	}
	return pe->in_header ? ng_header_done(pe) : 0;
}

static int
pcap_settle(struct pcap_emit *pe)
{
	static const uint8_t ng[4] = { 0x0a, 0x0d, 0x0d, 0x0a };
	static const uint8_t magics[4][4] = {
		{ 0xd4, 0xc3, 0xb2, 0xa1 }, { 0xa1, 0xb2, 0xc3, 0xd4 },
		{ 0x4d, 0x3c, 0xb2, 0xa1 }, { 0xa1, 0xb2, 0x3c, 0x4d },
	};
	struct sink *sk = pe->sk;
	size_t i;

	pe->passing = 1;
	if (pe->held == 0)
		return 0;       /* the job wrote nothing */
	pe->kind = pe->held >= 4 && memcmp(pe->head, ng, 4) == 0 ? 2 : 0;
	for (i = 0; i < 4 && pe->kind == 0 && pe->held >= 4; i++)
		if (memcmp(pe->head, magics[i], 4) == 0)
			pe->kind = 1;
	if (pe->kind == 0) {
		/* text, most likely: the tool printed instead of writing */
		char shown[13];
		size_t k, n = pe->held < 12 ? pe->held : 12;

		for (k = 0; k < n; k++)
			shown[k] = pe->head[k] >= 0x20 && pe->head[k] < 0x7f ?
			    (char)pe->head[k] : '.';
		shown[n] = '\0';
		sk->bad = 1;
		snprintf(sk->msg, sizeof(sk->msg), "a job's output is not a "
		    "capture (it begins \"%s\"): --pcap-out wants the command "
		    "to write one to its standard output (tcpdump -w -, tshark "
		    "-w -, editcap ... -)", shown);
		return 0;
	}
	if (sk->pcap_kind == 0)
		sk->pcap_kind = pe->kind;
	if (pe->kind != sk->pcap_kind) {
		sk->bad = 1;
		snprintf(sk->msg, sizeof(sk->msg),
		    "jobs wrote both pcap and pcapng");
		return 0;
	}
	if (pe->kind == 2)
		return ng_feed(pe, pe->head, pe->held);
	if (pe->held < 24) {
		sk->bad = 1;
		snprintf(sk->msg, sizeof(sk->msg),
		    "a job wrote %zu bytes, not a pcap header", pe->held);
		return 0;
	}
	if (sk->pcap_header[0] == 0) {
		memcpy(sk->pcap_header, pe->head, 24);
		return file_write_all(sk->fd, (const char *)pe->head, 24);
	}
	if (memcmp(sk->pcap_header, pe->head, 4) != 0 ||
	    memcmp(sk->pcap_header + 20, pe->head + 20, 4) != 0) {
		sk->bad = 1;
		snprintf(sk->msg, sizeof(sk->msg), "jobs wrote pcap "
		    "files of different byte order, time resolution or link "
		    "type");
	}
	return 0;
}

static int
emit_pcap(void *ctx, const char *data, size_t len)
{
	struct pcap_emit *pe = ctx;
	size_t take;
	int r;

	if (pe->sk->bad)
		return 0;
	if (!pe->passing) {
		take = 24 - pe->held < len ? 24 - pe->held : len;
		memcpy(pe->head + pe->held, data, take);
		pe->held += take;
		data += take;
		len -= take;
		if (pe->held < 24)
			return 0;
		if ((r = pcap_settle(pe)) != 0)
			return r;
	}
	if (pe->sk->bad || len == 0)
		return 0;
	if (pe->kind == 2)
		return ng_feed(pe, (const uint8_t *)data, len);
	return file_write_all(pe->sk->fd, data, len);
}

int
sink_write(struct sink *sk, const char *file, const char *worker,
    struct outbuf *ob)
{
	int r;

	if (sk->pcap) {
		struct pcap_emit pe;

		memset(&pe, 0, sizeof(pe));
		pe.sk = sk;
		strbuf_init(&pe.header);
		r = outbuf_each(ob, emit_pcap, &pe);
		if (r == 0 && !pe.passing)
			r = pcap_settle(&pe);
		if (r == 0 && pe.kind == 2)
			r = ng_end(&pe);
		strbuf_release(&pe.header);
		return r;
	}
	sk->tag_file = file;
	sk->tag_worker = worker;
	sk->at_line_start = 1;
	r = outbuf_each(ob, emit_text, sk);
	/* A last line without its newline gets one, so that the next
	 * job's output never continues it. */
	if (r == 0 && ob->len > 0 && !sk->at_line_start)
		r = file_write_all(sk->fd, "\n", 1);
	return r;
}
