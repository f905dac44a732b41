/* SPDX-License-Identifier: MIT */
/* Tests for emulator/store.c in a temporary data dir: opening (dirs,
 * configured and adopted buckets, the tmp sweep), buckets, uploads committed
 * to their escaped path and indexed, key/prefix conflicts, and deletes that
 * take empty parent directories with them. */
#include "bb_test.h"

#include "config.h"
#include "store.h"
#include "store_index.h"
#include "store_key.h"

#include "bb_err.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- fixture ---- */

struct fx {
    char *tmp;
    char *data; /* <tmp>/data: does not exist until store_open */
    struct config cfg;
    struct store *st;
};

static int fx_setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    f->tmp = bb_test_tmpdir();
    assert_true(asprintf(&f->data, "%s/data", f->tmp) > 0);
    config_init(&f->cfg);
    free(f->cfg.data_dir);
    f->cfg.data_dir = strdup(f->data);
    assert_non_null(f->cfg.data_dir);
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;

    store_free(f->st);
    config_cleanup(&f->cfg);
    bb_test_rmrf(f->tmp);
    free(f->data);
    free(f->tmp);
    free(f);
    return 0;
}

static void open_store(struct fx *f)
{
    assert_int_equal(store_open(&f->cfg, &f->st), BB_OK);
    assert_non_null(f->st);
}

/* ---- filesystem helpers ---- */

static char *under(const struct fx *f, const char *rel)
{
    char *p = NULL;

    assert_true(asprintf(&p, "%s/%s", f->data, rel) > 0);
    return p;
}

static int kind(const char *path)
{
    struct stat sb;

    if (lstat(path, &sb) < 0)
        return 0;
    return S_ISDIR(sb.st_mode) ? 'd' : S_ISREG(sb.st_mode) ? 'f' : '?';
}

#define assert_kind(f, rel, want)                                                                  \
    do {                                                                                           \
        char *p_ = under(f, rel);                                                                  \
        int k_ = kind(p_);                                                                         \
        if (k_ != (want))                                                                          \
            fail_msg("%s: kind '%c', want '%c'", p_, k_ ? k_ : '-', (want) ? (want) : '-');        \
        free(p_);                                                                                  \
    } while (0)

static void write_path(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");

    assert_non_null(fp);
    assert_int_equal(fwrite(text, 1, strlen(text), fp), strlen(text));
    assert_int_equal(fclose(fp), 0);
}

