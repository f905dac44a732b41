/* SPDX-License-Identifier: MIT */
/*
 * db: the daemon's SQLite connection (WAL), its schema migrations and
 * transaction helpers. One connection, used on the loop thread only.
 */
#ifndef BB_EMULATOR_DB_H
#define BB_EMULATOR_DB_H

struct sqlite3;

struct db {
    struct sqlite3 *sql;
    int full_durability;
};

/** Opens (creating) @path, applies migrations. Returns 0 or BB_EDB; on
 * success free with db_close. */
int db_open(struct db *db, const char *path, int full_durability);
/** Ends start-up: commits are durable (NORMAL, or FULL with --durability
 * full) from here on. Start-up writes run with synchronous=OFF. */
int db_ready(struct db *db);
void db_close(struct db *db);
/** Runs SQL without results. Returns 0 or BB_EDB (logged). */
int db_exec(struct db *db, const char *sql);
int db_begin(struct db *db);
int db_commit(struct db *db);
void db_rollback(struct db *db);

#endif
