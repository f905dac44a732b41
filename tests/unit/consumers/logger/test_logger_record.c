/* SPDX-License-Identifier: MIT */
/*
 * Tests for consumers/logger/logger_record.c: the record of an upload, of
 * "Thumbnail Created" and "Thumbnail Failed", of other events and of junk;
 * latency measured from the upload the logger saw, with the events' own
 * times as the fallback; time formatting and parsing; the human line.
 */
#include "bb_test.h"

#include "bb_err.h"
#include "logger_record.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 2026-01-02T03:04:05.678Z */
#define T0 1767323045678LL

static cJSON *upload(const char *bucket, const char *key, const char *etag)
{
    char text[1024];

    snprintf(text, sizeof(text),
             "{\"version\":\"0\",\"id\":\"up-1\",\"detail-type\":\"Object Created\","
             "\"source\":\"aws.s3\",\"time\":\"2026-01-02T03:04:05Z\",\"detail\":{"
             "\"bucket\":{\"name\":\"%s\"},\"object\":{\"key\":\"%s\",\"size\":1234,"
             "\"etag\":\"%s\"},\"reason\":\"PutObject\"}}",
             bucket, key, etag);
    return cJSON_Parse(text);
}

static cJSON *thumb_event(const char *type, const char *key, const char *etag, const char *extra)
{
    char text[2048];

    snprintf(text, sizeof(text),
             "{\"id\":\"th-1\",\"detail-type\":\"%s\",\"source\":\"bucketbridge.thumbnail\","
             "\"time\":\"2026-01-02T03:04:07Z\",\"detail\":{\"bucket\":\"my-raw-images\","
             "\"key\":\"%s\",\"etag\":\"%s\",\"size\":1234,\"duration_ms\":17,"
             "\"source_time\":\"2026-01-02T03:04:05Z\"%s}}",
             type, key, etag, extra);
    return cJSON_Parse(text);
}

/* Builds and parses the record. */
static cJSON *record(struct logger_record *lr, const cJSON *ev, uint64_t seq, int64_t now,
                     struct logger_record_out *out)
{
    cJSON *r;

    logger_record_build(lr, ev, seq, now, out);
    assert_non_null(out->json);
    assert_null(strchr(out->json, '\n'));
    r = cJSON_Parse(out->json);
    assert_non_null(r);
    return r;
}

static const char *s(const cJSON *r, const char *k)
{
    return cJSON_GetStringValue(cJSON_GetObjectItem(r, k));
}

static double n(const cJSON *r, const char *k)
{
    const cJSON *v = cJSON_GetObjectItem(r, k);

    assert_true(cJSON_IsNumber(v));
    return v->valuedouble;
}

static int is_null(const cJSON *r, const char *k)
{
    return cJSON_IsNull(cJSON_GetObjectItem(r, k));
}

static void test_logger_record_upload_is_received(void **state)
{
    struct logger_record *lr = logger_record_new();
    struct logger_record_out out;
    cJSON *ev = upload("my-raw-images", "holiday/sea+view%21.jpg", "abc");
    cJSON *r = record(lr, ev, 42, T0, &out);

    assert_string_equal(s(r, "time"), "2026-01-02T03:04:05.678Z");
    assert_string_equal(s(r, "id"), "up-1");
    assert_int_equal(n(r, "seq"), 42);
    assert_string_equal(s(r, "detail_type"), "Object Created");
    assert_string_equal(s(r, "bucket"), "my-raw-images");
    assert_string_equal(s(r, "key"), "holiday/sea view!.jpg");
    assert_int_equal(n(r, "size"), 1234);
    assert_string_equal(s(r, "status"), "received");
    assert_string_equal(out.status, "received");
    assert_true(is_null(r, "error"));
    assert_true(is_null(r, "processing_ms"));
    assert_true(is_null(r, "latency_ms"));
    assert_string_equal(s(r, "event_time"), "2026-01-02T03:04:05Z");
    assert_string_equal(out.human, "03:04:05.678 received my-raw-images/holiday/sea view!.jpg "
                                   "(1234 bytes)");
    cJSON_Delete(r);
    free(out.json);
    cJSON_Delete(ev);
    logger_record_free(lr);
}

