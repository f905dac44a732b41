/* SPDX-License-Identifier: MIT */
/*
 * store_own: the files the store itself has just moved into bucket
 * directories, so the watcher thread can tell the store's own renames from
 * a user's without a trip through the loop and the index. Entries are
 * (file name, inode) pairs, forgotten after a claim, after a few seconds, or
 * when newer ones push them out (then the watcher's full check runs, which
 * is also right, only slower). Thread-safe; one table per process.
 */
#ifndef BB_EMULATOR_STORE_OWN_H
#define BB_EMULATOR_STORE_OWN_H

#include <stdint.h>

/** Records that the store is about to rename a file with inode @ino to
 * @path. Loop thread. */
void store_own_note(const char *path, uint64_t ino);
/** 1 when @path (now inode @ino) is such a rename, noted in the last few
 * seconds; the entry is used up. Watcher thread. */
int store_own_claim(const char *path, uint64_t ino);
/** Forgets everything (the watcher lost events and rescans). */
void store_own_clear(void);

#endif
