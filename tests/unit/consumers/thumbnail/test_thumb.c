/* SPDX-License-Identifier: MIT */
/*
 * Tests for consumers/thumbnail/thumb.c: key decoding, thumbnail names,
 * size lists, configuration checks, the refusals made before any S3
 * call (not an S3 event, a loop, over the byte limit) and the published
 * entries. The S3 half runs in tests/integration/test_pipeline.py.
 */
#include "bb_test.h"

#include "bb_err.h"
#include "thumb.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

static void assert_decodes(const char *in, const char *want)
{
    char *out = NULL;

    assert_int_equal(thumb_key_decode(in, &out), BB_OK);
    assert_string_equal(out, want);
    free(out);
}

static void test_thumb_key_decode_form_encoding(void **state)
{
    char *out = (char *)"unchanged";

    assert_decodes("photo.jpg", "photo.jpg");
    assert_decodes("my+photo.jpg", "my photo.jpg");
    assert_decodes("a%2Fb%20c%2B.jpg", "a/b c+.jpg");
    assert_decodes("caf%C3%A9.png", "caf\xC3\xA9.png");
    assert_decodes("", "");
    assert_int_equal(thumb_key_decode("bad%zz", &out), BB_EINVAL);
    assert_null(out);
    assert_int_equal(thumb_key_decode("short%4", &out), BB_EINVAL);
    assert_int_equal(thumb_key_decode("end%", &out), BB_EINVAL);
    assert_int_equal(thumb_key_decode("nul%00byte", &out), BB_EINVAL);
}

static char *key_for(const struct thumb_config *cfg, const char *key, int i)
{
    char *k = thumb_output_key(cfg, key, i);

    assert_non_null(k);
    return k;
}

static void assert_key(const struct thumb_config *cfg, const char *key, int i, const char *want)
{
    char *k = key_for(cfg, key, i);

    assert_string_equal(k, want);
    free(k);
}

static void test_thumb_output_key_same_by_default(void **state)
{
    struct thumb_config cfg;

    thumb_config_init(&cfg);
    assert_string_equal(cfg.out_bucket, "my-thumbnails");
    assert_key(&cfg, "photo.jpg", 0, "photo.jpg");
    assert_key(&cfg, "a/b/c d.png", 0, "a/b/c d.png");
}

static void test_thumb_output_key_several_sizes_get_a_prefix(void **state)
{
    struct thumb_config cfg;

    thumb_config_init(&cfg);
    assert_int_equal(thumb_config_set_sizes(&cfg, "256x256,64x48"), BB_OK);
    assert_key(&cfg, "a/photo.jpg", 0, "256x256/a/photo.jpg");
    assert_key(&cfg, "a/photo.jpg", 1, "64x48/a/photo.jpg");
}

static void test_thumb_output_key_seed_naming(void **state)
{
    struct thumb_config cfg;

    thumb_config_init(&cfg);
    cfg.naming = THUMB_NAMING_SEED;
    assert_key(&cfg, "original.jpg", 0, "thumbnail.jpg");
    assert_key(&cfg, "trip/original.jpeg", 0, "trip/thumbnail.jpeg");
    assert_key(&cfg, "cat-original-2.png", 0, "cat-thumbnail-2.png");
    assert_key(&cfg, "cat.png", 0, "cat-thumbnail.png");
    assert_key(&cfg, "noext", 0, "noext-thumbnail");
    assert_int_equal(thumb_config_set_sizes(&cfg, "256x256,64x64"), BB_OK);
    assert_key(&cfg, "original.jpg", 1, "thumbnail-64x64.jpg");
}

static void test_thumb_output_key_template(void **state)
{
    struct thumb_config cfg;

    thumb_config_init(&cfg);
    cfg.naming = THUMB_NAMING_TEMPLATE;
    cfg.key_template = "thumbs/{dir}{name}_{w}x{h}{ext}";
    assert_key(&cfg, "a/b/cat.v2.jpg", 0, "thumbs/a/b/cat.v2_256x256.jpg");
    cfg.key_template = "{name}{ext}.{size}.{unknown}";
    assert_key(&cfg, ".hidden", 0, ".hidden.256x256.{unknown}");
    cfg.key_template = "{ext}";
    assert_null(thumb_output_key(&cfg, "noext", 0)); /* empty */
}