static void test_logger_record_created_measures_latency_from_upload(void **state)
{
    struct logger_record *lr = logger_record_new();
    struct logger_record_out out;
    cJSON *up = upload("my-raw-images", "a+b.jpg", "abc");
    cJSON *ok = thumb_event("Thumbnail Created", "a b.jpg", "abc",
                            ",\"output_bucket\":\"my-thumbnails\",\"output_key\":\"a b.jpg\","
                            "\"sizes\":[\"256x192\"]");
    cJSON *r;

    r = record(lr, up, 1, T0, &out);
    cJSON_Delete(r);
    free(out.json);
    r = record(lr, ok, 3, T0 + 250, &out);
    assert_string_equal(s(r, "status"), "ok");
    assert_string_equal(s(r, "key"), "a b.jpg");
    assert_int_equal(n(r, "processing_ms"), 17);
    assert_int_equal(n(r, "latency_ms"), 250);
    assert_string_equal(s(r, "output_bucket"), "my-thumbnails");
    assert_string_equal(s(r, "output_key"), "a b.jpg");
    assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(r, "sizes"), 0)->valuestring,
                        "256x192");
    assert_string_equal(out.human, "03:04:05.928 ok       my-raw-images/a b.jpg -> "
                                   "my-thumbnails/a b.jpg 256x192, 17 ms, 250 ms after upload");
    cJSON_Delete(r);
    free(out.json);
    cJSON_Delete(up);
    cJSON_Delete(ok);
    logger_record_free(lr);
}

static void test_logger_record_failed_carries_error(void **state)
{
    struct logger_record *lr = logger_record_new();
    struct logger_record_out out;
    cJSON *bad = thumb_event("Thumbnail Failed", "bad.jpg", "e1",
                             ",\"error\":\"corrupt JPEG: Premature end of JPEG file\","
                             "\"reason\":\"corrupt\"");
    cJSON *r = record(lr, bad, 9, T0, &out);

    assert_string_equal(s(r, "status"), "failed");
    assert_string_equal(s(r, "error"), "corrupt JPEG: Premature end of JPEG file");
    /* the upload was never seen: the events' own times, whole seconds */
    assert_int_equal(n(r, "latency_ms"), 2000);
    assert_non_null(strstr(out.human, "failed   my-raw-images/bad.jpg: corrupt JPEG"));
    cJSON_Delete(r);
    free(out.json);
    cJSON_Delete(bad);
    logger_record_free(lr);
}

static void test_logger_record_latency_needs_the_same_etag(void **state)
{
    struct logger_record *lr = logger_record_new();
    struct logger_record_out out;
    cJSON *up = upload("my-raw-images", "k.jpg", "v1");
    cJSON *ok = thumb_event("Thumbnail Created", "k.jpg", "v2", "");
    cJSON *r;

    r = record(lr, up, 1, T0, &out);
    cJSON_Delete(r);
    free(out.json);
    r = record(lr, ok, 2, T0 + 100, &out);
    assert_int_equal(n(r, "latency_ms"), 2000); /* fallback, not 100 */
    cJSON_Delete(r);
    free(out.json);
    cJSON_Delete(up);
    cJSON_Delete(ok);
    logger_record_free(lr);
}

