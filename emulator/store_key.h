/* SPDX-License-Identifier: MIT */
/*
 * store_key: bucket-name rules and the bijection between S3 keys and file
 * paths inside a bucket directory. Pure.
 *
 * A key is split on '/'; each segment becomes one path component. Empty
 * segments are escaped with a leading '%':
 *   ""   -> "%"      (from "a//b" or a leading "/")
 *   "%x" -> "%%x"    (any segment that starts with '%')
 * Segments "." and ".." are refused (DESIGN.md: keys a filesystem cannot
 * hold get a clear error). Everything else is stored as is, so
 * "photos/cat.jpg" is the file photos/cat.jpg. The result never contains a
 * "." or ".." component, never starts with '/', and so never leaves the
 * bucket directory.
 */
#ifndef BB_EMULATOR_STORE_KEY_H
#define BB_EMULATOR_STORE_KEY_H

#include <stddef.h>

struct bb_buf;

#define STORE_KEY_MAX 1024
#define STORE_KEY_MAX_SEGMENT 255

/** Returns 0 for a valid bucket name, BB_EINVAL otherwise (*why: reason). */
int store_key_check_bucket(const char *name, const char **why);

/**
 * Appends the relative path for @key (length @len) to @out. Returns 0,
 * BB_EINVAL (empty key, NUL byte, invalid UTF-8) or BB_ETOOBIG (key over
 * 1024 bytes or a segment over 255 bytes once escaped); a "." or ".."
 * segment is BB_EINVAL. *why gets a reason.
 */
int store_key_to_path(struct bb_buf *out, const char *key, size_t len, const char **why);

/** Appends the key for a relative path (inverse of store_key_to_path). */
int store_key_from_path(struct bb_buf *out, const char *path, size_t len);

#endif
