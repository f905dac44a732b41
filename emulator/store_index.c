/* SPDX-License-Identifier: MIT */
/* store_index: SQL for the buckets and objects tables. */
#include "store_index.h"
#include "bb_err.h"
#include "bb_log.h"
#include "bb_mem.h"
#include "db.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum {
    Q_BUCKET_ADD,
    Q_BUCKET_REMOVE,
    Q_BUCKET_EXISTS,
    Q_BUCKET_HAS,
    Q_BUCKET_EACH,
    Q_PUT,
    Q_GET,
    Q_DELETE,
    Q_SCAN,
    Q_BUCKET_EB,
    Q_BUCKET_SET_EB,
    Q_TAGS_SET,
    Q_CORS_GET,
    Q_CORS_PUT,
    Q_CORS_DELETE,
    Q_COUNT
};

static const char *const sql_text[Q_COUNT] = {
    [Q_BUCKET_ADD] = "INSERT OR IGNORE INTO buckets(name, created_ms, eventbridge) VALUES(?1,?2,?3)",
    [Q_BUCKET_REMOVE] = "DELETE FROM buckets WHERE name=?1",
    [Q_BUCKET_EXISTS] = "SELECT 1 FROM buckets WHERE name=?1",
    [Q_BUCKET_HAS] = "SELECT 1 FROM objects WHERE bucket=?1 LIMIT 1",
    [Q_BUCKET_EACH] = "SELECT name, created_ms FROM buckets ORDER BY name",
    [Q_PUT] = "INSERT OR REPLACE INTO objects(bucket, key, size, etag, content_type, mtime_ms,"
              " headers, checksum_alg, checksum, file_mtime_ns, file_ino, tags)"
              " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)",
    [Q_GET] = "SELECT key, size, etag, content_type, mtime_ms, headers, checksum_alg, checksum,"
              " file_mtime_ns, file_ino, tags FROM objects WHERE bucket=?1 AND key=?2",
    [Q_DELETE] = "DELETE FROM objects WHERE bucket=?1 AND key=?2",
    [Q_SCAN] = "SELECT key, size, etag, content_type, mtime_ms, headers, checksum_alg, checksum,"
               " file_mtime_ns, file_ino FROM objects WHERE bucket=?1 AND key>?2 AND key>=?3"
               " ORDER BY key",
    [Q_BUCKET_EB] = "SELECT eventbridge FROM buckets WHERE name=?1",
    [Q_BUCKET_SET_EB] = "UPDATE buckets SET eventbridge=?2 WHERE name=?1",
    [Q_TAGS_SET] = "UPDATE objects SET tags=?3 WHERE bucket=?1 AND key=?2",
    [Q_CORS_GET] = "SELECT config FROM bucket_cors WHERE bucket=?1",
    [Q_CORS_PUT] = "INSERT OR REPLACE INTO bucket_cors(bucket, config) VALUES(?1,?2)",
    [Q_CORS_DELETE] = "DELETE FROM bucket_cors WHERE bucket=?1",
};

struct store_index {
    struct db *db;
    sqlite3_stmt *q[Q_COUNT];
};

void store_object_cleanup(struct store_object *o)
{
    free(o->key);
    free(o->etag);
    free(o->content_type);
    free(o->headers);
    free(o->checksum_alg);
    free(o->checksum);
    free(o->tags);
    memset(o, 0, sizeof(*o));
}

struct store_index *store_index_new(struct db *db)
{
    struct store_index *ix = bb_xcalloc(1, sizeof(*ix));
    ix->db = db;
    for (int i = 0; i < Q_COUNT; i++) {
        if (sqlite3_prepare_v3(db->sql, sql_text[i], -1, SQLITE_PREPARE_PERSISTENT, &ix->q[i],
                               NULL) != SQLITE_OK) {
            BB_LOG_ERROR("db", "prepare failed", "error=\"%s\"", sqlite3_errmsg(db->sql));
            store_index_free(ix);
            return NULL;
        }
    }
    return ix;
}

void store_index_free(struct store_index *ix)
{
    if (ix == NULL)
        return;
    for (int i = 0; i < Q_COUNT; i++)
        sqlite3_finalize(ix->q[i]);
    free(ix);
}

static sqlite3_stmt *stmt(struct store_index *ix, int q)
{
    sqlite3_stmt *s = ix->q[q];
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return s;
}

