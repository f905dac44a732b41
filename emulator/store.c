/* SPDX-License-Identifier: MIT */
/* store: the filesystem side of buckets and objects. */
#include "store.h"
#include "bb_buf.h"
#include "bb_err.h"
#include "bb_log.h"
#include "bb_mem.h"
#include "config.h"
#include "db.h"
#include "store_key.h"
#include "store_own.h"
#include "store_stamp.h"
#include "store_tmp.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct store {
    char *data_dir;
    char *tmp_dir;
    int durable;
    struct store_tmp *tmp; /* owned; NULL: files are made on demand */
    struct db db;
    struct store_index *ix;
    store_change_cb *hook;
    store_committed_cb *after;
    void *hook_arg;
};

struct db *store_get_db(struct store *st)
{
    return &st->db;
}

void store_set_change_hook(struct store *st, store_change_cb *cb, store_committed_cb *after,
                           void *arg)
{
    st->hook = cb;
    st->after = after;
    st->hook_arg = arg;
}

/* Runs the hook for @c inside the open transaction. */
static int run_hook(struct store *st, const struct store_change *c)
{
    return st->hook != NULL ? st->hook(st->hook_arg, c) : BB_OK;
}

static int commit_change(struct store *st, int rc)
{
    if (rc < 0) {
        db_rollback(&st->db);
        return rc;
    }
    rc = db_commit(&st->db);
    if (rc < 0) {
        db_rollback(&st->db);
        return rc;
    }
    if (st->after != NULL)
        st->after(st->hook_arg);
    return BB_OK;
}

static int mkdir_p(const char *path)
{
    char *p = bb_xstrdup(path);
    int rc = BB_OK;

    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0755) < 0 && errno != EEXIST) {
            rc = -errno;
            goto out;
        }
        *s = '/';
    }
    if (mkdir(p, 0755) < 0 && errno != EEXIST)
        rc = -errno;
out:
    free(p);
    return rc;
}

static void sweep_tmp(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (unlinkat(dirfd(d), e->d_name, 0) == 0)
            n++;
    }
    closedir(d);
    if (n > 0)
        BB_LOG_INFO("store", "swept unfinished uploads", "dir=\"%s\" files=%d", dir, n);
}

static void adopt_disk_buckets(struct store *st)
{
    DIR *d = opendir(st->data_dir);
    struct dirent *e;

    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        const char *why;
        struct stat sb;
        if (e->d_name[0] == '.' || store_key_check_bucket(e->d_name, &why) < 0)
            continue;
        if (fstatat(dirfd(d), e->d_name, &sb, 0) == 0 && S_ISDIR(sb.st_mode))
            store_index_bucket_add(st->ix, e->d_name, 0);
    }
    closedir(d);
}

int store_open(const struct config *cfg, struct store **out)
{
    struct store *st = bb_xcalloc(1, sizeof(*st));
    char *state_dir = bb_xasprintf("%s/.bucketbridge", cfg->data_dir);
    char *dbpath = NULL;
    int rc;

    st->data_dir = bb_xstrdup(cfg->data_dir);
    st->tmp_dir = bb_xasprintf("%s/tmp", state_dir);
    st->durable = cfg->durability_full;
    /* tmp/ itself is made by the first upload (store_tmp.h): a first
     * start creates one file fewer */
    rc = mkdir_p(state_dir);
    if (rc < 0) {
        BB_LOG_ERROR("store", "cannot create data dir", "path=\"%s\" error=\"%s\"", state_dir,
                     bb_strerror(rc));
        goto out;
    }
    sweep_tmp(st->tmp_dir);
    st->tmp = store_tmp_new(st->tmp_dir);
    dbpath = bb_xasprintf("%s/state.db", state_dir);
    rc = db_open(&st->db, dbpath, cfg->durability_full);
    if (rc < 0)
        goto out;
    st->ix = store_index_new(&st->db);
    if (st->ix == NULL) {
        rc = BB_EDB;
        goto out;
    }
    /* the configured buckets in one transaction */
    rc = db_begin(&st->db);
    for (size_t i = 0; rc == BB_OK && i < cfg->nbuckets; i++) {
        char *p = bb_xasprintf("%s/%s", st->data_dir, cfg->buckets[i].name);
        rc = mkdir_p(p);
        free(p);
        if (rc == BB_OK)
            rc = store_index_bucket_add(st->ix, cfg->buckets[i].name, cfg->buckets[i].eventbridge);
        if (rc == BB_OK)
            rc = store_index_bucket_set_eventbridge(st->ix, cfg->buckets[i].name,
                                                    cfg->buckets[i].eventbridge);
    }
    if (rc == BB_OK)
        rc = db_commit(&st->db);
    else
        db_rollback(&st->db);
    if (rc < 0)
        goto out;
    adopt_disk_buckets(st);
    rc = BB_OK;
out:
    free(state_dir);
    free(dbpath);
    if (rc < 0) {
        store_free(st);
        st = NULL;
    }
    *out = st;
    return rc;
}

