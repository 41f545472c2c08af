/* cmd-inspect.c - shardcap inspect: describe a capture. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd.h"
#include "inspect.h"
#include "json.h"
#include "strbuf.h"
#include "util.h"
#include "banned.h"

#define INSPECT_USAGE "shardcap inspect [--json] FILE"

static const char inspect_help[] =
    "usage: " INSPECT_USAGE "\n"
    "\n"
    "Reads FILE (pcap or pcapng, plain or .gz or .zst; '-' for standard\n"
    "input) once and describes it: format and version, byte order of every\n"
    "section, interfaces with their link types, snapshot lengths and time\n"
    "stamp resolutions, packets per interface, captured and on-the-wire\n"
    "bytes, first and last time stamp, whether time stamps are in order,\n"
    "pcapng blocks by type, and any damage: where it is, what it is, and how\n"
    "many bytes follow it.\n"
    "\n"
    "Options:\n"
    "      --json   print the description as JSON\n"
    "  -h, --help   show this help\n"
    "\n"
    "Exit status as for 'shardcap split': 0 for a sound capture, 6-10 for\n"
    "damage after the first header (described in full all the same), 3-5\n"
    "when FILE is empty, not a capture, or of an unsupported version.\n";

static const char *
compression_name(enum source_compression c)
{
	return c == SOURCE_GZIP ? "gzip" : c == SOURCE_ZSTD ? "zstd" : "none";
}

static const char *
resolution_name(uint8_t r, char *buf, size_t len)
{
	if (r & 0x80)
		snprintf(buf, len, "2^-%u s", r & 0x7f);
	else if (r == 0)
		snprintf(buf, len, "s");
	else if (r == 3)
		snprintf(buf, len, "ms");
	else if (r == 6)
		snprintf(buf, len, "us");
	else if (r == 9)
		snprintf(buf, len, "ns");
	else
		snprintf(buf, len, "10^-%u s", r);
	return buf;
}

static void
linktype_text(struct strbuf *sb, uint32_t lt)
{
	const char *name = linktype_name(lt);

	strbuf_addf(sb, "%s (%u)", name ? name : "unknown", lt & 0xFFFF);
}

static void
print_text(const char *path, const struct inspect_result *res)
{
	const struct capture *cap = &res->cap;
	int digits = capture_time_digits(cap);
	struct strbuf sb = STRBUF_INIT;
	char rbuf[32];
	size_t s, i;

	printf("file:          %s\n", path);
	if (cap->format == CAPTURE_PCAP) {
		const struct capture_section *sec = &cap->sections[0];

		printf("format:        pcap %u.%u, %s-endian, %s time stamps%s\n",
		    sec->major, sec->minor, sec->big_endian ? "big" : "little",
		    cap->pcap_nsec ? "nanosecond" : "microsecond",
		    res->pcap_magic == 0xa1b2cd34u ?
		    " (Kuznetzov's patched format)" : "");
	} else {
		printf("format:        pcapng, %zu section%s\n", cap->n_sections,
		    cap->n_sections == 1 ? "" : "s");
	}
	printf("compression:   %s\n", compression_name(res->compression));
	if (res->file_size > 0) {
		format_bytes(&sb, res->file_size);
		printf("file size:     %s (%llu bytes)\n", sb.buf,
		    (unsigned long long)res->file_size);
	}
	if (res->compression != SOURCE_PLAIN)
		printf("uncompressed:  %llu bytes\n",
		    (unsigned long long)res->stream_bytes);
	printf("packets:       %llu\n", (unsigned long long)res->packets);
	strbuf_reset(&sb);
	format_bytes(&sb, res->captured_bytes);
	strbuf_addstr(&sb, " captured, ");
	format_bytes(&sb, res->wire_bytes);
	strbuf_addstr(&sb, " on the wire");
	printf("packet bytes:  %s\n", sb.buf);
	if (res->has_time) {
		strbuf_reset(&sb);
		format_time(&sb, &res->earliest, digits);
		printf("earliest:      %s UTC\n", sb.buf);
		strbuf_reset(&sb);
		format_time(&sb, &res->latest, digits);
		printf("latest:        %s UTC\n", sb.buf);
		strbuf_reset(&sb);
		format_duration(&sb, (double)(res->latest.sec - res->earliest.sec) +
		    ((double)res->latest.nsec - (double)res->earliest.nsec) / 1e9);
		printf("duration:      %s\n", sb.buf);
		if (res->out_of_order == 0)
			printf("time order:    strict\n");
		else
			printf("time order:    not strict (%llu packets earlier "
			    "than the one before)\n",
			    (unsigned long long)res->out_of_order);
	}
	if (res->untimed > 0)
		printf("no time stamp: %llu packets (simple packet blocks)\n",
		    (unsigned long long)res->untimed);
	printf("interfaces:    %zu\n", cap->n_interfaces);
	for (s = 0; s < cap->n_sections; s++) {
		const struct capture_section *sec = &cap->sections[s];

		if (cap->format == CAPTURE_PCAPNG)
			printf("  section %zu at byte %llu: %s-endian, version "
			    "%u.%u\n", s + 1, (unsigned long long)sec->offset,
			    sec->big_endian ? "big" : "little", sec->major,
			    sec->minor);
		for (i = 0; i < sec->n_interfaces; i++) {
			const struct capture_interface *ifc =
			    &cap->interfaces[sec->first_interface + i];

			strbuf_reset(&sb);
			linktype_text(&sb, ifc->linktype);
			printf("    #%zu  %s  snaplen %u  %s  %llu packets%s%s\n",
			    i, sb.buf, ifc->snaplen,
			    resolution_name(ifc->tsresol, rbuf, sizeof(rbuf)),
			    (unsigned long long)ifc->packets,
			    ifc->name ? "  name " : "", ifc->name ? ifc->name : "");
		}
	}
	if (cap->format == CAPTURE_PCAPNG)
		printf("blocks:        SHB %llu, IDB %llu, EPB %llu, SPB %llu, "
		    "PB %llu, NRB %llu, ISB %llu, DSB %llu, custom %llu, "
		    "unknown %llu\n",
		    (unsigned long long)res->shb, (unsigned long long)res->idb,
		    (unsigned long long)res->epb, (unsigned long long)res->spb,
		    (unsigned long long)res->pb, (unsigned long long)res->nrb,
		    (unsigned long long)res->isb, (unsigned long long)res->dsb,
		    (unsigned long long)res->custom,
		    (unsigned long long)res->unknown);
	if (res->damage.code == 0)
		printf("damage:        none\n");
	else
		printf("damage:        %s at byte %llu: %s; %llu bytes from there "
		    "to the end are unreadable\n", sc_strerror(res->damage.code),
		    (unsigned long long)res->damage.offset, res->damage.msg,
		    (unsigned long long)res->dropped_bytes);
	strbuf_release(&sb);
}

static void
json_time(struct json *j, const char *key, const struct sc_time *t, int has)
{
	struct strbuf sb = STRBUF_INIT;

	if (!has) {
		json_null(j, key);
		return;
	}
	format_time_iso(&sb, t);
	json_string(j, key, sb.buf);
	strbuf_release(&sb);
}

static void
print_json(const char *path, const struct inspect_result *res)
{
	const struct capture *cap = &res->cap;
	struct json j;
	size_t s, i;

	json_init(&j, stdout);
	json_object_begin(&j, NULL);
	json_string(&j, "file", path);
	json_string(&j, "format", capture_format_name(cap->format));
	if (cap->format == CAPTURE_PCAP) {
		json_string(&j, "time_resolution",
		    cap->pcap_nsec ? "nanosecond" : "microsecond");
		json_bool(&j, "kuznetzov", res->pcap_magic == 0xa1b2cd34u);
	}
	json_string(&j, "compression", compression_name(res->compression));
	if (res->file_size > 0)
		json_uint(&j, "file_bytes", res->file_size);
	else
		json_null(&j, "file_bytes");
	json_uint(&j, "capture_bytes", res->stream_bytes);
	json_uint(&j, "packets", res->packets);
	json_uint(&j, "captured_bytes", res->captured_bytes);
	json_uint(&j, "wire_bytes", res->wire_bytes);
	json_time(&j, "first_time", &res->first, res->has_time);
	json_time(&j, "last_time", &res->last, res->has_time);
	json_time(&j, "earliest_time", &res->earliest, res->has_time);
	json_time(&j, "latest_time", &res->latest, res->has_time);
	json_uint(&j, "out_of_order", res->out_of_order);
	json_uint(&j, "untimed_packets", res->untimed);
	json_array_begin(&j, "sections");
	for (s = 0; s < cap->n_sections; s++) {
		const struct capture_section *sec = &cap->sections[s];

		json_object_begin(&j, NULL);
		json_uint(&j, "offset", sec->offset);
		json_string(&j, "byte_order", sec->big_endian ? "big" : "little");
		json_uint(&j, "major", sec->major);
		json_uint(&j, "minor", sec->minor);
		json_array_begin(&j, "interfaces");
		for (i = 0; i < sec->n_interfaces; i++) {
			const struct capture_interface *ifc =
			    &cap->interfaces[sec->first_interface + i];
			const char *name = linktype_name(ifc->linktype);

			json_object_begin(&j, NULL);
			json_uint(&j, "id", i);
			json_uint(&j, "linktype", ifc->linktype & 0xFFFF);
			json_string(&j, "linktype_name", name);
			json_uint(&j, "snaplen", ifc->snaplen);
			json_uint(&j, "tsresol", ifc->tsresol);
			json_int(&j, "tsoffset", ifc->tsoffset);
			json_string(&j, "name", ifc->name);
			json_uint(&j, "packets", ifc->packets);
			json_object_end(&j);
		}
		json_array_end(&j);
		json_object_end(&j);
	}
	json_array_end(&j);
	if (cap->format == CAPTURE_PCAPNG) {
		json_object_begin(&j, "blocks");
		json_uint(&j, "shb", res->shb);
		json_uint(&j, "idb", res->idb);
		json_uint(&j, "epb", res->epb);
		json_uint(&j, "spb", res->spb);
		json_uint(&j, "pb", res->pb);
		json_uint(&j, "nrb", res->nrb);
		json_uint(&j, "isb", res->isb);
		json_uint(&j, "dsb", res->dsb);
		json_uint(&j, "custom", res->custom);
		json_uint(&j, "unknown", res->unknown);
		json_object_end(&j);
	}
	if (res->damage.code != 0) {
		json_object_begin(&j, "damage");
		json_string(&j, "kind", sc_strerror(res->damage.code));
		json_uint(&j, "exit_status", (uint64_t)sc_exit_code(res->damage.code));
		json_uint(&j, "offset", res->damage.offset);
		json_string(&j, "message", res->damage.msg);
		json_uint(&j, "dropped_bytes", res->dropped_bytes);
		json_object_end(&j);
	} else {
		json_null(&j, "damage");
	}
	json_object_end(&j);
	json_finish(&j);
}

static int
cmd_inspect(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct inspect_result res;
	struct sc_err e;
	const char *path;
	int c, json = 0, r, status;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'J':
			json = 1;
			break;
		case 'h':
			return cli_help(inspect_help);
		default:
			return cli_usage_error(INSPECT_USAGE, "bad option");
		}
	}
	if (argc - optind != 1)
		return cli_usage_error(INSPECT_USAGE, argc - optind < 1 ?
		    "no file given" : "more than one file given");
	path = argv[optind];
	cli_catch_signals();
	sc_err_clear(&e);
	r = inspect_capture(path, &cli_signal, &res, &e);
	if (r != 0) {
		status = cli_report(&e, path);
		inspect_result_release(&res);
		return status;
	}
	if (json)
		print_json(path, &res);
	else
		print_text(path, &res);
	status = 0;
	if (res.damage.code != 0)
		status = sc_exit_code(res.damage.code);
	inspect_result_release(&res);
	return cli_finish_stdout(status);
}

const struct command cmd_inspect_entry = {
	"inspect", cmd_inspect,
	"describe a capture: format, interfaces, packets, time, damage",
	inspect_help,
};