static int step_done(struct store_index *ix, sqlite3_stmt *s)
{
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        BB_LOG_ERROR("db", "step failed", "error=\"%s\"", sqlite3_errmsg(ix->db->sql));
        return BB_EDB;
    }
    return BB_OK;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int store_index_bucket_add(struct store_index *ix, const char *name, int eventbridge)
{
    sqlite3_stmt *s = stmt(ix, Q_BUCKET_ADD);
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, now_ms());
    sqlite3_bind_int(s, 3, eventbridge);
    return step_done(ix, s);
}

int store_index_bucket_remove(struct store_index *ix, const char *name)
{
    sqlite3_stmt *s = stmt(ix, Q_BUCKET_REMOVE);
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    return step_done(ix, s);
}

static int exists_query(struct store_index *ix, int q, const char *name)
{
    sqlite3_stmt *s = stmt(ix, q);
    int rc;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc == SQLITE_ROW)
        return 1;
    return rc == SQLITE_DONE ? 0 : BB_EDB;
}

int store_index_bucket_exists(struct store_index *ix, const char *name)
{
    return exists_query(ix, Q_BUCKET_EXISTS, name);
}

int store_index_bucket_eventbridge(struct store_index *ix, const char *name)
{
    sqlite3_stmt *s = stmt(ix, Q_BUCKET_EB);
    int on = 0;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    if (sqlite3_step(s) == SQLITE_ROW)
        on = sqlite3_column_int(s, 0) != 0;
    sqlite3_reset(s);
    return on;
}

int store_index_bucket_set_eventbridge(struct store_index *ix, const char *name, int on)
{
    sqlite3_stmt *s = stmt(ix, Q_BUCKET_SET_EB);
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 2, on);
    return step_done(ix, s);
}

int store_index_bucket_has_objects(struct store_index *ix, const char *name)
{
    return exists_query(ix, Q_BUCKET_HAS, name);
}

int store_index_bucket_each(struct store_index *ix, store_index_bucket_cb *cb, void *arg)
{
    sqlite3_stmt *s = stmt(ix, Q_BUCKET_EACH);
    int rc = BB_OK;
    int step;
    while ((step = sqlite3_step(s)) == SQLITE_ROW) {
        rc = cb(arg, (const char *)sqlite3_column_text(s, 0), sqlite3_column_int64(s, 1));
        if (rc != 0)
            break;
    }
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        rc = BB_EDB;
    sqlite3_reset(s);
    return rc < 0 ? rc : BB_OK;
}

static void bind_opt(sqlite3_stmt *s, int i, const char *v)
{
    if (v != NULL)
        sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(s, i);
}

int store_index_put(struct store_index *ix, const char *bucket, const struct store_object *o)
{
    sqlite3_stmt *s = stmt(ix, Q_PUT);
    sqlite3_bind_text(s, 1, bucket, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, o->key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, (sqlite3_int64)o->size);
    sqlite3_bind_text(s, 4, o->etag, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, o->content_type, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 6, o->mtime_ms);
    bind_opt(s, 7, o->headers);
    bind_opt(s, 8, o->checksum_alg);
    bind_opt(s, 9, o->checksum);
    sqlite3_bind_int64(s, 10, o->file_mtime_ns);
    sqlite3_bind_int64(s, 11, (sqlite3_int64)o->file_ino);
    bind_opt(s, 12, o->tags);
    return step_done(ix, s);
}

static char *col_dup(sqlite3_stmt *s, int i)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    return t ? bb_xstrdup((const char *)t) : NULL;
}

static void row_borrow(sqlite3_stmt *s, struct store_object *o)
{
    o->key = (char *)sqlite3_column_text(s, 0);
    o->size = (uint64_t)sqlite3_column_int64(s, 1);
    o->etag = (char *)sqlite3_column_text(s, 2);
    o->content_type = (char *)sqlite3_column_text(s, 3);
    o->mtime_ms = sqlite3_column_int64(s, 4);
    o->headers = (char *)sqlite3_column_text(s, 5);
    o->checksum_alg = (char *)sqlite3_column_text(s, 6);
    o->checksum = (char *)sqlite3_column_text(s, 7);
    o->file_mtime_ns = sqlite3_column_int64(s, 8);
    o->file_ino = (uint64_t)sqlite3_column_int64(s, 9);
    o->tags = NULL; /* not read by scans */
}

