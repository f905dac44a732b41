/* SPDX-License-Identifier: MIT */
/*
 * store_stamp: an upload's own description (key, ETag, Content-Type,
 * metadata, checksum, tags, and the request that made it), written to its
 * file as the extended attribute user.bucketbridge just before the rename
 * that puts it in place. The rename and the index commit are two steps; if
 * the daemon dies between them, the restart's reconciliation finds the file
 * without its row and, reading the stamp, indexes it as it was uploaded
 * instead of as a dropped file. A stamp counts only on the file it was
 * written for (same bucket, key, inode, size and mtime): a copy, a move or
 * an edit of the file makes it void. Best effort: file systems without user
 * xattrs just have no stamps.
 */
#ifndef BB_EMULATOR_STORE_STAMP_H
#define BB_EMULATOR_STORE_STAMP_H

#include "store.h"
#include "store_index.h"

struct stat;

/** The request a stamp records; strings owned (store_stamp_cleanup). */
struct store_stamp {
    struct store_object o; /* key, etag, content_type, headers, checksum_alg,
                              checksum, tags */
    char *request_id;
    char *requester;
    char *source_ip;
    char *reason;
};

/** Stamps @path with @o (its file_ino/file_mtime_ns set) in @bucket, made
 * by @cause. Returns 0, or a negative code (nothing is written then). */
int store_stamp_write(const char *path, const char *bucket, const struct store_object *o,
                      const struct store_cause *cause);
/** Reads @path's stamp into @out when it was written for (@bucket, @key)
 * and the file @sb describes. Returns 0, or BB_ENOTFOUND. */
int store_stamp_read(const char *path, const char *bucket, const char *key, const struct stat *sb,
                     struct store_stamp *out);
/** The stamp's cause, borrowing @s's strings. */
void store_stamp_cause(const struct store_stamp *s, struct store_cause *c);
void store_stamp_cleanup(struct store_stamp *s);

#endif
