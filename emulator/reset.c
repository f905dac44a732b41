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
#include "ws_conn.h"

#include <ftw.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static long removed;

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
    (void)sb;
    if (f->level == 0)
        return 0; /* keep the bucket directory itself */
    if (flag == FTW_F || flag == FTW_SL)
        removed++;
    remove(p);
    return 0;
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

    removed = 0;
    store_index_bucket_each(ix, collect, &ns);
    rc = db_begin(db);
    if (rc < 0)
        goto out;
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
    for (size_t i = 0; i < ns.n; i++) {
        char *dir = bb_xasprintf("%s/%s", cfg->data_dir, ns.v[i]);
        nftw(dir, rm_one, 32, FTW_DEPTH | FTW_PHYS);
        if (!configured(cfg, ns.v[i]))
            rmdir(dir);
        free(dir);
    }
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
        *objects = removed;
    return rc;
}
