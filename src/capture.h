/* capture.h - reading pcap and pcapng captures record by record.
 *
 * The reader walks the records (pcap) or blocks (pcapng) of a source and
 * says what each one is; it never copies packet data. Every record is handed
 * out with its exact bytes as they stand in the input, so a writer can copy
 * them unchanged. The reader knows the formats, not what to do with them:
 * no policy, no printing. */
#ifndef SHARDCAP_CAPTURE_H
#define SHARDCAP_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "source.h"
#include "util.h"

enum capture_format {
	CAPTURE_PCAP = 1,
	CAPTURE_PCAPNG = 2,
};

enum capture_rec_kind {
	/* pcap file header or pcapng Section Header Block: starts a section
	 * (a pcap file is one section). */
	REC_SECTION,
	/* pcapng Interface Description Block. */
	REC_INTERFACE,
	/* pcapng blocks that later packets need and that a file made of a
	 * part of the section must therefore repeat: Decryption Secrets and
	 * Name Resolution Blocks. */
	REC_CARRY,
	/* A packet: pcap record, pcapng EPB, SPB or obsolete PB. */
	REC_PACKET,
	/* Any other block (statistics, custom, unknown), copied as it is. */
	REC_OTHER,
};

/* pcapng block types */
#define PCAPNG_SHB 0x0A0D0D0Au
#define PCAPNG_IDB 0x00000001u
#define PCAPNG_PB 0x00000002u
#define PCAPNG_SPB 0x00000003u
#define PCAPNG_NRB 0x00000004u
#define PCAPNG_ISB 0x00000005u
#define PCAPNG_EPB 0x00000006u
#define PCAPNG_DSB 0x0000000Au
#define PCAPNG_CB_COPY 0x00000BADu
#define PCAPNG_CB_NOCOPY 0x40000BADu

/* The SHB's byte-order magic, as the section's byte order writes it. */
#define PCAPNG_BOM 0x1A2B3C4Du

/* pcapng blocks larger than this are taken as damage: libpcap and
 * Wireshark refuse them too for every common link type. */
#define PCAPNG_MAX_BLOCK (16u << 20)

/* The 32-bit number at p, in the byte order given. */
static inline uint32_t
capture_get32(const uint8_t *p, int big_endian)
{
	return big_endian
	    ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]
	    : (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

struct capture_interface {
	uint32_t linktype;
	uint32_t snaplen;
	uint8_t tsresol;        /* if_tsresol as in the file (6 = 10^-6 s) */
	int64_t tsoffset;       /* if_tsoffset, seconds */
	char *name;             /* if_name, or NULL */
	uint64_t packets;       /* packets seen on it so far */
};

struct capture_section {
	uint64_t offset;        /* where its header starts */
	int big_endian;
	uint16_t major, minor;
	size_t first_interface; /* index into capture.interfaces */
	size_t n_interfaces;
};

struct capture_rec {
	enum capture_rec_kind kind;
	uint32_t block_type;    /* pcapng block type; 0 for pcap */
	uint64_t offset;        /* stream offset of the record's first byte */
	size_t len;             /* record length, headers included */
	const uint8_t *data;    /* the len bytes as in the input; valid until
				   the next capture_next */
	/* REC_SECTION: the bytes a file starting this section must begin
	 * with - the pcap header, or the SHB with its section length set to
	 * "unknown" (a part of a section cannot keep the whole's length).
	 * Owned by the reader; valid until the next section. */
	const uint8_t *header;
	size_t header_len;
	/* REC_PACKET */
	uint32_t interface;     /* index within its section */
	const uint8_t *packet;  /* its caplen captured bytes, within data */
	uint32_t caplen;
	uint32_t origlen;
	int has_time;           /* SPBs carry no time stamp */
	struct sc_time time;
	uint32_t linktype;
};

struct capture {
	struct source *src;
	enum capture_format format;
	int big_endian;         /* current section is big-endian */
	int started;            /* the first section header has been read */

	/* pcap */
	uint32_t pcap_magic;
	int pcap_nsec;
	size_t pcap_rec_hdr;    /* 16, or 24 for Kuznetzov's patched format */
	uint32_t pcap_max_caplen;
	uint8_t pcap_header[24];

	/* pcapng */
	uint8_t *shb;           /* current SHB, rewritten */
	size_t shb_len;

	/* All sections and interfaces seen, in order. */
	struct capture_section *sections;
	size_t n_sections, alloc_sections;
	struct capture_interface *interfaces;
	size_t n_interfaces, alloc_interfaces;

	/* Counts of what has been read. */
	uint64_t packets;
	uint64_t blocks_by_kind[5];
	uint64_t other_blocks;  /* pcapng blocks of unknown type */
	uint64_t custom_blocks;
};

/* Starts reading src, which must be at its first byte: detects the format.
 * Returns 0, or SC_ERR_EMPTY / SC_ERR_NOT_CAPTURE / a read error, with e
 * filled in. */
int capture_open(struct capture *cap, struct source *src, struct sc_err *e);
/* Reads the next record into *rec. Returns 1 for a record, 0 at a clean end
 * of input, or a negative code with e filled in (the offset is the start of
 * the damaged record; everything before it was good). */
int capture_next(struct capture *cap, struct capture_rec *rec, struct sc_err *e);
/* Frees what the reader allocated (not the source). */
void capture_release(struct capture *cap);

/* The current section and its interface i, or NULL. */
const struct capture_section *capture_current_section(const struct capture *cap);
const struct capture_interface *capture_section_interface(
    const struct capture *cap, const struct capture_section *s, uint32_t i);

/* How many fractional digits the time stamps read so far need: 6 for
 * microseconds, 9 for anything finer. */
int capture_time_digits(const struct capture *cap);
/* A name for a link type ("ETHERNET"), or NULL when unknown. */
const char *linktype_name(uint32_t linktype);
const char *capture_format_name(enum capture_format f);
/* The file name extension for chunks of this format, with its dot. */
const char *capture_format_extension(enum capture_format f);

#endif
