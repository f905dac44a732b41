/* SPDX-License-Identifier: MIT */
/*
 * s3_sigv4: AWS Signature Version 4 for S3, as pure functions: parse the
 * Authorization header or presigned query, build the canonical request and
 * string to sign, derive the signing key, sign. No I/O, no globals, no lws.
 * See shared/reference/s3.md section 3a; docs/internals/s3_sigv4.md.
 */
#ifndef BB_EMULATOR_S3_S3_SIGV4_H
#define BB_EMULATOR_S3_S3_SIGV4_H

#include <stdbool.h>
#include <stddef.h>

struct bb_buf;

#define S3_SIGV4_MAX_SIGNED_HEADERS 64

/** One request header as received (name in any case, value untrimmed). */
struct s3_sigv4_header {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
};

/** The parts of "AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request,
 * SignedHeaders=a;b, Signature=hex" or of the presigned X-Amz-* query. */
struct s3_sigv4_auth {
    char akid[129];
    char date[9];          /* yyyymmdd from the credential scope */
    char region[64];
    char service[32];
    char scope[256];       /* "yyyymmdd/region/service/aws4_request" */
    char signed_headers[1024]; /* "host;x-amz-date", as given */
    char signature[65];    /* lowercase hex */
    char amz_date[17];     /* presigned: X-Amz-Date; header form: filled by caller */
    long expires;          /* presigned: X-Amz-Expires; else 0 */
};

/**
 * Parses an Authorization header value. Accepts ", " and "," separators and
 * any order of the three components. Returns 0, or BB_EINVAL with a short
 * static reason in *why (for AuthorizationHeaderMalformed).
 */
int s3_sigv4_parse_header(const char *value, size_t len, struct s3_sigv4_auth *out,
                          const char **why);

/**
 * Parses the presigned-URL parameters out of the raw (still percent-encoded)
 * query string @raw_query (no leading '?'). Returns 0, BB_ENOTFOUND when
 * X-Amz-Algorithm is absent (not a presigned request), or BB_EINVAL with *why.
 */
int s3_sigv4_parse_query(const char *raw_query, size_t len, struct s3_sigv4_auth *out,
                         const char **why);

/**
 * Appends the canonical request to @out:
 *   method \n canonical-uri \n canonical-query \n canonical-headers \n
 *   signed-headers \n payload-hash
 * @raw_path is the path exactly as on the wire (percent-encoded, no query);
 * it is decoded and re-encoded once with S3's rules ('/' kept, no
 * normalisation of "//" or ".."). @raw_query is the raw query string (may be
 * NULL or empty); each name and value is decoded ('+' means space) and
 * re-encoded, pairs sorted; with @presigned, X-Amz-Signature is left out.
 * Headers named in @signed_headers (';'-separated, lowercase) are looked up
 * in @hdrs case-insensitively; repeats are joined with ','; values trimmed
 * with inner runs of spaces collapsed. Returns 0, BB_EINVAL (malformed
 * percent-encoding, a signed header that is absent) or BB_ETOOBIG.
 */
int s3_sigv4_canonical_request(struct bb_buf *out, const char *method, const char *raw_path,
                               size_t path_len, const char *raw_query, size_t query_len,
                               const struct s3_sigv4_header *hdrs, size_t nhdrs,
                               const char *signed_headers, const char *payload_hash,
                               bool presigned);

/** Appends "AWS4-HMAC-SHA256\n<amz_date>\n<scope>\n<hex sha256(creq)>" to @out. */
int s3_sigv4_string_to_sign(struct bb_buf *out, const char *amz_date, const char *scope,
                            const char *creq, size_t creq_len);

/** kSigning from the secret and the scope parts. */
void s3_sigv4_signing_key(const char *secret, const char *date8, const char *region,
                          const char *service, unsigned char key[32]);

/** hex(HMAC-SHA256(key, msg)) into @hex (65 bytes). */
void s3_sigv4_sign(const unsigned char key[32], const char *msg, size_t len, char hex[65]);

/**
 * Signature of one aws-chunked chunk:
 *   "AWS4-HMAC-SHA256-PAYLOAD\n" amz_date "\n" scope "\n" prev_sig "\n"
 *   hex(sha256("")) "\n" chunk_sha256_hex
 */
void s3_sigv4_chunk_signature(const unsigned char key[32], const char *amz_date,
                              const char *scope, const char *prev_sig,
                              const char *chunk_sha256_hex, char hex[65]);

/**
 * Signature of the trailer block:
 *   "AWS4-HMAC-SHA256-TRAILER\n" amz_date "\n" scope "\n" prev_sig "\n"
 *   hex(sha256(canonical_trailers))
 * where @canonical_trailers is "name:value\n" per trailer (LF only).
 */
void s3_sigv4_trailer_signature(const unsigned char key[32], const char *amz_date,
                                const char *scope, const char *prev_sig,
                                const char *canonical_trailers, size_t len, char hex[65]);

/** S3 UriEncode of @n bytes appended to @out; '/' kept when @keep_slash. */
int s3_sigv4_uri_encode(struct bb_buf *out, const char *s, size_t n, bool keep_slash);

/**
 * Percent-decodes @n bytes of @s into @out; '+' becomes ' ' only when
 * @plus_is_space. Returns 0 or BB_EINVAL on a malformed escape.
 */
int s3_sigv4_uri_decode(struct bb_buf *out, const char *s, size_t n, bool plus_is_space);

#endif
