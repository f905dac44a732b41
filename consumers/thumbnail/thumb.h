/* SPDX-License-Identifier: MIT */
/*
 * thumb: one S3 "Object Created" event in, one decision out. Skips the
 * work when the thumbnails for the same source ETag already exist
 * (delivery is at-least-once), fetches the original, makes the thumbnails
 * (thumb_image), stores them with metadata naming the source, and says
 * whether the delivery is done, failed for good (not an image, corrupt,
 * over a limit, a loop: nack permanent, to the dead-letter queue) or
 * should be retried (S3 unreachable or 5xx). It also builds the Detail of
 * the "Thumbnail Created" / "Thumbnail Failed" events. thumb_handle runs
 * on worker threads; everything here is safe to call from any thread.
 */
#ifndef BB_CONSUMERS_THUMBNAIL_THUMB_H
#define BB_CONSUMERS_THUMBNAIL_THUMB_H

#include "thumb_image.h"

#include <stddef.h>
#include <stdint.h>

struct cJSON;
struct thumb_s3_session;

#define THUMB_SOURCE "bucketbridge.thumbnail"
#define THUMB_TYPE_CREATED "Thumbnail Created"
#define THUMB_TYPE_FAILED "Thumbnail Failed"
#define THUMB_DEFAULT_BUCKET "my-thumbnails"
#define THUMB_KEY_MAX 1024
#define THUMB_ERROR_MAX 320

/* x-amz-meta-* names on every thumbnail */
#define THUMB_META_BUCKET "source-bucket"
#define THUMB_META_KEY "source-key" /* percent-encoded, cut to THUMB_META_KEY_MAX */
#define THUMB_META_ETAG "source-etag"
#define THUMB_META_KEY_MAX 1500

enum thumb_naming {
    THUMB_NAMING_SAME = 0, /* the source key ("{size}/{key}" when there are several sizes) */
    THUMB_NAMING_SEED,     /* "original" in the file name becomes "thumbnail" */
    THUMB_NAMING_TEMPLATE, /* thumb_config.key_template */
};

struct thumb_config {
    const char *out_bucket;   /* borrowed */
    enum thumb_naming naming; /* see thumb_output_key() */
    const char *key_template; /* THUMB_NAMING_TEMPLATE only; borrowed */
    struct thumb_image_box boxes[THUMB_IMAGE_MAX_SIZES];
    struct thumb_image_opts image; /* image.boxes points at boxes[] (thumb_config_init) */
};

enum thumb_status {
    THUMB_DONE = 0, /* thumbnails stored: ack, publish "Thumbnail Created" */
    THUMB_SKIPPED,  /* already done for this ETag: ack, publish "Thumbnail Created"
                       with already_existed (an earlier attempt may have died
                       between its PUT and its publish) */
    THUMB_FAILED,   /* permanent: nack permanent, publish "Thumbnail Failed" */
    THUMB_RETRY,    /* transient: nack, the target's retry policy applies */
};

struct thumb_outcome {
    enum thumb_status status;
    char error[THUMB_ERROR_MAX]; /* FAILED and RETRY: why */
    char *detail;        /* DONE, SKIPPED and FAILED: the event Detail (JSON text); free() */
    int64_t duration_ms; /* the whole event: HEAD, GET, image work, PUTs */
    double image_ms;     /* decode, resize and encode alone (0 when not reached) */
    double fetch_ms;     /* the idempotency HEADs and the GET, made at once */
    double put_ms;       /* the PUTs of the thumbnails (0 when not reached) */
    char *out_key;       /* DONE: the first thumbnail's key, for the log line; free() */
};

/** Defaults: bucket my-thumbnails, same key, one 256x256 box, image defaults. */
void thumb_config_init(struct thumb_config *cfg);

/**
 * Checks @cfg; returns 0 or BB_EINVAL with a message in @err (for example
 * several sizes with a template that has no {size}).
 */
int thumb_config_check(const struct thumb_config *cfg, char *err, size_t errlen);

/**
 * Parses "WxH[,WxH...]" into cfg->boxes (replacing them). Returns 0 or
 * BB_EINVAL.
 */
int thumb_config_set_sizes(struct thumb_config *cfg, const char *spec);

/**
 * Decodes an EventBridge S3 key (form encoding: '+' is a space, %XX a
 * byte). Returns 0 and *out (free()), or BB_EINVAL for a bad escape or an
 * escaped NUL.
 */
int thumb_key_decode(const char *in, char **out);

/**
 * The key of thumbnail @index (box @box) for source @key (decoded), by
 * cfg->naming. Template placeholders: {key} {dir} (with its trailing '/',
 * or empty) {name} (file name without extension) {ext} (with its '.',
 * or empty) {size} ("WxH" of the box) {w} {h}. Returns a new string
 * (free()) or NULL when the result is empty or over THUMB_KEY_MAX.
 */
char *thumb_output_key(const struct thumb_config *cfg, const char *key, int index);

/**
 * Handles one delivery's event (borrowed). Fills @out (free its strings
 * with thumb_outcome_cleanup). Never fails itself: every problem is an
 * outcome. Any thread, with its own @s3 session (NULL only for events
 * refused before any S3 call, as the unit tests do).
 */
void thumb_handle(const struct thumb_config *cfg, struct thumb_s3_session *s3,
                  const struct cJSON *event, struct thumb_outcome *out);
void thumb_outcome_cleanup(struct thumb_outcome *out);

/**
 * The PutEvents entries array (one entry: Source THUMB_SOURCE, the
 * DetailType for @status, @detail) for bb_wsclient_publish. Returns a new
 * cJSON array (cJSON_Delete).
 */
struct cJSON *thumb_entries(enum thumb_status status, const char *detail);

#endif
