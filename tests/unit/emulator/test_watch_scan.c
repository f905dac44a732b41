/* SPDX-License-Identifier: MIT */
/* Tests for emulator/watch_scan.c's pure parts: the path filter (the
 * default ignore list and configured globs) and the content type guessed
 * from a file name. The watcher's behaviour against a running daemon is in
 * tests/integration/test_watcher.py. */
#include "bb_test.h"

#include "watch_scan.h"

#include <string.h>

static void test_watch_scan_ignores_editor_and_download_temporaries(void **state)
{
    (void)state;
    assert_int_equal(watch_scan_ignored(".photo.jpg.swp", NULL), 1); /* vim swap */
    assert_int_equal(watch_scan_ignored("photo.jpg~", NULL), 1);     /* backup */
    assert_int_equal(watch_scan_ignored(".#photo.jpg", NULL), 1);    /* emacs lock */
    assert_int_equal(watch_scan_ignored("4913", NULL), 1);           /* vim's probe */
    assert_int_equal(watch_scan_ignored("photo.jpg.part", NULL), 1);
    assert_int_equal(watch_scan_ignored("photo.jpg.crdownload", NULL), 1);
    assert_int_equal(watch_scan_ignored("photo.swp", NULL), 1);
}

static void test_watch_scan_ignores_hidden_names_and_own_state(void **state)
{
    (void)state;
    assert_int_equal(watch_scan_ignored(".bucketbridge", NULL), 1);
    assert_int_equal(watch_scan_ignored(".hidden", NULL), 1);
    assert_int_equal(watch_scan_ignored(".rsync-tmp.XyZ123", NULL), 1);
}

static void test_watch_scan_keeps_ordinary_names(void **state)
{
    (void)state;
    assert_int_equal(watch_scan_ignored("photo.jpg", NULL), 0);
    assert_int_equal(watch_scan_ignored("my photo (1).jpeg", NULL), 0);
    assert_int_equal(watch_scan_ignored("49130", NULL), 0);
    assert_int_equal(watch_scan_ignored("swp", NULL), 0);
    assert_int_equal(watch_scan_ignored("part.jpg", NULL), 0);
    assert_int_equal(watch_scan_ignored("a~b", NULL), 0);
    assert_int_equal(watch_scan_ignored("caf\xc3\xa9.png", NULL), 0);
}

static void test_watch_scan_configured_globs_replace_the_defaults(void **state)
{
    const char *globs = "[\"*.tmp\", \"draft-*\"]";
    (void)state;
    assert_int_equal(watch_scan_ignored("upload.tmp", globs), 1);
    assert_int_equal(watch_scan_ignored("draft-1.jpg", globs), 1);
    /* the defaults no longer apply once a list is configured */
    assert_int_equal(watch_scan_ignored("photo.jpg~", globs), 0);
    assert_int_equal(watch_scan_ignored("photo.jpg", globs), 0);
    /* FNM_PERIOD: "*" does not swallow a leading dot */
    assert_int_equal(watch_scan_ignored(".upload.tmp", globs), 0);
}

static void test_watch_scan_empty_or_odd_glob_lists_ignore_nothing(void **state)
{
    (void)state;
    assert_int_equal(watch_scan_ignored(".hidden", "[]"), 0);
    assert_int_equal(watch_scan_ignored("x.tmp", "[42, null]"), 0);
    assert_int_equal(watch_scan_ignored("x.tmp", "not json"), 0);
}

static void test_watch_scan_content_type_by_extension(void **state)
{
    (void)state;
    assert_string_equal(watch_scan_content_type("a.jpg"), "image/jpeg");
    assert_string_equal(watch_scan_content_type("a.JPEG"), "image/jpeg");
    assert_string_equal(watch_scan_content_type("dir/a.png"), "image/png");
    assert_string_equal(watch_scan_content_type("notes.txt"), "text/plain");
    assert_string_equal(watch_scan_content_type("data.json"), "application/json");
    assert_string_equal(watch_scan_content_type("clip.mp4"), "video/mp4");
}

static void test_watch_scan_content_type_falls_back_like_s3(void **state)
{
    (void)state;
    /* S3's default for an object stored without a type */
    assert_string_equal(watch_scan_content_type("README"), "binary/octet-stream");
    assert_string_equal(watch_scan_content_type("a.unknownext"), "binary/octet-stream");
    assert_string_equal(watch_scan_content_type("dir.d/file"), "binary/octet-stream");
    assert_string_equal(watch_scan_content_type("trailing."), "binary/octet-stream");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_watch_scan_ignores_editor_and_download_temporaries),
        cmocka_unit_test(test_watch_scan_ignores_hidden_names_and_own_state),
        cmocka_unit_test(test_watch_scan_keeps_ordinary_names),
        cmocka_unit_test(test_watch_scan_configured_globs_replace_the_defaults),
        cmocka_unit_test(test_watch_scan_empty_or_odd_glob_lists_ignore_nothing),
        cmocka_unit_test(test_watch_scan_content_type_by_extension),
        cmocka_unit_test(test_watch_scan_content_type_falls_back_like_s3),
    };

    return cmocka_run_group_tests_name("emulator/watch_scan", tests, NULL, NULL);
}