static void assert_content(const char *path, const char *want)
{
    char buf[256];
    FILE *fp = fopen(path, "r");
    size_t n;

    if (fp == NULL)
        fail_msg("%s: %s", path, strerror(errno));
    n = fread(buf, 1, sizeof(buf) - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    assert_string_equal(buf, want);
}

static void assert_content_under(const struct fx *f, const char *rel, const char *want)
{
    char *p = under(f, rel);

    assert_content(p, want);
    free(p);
}

/* A tmp upload holding @text; returns its path (free()). */
static char *upload(struct fx *f, const char *text)
{
    int fd = -1;
    char *path = NULL;

    assert_int_equal(store_tmp_create(f->st, &fd, &path), BB_OK);
    assert_true(fd >= 0);
    assert_non_null(path);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    assert_int_equal(close(fd), 0);
    return path;
}

static struct store_object meta(const char *key, const char *text)
{
    struct store_object o;

    memset(&o, 0, sizeof(o));
    o.key = (char *)key;
    o.size = strlen(text);
    o.etag = "0123456789abcdef0123456789abcdef";
    o.content_type = "text/plain";
    o.mtime_ms = 1700000000000;
    return o;
}

static const struct store_cause put_cause = {"REQ1", "000000000000", "127.0.0.1", "PutObject"};
static const struct store_cause del_cause = {"REQ2", "000000000000", "127.0.0.1", "DeleteObject"};

#define DEL(f, bucket, key) store_object_delete((f)->st, bucket, key, &del_cause)

/* Uploads @text and commits it as @key; returns the commit's result. */
static int put(struct fx *f, const char *bucket, const char *key, const char *text)
{
    char *tmp = upload(f, text);
    struct store_object o = meta(key, text);
    int rc = store_object_commit(f->st, bucket, tmp, &o, &put_cause);

    if (rc != BB_OK)
        unlink(tmp);
    free(tmp);
    return rc;
}

static int indexed(struct fx *f, const char *bucket, const char *key)
{
    struct store_object o;
    int rc;

    memset(&o, 0, sizeof(o));
    rc = store_index_get(store_get_index(f->st), bucket, key, &o);
    if (rc == BB_OK)
        store_object_cleanup(&o);
    return rc == BB_OK;
}

static void assert_object_reads(struct fx *f, const char *bucket, const char *key, const char *want)
{
    char buf[256];
    int fd = -1;
    ssize_t n;

    assert_int_equal(store_object_open(f->st, bucket, key, &fd), BB_OK);
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    assert_true(n >= 0);
    buf[n] = '\0';
    assert_string_equal(buf, want);
}

/* ---- store_open ---- */

static void test_store_open_creates_the_data_dir_and_configured_buckets(void **state)
{
    struct fx *f = *state;

    assert_int_equal(kind(f->data), 0);
    open_store(f);
    assert_string_equal(store_data_dir(f->st), f->data);
    assert_non_null(store_get_index(f->st));
    assert_int_equal(kind(f->data), 'd');
    assert_kind(f, ".bucketbridge", 'd');
    assert_kind(f, ".bucketbridge/tmp", 0); /* made by the first upload */
    assert_kind(f, ".bucketbridge/state.db", 'f');
    assert_kind(f, "my-raw-images", 'd');
    assert_kind(f, "my-thumbnails", 'd');
    assert_int_equal(store_bucket_exists(f->st, "my-raw-images"), 1);
    assert_int_equal(store_bucket_exists(f->st, "my-thumbnails"), 1);
    assert_int_equal(store_bucket_exists(f->st, "not-configured"), 0);
    int fd = -1;
    char *tmp = NULL;
    assert_int_equal(store_tmp_create(f->st, &fd, &tmp), 0);
    assert_kind(f, ".bucketbridge/tmp", 'd');
    close(fd);
    unlink(tmp);
    free(tmp);
}

static void test_store_open_creates_a_nested_data_dir(void **state)
{
    struct fx *f = *state;
    char *deep = NULL;

    assert_true(asprintf(&deep, "%s/a/b/c", f->data) > 0);
    free(f->cfg.data_dir);
    f->cfg.data_dir = deep;
    open_store(f);
    assert_kind(f, "a/b/c/.bucketbridge", 'd');
    assert_kind(f, "a/b/c/my-raw-images", 'd');
}

static void test_store_open_sweeps_leftovers_in_tmp(void **state)
{
    struct fx *f = *state;
    char *tmpdir = under(f, ".bucketbridge/tmp");
    char *a = under(f, ".bucketbridge/tmp/up-123-1");
    char *b = under(f, ".bucketbridge/tmp/half-written");
    char *bb = under(f, ".bucketbridge");

    assert_int_equal(mkdir(f->data, 0755), 0);
    assert_int_equal(mkdir(bb, 0755), 0);
    assert_int_equal(mkdir(tmpdir, 0755), 0);
    write_path(a, "partial");
    write_path(b, "partial");
    open_store(f);
    assert_int_equal(kind(a), 0);
    assert_int_equal(kind(b), 0);
    assert_int_equal(kind(tmpdir), 'd');
    free(a);
    free(b);
    free(tmpdir);
    free(bb);
}

static void test_store_open_adopts_bucket_directories_found_on_disk(void **state)
{
    struct fx *f = *state;
    char *found = under(f, "found-on-disk");

    assert_int_equal(mkdir(f->data, 0755), 0);
    assert_int_equal(mkdir(found, 0755), 0);
    open_store(f);
    assert_int_equal(store_bucket_exists(f->st, "found-on-disk"), 1);
    free(found);
}

static void test_store_open_again_keeps_buckets_and_objects(void **state)
{
    struct fx *f = *state;

    open_store(f);
    assert_int_equal(store_bucket_create(f->st, "extra-bucket"), BB_OK);
    assert_int_equal(put(f, "extra-bucket", "k/v", "kept"), BB_OK);
    store_free(f->st);
    f->st = NULL;
    open_store(f);
    assert_int_equal(store_bucket_exists(f->st, "extra-bucket"), 1);
    assert_true(indexed(f, "extra-bucket", "k/v"));
    assert_object_reads(f, "extra-bucket", "k/v", "kept");
}

/* ---- buckets ---- */

static void test_store_bucket_create_makes_the_directory(void **state)
{
    struct fx *f = *state;

    open_store(f);
    assert_int_equal(store_bucket_exists(f->st, "new-bucket"), 0);
    assert_int_equal(store_bucket_create(f->st, "new-bucket"), BB_OK);
    assert_int_equal(store_bucket_exists(f->st, "new-bucket"), 1);
    assert_kind(f, "new-bucket", 'd');
}

static void test_store_bucket_create_twice_is_a_conflict(void **state)
{
    struct fx *f = *state;

    open_store(f);
    assert_int_equal(store_bucket_create(f->st, "new-bucket"), BB_OK);
    assert_int_equal(store_bucket_create(f->st, "new-bucket"), BB_ECONFLICT);
    assert_int_equal(store_bucket_create(f->st, "my-raw-images"), BB_ECONFLICT);
}

static void test_store_bucket_delete_removes_an_empty_bucket(void **state)
{
    struct fx *f = *state;

    open_store(f);
    assert_int_equal(store_bucket_create(f->st, "new-bucket"), BB_OK);
    assert_int_equal(store_bucket_delete(f->st, "new-bucket"), BB_OK);
    assert_int_equal(store_bucket_exists(f->st, "new-bucket"), 0);
    assert_kind(f, "new-bucket", 0);
    assert_int_equal(store_bucket_delete(f->st, "new-bucket"), BB_ENOTFOUND);
    assert_int_equal(store_bucket_delete(f->st, "never-was"), BB_ENOTFOUND);
}

static void test_store_bucket_delete_of_a_bucket_with_objects_is_a_conflict(void **state)
{
    struct fx *f = *state;

    open_store(f);
    assert_int_equal(put(f, "my-raw-images", "deep/in/side.jpg", "jpeg"), BB_OK);
    assert_int_equal(store_bucket_delete(f->st, "my-raw-images"), BB_ECONFLICT);
    assert_int_equal(store_bucket_exists(f->st, "my-raw-images"), 1);
    assert_content_under(f, "my-raw-images/deep/in/side.jpg", "jpeg");
    assert_int_equal(DEL(f, "my-raw-images", "deep/in/side.jpg"), 1);
    assert_int_equal(store_bucket_delete(f->st, "my-raw-images"), BB_OK);
    assert_kind(f, "my-raw-images", 0);
}

/* ---- uploads ---- */

static void test_store_tmp_create_opens_a_new_file_in_tmp(void **state)
{
    struct fx *f = *state;
    char *tmpdir;
    int fd1 = -1;
    int fd2 = -1;
    char *p1 = NULL;
    char *p2 = NULL;

    open_store(f);
    tmpdir = under(f, ".bucketbridge/tmp/");
    assert_int_equal(store_tmp_create(f->st, &fd1, &p1), BB_OK);
    assert_int_equal(store_tmp_create(f->st, &fd2, &p2), BB_OK);
    assert_true(fd1 >= 0 && fd2 >= 0 && fd1 != fd2);
    assert_true(strncmp(p1, tmpdir, strlen(tmpdir)) == 0);
    assert_true(strncmp(p2, tmpdir, strlen(tmpdir)) == 0);
    assert_string_not_equal(p1, p2);
    assert_int_equal(kind(p1), 'f');
    assert_int_equal(write(fd1, "x", 1), 1);
    close(fd1);
    close(fd2);
    unlink(p1);
    unlink(p2);
    free(p1);
    free(p2);
    free(tmpdir);
}

static void test_store_object_commit_moves_the_file_into_place(void **state)
{
    struct fx *f = *state;
    char *tmp;
    struct store_object o = meta("photos/2024/cat.jpg", "meow");
    struct store_object got;

    open_store(f);
    tmp = upload(f, "meow");
    assert_int_equal(store_object_commit(f->st, "my-raw-images", tmp, &o, &put_cause), BB_OK);
    assert_int_equal(kind(tmp), 0);
    assert_content_under(f, "my-raw-images/photos/2024/cat.jpg", "meow");
    memset(&got, 0, sizeof(got));
    assert_int_equal(
        store_index_get(store_get_index(f->st), "my-raw-images", "photos/2024/cat.jpg", &got),
        BB_OK);
    assert_int_equal(got.size, 4);
    assert_string_equal(got.etag, o.etag);
    assert_string_equal(got.content_type, "text/plain");
    store_object_cleanup(&got);
    assert_object_reads(f, "my-raw-images", "photos/2024/cat.jpg", "meow");
    free(tmp);
}

static void test_store_object_commit_uses_the_escaped_path(void **state)
{
    struct fx *f = *state;
    static const struct {
        const char *key;
        const char *rel;
    } cases[] = {
        {"a//b", "my-raw-images/a/%/b"},
        {"/lead", "my-raw-images/%/lead"},
        {"dir/", "my-raw-images/dir/%"},
        {"...", "my-raw-images/..."},
        {".hidden/x.", "my-raw-images/.hidden/x."},
        {"%41", "my-raw-images/%%41"},
        {"caf\xc3\xa9/\xe4\xb8\xad", "my-raw-images/caf\xc3\xa9/\xe4\xb8\xad"},
    };

    open_store(f);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *why = NULL;
        int rc = -1;
        char *want = under(f, cases[i].rel);
        char *p = store_object_path(f->st, "my-raw-images", cases[i].key, &why, &rc);

        assert_int_equal(rc, BB_OK);
        assert_non_null(p);
        assert_string_equal(p, want);
        if (put(f, "my-raw-images", cases[i].key, cases[i].key) != BB_OK)
            fail_msg("key \"%s\" not committed", cases[i].key);
        assert_content(want, cases[i].key);
        assert_true(indexed(f, "my-raw-images", cases[i].key));
        assert_object_reads(f, "my-raw-images", cases[i].key, cases[i].key);
        free(p);
        free(want);
    }
    /* nothing escaped the bucket */
    assert_kind(f, "lead", 0);
}

