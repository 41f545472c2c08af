/* capture.c - reading pcap and pcapng captures record by record.
 *
 * Formats: pcap as libpcap writes it (both byte orders, micro- and
 * nanosecond magic, Kuznetzov's patched variant) and pcapng as the IETF
 * draft specifies it (draft-ietf-opsawg-pcapng), with every section in its
 * own byte order. Limits follow libpcap's and Wireshark's where they have
 * one, so that what we accept they can read. */
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "xalloc.h"
#include "banned.h"

#define PCAP_MAX_SNAPLEN 262144u        /* libpcap's and Wireshark's limit */
#define MAX_INTERFACES 1000000u
#define MAX_SECTIONS 10000000u

static uint16_t
get16(const uint8_t *p, int big_endian)
{
	return big_endian ? (uint16_t)(p[0] << 8 | p[1])
	    : (uint16_t)(p[1] << 8 | p[0]);
}

static uint64_t
get64(const uint8_t *p, int big_endian)
{
	return big_endian
	    ? (uint64_t)capture_get32(p, 1) << 32 | capture_get32(p + 4, 1)
	    : (uint64_t)capture_get32(p + 4, 0) << 32 | capture_get32(p, 0);
}

/* Link types: the LINKTYPE_ names of the tcpdump.org registry. */
static const struct {
	uint32_t linktype;
	const char *name;
} linktypes[] = {
	{ 0, "NULL" }, { 1, "ETHERNET" }, { 3, "AX25" }, { 6, "IEEE802_5" },
	{ 7, "ARCNET_BSD" }, { 8, "SLIP" }, { 9, "PPP" }, { 10, "FDDI" },
	{ 12, "RAW_OPENBSD" }, { 50, "PPP_HDLC" }, { 51, "PPP_ETHER" },
	{ 100, "ATM_RFC1483" }, { 101, "RAW" }, { 104, "C_HDLC" },
	{ 105, "IEEE802_11" }, { 107, "FRELAY" }, { 108, "LOOP" },
	{ 113, "LINUX_SLL" }, { 114, "LTALK" }, { 117, "PFLOG" },
	{ 119, "IEEE802_11_PRISM" }, { 122, "IP_OVER_FC" }, { 127, "IEEE802_11_RADIOTAP" },
	{ 129, "ARCNET_LINUX" }, { 138, "APPLE_IP_OVER_IEEE1394" },
	{ 139, "MTP2_WITH_PHDR" }, { 140, "MTP2" }, { 141, "MTP3" },
	{ 142, "SCCP" }, { 143, "DOCSIS" }, { 144, "LINUX_IRDA" },
	{ 147, "USER0" }, { 163, "IEEE802_11_AVS" }, { 165, "BACNET_MS_TP" },
	{ 166, "PPP_PPPD" }, { 169, "GPRS_LLC" }, { 177, "LINUX_LAPD" },
	{ 187, "BLUETOOTH_HCI_H4" }, { 189, "USB_LINUX" }, { 192, "PPI" },
	{ 195, "IEEE802_15_4_WITHFCS" }, { 196, "SITA" }, { 197, "ERF" },
	{ 201, "BLUETOOTH_HCI_H4_WITH_PHDR" }, { 202, "AX25_KISS" },
	{ 204, "PPP_WITH_DIR" }, { 209, "IPMB_LINUX" }, { 215, "IEEE802_15_4_NONASK_PHY" },
	{ 220, "USB_LINUX_MMAPPED" }, { 224, "FC_2" }, { 226, "IPNET" },
	{ 227, "CAN_SOCKETCAN" }, { 228, "IPV4" }, { 229, "IPV6" },
	{ 230, "IEEE802_15_4_NOFCS" }, { 231, "DBUS" }, { 235, "DVB_CI" },
	{ 239, "NFLOG" }, { 240, "NETANALYZER" }, { 242, "IPOIB" },
	{ 247, "NETLINK" }, { 248, "BLUETOOTH_LINUX_MONITOR" },
	{ 249, "USBPCAP" }, { 250, "RTAC_SERIAL" }, { 251, "BLUETOOTH_LE_LL" },
	{ 252, "WIRESHARK_UPPER_PDU" }, { 253, "NETLINK" }, { 254, "BLUETOOTH_LE_LL_WITH_PHDR" },
	{ 256, "PROFIBUS_DL" }, { 258, "PKTAP" }, { 259, "EPON" },
	{ 264, "ISO_14443" }, { 266, "LINUX_SLL2_OLD" }, { 270, "NORDIC_BLE" },
	{ 271, "VSOCK" }, { 272, "NORDIC_BLE" }, { 273, "DOCSIS31_XRA31" },
	{ 274, "ETHERNET_MPACKET" }, { 275, "DISPLAYPORT_AUX" },
	{ 276, "LINUX_SLL2" }, { 279, "EBHSCR" }, { 281, "DSA_TAG_BRCM" },
	{ 284, "DSA_TAG_DSA" }, { 290, "ATSC_ALP" },
};

