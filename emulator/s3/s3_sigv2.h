/* SPDX-License-Identifier: MIT */
/*
 * s3_sigv2: AWS Signature Version 2 (HMAC-SHA1) for S3, header form
 * ("Authorization: AWS AKID:SIG") and query form (AWSAccessKeyId, Expires,
 * Signature), as pure functions (shared/reference/s3.md 3c). Debian's
 * libs3 and its `s3` tool sign only this way. No I/O, no globals.
 */
#ifndef BB_EMULATOR_S3_S3_SIGV2_H
#define BB_EMULATOR_S3_S3_SIGV2_H

#include <stddef.h>

#include "s3_sigv4.h"

struct bb_buf;

/**
 * Appends the string to sign to @out:
 *   VERB \n Content-MD5 \n Content-Type \n Date \n CanonicalizedAmzHeaders
 *   CanonicalizedResource
 * @date is the Date header, or the Expires value for a query signature, or
 * "" when an x-amz-date header is present (it is then among the amz
 * headers). @raw_path is the path as sent (still percent-encoded);
 * @raw_query the query (sub-resources and response-* overrides are kept,
 * sorted, with decoded values). Returns 0, BB_EINVAL or BB_ETOOBIG.
 */
int s3_sigv2_string_to_sign(struct bb_buf *out, const char *method, const char *raw_path,
                            size_t path_len, const char *raw_query, size_t query_len,
                            const struct s3_sigv4_header *hdrs, size_t nhdrs, const char *date);

/** base64(HMAC-SHA1(secret, sts)) into @out (at least 29 bytes). */
void s3_sigv2_sign(const char *secret, const char *sts, size_t len, char out[32]);

/** Parses "AWS AKID:SIGNATURE" (visible ASCII only). Returns 0 or BB_EINVAL. */
int s3_sigv2_parse_header(const char *value, size_t len, char akid[129], char sig[64]);

#endif
