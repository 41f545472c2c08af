/* digest.h - content digests of chunks.
 *
 * Two algorithms: XXH3-128, the default, fast enough to cost nothing next
 * to the copy (rsync 3.2 checks transfers with the same hash; `xxhsum -H2`
 * verifies it), and SHA-256 for those who want a cryptographic digest
 * (`sha256sum` verifies it). This is the only file that includes OpenSSL
 * or xxHash. */
#ifndef SHARDCAP_DIGEST_H
#define SHARDCAP_DIGEST_H

#include <stddef.h>
#include <stdint.h>


#define DIGEST_MAX_LEN 32
#define DIGEST_MAX_HEX (2 * DIGEST_MAX_LEN)

enum digest_algo {
	DIGEST_XXH128 = 0,
	DIGEST_SHA256 = 1,
};

struct digest {
	enum digest_algo algo;
	void *ctx;
};

/* The algorithm called name ("xxh128", "sha256"); -1 if none is. */
int digest_algo_from_name(const char *name);
const char *digest_algo_name(enum digest_algo algo);
/* Bytes in a digest of algo. */
size_t digest_len(enum digest_algo algo);

void digest_init(struct digest *d, enum digest_algo algo);
void digest_update(struct digest *d, const void *data, size_t len);
/* Writes the digest and starts d over, ready for the next input. */
void digest_final(struct digest *d, uint8_t out[DIGEST_MAX_LEN]);
void digest_release(struct digest *d);
/* Writes the digest of algo at d as lower-case hex, NUL-terminated; the
 * bytes as `xxhsum -H2` and `sha256sum` print them. */
void digest_hex(enum digest_algo algo, const uint8_t *d,
    char out[DIGEST_MAX_HEX + 1]);

#endif