const char *
linktype_name(uint32_t linktype)
{
	size_t i;

	/* The high bits of a pcap header's link type field carry FCS
	 * information, not the type. */
	linktype &= 0xFFFF;
	for (i = 0; i < ARRAY_SIZE(linktypes); i++)
		if (linktypes[i].linktype == linktype)
			return linktypes[i].name;
	return NULL;
}

const char *
capture_format_name(enum capture_format f)
{
	return f == CAPTURE_PCAPNG ? "pcapng" : "pcap";
}

const char *
capture_format_extension(enum capture_format f)
{
	return f == CAPTURE_PCAPNG ? ".pcapng" : ".pcap";
}

/* libpcap's max_snaplen_for_dlt(): the largest record it will read. */
static uint32_t
max_caplen_for(uint32_t linktype)
{
	switch (linktype & 0xFFFF) {
	case 231: /* DBUS */
		return 128u << 20;
	case 249: /* USBPCAP */
		return 1u << 20;
	case 279: /* EBHSCR */
		return 8u << 20;
	default:
		return PCAP_MAX_SNAPLEN;
	}
}

/* Seconds and nanoseconds of ts units of 10^-r (or 2^-(r & 0x7f) when the
 * top bit of r is set), plus offset seconds. */
static struct sc_time
time_from_units(uint64_t ts, uint8_t resol, int64_t offset)
{
	unsigned __int128 per_sec = 1, frac;
	struct sc_time t;
	unsigned i;

	if (resol & 0x80) {
		unsigned bits = resol & 0x7f;

		if (bits >= 64) {
			t.sec = offset;
			frac = (unsigned __int128)ts * 1000000000u;
			t.nsec = (uint32_t)(frac >> bits >= 1000000000u ?
			    999999999u : frac >> bits);
			return t;
		}
		per_sec = (unsigned __int128)1 << bits;
	} else {
		for (i = 0; i < resol && i < 38; i++)
			per_sec *= 10;
	}
	t.sec = (int64_t)(ts / per_sec) + offset;
	frac = (unsigned __int128)(ts % per_sec) * 1000000000u;
	t.nsec = (uint32_t)(frac / per_sec);
	return t;
}

int
capture_time_digits(const struct capture *cap)
{
	int digits = 6;
	size_t i;

	for (i = 0; i < cap->n_interfaces; i++) {
		uint8_t r = cap->interfaces[i].tsresol;

		if ((r & 0x80) || r > 6)
			digits = 9;
	}
	return digits;
}

void
capture_release(struct capture *cap)
{
	size_t i;

	for (i = 0; i < cap->n_interfaces; i++)
		free(cap->interfaces[i].name);
	free(cap->interfaces);
	free(cap->sections);
	free(cap->shb);
	memset(cap, 0, sizeof(*cap));
}

const struct capture_section *
capture_current_section(const struct capture *cap)
{
	return cap->n_sections ? &cap->sections[cap->n_sections - 1] : NULL;
}

const struct capture_interface *
capture_section_interface(const struct capture *cap,
    const struct capture_section *s, uint32_t i)
{
	if (s == NULL || i >= s->n_interfaces)
		return NULL;
	return &cap->interfaces[s->first_interface + i];
}

