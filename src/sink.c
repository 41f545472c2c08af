/* sink.c - a run's results, each chunk's output written whole. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

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
};

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
		return file_write_all(sk->fd, (const char *)pe->head,
		    pe->held);
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
		r = outbuf_each(ob, emit_pcap, &pe);
		if (r == 0 && !pe.passing)
			r = pcap_settle(&pe);
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
