/*
 * mc_sha256 - SHA-256 (FIPS 180-4), for request fingerprints in the
 * idempotency table. Self-contained so no crypto library is needed.
 */
#ifndef MC_SHA256_H
#define MC_SHA256_H

#include <stddef.h>
#include <stdint.h>

/* mc_sha256 - digest of len bytes at data into out[32] */
void mc_sha256(const void *data, size_t len, uint8_t out[32]);

/* mc_hex - lower-case hex of len bytes into buf (2*len+1 bytes) */
const char *mc_hex(const uint8_t *bytes, size_t len, char *buf);

#endif
