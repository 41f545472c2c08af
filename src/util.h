/* util.h - small parsers and formatters shared by every layer. */
#ifndef SHARDCAP_UTIL_H
#define SHARDCAP_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

/* A point in time as a capture records it: seconds since the epoch and
 * nanoseconds (0..999999999). */
struct sc_time {
	int64_t sec;
	uint32_t nsec;
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Parses a byte count: a decimal number with an optional suffix K, M, G, T
 * (powers of 1024) or KB, MB, GB, TB (powers of 1000), as split(1) does.
 * Returns 0 or SC_ERR_USAGE. */
int parse_size(const char *s, uint64_t *out);
/* Parses an unsigned decimal integer in [min, max]. Returns 0 or SC_ERR_USAGE. */
int parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* Parses a fraction written as a percentage ("10%") or as a number
 * ("0.1"), in [0, 1). Returns 0 or SC_ERR_USAGE. */
int parse_percent(const char *s, double *out);
/* Appends a byte count for people: "695.2 MB" (powers of 1000, as tools
 * that report capture sizes do), or "812 B". */
void format_bytes(struct strbuf *sb, uint64_t bytes);
/* Appends t as "2015-05-12 10:00:00.123456" in UTC with digits fractional
 * digits (0, 3, 6 or 9). */
void format_time(struct strbuf *sb, const struct sc_time *t, int digits);
/* Appends t as RFC 3339 UTC with nanoseconds: "2015-05-12T10:00:00.123456789Z". */
void format_time_iso(struct strbuf *sb, const struct sc_time *t);
/* Parses what format_time_iso writes (fewer fractional digits too, or
 * none). Returns 0, or -1 when s is not such a time. */
int parse_time_iso(const char *s, struct sc_time *t);
/* Parses a duration: a number of seconds, or with s, ms, m or h
 * ("30", "2.5s", "500ms", "10m", "1h"). Returns 0, or -1. */
int parse_duration(const char *s, double *seconds);
/* Parses a time as an analyst gives one (run --since): ISO 8601
 * ("2015-05-12T10:00:00.5Z", "2015-05-12 10:00", "2015-05-12", with Z or
 * an offset such as +02:00; none is UTC), seconds since the epoch
 * ("1431424800.5"), "now", or a span before now ("-90s", "-10m", "-1h",
 * "-2d"; now is seconds since the epoch). Returns 0, or -1 when s is none
 * of these. */
int parse_time_arg(const char *s, int64_t now, struct sc_time *t);
/* Appends a duration in seconds as "1h02m03.5s", "4.25s" or "0.012s". */
void format_duration(struct strbuf *sb, double seconds);
/* Compares two times: <0, 0, >0. */
int sc_time_cmp(const struct sc_time *a, const struct sc_time *b);

/* True when name is a valid capture or worker name: 1..64 characters of
 * [A-Za-z0-9._-], not starting with '.' or '-'. ("..", "." and names with
 * '/' can therefore never occur.) */
int valid_name(const char *name);
/* Derives a capture name from a path: its base name without the capture and
 * compression extensions (.pcap, .pcapng, .cap, .gz, .zst, ...). Returns a
 * newly allocated string, which may not be a valid name. */
char *name_from_path(const char *path);

/* Seconds from an arbitrary fixed point (CLOCK_MONOTONIC). */
double monotonic_seconds(void);

/* The median of v[0..n) (0 when n is 0), sorting v in place. */
double sort_median(double *v, size_t n);

/* Whether x is among v[0..n). */
int size_in(const size_t *v, size_t n, size_t x);
/* FNV-1a, 64 bits, of n bytes at p, from h (FNV1A_BASIS to start): a name
 * made of a path or a text, not a digest of data. FNV1A_BASIS is the
 * basis this project has always used - one digit short of FNV's published
 * 14695981039346656037 - kept so that the names made with it (an ssh
 * control directory under /tmp) stay the same. */
#define FNV1A_BASIS 1469598103934665603ull
uint64_t fnv1a(uint64_t h, const void *p, size_t n);

#endif
