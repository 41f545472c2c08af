/* zmerge.h - tshark's -z statistics tables of every chunk merged into the
 * table tshark prints for the whole capture.
 *
 * Merged, and exact: the I/O table (-z io,stat, iostat.h) when no packet
 * goes back in time across chunks, each chunk read with the capture's
 * first time as conversations are; conversations (-z conv,TYPE[,FILTER]) when no
 * conversation has packets in two chunks - always so in the flow layout
 * for conv,tcp and conv,udp - each chunk read with the capture's first
 * time (zmerge_reference); and the protocol hierarchy (-z
 * io,phs[,FILTER]) in the time layout when no flow is cut, its counts
 * summed and its rows in the order tshark meets them, and in the flow
 * layout (zmerge_phs_unsure). Any other table
 * is refused before the run (zmerge_plan), a conversation cut by a chunk
 * boundary after it (zmerge_finish): tshark prints its bytes rounded
 * (517 kB) and its duration to 0.1 ms, so no sum of parts is the whole
 * file's row.
 * docs/formats.md, "Merged statistics", states the rules. */
#ifndef SHARDCAP_ZMERGE_H
#define SHARDCAP_ZMERGE_H

#include <stddef.h>

#include "error.h"
#include "strbuf.h"
#include "util.h"

struct zmerge;

#define ZMERGE_CONV 1
#define ZMERGE_PHS 2
#define ZMERGE_IOSTAT 4
/* Looks at a command's -z options. Returns 0 when it is not tshark or asks
 * for no table (nothing to merge); ZMERGE_CONV, ZMERGE_PHS or ZMERGE_IOSTAT
 * (or'ed) when every table it asks for can be merged in this layout (flow: the capture's
 * layout is flow; whole_flows: no flow is in two chunks); or SC_ERR_USAGE
 * with e saying which table cannot and why. */
int zmerge_plan(char *const *argv, size_t argc, int flow, int whole_flows,
    struct sc_err *e);

/* Conversations: tshark counts their Relative Start and Duration from
 * the file's first packet, so each chunk is read after a record of no
 * bytes at the capture's first time, ref: its times are then the whole
 * file's, to the last digit, and the record is no conversation's. From
 * the chunks' files (paths): where that record goes (*offset: after a
 * pcap's file header; 0 before a pcapng, as a section of its own) and its
 * bytes (rec). Returns 0, or SC_ERR_MERGE when a chunk cannot hold it or
 * the chunks' pcap headers differ. */
int zmerge_reference(char *const *paths, size_t n, const struct sc_time *ref,
    uint64_t *offset, struct strbuf *rec, struct sc_err *e);
/* The command, argv (tshark reading -r {}) with the reference record
 * before each chunk: sh -c SCRIPT sh {} ARGV... with -r -. Returns a new
 * argv of *n_out strings and a NULL, each to be freed, then the
 * array. */
char **zmerge_command(char *const *argv, size_t argc, uint64_t offset,
    const struct strbuf *rec, size_t *n_out);

struct zmerge *zmerge_new(int flow);
void zmerge_free(struct zmerge *z);
/* The output of one chunk, in pieces, then its end: file names the chunk
 * in messages. Chunks are given in capture order. Returns 0, or SC_ERR_MERGE
 * when the output is not the tables of the first chunk's kinds, or
 * SC_ERR_LIMIT past ZMERGE_MAX_BYTES held. A failure sticks: the calls
 * after it do nothing and return it, zmerge_finish too. */
#define ZMERGE_MAX_BYTES (1024u << 20)
int zmerge_add(struct zmerge *z, const char *data, size_t len,
    struct sc_err *e);
int zmerge_chunk_end(struct zmerge *z, const char *file, struct sc_err *e);
/* Appends the merged output to out. Returns 0, or SC_ERR_MERGE when a
 * table cannot be merged exactly (e says which row and why). */
