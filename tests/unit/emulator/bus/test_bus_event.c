/* SPDX-License-Identifier: MIT */
/* Tests for emulator/bus/bus_event.c: the S3 EventBridge envelope rebuilt
 * from the reference's full examples (values and key order), key encoding,
 * the classic Records[] message and s3:TestEvent, and PutEvents entries
 * (validation codes and messages, Time, Resources, EventBusName, size). */
#include "bb_test.h"

#include "bb_err.h"
#include "bb_mem.h"
#include "bus_event.h"

#include <cjson/cJSON.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ---- */

static char *read_fixture(const char *rel)
{
    char *path = bb_test_fixture(rel);
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    if (f == NULL)
        fail_msg("cannot open fixture %s", path);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = bb_xmalloc((size_t)n + 1);
    if (fread(buf, 1, (size_t)n, f) != (size_t)n)
        fail_msg("short read on %s", path);
    buf[n] = '\0';
    fclose(f);
    free(path);
    return buf;
}

/* Same values and the same key order: both sides printed by cJSON. */
static void assert_json_eq(const char *got, const char *want)
{
    cJSON *g = cJSON_Parse(got);
    cJSON *w = cJSON_Parse(want);
    char *gs, *ws;

    if (g == NULL)
        fail_msg("output is not JSON: %s", got);
    if (w == NULL)
        fail_msg("expected text is not JSON: %s", want);
    gs = cJSON_PrintUnformatted(g);
    ws = cJSON_PrintUnformatted(w);
    if (strcmp(gs, ws) != 0)
        fail_msg("JSON differs\n got: %s\nwant: %s", gs, ws);
    assert_true(cJSON_Compare(g, w, 1));
    cJSON_free(gs);
    cJSON_free(ws);
    cJSON_Delete(g);
    cJSON_Delete(w);
}

static void assert_json_eq_fixture(const char *got, const char *rel)
{
    char *want = read_fixture(rel);
    assert_json_eq(got, want);
    free(want);
}

/* The keys of @obj_json (an object) in order, joined by ','. */
static void assert_keys(const char *obj_json, const char *path, const char *want)
{
    cJSON *root = cJSON_Parse(obj_json);
    const cJSON *o = root;
    const cJSON *c;
    char got[512] = "";
    char seg[64];
    const char *p = path;

    while (*p != '\0') {
        size_t n = strcspn(p, ".");
        snprintf(seg, sizeof(seg), "%.*s", (int)n, p);
        o = cJSON_GetObjectItemCaseSensitive(o, seg);
        p += n;
        if (*p == '.')
            p++;
    }
    assert_non_null(o);
    cJSON_ArrayForEach(c, o)
    {
        if (got[0] != '\0')
            strncat(got, ",", sizeof(got) - strlen(got) - 1);
        strncat(got, c->string, sizeof(got) - strlen(got) - 1);
    }
    if (strcmp(got, want) != 0)
        fail_msg("keys of '%s': %s, want %s", path, got, want);
    cJSON_Delete(root);
}

static struct bus_event_env env_at(const char *id, const char *account, const char *region,
                                   int64_t t)
{
    struct bus_event_env env = {id, account, region, t, BUS_KEY_FORM};
    return env;
}

static struct bus_s3_event empty_event(void)
{
    struct bus_s3_event e;
    memset(&e, 0, sizeof(e));
    e.size = -1;
    return e;
}

static void assert_form(const char *key, const char *want)
{
    char *got = bus_event_form_encode(key);
    if (strcmp(got, want) != 0)
        fail_msg("form encoding of \"%s\": \"%s\", want \"%s\"", key, got, want);
    free(got);
}

/* ---- uuid and time ---- */

static void test_bus_event_uuid_is_a_random_version_4_uuid(void **state)
{
    char a[37], b[37];

    bus_event_uuid(a);
    bus_event_uuid(b);
    assert_int_equal(strlen(a), 36);
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23)
            assert_int_equal(a[i], '-');
        else
            assert_non_null(strchr("0123456789abcdef", a[i]));
    }
    assert_int_equal(a[14], '4');
    assert_non_null(strchr("89ab", a[19]));
    assert_string_not_equal(a, b);
}

