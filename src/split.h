/* split.h - cutting a capture into chunks at packet boundaries.
 *
 * Every chunk is a capture file of the input's format on its own: a pcap
 * chunk is the input's file header followed by whole records; a pcapng
 * chunk starts with its section's header block and the interface, name
 * resolution and decryption secrets blocks seen so far in that section
 * (docs/formats.md says why), followed by whole blocks. All records and
 * blocks of the input are copied byte for byte and in order, each exactly
 * once. Files are written under a temporary name and renamed when whole. */
#ifndef SHARDCAP_SPLIT_H
#define SHARDCAP_SPLIT_H

#include <signal.h>
#include <sys/types.h>
#include <stdint.h>

#include "capture.h"
#include "digest.h"
#include "error.h"
#include "util.h"

/* Chunk numbers have six digits: NAME-000001.pcap sorts in capture order. */
#define SPLIT_MAX_CHUNKS 999999u
/* Header blocks a section's chunks repeat: at most this many bytes. */
#define SPLIT_MAX_CARRY (8u << 20)

struct split_progress {
	uint64_t done;          /* file bytes read (compressed, if it is) */
	uint64_t total;         /* file size, or 0 when not known */
	size_t chunks;          /* chunks finished */
};

/* How packets are put into chunks (docs/formats.md). */
enum split_layout {
	SPLIT_TIME = 0,         /* in input order, each chunk the next stretch */
	SPLIT_FLOW,             /* each flow (flow.h) whole in one chunk */
};

struct split_options {
	const char *input;      /* path, or "-" for standard input (not for
	                         * the flow layout, which reads it twice) */
	enum split_layout layout;
	const char *dir;        /* where chunks go; created if missing */
	const char *name;       /* chunk name prefix (a valid_name) */
	uint64_t size;          /* largest chunk, unless one packet is larger */
	unsigned parts;         /* non-zero: instead of by size, cut into this
	                         * many chunks of about equal bytes (fewer if
	                         * the input has fewer packets); for cutting a
	                         * chunk, whose size is known */
	enum digest_algo digest; /* of the chunks */
	int force;              /* replace existing chunks of the same name */
	volatile sig_atomic_t *interrupted; /* stop when this becomes non-zero */
	void (*progress)(void *ctx, const struct split_progress *p);
	void *progress_ctx;
};

struct split_chunk {
	char *file;             /* base name, in the output directory */
	uint64_t bytes;
	uint64_t packets;
	int has_time;           /* some packet carried a time stamp */
	struct sc_time first, last; /* of its first and last such packet */
	struct sc_time min, max; /* its earliest and latest time stamps (not
	                         * first and last when out of order) */
	uint8_t digest[DIGEST_MAX_LEN]; /* of the file, split_options.digest */
	/* The flow layout's groups: 0, or its place (1, 2, ...) among the
	 * consecutive chunks that hold one bucket of flows larger than a
	 * chunk (an elephant flow), which a query reads as one stream: chunk
	 * i (from 0) of part p > 0 is in the group that begins at chunk
	 * i + 1 - p. */
	unsigned part;
};

struct split_result {
	enum capture_format format;
	enum source_compression compression;
	struct split_chunk **chunks;
	size_t n_chunks, alloc_chunks;
	uint64_t packets;
	uint64_t input_bytes;   /* capture bytes (after decompression) */
	/* IP flows (flow.h), and those whose packets are in more than one
	 * chunk (none in the flow layout); lower bounds unless flows_exact */
	uint64_t flows, cut_flows;
	int flows_exact;
	/* packets whose time stamp is earlier than one before them in the
	 * input (tshark's io,stat counts such a packet in the interval it
	 * is reading, not its own: zmerge.h) */
	uint64_t backwards;
	int time_digits;        /* fractional digits its time stamps need */
	/* Damage: code != 0 when the input is damaged after its first
	 * header. Everything before damage.offset is in the chunks; the
	 * dropped_bytes from there to the end of the input are not. */
	struct sc_err damage;
	uint64_t dropped_bytes;
};

/* Splits opt->input into chunks in opt->dir. Returns 0 when the chunks are
 * written (check res->damage), or a negative code with e filled in, in
 * which case no chunk of this run is left behind. */
int split_capture(const struct split_options *opt, struct split_result *res,
    struct sc_err *e);
void split_result_release(struct split_result *res);
/* Counts t in *backwards when it is earlier than *latest, the latest time
 * stamp before it, which it then updates (*seen: one was). */
void split_note_order(const struct sc_time *t, struct sc_time *latest,
    int *seen, uint64_t *backwards);

/* The flow layout's splitter (flowsplit.c), which split_capture calls. */
int split_flows(const struct split_options *opt, struct split_result *res,
    struct sc_err *e);
/* For the splitters: creates opt->dir if missing (*made_dir then set),
 * and refuses to replace chunks of opt->name there without opt->force. */
int split_prepare_dir(const struct split_options *opt,
    enum capture_format format, int *made_dir, struct sc_err *e);
/* For the splitters: creates the temporary file of chunk file in opt->dir,
 * .FILE.tmp-XXXXXX, with mode (a chunk is an ordinary file, not a
 * private one); its path in *tmp. Returns the descriptor, or -1 with e
 * filled in. */
int split_open_tmp(const struct split_options *opt, const char *file,
    mode_t mode, char **tmp, struct sc_err *e);
/* After a --force split of n chunks: removes chunks of the same name
 * beyond the new last one, left by an earlier, longer split. */
void split_remove_stale(const struct split_options *opt,
    enum capture_format format, size_t n);
/* "time" or "flow"; and back (-1: neither). */
const char *split_layout_name(enum split_layout layout);
int split_layout_from_name(const char *name);

/* Whether file is a chunk of a split named after chunk's stem, as a cut
 * splits a chunk (or one of a cut of such a chunk): NAME-000005-000001.pcap
 * and NAME-000005-000002-000001.pcap for NAME-000005.pcap. */
int split_is_part(const char *file, const char *chunk);

/* Notes a time stamp of a packet that goes into c (split_chunk's first,
 * last, min and max). */
void split_chunk_time(struct split_chunk *c, const struct sc_time *t);

#endif