static void test_thumb_output_key_refuses_overlong(void **state)
{
    struct thumb_config cfg;
    char key[THUMB_KEY_MAX + 1];

    thumb_config_init(&cfg);
    memset(key, 'k', THUMB_KEY_MAX);
    key[THUMB_KEY_MAX] = '\0';
    assert_key(&cfg, key, 0, key);
    cfg.naming = THUMB_NAMING_SEED;
    assert_null(thumb_output_key(&cfg, key, 0));
}

static void test_thumb_config_set_sizes_parses_and_refuses(void **state)
{
    struct thumb_config cfg;

    thumb_config_init(&cfg);
    assert_int_equal(thumb_config_set_sizes(&cfg, "100x50,8x8,1x1"), BB_OK);
    assert_int_equal(cfg.image.nboxes, 3);
    assert_int_equal(cfg.image.boxes[0].w, 100);
    assert_int_equal(cfg.image.boxes[0].h, 50);
    assert_int_equal(cfg.image.boxes[2].h, 1);
    assert_int_equal(thumb_config_set_sizes(&cfg, ""), BB_EINVAL);
    assert_int_equal(thumb_config_set_sizes(&cfg, "100"), BB_EINVAL);
    assert_int_equal(thumb_config_set_sizes(&cfg, "0x10"), BB_EINVAL);
    assert_int_equal(thumb_config_set_sizes(&cfg, "10x10,"), BB_OK);
    assert_int_equal(thumb_config_set_sizes(&cfg, "10x10;"), BB_EINVAL);
    assert_int_equal(thumb_config_set_sizes(&cfg, "99999x10"), BB_EINVAL);
    assert_int_equal(thumb_config_set_sizes(&cfg, "1x1,2x2,3x3,4x4,5x5,6x6,7x7,8x8,9x9"),
                     BB_EINVAL);
    assert_int_equal(cfg.image.nboxes, 1); /* the last good list stays */
}

static void test_thumb_config_check(void **state)
{
    struct thumb_config cfg;
    char err[200];

    thumb_config_init(&cfg);
    assert_int_equal(thumb_config_check(&cfg, err, sizeof(err)), BB_OK);
    cfg.naming = THUMB_NAMING_TEMPLATE;
    cfg.key_template = "{key}";
    assert_int_equal(thumb_config_set_sizes(&cfg, "10x10,20x20"), BB_OK);
    assert_int_equal(thumb_config_check(&cfg, err, sizeof(err)), BB_EINVAL);
    assert_non_null(strstr(err, "{size}"));
    cfg.key_template = "{size}/{key}";
    assert_int_equal(thumb_config_check(&cfg, err, sizeof(err)), BB_OK);
    cfg.out_bucket = "";
    assert_int_equal(thumb_config_check(&cfg, err, sizeof(err)), BB_EINVAL);
}

/* An S3 "Object Created" event. */
static cJSON *event(const char *bucket, const char *key, double size)
{
    cJSON *ev = cJSON_CreateObject();
    cJSON *d = cJSON_AddObjectToObject(ev, "detail");

    cJSON_AddStringToObject(ev, "id", "e-1");
    cJSON_AddStringToObject(ev, "source", "aws.s3");
    cJSON_AddStringToObject(ev, "detail-type", "Object Created");
    cJSON_AddStringToObject(ev, "time", "2026-01-02T03:04:05Z");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(d, "bucket"), "name", bucket);
    cJSON *o = cJSON_AddObjectToObject(d, "object");
    cJSON_AddStringToObject(o, "key", key);
    cJSON_AddNumberToObject(o, "size", size);
    cJSON_AddStringToObject(o, "etag", "0123456789abcdef0123456789abcdef");
    return ev;
}

/* Runs thumb_handle with no S3 client: only refusals made before S3 may happen. */
static void assert_refused(const struct thumb_config *cfg, const cJSON *ev, const char *reason,
                           const char *error_part)
{
    struct thumb_outcome out;
    cJSON *d;

    thumb_handle(cfg, NULL, ev, &out);
    assert_int_equal(out.status, THUMB_FAILED);
    assert_non_null(strstr(out.error, error_part));
    assert_non_null(out.detail);
    d = cJSON_Parse(out.detail);
    assert_non_null(d);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(d, "reason")), reason);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(d, "error")), out.error);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(d, "permanent")));
    assert_true(cJSON_IsNumber(cJSON_GetObjectItem(d, "duration_ms")));
    cJSON_Delete(d);
    thumb_outcome_cleanup(&out);
}