static int
new_section(struct capture *cap, uint64_t offset, int big_endian,
    uint16_t major, uint16_t minor, struct sc_err *e)
{
	struct capture_section *s;

	if (cap->n_sections >= MAX_SECTIONS)
		return sc_err_at(e, SC_ERR_LIMIT, offset,
		    "more than %u sections", MAX_SECTIONS);
	ALLOC_GROW(cap->sections, cap->n_sections + 1, cap->alloc_sections);
	s = &cap->sections[cap->n_sections++];
	s->offset = offset;
	s->big_endian = big_endian;
	s->major = major;
	s->minor = minor;
	s->first_interface = cap->n_interfaces;
	s->n_interfaces = 0;
	cap->big_endian = big_endian;
	return 0;
}

static struct capture_interface *
new_interface(struct capture *cap, uint64_t offset, struct sc_err *e)
{
	struct capture_interface *ifc;

	if (cap->n_interfaces >= MAX_INTERFACES) {
		sc_err_at(e, SC_ERR_LIMIT, offset,
		    "more than %u interfaces", MAX_INTERFACES);
		return NULL;
	}
	ALLOC_GROW(cap->interfaces, cap->n_interfaces + 1, cap->alloc_interfaces);
	ifc = &cap->interfaces[cap->n_interfaces++];
	memset(ifc, 0, sizeof(*ifc));
	ifc->tsresol = 6;
	cap->sections[cap->n_sections - 1].n_interfaces++;
	return ifc;
}

/* Makes len bytes at the position available, or says why not. */
static int
need(struct capture *cap, size_t len, const uint8_t **p, const char *what,
    struct sc_err *e)
{
	uint64_t at = cap->src->pos;
	size_t got;
	int r;

	if ((r = source_need(cap->src, len, p, &got, e)) != 0)
		return r;
	if (got < len)
		return sc_err_at(e, SC_ERR_TRUNCATED, at,
		    "%s cut short: %zu of its %zu bytes present", what, got, len);
	return 0;
}

/* --- pcap ----------------------------------------------------------- */

static int
pcap_read_header(struct capture *cap, struct capture_rec *rec, struct sc_err *e)
{
	const uint8_t *p;
	uint16_t major, minor;
	int big_endian = cap->big_endian;
	int r;

	if ((r = need(cap, 24, &p, "pcap file header", e)) != 0)
		return r;
	major = get16(p + 4, big_endian);
	minor = get16(p + 6, big_endian);
	if (major != 2)
		return sc_err_at(e, SC_ERR_UNSUPPORTED, 4,
		    "pcap version %u.%u is not supported (only 2.x)", major, minor);
	if ((r = new_section(cap, 0, big_endian, major, minor, e)) != 0)
		return r;
	memcpy(cap->pcap_header, p, 24);
	if (new_interface(cap, 0, e) == NULL)
		return SC_ERR_LIMIT;
	cap->interfaces[0].snaplen = capture_get32(p + 16, big_endian);
	cap->interfaces[0].linktype = capture_get32(p + 20, big_endian);
	cap->interfaces[0].tsresol = cap->pcap_nsec ? 9 : 6;
	cap->pcap_max_caplen = max_caplen_for(cap->interfaces[0].linktype);

	rec->kind = REC_SECTION;
	rec->offset = 0;
	rec->len = 24;
	rec->data = p;
	rec->header = cap->pcap_header;
	rec->header_len = 24;
	source_skip(cap->src, 24);
	return 1;
}