static void test_store_object_commit_replaces_an_object(void **state)
{
    struct fx *f = *state;
    struct store_object got;

    open_store(f);
    assert_int_equal(put(f, "my-raw-images", "k", "old"), BB_OK);
    assert_int_equal(put(f, "my-raw-images", "k", "newer"), BB_OK);
    assert_content_under(f, "my-raw-images/k", "newer");
    memset(&got, 0, sizeof(got));
    assert_int_equal(store_index_get(store_get_index(f->st), "my-raw-images", "k", &got), BB_OK);
    assert_int_equal(got.size, 5);
    store_object_cleanup(&got);
}

static void test_store_object_commit_of_a_prefix_of_an_object_is_a_conflict(void **state)
{
    struct fx *f = *state;
    char *tmp;
    struct store_object o = meta("a", "clash");

    open_store(f);
    assert_int_equal(put(f, "my-raw-images", "a/b", "inner"), BB_OK);
    tmp = upload(f, "clash");
    assert_int_equal(store_object_commit(f->st, "my-raw-images", tmp, &o, &put_cause),
                     BB_ECONFLICT);
    /* nothing written: the upload is still there, "a" is still a directory */
    assert_int_equal(kind(tmp), 'f');
    assert_content(tmp, "clash");
    assert_kind(f, "my-raw-images/a", 'd');
    assert_content_under(f, "my-raw-images/a/b", "inner");
    assert_false(indexed(f, "my-raw-images", "a"));
    assert_true(indexed(f, "my-raw-images", "a/b"));
    unlink(tmp);
    free(tmp);
}

