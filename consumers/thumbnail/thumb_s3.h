/* SPDX-License-Identifier: MIT */
/*
 * thumb_s3: the few S3 calls the thumbnail consumer makes, through libs3
 * (an ordinary S3 client that knows nothing of the daemon; Debian's 2.0
 * signs with SigV2), path-style against one endpoint. Each call is a
 * blocking request made on the calling thread; any number of threads may
 * call at once with one struct thumb_s3 (libs3's "several threads, each
 * making simple blocking requests"). Only this file includes libs3.h.
 *
 * Errors, mapped for the retry decision:
 *   BB_ENOTFOUND  404 (no such key or bucket): permanent
 *   BB_ETOOBIG    the object is larger than the caller's limit: permanent
 *   BB_EAGAIN     anything else (connection refused, 5xx, timeouts, 403
 *                 while credentials are being fixed): retry later
 * A message for people goes to @err.
 */
#ifndef BB_CONSUMERS_THUMBNAIL_THUMB_S3_H
#define BB_CONSUMERS_THUMBNAIL_THUMB_S3_H

#include <stddef.h>

struct thumb_s3;

#define THUMB_S3_ETAG_MAX 80
#define THUMB_S3_META_VALUE_MAX 1600 /* libs3 allows 2048 bytes of metadata in all */
#define THUMB_S3_MAX_META 6

/* One x-amz-meta-<name>: <value> (both ASCII, header-safe). */
struct thumb_s3_meta {
    const char *name;
    const char *value;
};

/* A fetched object; @data (free()) is owned by the caller after a get. */
struct thumb_s3_object {
    unsigned char *data;
    size_t len;
    char etag[THUMB_S3_ETAG_MAX]; /* without quotes */
};

/**
 * Initialises libs3 for the process. Call once from main() before any
 * thread starts; pair with thumb_s3_global_cleanup(). Returns 0 or
 * BB_EAGAIN.
 */
int thumb_s3_global_init(void);
void thumb_s3_global_cleanup(void);

/**
 * A client for @endpoint ("http://host:port" or "https://host[:port]",
 * no path) with the given credentials (copied). Returns 0 and *out (free
 * with thumb_s3_free) or BB_EINVAL for a malformed endpoint.
 */
int thumb_s3_new(const char *endpoint, const char *access_key, const char *secret_key,
                 struct thumb_s3 **out);
void thumb_s3_free(struct thumb_s3 *s);

/**
 * GETs @bucket/@key (the plain key, not encoded) into @obj, refusing
 * more than @max_bytes (BB_ETOOBIG). On failure @obj holds nothing.
 * Any thread.
 */
int thumb_s3_get(struct thumb_s3 *s, const char *bucket, const char *key, size_t max_bytes,
                 struct thumb_s3_object *obj, char *err, size_t errlen);

/**
 * HEADs @bucket/@key and copies the user metadata @name (without the
 * x-amz-meta- prefix; case-insensitive) into @value (@valuelen bytes with
 * the NUL), "" when the object has no such metadata. Returns 0,
 * BB_ENOTFOUND or BB_EAGAIN. Any thread.
 */
int thumb_s3_head_meta(struct thumb_s3 *s, const char *bucket, const char *key, const char *name,
                       char *value, size_t valuelen, char *err, size_t errlen);

/**
 * PUTs @len bytes of @data as @bucket/@key with @content_type and @nmeta
 * (at most THUMB_S3_MAX_META) metadata entries. Returns 0, BB_ENOTFOUND
 * (no such bucket), BB_EINVAL (too many entries) or BB_EAGAIN. Any thread.
 */
int thumb_s3_put(struct thumb_s3 *s, const char *bucket, const char *key, const void *data,
                 size_t len, const char *content_type, const struct thumb_s3_meta *meta, int nmeta,
                 char *err, size_t errlen);

/** Frees the data of @obj and zeroes it. */
void thumb_s3_object_cleanup(struct thumb_s3_object *obj);

#endif
