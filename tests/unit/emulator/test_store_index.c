/* SPDX-License-Identifier: MIT */
/* Tests for emulator/store_index.c (and db.c under it), against a real
 * SQLite database in a temporary directory: buckets, object rows, and the
 * ordered scan with its prefix, "after", reseek and stop. */
#include "bb_test.h"

#include "db.h"
#include "store_index.h"

#include "bb_err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- fixture ---- */

struct fx {
    char *dir;
    char *path;
    struct db db;
    struct store_index *ix;
};

static int fx_setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    f->dir = bb_test_tmpdir();
    assert_true(asprintf(&f->path, "%s/state.db", f->dir) > 0);
    assert_int_equal(db_open(&f->db, f->path, 0), BB_OK);
    f->ix = store_index_new(&f->db);
    assert_non_null(f->ix);
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;

    store_index_free(f->ix);
    db_close(&f->db);
    bb_test_rmrf(f->dir);
    free(f->path);
    free(f->dir);
    free(f);
    return 0;
}

/* A row with every field set; strings are literals (the row is borrowed). */
static struct store_object row(const char *key, uint64_t size)
{
    struct store_object o;

    memset(&o, 0, sizeof(o));
    o.key = (char *)key;
    o.size = size;
    o.etag = "5d41402abc4b2a76b9719d911017c592";
    o.content_type = "text/plain";
    o.mtime_ms = 1700000000123;
    o.headers = "{\"x-amz-meta-a\":\"1\"}";
    o.checksum_alg = "CRC32";
    o.checksum = "NhCmhg==";
    return o;
}

static void put_keys(struct store_index *ix, const char *bucket, const char *const *keys, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct store_object o = row(keys[i], i);
        assert_int_equal(store_index_put(ix, bucket, &o), BB_OK);
    }
}

/* ---- buckets ---- */

struct bucket_list {
    char names[8][64];
    size_t n;
};

static int collect_bucket(void *arg, const char *name, int64_t created_ms)
{
    struct bucket_list *l = arg;

    assert_true(created_ms > 0);
    assert_true(l->n < 8);
    snprintf(l->names[l->n++], sizeof(l->names[0]), "%s", name);
    return 0;
}

static int bucket_listed(const struct bucket_list *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->names[i], name) == 0)
            return 1;
    return 0;
}

static void test_store_index_bucket_add_then_exists(void **state)
{
    struct fx *f = *state;

    assert_int_equal(store_index_bucket_exists(f->ix, "alpha"), 0);
    assert_int_equal(store_index_bucket_add(f->ix, "alpha", 1), BB_OK);
    assert_int_equal(store_index_bucket_exists(f->ix, "alpha"), 1);
    assert_int_equal(store_index_bucket_exists(f->ix, "alph"), 0);
    assert_int_equal(store_index_bucket_exists(f->ix, "alphab"), 0);
    assert_int_equal(store_index_bucket_exists(f->ix, "ALPHA"), 0);
}

static void test_store_index_bucket_remove_forgets_the_bucket(void **state)
{
    struct fx *f = *state;

    assert_int_equal(store_index_bucket_add(f->ix, "alpha", 0), BB_OK);
    assert_int_equal(store_index_bucket_add(f->ix, "beta", 0), BB_OK);
    assert_int_equal(store_index_bucket_remove(f->ix, "alpha"), BB_OK);
    assert_int_equal(store_index_bucket_exists(f->ix, "alpha"), 0);
    assert_int_equal(store_index_bucket_exists(f->ix, "beta"), 1);
    assert_int_equal(store_index_bucket_remove(f->ix, "missing"), BB_OK);
}

static void test_store_index_bucket_each_visits_every_bucket(void **state)
{
    struct fx *f = *state;
    struct bucket_list l;

    memset(&l, 0, sizeof(l));
    assert_int_equal(store_index_bucket_each(f->ix, collect_bucket, &l), BB_OK);
    assert_int_equal(l.n, 0);
    assert_int_equal(store_index_bucket_add(f->ix, "my-thumbnails", 1), BB_OK);
    assert_int_equal(store_index_bucket_add(f->ix, "my-raw-images", 1), BB_OK);
    assert_int_equal(store_index_bucket_add(f->ix, "zeta", 0), BB_OK);
    assert_int_equal(store_index_bucket_each(f->ix, collect_bucket, &l), BB_OK);
    assert_int_equal(l.n, 3);
    assert_true(bucket_listed(&l, "my-thumbnails"));
    assert_true(bucket_listed(&l, "my-raw-images"));
    assert_true(bucket_listed(&l, "zeta"));
}

