/* SPDX-License-Identifier: MIT */
/*
 * s3_copy: CopyObject, and what UploadPartCopy shares with it: the
 * x-amz-copy-source header (URL-encoded "bucket/key", optional leading '/',
 * optional "?versionId=null"), the x-amz-copy-source-if-* conditions, and
 * a streaming byte copy between files that hashes on the way. Loop thread.
 */
#ifndef BB_EMULATOR_S3_S3_COPY_H
#define BB_EMULATOR_S3_S3_COPY_H

#include <stdint.h>

#include "store_index.h"

struct bb_checksum;
struct bb_hash;
struct s3_req;

/** The opened source of a copy. Owns everything; free with
 * s3_copy_source_cleanup. */
struct s3_copy_source {
    char *bucket; /* decoded */
    char *key;    /* decoded */
    struct store_object o;
    int fd;
    uint64_t size;
};

/**
 * Parses x-amz-copy-source, looks the object up, opens its file and checks
 * the x-amz-copy-source-if-match / -if-none-match / -if-modified-since /
 * -if-unmodified-since conditions. Returns 0 with @src filled; on failure
 * answers the request itself (InvalidArgument, NoSuchBucket, NoSuchKey,
 * PreconditionFailed, ...) and returns a negative code. Call
 * s3_copy_source_cleanup in both cases.
 */
int s3_copy_source_open(struct s3_req *q, struct s3_copy_source *src);
void s3_copy_source_cleanup(struct s3_copy_source *src);

/**
 * Copies @len bytes of @src_fd from @off to the end of @dst_fd, updating
 * @md5 and @ck when not NULL. Returns 0, BB_EINCOMPLETE when the source is
 * shorter than expected, or -errno.
 */
int s3_copy_stream(int src_fd, uint64_t off, uint64_t len, int dst_fd, struct bb_hash *md5,
                   struct bb_checksum *ck);

#endif