static void test_bus_event_time_formats_epoch_seconds_with_second_precision(void **state)
{
    char t[21];

    bus_event_time(0, t);
    assert_string_equal(t, "1970-01-01T00:00:00Z");
    bus_event_time(1636675200, t);
    assert_string_equal(t, "2021-11-12T00:00:00Z");
    bus_event_time(951782400, t); /* leap day of a year divisible by 400 */
    assert_string_equal(t, "2000-02-29T00:00:00Z");
    bus_event_time(1709251199, t);
    assert_string_equal(t, "2024-02-29T23:59:59Z");
    bus_event_time(1413215822, t);
    assert_string_equal(t, "2014-10-13T15:57:02Z");
    bus_event_time(-1, t);
    assert_string_equal(t, "1969-12-31T23:59:59Z");
}

static void test_bus_event_time_clamps_to_four_digit_years(void **state)
{
    char t[21];

    bus_event_time(INT64_MAX, t);
    assert_string_equal(t, "9999-12-31T23:59:59Z");
    bus_event_time(INT64_MIN, t);
    assert_string_equal(t, "0000-01-01T00:00:00Z");
}

/* ---- form encoding ---- */

static void test_bus_event_form_encode_writes_space_as_plus(void **state)
{
    assert_form("red flower.jpg", "red+flower.jpg");
    assert_form("  ", "++");
}

static void test_bus_event_form_encode_escapes_reserved_characters(void **state)
{
    assert_form("a@b", "a%40b");
    assert_form("+", "%2B");
    assert_form("=", "%3D");
    assert_form(":", "%3A");
    assert_form("a=b:c+d", "a%3Db%3Ac%2Bd");
    assert_form("%", "%25");
    assert_form("?&#", "%3F%26%23");
    assert_form("\"'*", "%22%27%2A");
}

static void test_bus_event_form_encode_keeps_slash_and_unreserved(void **state)
{
    assert_form("photos/2024/a.jpg", "photos/2024/a.jpg");
    assert_form("AZaz09-._~", "AZaz09-._~");
    assert_form("", "");
}

static void test_bus_event_form_encode_escapes_each_utf8_byte(void **state)
{
    assert_form("\xc3\xa9t\xc3\xa9.png", "%C3%A9t%C3%A9.png");     /* été.png */
    assert_form("\xe6\x97\xa5\xe6\x9c\xac", "%E6%97%A5%E6%9C%AC"); /* 日本 */
    assert_form("\xf0\x9f\x98\x80", "%F0%9F%98%80");               /* an emoji */
}

/* ---- S3 EventBridge events ---- */

static void test_bus_event_s3_rebuilds_the_object_created_example(void **state)
{
    struct bus_event_env env =
        env_at("17793124-05d4-b198-2fde-7ededc63b103", "111122223333", "ca-central-1", 1636675200);
    struct bus_s3_event e = empty_event();
    char *got;

    e.detail_type = "Object Created";
    e.bucket = "amzn-s3-demo-bucket1";
    e.key = "example-key";
    e.size = 5;
    e.etag = "b1946ac92492d2347c6235b4d2611184";
    e.version_id = "IYV3p45BT0ac8hjHg1houSdS1a.Mro8e";
    e.sequencer = "617f08299329d189";
    e.request_id = "N4N7GDK58NMKJ12R";
    e.requester = "123456789012";
    e.source_ip = "1.2.3.4";
    e.reason = "PutObject";
    got = bus_event_s3(&e, &env);
    assert_json_eq_fixture(got, "events/s3_object_created.json");
    assert_keys(got, "", "version,id,detail-type,source,account,time,region,resources,detail");
    assert_keys(got, "detail",
                "version,bucket,object,request-id,requester,source-ip-address,reason");
    assert_keys(got, "detail.object", "key,size,etag,version-id,sequencer");
    free(got);
}

