/* SPDX-License-Identifier: MIT */
/*
 * thumb_s3: the few S3 calls the thumbnail consumer makes, through libs3
 * (an ordinary S3 client that knows nothing of the daemon; Debian's 2.0
 * signs with SigV2), path-style against one endpoint. A struct thumb_s3
 * holds the endpoint and credentials and is shared by every thread; each
 * thread makes its calls through its own struct thumb_s3_session (a libs3
 * request context, so a curl multi handle), whose keep-alive connections
 * are reused from one call to the next and which can run several requests
 * at once (thumb_s3_head_get). Each call blocks the calling thread until
 * its requests are done. Only this file includes libs3.h.
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
struct thumb_s3_session;

#define THUMB_S3_ETAG_MAX 80
#define THUMB_S3_META_VALUE_MAX 1600 /* libs3 allows 2048 bytes of metadata in all */
#define THUMB_S3_MAX_META 6
#define THUMB_S3_ERR_MAX 200

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
 * The session's thread, as all the calls below.
 */
int thumb_s3_get(struct thumb_s3_session *ss, const char *bucket, const char *key, size_t max_bytes,
                 struct thumb_s3_object *obj, char *err, size_t errlen);

/**
 * HEADs @bucket/@key and copies the user metadata @name (without the
 * x-amz-meta- prefix; case-insensitive) into @value (@valuelen bytes with
 * the NUL), "" when the object has no such metadata. Returns 0,
 * BB_ENOTFOUND or BB_EAGAIN.
 */
int thumb_s3_head_meta(struct thumb_s3_session *ss, const char *bucket, const char *key,
                       const char *name, char *value, size_t valuelen, char *err, size_t errlen);

/**
 * PUTs @len bytes of @data as @bucket/@key with @content_type and @nmeta
 * (at most THUMB_S3_MAX_META) metadata entries. Returns 0, BB_ENOTFOUND
 * (no such bucket), BB_EINVAL (too many entries) or BB_EAGAIN.
 */
int thumb_s3_put(struct thumb_s3_session *ss, const char *bucket, const char *key, const void *data,
                 size_t len, const char *content_type, const struct thumb_s3_meta *meta, int nmeta,
                 char *err, size_t errlen);

/*
 * One HEAD of thumb_s3_head_get: @bucket, @key and @name (borrowed) in;
 * @rc (0, BB_ENOTFOUND or BB_EAGAIN), @value (the user metadata @name, ""
 * when absent) and @err out.
 */
struct thumb_s3_head {
    const char *bucket;
    const char *key;
    const char *name;
    int rc;
    char value[THUMB_S3_ETAG_MAX];
    char err[THUMB_S3_ERR_MAX];
};

/**
 * The connections of one thread: free with thumb_s3_session_free after
 * the last call. Borrows @s, which must outlive it. Returns 0 and *out, or
 * BB_EAGAIN when libs3 cannot make its request context.
 */
int thumb_s3_session_new(struct thumb_s3 *s, struct thumb_s3_session **out);
void thumb_s3_session_free(struct thumb_s3_session *ss);

/**
 * Makes the @nheads HEADs of @heads (as thumb_s3_head_meta, each result in
 * its entry) and the GET of @bucket/@key (as thumb_s3_get) at the same
 * time, on parallel connections of @ss, and returns the GET's result when
 * all have ended. When @etag is not NULL and every HEAD finds it as its
 * value, the GET is abandoned as soon as that is known (the work is done
 * already): it then returns BB_EAGAIN with @obj empty. The calling thread.
 */
int thumb_s3_head_get(struct thumb_s3_session *ss, struct thumb_s3_head *heads, int nheads,
                      const char *etag, const char *bucket, const char *key, size_t max_bytes,
                      struct thumb_s3_object *obj, char *err, size_t errlen);

/** Frees the data of @obj and zeroes it. */
void thumb_s3_object_cleanup(struct thumb_s3_object *obj);

#endif
