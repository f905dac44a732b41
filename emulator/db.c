/* SPDX-License-Identifier: MIT */
/*
 * db: opens state.db in WAL mode. synchronous=NORMAL by default (a commit is
 * durable once the WAL is synced at checkpoint; a power cut may lose the
 * last commits but never corrupts), FULL with --durability full.
 */
#include "db.h"
#include "db_stmt.h"
#include "bb_err.h"
#include "bb_log.h"
#include "metrics.h"

#include <sqlite3.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static const char *const migrations[] = {
    /* 1 */
    "CREATE TABLE buckets(name TEXT PRIMARY KEY, created_ms INTEGER NOT NULL,"
    " eventbridge INTEGER NOT NULL DEFAULT 1) WITHOUT ROWID;"
    "CREATE TABLE objects(bucket TEXT NOT NULL, key TEXT NOT NULL, size INTEGER NOT NULL,"
    " etag TEXT NOT NULL, content_type TEXT NOT NULL, mtime_ms INTEGER NOT NULL,"
    " headers TEXT, checksum_alg TEXT, checksum TEXT, PRIMARY KEY(bucket, key)) WITHOUT ROWID;",
    /* 2: the event bus (docs/internals/bus.md) */
    "CREATE TABLE events(seq INTEGER PRIMARY KEY, id TEXT NOT NULL, bus TEXT NOT NULL,"
    " ingested_ms INTEGER NOT NULL, time_s INTEGER NOT NULL, source TEXT NOT NULL,"
    " detail_type TEXT NOT NULL, replay_name TEXT, body TEXT NOT NULL);"
    "CREATE INDEX events_time ON events(time_s);"
    "CREATE TABLE rules(bus TEXT NOT NULL, name TEXT NOT NULL, pattern TEXT, state TEXT NOT NULL,"
    " description TEXT, managed_by TEXT, origin TEXT NOT NULL, created_ms INTEGER NOT NULL,"
    " PRIMARY KEY(bus, name)) WITHOUT ROWID;"
    "CREATE TABLE targets(bus TEXT NOT NULL, rule TEXT NOT NULL, id TEXT NOT NULL,"
    " arn TEXT NOT NULL, spec TEXT NOT NULL, PRIMARY KEY(bus, rule, id)) WITHOUT ROWID;"
    "CREATE TABLE deliveries(id INTEGER PRIMARY KEY, seq INTEGER NOT NULL, bus TEXT NOT NULL,"
    " rule TEXT NOT NULL, target TEXT NOT NULL, arn TEXT NOT NULL, state INTEGER NOT NULL,"
    " attempts INTEGER NOT NULL DEFAULT 0, next_ms INTEGER NOT NULL, first_ms INTEGER NOT NULL,"
    " error_code TEXT, error_message TEXT, holder TEXT);"
    "CREATE INDEX deliveries_due ON deliveries(state, next_ms);"
    "CREATE INDEX deliveries_arn ON deliveries(arn, state, id);"
    "CREATE TABLE dlq(id INTEGER PRIMARY KEY, arn TEXT NOT NULL, seq INTEGER NOT NULL,"
    " rule TEXT NOT NULL, target TEXT NOT NULL, body TEXT NOT NULL, attributes TEXT NOT NULL,"
    " created_ms INTEGER NOT NULL);"
    "CREATE INDEX dlq_arn ON dlq(arn, id);"
    "CREATE TABLE archives(name TEXT PRIMARY KEY, bus TEXT NOT NULL, pattern TEXT,"
    " description TEXT, retention_days INTEGER NOT NULL, state TEXT NOT NULL,"
    " created_ms INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE archive_events(archive TEXT NOT NULL, seq INTEGER NOT NULL,"
    " time_s INTEGER NOT NULL, size INTEGER NOT NULL, PRIMARY KEY(archive, seq)) WITHOUT ROWID;"
    "CREATE TABLE replays(name TEXT PRIMARY KEY, archive TEXT NOT NULL, description TEXT,"
    " start_s INTEGER NOT NULL, end_s INTEGER NOT NULL, bus TEXT NOT NULL, filter_arns TEXT,"
    " state TEXT NOT NULL, reason TEXT, started_ms INTEGER NOT NULL, ended_ms INTEGER,"
    " last_time_s INTEGER, cursor INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"
    "CREATE TABLE notifications(bucket TEXT PRIMARY KEY, config TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE counters(name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;",
    /* 3: the watcher compares files with what was indexed */
    "ALTER TABLE objects ADD COLUMN file_mtime_ns INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE objects ADD COLUMN file_ino INTEGER NOT NULL DEFAULT 0;",
    /* 4: object tag sets (JSON [[key, value], ...]) and bucket CORS rules */
    "ALTER TABLE objects ADD COLUMN tags TEXT;"
    "CREATE TABLE bucket_cors(bucket TEXT PRIMARY KEY, config TEXT NOT NULL) WITHOUT ROWID;",
    /* 5: deliveries carry their consumer group ('' for push targets), so
     * the dispatcher and each group read only their own rows */
    "ALTER TABLE deliveries ADD COLUMN grp TEXT NOT NULL DEFAULT '';"
    "UPDATE deliveries SET grp=substr(arn, length(rtrim(arn, replace(arn, ':', ''))) + 1)"
    " WHERE arn LIKE 'arn:aws:sqs:%';"
    "CREATE INDEX deliveries_grp ON deliveries(grp, state, next_ms);",
    /* 6: custom event buses (bus_eventbus.c); a dead letter remembers its
     * rule's bus, so a redrive finds the rule on the right bus */
    "CREATE TABLE event_buses(name TEXT PRIMARY KEY, description TEXT, origin TEXT NOT NULL,"
    " created_ms INTEGER NOT NULL, modified_ms INTEGER NOT NULL) WITHOUT ROWID;"
    "ALTER TABLE dlq ADD COLUMN bus TEXT NOT NULL DEFAULT 'default';"
    "UPDATE dlq SET bus=coalesce((SELECT t.bus FROM targets t WHERE t.rule=dlq.rule"
    " AND t.id=dlq.target ORDER BY t.bus='default' DESC LIMIT 1), 'default');",
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

    struct stat sb;
    /* a new (or empty) file: nothing to protect while it is set up */
    int fresh = stat(path, &sb) < 0 || sb.st_size == 0;

    memset(db, 0, sizeof(*db));
    db->full_durability = full_durability;
    if (sqlite3_open_v2(path, &db->sql, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        BB_LOG_ERROR("db", "cannot open database", "path=\"%s\" error=\"%s\"", path,
                     db->sql ? sqlite3_errmsg(db->sql) : "out of memory");
        goto out;
    }
    sqlite3_busy_timeout(db->sql, 5000);
    /* start-up writes (schema, configured buckets and rules) need no fsync:
     * if they are lost, the next start writes them again; db_ready()
     * switches to the configured durability */
    if (db_exec(db, "PRAGMA synchronous=OFF") < 0)
        goto out;
    /* switching a new database to WAL writes its header through a rollback
     * journal, a file made and removed for nothing: without a journal for
     * that one write, only state.db, -wal and -shm are created */
    if (fresh && db_exec(db, "PRAGMA journal_mode=OFF") < 0)
        goto out;
    if (db_exec(db, "PRAGMA journal_mode=WAL") < 0)
        goto out;
    v = user_version(db);
    if (v < 0)
        goto out;
    if (v < (int)(sizeof(migrations) / sizeof(migrations[0]))) {
        char pragma[64];
        /* a schema change on a new or old database: one transaction (a
         * crash here leaves the old version, applied again next start) */
        if (db_exec(db, "BEGIN") < 0)
            goto out;
        for (int i = v; i < (int)(sizeof(migrations) / sizeof(migrations[0])); i++) {
            if (db_exec(db, migrations[i]) < 0) {
                db_rollback(db);
                goto out;
            }
        }
        sqlite3_snprintf(sizeof(pragma), pragma, "PRAGMA user_version=%d",
                         (int)(sizeof(migrations) / sizeof(migrations[0])));
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

int db_ready(struct db *db)
{
    const char *sync =
        db->full_durability ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL";
    if (db_exec(db, sync) < 0)
        return BB_EDB;
    if (!db->full_durability)
        return BB_OK; /* the caller runs db_checkpoint_file off the loop thread */
    /* the start-up writes went to the WAL unsynced, and with them the
     * header of a new state.db: after a power cut that file can be empty,
     * and SQLite then deletes the WAL when it opens it, every later synced
     * commit with it. A checkpoint copies them into state.db and syncs it
     * before the first request is served. */
    return db_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)");
}

const char *db_path(struct db *db)
{
    return sqlite3_db_filename(db->sql, "main");
}

int db_checkpoint_file(const char *path)
{
    sqlite3 *s = NULL;
    int rc = BB_EDB;

    if (sqlite3_open_v2(path, &s, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
        goto out;
    sqlite3_busy_timeout(s, 5000);
    /* NORMAL: the WAL is synced before the copy, the database file after */
    if (sqlite3_exec(s, "PRAGMA synchronous=NORMAL; PRAGMA wal_checkpoint(PASSIVE)", NULL, NULL,
                     NULL) != SQLITE_OK)
        goto out;
    rc = BB_OK;
out:
    if (rc < 0)
        BB_LOG_WARN("db", "start-up checkpoint failed", "path=\"%s\" error=\"%s\"", path,
                    s ? sqlite3_errmsg(s) : "out of memory");
    sqlite3_close(s);
    return rc;
}

void db_close(struct db *db)
{
    if (db->sql != NULL) {
        db_stmt_close_all(db);
        sqlite3_close_v2(db->sql);
    }
    db->sql = NULL;
}

/* db_exec for the transaction statements run several times per request:
 * compiled once (db_stmt.h) instead of at every call. */
static int exec_kept(struct db *db, const char *sql)
{
    sqlite3_stmt *st = db_stmt(db, sql);
    int rc;

    if (st == NULL)
        return db_exec(db, sql);
    rc = sqlite3_step(st);
    db_stmt_done(st);
    if (rc != SQLITE_DONE) {
        BB_LOG_ERROR("db", "sql failed", "error=\"%s\" sql=\"%.80s\"", sqlite3_errmsg(db->sql),
                     sql);
        return BB_EDB;
    }
    return BB_OK;
}

static void commit_timed(struct db *db, int *rc)
{
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    *rc = exec_kept(db, "COMMIT");
    clock_gettime(CLOCK_MONOTONIC, &b);
    metrics_commit((int64_t)(b.tv_sec - a.tv_sec) * 1000000 + (b.tv_nsec - a.tv_nsec) / 1000);
}

int db_begin(struct db *db)
{
    if (!db->batching)
        return exec_kept(db, "BEGIN IMMEDIATE");
    if (!db->open) {
        if (exec_kept(db, "BEGIN IMMEDIATE") < 0)
            return BB_EDB;
        db->open = 1;
        db->gen++;
    }
    if (exec_kept(db, "SAVEPOINT bb") < 0)
        return BB_EDB;
    db->depth++;
    return BB_OK;
}

int db_commit(struct db *db)
{
    int rc;
    if (!db->batching || db->depth == 0) {
        if (db->open)
            return BB_OK; /* statements outside db_begin join the batch */
        commit_timed(db, &rc);
        return rc;
    }
    /* on failure the savepoint stays, for the caller's db_rollback */
    if (exec_kept(db, "RELEASE bb") < 0)
        return BB_EDB;
    db->depth--;
    return BB_OK;
}

void db_rollback(struct db *db)
{
    if (db->batching && db->depth > 0) {
        sqlite3_exec(db->sql, "ROLLBACK TO bb", NULL, NULL, NULL);
        sqlite3_exec(db->sql, "RELEASE bb", NULL, NULL, NULL);
        db->depth--;
        return;
    }
    if (db->batching && db->open)
        return; /* nothing of the caller's own is open */
    if (!sqlite3_get_autocommit(db->sql))
        sqlite3_exec(db->sql, "ROLLBACK", NULL, NULL, NULL);
}

void db_batch_enable(struct db *db)
{
    db->batching = 1;
}

uint64_t db_batch_gen(const struct db *db)
{
    return db->open ? db->gen : 0;
}

int db_flush(struct db *db)
{
    int rc;
    if (!db->open || db->depth > 0)
        return BB_OK;
    commit_timed(db, &rc);
    db->open = 0;
    if (rc < 0) {
        if (!sqlite3_get_autocommit(db->sql))
            sqlite3_exec(db->sql, "ROLLBACK", NULL, NULL, NULL);
        db->failed[db->nfailed++ % DB_FAILED_RING] = db->gen;
        BB_LOG_ERROR("db", "group commit failed; its requests are not acknowledged", "batch=%llu",
                     (unsigned long long)db->gen);
        return BB_EDB;
    }
    return BB_OK;
}

int db_gen_committed(struct db *db, uint64_t gen)
{
    if (gen == 0)
        return 1;
    if (db->open && gen == db->gen && db_flush(db) < 0)
        return 0;
    if (db->open && gen == db->gen)
        return 0; /* a savepoint is still open: not yet */
    for (unsigned i = 0; i < DB_FAILED_RING && i < db->nfailed; i++)
        if (db->failed[i] == gen)
            return 0;
    return 1;
}