static void test_bus_event_s3_rebuilds_the_delete_marker_example(void **state)
{
    struct bus_event_env env =
        env_at("2ee9cc15-d022-99ea-1fb8-1b1bac4850f9", "111122223333", "ca-central-1", 1636675200);
    struct bus_s3_event e = empty_event();
    char *got;

    e.detail_type = "Object Deleted";
    e.bucket = "amzn-s3-demo-bucket1";
    e.key = "example-key";
    e.etag = "d41d8cd98f00b204e9800998ecf8427e";
    e.version_id = "1QW9g1Z99LUNbvaaYVpW9xDlOLU.qxgF";
    e.sequencer = "617f0837b476e463";
    e.request_id = "0BH729840619AG5K";
    e.requester = "123456789012";
    e.source_ip = "1.2.3.4";
    e.reason = "DeleteObject";
    e.deletion_type = "Delete Marker Created";
    got = bus_event_s3(&e, &env);
    assert_json_eq_fixture(got, "events/s3_object_deleted_marker.json");
    assert_keys(got, "detail",
                "version,bucket,object,request-id,requester,source-ip-address,reason,"
                "deletion-type");
    free(got);
}

static void
test_bus_event_s3_delete_on_an_unversioned_bucket_has_only_key_and_sequencer(void **state)
{
    struct bus_event_env env =
        env_at("5d7a2a5c-3b1e-4f5e-9c1a-0e6f3f1d2b44", "111111111111", "us-east-1", 1659476584);
    struct bus_s3_event e = empty_event();
    char *got;

    e.detail_type = "Object Deleted";
    e.bucket = "b";
    e.key = "test-key";
    e.sequencer = "0062E99A88DC407460";
    e.request_id = "7QFKQ4S3GWX5V4KB";
    e.requester = "111111111111";
    e.source_ip = "127.0.0.1";
    e.reason = "DeleteObject";
    e.deletion_type = "Permanently Deleted";
    got = bus_event_s3(&e, &env);
    assert_json_eq_fixture(got, "events/s3_object_deleted_unversioned.json");
    assert_keys(got, "detail.object", "key,sequencer");
    free(got);
}

static void test_bus_event_s3_lifecycle_delete_has_no_source_ip(void **state)
{
    struct bus_event_env env =
        env_at("2ee9cc15-d022-99ea-1fb8-1b1bac4850f9", "111122223333", "ca-central-1", 1636675200);
    struct bus_s3_event e = empty_event();
    char *got;

    e.detail_type = "Object Deleted";
    e.bucket = "amzn-s3-demo-bucket1";
    e.key = "example-key";
    e.etag = "d41d8cd98f00b204e9800998ecf8427e";
    e.version_id = "1QW9g1Z99LUNbvaaYVpW9xDlOLU.qxgF";
    e.sequencer = "617b398000000000";
    e.request_id = "0BH729840619AG5K";
    e.requester = "s3.amazonaws.com";
    e.reason = "Lifecycle Expiration";
    e.deletion_type = "Delete Marker Created";
    got = bus_event_s3(&e, &env);
    assert_json_eq_fixture(got, "events/s3_object_deleted_lifecycle.json");
    assert_null(strstr(got, "source-ip-address"));
    free(got);
}

static void test_bus_event_s3_tags_added_has_no_size_and_no_sequencer(void **state)
{
    struct bus_event_env env = env_at("id-1", "111122223333", "eu-west-1", 0);
    struct bus_s3_event e = empty_event();
    char *got;

    e.detail_type = "Object Tags Added";
    e.bucket = "bk";
    e.key = "k";
    e.etag = "b1946ac92492d2347c6235b4d2611184";
    e.request_id = "R1";
    e.requester = "111122223333";
    e.source_ip = "10.0.0.1";
    got = bus_event_s3(&e, &env);
    assert_json_eq(got, "{\"version\":\"0\",\"id\":\"id-1\",\"detail-type\":\"Object Tags Added\","
                        "\"source\":\"aws.s3\",\"account\":\"111122223333\","
                        "\"time\":\"1970-01-01T00:00:00Z\",\"region\":\"eu-west-1\","
                        "\"resources\":[\"arn:aws:s3:::bk\"],\"detail\":{\"version\":\"0\","
                        "\"bucket\":{\"name\":\"bk\"},\"object\":{\"key\":\"k\","
                        "\"etag\":\"b1946ac92492d2347c6235b4d2611184\"},\"request-id\":\"R1\","
                        "\"requester\":\"111122223333\",\"source-ip-address\":\"10.0.0.1\"}}");
    free(got);
}