static void test_logger_record_redelivered_upload_keeps_first_time(void **state)
{
    struct logger_record *lr = logger_record_new();
    struct logger_record_out out;
    cJSON *up = upload("b", "k", "e");
    cJSON *ok = thumb_event("Thumbnail Created", "k", "e", "");
    cJSON *r;

    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(ok, "detail"), "bucket", cJSON_CreateString("b"));
    for (int i = 0; i < 2; i++) {
        r = record(lr, up, 1, T0 + i * 1000, &out);
        cJSON_Delete(r);
        free(out.json);
    }
    r = record(lr, ok, 2, T0 + 1500, &out);
    assert_int_equal(n(r, "latency_ms"), 1500);
    cJSON_Delete(r);
    free(out.json);
    cJSON_Delete(up);
    cJSON_Delete(ok);
    logger_record_free(lr);
}

/* The status of @ev's record, built at @now. */
static char *status_of(struct logger_record *lr, const cJSON *ev, int64_t now)
{
    struct logger_record_out out;
    cJSON *r = record(lr, ev, 1, now, &out);
    char *st = strdup(s(r, "status"));

    assert_string_equal(st, out.status);
    cJSON_Delete(r);
    free(out.json);
    return st;
}

static void assert_status(struct logger_record *lr, const cJSON *ev, const char *want)
{
    char *st = status_of(lr, ev, T0 + 500);

    assert_string_equal(st, want);
    free(st);
}

static void test_logger_record_one_ok_per_upload(void **state)
{
    struct logger_record *lr = logger_record_new();
    cJSON *up = upload("my-raw-images", "k", "e");
    cJSON *ok = thumb_event("Thumbnail Created", "k", "e", "");
    cJSON *existed = thumb_event("Thumbnail Created", "k", "e", ",\"already_existed\":true");
    cJSON *up2 = upload("my-raw-images", "k2", "e2");
    cJSON *existed2 = thumb_event("Thumbnail Created", "k2", "e2", ",\"already_existed\":true");
    cJSON *existed3 = thumb_event("Thumbnail Created", "k3", "e3", ",\"already_existed\":true");

    /* made, then the same bytes again: found done, skipped */
    assert_status(lr, up, "received");
    assert_status(lr, ok, "ok");
    assert_status(lr, up, "received");
    assert_status(lr, existed, "skipped");
    /* stored by an attempt that died before publishing: the redelivery
     * finds it done, and that is the upload's one "ok" */
    assert_status(lr, up2, "received");
    assert_status(lr, existed2, "ok");
    assert_status(lr, existed2, "skipped");
    /* an upload the logger never saw: it cannot tell, so "ok" */
    assert_status(lr, existed3, "ok");
    cJSON_Delete(up);
    cJSON_Delete(ok);
    cJSON_Delete(existed);
    cJSON_Delete(up2);
    cJSON_Delete(existed2);
    cJSON_Delete(existed3);
    logger_record_free(lr);
}

static void test_logger_record_forgets_oldest_uploads(void **state)
{
    struct logger_record *lr = logger_record_new();
    struct logger_record_out out;
    cJSON *ok = thumb_event("Thumbnail Created", "k0", "e", "");
    cJSON *r;

    for (int i = 0; i <= LOGGER_RECORD_TRACKED; i++) {
        char key[32];
        cJSON *up;
        snprintf(key, sizeof(key), "k%d", i);
        up = upload("my-raw-images", key, "e");
        logger_record_build(lr, up, (uint64_t)i, T0, &out);
        free(out.json);
        cJSON_Delete(up);
    }
    r = record(lr, ok, 1, T0 + 10, &out);
    assert_int_equal(n(r, "latency_ms"), 2000); /* k0 was pushed out */
    cJSON_Delete(r);
    free(out.json);
    cJSON_Delete(ok);
    logger_record_free(lr);
}

