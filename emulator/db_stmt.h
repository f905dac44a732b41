/* SPDX-License-Identifier: MIT */
/*
 * db_stmt: prepared statements kept for reuse. Preparing a statement
 * (parsing and compiling its SQL) costs more than running a simple one;
 * hot paths that run the same SQL over and over take it from here instead.
 * Loop thread only, like the connection (db.h).
 *
 * Statements are keyed by the address of their SQL text, so pass a string
 * literal (or other storage that lives as long as the connection). A
 * statement taken must be given back with db_stmt_done before the same SQL
 * is taken again: do not take one in code that may run while a caller is
 * still stepping the same statement.
 */
#ifndef BB_EMULATOR_DB_STMT_H
#define BB_EMULATOR_DB_STMT_H

struct db;
struct sqlite3_stmt;

/** The prepared statement of @sql on @db (owned by the cache), reset and
 * with no bindings; NULL when it does not prepare (logged). */
struct sqlite3_stmt *db_stmt(struct db *db, const char *sql);
/** Gives @st back: resets it and clears its bindings. @st may be NULL. */
void db_stmt_done(struct sqlite3_stmt *st);
/** Finalizes every statement kept for @db (db_close calls it). */
void db_stmt_close_all(struct db *db);

#endif
