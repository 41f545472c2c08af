/* sink.h - where a run's results go: each chunk's output, held whole
 * until its job ended (outbuf.h), written to the run's output as text -
 * every line tagged with its chunk and worker when asked, a last line
 * without its newline ended - or into one merged capture: pcap outputs
 * with the first one's file header only; pcapng outputs as one section,
 * each job's section header (its SHB and the interface blocks right
 * after it) left out when it is the section's own, byte for byte but
 * for the section length - else the job's section begins a new one. */
#ifndef SHARDCAP_SINK_H
#define SHARDCAP_SINK_H

#include <stdint.h>

#include "outbuf.h"
#include "strbuf.h"

struct sink {
	int fd;                 /* the run's output */
	int pcap;               /* merge the outputs as one capture */
	int tag;                /* each line after "FILE<tab>WORKER<tab>" */
	/* pcap merging */
	int pcap_kind;          /* 0 none yet, 1 pcap, 2 pcapng */
	uint8_t pcap_header[24];
	int bad;                /* outputs that cannot be merged: msg says */
	char msg[200];
	/* pcapng: the header of the section being written (SHB, with its
	 * length unspecified, and interface blocks), and whether it got an
	 * interface block after packets (then no section joins it: its
	 * numbering of interfaces is no longer the header's) */
	struct strbuf ng_header;
	int ng_grown;
	size_t sections;        /* pcapng sections written */
	char why_sections[160]; /* why the second was not merged */
	/* the output being written: its tag, and whether the last byte
	 * written ended a line */
	const char *tag_file, *tag_worker;
	int at_line_start;
};

void sink_init(struct sink *sk, int fd, int pcap, int tag);
void sink_release(struct sink *sk);
/* Writes ob, the output of chunk file run on worker. Returns 0, or -1
 * (errno set) when a write failed. Merging, an output that cannot join
 * the others' (pcap with pcapng, another link type, byte order or time
 * resolution, less than a file header) sets bad and msg, and nothing
 * more is written. */
int sink_write(struct sink *sk, const char *file, const char *worker,
    struct outbuf *ob);

#endif
