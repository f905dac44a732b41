/* SPDX-License-Identifier: MIT */
/*
 * logger_record: one delivered event in, one JSON Lines record and one
 * short human line out. Uploads ("Object Created") are "received";
 * "Thumbnail Created" is "ok" and "Thumbnail Failed" is "failed" with its
 * error; other events keep a status derived from their detail-type. A
 * "Thumbnail Created" with already_existed (the consumer found the
 * thumbnail done: an identical re-upload, or a redelivery after a crash
 * between storing and publishing) is "ok" unless an "ok" was already
 * written for the same upload (bucket, key, ETag), then "skipped": one
 * "ok" per upload while the logger remembers it.
 *
 * End-to-end latency (upload to thumbnail) is measured by the logger
 * itself: it remembers when it received each upload (bucket, key, ETag;
 * the last LOGGER_RECORD_TRACKED of them) and subtracts that from when it
 * receives the matching thumbnail event. When it never saw the upload (it
 * started later) it falls back to the two events' own times, which
 * EventBridge gives in whole seconds.
 *
 * Pure apart from the table it owns: the clock is a parameter. One thread.
 */
#ifndef BB_CONSUMERS_LOGGER_LOGGER_RECORD_H
#define BB_CONSUMERS_LOGGER_LOGGER_RECORD_H

#include <stddef.h>
#include <stdint.h>

struct cJSON;
struct logger_record;

#define LOGGER_RECORD_TRACKED 8192 /* uploads remembered for latency */
#define LOGGER_RECORD_HUMAN_MAX 512

/* The result of one event. */
struct logger_record_out {
    char *json;                          /* one line, no newline; free() */
    char human[LOGGER_RECORD_HUMAN_MAX]; /* no newline; control bytes escaped */
    const char *status;                  /* static string: received, ok, failed, ... */
};

/** A new record builder with an empty upload table; free with logger_record_free. */
struct logger_record *logger_record_new(void);
void logger_record_free(struct logger_record *lr);

/**
 * Builds the record of @event (borrowed; the delivery's event, any JSON)
 * delivered with journal sequence @seq at wall-clock @now_ms (ms since the
 * epoch). Fills @out (free out->json). Never fails: an event that is not
 * an object still gets a record with what is known.
 */
void logger_record_build(struct logger_record *lr, const struct cJSON *event, uint64_t seq,
                         int64_t now_ms, struct logger_record_out *out);

/** Formats @ms (since the epoch) as "YYYY-MM-DDTHH:MM:SS.mmmZ" into @out (25 bytes). */
void logger_record_time(int64_t ms, char out[25]);

/**
 * Parses an ISO 8601 UTC time as EventBridge writes it ("...T..:..:..Z",
 * optional fraction) into ms since the epoch. Returns 0 or BB_EINVAL.
 */
int logger_record_parse_time(const char *s, int64_t *ms);

/** Decodes a form-encoded S3 event key. Returns a new string (free()); a
 * bad escape is kept as it is. */
char *logger_record_key_decode(const char *in);

#endif