void store_free(struct store *st)
{
    if (st == NULL)
        return;
    store_tmp_free(st->tmp);
    store_index_free(st->ix);
    db_close(&st->db);
    free(st->data_dir);
    free(st->tmp_dir);
    free(st);
}

const char *store_data_dir(const struct store *st)
{
    return st->data_dir;
}

struct store_index *store_get_index(struct store *st)
{
    return st->ix;
}

int store_bucket_exists(struct store *st, const char *name)
{
    return store_index_bucket_exists(st->ix, name) == 1;
}

int store_bucket_create(struct store *st, const char *name)
{
    char *p;
    int rc;

    if (store_bucket_exists(st, name))
        return BB_ECONFLICT;
    p = bb_xasprintf("%s/%s", st->data_dir, name);
    rc = mkdir(p, 0755) < 0 && errno != EEXIST ? -errno : BB_OK;
    free(p);
    if (rc == BB_OK)
        rc = store_index_bucket_add(st->ix, name, 0);
    return rc;
}

int store_bucket_delete(struct store *st, const char *name)
{
    char *p;
    int rc;

    if (!store_bucket_exists(st, name))
        return BB_ENOTFOUND;
    if (store_index_bucket_has_objects(st->ix, name))
        return BB_ECONFLICT;
    p = bb_xasprintf("%s/%s", st->data_dir, name);
    if (rmdir(p) < 0 && errno != ENOENT) {
        rc = errno == ENOTEMPTY || errno == EEXIST ? BB_ECONFLICT : -errno;
        free(p);
        return rc;
    }
    free(p);
    return store_index_bucket_remove(st->ix, name);
}

int store_tmp_create(struct store *st, int *fd, char **path)
{
    return store_tmp_take(st->tmp, st->tmp_dir, fd, path);
}

char *store_object_path(struct store *st, const char *bucket, const char *key, const char **why,
                        int *rc)
{
    struct bb_buf b;
    bb_buf_init(&b, 8192);
    *rc = bb_buf_appendf(&b, "%s/%s/", st->data_dir, bucket);
    if (*rc == BB_OK)
        *rc = store_key_to_path(&b, key, strlen(key), why);
    if (*rc < 0) {
        bb_buf_cleanup(&b);
        return NULL;
    }
    return bb_buf_detach(&b, NULL);
}

/* Creates the directories above @path, stopping at @base. A component that
 * exists as a file makes the key unstorable: BB_ECONFLICT. */