static void test_store_index_bucket_has_objects_follows_the_rows(void **state)
{
    struct fx *f = *state;
    struct store_object o = row("k", 1);

    assert_int_equal(store_index_bucket_add(f->ix, "alpha", 0), BB_OK);
    assert_int_equal(store_index_bucket_add(f->ix, "beta", 0), BB_OK);
    assert_int_equal(store_index_bucket_has_objects(f->ix, "alpha"), 0);
    assert_int_equal(store_index_put(f->ix, "alpha", &o), BB_OK);
    assert_int_equal(store_index_bucket_has_objects(f->ix, "alpha"), 1);
    assert_int_equal(store_index_bucket_has_objects(f->ix, "beta"), 0);
    assert_int_equal(store_index_delete(f->ix, "alpha", "k"), 1);
    assert_int_equal(store_index_bucket_has_objects(f->ix, "alpha"), 0);
}

/* ---- rows ---- */

static void test_store_index_get_returns_what_put_stored(void **state)
{
    struct fx *f = *state;
    struct store_object in = row("photos/caf\xc3\xa9.jpg", 123456789012ull);
    struct store_object out;

    in.content_type = "image/jpeg";
    memset(&out, 0, sizeof(out));
    assert_int_equal(store_index_put(f->ix, "bkt", &in), BB_OK);
    assert_int_equal(store_index_get(f->ix, "bkt", "photos/caf\xc3\xa9.jpg", &out), BB_OK);
    assert_string_equal(out.key, in.key);
    assert_true(out.size == in.size);
    assert_string_equal(out.etag, in.etag);
    assert_string_equal(out.content_type, "image/jpeg");
    assert_true(out.mtime_ms == in.mtime_ms);
    assert_string_equal(out.headers, in.headers);
    assert_string_equal(out.checksum_alg, "CRC32");
    assert_string_equal(out.checksum, "NhCmhg==");
    store_object_cleanup(&out);
}

static void test_store_index_get_of_a_missing_key_is_not_found(void **state)
{
    struct fx *f = *state;
    struct store_object in = row("a", 1);
    struct store_object out;

    memset(&out, 0, sizeof(out));
    assert_int_equal(store_index_get(f->ix, "bkt", "a", &out), BB_ENOTFOUND);
    assert_int_equal(store_index_put(f->ix, "bkt", &in), BB_OK);
    assert_int_equal(store_index_get(f->ix, "bkt", "A", &out), BB_ENOTFOUND);
    assert_int_equal(store_index_get(f->ix, "bkt", "a/", &out), BB_ENOTFOUND);
    assert_int_equal(store_index_get(f->ix, "other", "a", &out), BB_ENOTFOUND);
}

static void test_store_index_put_replaces_the_row(void **state)
{
    struct fx *f = *state;
    struct store_object a = row("k", 1);
    struct store_object b = row("k", 2);
    struct store_object out;

    b.etag = "another";
    b.content_type = "application/json";
    assert_int_equal(store_index_put(f->ix, "bkt", &a), BB_OK);
    assert_int_equal(store_index_put(f->ix, "bkt", &b), BB_OK);
    assert_int_equal(store_index_get(f->ix, "bkt", "k", &out), BB_OK);
    assert_int_equal(out.size, 2);
    assert_string_equal(out.etag, "another");
    assert_string_equal(out.content_type, "application/json");
    store_object_cleanup(&out);
}

static void test_store_index_put_keeps_buckets_apart(void **state)
{
    struct fx *f = *state;
    struct store_object a = row("k", 1);
    struct store_object b = row("k", 2);
    struct store_object out;

    assert_int_equal(store_index_put(f->ix, "one", &a), BB_OK);
    assert_int_equal(store_index_put(f->ix, "two", &b), BB_OK);
    assert_int_equal(store_index_get(f->ix, "one", "k", &out), BB_OK);
    assert_int_equal(out.size, 1);
    store_object_cleanup(&out);
    assert_int_equal(store_index_delete(f->ix, "two", "k"), 1);
    assert_int_equal(store_index_get(f->ix, "one", "k", &out), BB_OK);
    store_object_cleanup(&out);
}

