/* SPDX-License-Identifier: MIT */
/*
 * watch: the directory watcher thread. It blocks in libinotifytools on the
 * whole data dir (recursively, .bucketbridge/ excluded), adds watches for
 * directories as they appear and scans them for files created before the
 * watch existed, and hands "file ready" (closed after writing, or moved
 * in), "file gone", "directory gone" and "rescan" (queue overflow) notes to
 * the loop through a bb_queue plus lws_cancel_service. Everything that
 * touches the index runs on the loop (watch_scan.c).
 */
#ifndef BB_EMULATOR_WATCH_H
#define BB_EMULATOR_WATCH_H

struct lws_context;
struct watch;
struct watch_scan;

enum watch_kind {
    WATCH_FILE_READY,
    WATCH_FILE_FOUND, /* seen by a scan of a new directory: maybe still being written */
    WATCH_DIR_NEW,    /* a directory appeared: look at it again a moment later */
    WATCH_FILE_GONE,
    WATCH_DIR_GONE,
    WATCH_RESCAN,
};

/**
 * Starts watching @data_dir (borrowed; outlives the watcher) and its
 * thread; notes go to @scan (borrowed) when the loop calls watch_drain.
 * Returns a new watcher (free with watch_stop) or NULL (logged, e.g. the
 * kernel's watch limit, with the sysctl to raise it).
 */
struct watch *watch_start(const char *data_dir, struct lws_context *lws, struct watch_scan *scan);
/** Stops the thread and frees the watcher. */
void watch_stop(struct watch *w);
/** Hands queued notes to the scan. Loop thread. */
void watch_drain(struct watch *w);

#endif
