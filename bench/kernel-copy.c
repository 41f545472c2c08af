/* kernel-copy.c - shardcap's chunks written by the kernel copy alone, for
 * bench/split to time beside `shardcap split`: each chunk's records copied
 * inside the kernel (copy_file_range, 1 MiB a call, as shardcap's copier
 * did until 2026-11-28) into a file that begins with the input's 24-byte
 * pcap header. It reads, parses and hashes nothing; it is told where the
 * chunks end.
 *
 *   kernel-copy CAPTURE DIR SIZE...
 *
 * SIZE: each chunk file's size, from shardcap's manifest of the same split
 * (the header included). Writes DIR/kcopy-000001.pcap, ...: the same bytes
 * as shardcap's chunks. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PCAP_HEADER 24
#define PIECE (1u << 20)

static void
die(const char *what, const char *name)
{
	fprintf(stderr, "kernel-copy: %s '%s': %s\n", what, name,
	    strerror(errno));
	exit(1);
}

int
main(int argc, char **argv)
{
	unsigned char header[PCAP_HEADER];
	char path[4096];
	loff_t off = PCAP_HEADER;
	int in, i;

	if (argc < 4) {
		fprintf(stderr, "usage: kernel-copy CAPTURE DIR SIZE...\n");
		return 2;
	}
	if ((in = open(argv[1], O_RDONLY)) < 0)
		die("cannot open", argv[1]);
	if (pread(in, header, sizeof(header), 0) != (ssize_t)sizeof(header))
		die("cannot read the header of", argv[1]);
	for (i = 3; i < argc; i++) {
		uint64_t left = strtoull(argv[i], NULL, 10);
		int out;

		if (left < PCAP_HEADER) {
			fprintf(stderr, "kernel-copy: bad size '%s'\n", argv[i]);
			return 2;
		}
		left -= PCAP_HEADER;
		snprintf(path, sizeof(path), "%s/kcopy-%06d.pcap", argv[2],
		    i - 2);
		out = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (out < 0)
			die("cannot create", path);
		if (write(out, header, sizeof(header)) !=
		    (ssize_t)sizeof(header))
			die("cannot write", path);
		while (left > 0) {
			size_t want = left < PIECE ? (size_t)left : PIECE;
			ssize_t n = copy_file_range(in, &off, out, NULL, want, 0);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				if (n == 0)
					errno = EIO;
				die("cannot copy into", path);
			}
			left -= (uint64_t)n;
		}
		if (close(out) < 0)
			die("cannot write", path);
	}
	close(in);
	return 0;
}