int zmerge_finish(struct zmerge *z, struct strbuf *out, struct sc_err *e);
/* After zmerge_finish, in the flow layout: how many pairs of neighbouring
 * conversations tie - as many frames, the same first time stamp, two
 * chunks - so that tshark's order between them (which packet came first
 * in the file) is not known: each such pair may be the other way round
 * in tshark's table. */
size_t zmerge_ties(const struct zmerge *z);
/* The protocol hierarchy in the flow layout: its counts add up (no flow
 * is in two chunks), but its rows come in the order tshark first met
 * each protocol over the whole file, which the chunks do not say but
 * where one chunk alone has both of two neighbours. tshark over the
 * capture's first packets, in time order, meets the protocols it meets
 * there in the order it meets them over the whole file, and before any
 * it meets later. After the last chunk: how many pairs of neighbouring
 * rows are of an order not known (0: no need of the first packets). */
size_t zmerge_phs_unsure(struct zmerge *z);
/* Writes to fd the chunks' (paths) first packets in time order, up to
 * limit bytes of them, after the header every chunk begins with: one
 * capture. Returns 0, or SC_ERR_MERGE when the chunks are not so made
 * (headers that differ, sections or interfaces among the packets, a
 * packet with no time stamp), or a system error. */
#define ZMERGE_PHS_PREFIX (32u << 20)
int zmerge_phs_prefix(char *const *paths, size_t n, uint64_t limit, int fd,
    struct sc_err *e);
/* The output of the command run here over that capture (or over the file
 * of zmerge_iostat_file), in pieces, then its end; zmerge_finish then
 * orders by it. Returns 0, or SC_ERR_LIMIT / SC_ERR_MERGE (not tshark's
 * table). */
int zmerge_local_add(struct zmerge *z, const char *data, size_t len);
int zmerge_phs_prefix_end(struct zmerge *z, struct sc_err *e);
/* After zmerge_finish: how many pairs of neighbouring rows of the flow
 * layout's hierarchy are still of an order not known, so that each may
 * be the other way round in tshark's table. */
size_t zmerge_phs_ties(const struct zmerge *z);

/* io,stat: tshark counts a packet in the interval of its time from the
 * file's first packet, so each chunk is read after the reference record
 * (as for conversations), and its rows are the whole file's intervals.
 * The record is counted too: what it adds to a first row is known for
 * frames and bytes with no filter, and otherwise learnt from the command
 * run here over a file of two such records (zmerge_iostat_file). spans:
 * each chunk file's duration, from the capture's first time to its
 * latest time stamp (group_ns: of the group of chunks it begins, read as
 * one stream); whole_ns the capture's. A chunk with no packet with a time
 * stamp (blocks that are no packets) must print no row. Returns 0, or
 * SC_ERR_USAGE. */
struct zmerge_span {
	const char *file;
	uint64_t ns, group_ns;
	int untimed;            /* no packet with a time stamp in it */
};
int zmerge_iostat_begin(struct zmerge *z, char *const *argv, size_t argc,
    struct zmerge_span *spans, size_t n, uint64_t whole_ns,
    struct sc_err *e);
/* The command's io,stat interval, in microseconds (UINT64_MAX: the
 * whole capture), and whether the record's share must be learnt. */
uint64_t zmerge_iostat_interval(const struct zmerge *z);
int zmerge_iostat_needs_share(const struct zmerge *z);
/* Writes to fd a capture of the first chunk's header (paths[0]) and two
 * records of no bytes: at ref and later_ns after it. Returns 0 or an
 * error. */
int zmerge_iostat_file(const char *path, const struct sc_time *ref,
    uint64_t later_ns, int fd, struct sc_err *e);
/* The command's output over that file, given with zmerge_local_add,
 * ended: the share is read from it. Returns 0 or SC_ERR_MERGE. */
int zmerge_iostat_share_end(struct zmerge *z, struct sc_err *e);

#endif