static int
pcap_next(struct capture *cap, struct capture_rec *rec, struct sc_err *e)
{
	const struct capture_interface *ifc = &cap->interfaces[0];
	int be = cap->sections[0].big_endian;
	uint64_t at = cap->src->pos;
	uint32_t caplen, frac, per_sec;
	const uint8_t *p;
	size_t got;
	int r;

	if ((r = source_need(cap->src, cap->pcap_rec_hdr, &p, &got, e)) != 0)
		return r;
	if (got == 0)
		return 0;
	if (got < cap->pcap_rec_hdr)
		return sc_err_at(e, SC_ERR_TRUNCATED, at,
		    "record header cut short: %zu of its %zu bytes present",
		    got, cap->pcap_rec_hdr);
	caplen = capture_get32(p + 8, be);
	if (caplen > cap->pcap_max_caplen)
		return sc_err_at(e, SC_ERR_LENGTH, at,
		    "record claims %u captured bytes, more than the %u any "
		    "reader accepts", caplen, cap->pcap_max_caplen);
	if ((r = need(cap, cap->pcap_rec_hdr + caplen, &p, "record", e)) != 0)
		return r;

	rec->kind = REC_PACKET;
	rec->offset = at;
	rec->len = cap->pcap_rec_hdr + caplen;
	rec->data = p;
	rec->interface = 0;
	rec->packet = p + cap->pcap_rec_hdr;
	rec->caplen = caplen;
	rec->origlen = capture_get32(p + 12, be);
	rec->linktype = ifc->linktype;
	rec->has_time = 1;
	frac = capture_get32(p + 4, be);
	per_sec = cap->pcap_nsec ? 1000000000u : 1000000u;
	/* Out-of-range fractions exist in the wild; carry them into seconds
	 * rather than print nonsense. */
	rec->time.sec = (int64_t)capture_get32(p, be) + frac / per_sec;
	rec->time.nsec = (uint32_t)(frac % per_sec * (1000000000u / per_sec));
	cap->interfaces[0].packets++;
	cap->packets++;
	source_skip(cap->src, rec->len);
	return 1;
}

/* --- pcapng --------------------------------------------------------- */

static int
pcapng_read_shb(struct capture *cap, struct capture_rec *rec, struct sc_err *e)
{
	uint64_t at = cap->src->pos;
	const uint8_t *p;
	uint32_t len, bom;
	uint16_t major, minor;
	int be, r;

	if ((r = need(cap, 12, &p, "section header block", e)) != 0)
		return r;
	bom = capture_get32(p + 8, 1);
	if (bom == PCAPNG_BOM)
		be = 1;
	else if (bom == 0x4D3C2B1Au)
		be = 0;
	else
		return sc_err_at(e, SC_ERR_NOT_CAPTURE, at,
		    "section header block has no valid byte-order magic "
		    "(%02x %02x %02x %02x)", p[8], p[9], p[10], p[11]);
	len = capture_get32(p + 4, be);
	if (len < 28 || len % 4 != 0 || len > PCAPNG_MAX_BLOCK)
		return sc_err_at(e, SC_ERR_LENGTH, at,
		    "section header block length %u is impossible", len);
	if ((r = need(cap, len, &p, "section header block", e)) != 0)
		return r;
	if (capture_get32(p + len - 4, be) != len)
		return sc_err_at(e, SC_ERR_TRAILER, at,
		    "section header block trailer says %u bytes, header %u",
		    capture_get32(p + len - 4, be), len);
	major = get16(p + 12, be);
	minor = get16(p + 14, be);
	if (major != 1)
		return sc_err_at(e, SC_ERR_UNSUPPORTED, at,
		    "pcapng version %u.%u is not supported (only 1.x)",
		    major, minor);
	if ((r = new_section(cap, at, be, major, minor, e)) != 0)
		return r;

	free(cap->shb);
	cap->shb = xmalloc(len);
	cap->shb_len = len;
	memcpy(cap->shb, p, len);
	/* Section length: "not specified" (-1), true of any part of it. */
	memset(cap->shb + 16, 0xff, 8);

	rec->kind = REC_SECTION;
	rec->block_type = PCAPNG_SHB;
	rec->offset = at;
	rec->len = len;
	rec->data = p;
	rec->header = cap->shb;
	rec->header_len = len;
	source_skip(cap->src, len);
	return 1;
}

/* Reads the options of an IDB at p (length len) into ifc. */
static int
pcapng_idb_options(const uint8_t *p, uint32_t len, int be,
    struct capture_interface *ifc, uint64_t at, struct sc_err *e)
{
	uint32_t off = 16, end = len - 4;

