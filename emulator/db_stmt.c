/* SPDX-License-Identifier: MIT */
/* db_stmt: prepared statements kept for reuse (db_stmt.h). */
#include "db_stmt.h"
#include "bb_log.h"
#include "db.h"

#include <sqlite3.h>
#include <stddef.h>

#define DB_STMT_MAX 64 /* distinct hot statements; more are prepared each time */

struct entry {
    struct sqlite3 *conn;
    const char *sql; /* borrowed; its address is the key */
    sqlite3_stmt *st;
};

static struct entry cache[DB_STMT_MAX];
static int ncache;

sqlite3_stmt *db_stmt(struct db *db, const char *sql)
{
    sqlite3_stmt *st = NULL;

    for (int i = 0; i < ncache; i++)
        if (cache[i].sql == sql && cache[i].conn == db->sql)
            return cache[i].st;
    if (ncache == DB_STMT_MAX) {
        BB_LOG_WARN("db", "statement cache full", "max=%d", DB_STMT_MAX);
        return NULL;
    }
    if (sqlite3_prepare_v3(db->sql, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
        BB_LOG_ERROR("db", "prepare failed", "error=\"%s\"", sqlite3_errmsg(db->sql));
        sqlite3_finalize(st);
        return NULL;
    }
    cache[ncache].conn = db->sql;
    cache[ncache].sql = sql;
    cache[ncache].st = st;
    ncache++;
    return st;
}

void db_stmt_done(sqlite3_stmt *st)
{
    if (st == NULL)
        return;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

void db_stmt_close_all(struct db *db)
{
    int k = 0;
    for (int i = 0; i < ncache; i++) {
        if (cache[i].conn == db->sql)
            sqlite3_finalize(cache[i].st);
        else
            cache[k++] = cache[i];
    }
    ncache = k;
}