static void test_store_object_commit_under_an_object_is_a_conflict(void **state)
{
    struct fx *f = *state;
    char *tmp;
    struct store_object o = meta("x/y/z/w", "clash");

    open_store(f);
    assert_int_equal(put(f, "my-raw-images", "x/y", "file"), BB_OK);
    tmp = upload(f, "clash");
    assert_int_equal(store_object_commit(f->st, "my-raw-images", tmp, &o, &put_cause),
                     BB_ECONFLICT);
    assert_int_equal(kind(tmp), 'f');
    assert_kind(f, "my-raw-images/x/y", 'f');
    assert_content_under(f, "my-raw-images/x/y", "file");
    assert_false(indexed(f, "my-raw-images", "x/y/z/w"));
    unlink(tmp);
    free(tmp);

    /* directly under it, too */
    assert_int_equal(put(f, "my-raw-images", "x/y/", "clash"), BB_ECONFLICT);
    assert_content_under(f, "my-raw-images/x/y", "file");
    assert_false(indexed(f, "my-raw-images", "x/y/"));
}

static void test_store_object_commit_refuses_keys_that_are_not_paths(void **state)
{
    struct fx *f = *state;
    char longkey[STORE_KEY_MAX + 2];
    char longseg[STORE_KEY_MAX_SEGMENT + 2];

    memset(longkey, 'k', sizeof(longkey) - 1);
    longkey[sizeof(longkey) - 1] = '\0';
    memset(longseg, 's', sizeof(longseg) - 1);
    longseg[sizeof(longseg) - 1] = '\0';
    open_store(f);
    assert_int_equal(put(f, "my-raw-images", "", "x"), BB_EINVAL);
    assert_int_equal(put(f, "my-raw-images", "bad\xff", "x"), BB_EINVAL);
    assert_int_equal(put(f, "my-raw-images", longkey, "x"), BB_ETOOBIG);
    assert_int_equal(put(f, "my-raw-images", longseg, "x"), BB_ETOOBIG);
    assert_int_equal(put(f, "my-raw-images", "..", "x"), BB_EINVAL);
    assert_int_equal(put(f, "my-raw-images", "x/../../escape", "x"), BB_EINVAL);
    assert_int_equal(put(f, "my-raw-images", "./here", "x"), BB_EINVAL);
    assert_kind(f, "escape", 0);
    assert_kind(f, "my-raw-images/here", 0);
    assert_kind(f, "my-raw-images/x", 0);
    assert_false(indexed(f, "my-raw-images", ""));
    assert_false(indexed(f, "my-raw-images", longkey));
}

