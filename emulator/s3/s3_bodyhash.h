/* SPDX-License-Identifier: MIT */
/*
 * s3_bodyhash: the MD5 (ETag) of a large upload computed on a hashing
 * thread while the loop thread goes on receiving and writing it. MD5 runs
 * at about 640 MB/s here and cannot be split, so on the loop thread it was
 * half the time of a large PUT; beside it, the upload takes about as long
 * as the slower of the two.
 *
 * The loop thread fills the upload's buffers in turn and submits each one;
 * one process-wide thread hashes submitted buffers in order and gives them
 * back. A buffer is reused only once hashed, so at most
 * S3_BODYHASH_BUFS x S3_BODYHASH_BUF bytes of an upload are in flight; when
 * all are, s3_bodyhash_buffer() waits for one (the loop would otherwise
 * have spent that time hashing). Loop thread, except the hashing thread's
 * own use.
 */
#ifndef BB_EMULATOR_S3_S3_BODYHASH_H
#define BB_EMULATOR_S3_S3_BODYHASH_H

#include <stddef.h>

#define S3_BODYHASH_BUF (256 * 1024)
#define S3_BODYHASH_BUFS 4
#define S3_BODYHASH_MIN (1024 * 1024) /* bodies from this size are hashed beside the loop */

struct s3_bodyhash;

/** A new MD5 for one upload, or NULL when the hashing thread cannot run
 * (the caller hashes inline). Free with s3_bodyhash_free. */
struct s3_bodyhash *s3_bodyhash_new(void);
/** The buffer to fill next (S3_BODYHASH_BUF bytes; borrowed until
 * submitted), waiting for one to be hashed when all are in flight. */
unsigned char *s3_bodyhash_buffer(struct s3_bodyhash *h);
/** Hands the buffer from s3_bodyhash_buffer() with its first @len bytes to
 * the hashing thread; buffers are hashed in the order submitted. */
void s3_bodyhash_submit(struct s3_bodyhash *h, size_t len);
/** Waits for every submitted buffer and writes the digest (16 bytes). */
void s3_bodyhash_final(struct s3_bodyhash *h, unsigned char *md5);
/** Waits for buffers in flight, then frees. NULL-safe. */
void s3_bodyhash_free(struct s3_bodyhash *h);
/** Stops the hashing thread (at daemon exit, after every upload is freed). */
void s3_bodyhash_shutdown(void);

#endif