static void test_bus_event_s3_form_encodes_the_key_by_default(void **state)
{
    struct bus_event_env env = env_at("i", "111122223333", "us-east-1", 0);
    struct bus_s3_event e = empty_event();
    cJSON *j;
    char *got;

    e.detail_type = "Object Created";
    e.bucket = "b";
    e.key = "dir/red flower@2x.jpg";
    got = bus_event_s3(&e, &env);
    j = cJSON_Parse(got);
    assert_string_equal(
        cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "detail"), "object"), "key")
            ->valuestring,
        "dir/red+flower%402x.jpg");
    cJSON_Delete(j);
    free(got);
}

static void test_bus_event_s3_keeps_the_raw_key_when_asked(void **state)
{
    struct bus_event_env env = env_at("i", "111122223333", "us-east-1", 0);
    struct bus_s3_event e = empty_event();
    cJSON *j;
    char *got;

    env.key_encoding = BUS_KEY_RAW;
    e.detail_type = "Object Created";
    e.bucket = "b";
    e.key = "dir/red flower@2x \"q\".jpg";
    got = bus_event_s3(&e, &env);
    j = cJSON_Parse(got);
    assert_string_equal(
        cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "detail"), "object"), "key")
            ->valuestring,
        "dir/red flower@2x \"q\".jpg");
    cJSON_Delete(j);
    free(got);
}

static void test_bus_event_s3_writes_size_as_a_json_number(void **state)
{
    struct bus_event_env env = env_at("i", "111122223333", "us-east-1", 0);
    struct bus_s3_event e = empty_event();
    char *got;

    e.detail_type = "Object Created";
    e.bucket = "b";
    e.key = "k";
    e.size = 5497558138880LL; /* 5 TiB, the largest S3 object */
    got = bus_event_s3(&e, &env);
    assert_non_null(strstr(got, "\"size\":5497558138880}"));
    free(got);
    e.size = 0;
    got = bus_event_s3(&e, &env);
    assert_non_null(strstr(got, "\"size\":0}"));
    free(got);
}

/* ---- classic notifications ---- */

static void test_bus_event_s3_record_rebuilds_the_classic_example(void **state)
{
    struct bus_event_env env = env_at("i", "A3NL1KOZZKExample", "us-west-2", 0);
    struct bus_s3_event e = empty_event();
    char *got;

    e.detail_type = "Object Created";
    e.bucket = "mybucket";
    e.key = "HappyFace.jpg";
    e.size = 1024;
    e.etag = "d41d8cd98f00b204e9800998ecf8427e";
    e.version_id = "096fKKXTRTtl3on89fVO.nfljtsv6qko";
    e.sequencer = "0055AED6DCD90281E5";
    e.request_id = "C3D13FE58DE4C810";
    e.requester = "AIDAJDPLRKLG7UEXAMPLE";
    e.source_ip = "127.0.0.1";
    e.reason = "PutObject";
    got = bus_event_s3_record(&e, &env, "ObjectCreated:Put", "testConfigRule");
    assert_json_eq_fixture(got, "events/s3_record_object_created_put.json");
    free(got);
}

static void test_bus_event_s3_record_always_form_encodes_the_key(void **state)
{
    struct bus_event_env env = env_at("i", "111122223333", "us-east-1", 1636675200);
    struct bus_s3_event e = empty_event();
    char *got;

    env.key_encoding = BUS_KEY_RAW;
    e.detail_type = "Object Created";
    e.bucket = "b";
    e.key = "red flower.jpg";
    got = bus_event_s3_record(&e, &env, "ObjectCreated:Put", "c");
    assert_non_null(strstr(got, "\"key\":\"red+flower.jpg\""));
    assert_non_null(strstr(got, "\"eventTime\":\"2021-11-12T00:00:00.000Z\""));
    free(got);
}