static void test_store_object_commit_with_full_durability(void **state)
{
    struct fx *f = *state;

    f->cfg.durability_full = 1;
    open_store(f);
    assert_int_equal(put(f, "my-thumbnails", "t/1.jpg", "thumb"), BB_OK);
    assert_content_under(f, "my-thumbnails/t/1.jpg", "thumb");
    assert_true(indexed(f, "my-thumbnails", "t/1.jpg"));
}

/* ---- open / delete ---- */

static void test_store_object_open_of_a_missing_key_is_not_found(void **state)
{
    struct fx *f = *state;
    int fd = -1;

    open_store(f);
    assert_int_equal(store_object_open(f->st, "my-raw-images", "nope", &fd), BB_ENOTFOUND);
    assert_int_equal(put(f, "my-raw-images", "d/k", "v"), BB_OK);
    assert_int_equal(store_object_open(f->st, "my-raw-images", "d/k/deeper", &fd), BB_ENOTFOUND);
}

static void test_store_object_delete_removes_file_row_and_empty_parents(void **state)
{
    struct fx *f = *state;

    open_store(f);
    assert_int_equal(put(f, "my-raw-images", "x/y/z/1", "one"), BB_OK);
    assert_int_equal(put(f, "my-raw-images", "x/2", "two"), BB_OK);

    assert_int_equal(DEL(f, "my-raw-images", "x/y/z/1"), 1);
    assert_kind(f, "my-raw-images/x/y/z/1", 0);
    assert_kind(f, "my-raw-images/x/y/z", 0);
    assert_kind(f, "my-raw-images/x/y", 0);
    assert_kind(f, "my-raw-images/x", 'd');
    assert_false(indexed(f, "my-raw-images", "x/y/z/1"));
    assert_true(indexed(f, "my-raw-images", "x/2"));

    assert_int_equal(DEL(f, "my-raw-images", "x/2"), 1);
    assert_kind(f, "my-raw-images/x", 0);
    assert_kind(f, "my-raw-images", 'd');
    assert_int_equal(store_bucket_exists(f->st, "my-raw-images"), 1);

    /* the former prefix can now be a key */
    assert_int_equal(put(f, "my-raw-images", "x", "now a file"), BB_OK);
    assert_content_under(f, "my-raw-images/x", "now a file");
}

