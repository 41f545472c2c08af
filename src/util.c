/* util.c - small parsers and formatters shared by every layer. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "util.h"
#include "xalloc.h"
#include "banned.h"

int
parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (s == NULL || !isdigit((unsigned char)s[0]))
		return SC_ERR_USAGE;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return SC_ERR_USAGE;
	*out = v;
	return 0;
}

int
parse_percent(const char *s, double *out)
{
	char *end;
	double d;

	if (s == NULL || !(isdigit((unsigned char)s[0]) || s[0] == '.'))
		return SC_ERR_USAGE;
	errno = 0;
	d = strtod(s, &end);
	if (errno != 0 || end == s || !(d >= 0))
		return SC_ERR_USAGE;
	if (strcmp(end, "%") == 0)
		d /= 100.0;
	else if (*end != '\0')
		return SC_ERR_USAGE;
	if (d >= 1.0)
		return SC_ERR_USAGE;
	*out = d;
	return 0;
}

int
parse_size(const char *s, uint64_t *out)
{
	static const struct {
		const char *suffix;
		uint64_t mult;
	} suffixes[] = {
		{ "", 1 }, { "B", 1 },
		{ "K", 1ULL << 10 }, { "KiB", 1ULL << 10 }, { "KB", 1000ULL },
		{ "M", 1ULL << 20 }, { "MiB", 1ULL << 20 }, { "MB", 1000000ULL },
		{ "G", 1ULL << 30 }, { "GiB", 1ULL << 30 }, { "GB", 1000000000ULL },
		{ "T", 1ULL << 40 }, { "TiB", 1ULL << 40 },
		{ "TB", 1000000000000ULL },
	};
	unsigned long long v;
	char *end;
	size_t i;

	if (s == NULL || !isdigit((unsigned char)s[0]))
		return SC_ERR_USAGE;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return SC_ERR_USAGE;
	for (i = 0; i < ARRAY_SIZE(suffixes); i++) {
		if (strcmp(end, suffixes[i].suffix) != 0)
			continue;
		if (v > UINT64_MAX / suffixes[i].mult)
			return SC_ERR_USAGE;
		*out = v * suffixes[i].mult;
		return 0;
	}
	return SC_ERR_USAGE;
}

void
format_bytes(struct strbuf *sb, uint64_t bytes)
{
	static const char *units[] = { "kB", "MB", "GB", "TB", "PB" };
	double v = (double)bytes;
	size_t i;

	if (bytes < 1000) {
		strbuf_addf(sb, "%llu B", (unsigned long long)bytes);
		return;
	}
	for (i = 0; i < ARRAY_SIZE(units) - 1 && v >= 999.95e3; i++)
		v /= 1000.0;
	strbuf_addf(sb, "%.1f %s", v / 1000.0, units[i]);
}

static void
add_civil(struct strbuf *sb, int64_t sec, char sep)
{
	/* Days from the civil date algorithm of H. Hinnant, so that times
	 * outside time_t's range on this system still print. */
	int64_t days = sec / 86400, rem = sec % 86400;
	int64_t z, era, doe, yoe, y, doy, mp, d, m;

	if (rem < 0) {
		rem += 86400;
		days--;
	}
	z = days + 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	if (m <= 2)
		y++;
	strbuf_addf(sb, "%04lld-%02lld-%02lld%c%02lld:%02lld:%02lld",
	    (long long)y, (long long)m, (long long)d, sep,
	    (long long)(rem / 3600), (long long)(rem / 60 % 60),
	    (long long)(rem % 60));
}

void
format_time(struct strbuf *sb, const struct sc_time *t, int digits)
{
	uint32_t frac = t->nsec;
	int i;

	add_civil(sb, t->sec, ' ');
	if (digits <= 0)
		return;
	for (i = digits; i < 9; i++)
		frac /= 10;
	strbuf_addf(sb, ".%0*u", digits, frac);
}

void
format_time_iso(struct strbuf *sb, const struct sc_time *t)
{
	add_civil(sb, t->sec, 'T');
	strbuf_addf(sb, ".%09uZ", t->nsec);
}

