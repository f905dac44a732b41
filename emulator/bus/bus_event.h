/* SPDX-License-Identifier: MIT */
/*
 * bus_event: builds events as JSON text: the EventBridge envelope for S3
 * events (shared/reference/eventbridge.md 1.2-1.7), the classic S3
 * notification Records[] message and s3:TestEvent (section 2), and the
 * envelope for a PutEvents entry with its per-entry validation (5.4).
 * Pure; any thread, except bus_event_uuid (uses the OpenSSL RNG: any
 * thread too).
 */
#ifndef BB_EMULATOR_BUS_BUS_EVENT_H
#define BB_EMULATOR_BUS_BUS_EVENT_H

#include <stddef.h>
#include <stdint.h>

struct cJSON;

enum bus_key_encoding {
    BUS_KEY_FORM = 0, /* form-urlencoded, '/' kept: the recommended default (10.1) */
    BUS_KEY_RAW = 1,
};

/** What the envelope needs besides the detail. Borrowed for the call. */
struct bus_event_env {
    const char *id;      /* UUID v4 text */
    const char *account; /* 12 digits */
    const char *region;
    int64_t time_s; /* event time, epoch seconds */
    enum bus_key_encoding key_encoding;
};

/** One S3 event. NULL strings and negative size are left out of the detail. */
struct bus_s3_event {
    const char *detail_type; /* "Object Created", "Object Deleted", "Object Tags Added", ... */
    const char *bucket;
    const char *key; /* raw key; encoded per env->key_encoding */
    int64_t size;    /* -1: absent */
    const char *etag; /* unquoted */
    const char *version_id;
    const char *sequencer;
    const char *request_id;
    const char *requester;
    const char *source_ip;
    const char *reason;        /* "PutObject", "DeleteObject", ... */
    const char *deletion_type; /* "Permanently Deleted" for Object Deleted */
};

/** Makes bus_event_uuid deterministic from @seed (tests' snapshots).
 * Loop thread; call once at start. */
void bus_event_seed(uint64_t seed);

/** Writes a new random UUID v4 ("xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx") into @out. */
void bus_event_uuid(char out[37]);

/** Formats epoch seconds as "YYYY-MM-DDTHH:MM:SSZ" into @out. */
void bus_event_time(int64_t s, char out[21]);

/** Appends @key form-urlencoded (space as '+', '/' kept, unreserved kept,
 * everything else %XX) to a new string (free()). */
char *bus_event_form_encode(const char *key);

/** The EventBridge event for an S3 change, as JSON text in AWS's key order.
 * Returns a new string (free()). */
char *bus_event_s3(const struct bus_s3_event *e, const struct bus_event_env *env);

/**
 * The classic notification message {"Records":[{...}]} for the same change
 * (eventVersion "2.1", eventSource "aws:s3", eventName like
 * "ObjectCreated:Put", key always form-urlencoded). @event_name is without
 * the "s3:" prefix; @config_id is the configuration's Id. New string.
 */
char *bus_event_s3_record(const struct bus_s3_event *e, const struct bus_event_env *env,
                          const char *event_name, const char *config_id);

/** The s3:TestEvent message for @bucket. New string. */
char *bus_event_s3_test_event(const char *bucket, const char *request_id,
                              const struct bus_event_env *env);

/**
 * Validates one PutEvents entry (a JSON object) and builds its event.
 * Returns 0 with *out (new string) and *bus (borrowed from @entry: the
 * EventBusName, or "default"), or BB_EINVAL with *code and *message set to
 * AWS's per-entry ErrorCode / ErrorMessage (static strings), e.g.
 * "InvalidArgument" / "Parameter Source is not valid. Reason: Source is a
 * required argument.", "MalformedDetail" / "Detail is malformed.",
 * "NotAuthorizedForSourceException" for Source "aws.*". env->time_s is used
 * when the entry has no Time.
 */
int bus_event_from_entry(const struct cJSON *entry, const struct bus_event_env *env, char **out,
                         const char **bus, const char **code, const char **message);

/** The size AWS counts for an entry (5.4): 14 if Time is present, plus the
 * UTF-8 bytes of Source, DetailType, Detail and each Resources element. */
size_t bus_event_entry_size(const struct cJSON *entry);

#endif
