/* SPDX-License-Identifier: MIT */
/*
 * db: opens state.db in WAL mode. synchronous=NORMAL by default (a commit is
 * durable once the WAL is synced at checkpoint; a power cut may lose the
 * last commits but never corrupts), FULL with --durability full.
 */
#include "db.h"
#include "bb_err.h"
#include "bb_log.h"

#include <sqlite3.h>
#include <stddef.h>

static const char *const migrations[] = {
    /* 1 */
    "CREATE TABLE buckets(name TEXT PRIMARY KEY, created_ms INTEGER NOT NULL,"
    " eventbridge INTEGER NOT NULL DEFAULT 1) WITHOUT ROWID;"
    "CREATE TABLE objects(bucket TEXT NOT NULL, key TEXT NOT NULL, size INTEGER NOT NULL,"
    " etag TEXT NOT NULL, content_type TEXT NOT NULL, mtime_ms INTEGER NOT NULL,"
    " headers TEXT, checksum_alg TEXT, checksum TEXT, PRIMARY KEY(bucket, key)) WITHOUT ROWID;",
};

int db_exec(struct db *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db->sql, sql, NULL, NULL, &msg) != SQLITE_OK) {
        BB_LOG_ERROR("db", "sql failed", "error=\"%s\"", msg ? msg : "?");
        sqlite3_free(msg);
        return BB_EDB;
    }
    return BB_OK;
}

static int user_version(struct db *db)
{
    sqlite3_stmt *st = NULL;
    int v = -1;
    if (sqlite3_prepare_v2(db->sql, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

int db_open(struct db *db, const char *path, int full_durability)
{
    int rc = BB_EDB;
    int v;

    db->sql = NULL;
    db->full_durability = full_durability;
    if (sqlite3_open_v2(path, &db->sql, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        BB_LOG_ERROR("db", "cannot open database", "path=\"%s\" error=\"%s\"", path,
                     db->sql ? sqlite3_errmsg(db->sql) : "out of memory");
        goto out;
    }
    sqlite3_busy_timeout(db->sql, 5000);
    /* one process owns state.db: exclusive locking saves the fcntl locks
     * and shared-memory index of every transaction */
    if (db_exec(db, "PRAGMA locking_mode=EXCLUSIVE") < 0)
        goto out;
    if (db_exec(db, "PRAGMA journal_mode=WAL") < 0)
        goto out;
    if (db_exec(db, full_durability ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL") < 0)
        goto out;
    v = user_version(db);
    if (v < 0)
        goto out;
    for (int i = v; i < (int)(sizeof(migrations) / sizeof(migrations[0])); i++) {
        char pragma[64];
        if (db_exec(db, "BEGIN") < 0)
            goto out;
        if (db_exec(db, migrations[i]) < 0) {
            db_rollback(db);
            goto out;
        }
        sqlite3_snprintf(sizeof(pragma), pragma, "PRAGMA user_version=%d", i + 1);
        if (db_exec(db, pragma) < 0 || db_commit(db) < 0) {
            db_rollback(db);
            goto out;
        }
    }
    rc = BB_OK;
out:
    if (rc < 0) {
        sqlite3_close(db->sql);
        db->sql = NULL;
    }
    return rc;
}

void db_close(struct db *db)
{
    if (db->sql != NULL)
        sqlite3_close_v2(db->sql);
    db->sql = NULL;
}

int db_begin(struct db *db)
{
    return db_exec(db, "BEGIN IMMEDIATE");
}

int db_commit(struct db *db)
{
    return db_exec(db, "COMMIT");
}

void db_rollback(struct db *db)
{
    if (!sqlite3_get_autocommit(db->sql))
        sqlite3_exec(db->sql, "ROLLBACK", NULL, NULL, NULL);
}