static void test_store_index_delete_says_whether_a_row_went(void **state)
{
    struct fx *f = *state;
    struct store_object o = row("k", 1);
    struct store_object out;

    assert_int_equal(store_index_put(f->ix, "bkt", &o), BB_OK);
    assert_int_equal(store_index_delete(f->ix, "bkt", "k"), 1);
    assert_int_equal(store_index_get(f->ix, "bkt", "k", &out), BB_ENOTFOUND);
    assert_int_equal(store_index_delete(f->ix, "bkt", "k"), 0);
    assert_int_equal(store_index_delete(f->ix, "bkt", "never"), 0);
}

static void test_store_index_rows_survive_reopening(void **state)
{
    struct fx *f = *state;
    struct store_object o = row("persist/me", 42);
    struct store_object out;

    assert_int_equal(store_index_bucket_add(f->ix, "bkt", 1), BB_OK);
    assert_int_equal(store_index_put(f->ix, "bkt", &o), BB_OK);
    store_index_free(f->ix);
    db_close(&f->db);
    assert_int_equal(db_open(&f->db, f->path, 1), BB_OK);
    f->ix = store_index_new(&f->db);
    assert_non_null(f->ix);
    assert_int_equal(store_index_bucket_exists(f->ix, "bkt"), 1);
    assert_int_equal(store_index_get(f->ix, "bkt", "persist/me", &out), BB_OK);
    assert_int_equal(out.size, 42);
    store_object_cleanup(&out);
}

/* ---- scan ---- */

struct seen {
    char keys[32][32];
    size_t n;
    const char *stop_at;   /* return 1 on this key */
    const char *reseek_at; /* return 2 on this key ... */
    const char *reseek_to; /* ... with this bound */
};

static int collect_row(void *arg, const struct store_object *o, char **reseek)
{
    struct seen *s = arg;

    assert_true(s->n < 32);
    assert_non_null(o->etag);
    snprintf(s->keys[s->n++], sizeof(s->keys[0]), "%s", o->key);
    if (s->stop_at != NULL && strcmp(o->key, s->stop_at) == 0)
        return 1;
    if (s->reseek_at != NULL && strcmp(o->key, s->reseek_at) == 0) {
        *reseek = strdup(s->reseek_to);
        assert_non_null(*reseek);
        return 2;
    }
    return 0;
}

static void assert_seen(const struct seen *s, const char *const *want, size_t n)
{
    for (size_t i = 0; i < n && i < s->n; i++)
        if (strcmp(s->keys[i], want[i]) != 0)
            fail_msg("key %zu is \"%s\", want \"%s\"", i, s->keys[i], want[i]);
    if (s->n != n)
        fail_msg("scan saw %zu keys, want %zu", s->n, n);
}

#define SEEN(s, ...)                                                                               \
    do {                                                                                           \
        static const char *const want_[] = {__VA_ARGS__};                                          \
        assert_seen(s, want_, sizeof(want_) / sizeof(want_[0]));                                   \
    } while (0)

static const char *const mixed_keys[] = {
    "\xe4\xb8\xad", /* 中 */
    "b",
    "a/b",
    "\xc3\xa9", /* é */
    "a",
    "a-b",
    "\xf0\x9f\x98\x80", /* 😀 */
    "B",
    "a/c/d",
    "a0",
};

static void test_store_index_scan_walks_in_utf8_byte_order(void **state)
{
    struct fx *f = *state;
    struct seen s;

    put_keys(f->ix, "bkt", mixed_keys, 10);
    put_keys(f->ix, "other", mixed_keys, 3);
    memset(&s, 0, sizeof(s));
    assert_int_equal(store_index_scan(f->ix, "bkt", "", NULL, collect_row, &s), BB_OK);
    SEEN(&s, "B", "a", "a-b", "a/b", "a/c/d", "a0", "b", "\xc3\xa9", "\xe4\xb8\xad",
         "\xf0\x9f\x98\x80");
}

