/* SPDX-License-Identifier: MIT */
/* Tests for emulator/store_key.c: the bucket-name rules and the key <-> path
 * escaping (its table, its limits, the round trip and the promise that no
 * path leaves the bucket directory). */
#include "bb_test.h"

#include "store_key.h"

#include "bb_buf.h"
#include "bb_err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ---- */

static void assert_bucket_ok(const char *name)
{
    const char *why = NULL;
    int rc = store_key_check_bucket(name, &why);

    if (rc != BB_OK)
        fail_msg("bucket \"%s\" was refused (%s)", name, why ? why : "?");
}

static void assert_bucket_bad(const char *name)
{
    const char *why = NULL;
    int rc = store_key_check_bucket(name, &why);

    if (rc != BB_EINVAL)
        fail_msg("bucket \"%s\" was accepted (rc %d)", name, rc);
    assert_non_null(why);
    assert_true(why[0] != '\0');
}

/* store_key_to_path on a fresh buffer; returns the rc, the path in *out. */
static int to_path(const char *key, size_t len, struct bb_buf *out, const char **why)
{
    bb_buf_init(out, 1 << 16);
    *why = NULL;
    return store_key_to_path(out, key, len, why);
}

static void assert_path(const char *key, const char *want)
{
    struct bb_buf b;
    const char *why;
    int rc = to_path(key, strlen(key), &b, &why);

    if (rc != BB_OK)
        fail_msg("key \"%s\": rc %d (%s)", key, rc, why ? why : "?");
    assert_non_null(b.data);
    if (strcmp(b.data, want) != 0)
        fail_msg("key \"%s\": path \"%s\", want \"%s\"", key, b.data, want);
    bb_buf_cleanup(&b);
}

static void assert_key_refused(const char *key, size_t len, int want_rc)
{
    struct bb_buf b;
    const char *why;
    int rc = to_path(key, len, &b, &why);

    if (rc != want_rc)
        fail_msg("key of %zu bytes: rc %d, want %d", len, rc, want_rc);
    assert_non_null(why);
    bb_buf_cleanup(&b);
}

/* Every component of @path is a name a filesystem holds as such and that
 * stays inside the directory: not "", ".", "..", and no leading '/'. */