static void test_store_object_delete_of_a_missing_key_succeeds(void **state)
{
    struct fx *f = *state;

    open_store(f);
    assert_int_equal(DEL(f, "my-raw-images", "never"), 0);
    assert_int_equal(DEL(f, "my-raw-images", "never/deeper"), 0);
    assert_int_equal(DEL(f, "my-raw-images", "bad\xff"), 0);
    assert_int_equal(put(f, "my-raw-images", "k", "v"), BB_OK);
    assert_int_equal(DEL(f, "my-raw-images", "k"), 1);
    assert_int_equal(DEL(f, "my-raw-images", "k"), 0);
    assert_kind(f, "my-raw-images", 'd');
}

static void test_store_object_delete_of_a_prefix_leaves_the_objects_under_it(void **state)
{
    struct fx *f = *state;

    open_store(f);
    assert_int_equal(put(f, "my-raw-images", "p/q", "v"), BB_OK);
    assert_int_equal(DEL(f, "my-raw-images", "p"), 0);
    assert_content_under(f, "my-raw-images/p/q", "v");
    assert_true(indexed(f, "my-raw-images", "p/q"));
}

static void test_store_object_delete_of_an_escaped_key(void **state)
{
    struct fx *f = *state;

    open_store(f);
    assert_int_equal(put(f, "my-raw-images", "a//%b/", "v"), BB_OK);
    assert_content_under(f, "my-raw-images/a/%/%%b/%", "v");
    assert_int_equal(DEL(f, "my-raw-images", "a//%b/"), 1);
    assert_kind(f, "my-raw-images/a", 0);
    assert_kind(f, "my-raw-images", 'd');
    assert_false(indexed(f, "my-raw-images", "a//%b/"));
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)
    const struct CMUnitTest tests[] = {
        T(test_store_open_creates_the_data_dir_and_configured_buckets),
        T(test_store_open_creates_a_nested_data_dir),
        T(test_store_open_sweeps_leftovers_in_tmp),
        T(test_store_open_adopts_bucket_directories_found_on_disk),
        T(test_store_open_again_keeps_buckets_and_objects),
        T(test_store_bucket_create_makes_the_directory),
        T(test_store_bucket_create_twice_is_a_conflict),
        T(test_store_bucket_delete_removes_an_empty_bucket),
        T(test_store_bucket_delete_of_a_bucket_with_objects_is_a_conflict),
        T(test_store_tmp_create_opens_a_new_file_in_tmp),
        T(test_store_object_commit_moves_the_file_into_place),
        T(test_store_object_commit_uses_the_escaped_path),
        T(test_store_object_commit_replaces_an_object),
        T(test_store_object_commit_of_a_prefix_of_an_object_is_a_conflict),
        T(test_store_object_commit_under_an_object_is_a_conflict),
        T(test_store_object_commit_refuses_keys_that_are_not_paths),
        T(test_store_object_commit_with_full_durability),
        T(test_store_object_open_of_a_missing_key_is_not_found),
        T(test_store_object_delete_removes_file_row_and_empty_parents),
        T(test_store_object_delete_of_a_missing_key_succeeds),
        T(test_store_object_delete_of_a_prefix_leaves_the_objects_under_it),
        T(test_store_object_delete_of_an_escaped_key),
    };
#undef T

    return cmocka_run_group_tests_name("emulator/store", tests, NULL, NULL);
}
