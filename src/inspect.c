/* inspect.c - describing a capture in one pass. */
#include <string.h>

#include "inspect.h"
#include "banned.h"

static void
count_block(struct inspect_result *res, const struct capture_rec *rec)
{
	switch (rec->block_type) {
	case PCAPNG_SHB: res->shb++; break;
	case PCAPNG_IDB: res->idb++; break;
	case PCAPNG_EPB: res->epb++; break;
	case PCAPNG_SPB: res->spb++; break;
	case PCAPNG_PB: res->pb++; break;
	case PCAPNG_NRB: res->nrb++; break;
	case PCAPNG_ISB: res->isb++; break;
	case PCAPNG_DSB: res->dsb++; break;
	case PCAPNG_CB_COPY:
	case PCAPNG_CB_NOCOPY: res->custom++; break;
	case 0: break; /* pcap */
	default: res->unknown++; break;
	}
}

static void
count_packet(struct inspect_result *res, const struct capture_rec *rec)
{
	res->packets++;
	res->captured_bytes += rec->caplen;
	res->wire_bytes += rec->origlen;
	if (!rec->has_time) {
		res->untimed++;
		return;
	}
	if (!res->has_time) {
		res->first = res->earliest = res->latest = rec->time;
		res->has_time = 1;
	} else {
		if (sc_time_cmp(&rec->time, &res->last) < 0)
			res->out_of_order++;
		if (sc_time_cmp(&rec->time, &res->earliest) < 0)
			res->earliest = rec->time;
		if (sc_time_cmp(&rec->time, &res->latest) > 0)
			res->latest = rec->time;
	}
	res->last = rec->time;
}

int
inspect_capture(const char *path,
    volatile sig_atomic_t *interrupted, struct inspect_result *res,
    struct sc_err *e)
{
	struct source src;
	struct capture_rec rec;
	unsigned n = 0;
	int r;

	memset(res, 0, sizeof(*res));
	if ((r = source_open(&src, path, interrupted, e)) != 0)
		return r;
	res->compression = src.compression;
	res->file_size = src.file_size;
	if ((r = capture_open(&res->cap, &src, e)) != 0)
		goto out;
	res->pcap_magic = res->cap.pcap_magic;
	for (;;) {
		r = capture_next(&res->cap, &rec, &res->damage);
		if (r == 0)
			break;
		if (r < 0) {
			if (!res->cap.started || !sc_err_is_format(r)) {
				*e = res->damage;
				sc_err_clear(&res->damage);
				goto out;
			}
			res->dropped_bytes = source_drain(&src);
			res->dropped_bytes = res->dropped_bytes >
			    res->damage.offset ? res->dropped_bytes -
			    res->damage.offset : 0;
			break;
		}
		count_block(res, &rec);
		if (rec.kind == REC_PACKET)
			count_packet(res, &rec);
		if (++n % 4096 == 0 && interrupted != NULL && *interrupted) {
			r = sc_err_set(e, SC_ERR_INTERRUPTED, "interrupted");
			goto out;
		}
	}
	res->stream_bytes = res->damage.code != 0 ? source_end(&src) : src.pos;
	r = 0;
out:
	/* The reader's sections and interfaces stay with the result; the
	 * source goes. */
	res->cap.src = NULL;
	source_close(&src);
	return r;
}

void
inspect_result_release(struct inspect_result *res)
{
	capture_release(&res->cap);
}
