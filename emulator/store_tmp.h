/* SPDX-License-Identifier: MIT */
/*
 * store_tmp: temporary upload files made ahead of need. Creating a file
 * costs the file system an inode allocation, the most expensive step of a
 * small PUT on ext4 (it searches the inode bitmaps, skipping recently freed
 * inodes); a background thread keeps a few empty files open and ready so
 * the loop thread only takes one. It starts at the first take.
 */
#ifndef BB_EMULATOR_STORE_TMP_H
#define BB_EMULATOR_STORE_TMP_H

struct store_tmp;

/* @dir is made by the first file created in it when it does not exist
 * (its parent must). */

/** Starts the filling thread for files in @dir (copied). Returns a new pool
 * (free with store_tmp_free); NULL only if the thread cannot start, in which
 * case store_tmp_take on NULL creates files directly. */
struct store_tmp *store_tmp_new(const char *dir);
/** Stops the thread, closes and removes the files nobody took. */
void store_tmp_free(struct store_tmp *t);
/** A new empty file, open for writing: 0 with *fd (owned) and *path (free()),
 * or -errno. @t may be NULL. */
int store_tmp_take(struct store_tmp *t, const char *dir, int *fd, char **path);

#endif
