/* SPDX-License-Identifier: MIT */
/*
 * s3_cond: conditional writes (If-None-Match: * and If-Match: <etag> on
 * PutObject and CompleteMultipartUpload). The headers are read when the
 * request starts, together with a snapshot of the object then; the check
 * runs at commit time, right before the store commits, on the loop thread,
 * so nothing can slip in between check and commit. A condition that held
 * at the start but was broken by another write that finished meanwhile is
 * ConditionalRequestConflict (409), as S3 answers racing writes; one that
 * never held is PreconditionFailed (412). Loop thread.
 */
#ifndef BB_EMULATOR_S3_S3_COND_H
#define BB_EMULATOR_S3_S3_COND_H

#include "s3_error.h"

struct s3_req;

#define S3_COND_ETAG_MAX 96

struct s3_cond {
    int none_match;              /* If-None-Match: * */
    int has_match;               /* If-Match given */
    char match[256];             /* its value */
    int existed;                 /* the object existed when the write began */
    char etag[S3_COND_ETAG_MAX]; /* its ETag then (unquoted) */
};

/**
 * Reads the conditional-write headers of @q and snapshots the current
 * object. Returns S3E_NONE, or S3E_NOT_IMPLEMENTED (If-None-Match with a
 * value other than "*") with *msg set; nothing is answered here.
 */
enum s3_error s3_cond_begin(struct s3_req *q, struct s3_cond *c, const char **msg);

/** 1 when @c holds a condition to check at commit. */
int s3_cond_active(const struct s3_cond *c);

/**
 * Evaluates @c against the object as it is now. Returns S3E_NONE (go on
 * and commit), S3E_PRECONDITION_FAILED, S3E_CONDITIONAL_REQUEST_CONFLICT or
 * S3E_NO_SUCH_KEY (If-Match on a key that has no object, and had none).
 */
enum s3_error s3_cond_check(struct s3_req *q, const struct s3_cond *c);

#endif
