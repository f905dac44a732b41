/* SPDX-License-Identifier: MIT */
/*
 * db: the daemon's SQLite connection (WAL), its schema migrations and
 * transaction helpers. One connection, used on the loop thread only.
 *
 * Group commit: once batching is on (db_batch_enable, after start-up), the
 * first db_begin of a loop iteration opens one outer transaction and every
 * db_begin/db_commit pair inside it is a savepoint; db_flush, called by the
 * loop after each lws_service() and by every path that is about to tell the
 * outside world something (an HTTP response, a WebSocket message, a target
 * delivery), commits them all at once. A change is acknowledged only after
 * the commit that holds it: a response records db_batch_gen() when it is
 * ready and asks db_gen_committed() before its first byte leaves.
 */
#ifndef BB_EMULATOR_DB_H
#define BB_EMULATOR_DB_H

struct sqlite3;

#include <stdint.h>

#define DB_FAILED_RING 8

struct db {
    struct sqlite3 *sql;
    int full_durability;
    int batching;                    /* group commit on */
    int open;                        /* the outer batch transaction is open */
    int depth;                       /* savepoints open inside it */
    uint64_t gen;                    /* number of the current (or last) batch */
    uint64_t failed[DB_FAILED_RING]; /* batches whose commit failed */
    unsigned nfailed;
};

/** Opens (creating) @path, applies migrations. Returns 0 or BB_EDB; on
 * success free with db_close. */
int db_open(struct db *db, const char *path, int full_durability);
/** Ends start-up: commits are durable (NORMAL, or FULL with --durability
 * full) from here on. Start-up writes run with synchronous=OFF: with full
 * durability a synced checkpoint puts them in the database file before
 * this returns; otherwise the caller runs db_checkpoint_file(db_path(db))
 * off the loop thread (the start-up's file syncs cost milliseconds here). */
int db_ready(struct db *db);
/** The database file's path (borrowed from SQLite; valid while open). */
const char *db_path(struct db *db);
/** On a connection of its own: checkpoints @path's WAL into the database
 * file, syncing both. Returns 0 or BB_EDB (logged). Any thread. */
int db_checkpoint_file(const char *path);
void db_close(struct db *db);
/** Runs SQL without results. Returns 0 or BB_EDB (logged). */
int db_exec(struct db *db, const char *sql);
/** Begins a transaction (a savepoint inside the open batch when batching). */
int db_begin(struct db *db);
/** Ends the innermost db_begin: COMMIT, or RELEASE of its savepoint while
 * batching (durable only at the next db_flush). */
int db_commit(struct db *db);
/** Undoes the innermost db_begin (its savepoint only, while batching). */
void db_rollback(struct db *db);
/** Turns group commit on (the loop thread calls db_flush from then on). */
void db_batch_enable(struct db *db);
/** The number of the open batch, or 0 when nothing waits for a commit. */
uint64_t db_batch_gen(const struct db *db);
/** Commits the open batch, if any and no savepoint is open. Returns 0, or
 * BB_EDB when the commit failed (the batch is rolled back, and logged). */
int db_flush(struct db *db);
/** 1 when batch @gen (from db_batch_gen; 0 = none) is committed, flushing
 * it first if it is still open; 0 when its commit failed. */
int db_gen_committed(struct db *db, uint64_t gen);

#endif