/* Days since 1970-01-01 of a civil date (H. Hinnant's algorithm, the
 * inverse of add_civil's). */
static int64_t
days_from_civil(int64_t y, int64_t m, int64_t d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int
parse_time_iso(const char *s, struct sc_time *t)
{
	int64_t v[6] = { 0 };
	static const char seps[] = "--T::";
	static const int widths[] = { 4, 2, 2, 2, 2, 2 };
	uint32_t frac = 0;
	int i, k, digits = 0;

	for (i = 0; i < 6; i++) {
		for (k = 0; k < widths[i]; k++, s++) {
			if (*s < '0' || *s > '9')
				return -1;
			v[i] = v[i] * 10 + (*s - '0');
		}
		if (i < 5 && *s++ != seps[i])
			return -1;
	}
	if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 ||
	    v[4] > 59 || v[5] > 60)
		return -1;
	if (*s == '.') {
		for (s++; *s >= '0' && *s <= '9'; s++, digits++)
			if (digits < 9)
				frac = frac * 10 + (uint32_t)(*s - '0');
		if (digits == 0)
			return -1;
		for (; digits < 9; digits++)
			frac *= 10;
	}
	if (strcmp(s, "Z") != 0)
		return -1;
	t->sec = days_from_civil(v[0], v[1], v[2]) * 86400 + v[3] * 3600 +
	    v[4] * 60 + v[5];
	t->nsec = frac;
	return 0;
}

/* n digits at *s into *v; advances *s. */
static int
take_digits(const char **s, int n, int64_t *v)
{
	*v = 0;
	for (; n > 0; n--, (*s)++) {
		if (**s < '0' || **s > '9')
			return -1;
		*v = *v * 10 + (**s - '0');
	}
	return 0;
}

/* ".ddd" (up to 9 digits kept) at *s into nanoseconds; none is 0. */
static int
take_fraction(const char **s, uint32_t *nsec)
{
	int digits = 0;

	*nsec = 0;
	if (**s != '.')
		return 0;
	for ((*s)++; **s >= '0' && **s <= '9'; (*s)++, digits++)
		if (digits < 9)
			*nsec = *nsec * 10 + (uint32_t)(**s - '0');
	if (digits == 0)
		return -1;
	for (; digits < 9; digits++)
		*nsec *= 10;
	return 0;
}

int
parse_duration(const char *s, double *seconds)
{
	char *end;
	double v;

	if (*s < '0' || *s > '9')
		return -1;
	v = strtod(s, &end);
	if (!(v >= 0) || v > 1e9)
		return -1;
	if (*end == '\0' || strcmp(end, "s") == 0)
		*seconds = v;
	else if (strcmp(end, "ms") == 0)
		*seconds = v / 1000;
	else if (strcmp(end, "m") == 0)
		*seconds = v * 60;
	else if (strcmp(end, "h") == 0)
		*seconds = v * 3600;
	else
		return -1;
	return 0;
}

