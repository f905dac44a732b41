/* SPDX-License-Identifier: MIT */
/*
 * store_index: the buckets and objects tables on top of db: prepared
 * statements, upsert, lookup, ordered range scans. Loop thread only.
 */
#ifndef BB_EMULATOR_STORE_INDEX_H
#define BB_EMULATOR_STORE_INDEX_H

#include <stddef.h>
#include <stdint.h>

struct db;
struct store_index;

/** An object's index row. Strings are owned by the struct; free with
 * store_object_cleanup. */
struct store_object {
    char *key;
    uint64_t size;
    char *etag; /* without quotes */
    char *content_type;
    int64_t mtime_ms;
    char *headers; /* JSON object of stored response headers (x-amz-meta-*, Content-*) */
    char *checksum_alg;
    char *checksum;
    /* the file as last indexed: lets the watcher tell its own writes and
     * unchanged files from changed ones (set by the store) */
    int64_t file_mtime_ns;
    uint64_t file_ino;
    char *tags; /* JSON array of [key, value] pairs (the tag set), or NULL: no tags */
};

void store_object_cleanup(struct store_object *o);

/** Returns a new index over @db (borrowed; must outlive it). */
struct store_index *store_index_new(struct db *db);
void store_index_free(struct store_index *ix);

int store_index_bucket_add(struct store_index *ix, const char *name, int eventbridge);
int store_index_bucket_remove(struct store_index *ix, const char *name);
/** 1 if present, 0 if not, <0 on error. */
int store_index_bucket_exists(struct store_index *ix, const char *name);
/** 1 when @name sends events to EventBridge, 0 when not or absent. */
int store_index_bucket_eventbridge(struct store_index *ix, const char *name);
/** Turns EventBridge delivery of @name on or off. */
int store_index_bucket_set_eventbridge(struct store_index *ix, const char *name, int on);
/** 1 if the bucket has at least one object. */
int store_index_bucket_has_objects(struct store_index *ix, const char *name);

typedef int store_index_bucket_cb(void *arg, const char *name, int64_t created_ms);
int store_index_bucket_each(struct store_index *ix, store_index_bucket_cb *cb, void *arg);

int store_index_put(struct store_index *ix, const char *bucket, const struct store_object *o);
/** Fills @o (free with store_object_cleanup). BB_ENOTFOUND when absent. */
int store_index_get(struct store_index *ix, const char *bucket, const char *key,
                    struct store_object *o);
/** Removes the row; returns 1 if a row was removed, 0 if none. */
int store_index_delete(struct store_index *ix, const char *bucket, const char *key);

/**
 * Ordered scan of @bucket's keys that are > @after (NULL: from the start)
 * and start with @prefix (may be ""). The callback returns 0 to go on, 1 to
 * stop, or sets *reseek (a new exclusive lower bound, a string from
 * bb_xmalloc & co that the scan takes ownership of) and returns 2
 * to skip ahead. Strings in @o are borrowed for the call only.
 */
typedef int store_index_scan_cb(void *arg, const struct store_object *o, char **reseek);
int store_index_scan(struct store_index *ix, const char *bucket, const char *prefix,
                     const char *after, store_index_scan_cb *cb, void *arg);

/** Replaces the tag set of an object (@tags: JSON text, or NULL to remove
 * it). BB_ENOTFOUND when the object has no row. */
int store_index_set_tags(struct store_index *ix, const char *bucket, const char *key,
                         const char *tags);

/** A bucket's CORS rules (JSON text, see s3_cors.c) into *config (free()).
 * BB_ENOTFOUND when the bucket has none. */
int store_index_cors_get(struct store_index *ix, const char *bucket, char **config);
/** Stores a bucket's CORS rules; @config NULL deletes them. */
int store_index_cors_put(struct store_index *ix, const char *bucket, const char *config);

#endif