	while (off + 4 <= end) {
		uint16_t code = get16(p + off, be);
		uint16_t olen = get16(p + off + 2, be);
		uint32_t padded = ((uint32_t)olen + 3) & ~3u;

		if (code == 0)
			break;
		if (off + 4 + padded > end)
			return sc_err_at(e, SC_ERR_LENGTH, at,
			    "interface option %u of length %u runs past its "
			    "block", code, olen);
		if (code == 9 && olen >= 1)
			ifc->tsresol = p[off + 4];
		else if (code == 14 && olen == 8)
			ifc->tsoffset = (int64_t)get64(p + off + 4, be);
		else if (code == 2 && olen > 0 && ifc->name == NULL)
			ifc->name = xstrndup((const char *)p + off + 4, olen);
		off += 4 + padded;
	}
	return 0;
}

static int
pcapng_next(struct capture *cap, struct capture_rec *rec, struct sc_err *e)
{
	const struct capture_section *s = capture_current_section(cap);
	const struct capture_interface *ifc;
	uint64_t at = cap->src->pos;
	const uint8_t *p;
	uint32_t type, len, minimum;
	size_t got;
	int be = s->big_endian, r;

	if ((r = source_need(cap->src, 8, &p, &got, e)) != 0)
		return r;
	if (got == 0)
		return 0;
	if (got >= 4 && capture_get32(p, 0) == PCAPNG_SHB)
		return pcapng_read_shb(cap, rec, e);
	if (got < 8)
		return sc_err_at(e, SC_ERR_TRUNCATED, at,
		    "block header cut short: %zu of its 8 bytes present", got);
	type = capture_get32(p, be);
	len = capture_get32(p + 4, be);
	if (len < 12 || len % 4 != 0 || len > PCAPNG_MAX_BLOCK)
		return sc_err_at(e, SC_ERR_LENGTH, at,
		    "block of type 0x%08x has impossible length %u", type, len);
	switch (type) {
	case PCAPNG_IDB:
		minimum = 20;
		break;
	case PCAPNG_EPB:
	case PCAPNG_PB:
		minimum = 32;
		break;
	case PCAPNG_SPB:
		minimum = 16;
		break;
	default:
		minimum = 12;
	}
	if (len < minimum)
		return sc_err_at(e, SC_ERR_LENGTH, at,
		    "block of type 0x%08x has length %u, below its minimum %u",
		    type, len, minimum);
	if ((r = need(cap, len, &p, "block", e)) != 0)
		return r;
	if (capture_get32(p + len - 4, be) != len)
		return sc_err_at(e, SC_ERR_TRAILER, at,
		    "block of type 0x%08x: trailer says %u bytes, header %u",
		    type, capture_get32(p + len - 4, be), len);

	rec->block_type = type;
	rec->offset = at;
	rec->len = len;
	rec->data = p;

	switch (type) {
	case PCAPNG_IDB: {
		struct capture_interface *nifc = new_interface(cap, at, e);

		if (nifc == NULL)
			return SC_ERR_LIMIT;
		nifc->linktype = get16(p + 8, be);
		nifc->snaplen = capture_get32(p + 12, be);
		if ((r = pcapng_idb_options(p, len, be, nifc, at, e)) != 0)
			return r;
		rec->kind = REC_INTERFACE;
		break;
	}
	case PCAPNG_EPB:
	case PCAPNG_PB: {
		uint64_t ts;

		rec->kind = REC_PACKET;
		rec->interface = type == PCAPNG_EPB ? capture_get32(p + 8, be)
		    : get16(p + 8, be);
		rec->caplen = capture_get32(p + 20, be);
		rec->origlen = capture_get32(p + 24, be);
		rec->packet = p + 28;
		if (rec->caplen > len - 32)
			return sc_err_at(e, SC_ERR_LENGTH, at,
			    "packet block claims %u captured bytes in a block "
			    "of %u", rec->caplen, len);
		ifc = capture_section_interface(cap, s, rec->interface);
		if (ifc == NULL)
			return sc_err_at(e, SC_ERR_INTERFACE, at,
			    "packet names interface %u, but its section has "
			    "%zu", rec->interface, s->n_interfaces);
		ts = (uint64_t)capture_get32(p + 12, be) << 32 | capture_get32(p + 16, be);
		rec->time = time_from_units(ts, ifc->tsresol, ifc->tsoffset);
		rec->has_time = 1;
		break;
	}
	case PCAPNG_SPB:
		rec->kind = REC_PACKET;
		rec->interface = 0;
		rec->origlen = capture_get32(p + 8, be);
		ifc = capture_section_interface(cap, s, 0);
		if (ifc == NULL)
			return sc_err_at(e, SC_ERR_INTERFACE, at,
			    "simple packet block, but its section has no "
			    "interface");
		rec->packet = p + 12;
		rec->caplen = rec->origlen;
		if (ifc->snaplen != 0 && rec->caplen > ifc->snaplen)
			rec->caplen = ifc->snaplen;
		if (rec->caplen > len - 16)
			rec->caplen = len - 16;
		break;
	case PCAPNG_DSB:
	case PCAPNG_NRB:
		rec->kind = REC_CARRY;
		break;
	case PCAPNG_ISB:
		rec->kind = REC_OTHER;
		break;
	case PCAPNG_CB_COPY:
	case PCAPNG_CB_NOCOPY:
		rec->kind = REC_OTHER;
		cap->custom_blocks++;
		break;
	default:
		rec->kind = REC_OTHER;
		cap->other_blocks++;
		break;
	}
	if (rec->kind == REC_PACKET) {
		struct capture_interface *w =
		    &cap->interfaces[s->first_interface + rec->interface];

		rec->linktype = w->linktype;
		w->packets++;
		cap->packets++;
	}
	cap->blocks_by_kind[rec->kind]++;
	source_skip(cap->src, len);
	return 1;
}