static void test_bus_event_s3_record_delete_has_key_and_sequencer_only(void **state)
{
    struct bus_event_env env = env_at("i", "111122223333", "us-east-1", 0);
    struct bus_s3_event e = empty_event();
    char *got;

    e.detail_type = "Object Deleted";
    e.bucket = "b";
    e.key = "k";
    e.sequencer = "0055AED6DCD90281E6";
    e.request_id = "R";
    e.requester = "111122223333";
    e.source_ip = "1.2.3.4";
    got = bus_event_s3_record(&e, &env, "ObjectRemoved:Delete", "c");
    assert_non_null(strstr(got, "\"object\":{\"key\":\"k\",\"sequencer\":\"0055AED6DCD90281E6\"}"));
    assert_non_null(strstr(got, "\"eventVersion\":\"2.1\""));
    free(got);
}

static void test_bus_event_s3_record_uses_version_2_3_for_tagging_and_acl(void **state)
{
    struct bus_event_env env = env_at("i", "111122223333", "us-east-1", 0);
    struct bus_s3_event e = empty_event();
    const char *v23[] = {"ObjectTagging:Put",   "ObjectTagging:Delete",
                         "ObjectAcl:Put",       "LifecycleExpiration:Delete",
                         "LifecycleTransition", "ObjectRestore:Delete"};
    const char *v21[] = {"ObjectCreated:Copy", "ObjectCreated:CompleteMultipartUpload",
                         "ObjectRemoved:DeleteMarkerCreated", "ObjectRestore:Post",
                         "ObjectRestore:Completed"};
    char *got;

    e.detail_type = "Object Tags Added";
    e.bucket = "b";
    e.key = "k";
    for (size_t i = 0; i < sizeof(v23) / sizeof(v23[0]); i++) {
        got = bus_event_s3_record(&e, &env, v23[i], "c");
        if (strstr(got, "\"eventVersion\":\"2.3\"") == NULL)
            fail_msg("%s: %s", v23[i], got);
        free(got);
    }
    for (size_t i = 0; i < sizeof(v21) / sizeof(v21[0]); i++) {
        got = bus_event_s3_record(&e, &env, v21[i], "c");
        if (strstr(got, "\"eventVersion\":\"2.1\"") == NULL)
            fail_msg("%s: %s", v21[i], got);
        free(got);
    }
}

static void test_bus_event_s3_record_names_the_service_when_there_is_no_client_ip(void **state)
{
    struct bus_event_env env = env_at("i", "111122223333", "us-east-1", 0);
    struct bus_s3_event e = empty_event();
    char *got;

    e.detail_type = "Object Deleted";
    e.bucket = "b";
    e.key = "k";
    e.requester = "s3.amazonaws.com";
    got = bus_event_s3_record(&e, &env, "LifecycleExpiration:Delete", "c");
    assert_non_null(strstr(got, "\"userIdentity\":{\"principalId\":\"s3.amazonaws.com\"}"));
    assert_non_null(
        strstr(got, "\"requestParameters\":{\"sourceIPAddress\":\"s3.amazonaws.com\"}"));
    free(got);
}

static void test_bus_event_s3_test_event_matches_the_documented_message(void **state)
{
    struct bus_event_env env = env_at("i", "111122223333", "us-east-1", 1413215822);
    char *got = bus_event_s3_test_event("bucketname", "5582815E1AEA5ADF", &env);

    assert_json_eq_fixture(got, "events/s3_test_event.json");
    assert_null(strstr(got, "Records"));
    free(got);
}

/* ---- PutEvents entries ---- */

struct entry_result {
    int rc;
    char *out;
    const char *bus;
    const char *code;
    const char *message;
};

static struct entry_result from_entry(const char *entry_json, int64_t now)
{
    struct bus_event_env env =
        env_at("11111111-2222-4333-8444-555555555555", "123456789012", "eu-central-1", now);
    struct entry_result r;
    cJSON *entry = cJSON_Parse(entry_json);

    if (entry == NULL)
        fail_msg("test entry is not JSON: %s", entry_json);
    r.rc = bus_event_from_entry(entry, &env, &r.out, &r.bus, &r.code, &r.message);
    if (r.rc == 0)
        r.bus = strcmp(r.bus, "default") == 0 ? "default" : bb_xstrdup(r.bus);
    cJSON_Delete(entry);
    return r;
}

static void release(struct entry_result *r)
{
    if (r->rc == 0 && strcmp(r->bus, "default") != 0)
        free((char *)r->bus);
    free(r->out);
}

