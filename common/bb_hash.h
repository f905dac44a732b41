/* SPDX-License-Identifier: MIT */
/*
 * bb_hash: MD5, SHA-1, SHA-256 and HMAC over OpenSSL libcrypto, plus hex
 * and base64 codecs. The only file that includes OpenSSL headers. Pure; any
 * thread.
 */
#ifndef BB_COMMON_BB_HASH_H
#define BB_COMMON_BB_HASH_H

#include <stddef.h>
#include <stdint.h>

#define BB_MD5_LEN 16
#define BB_SHA1_LEN 20
#define BB_SHA256_LEN 32

enum bb_hash_alg {
    BB_HASH_MD5,
    BB_HASH_SHA1,
    BB_HASH_SHA256,
};

/** Streaming digest. Opaque; create with bb_hash_new, free with bb_hash_free. */
struct bb_hash;

/** Returns a new digest context; free with bb_hash_free. */
struct bb_hash *bb_hash_new(enum bb_hash_alg alg);
/** Initialises OpenSSL and fetches the digests now (about 1.3 ms the first
 * time: OpenSSL reads its configuration and loads its provider) rather
 * than at the first use. Any thread; later calls do nothing. */
void bb_hash_preload(void);
void bb_hash_update(struct bb_hash *h, const void *p, size_t n);
/** Writes the digest to @out (16, 20 or 32 bytes); returns its length. The
 * context may be reused after bb_hash_reset. */
size_t bb_hash_final(struct bb_hash *h, unsigned char *out);
void bb_hash_reset(struct bb_hash *h);
void bb_hash_free(struct bb_hash *h);

/** One-shot digests. */
void bb_md5(const void *p, size_t n, unsigned char out[BB_MD5_LEN]);
void bb_sha1(const void *p, size_t n, unsigned char out[BB_SHA1_LEN]);
void bb_sha256(const void *p, size_t n, unsigned char out[BB_SHA256_LEN]);
/** hex(SHA-256(p)) into @hex (65 bytes, NUL-terminated). */
void bb_sha256_hex(const void *p, size_t n, char hex[65]);
void bb_hmac_sha256(const void *key, size_t keylen, const void *p, size_t n,
                    unsigned char out[BB_SHA256_LEN]);
void bb_hmac_sha1(const void *key, size_t keylen, const void *p, size_t n,
                  unsigned char out[BB_SHA1_LEN]);

/** Lowercase hex of @n bytes into @out (2n+1 bytes). Returns @out. */
char *bb_hex(const unsigned char *p, size_t n, char *out);
/** Base64 (standard alphabet, padded) of @n bytes into @out (4*ceil(n/3)+1). */
char *bb_base64(const unsigned char *p, size_t n, char *out);
/** Decodes standard base64 (padding required, no whitespace) into @out
 * (capacity @cap). Returns the decoded length, BB_EINVAL (not base64) or
 * BB_ETOOBIG (more than @cap bytes). */
int bb_base64_decode(const char *s, size_t n, unsigned char *out, size_t cap);
/** Constant-time comparison of @n bytes; 1 when equal. */
int bb_ct_equal(const void *a, const void *b, size_t n);
/** Fills @out with cryptographically random bytes. */
void bb_random_bytes(unsigned char *out, size_t n);

#endif
