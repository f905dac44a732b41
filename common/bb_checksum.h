/* SPDX-License-Identifier: MIT */
/*
 * bb_checksum: the S3 additional checksums (CRC32, CRC32C, CRC64NVME, SHA1,
 * SHA256), streamed. Values are exchanged as S3 does: base64 of the
 * big-endian checksum value. Pure; any thread.
 */
#ifndef BB_COMMON_BB_CHECKSUM_H
#define BB_COMMON_BB_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

enum bb_checksum_alg {
    BB_CHECKSUM_NONE = 0,
    BB_CHECKSUM_CRC32,
    BB_CHECKSUM_CRC32C,
    BB_CHECKSUM_CRC64NVME,
    BB_CHECKSUM_SHA1,
    BB_CHECKSUM_SHA256,
};

#define BB_CHECKSUM_MAX_RAW 32
#define BB_CHECKSUM_MAX_B64 45 /* base64 of 32 bytes + NUL */

/** Streaming checksum state; storage owned by the caller. */
struct bb_checksum {
    enum bb_checksum_alg alg;
    uint64_t crc;
    struct bb_hash *hash; /* SHA1/SHA256 only; owned */
};

/** Names: "CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256" (case-insensitive
 * parse). Returns BB_CHECKSUM_NONE for an unknown name. */
enum bb_checksum_alg bb_checksum_alg_from_name(const char *name);
/** Upper-case name, or "" for NONE. Static string. */
const char *bb_checksum_alg_name(enum bb_checksum_alg alg);
/** Header name, e.g. "x-amz-checksum-crc32"; NULL for NONE. Static string. */
const char *bb_checksum_header_name(enum bb_checksum_alg alg);
/** Maps a header/trailer name like "x-amz-checksum-crc64nvme" to its alg. */
enum bb_checksum_alg bb_checksum_alg_from_header(const char *name);
/** Raw digest length in bytes (4, 4, 8, 20, 32; 0 for NONE). */
size_t bb_checksum_raw_len(enum bb_checksum_alg alg);

void bb_checksum_init(struct bb_checksum *c, enum bb_checksum_alg alg);
void bb_checksum_update(struct bb_checksum *c, const void *p, size_t n);
/** Writes the raw big-endian value to @raw; returns its length. The state
 * may not be updated afterwards (call init again). */
size_t bb_checksum_final_raw(struct bb_checksum *c, unsigned char raw[BB_CHECKSUM_MAX_RAW]);
/** Finishes and writes base64 of the raw value into @b64. */
void bb_checksum_final_b64(struct bb_checksum *c, char b64[BB_CHECKSUM_MAX_B64]);
/** Frees what init allocated; safe to call twice. */
void bb_checksum_cleanup(struct bb_checksum *c);
/** One-shot base64 checksum of a buffer. */
void bb_checksum_buf_b64(enum bb_checksum_alg alg, const void *p, size_t n,
                         char b64[BB_CHECKSUM_MAX_B64]);

#endif
