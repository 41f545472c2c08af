/* inspect.h - describing a capture in one pass: format, sections,
 * interfaces, packets, time range and damage. */
#ifndef SHARDCAP_INSPECT_H
#define SHARDCAP_INSPECT_H

#include <signal.h>
#include <stdint.h>

#include "capture.h"
#include "error.h"
#include "source.h"
#include "util.h"

struct inspect_result {
	enum source_compression compression;
	uint64_t file_size;     /* on disk, when known */
	uint64_t stream_bytes;  /* capture bytes read (after decompression) */
	struct capture cap;     /* sections, interfaces, per-interface counts */
	uint32_t pcap_magic;    /* pcap only */

	uint64_t packets;
	uint64_t captured_bytes; /* sum of captured lengths */
	uint64_t wire_bytes;    /* sum of original lengths */
	uint64_t untimed;       /* packets without a time stamp (SPB) */
	int has_time;
	struct sc_time first, last;     /* in capture order */
	struct sc_time earliest, latest;
	uint64_t out_of_order;  /* packets earlier than the one before */

	/* pcapng blocks by type */
	uint64_t shb, idb, epb, spb, pb, nrb, isb, dsb, custom, unknown;

	struct sc_err damage;   /* code != 0: damaged after the first header */
	uint64_t dropped_bytes;
};

/* Reads path to its end. Returns 0 (check res->damage) or a negative code
 * with e filled in; res needs inspect_result_release either way. */
int inspect_capture(const char *path, volatile sig_atomic_t *interrupted, struct inspect_result *res,
    struct sc_err *e);
void inspect_result_release(struct inspect_result *res);

#endif