/* --- common --------------------------------------------------------- */

int
capture_open(struct capture *cap, struct source *src, struct sc_err *e)
{
	const uint8_t *p;
	uint32_t magic;
	size_t got;
	int r;

	memset(cap, 0, sizeof(*cap));
	cap->src = src;
	if ((r = source_need(src, 4, &p, &got, e)) != 0)
		return r;
	if (got == 0)
		return sc_err_at(e, SC_ERR_EMPTY, 0, "the file is empty");
	if (got < 4)
		return sc_err_at(e, SC_ERR_NOT_CAPTURE, 0,
		    "only %zu bytes, too short for any capture header", got);
	magic = capture_get32(p, 1);
	switch (magic) {
	case 0xa1b2c3d4u: case 0xd4c3b2a1u:
	case 0xa1b23c4du: case 0x4d3cb2a1u:
	case 0xa1b2cd34u: case 0x34cdb2a1u:
		cap->format = CAPTURE_PCAP;
		/* Read as big-endian, the magic is right way round exactly
		 * when the file is big-endian. */
		cap->big_endian = (magic & 0xffff0000u) == 0xa1b20000u;
		cap->pcap_magic = cap->big_endian ? magic : __builtin_bswap32(magic);
		cap->pcap_nsec = cap->pcap_magic == 0xa1b23c4du;
		cap->pcap_rec_hdr = cap->pcap_magic == 0xa1b2cd34u ? 24 : 16;
		return 0;
	case PCAPNG_SHB:
		cap->format = CAPTURE_PCAPNG;
		return 0;
	}
	return sc_err_at(e, SC_ERR_NOT_CAPTURE, 0,
	    "not a pcap or pcapng file (first bytes %02x %02x %02x %02x)",
	    p[0], p[1], p[2], p[3]);
}

int
capture_next(struct capture *cap, struct capture_rec *rec, struct sc_err *e)
{
	int r;

	memset(rec, 0, sizeof(*rec));
	if (!cap->started) {
		if (cap->format == CAPTURE_PCAP)
			r = pcap_read_header(cap, rec, e);
		else
			r = pcapng_read_shb(cap, rec, e);
		if (r == 1) {
			cap->started = 1;
			cap->blocks_by_kind[REC_SECTION]++;
		}
		return r;
	}
	if (cap->format == CAPTURE_PCAP)
		return pcap_next(cap, rec, e);
	r = pcapng_next(cap, rec, e);
	if (r == 1 && rec->kind == REC_SECTION)
		cap->blocks_by_kind[REC_SECTION]++;
	return r;
}
