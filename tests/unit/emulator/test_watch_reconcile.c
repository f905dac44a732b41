/* SPDX-License-Identifier: MIT */
/* Tests for the reconciliation diff in emulator/watch_scan.c: a real store
 * (SQLite index in a temp data dir) and real files; the change hook records
 * what would become events. New files are announced with their size and
 * ETag, unchanged files are not, deleted files are, a change of times alone
 * only refreshes the row, a change of content is announced, ignored names
 * never are. */
#include "bb_test.h"

#include "config.h"
#include "store.h"
#include "store_index.h"
#include "watch_scan.h"

#include "bb_err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

struct seen {
    int created, deleted;
    char last_key[256];
    char last_etag[64];
    unsigned long long last_size;
};

struct fx {
    char *tmp, *data;
    struct config cfg;
    struct store *st;
    struct watch_scan *ws;
    struct seen seen;
};

static int record(void *arg, const struct store_change *c)
{
    struct seen *s = arg;
    if (c->kind != STORE_CHANGE_OBJECT)
        return 0;
    if (c->deleted) {
        s->deleted++;
    } else {
        s->created++;
        snprintf(s->last_etag, sizeof(s->last_etag), "%s", c->object->etag);
        s->last_size = (unsigned long long)c->object->size;
    }
    snprintf(s->last_key, sizeof(s->last_key), "%s", c->key);
    return 0;
}

static char *at(const struct fx *f, const char *rel)
{
    char *p = NULL;
    assert_true(asprintf(&p, "%s/%s", f->data, rel) > 0);
    return p;
}

static void put_file(const struct fx *f, const char *rel, const char *text)
{
    char *p = at(f, rel);
    FILE *fp = fopen(p, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(text, 1, strlen(text), fp), strlen(text));
    assert_int_equal(fclose(fp), 0);
    free(p);
}

static int fx_setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    char *bucket;
    assert_non_null(f);
    f->tmp = bb_test_tmpdir();
    assert_true(asprintf(&f->data, "%s/data", f->tmp) > 0);
    assert_int_equal(mkdir(f->data, 0755), 0);
    bucket = at(f, "bkt-one");
    assert_int_equal(mkdir(bucket, 0755), 0);
    free(bucket);
    config_init(&f->cfg);
    free(f->cfg.data_dir);
    f->cfg.data_dir = strdup(f->data);
    assert_int_equal(store_open(&f->cfg, &f->st), BB_OK);
    store_set_change_hook(f->st, record, NULL, &f->seen);
    f->ws = watch_scan_new(f->st, &f->cfg, NULL, NULL);
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;
    watch_scan_free(f->ws);
    store_free(f->st);
    config_cleanup(&f->cfg);
    bb_test_rmrf(f->tmp);
    free(f->data);
    free(f->tmp);
    free(f);
    return 0;
}

static void test_watch_reconcile_announces_new_files(void **state)
{
    struct fx *f = *state;
    put_file(f, "bkt-one/hello.txt", "hello\n");
    watch_scan_reconcile(f->ws);
    assert_int_equal(f->seen.created, 1);
    assert_int_equal(f->seen.deleted, 0);
    assert_string_equal(f->seen.last_key, "hello.txt");
    assert_int_equal(f->seen.last_size, 6);
    /* MD5("hello\n") */
    assert_string_equal(f->seen.last_etag, "b1946ac92492d2347c6235b4d2611184");
}

static void test_watch_reconcile_is_quiet_when_nothing_changed(void **state)
{
    struct fx *f = *state;
    char *dir = at(f, "bkt-one/sub");
    assert_int_equal(mkdir(dir, 0755), 0);
    free(dir);
    put_file(f, "bkt-one/sub/deep.txt", "deep\n");
    put_file(f, "bkt-one/top.txt", "top\n");
    watch_scan_reconcile(f->ws);
    assert_int_equal(f->seen.created, 2);
    watch_scan_reconcile(f->ws);
    assert_int_equal(f->seen.created, 2);
    assert_int_equal(f->seen.deleted, 0);
}

static void test_watch_reconcile_announces_deleted_files(void **state)
{
    struct fx *f = *state;
    char *p = at(f, "bkt-one/gone.txt");
    put_file(f, "bkt-one/gone.txt", "soon gone\n");
    watch_scan_reconcile(f->ws);
    assert_int_equal(unlink(p), 0);
    free(p);
    watch_scan_reconcile(f->ws);
    assert_int_equal(f->seen.deleted, 1);
    assert_string_equal(f->seen.last_key, "gone.txt");
    watch_scan_reconcile(f->ws);
    assert_int_equal(f->seen.deleted, 1);
}

static void test_watch_reconcile_new_times_same_bytes_refresh_quietly(void **state)
{
    struct fx *f = *state;
    char *p = at(f, "bkt-one/touched.txt");
    struct timeval tv[2] = {{1600000000, 0}, {1600000000, 0}};
    struct store_object row;
    put_file(f, "bkt-one/touched.txt", "same bytes\n");
    watch_scan_reconcile(f->ws);
    assert_int_equal(f->seen.created, 1);
    assert_int_equal(utimes(p, tv), 0);
    watch_scan_reconcile(f->ws);
    assert_int_equal(f->seen.created, 1);
    /* the row now carries the new time: a further pass does not even hash */
    memset(&row, 0, sizeof(row));
    assert_int_equal(store_index_get(store_get_index(f->st), "bkt-one", "touched.txt", &row),
                     BB_OK);
    assert_true(row.file_mtime_ns == 1600000000LL * 1000000000LL);
    store_object_cleanup(&row);
    free(p);
}

static void test_watch_reconcile_announces_changed_content(void **state)
{
    struct fx *f = *state;
    char *p = at(f, "bkt-one/doc.txt");
    struct timeval tv[2] = {{1600000000, 0}, {1600000000, 0}};
    put_file(f, "bkt-one/doc.txt", "version 1\n");
    watch_scan_reconcile(f->ws);
    assert_int_equal(f->seen.created, 1);
    put_file(f, "bkt-one/doc.txt", "version 2\n"); /* same size, other bytes */
    assert_int_equal(utimes(p, tv), 0);
    watch_scan_reconcile(f->ws);
    assert_int_equal(f->seen.created, 2);
    assert_int_equal(f->seen.last_size, 10);
    free(p);
}

static void test_watch_reconcile_skips_ignored_names(void **state)
{
    struct fx *f = *state;
    put_file(f, "bkt-one/.doc.txt.swp", "swap");
    put_file(f, "bkt-one/doc.txt~", "backup");
    put_file(f, "bkt-one/movie.mp4.part", "partial");
    watch_scan_reconcile(f->ws);
    assert_int_equal(f->seen.created, 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_watch_reconcile_announces_new_files),
        T(test_watch_reconcile_is_quiet_when_nothing_changed),
        T(test_watch_reconcile_announces_deleted_files),
        T(test_watch_reconcile_new_times_same_bytes_refresh_quietly),
        T(test_watch_reconcile_announces_changed_content),
        T(test_watch_reconcile_skips_ignored_names),
    };

    return cmocka_run_group_tests_name("emulator/watch_reconcile", tests, NULL, NULL);
}
