/* SPDX-License-Identifier: MIT */
/*
 * s3_auth: authenticates an S3 request against the configured credentials:
 * SigV4 in the Authorization header, SigV4 presigned query, or none (when
 * --auth none). Produces what the body pipeline needs to verify the payload
 * (the declared payload hash, the streaming signing state). Loop thread.
 */
#ifndef BB_EMULATOR_S3_S3_AUTH_H
#define BB_EMULATOR_S3_S3_AUTH_H

#include "s3_error.h"
#include "s3_sigv4.h"

struct s3_req;

enum s3_payload {
    S3_PAYLOAD_UNSIGNED,   /* UNSIGNED-PAYLOAD, presigned, or auth off */
    S3_PAYLOAD_SHA256,     /* hex SHA-256 given: verify it */
    S3_PAYLOAD_STREAMING_SIGNED,
    S3_PAYLOAD_STREAMING_SIGNED_TRAILER,
    S3_PAYLOAD_STREAMING_UNSIGNED_TRAILER,
};

struct s3_auth_result {
    enum s3_payload payload;
    char payload_sha256[65]; /* S3_PAYLOAD_SHA256 */
    unsigned char signing_key[32];
    char amz_date[17];
    char scope[256];
    char seed_signature[65];
    int authenticated;
    int presigned; /* SigV4 query auth passed: x-amz-* query parameters count as headers */
    /* JSON APIs send no x-amz-content-sha256: the signature covers the
     * body's hash, so it is checked once the body is read */
    int deferred;
    struct s3_sigv4_auth pending;
};

/**
 * Checks the request's signature. On success returns S3E_NONE and fills
 * q->auth. On failure answers the request itself (with the canonical request
 * and string to sign in a SignatureDoesNotMatch body) and returns the error.
 */
enum s3_error s3_auth_check(struct s3_req *q);

/**
 * Completes a deferred check (q->auth.deferred) with the hex SHA-256 of the
 * body that was read. Same contract as s3_auth_check.
 */
enum s3_error s3_auth_finish_deferred(struct s3_req *q, const char *payload_sha256);

#endif
