/* SPDX-License-Identifier: MIT */
/*
 * s3_chunked: streaming decoder for aws-chunked request bodies, all three
 * forms (shared/reference/s3.md 3b):
 *   STREAMING-AWS4-HMAC-SHA256-PAYLOAD          signed chunks, chain verified
 *   STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER  signed chunks + signed trailer
 *   STREAMING-UNSIGNED-PAYLOAD-TRAILER          plain chunks + trailer
 * Resumable across any split of the input. Decoded payload bytes are handed
 * to a callback as they arrive (before the chunk's signature is checked: the
 * caller must not commit anything until s3_chunked_finish returns 0). Pure:
 * no I/O, no lws.
 */
#ifndef BB_EMULATOR_S3_S3_CHUNKED_H
#define BB_EMULATOR_S3_S3_CHUNKED_H

#include <stddef.h>
#include <stdint.h>

enum s3_chunked_mode {
    S3_CHUNKED_SIGNED,
    S3_CHUNKED_SIGNED_TRAILER,
    S3_CHUNKED_UNSIGNED_TRAILER,
};

#define S3_CHUNKED_MIN_CHUNK 8192   /* every signed chunk but the last */
#define S3_CHUNKED_MAX_LINE 4096    /* chunk header / trailer line cap */
#define S3_CHUNKED_MAX_TRAILERS 8

struct s3_chunked_params {
    enum s3_chunked_mode mode;
    int verify; /* signed modes: 1 checks every signature; 0 (auth off) parses them only */
    unsigned char signing_key[32]; /* signed modes */
    const char *amz_date;          /* signed modes; copied */
    const char *scope;             /* signed modes; copied */
    const char *seed_signature;    /* signed modes: the Authorization signature; copied */
    const char *trailer_names;     /* value of x-amz-trailer (comma separated), or NULL; copied */
    uint64_t decoded_length;       /* x-amz-decoded-content-length, or UINT64_MAX if absent */
};

/** Receives decoded payload bytes; return 0 to go on, negative to abort
 * (the value is returned from s3_chunked_feed). */
typedef int s3_chunked_data_cb(void *arg, const char *p, size_t n);

struct s3_chunked;

/** Returns a new decoder; free with s3_chunked_free. Copies what it keeps. */
struct s3_chunked *s3_chunked_new(const struct s3_chunked_params *params);
void s3_chunked_free(struct s3_chunked *c);

/**
 * Feeds @n encoded bytes. Returns 0, or:
 *   BB_EINVAL    malformed framing (bad hex size, missing CRLF, line too
 *                long, a signed chunk under 8 KiB that is not the last,
 *                a trailer not announced in x-amz-trailer, bytes after the end)
 *   BB_EBADSIG   a chunk or trailer signature does not match
 *   BB_ETOOBIG   more payload than decoded_length
 *   <0 from the callback
 * After an error the decoder accepts nothing more. *why (may be NULL) gets a
 * short static reason.
 */
int s3_chunked_feed(struct s3_chunked *c, const char *p, size_t n, s3_chunked_data_cb *cb,
                    void *arg, const char **why);

/**
 * Called at the end of the body. Returns 0 when the terminal chunk (and, in
 * trailer modes, the trailer block and its signature) was seen and the
 * payload length equals decoded_length (when given); BB_EINCOMPLETE
 * otherwise; BB_EINVAL when a trailer named in x-amz-trailer never came.
 */
int s3_chunked_finish(struct s3_chunked *c, const char **why);

/** Value of a received trailer (name case-insensitive), or NULL. Borrowed;
 * valid until s3_chunked_free. */
const char *s3_chunked_trailer(const struct s3_chunked *c, const char *name);

/** Decoded payload bytes seen so far. */
uint64_t s3_chunked_decoded(const struct s3_chunked *c);

#endif