static void assert_entry_error(const char *entry_json, const char *code, const char *message)
{
    struct entry_result r = from_entry(entry_json, 0);

    if (r.rc != BB_EINVAL)
        fail_msg("%s: rc %d, want BB_EINVAL", entry_json, r.rc);
    assert_null(r.out);
    assert_string_equal(r.code, code);
    assert_string_equal(r.message, message);
}

static void test_bus_event_from_entry_builds_the_envelope_in_aws_order(void **state)
{
    struct entry_result r =
        from_entry("{\"Source\":\"my.app\",\"DetailType\":\"Order Placed\","
                   "\"Detail\":\"{\\\"order\\\":{\\\"id\\\":7},\\\"tags\\\":[\\\"a\\\"]}\","
                   "\"Resources\":[\"arn:aws:s3:::b\",\"r2\"]}",
                   1636675200);

    assert_int_equal(r.rc, 0);
    assert_string_equal(r.bus, "default");
    assert_json_eq(r.out, "{\"version\":\"0\",\"id\":\"11111111-2222-4333-8444-555555555555\","
                          "\"detail-type\":\"Order Placed\",\"source\":\"my.app\","
                          "\"account\":\"123456789012\",\"time\":\"2021-11-12T00:00:00Z\","
                          "\"region\":\"eu-central-1\",\"resources\":[\"arn:aws:s3:::b\",\"r2\"],"
                          "\"detail\":{\"order\":{\"id\":7},\"tags\":[\"a\"]}}");
    release(&r);
}

static void test_bus_event_from_entry_without_resources_has_an_empty_array(void **state)
{
    struct entry_result r =
        from_entry("{\"Source\":\"s\",\"DetailType\":\"d\",\"Detail\":\"{}\"}", 0);

    assert_int_equal(r.rc, 0);
    assert_non_null(strstr(r.out, "\"resources\":[],\"detail\":{}}"));
    release(&r);
}

static void test_bus_event_from_entry_keeps_the_detail_text_minified(void **state)
{
    struct entry_result r = from_entry("{\"Source\":\"s\",\"DetailType\":\"d\","
                                       "\"Detail\":\"{\\n  \\\"big\\\": 9007199254740993,\\n  "
                                       "\\\"f\\\": 1.0, \\\"s\\\": \\\"a b\\\"\\n}\"}",
                                       0);

    assert_int_equal(r.rc, 0);
    assert_non_null(
        strstr(r.out, "\"detail\":{\"big\":9007199254740993,\"f\":1.0,\"s\":\"a b\"}}"));
    release(&r);
}

static void test_bus_event_from_entry_normalises_a_numeric_time_to_seconds(void **state)
{
    struct entry_result r = from_entry(
        "{\"Source\":\"s\",\"DetailType\":\"d\",\"Detail\":\"{}\",\"Time\":1636675200.789}", 5);

    assert_int_equal(r.rc, 0);
    assert_non_null(strstr(r.out, "\"time\":\"2021-11-12T00:00:00Z\""));
    release(&r);
}

static void test_bus_event_from_entry_normalises_an_rfc3339_time_to_seconds(void **state)
{
    struct entry_result r = from_entry("{\"Source\":\"s\",\"DetailType\":\"d\",\"Detail\":\"{}\","
                                       "\"Time\":\"2021-11-12T00:00:00.123Z\"}",
                                       5);

    assert_int_equal(r.rc, 0);
    assert_non_null(strstr(r.out, "\"time\":\"2021-11-12T00:00:00Z\""));
    release(&r);
    r = from_entry("{\"Source\":\"s\",\"DetailType\":\"d\",\"Detail\":\"{}\","
                   "\"Time\":\"2021-11-12T02:30:15+02:00\"}",
                   5);
    assert_int_equal(r.rc, 0);
    assert_non_null(strstr(r.out, "\"time\":\"2021-11-12T00:30:15Z\""));
    release(&r);
}

static void test_bus_event_from_entry_uses_the_call_time_without_time(void **state)
{
    struct entry_result r = from_entry(
        "{\"Source\":\"s\",\"DetailType\":\"d\",\"Detail\":\"{}\",\"Time\":null}", 1413215822);

    assert_int_equal(r.rc, 0);
    assert_non_null(strstr(r.out, "\"time\":\"2014-10-13T15:57:02Z\""));
    release(&r);
}

