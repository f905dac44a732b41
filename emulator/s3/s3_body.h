/* SPDX-License-Identifier: MIT */
/*
 * s3_body: the request-body pipeline shared by every S3 operation:
 *   transport-decoded bytes -> aws-chunked decoding (s3_chunked) ->
 *   MD5 (ETag, Content-MD5), x-amz-content-sha256, x-amz-checksum-* ->
 *   a temporary file (uploads) or a capped memory buffer (XML bodies).
 * An upload of S3_BODYHASH_MIN bytes or more has its MD5 computed on the
 * hashing thread (s3_bodyhash.h) while the loop goes on.
 * Nothing is committed here: s3_body_finish only verifies. Loop thread.
 */
#ifndef BB_EMULATOR_S3_S3_BODY_H
#define BB_EMULATOR_S3_S3_BODY_H

#include <stddef.h>
#include <stdint.h>

#include "bb_buf.h"
#include "bb_checksum.h"
#include "bb_hash.h"
#include "s3_error.h"

struct s3_req;
struct s3_chunked;
struct s3_bodyhash;

#define S3_BODY_WBUF (64 * 1024)

struct s3_body {
    int active;
    int to_file;
    int fd;         /* to_file: the temporary file */
    char *tmp_path; /* owned; unlinked by cleanup unless taken */
    struct bb_buf mem;
    struct s3_chunked *dec;
    struct bb_hash *md5;
    struct bb_hash *sha256;
    struct bb_checksum ck;
    enum bb_checksum_alg ck_alg;
    char ck_expected[BB_CHECKSUM_MAX_B64]; /* from a header; "" when from a trailer */
    int ck_from_trailer;
    char content_md5[BB_MD5_LEN];
    int has_content_md5;
    uint64_t declared_len; /* x-amz-decoded-content-length or Content-Length */
    uint64_t size;         /* payload bytes seen */
    char *wbuf;            /* small uploads: written in S3_BODY_WBUF pieces */
    size_t wlen;
    struct s3_bodyhash *bh; /* large uploads: MD5 on the hashing thread (s3_bodyhash.h) */
    unsigned char *hbuf;    /* the bh buffer being filled */
    enum s3_error err;
    const char *err_msg;
    char err_buf[160];
    /* results of s3_body_finish */
    char etag[2 * BB_MD5_LEN + 1];
    char checksum[BB_CHECKSUM_MAX_B64];
};

/**
 * Sets up the pipeline for q->http's body. @to_file streams into a new
 * temporary file; otherwise the body is kept in memory up to @mem_cap bytes
 * (EntityTooLarge past it). @compute_alg: a checksum to compute when the
 * client sent none (BB_CHECKSUM_NONE for none). Checks the body headers
 * (Content-MD5 form, x-amz-checksum-* form, decoded length). Returns
 * S3E_NONE, or an error with q->body.err_msg set.
 */
enum s3_error s3_body_begin(struct s3_req *q, int to_file, size_t mem_cap,
                            enum bb_checksum_alg compute_alg);
/** Feeds transport-decoded bytes. Returns S3E_NONE or the first error. */
enum s3_error s3_body_feed(struct s3_req *q, const char *p, size_t n);
/** Verifies lengths, chunk signatures, trailers, digests. Fills etag and
 * checksum. Returns S3E_NONE or the error (err_msg set). */
enum s3_error s3_body_finish(struct s3_req *q);
/** Releases everything; unlinks the temporary file unless tmp_path was
 * taken (set to NULL) by the caller. */
void s3_body_cleanup(struct s3_body *b);

#endif
