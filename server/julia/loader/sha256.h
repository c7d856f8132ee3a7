/* SHA-256 of a buffer (FIPS 180-4): the loader checks the bytes it links against the digest in the entry's signed
 * metadata, so the check covers exactly what runs. */
#ifndef JLCACHE_SHA256_H
#define JLCACHE_SHA256_H
#include <stddef.h>
#include <stdint.h>
void jlc_sha256(const uint8_t *data, size_t len, uint8_t out[32]);
#endif
