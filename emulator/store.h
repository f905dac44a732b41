/* SPDX-License-Identifier: MIT */
/*
 * store: buckets as directories under the data dir, objects as files at
 * their key (see store_key.h for the escaping), indexed in SQLite. An upload
 * is written to .bucketbridge/tmp/, then renamed into place and indexed, so a
 * reader never sees half an object. Loop thread only.
 */
#ifndef BB_EMULATOR_STORE_H
#define BB_EMULATOR_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "store_index.h"

struct config;
struct db;
struct store;

/** Who caused a change; carried into the change's event. Borrowed. */
struct store_cause {
    const char *request_id;
    const char *requester; /* account id, or "local-file" for the watcher */
    const char *source_ip;
    const char *reason; /* "PutObject", "CopyObject", "CompleteMultipartUpload", "DeleteObject" */
};

/** What a store_change is about besides creation and deletion. */
enum store_change_kind {
    STORE_CHANGE_OBJECT = 0,   /* created or replaced, or deleted (see deleted) */
    STORE_CHANGE_TAGS_ADDED,   /* PutObjectTagging: object is the row */
    STORE_CHANGE_TAGS_DELETED, /* DeleteObjectTagging: object is the row */
};

/** A committed change, as the change hook sees it. Borrowed for the call. */
struct store_change {
    int deleted; /* 0: object created or replaced; 1: object deleted */
    const char *bucket;
    const char *key;
    const struct store_object *object; /* created, tags: the row; deleted: NULL */
    const struct store_cause *cause;
    enum store_change_kind kind;
};

/** Called inside the transaction that commits a change; a negative return
 * rolls the change back. */
typedef int store_change_cb(void *arg, const struct store_change *c);
/** Called after such a transaction committed. */
typedef void store_committed_cb(void *arg);

/**
 * Opens the data dir (creating it, .bucketbridge/ and its tmp/), sweeps
 * leftovers in tmp/, opens state.db and makes sure the configured buckets
 * and any bucket directories found on disk exist. Returns 0 and *out (free
 * with store_free), or a negative code (logged).
 */
int store_open(const struct config *cfg, struct store **out);
void store_free(struct store *st);

const char *store_data_dir(const struct store *st);
struct db *store_get_db(struct store *st);
/** Installs the change hook (the event bus). @arg borrowed. */
void store_set_change_hook(struct store *st, store_change_cb *cb, store_committed_cb *after,
                           void *arg);
struct store_index *store_get_index(struct store *st);

/** 1 if the bucket exists, 0 if not. */
int store_bucket_exists(struct store *st, const char *name);
/** BB_ECONFLICT if it exists already. */
int store_bucket_create(struct store *st, const char *name);
/** BB_ENOTFOUND, or BB_ECONFLICT when not empty. */
int store_bucket_delete(struct store *st, const char *name);

/**
 * Creates a new temporary file for an upload. Returns 0 with the fd and a
 * new path string (free()), or -errno.
 */
int store_tmp_create(struct store *st, int *fd, char **path);

/**
 * Moves @tmp_path into place as @o->key in @bucket and writes the index row
 * (@o borrowed), and commits the change's event (@cause) in the same
 * transaction as the index row. Returns 0; BB_ECONFLICT when the key's path collides with
 * an object or a prefix (the tmp file is left for the caller to remove);
 * BB_EINVAL/BB_ETOOBIG for keys a filesystem cannot hold; -errno.
 */
int store_object_commit(struct store *st, const char *bucket, const char *tmp_path,
                        const struct store_object *o, const struct store_cause *cause);

/** Opens the object's file read-only. BB_ENOTFOUND when absent. */
int store_object_open(struct store *st, const char *bucket, const char *key, int *fd);

/** Deletes the file and the row, and empty parent directories. Deleting a
 * missing key succeeds (S3 semantics); returns 1 if something was deleted. */
int store_object_delete(struct store *st, const char *bucket, const char *key,
                        const struct store_cause *cause);

/**
 * Replaces the tag set of @key (@tags: JSON text as stored, or NULL to
 * remove it) and commits a STORE_CHANGE_TAGS_ADDED (or _DELETED when @tags
 * is NULL) change in the same transaction. BB_ENOTFOUND when there is no
 * such object.
 */
int store_object_set_tags(struct store *st, const char *bucket, const char *key, const char *tags,
                          const struct store_cause *cause);

/** Indexes a file already in place at @o->key (the watcher; @o borrowed
 * and complete: size, etag, content type, file_mtime_ns, file_ino) and
 * commits its event. */
int store_object_adopt(struct store *st, const char *bucket, const struct store_object *o,
                       const struct store_cause *cause);
/** Forgets @key whose file went away (the watcher). Returns 1 when a row
 * was removed (and its event committed), 0 when there was none. */
int store_object_forget(struct store *st, const char *bucket, const char *key,
                        const struct store_cause *cause);

/** The path of @key inside the data dir into a new string, or NULL with
 * *why set when the key cannot be a path. */
char *store_object_path(struct store *st, const char *bucket, const char *key, const char **why,
                        int *rc);

#endif