static int make_parents(const char *path, size_t base_len)
{
    char *p = bb_xstrdup(path);
    char *slash = strrchr(p, '/');
    int rc = BB_OK;

    if (slash == NULL || (size_t)(slash - p) <= base_len)
        goto out;
    *slash = '\0';
    for (char *s = p + base_len + 1;; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char save = *s;
        *s = '\0';
        if (mkdir(p, 0755) < 0) {
            struct stat sb;
            if (errno != EEXIST) {
                rc = errno == ENOTDIR ? BB_ECONFLICT : -errno;
                goto out;
            }
            if (stat(p, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
                rc = BB_ECONFLICT;
                goto out;
            }
        }
        *s = save;
        if (save == '\0')
            break;
    }
out:
    free(p);
    return rc;
}

int store_object_commit(struct store *st, const char *bucket, const char *tmp_path,
                        const struct store_object *o, const struct store_cause *cause)
{
    const char *why = NULL;
    char *path;
    int rc;
    size_t base_len = strlen(st->data_dir) + 1 + strlen(bucket);

    path = store_object_path(st, bucket, o->key, &why, &rc);
    if (path == NULL)
        return rc;
    /* index row and event first, in one transaction; the rename makes the
     * object visible; the commit makes both durable together */
    rc = db_begin(&st->db);
    if (rc < 0)
        goto out;
    /* rename keeps inode and mtime: recording them lets the watcher know
     * this file as ours when it sees it arrive */
    struct store_object row = *o;
    struct stat sb;
    if (stat(tmp_path, &sb) == 0) {
        row.file_mtime_ns = (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec;
        row.file_ino = (uint64_t)sb.st_ino;
    }
    rc = store_index_put(st->ix, bucket, &row);
    if (rc == BB_OK) {
        struct store_change c = {0, bucket, o->key, &row, cause, STORE_CHANGE_OBJECT};
        rc = run_hook(st, &c);
    }
    if (rc == BB_OK && row.file_ino != 0) {
        /* if the daemon dies before the commit, the restart finds the file
         * without its row: the stamp says what it is (store_stamp.h) */
        store_stamp_write(tmp_path, bucket, &row, cause);
        store_own_note(path, row.file_ino); /* the watcher will see it arrive */
    }
    if (rc == BB_OK && rename(tmp_path, path) < 0) {
        /* the parent directories are made when missing, not checked on
         * every upload */
        if (errno == ENOENT && (rc = make_parents(path, base_len)) == BB_OK &&
            rename(tmp_path, path) == 0)
            rc = BB_OK;
        else if (rc == BB_OK)
            rc = errno == EISDIR || errno == ENOTDIR || errno == ENOTEMPTY ? BB_ECONFLICT : -errno;
    }
    if (rc == BB_OK && st->durable) {
        char *dir = bb_xstrdup(path);
        char *slash = strrchr(dir, '/');
        *slash = '\0';
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
        free(dir);
    }
    rc = commit_change(st, rc);
out:
    free(path);
    return rc;
}

int store_object_open(struct store *st, const char *bucket, const char *key, int *fd)
{
    const char *why;
    int rc;
    char *path = store_object_path(st, bucket, key, &why, &rc);

    if (path == NULL)
        return BB_ENOTFOUND;
    *fd = open(path, O_RDONLY | O_CLOEXEC);
    rc = *fd < 0 ? (errno == ENOENT || errno == ENOTDIR || errno == EISDIR ? BB_ENOTFOUND : -errno)
                 : BB_OK;
    free(path);
    return rc;
}

int store_object_delete(struct store *st, const char *bucket, const char *key,
                        const struct store_cause *cause)
{
    const char *why;
    int rc;
    int removed = 0;
    char *path = store_object_path(st, bucket, key, &why, &rc);
    size_t base_len = strlen(st->data_dir) + 1 + strlen(bucket);

    if (path == NULL)
        return BB_OK; /* cannot exist */
    if (unlink(path) == 0)
        removed = 1;
    /* empty parent directories go too, so the prefix can become a key */
    for (char *slash = strrchr(path, '/'); slash != NULL && (size_t)(slash - path) > base_len;
         slash = strrchr(path, '/')) {
        *slash = '\0';
        if (rmdir(path) < 0)
            break;
    }
    free(path);
    rc = db_begin(&st->db);
    if (rc < 0)
        return rc;
    rc = store_index_delete(st->ix, bucket, key);
    if (rc >= 0 && (removed || rc == 1)) {
        struct store_change c = {1, bucket, key, NULL, cause, STORE_CHANGE_OBJECT};
        removed = 1;
        rc = run_hook(st, &c);
    }
    rc = commit_change(st, rc < 0 ? rc : BB_OK);
    if (rc < 0)
        return rc;
    return removed;
}

int store_object_set_tags(struct store *st, const char *bucket, const char *key, const char *tags,
                          const struct store_cause *cause)
{
    struct store_object row;
    int rc;

    memset(&row, 0, sizeof(row));
    rc = db_begin(&st->db);
    if (rc < 0)
        return rc;
    rc = store_index_set_tags(st->ix, bucket, key, tags);
    if (rc == BB_OK)
        rc = store_index_get(st->ix, bucket, key, &row);
    if (rc == BB_OK) {
        struct store_change c = {
            0,    bucket, key,
            &row, cause,  tags != NULL ? STORE_CHANGE_TAGS_ADDED : STORE_CHANGE_TAGS_DELETED};
        rc = run_hook(st, &c);
    }
    store_object_cleanup(&row);
    return commit_change(st, rc);
}

int store_object_adopt(struct store *st, const char *bucket, const struct store_object *o,
                       const struct store_cause *cause)
{
    struct store_change c = {0, bucket, o->key, o, cause, STORE_CHANGE_OBJECT};
    int rc = db_begin(&st->db);
    if (rc < 0)
        return rc;
    rc = store_index_put(st->ix, bucket, o);
    if (rc == BB_OK)
        rc = run_hook(st, &c);
    return commit_change(st, rc);
}

int store_object_forget(struct store *st, const char *bucket, const char *key,
                        const struct store_cause *cause)
{
    struct store_change c = {1, bucket, key, NULL, cause, STORE_CHANGE_OBJECT};
    int rc = db_begin(&st->db);
    int removed;
    if (rc < 0)
        return rc;
    rc = store_index_delete(st->ix, bucket, key);
    removed = rc == 1;
    if (removed)
        rc = run_hook(st, &c);
    rc = commit_change(st, rc < 0 ? rc : BB_OK);
    return rc < 0 ? rc : removed;
}