static void test_store_index_scan_of_an_empty_bucket_sees_nothing(void **state)
{
    struct fx *f = *state;
    struct seen s;

    put_keys(f->ix, "other", mixed_keys, 10);
    memset(&s, 0, sizeof(s));
    assert_int_equal(store_index_scan(f->ix, "bkt", "", NULL, collect_row, &s), BB_OK);
    assert_int_equal(s.n, 0);
}

static void test_store_index_scan_keeps_to_the_prefix(void **state)
{
    struct fx *f = *state;
    struct seen s;

    put_keys(f->ix, "bkt", mixed_keys, 10);
    memset(&s, 0, sizeof(s));
    assert_int_equal(store_index_scan(f->ix, "bkt", "a/", NULL, collect_row, &s), BB_OK);
    SEEN(&s, "a/b", "a/c/d");

    memset(&s, 0, sizeof(s));
    assert_int_equal(store_index_scan(f->ix, "bkt", "a", NULL, collect_row, &s), BB_OK);
    SEEN(&s, "a", "a-b", "a/b", "a/c/d", "a0");

    memset(&s, 0, sizeof(s));
    assert_int_equal(store_index_scan(f->ix, "bkt", "\xc3", NULL, collect_row, &s), BB_OK);
    SEEN(&s, "\xc3\xa9");

    memset(&s, 0, sizeof(s));
    assert_int_equal(store_index_scan(f->ix, "bkt", "zzz", NULL, collect_row, &s), BB_OK);
    assert_int_equal(s.n, 0);
}

static void test_store_index_scan_prefix_has_no_wildcards(void **state)
{
    struct fx *f = *state;
    static const char *const keys[] = {"a_1", "ab1", "a%2", "abc", "a_"};
    struct seen s;

    put_keys(f->ix, "bkt", keys, 5);
    memset(&s, 0, sizeof(s));
    assert_int_equal(store_index_scan(f->ix, "bkt", "a_", NULL, collect_row, &s), BB_OK);
    SEEN(&s, "a_", "a_1");
    memset(&s, 0, sizeof(s));
    assert_int_equal(store_index_scan(f->ix, "bkt", "a%", NULL, collect_row, &s), BB_OK);
    SEEN(&s, "a%2");
}

static void test_store_index_scan_starts_after_the_bound(void **state)
{
    struct fx *f = *state;
    struct seen s;

    put_keys(f->ix, "bkt", mixed_keys, 10);
    memset(&s, 0, sizeof(s));
    assert_int_equal(store_index_scan(f->ix, "bkt", "", "a/b", collect_row, &s), BB_OK);
    SEEN(&s, "a/c/d", "a0", "b", "\xc3\xa9", "\xe4\xb8\xad", "\xf0\x9f\x98\x80");

    /* a bound that is not a key */
    memset(&s, 0, sizeof(s));
    assert_int_equal(store_index_scan(f->ix, "bkt", "", "a/bb", collect_row, &s), BB_OK);
    SEEN(&s, "a/c/d", "a0", "b", "\xc3\xa9", "\xe4\xb8\xad", "\xf0\x9f\x98\x80");

    /* "after" and "prefix" together */
    memset(&s, 0, sizeof(s));
    assert_int_equal(store_index_scan(f->ix, "bkt", "a", "a-b", collect_row, &s), BB_OK);
    SEEN(&s, "a/b", "a/c/d", "a0");

    /* an "after" before the prefix starts at the prefix */
    memset(&s, 0, sizeof(s));
    assert_int_equal(store_index_scan(f->ix, "bkt", "a/", "A", collect_row, &s), BB_OK);
    SEEN(&s, "a/b", "a/c/d");

    /* an "after" past everything */
    memset(&s, 0, sizeof(s));
    assert_int_equal(store_index_scan(f->ix, "bkt", "", "\xf4", collect_row, &s), BB_OK);
    assert_int_equal(s.n, 0);
}