static void test_bus_event_from_entry_refuses_an_unparsable_time(void **state)
{
    assert_entry_error(
        "{\"Source\":\"s\",\"DetailType\":\"d\",\"Detail\":\"{}\",\"Time\":\"yesterday\"}",
        "InvalidArgument",
        "Parameter Time is not valid. Reason: Time must be epoch seconds or an RFC 3339 "
        "timestamp.");
    assert_entry_error(
        "{\"Source\":\"s\",\"DetailType\":\"d\",\"Detail\":\"{}\",\"Time\":\"2021-02-29T00:00:"
        "00Z\"}",
        "InvalidArgument",
        "Parameter Time is not valid. Reason: Time must be epoch seconds or an RFC 3339 "
        "timestamp.");
}

static void test_bus_event_from_entry_returns_the_bus_name_or_arn_name(void **state)
{
    struct entry_result r = from_entry(
        "{\"Source\":\"s\",\"DetailType\":\"d\",\"Detail\":\"{}\",\"EventBusName\":\"orders\"}", 0);

    assert_int_equal(r.rc, 0);
    assert_string_equal(r.bus, "orders");
    release(&r);
    r = from_entry("{\"Source\":\"s\",\"DetailType\":\"d\",\"Detail\":\"{}\","
                   "\"EventBusName\":\"arn:aws:events:us-east-1:123456789012:event-bus/orders\"}",
                   0);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.bus, "orders");
    release(&r);
}

static void test_bus_event_from_entry_requires_source(void **state)
{
    const char *msg = "Parameter Source is not valid. Reason: Source is a required argument.";

    assert_entry_error("{\"DetailType\":\"d\",\"Detail\":\"{}\"}", "InvalidArgument", msg);
    assert_entry_error("{\"Source\":\"\",\"DetailType\":\"d\",\"Detail\":\"{}\"}",
                       "InvalidArgument", msg);
    assert_entry_error("{}", "InvalidArgument", msg);
}

static void test_bus_event_from_entry_requires_detail_type(void **state)
{
    assert_entry_error("{\"Source\":\"s\",\"Detail\":\"{}\"}", "InvalidArgument",
                       "Parameter DetailType is not valid. Reason: DetailType is a required "
                       "argument.");
}

static void test_bus_event_from_entry_requires_detail(void **state)
{
    assert_entry_error("{\"Source\":\"s\",\"DetailType\":\"d\"}", "InvalidArgument",
                       "Parameter Detail is not valid. Reason: Detail is a required argument.");
}

