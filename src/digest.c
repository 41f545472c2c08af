/* digest.c - content digests of chunks. */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "digest.h"
#include "xalloc.h"
#include "banned.h"

int
digest_algo_from_name(const char *name)
{
	if (strcmp(name, "xxh128") == 0)
		return DIGEST_XXH128;
	if (strcmp(name, "sha256") == 0)
		return DIGEST_SHA256;
	return -1;
}

const char *
digest_algo_name(enum digest_algo algo)
{
	return algo == DIGEST_SHA256 ? "sha256" : "xxh128";
}

size_t
digest_len(enum digest_algo algo)
{
	return algo == DIGEST_SHA256 ? 32 : 16;
}

void
digest_init(struct digest *d, enum digest_algo algo)
{
	d->algo = algo;
	if (algo == DIGEST_SHA256) {
		EVP_MD_CTX *ctx = EVP_MD_CTX_new();

		if (ctx == NULL ||
		    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
			xmalloc((size_t)-1); /* reports out of memory */
		d->ctx = ctx;
	} else {
		XXH3_state_t *st = XXH3_createState();

		if (st == NULL)
			xmalloc((size_t)-1);
		XXH3_128bits_reset(st);
		d->ctx = st;
	}
}

void
digest_update(struct digest *d, const void *data, size_t len)
{
	if (d->algo == DIGEST_SHA256)
		EVP_DigestUpdate(d->ctx, data, len);
	else
		XXH3_128bits_update(d->ctx, data, len);
}

void
digest_final(struct digest *d, uint8_t out[DIGEST_MAX_LEN])
{
	if (d->algo == DIGEST_SHA256) {
		unsigned int len = 32;

		EVP_DigestFinal_ex(d->ctx, out, &len);
		EVP_DigestInit_ex(d->ctx, EVP_sha256(), NULL);
	} else {
		XXH128_canonical_t c;

		/* The canonical (big-endian) form is what xxhsum prints. */
		XXH128_canonicalFromHash(&c, XXH3_128bits_digest(d->ctx));
		memcpy(out, c.digest, 16);
		XXH3_128bits_reset(d->ctx);
	}
}

void
digest_release(struct digest *d)
{
	if (d->ctx == NULL)
		return;
	if (d->algo == DIGEST_SHA256)
		EVP_MD_CTX_free(d->ctx);
	else
		XXH3_freeState(d->ctx);
	d->ctx = NULL;
}

void
digest_hex(enum digest_algo algo, const uint8_t *d,
    char out[DIGEST_MAX_HEX + 1])
{
	static const char hex[] = "0123456789abcdef";
	size_t i, len = digest_len(algo);

	for (i = 0; i < len; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[2 * len] = '\0';
}