static void test_store_index_scan_reseeks_past_a_common_prefix(void **state)
{
    struct fx *f = *state;
    static const char *const keys[] = {"a", "p/1", "p/2", "p/3/x", "p0", "q/1", "q/2", "r"};
    struct seen s;

    put_keys(f->ix, "bkt", keys, 8);
    /* the delimiter walk: on "p/1", skip every "p/..." key */
    memset(&s, 0, sizeof(s));
    s.reseek_at = "p/1";
    s.reseek_to = "p/\xff";
    assert_int_equal(store_index_scan(f->ix, "bkt", "", NULL, collect_row, &s), BB_OK);
    SEEN(&s, "a", "p/1", "p0", "q/1", "q/2", "r");

    /* the new bound is exclusive */
    memset(&s, 0, sizeof(s));
    s.reseek_at = "a";
    s.reseek_to = "q/1";
    assert_int_equal(store_index_scan(f->ix, "bkt", "", NULL, collect_row, &s), BB_OK);
    SEEN(&s, "a", "q/2", "r");

    /* a reseek past the prefix ends the scan */
    memset(&s, 0, sizeof(s));
    s.reseek_at = "p/1";
    s.reseek_to = "p/\xff";
    assert_int_equal(store_index_scan(f->ix, "bkt", "p/", NULL, collect_row, &s), BB_OK);
    SEEN(&s, "p/1");
}

static void test_store_index_scan_stops_when_asked(void **state)
{
    struct fx *f = *state;
    struct seen s;

    put_keys(f->ix, "bkt", mixed_keys, 10);
    memset(&s, 0, sizeof(s));
    s.stop_at = "a-b";
    assert_int_equal(store_index_scan(f->ix, "bkt", "", NULL, collect_row, &s), BB_OK);
    SEEN(&s, "B", "a", "a-b");

    /* the index is usable afterwards */
    memset(&s, 0, sizeof(s));
    assert_int_equal(store_index_scan(f->ix, "bkt", "a/", NULL, collect_row, &s), BB_OK);
    SEEN(&s, "a/b", "a/c/d");
}

/* Paging the way ListObjectsV2 does: stop after N, resume after the last. */
struct pager {
    char last[64];
    size_t n;
    size_t page;
};

static int page_row(void *arg, const struct store_object *o, char **reseek)
{
    struct pager *p = arg;

    (void)reseek;
    snprintf(p->last, sizeof(p->last), "%s", o->key);
    return ++p->n == p->page;
}

static void test_store_index_scan_pages_through_many_keys(void **state)
{
    struct fx *f = *state;
    char key[32];
    struct pager p;
    size_t total = 0;
    int pages = 0;

    assert_int_equal(db_begin(&f->db), BB_OK);
    for (int i = 0; i < 1000; i++) {
        struct store_object o;
        snprintf(key, sizeof(key), "k/%04d", i);
        o = row(key, (uint64_t)i);
        assert_int_equal(store_index_put(f->ix, "bkt", &o), BB_OK);
    }
    assert_int_equal(db_commit(&f->db), BB_OK);
    memset(&p, 0, sizeof(p));
    p.page = 300;
    for (;;) {
        p.n = 0;
        assert_int_equal(store_index_scan(f->ix, "bkt", "k/", pages ? p.last : NULL, page_row, &p),
                         BB_OK);
        total += p.n;
        pages++;
        if (p.n < p.page)
            break;
    }
    assert_int_equal(total, 1000);
    assert_int_equal(pages, 4);
    assert_string_equal(p.last, "k/0999");
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)
    const struct CMUnitTest tests[] = {
        T(test_store_index_bucket_add_then_exists),
        T(test_store_index_bucket_remove_forgets_the_bucket),
        T(test_store_index_bucket_each_visits_every_bucket),
        T(test_store_index_bucket_has_objects_follows_the_rows),
        T(test_store_index_get_returns_what_put_stored),
        T(test_store_index_get_of_a_missing_key_is_not_found),
        T(test_store_index_put_replaces_the_row),
        T(test_store_index_put_keeps_buckets_apart),
        T(test_store_index_delete_says_whether_a_row_went),
        T(test_store_index_rows_survive_reopening),
        T(test_store_index_scan_walks_in_utf8_byte_order),
        T(test_store_index_scan_of_an_empty_bucket_sees_nothing),
        T(test_store_index_scan_keeps_to_the_prefix),
        T(test_store_index_scan_prefix_has_no_wildcards),
        T(test_store_index_scan_starts_after_the_bound),
        T(test_store_index_scan_reseeks_past_a_common_prefix),
        T(test_store_index_scan_stops_when_asked),
        T(test_store_index_scan_pages_through_many_keys),
    };
#undef T

    return cmocka_run_group_tests_name("emulator/store_index", tests, NULL, NULL);
}