static void test_bus_event_from_entry_refuses_a_detail_that_is_not_an_object(void **state)
{
    const char *bad[] = {
        "{\"Source\":\"s\",\"DetailType\":\"d\",\"Detail\":\"\\\"text\\\"\"}",
        "{\"Source\":\"s\",\"DetailType\":\"d\",\"Detail\":\"[1,2]\"}",
        "{\"Source\":\"s\",\"DetailType\":\"d\",\"Detail\":\"{\\\"a\\\":\"}",
        "{\"Source\":\"s\",\"DetailType\":\"d\",\"Detail\":\"{} {}\"}",
        "{\"Source\":\"s\",\"DetailType\":\"d\",\"Detail\":\"not json\"}",
        "{\"Source\":\"s\",\"DetailType\":\"d\",\"Detail\":\"42\"}",
        /* a serialized string holding an object */
        "{\"Source\":\"s\",\"DetailType\":\"d\",\"Detail\":\"\\\"{\\\\\\\"a\\\\\\\":1}\\\"\"}",
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_entry_error(bad[i], "MalformedDetail", "Detail is malformed.");
}

static void test_bus_event_from_entry_refuses_aws_sources(void **state)
{
    assert_entry_error("{\"Source\":\"aws.s3\",\"DetailType\":\"d\",\"Detail\":\"{}\"}",
                       "NotAuthorizedForSourceException", "Not authorized for the source.");
    /* required arguments are checked first */
    assert_entry_error("{\"Source\":\"aws.s3\",\"Detail\":\"{}\"}", "InvalidArgument",
                       "Parameter DetailType is not valid. Reason: DetailType is a required "
                       "argument.");
}

static void test_bus_event_entry_size_counts_time_and_utf8_bytes(void **state)
{
    cJSON *e = cJSON_Parse("{\"Source\":\"abc\",\"DetailType\":\"de\",\"Detail\":\"{}\","
                           "\"Resources\":[\"r1\",\"\\u00e9\"],\"Time\":1}");

    /* 14 + 3 + 2 + 2 + 2 + 2 (é is two bytes) */
    assert_int_equal(bus_event_entry_size(e), 25);
    cJSON_DeleteItemFromObject(e, "Time");
    assert_int_equal(bus_event_entry_size(e), 11);
    cJSON_Delete(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bus_event_uuid_is_a_random_version_4_uuid),
        cmocka_unit_test(test_bus_event_time_formats_epoch_seconds_with_second_precision),
        cmocka_unit_test(test_bus_event_time_clamps_to_four_digit_years),
        cmocka_unit_test(test_bus_event_form_encode_writes_space_as_plus),
        cmocka_unit_test(test_bus_event_form_encode_escapes_reserved_characters),
        cmocka_unit_test(test_bus_event_form_encode_keeps_slash_and_unreserved),
        cmocka_unit_test(test_bus_event_form_encode_escapes_each_utf8_byte),
        cmocka_unit_test(test_bus_event_s3_rebuilds_the_object_created_example),
        cmocka_unit_test(test_bus_event_s3_rebuilds_the_delete_marker_example),
        cmocka_unit_test(
            test_bus_event_s3_delete_on_an_unversioned_bucket_has_only_key_and_sequencer),
        cmocka_unit_test(test_bus_event_s3_lifecycle_delete_has_no_source_ip),
        cmocka_unit_test(test_bus_event_s3_tags_added_has_no_size_and_no_sequencer),
        cmocka_unit_test(test_bus_event_s3_form_encodes_the_key_by_default),
        cmocka_unit_test(test_bus_event_s3_keeps_the_raw_key_when_asked),
        cmocka_unit_test(test_bus_event_s3_writes_size_as_a_json_number),
        cmocka_unit_test(test_bus_event_s3_record_rebuilds_the_classic_example),
        cmocka_unit_test(test_bus_event_s3_record_always_form_encodes_the_key),
        cmocka_unit_test(test_bus_event_s3_record_delete_has_key_and_sequencer_only),
        cmocka_unit_test(test_bus_event_s3_record_uses_version_2_3_for_tagging_and_acl),
        cmocka_unit_test(test_bus_event_s3_record_names_the_service_when_there_is_no_client_ip),
        cmocka_unit_test(test_bus_event_s3_test_event_matches_the_documented_message),
        cmocka_unit_test(test_bus_event_from_entry_builds_the_envelope_in_aws_order),
        cmocka_unit_test(test_bus_event_from_entry_without_resources_has_an_empty_array),
        cmocka_unit_test(test_bus_event_from_entry_keeps_the_detail_text_minified),
        cmocka_unit_test(test_bus_event_from_entry_normalises_a_numeric_time_to_seconds),
        cmocka_unit_test(test_bus_event_from_entry_normalises_an_rfc3339_time_to_seconds),
        cmocka_unit_test(test_bus_event_from_entry_uses_the_call_time_without_time),
        cmocka_unit_test(test_bus_event_from_entry_refuses_an_unparsable_time),
        cmocka_unit_test(test_bus_event_from_entry_returns_the_bus_name_or_arn_name),
        cmocka_unit_test(test_bus_event_from_entry_requires_source),
        cmocka_unit_test(test_bus_event_from_entry_requires_detail_type),
        cmocka_unit_test(test_bus_event_from_entry_requires_detail),
        cmocka_unit_test(test_bus_event_from_entry_refuses_a_detail_that_is_not_an_object),
        cmocka_unit_test(test_bus_event_from_entry_refuses_aws_sources),
        cmocka_unit_test(test_bus_event_entry_size_counts_time_and_utf8_bytes),
    };

    return cmocka_run_group_tests_name("emulator/bus/bus_event", tests, NULL, NULL);
}