int store_index_get(struct store_index *ix, const char *bucket, const char *key,
                    struct store_object *o)
{
    sqlite3_stmt *s = stmt(ix, Q_GET);
    int rc;
    sqlite3_bind_text(s, 1, bucket, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        o->key = col_dup(s, 0);
        o->size = (uint64_t)sqlite3_column_int64(s, 1);
        o->etag = col_dup(s, 2);
        o->content_type = col_dup(s, 3);
        o->mtime_ms = sqlite3_column_int64(s, 4);
        o->headers = col_dup(s, 5);
        o->checksum_alg = col_dup(s, 6);
        o->checksum = col_dup(s, 7);
        o->file_mtime_ns = sqlite3_column_int64(s, 8);
        o->file_ino = (uint64_t)sqlite3_column_int64(s, 9);
        o->tags = col_dup(s, 10);
        rc = BB_OK;
    } else {
        rc = rc == SQLITE_DONE ? BB_ENOTFOUND : BB_EDB;
    }
    sqlite3_reset(s);
    return rc;
}

int store_index_delete(struct store_index *ix, const char *bucket, const char *key)
{
    sqlite3_stmt *s = stmt(ix, Q_DELETE);
    int rc;
    sqlite3_bind_text(s, 1, bucket, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
    rc = step_done(ix, s);
    if (rc < 0)
        return rc;
    return sqlite3_changes(ix->db->sql) > 0;
}

int store_index_scan(struct store_index *ix, const char *bucket, const char *prefix,
                     const char *after, store_index_scan_cb *cb, void *arg)
{
    sqlite3_stmt *s = stmt(ix, Q_SCAN);
    char *bound = bb_xstrdup(after ? after : "");
    size_t plen = strlen(prefix);
    int rc = BB_OK;

    for (;;) {
        int step;
        int again = 0;
        sqlite3_reset(s);
        sqlite3_bind_text(s, 1, bucket, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, bound, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, prefix, -1, SQLITE_STATIC);
        while ((step = sqlite3_step(s)) == SQLITE_ROW) {
            struct store_object o;
            char *reseek = NULL;
            int r;
            row_borrow(s, &o);
            if (strncmp(o.key, prefix, plen) != 0)
                goto out;
            r = cb(arg, &o, &reseek);
            if (r == 1 || r < 0) {
                rc = r < 0 ? r : BB_OK;
                goto out;
            }
            if (r == 2 && reseek != NULL) {
                free(bound);
                bound = reseek;
                again = 1;
                break;
            }
            free(reseek);
        }
        if (!again) {
            if (step != SQLITE_DONE)
                rc = BB_EDB;
            break;
        }
    }
out:
    sqlite3_reset(s);
    free(bound);
    return rc;
}

int store_index_set_tags(struct store_index *ix, const char *bucket, const char *key,
                         const char *tags)
{
    sqlite3_stmt *s = stmt(ix, Q_TAGS_SET);
    int rc;
    sqlite3_bind_text(s, 1, bucket, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
    bind_opt(s, 3, tags);
    rc = step_done(ix, s);
    if (rc < 0)
        return rc;
    return sqlite3_changes(ix->db->sql) > 0 ? BB_OK : BB_ENOTFOUND;
}

int store_index_cors_get(struct store_index *ix, const char *bucket, char **config)
{
    sqlite3_stmt *s = stmt(ix, Q_CORS_GET);
    int rc;
    *config = NULL;
    sqlite3_bind_text(s, 1, bucket, -1, SQLITE_STATIC);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *config = col_dup(s, 0);
        rc = *config != NULL ? BB_OK : BB_ENOTFOUND;
    } else {
        rc = rc == SQLITE_DONE ? BB_ENOTFOUND : BB_EDB;
    }
    sqlite3_reset(s);
    return rc;
}

int store_index_cors_put(struct store_index *ix, const char *bucket, const char *config)
{
    sqlite3_stmt *s;
    if (config == NULL) {
        s = stmt(ix, Q_CORS_DELETE);
        sqlite3_bind_text(s, 1, bucket, -1, SQLITE_STATIC);
        return step_done(ix, s);
    }
    s = stmt(ix, Q_CORS_PUT);
    sqlite3_bind_text(s, 1, bucket, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, config, -1, SQLITE_STATIC);
    return step_done(ix, s);
}