int
parse_time_arg(const char *s, int64_t now, struct sc_time *t)
{
	int64_t y, mo, d, h = 0, mi = 0, se = 0, zh, zm, off = 0, v, ns;
	const char *p = s;
	char *end;

	if (strcmp(s, "now") == 0) {
		t->sec = now;
		t->nsec = 0;
		return 0;
	}
	if (*s == '-') {
		/* -N[smhd]: that long before now */
		double n = strtod(s + 1, &end), unit;

		if (end == s + 1 || !(n >= 0))
			return -1;
		if (strcmp(end, "s") == 0 || *end == '\0')
			unit = 1;
		else if (strcmp(end, "m") == 0)
			unit = 60;
		else if (strcmp(end, "h") == 0)
			unit = 3600;
		else if (strcmp(end, "d") == 0)
			unit = 86400;
		else
			return -1;
		n *= unit;
		if (n > 4e9)
			return -1;
		ns = (int64_t)(n * 1e9 + 0.5);
		t->sec = now - ns / 1000000000;
		t->nsec = 0;
		if (ns % 1000000000 != 0) {
			t->sec--;
			t->nsec = (uint32_t)(1000000000 - ns % 1000000000);
		}
		return 0;
	}
	if (strchr(s, '-') == NULL) {
		/* seconds since the epoch, with a fraction or not */
		for (v = 0; *p >= '0' && *p <= '9'; p++) {
			if (v > INT64_MAX / 10 - 10)
				return -1;
			v = v * 10 + (*p - '0');
		}
		if (p == s || take_fraction(&p, &t->nsec) != 0 || *p != '\0')
			return -1;
		t->sec = v;
		return 0;
	}
	/* ISO 8601: a date, then a time of day (T or a space), then Z or an
	 * offset; no offset is UTC */
	if (take_digits(&p, 4, &y) != 0 || *p++ != '-' ||
	    take_digits(&p, 2, &mo) != 0 || *p++ != '-' ||
	    take_digits(&p, 2, &d) != 0)
		return -1;
	t->nsec = 0;
	if (*p == 'T' || *p == ' ') {
		p++;
		if (take_digits(&p, 2, &h) != 0 || *p++ != ':' ||
		    take_digits(&p, 2, &mi) != 0)
			return -1;
		if (*p == ':' && (p++, take_digits(&p, 2, &se) != 0 ||
		    take_fraction(&p, &t->nsec) != 0))
			return -1;
	}
	if (*p == 'Z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1;

		if (take_digits(&p, 2, &zh) != 0)
			return -1;
		if (*p == ':')
			p++;
		if (take_digits(&p, 2, &zm) != 0 || zh > 23 || zm > 59)
			return -1;
		off = sign * (zh * 3600 + zm * 60);
	}
	if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
	    mi > 59 || se > 60)
		return -1;
	t->sec = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se -
	    off;
	return 0;
}

void
format_duration(struct strbuf *sb, double seconds)
{
	long long whole;

	if (seconds < 0)
		seconds = 0;
	if (seconds < 1.0) {
		strbuf_addf(sb, "%.3fs", seconds);
		return;
	}
	if (seconds < 60.0) {
		strbuf_addf(sb, "%.2fs", seconds);
		return;
	}
	whole = (long long)seconds;
	if (whole >= 3600)
		strbuf_addf(sb, "%lldh%02lldm%02llds", whole / 3600,
		    whole / 60 % 60, whole % 60);
	else
		strbuf_addf(sb, "%lldm%04.1fs", whole / 60,
		    seconds - (double)(whole / 60 * 60));
}

int
sc_time_cmp(const struct sc_time *a, const struct sc_time *b)
{
	if (a->sec != b->sec)
		return a->sec < b->sec ? -1 : 1;
	if (a->nsec != b->nsec)
		return a->nsec < b->nsec ? -1 : 1;
	return 0;
}

int
valid_name(const char *name)
{
	size_t i, len = strlen(name);

	if (len == 0 || len > 64 || name[0] == '.' || name[0] == '-')
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (!isalnum(c) && c != '.' && c != '_' && c != '-')
			return 0;
	}
	return 1;
}

char *
name_from_path(const char *path)
{
	static const char *exts[] = {
		".gz", ".zst", ".pcapng", ".pcap", ".cap", ".ntar", ".dmp",
	};
	const char *base = strrchr(path, '/');
	size_t len, i;
	int again = 1;
	char *name;

	base = base ? base + 1 : path;
	name = xstrdup(base);
	len = strlen(name);
	while (again) {
		again = 0;
		for (i = 0; i < ARRAY_SIZE(exts); i++) {
			size_t elen = strlen(exts[i]);

			if (len > elen && strcmp(name + len - elen, exts[i]) == 0) {
				len -= elen;
				name[len] = '\0';
				again = 1;
			}
		}
	}
	return name;
}

double
monotonic_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

uint64_t
fnv1a(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ull;
	return h;
}

int
size_in(const size_t *v, size_t n, size_t x)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i] == x)
			return 1;
	return 0;
}

double
sort_median(double *v, size_t n)
{
	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}