static void assert_path_is_contained(const char *key, size_t klen, const char *path, size_t plen)
{
    size_t start = 0;

    if (plen == 0 || path[0] == '/')
        fail_msg("key \"%.*s\": path \"%.*s\" is empty or absolute", (int)klen, key, (int)plen,
                 path);
    for (size_t i = 0; i <= plen; i++) {
        if (i < plen && path[i] != '/')
            continue;
        size_t n = i - start;
        const char *seg = path + start;
        if (n == 0 || (n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
            fail_msg("key \"%.*s\": path \"%.*s\" has component \"%.*s\"", (int)klen, key,
                     (int)plen, path, (int)n, seg);
        if (n > STORE_KEY_MAX_SEGMENT)
            fail_msg("key \"%.*s\": a component is %zu bytes", (int)klen, key, n);
        start = i + 1;
    }
    assert_null(memchr(path, '\0', plen));
}

/* key -> path -> key gives the key back, and the path is contained. */
static void assert_round_trip(const char *key, size_t len)
{
    struct bb_buf path;
    struct bb_buf back;
    const char *why;
    int rc = to_path(key, len, &path, &why);

    if (rc != BB_OK)
        fail_msg("key \"%.*s\": rc %d (%s)", (int)len, key, rc, why ? why : "?");
    assert_path_is_contained(key, len, path.data, path.len);
    bb_buf_init(&back, 1 << 16);
    assert_int_equal(store_key_from_path(&back, path.data, path.len), BB_OK);
    if (back.len != len || memcmp(back.data, key, len) != 0)
        fail_msg("key \"%.*s\" -> \"%s\" -> \"%.*s\"", (int)len, key, path.data, (int)back.len,
                 back.data ? back.data : "");
    bb_buf_cleanup(&back);
    bb_buf_cleanup(&path);
}

/* 1 when a '/'-separated segment of @key is "." or "..". */
static int has_dot_segment(const char *key, size_t len)
{
    size_t start = 0;

    for (size_t i = 0; i <= len; i++) {
        if (i < len && key[i] != '/')
            continue;
        size_t n = i - start;
        if ((n == 1 && key[start] == '.') || (n == 2 && key[start] == '.' && key[start + 1] == '.'))
            return 1;
        start = i + 1;
    }
    return 0;
}

/* A key with a "." or ".." segment is refused; any other round-trips. */
static void assert_refused_or_round_trip(const char *key, size_t len)
{
    if (has_dot_segment(key, len))
        assert_key_refused(key, len, BB_EINVAL);
    else
        assert_round_trip(key, len);
}

/* ---- bucket names ---- */

static void test_store_key_check_bucket_accepts_ordinary_names(void **state)
{
    assert_bucket_ok("my-raw-images");
    assert_bucket_ok("my-thumbnails");
    assert_bucket_ok("abc");
    assert_bucket_ok("a1b");
    assert_bucket_ok("123");
    assert_bucket_ok("www.example.com");
    assert_bucket_ok("a.b.c.d.e");
    assert_bucket_ok("my--bucket");
    assert_bucket_ok("1.2.3");
    assert_bucket_ok("1.2.3.4.5");
    assert_bucket_ok("1.2.3.a");
}

static void test_store_key_check_bucket_length_is_3_to_63(void **state)
{
    char name[80];

    assert_bucket_bad("");
    assert_bucket_bad("a");
    assert_bucket_bad("ab");
    assert_bucket_ok("abc");
    memset(name, 'a', sizeof(name));
    name[63] = '\0';
    assert_bucket_ok(name);
    name[63] = 'a';
    name[64] = '\0';
    assert_bucket_bad(name);
}

static void test_store_key_check_bucket_refuses_other_characters(void **state)
{
    assert_bucket_bad("MyBucket");
    assert_bucket_bad("my_bucket");
    assert_bucket_bad("my bucket");
    assert_bucket_bad("my/bucket");
    assert_bucket_bad("my:bucket");
    assert_bucket_bad("my%bucket");
    assert_bucket_bad("caf\xc3\xa9s");
    assert_bucket_bad("abc\n");
}

static void test_store_key_check_bucket_must_begin_and_end_alnum(void **state)
{
    assert_bucket_bad("-abc");
    assert_bucket_bad("abc-");
    assert_bucket_bad(".abc");
    assert_bucket_bad("abc.");
    assert_bucket_bad("---");
    assert_bucket_ok("a-c");
    assert_bucket_ok("0-9");
}

static void test_store_key_check_bucket_refuses_adjacent_periods(void **state)
{
    assert_bucket_bad("a..b");
    assert_bucket_bad("my..bucket");
    assert_bucket_bad("a.b..c.d");
}

static void test_store_key_check_bucket_refuses_ip_address_form(void **state)
{
    assert_bucket_bad("192.168.5.4");
    assert_bucket_bad("10.0.0.1");
    assert_bucket_bad("127.0.0.1");
}

static void test_store_key_check_bucket_refuses_reserved_prefixes(void **state)
{
    /* AWS general purpose bucket naming rules. */
    assert_bucket_bad("xn--bucket");
    assert_bucket_bad("sthree-bucket");
    assert_bucket_bad("sthree-configurator");
    assert_bucket_bad("amzn-s3-demo-bucket");
    assert_bucket_ok("xn-bucket");
    assert_bucket_ok("sthree");
    assert_bucket_ok("amzn-s3-bucket");
}

static void test_store_key_check_bucket_refuses_reserved_suffixes(void **state)
{
    /* AWS general purpose bucket naming rules. */
    assert_bucket_bad("bucket-s3alias");
    assert_bucket_bad("bucket--ol-s3");
    assert_bucket_bad("bucket.mrap");
    assert_bucket_bad("bucket--x-s3");
    assert_bucket_bad("bucket--table-s3");
    assert_bucket_ok("bucket-s3");
    assert_bucket_ok("s3alias");
    assert_bucket_ok("bucket.mrapx");
}

/* ---- key -> path: the escaping table ---- */

static void test_store_key_to_path_keeps_ordinary_keys(void **state)
{
    assert_path("photos/cat.jpg", "photos/cat.jpg");
    assert_path("a", "a");
    assert_path("a/b/c", "a/b/c");
    assert_path("...", "...");
    assert_path(".a/a.", ".a/a.");
    assert_path("a%b/c%", "a%b/c%");
    assert_path("with space/and+plus", "with space/and+plus");
    assert_path("caf\xc3\xa9/\xe4\xb8\xad", "caf\xc3\xa9/\xe4\xb8\xad");
}

static void test_store_key_to_path_escapes_empty_segments(void **state)
{
    assert_path("a//b", "a/%/b");
    assert_path("/a", "%/a");
    assert_path("a/", "a/%");
    assert_path("/", "%/%");
    assert_path("//", "%/%/%");
}

static void test_store_key_to_path_refuses_dot_segments(void **state)
{
    static const char *const bad[] = {
        ".",   "..",    "a/../b", "./..",  "../../etc/passwd", "a/.",
        "./a", "a/./b", "a/..",   "a//..", "\xc3\xa9/../x",    "/./",
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_key_refused(bad[i], strlen(bad[i]), BB_EINVAL);
}

static void test_store_key_to_path_keeps_other_dot_names(void **state)
{
    assert_path("...", "...");
    assert_path(".a", ".a");
    assert_path("a.", "a.");
    assert_path("..a/a..", "..a/a..");
    assert_path(".../....", ".../....");
    assert_path(".hidden/.config", ".hidden/.config");
}

static void test_store_key_to_path_escapes_segments_starting_with_percent(void **state)
{
    assert_path("%", "%%");
    assert_path("%x", "%%x");
    assert_path("%%", "%%%");
    assert_path("%.", "%%.");
    assert_path("%..", "%%..");
    assert_path("a/%2F/b", "a/%%2F/b");
}

static void test_store_key_to_path_appends_to_the_buffer(void **state)
{
    struct bb_buf b;
    const char *why = NULL;

    bb_buf_init(&b, 1024);
    assert_int_equal(bb_buf_appends(&b, "/data/bucket/"), BB_OK);
    assert_int_equal(store_key_to_path(&b, "x//%y", 5, &why), BB_OK);
    assert_string_equal(b.data, "/data/bucket/x/%/%%y");
    bb_buf_cleanup(&b);
}

/* ---- key -> path: refusals and limits ---- */

static void test_store_key_to_path_refuses_empty_key(void **state)
{
    assert_key_refused("", 0, BB_EINVAL);
}

static void test_store_key_to_path_refuses_nul_byte(void **state)
{
    assert_key_refused("a\0b", 3, BB_EINVAL);
    assert_key_refused("\0", 1, BB_EINVAL);
    assert_key_refused("abc\0", 4, BB_EINVAL);
}

static void test_store_key_to_path_refuses_invalid_utf8(void **state)
{
    static const char *const bad[] = {
        "\xff",             /* never valid */
        "\x80",             /* lone continuation */
        "a\xc3",            /* truncated 2-byte */
        "\xe4\xb8",         /* truncated 3-byte */
        "\xc3(",            /* bad continuation */
        "\xc0\x80",         /* overlong NUL */
        "\xe0\x80\xaf",     /* overlong '/' */
        "\xed\xa0\x80",     /* surrogate U+D800 */
        "\xf4\x90\x80\x80", /* above U+10FFFF */
        "\xf8\x88\x80\x80\x80",
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_key_refused(bad[i], strlen(bad[i]), BB_EINVAL);
}

static void test_store_key_to_path_accepts_utf8_edges(void **state)
{
    assert_round_trip("\x7f", 1);
    assert_round_trip("\xc2\x80", 2);
    assert_round_trip("\xef\xbf\xbf", 3);
    assert_round_trip("\xf0\x90\x80\x80", 4);
    assert_round_trip("\xf4\x8f\xbf\xbf", 4);
}

static void test_store_key_to_path_refuses_key_over_1024_bytes(void **state)
{
    char key[STORE_KEY_MAX + 2];

    /* 1024 bytes in segments of 100 is fine */
    for (size_t i = 0; i < sizeof(key); i++)
        key[i] = i % 101 == 100 ? '/' : 'k';
    assert_round_trip(key, STORE_KEY_MAX);
    assert_key_refused(key, STORE_KEY_MAX + 1, BB_ETOOBIG);
    assert_key_refused(key, STORE_KEY_MAX + 2, BB_ETOOBIG);
}

static void test_store_key_to_path_refuses_segment_over_255_bytes(void **state)
{
    char key[600];

    memset(key, 's', sizeof(key));
    assert_round_trip(key, STORE_KEY_MAX_SEGMENT);
    assert_key_refused(key, STORE_KEY_MAX_SEGMENT + 1, BB_ETOOBIG);
    /* the long segment in the middle of the key */
    memcpy(key, "a/", 2);
    key[2 + 256] = '/';
    assert_key_refused(key, 2 + 256 + 2, BB_ETOOBIG);
    key[2 + 255] = '/';
    key[2 + 256] = 's';
    assert_round_trip(key, 2 + 255 + 1 + 3);
}

static void test_store_key_to_path_counts_the_escape_in_the_segment_limit(void **state)
{
    char key[300];

    memset(key, 'p', sizeof(key));
    key[0] = '%';
    /* 254 bytes + '%' escape = 255: fits; 255 + 1 = 256: does not */
    assert_round_trip(key, STORE_KEY_MAX_SEGMENT - 1);
    assert_key_refused(key, STORE_KEY_MAX_SEGMENT, BB_ETOOBIG);
}

/* ---- the round trip ---- */

static void test_store_key_from_path_inverts_the_table(void **state)
{
    static const char *const keys[] = {
        "photos/cat.jpg",
        "a",
        "/",
        "//",
        "///",
        "a//b",
        "/a",
        "a/",
        "/a/",
        "...",
        "%",
        "%%",
        "%.",
        "%..",
        "%/%",
        "a/%2F/b",
        "a%2Fb",
        "%2e%2e/x",
        "with space",
        "tab\there",
        "new\nline",
        "caf\xc3\xa9",
        "\xe4\xb8\xad\xe6\x96\x87/\xe6\x96\x87\xe4\xbb\xb6.txt",
        "trailing/dot.",
        "emoji/\xf0\x9f\x98\x80/.../.x",
        "..a/b..",
        "-/_/~",
    };

    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        assert_round_trip(keys[i], strlen(keys[i]));
}

/* Every key over a small alphabet that stresses the escaping, up to 6
 * symbols long: those with a "." or ".." segment are refused, all others
 * round-trip and stay inside the bucket. */
static void test_store_key_from_path_round_trips_every_short_key(void **state)
{
    static const char *const sym[] = {"/", ".", "%", "a", "\xc3\xa9"};
    const size_t nsym = sizeof(sym) / sizeof(sym[0]);
    char key[64];
    size_t count = 0;

    for (size_t len = 1; len <= 6; len++) {
        size_t total = 1;
        for (size_t i = 0; i < len; i++)
            total *= nsym;
        for (size_t n = 0; n < total; n++) {
            size_t k = 0;
            size_t v = n;
            for (size_t i = 0; i < len; i++) {
                const char *s = sym[v % nsym];
                v /= nsym;
                memcpy(key + k, s, strlen(s));
                k += strlen(s);
            }
            assert_refused_or_round_trip(key, k);
            count++;
        }
    }
    assert_int_equal(count, 5 + 25 + 125 + 625 + 3125 + 15625);
}

/* Pseudo-random longer keys from a fixed seed. */
static void test_store_key_from_path_round_trips_random_keys(void **state)
{
    static const char *const sym[] = {"/", "/", ".", "..", "%", "x", "\xe4\xb8\xad", "%2F", " "};
    const size_t nsym = sizeof(sym) / sizeof(sym[0]);
    uint32_t seed = 12345;
    char key[STORE_KEY_MAX];

    for (int iter = 0; iter < 20000; iter++) {
        size_t k = 0;
        seed = seed * 1103515245u + 12345u;
        size_t want = 1 + (seed >> 16) % 60;
        while (k < want) {
            seed = seed * 1103515245u + 12345u;
            const char *s = sym[(seed >> 16) % nsym];
            memcpy(key + k, s, strlen(s));
            k += strlen(s);
        }
        assert_refused_or_round_trip(key, k);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_store_key_check_bucket_accepts_ordinary_names),
        cmocka_unit_test(test_store_key_check_bucket_length_is_3_to_63),
        cmocka_unit_test(test_store_key_check_bucket_refuses_other_characters),
        cmocka_unit_test(test_store_key_check_bucket_must_begin_and_end_alnum),
        cmocka_unit_test(test_store_key_check_bucket_refuses_adjacent_periods),
        cmocka_unit_test(test_store_key_check_bucket_refuses_ip_address_form),
        cmocka_unit_test(test_store_key_check_bucket_refuses_reserved_prefixes),
        cmocka_unit_test(test_store_key_check_bucket_refuses_reserved_suffixes),
        cmocka_unit_test(test_store_key_to_path_keeps_ordinary_keys),
        cmocka_unit_test(test_store_key_to_path_escapes_empty_segments),
        cmocka_unit_test(test_store_key_to_path_refuses_dot_segments),
        cmocka_unit_test(test_store_key_to_path_keeps_other_dot_names),
        cmocka_unit_test(test_store_key_to_path_escapes_segments_starting_with_percent),
        cmocka_unit_test(test_store_key_to_path_appends_to_the_buffer),
        cmocka_unit_test(test_store_key_to_path_refuses_empty_key),
        cmocka_unit_test(test_store_key_to_path_refuses_nul_byte),
        cmocka_unit_test(test_store_key_to_path_refuses_invalid_utf8),
        cmocka_unit_test(test_store_key_to_path_accepts_utf8_edges),
        cmocka_unit_test(test_store_key_to_path_refuses_key_over_1024_bytes),
        cmocka_unit_test(test_store_key_to_path_refuses_segment_over_255_bytes),
        cmocka_unit_test(test_store_key_to_path_counts_the_escape_in_the_segment_limit),
        cmocka_unit_test(test_store_key_from_path_inverts_the_table),
        cmocka_unit_test(test_store_key_from_path_round_trips_every_short_key),
        cmocka_unit_test(test_store_key_from_path_round_trips_random_keys),
    };

    return cmocka_run_group_tests_name("emulator/store_key", tests, NULL, NULL);
}