static void test_thumb_handle_refuses_its_own_bucket(void **state)
{
    struct thumb_config cfg;
    cJSON *ev = event("my-thumbnails", "cat.jpg", 10);

    thumb_config_init(&cfg);
    assert_refused(&cfg, ev, "loop", "source bucket");
    cJSON_Delete(ev);
}

static void test_thumb_handle_refuses_non_s3_events(void **state)
{
    struct thumb_config cfg;
    cJSON *ev = cJSON_Parse("{\"source\":\"app\",\"detail\":{\"x\":1}}");
    cJSON *s = cJSON_CreateString("just text");
    cJSON *bad = event("my-raw-images", "bad%zzkey.jpg", 10);

    thumb_config_init(&cfg);
    assert_refused(&cfg, ev, "bad_event", "not an S3 object event");
    assert_refused(&cfg, s, "bad_event", "not an EventBridge event");
    assert_refused(&cfg, NULL, "bad_event", "not an EventBridge event");
    assert_refused(&cfg, bad, "bad_event", "form-encoded");
    cJSON_Delete(ev);
    cJSON_Delete(s);
    cJSON_Delete(bad);
}

static void test_thumb_handle_refuses_oversized_before_fetching(void **state)
{
    struct thumb_config cfg;
    cJSON *ev = event("my-raw-images", "big+photo.jpg", 2e9);
    struct thumb_outcome out;
    cJSON *d;

    thumb_config_init(&cfg);
    thumb_handle(&cfg, NULL, ev, &out);
    assert_int_equal(out.status, THUMB_FAILED);
    d = cJSON_Parse(out.detail);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(d, "reason")), "too_big");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(d, "key")), "big photo.jpg");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(d, "bucket")), "my-raw-images");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(d, "source_event_id")), "e-1");
    cJSON_Delete(d);
    thumb_outcome_cleanup(&out);
    cJSON_Delete(ev);
}

static void test_thumb_entries_shape(void **state)
{
    cJSON *a = thumb_entries(THUMB_DONE, "{\"k\":1}");
    cJSON *e = cJSON_GetArrayItem(a, 0);

    assert_int_equal(cJSON_GetArraySize(a), 1);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(e, "Source")),
                        "bucketbridge.thumbnail");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(e, "DetailType")),
                        "Thumbnail Created");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(e, "Detail")), "{\"k\":1}");
    cJSON_Delete(a);
    a = thumb_entries(THUMB_FAILED, NULL);
    e = cJSON_GetArrayItem(a, 0);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(e, "DetailType")),
                        "Thumbnail Failed");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(e, "Detail")), "{}");
    cJSON_Delete(a);
    /* found done: published as created (the earlier attempt may not have) */
    a = thumb_entries(THUMB_SKIPPED, "{\"already_existed\":true}");
    e = cJSON_GetArrayItem(a, 0);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(e, "DetailType")),
                        "Thumbnail Created");
    cJSON_Delete(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_thumb_key_decode_form_encoding),
        cmocka_unit_test(test_thumb_output_key_same_by_default),
        cmocka_unit_test(test_thumb_output_key_several_sizes_get_a_prefix),
        cmocka_unit_test(test_thumb_output_key_seed_naming),
        cmocka_unit_test(test_thumb_output_key_template),
        cmocka_unit_test(test_thumb_output_key_refuses_overlong),
        cmocka_unit_test(test_thumb_config_set_sizes_parses_and_refuses),
        cmocka_unit_test(test_thumb_config_check),
        cmocka_unit_test(test_thumb_handle_refuses_its_own_bucket),
        cmocka_unit_test(test_thumb_handle_refuses_non_s3_events),
        cmocka_unit_test(test_thumb_handle_refuses_oversized_before_fetching),
        cmocka_unit_test(test_thumb_entries_shape),
    };

    return cmocka_run_group_tests_name("consumers/thumbnail/thumb", tests, NULL, NULL);
}
