/* SPDX-License-Identifier: MIT */
/*
 * watch_scan: what the loop does with the watcher's notes, and the
 * reconciliation of disk against index (at start, and after an inotify
 * overflow). A file is indexed as if PUT (reason "PutObject", requester
 * "local-file") when its size, mtime or inode differ from its index row;
 * the daemon's own writes match their row and are ignored. Deletions wait a
 * moment (WATCH_DELETE_GRACE_MS) so an editor's replace-by-rename yields one
 * "Object Created" and no "Object Deleted". Files over WATCH_HASH_INLINE are
 * hashed on the worker thread. Loop thread.
 */
#ifndef BB_EMULATOR_WATCH_SCAN_H
#define BB_EMULATOR_WATCH_SCAN_H

#include <stddef.h>

struct config;
struct lws_context;
struct store;
struct worker;
struct watch_scan;

#define WATCH_DELETE_GRACE_MS 150
#define WATCH_HASH_INLINE (1024 * 1024)
#define WATCH_SETTLE_MS 300
#define WATCH_DIR_RECHECK_MS 600

/** Returns a new scan over @st (all borrowed; they outlive it). */
struct watch_scan *watch_scan_new(struct store *st, const struct config *cfg, struct worker *wk,
                                  struct lws_context *lws);
void watch_scan_free(struct watch_scan *s);

void watch_scan_file(struct watch_scan *s, const char *path);
/** A file found by scanning a new directory: indexed once its size and
 * mtime stayed the same for WATCH_SETTLE_MS (a writer may still hold it),
 * or at once when its close arrives. */
void watch_scan_found(struct watch_scan *s, const char *path);
/** A directory appeared: its files are looked at again after
 * WATCH_DIR_RECHECK_MS, for those that raced the new watch. */
void watch_scan_dir_new(struct watch_scan *s, const char *path);
void watch_scan_gone(struct watch_scan *s, const char *path);
void watch_scan_dir_gone(struct watch_scan *s, const char *path);
/** Walks every bucket directory and the index; emits what differs. */
void watch_scan_reconcile(struct watch_scan *s);

/**
 * 1 when a path component @name is ignored: hidden names and editors' and
 * downloaders' temporary names by default (".*", "*~", "*.swp", "*.part",
 * "*.crdownload", "4913"), or the configured globs (JSON array text
 * @globs_json; NULL for the defaults). Pure.
 */
int watch_scan_ignored(const char *name, const char *globs_json);

/** The content type for a file name, by extension (static string). Pure. */
const char *watch_scan_content_type(const char *name);

#endif