static void test_logger_record_other_events_and_junk(void **state)
{
    struct logger_record *lr = logger_record_new();
    struct logger_record_out out;
    cJSON *del =
        cJSON_Parse("{\"source\":\"aws.s3\",\"detail-type\":\"Object Deleted\","
                    "\"detail\":{\"bucket\":{\"name\":\"b\"},\"object\":{\"key\":\"k\"}}}");
    cJSON *custom = cJSON_Parse("{\"source\":\"my.app\",\"detail-type\":\"Order\\nPlaced\","
                                "\"detail\":{}}");
    cJSON *junk = cJSON_CreateString("not an object");
    cJSON *r;

    r = record(lr, del, 5, T0, &out);
    assert_string_equal(s(r, "status"), "deleted");
    assert_true(is_null(r, "size"));
    cJSON_Delete(r);
    free(out.json);

    r = record(lr, custom, 6, T0, &out);
    assert_string_equal(s(r, "status"), "received");
    assert_true(is_null(r, "bucket"));
    /* the newline in the detail-type cannot break the human line */
    assert_string_equal(out.human, "03:04:05.678 received Order\\x0aPlaced from my.app");
    cJSON_Delete(r);
    free(out.json);

    r = record(lr, junk, 7, T0, &out);
    assert_string_equal(s(r, "status"), "received");
    assert_true(is_null(r, "id"));
    cJSON_Delete(r);
    free(out.json);

    r = record(lr, NULL, 8, T0, &out);
    assert_int_equal(n(r, "seq"), 8);
    cJSON_Delete(r);
    free(out.json);

    cJSON_Delete(del);
    cJSON_Delete(custom);
    cJSON_Delete(junk);
    logger_record_free(lr);
}

static void test_logger_record_time_round_trip(void **state)
{
    char buf[25];
    int64_t ms;

    logger_record_time(0, buf);
    assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
    logger_record_time(T0, buf);
    assert_string_equal(buf, "2026-01-02T03:04:05.678Z");
    assert_int_equal(logger_record_parse_time(buf, &ms), BB_OK);
    assert_int_equal(ms, T0);
    assert_int_equal(logger_record_parse_time("2026-01-02T03:04:05Z", &ms), BB_OK);
    assert_int_equal(ms, T0 - 678);
    assert_int_equal(logger_record_parse_time("2026-01-02T03:04:05.5Z", &ms), BB_OK);
    assert_int_equal(ms, T0 - 178);
    assert_int_equal(logger_record_parse_time("2026-01-02T03:04:05.123456Z", &ms), BB_OK);
    assert_int_equal(ms, T0 - 555);
    assert_int_equal(logger_record_parse_time("2026-01-02 03:04:05Z", &ms), BB_EINVAL);
    assert_int_equal(logger_record_parse_time("2026-13-02T03:04:05Z", &ms), BB_EINVAL);
    assert_int_equal(logger_record_parse_time("2026-01-02T03:04:05", &ms), BB_EINVAL);
    assert_int_equal(logger_record_parse_time("2026-01-02T03:04:05.Z", &ms), BB_EINVAL);
    assert_int_equal(logger_record_parse_time(NULL, &ms), BB_EINVAL);
}

static void test_logger_record_key_decode(void **state)
{
    char *k;

    k = logger_record_key_decode("a+b%2Fc%zz%4%");
    assert_string_equal(k, "a b/c%zz%4%");
    free(k);
    k = logger_record_key_decode("x%00y");
    assert_string_equal(k, "x%00y");
    free(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_logger_record_upload_is_received),
        cmocka_unit_test(test_logger_record_created_measures_latency_from_upload),
        cmocka_unit_test(test_logger_record_failed_carries_error),
        cmocka_unit_test(test_logger_record_latency_needs_the_same_etag),
        cmocka_unit_test(test_logger_record_redelivered_upload_keeps_first_time),
        cmocka_unit_test(test_logger_record_one_ok_per_upload),
        cmocka_unit_test(test_logger_record_forgets_oldest_uploads),
        cmocka_unit_test(test_logger_record_other_events_and_junk),
        cmocka_unit_test(test_logger_record_time_round_trip),
        cmocka_unit_test(test_logger_record_key_decode),
    };

    return cmocka_run_group_tests_name("consumers/logger/logger_record", tests, NULL, NULL);
}
