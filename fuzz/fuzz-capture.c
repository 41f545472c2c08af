/* fuzz-capture.c - libFuzzer target for the capture readers.
 *
 * The first byte chooses the way in: the whole input in memory, the input
 * trickled through the sliding window in odd-sized pieces, or a real file
 * descriptor (a memfd) opened by path, which also reaches the gzip and zstd
 * decompressor thread and the inspect engine. Every record handed out is
 * checked against the invariants the splitter relies on. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "capture.h"
#include "inspect.h"
#include "source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile uint8_t sink;

static void
check(int cond)
{
	if (!cond)
		abort();
}

static void
read_records(struct source *src)
{
	struct capture cap;
	struct capture_rec rec;
	struct sc_err e;
	uint64_t next = 0;
	int r;

	if (capture_open(&cap, src, &e) != 0)
		return;
	while ((r = capture_next(&cap, &rec, &e)) > 0) {
		/* records tile the input: each starts where the last ended */
		check(rec.offset == next);
		check(rec.len > 0);
		check(rec.data != NULL);
		/* touch both ends, so the sanitizer sees any overrun */
		sink = rec.data[0] ^ rec.data[rec.len - 1];
		if (rec.kind == REC_PACKET) {
			check(rec.caplen <= rec.len);
			check(!rec.has_time || rec.time.nsec < 1000000000u);
		}
		if (rec.kind == REC_SECTION)
			check(rec.header != NULL && rec.header_len > 0);
		next = rec.offset + rec.len;
	}
	/* damage is reported where a record starts */
	check(r == 0 || !e.has_offset || e.offset >= next ||
	    !sc_err_is_format(r));
	capture_release(&cap);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct source src;
	uint8_t mode;

	if (size < 1)
		return 0;
	mode = data[0] % 3;
	data++;
	size--;
	if (mode == 0) {
		source_open_mem(&src, data, size, 0);
		read_records(&src);
		source_close(&src);
	} else if (mode == 1) {
		source_open_mem(&src, data, size, 1 + (uint32_t)size * 2654435761u);
		read_records(&src);
		source_close(&src);
	} else {
		struct inspect_result res;
		struct sc_err e;
		char path[64];
		int fd = memfd_create("fuzz", MFD_CLOEXEC);

		if (fd < 0)
			return 0;
		if (write(fd, data, size) == (ssize_t)size) {
			snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
			if (inspect_capture(path, NULL, &res, &e) == 0)
				check(res.packets <= size);
			inspect_result_release(&res);
		}
		close(fd);
	}
	return 0;
}
