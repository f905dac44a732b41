/* SPDX-License-Identifier: MIT */
/* reset: back to the configured state, fast. */
#include "reset.h"
#include "bb_err.h"
#include "bb_log.h"
#include "bb_mem.h"
#include "bus.h"
#include "config.h"
#include "db.h"
#include "server.h"
#include "store.h"
#include "store_index.h"
#include "worker.h"
#include "ws_conn.h"

#include <ftw.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Trees moved out of the buckets by a reset, removed on the worker thread
 * (a thousand unlinks, and the watcher's notes about each, no longer hold
 * up the answer). A stop before that leaves them to the next start, which
 * empties the trash first (reset_sweep_trash). */
static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
    (void)sb;
    (void)flag;
    (void)f;
    remove(p);
    return 0;
}

static void trash_run(void *arg)
{
    nftw((const char *)arg, rm_one, 32, FTW_DEPTH | FTW_PHYS);
}

static void trash_done(void *arg, int cancelled)
{
    (void)cancelled;
    free(arg);
}

void reset_sweep_trash(const char *data_dir)
{
    char *dir = bb_xasprintf("%s/.bucketbridge/trash", data_dir);
    nftw(dir, rm_one, 32, FTW_DEPTH | FTW_PHYS);
    free(dir);
}

static long count_objects(struct db *db)
{
    sqlite3_stmt *st = NULL;
    long n = 0;
    if (sqlite3_prepare_v2(db->sql, "SELECT count(*) FROM objects", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        n = (long)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

static int configured(const struct config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->nbuckets; i++)
        if (strcmp(cfg->buckets[i].name, name) == 0)
            return 1;
    return 0;
}

struct names {
    char **v;
    size_t n;
};

static int collect(void *arg, const char *name, int64_t created_ms)
{
    struct names *ns = arg;
    (void)created_ms;
    ns->v = bb_xrealloc(ns->v, (ns->n + 1) * sizeof(char *));
    ns->v[ns->n++] = bb_xstrdup(name);
    return 0;
}

int reset_all(struct server *srv, long *objects)
{
    const struct config *cfg = srv->cfg;
    struct db *db = store_get_db(srv->store);
    struct store_index *ix = store_get_index(srv->store);
    struct names ns = {NULL, 0};
    int rc;

    long removed = 0;
    static unsigned long trash_seq;
    store_index_bucket_each(ix, collect, &ns);
    rc = db_begin(db);
    if (rc < 0)
        goto out;
    removed = count_objects(db);
    /* index rows first: the watcher then sees the files go without events */
    rc = db_exec(db, "DELETE FROM objects");
    if (rc == BB_OK)
        rc = bus_reset(srv->bus);
    for (size_t i = 0; rc == BB_OK && i < ns.n; i++)
        if (!configured(cfg, ns.v[i]))
            rc = store_index_bucket_remove(ix, ns.v[i]);
    for (size_t i = 0; rc == BB_OK && i < cfg->nbuckets; i++) {
        rc = store_index_bucket_add(ix, cfg->buckets[i].name, cfg->buckets[i].eventbridge);
        if (rc == BB_OK)
            rc = store_index_bucket_set_eventbridge(ix, cfg->buckets[i].name,
                                                    cfg->buckets[i].eventbridge);
    }
    if (rc == BB_OK)
        rc = db_commit(db);
    if (rc < 0) {
        db_rollback(db);
        goto out;
    }
    char *trash = bb_xasprintf("%s/.bucketbridge/trash", cfg->data_dir);
    mkdir(trash, 0755);
    for (size_t i = 0; i < ns.n; i++) {
        char *dir = bb_xasprintf("%s/%s", cfg->data_dir, ns.v[i]);
        char *to = bb_xasprintf("%s/%d-%lu", trash, (int)getpid(), ++trash_seq);
        int moved = rename(dir, to) == 0;
        if (moved && srv->worker != NULL) {
            worker_submit(srv->worker, trash_run, trash_done, to);
            to = NULL;
        } else {
            /* no worker, or the move failed: remove it here */
            nftw(moved ? to : dir, rm_one, 32, FTW_DEPTH | FTW_PHYS);
        }
        free(to);
        free(dir);
    }
    free(trash);
    for (size_t i = 0; i < cfg->nbuckets; i++) {
        char *dir = bb_xasprintf("%s/%s", cfg->data_dir, cfg->buckets[i].name);
        mkdir(dir, 0755);
        free(dir);
    }
    ws_conn_reset(srv);
    BB_LOG_INFO("main", "reset to the configured state", "objects_removed=%ld", removed);
out:
    for (size_t i = 0; i < ns.n; i++)
        free(ns.v[i]);
    free(ns.v);
    if (objects != NULL)
        *objects = rc == BB_OK ? removed : 0;
    return rc;
}
