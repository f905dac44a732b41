/* SPDX-License-Identifier: MIT */
/* watch_scan: notes from the watcher -> index rows and events. */
#include "watch_scan.h"
#include "bb_buf.h"
#include "bb_checksum.h"
#include "bb_err.h"
#include "bb_hash.h"
#include "bb_log.h"
#include "bb_mem.h"
#include "config.h"
#include "store.h"
#include "store_stamp.h"
#include "store_key.h"
#include "worker.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <dirent.h>
#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PENDING_MAX 4096

static const char *const default_globs[] = {".*", "*~", "*.swp", "*.part", "*.crdownload", "4913"};

enum pend_kind {
    PEND_DELETE, /* gone: forget it unless it is back by then */
    PEND_SETTLE, /* found by a scan: index it once it stopped changing */
    PEND_DIR,    /* a new directory: look at its files again */
};

struct pending_delete {
    enum pend_kind kind;
    char *path;
    char *bucket; /* NULL for PEND_DIR */
    char *key;
    int64_t due_ms;
    int64_t size, mtime_ns; /* PEND_SETTLE: what the file looked like */
    int tries;
};

struct hash_job {
    struct watch_scan *s;
    char *path;
    char *bucket;
    char *key;
    struct stat sb;
    int ok;
    int written; /* a close after writing or a rename, not a scan */
    char etag[2 * BB_MD5_LEN + 1];
    char crc[BB_CHECKSUM_MAX_B64];
};

struct watch_scan {
    struct store *st;
    const struct config *cfg;
    struct worker *wk;
    struct lws_context *lws;
    struct pending_delete pend[PENDING_MAX];
    int npend;
    lws_sorted_usec_list_t sul;
    int armed;
    unsigned long seq;
    char **hashing; /* paths with a hash job in flight */
    size_t nhashing;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int watch_scan_ignored(const char *name, const char *globs_json)
{
    if (globs_json != NULL) {
        cJSON *arr = cJSON_Parse(globs_json);
        const cJSON *g;
        int hit = 0;
        cJSON_ArrayForEach(g, arr)
        {
            if (cJSON_IsString(g) && fnmatch(g->valuestring, name, FNM_PERIOD) == 0)
                hit = 1;
        }
        cJSON_Delete(arr);
        return hit;
    }
    for (size_t i = 0; i < sizeof(default_globs) / sizeof(default_globs[0]); i++)
        if (fnmatch(default_globs[i], name, 0) == 0)
            return 1;
    return 0;
}

const char *watch_scan_content_type(const char *name)
{
    static const char *const map[][2] = {
        {"jpg", "image/jpeg"},      {"jpeg", "image/jpeg"},       {"png", "image/png"},
        {"gif", "image/gif"},       {"bmp", "image/bmp"},         {"tga", "image/x-tga"},
        {"webp", "image/webp"},     {"svg", "image/svg+xml"},     {"ico", "image/x-icon"},
        {"tif", "image/tiff"},      {"tiff", "image/tiff"},       {"heic", "image/heic"},
        {"txt", "text/plain"},      {"log", "text/plain"},        {"md", "text/markdown"},
        {"csv", "text/csv"},        {"html", "text/html"},        {"htm", "text/html"},
        {"css", "text/css"},        {"js", "text/javascript"},    {"json", "application/json"},
        {"xml", "application/xml"}, {"pdf", "application/pdf"},   {"zip", "application/zip"},
        {"gz", "application/gzip"}, {"tar", "application/x-tar"}, {"mp4", "video/mp4"},
        {"mov", "video/quicktime"}, {"mp3", "audio/mpeg"},        {"wav", "audio/wav"},
    };
    const char *dot = strrchr(name, '.');
    if (dot == NULL || strchr(dot, '/') != NULL)
        return "binary/octet-stream";
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcasecmp(dot + 1, map[i][0]) == 0)
            return map[i][1];
    return "binary/octet-stream";
}

struct watch_scan *watch_scan_new(struct store *st, const struct config *cfg, struct worker *wk,
                                  struct lws_context *lws)
{
    struct watch_scan *s = bb_xcalloc(1, sizeof(*s));
    s->st = st;
    s->cfg = cfg;
    s->wk = wk;
    s->lws = lws;
    return s;
}

static void pending_clear(struct pending_delete *p)
{
    free(p->path);
    free(p->bucket);
    free(p->key);
    memset(p, 0, sizeof(*p));
}

void watch_scan_free(struct watch_scan *s)
{
    if (s == NULL)
        return;
    if (s->armed)
        lws_sul_schedule(s->lws, 0, &s->sul, NULL, LWS_SET_TIMER_USEC_CANCEL);
    for (int i = 0; i < s->npend; i++)
        pending_clear(&s->pend[i]);
    for (size_t i = 0; i < s->nhashing; i++)
        free(s->hashing[i]);
    free(s->hashing);
    free(s);
}

/* Splits @path (under the data dir) into bucket and key; 0 when the path
 * is a watched object path, else BB_EINVAL (ignored, not a bucket, hidden
 * or temporary names, not a key). */
static int split(struct watch_scan *s, const char *path, char **bucket, char **key)
{
    const char *dd = store_data_dir(s->st);
    size_t dl = strlen(dd);
    const char *rel, *slash;
    struct bb_buf b;

    *bucket = *key = NULL;
    if (strncmp(path, dd, dl) != 0 || path[dl] != '/')
        return BB_EINVAL;
    rel = path + dl + 1;
    slash = strchr(rel, '/');
    if (slash == NULL || slash[1] == '\0')
        return BB_EINVAL;
    /* every component after the bucket passes the name filter */
    for (const char *c = slash + 1; c != NULL && *c;) {
        const char *e = strchr(c, '/');
        char *name = e ? bb_xstrndup(c, (size_t)(e - c)) : bb_xstrdup(c);
        int ign = watch_scan_ignored(name, s->cfg->watcher_ignore_json);
        free(name);
        if (ign)
            return BB_EINVAL;
        c = e ? e + 1 : NULL;
    }
    *bucket = bb_xstrndup(rel, (size_t)(slash - rel));
    if (!store_bucket_exists(s->st, *bucket)) {
        free(*bucket);
        *bucket = NULL;
        return BB_EINVAL;
    }
    bb_buf_init(&b, 4096);
    if (store_key_from_path(&b, slash + 1, strlen(slash + 1)) < 0 || b.len == 0) {
        bb_buf_cleanup(&b);
        free(*bucket);
        *bucket = NULL;
        return BB_EINVAL;
    }
    *key = bb_buf_detach(&b, NULL);
    return BB_OK;
}

static void cause(struct watch_scan *s, struct store_cause *c, char rid[24])
{
    snprintf(rid, 24, "WATCH%011lu", ++s->seq);
    c->request_id = rid;
    c->requester = "local-file";
    c->source_ip = "127.0.0.1";
    c->reason = "PutObject";
}

static int64_t mtime_ns(const struct stat *sb)
{
    return (int64_t)sb->st_mtim.tv_sec * 1000000000 + sb->st_mtim.tv_nsec;
}

/* Hashes @fd's content: MD5 (ETag) and CRC64NVME (the checksum S3 adds). */
static int hash_fd(int fd, char etag[33], char crc[BB_CHECKSUM_MAX_B64])
{
    struct bb_hash *md5 = bb_hash_new(BB_HASH_MD5);
    struct bb_checksum ck;
    unsigned char buf[65536];
    unsigned char d[BB_MD5_LEN];
    ssize_t n;
    int rc = BB_OK;

    bb_checksum_init(&ck, BB_CHECKSUM_CRC64NVME);
    while ((n = read(fd, buf, sizeof(buf))) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            rc = -errno;
            break;
        }
        bb_hash_update(md5, buf, (size_t)n);
        bb_checksum_update(&ck, buf, (size_t)n);
    }
    bb_hash_final(md5, d);
    bb_hex(d, sizeof(d), etag);
    bb_checksum_final_b64(&ck, crc);
    bb_checksum_cleanup(&ck);
    bb_hash_free(md5);
    return rc;
}

static void adopt(struct watch_scan *s, const char *bucket, const char *key, const char *path,
                  const struct stat *sb, const char *etag, const char *crc, int written)
{
    struct store_object o;
    struct store_cause c;
    struct store_object row;
    char rid[24];
    int rc;

    /* found by a scan with the same bytes, only the times changed (cp -p or
     * copytree setting them after close, touch): refresh the row, announce
     * nothing. A write with identical content is announced, as S3 does. */
    memset(&row, 0, sizeof(row));
    if (!written && store_index_get(store_get_index(s->st), bucket, key, &row) == BB_OK &&
        row.size == (uint64_t)sb->st_size && row.etag != NULL && strcmp(row.etag, etag) == 0) {
        row.file_mtime_ns = mtime_ns(sb);
        row.file_ino = (uint64_t)sb->st_ino;
        rc = store_index_put(store_get_index(s->st), bucket, &row);
        if (rc < 0)
            BB_LOG_ERROR("watch", "refreshing an unchanged file failed", "path=\"%s\" error=\"%s\"",
                         path, bb_strerror(rc));
        store_object_cleanup(&row);
        return;
    }
    store_object_cleanup(&row);
    memset(&o, 0, sizeof(o));
    o.key = (char *)key;
    o.size = (uint64_t)sb->st_size;
    o.etag = (char *)etag;
    o.content_type = (char *)watch_scan_content_type(key);
    o.mtime_ms = (int64_t)sb->st_mtim.tv_sec * 1000 + sb->st_mtim.tv_nsec / 1000000;
    o.headers = (char *)"[]";
    o.checksum_alg = (char *)"CRC64NVME";
    o.checksum = (char *)crc;
    o.file_mtime_ns = mtime_ns(sb);
    o.file_ino = (uint64_t)sb->st_ino;
    cause(s, &c, rid);
    /* an upload whose commit a crash cut: indexed as it was uploaded */
    struct store_stamp stamp;
    int stamped = store_stamp_read(path, bucket, key, sb, &stamp) == BB_OK;
    if (stamped) {
        o.etag = stamp.o.etag;
        o.content_type = stamp.o.content_type ? stamp.o.content_type : o.content_type;
        o.headers = stamp.o.headers ? stamp.o.headers : o.headers;
        if (stamp.o.checksum_alg != NULL && stamp.o.checksum != NULL) {
            o.checksum_alg = stamp.o.checksum_alg;
            o.checksum = stamp.o.checksum;
        }
        o.tags = stamp.o.tags;
        store_stamp_cause(&stamp, &c);
        if (c.request_id == NULL || c.requester == NULL || c.reason == NULL)
            cause(s, &c, rid);
        BB_LOG_INFO("watch", "an upload cut before its commit is indexed as uploaded",
                    "bucket=%s path=\"%s\" req=%s", bucket, path,
                    c.request_id ? c.request_id : "-");
    }
    rc = store_object_adopt(s->st, bucket, &o, &c);
    if (stamped)
        store_stamp_cleanup(&stamp);
    if (rc < 0)
        BB_LOG_ERROR("watch", "indexing a dropped file failed", "path=\"%s\" error=\"%s\"", path,
                     bb_strerror(rc));
    else
        BB_LOG_INFO("watch", "file indexed", "bucket=%s path=\"%s\" size=%lld", bucket, path,
                    (long long)sb->st_size);
}

static int hashing_index(struct watch_scan *s, const char *path)
{
    for (size_t i = 0; i < s->nhashing; i++)
        if (strcmp(s->hashing[i], path) == 0)
            return (int)i;
    return -1;
}

/* How a file came to be looked at: a scan find, a close after writing or a
 * rename, or the reconciliation walk (which may meet files mid-write). */
enum { LOOK_SCAN = 0, LOOK_WRITTEN = 1, LOOK_RECONCILE = 2 };

static void look(struct watch_scan *s, const char *path, int how);
static int open_for_writing(const char *path);

static void hash_run(void *arg)
{
    struct hash_job *j = arg;
    int fd = open(j->path, O_RDONLY | O_CLOEXEC);
    j->ok = 0;
    if (fd < 0)
        return;
    j->ok = fstat(fd, &j->sb) == 0 && hash_fd(fd, j->etag, j->crc) == BB_OK;
    close(fd);
}

static void hash_done(void *arg, int cancelled)
{
    struct hash_job *j = arg;
    struct watch_scan *s = j->s;
    struct stat now;
    int i = hashing_index(s, j->path);

    if (i >= 0) {
        free(s->hashing[i]);
        s->hashing[i] = s->hashing[--s->nhashing];
    }
    if (!cancelled && j->ok) {
        /* changed again while hashing: look again */
        if (stat(j->path, &now) != 0 || now.st_size != j->sb.st_size ||
            mtime_ns(&now) != mtime_ns(&j->sb))
            look(s, j->path, j->written);
        else
            adopt(s, j->bucket, j->key, j->path, &j->sb, j->etag, j->crc, j->written);
    }
    free(j->path);
    free(j->bucket);
    free(j->key);
    free(j);
}

/* The file at @path, known to be (bucket, key): index it when it differs.
 * @how is one of LOOK_*. */
static void consider(struct watch_scan *s, const char *path, const char *bucket, const char *key,
                     int how)
{
    int written = how == LOOK_WRITTEN;
    struct stat lsb, sb;
    struct store_object row;
    const char *dd = store_data_dir(s->st);
    int have;

    if (lstat(path, &lsb) != 0)
        return;
    if (S_ISLNK(lsb.st_mode)) {
        char *real = realpath(path, NULL);
        char *root = bb_xasprintf("%s/%s/", dd, bucket);
        char *rroot = realpath(root, NULL);
        int inside =
            real && rroot && strncmp(real, rroot, strlen(rroot)) == 0 && real[strlen(rroot)] == '/';
        if (!inside)
            BB_LOG_WARN("watch", "symlink pointing outside its bucket ignored", "path=\"%s\"",
                        path);
        free(real);
        free(root);
        free(rroot);
        if (!inside)
            return;
    }
    if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
        return;
    if (access(path, R_OK) != 0) {
        BB_LOG_WARN("watch", "file not readable, ignored", "path=\"%s\"", path);
        return;
    }
    memset(&row, 0, sizeof(row));
    have = store_index_get(store_get_index(s->st), bucket, key, &row) == BB_OK;
    if (have && row.size == (uint64_t)sb.st_size && row.file_mtime_ns == mtime_ns(&sb) &&
        row.file_ino == (uint64_t)sb.st_ino) {
        store_object_cleanup(&row);
        return; /* ours, or unchanged */
    }
    store_object_cleanup(&row);
    if (how == LOOK_RECONCILE && open_for_writing(path)) {
        /* still being written: its close announces it, or, when that event
         * was lost with the overflow, the settle wait does */
        watch_scan_found(s, path);
        return;
    }
    if (sb.st_size > WATCH_HASH_INLINE && s->wk != NULL) {
        if (hashing_index(s, path) >= 0)
            return; /* the job in flight will look again when done */
        struct hash_job *j = bb_xcalloc(1, sizeof(*j));
        j->s = s;
        j->path = bb_xstrdup(path);
        j->bucket = bb_xstrdup(bucket);
        j->key = bb_xstrdup(key);
        j->written = written;
        s->hashing = bb_xrealloc(s->hashing, (s->nhashing + 1) * sizeof(char *));
        s->hashing[s->nhashing++] = bb_xstrdup(path);
        worker_submit(s->wk, hash_run, hash_done, j);
        return;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    char etag[33], crc[BB_CHECKSUM_MAX_B64];
    if (fd < 0) {
        BB_LOG_WARN("watch", "file not readable, ignored", "path=\"%s\"", path);
        return;
    }
    if (fstat(fd, &sb) == 0 && hash_fd(fd, etag, crc) == BB_OK)
        adopt(s, bucket, key, path, &sb, etag, crc, written);
    close(fd);
}

/* Drops pending entries for @path (not directory rechecks). */
static void unpend(struct watch_scan *s, const char *path)
{
    for (int i = 0; i < s->npend;) {
        if (s->pend[i].kind != PEND_DIR && strcmp(s->pend[i].path, path) == 0) {
            pending_clear(&s->pend[i]);
            s->pend[i] = s->pend[--s->npend];
            memset(&s->pend[s->npend], 0, sizeof(s->pend[0]));
        } else {
            i++;
        }
    }
}

static void look(struct watch_scan *s, const char *path, int how)
{
    char *bucket, *key;
    if (split(s, path, &bucket, &key) < 0)
        return;
    /* a close or rename settles it: a pending deletion (an editor's
     * replace) or a pending scan find is done */
    unpend(s, path);
    consider(s, path, bucket, key, how);
    free(bucket);
    free(key);
}

void watch_scan_file(struct watch_scan *s, const char *path)
{
    look(s, path, LOOK_WRITTEN);
}

static void grace_cb(lws_sorted_usec_list_t *sul);

static void arm(struct watch_scan *s, int64_t delay_ms)
{
    if (s->armed)
        return;
    s->armed = 1;
    lws_sul_schedule(s->lws, 0, &s->sul, grace_cb, (lws_usec_t)(delay_ms + 1) * 1000);
}

static struct pending_delete *pend_add(struct watch_scan *s, enum pend_kind kind, const char *path,
                                       int64_t delay_ms)
{
    struct pending_delete *p;
    if (s->npend == PENDING_MAX)
        return NULL;
    p = &s->pend[s->npend++];
    memset(p, 0, sizeof(*p));
    p->kind = kind;
    p->path = bb_xstrdup(path);
    p->due_ms = now_ms() + delay_ms;
    arm(s, delay_ms);
    return p;
}

void watch_scan_found(struct watch_scan *s, const char *path)
{
    char *bucket, *key;
    struct stat sb;
    struct pending_delete *p;
    if (split(s, path, &bucket, &key) < 0)
        return;
    for (int i = 0; i < s->npend; i++) {
        if (s->pend[i].kind == PEND_SETTLE && strcmp(s->pend[i].path, path) == 0) {
            free(bucket);
            free(key);
            return; /* already waiting */
        }
    }
    p = lstat(path, &sb) == 0 ? pend_add(s, PEND_SETTLE, path, WATCH_SETTLE_MS) : NULL;
    if (p == NULL) {
        if (lstat(path, &sb) == 0)
            consider(s, path, bucket, key, LOOK_SCAN); /* no room to wait: index now */
        free(bucket);
        free(key);
        return;
    }
    p->bucket = bucket;
    p->key = key;
    p->size = (int64_t)sb.st_size;
    p->mtime_ns = (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec;
}

static void settle_dir(struct watch_scan *s, const char *dir, int depth)
{
    DIR *d;
    struct dirent *e;
    if (depth > 64)
        return;
    d = opendir(dir);
    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        char *p;
        struct stat sb;
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        p = bb_xasprintf("%s/%s", dir, e->d_name);
        if (lstat(p, &sb) == 0) {
            if (S_ISDIR(sb.st_mode))
                settle_dir(s, p, depth + 1);
            else
                watch_scan_found(s, p);
        }
        free(p);
    }
    closedir(d);
}

void watch_scan_dir_new(struct watch_scan *s, const char *path)
{
    pend_add(s, PEND_DIR, path, WATCH_DIR_RECHECK_MS);
}

static void forget(struct watch_scan *s, const char *bucket, const char *key)
{
    struct store_cause c;
    char rid[24];
    cause(s, &c, rid);
    c.reason = "DeleteObject";
    if (store_object_forget(s->st, bucket, key, &c) == 1)
        BB_LOG_INFO("watch", "file removed", "bucket=%s key_len=%zu", bucket, strlen(key));
}

/* 1 when some process holds @path open for writing. A read lease is
 * refused exactly then (fcntl F_SETLEASE); when leases are not allowed (not
 * the owner, no CAP_LEASE) the answer is 0 and the size/mtime check stands. */
static int open_for_writing(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
    int busy = 0;
    if (fd < 0)
        return 0;
    if (fcntl(fd, F_SETLEASE, F_RDLCK) < 0)
        busy = errno == EAGAIN;
    else
        fcntl(fd, F_SETLEASE, F_UNLCK);
    close(fd);
    return busy;
}

static void grace_cb(lws_sorted_usec_list_t *sul)
{
    struct watch_scan *s = lws_container_of(sul, struct watch_scan, sul);
    int64_t now = now_ms();
    char **dirs = NULL;
    size_t ndirs = 0;

    s->armed = 0;
    for (int i = 0; i < s->npend;) {
        struct pending_delete *p = &s->pend[i];
        struct stat sb;
        int done = 1;
        if (p->due_ms > now) {
            i++;
            continue;
        }
        if (p->kind == PEND_DIR) {
            dirs = bb_xrealloc(dirs, (ndirs + 1) * sizeof(char *));
            dirs[ndirs++] = bb_xstrdup(p->path);
        } else if (p->kind == PEND_SETTLE) {
            if (lstat(p->path, &sb) == 0) {
                int64_t m = (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec;
                if ((((int64_t)sb.st_size != p->size || m != p->mtime_ns) ||
                     open_for_writing(p->path)) &&
                    p->tries < 100) {
                    /* still changing: a writer holds it; wait more */
                    p->size = (int64_t)sb.st_size;
                    p->mtime_ns = m;
                    p->tries++;
                    p->due_ms = now + WATCH_SETTLE_MS;
                    done = 0;
                } else {
                    consider(s, p->path, p->bucket, p->key, LOOK_SCAN);
                }
            }
        } else if (lstat(p->path, &sb) == 0) {
            consider(s, p->path, p->bucket, p->key, LOOK_SCAN);
        } else {
            forget(s, p->bucket, p->key);
        }
        if (done) {
            pending_clear(p);
            s->pend[i] = s->pend[--s->npend];
            memset(&s->pend[s->npend], 0, sizeof(s->pend[0]));
        } else {
            i++;
        }
    }
    /* rechecks add entries: after the loop */
    for (size_t k = 0; k < ndirs; k++) {
        settle_dir(s, dirs[k], 0);
        free(dirs[k]);
    }
    free(dirs);
    int64_t next = -1;
    for (int i = 0; i < s->npend; i++)
        if (next < 0 || s->pend[i].due_ms < next)
            next = s->pend[i].due_ms;
    if (next >= 0)
        arm(s, next > now ? next - now : 0);
}

void watch_scan_gone(struct watch_scan *s, const char *path)
{
    char *bucket, *key;
    struct pending_delete *p;
    if (split(s, path, &bucket, &key) < 0)
        return;
    unpend(s, path);
    p = pend_add(s, PEND_DELETE, path, WATCH_DELETE_GRACE_MS);
    if (p == NULL) {
        forget(s, bucket, key);
        free(bucket);
        free(key);
        return;
    }
    p->bucket = bucket;
    p->key = key;
}

struct gone_ctx {
    struct watch_scan *s;
    const char *bucket;
    char **keys;
    size_t n;
};

static int collect_missing(void *arg, const struct store_object *o, char **reseek)
{
    struct gone_ctx *g = arg;
    const char *why;
    int rc;
    (void)reseek;
    char *p = store_object_path(g->s->st, g->bucket, o->key, &why, &rc);
    struct stat sb;
    if (p != NULL && lstat(p, &sb) != 0) {
        g->keys = bb_xrealloc(g->keys, (g->n + 1) * sizeof(char *));
        g->keys[g->n++] = bb_xstrdup(o->key);
    }
    free(p);
    return 0;
}

/* Index rows of @bucket under key @prefix whose files are gone. */
static void forget_missing(struct watch_scan *s, const char *bucket, const char *prefix)
{
    struct gone_ctx g = {s, bucket, NULL, 0};
    store_index_scan(store_get_index(s->st), bucket, prefix, NULL, collect_missing, &g);
    for (size_t i = 0; i < g.n; i++) {
        forget(s, bucket, g.keys[i]);
        free(g.keys[i]);
    }
    free(g.keys);
}

void watch_scan_dir_gone(struct watch_scan *s, const char *path)
{
    char *file = bb_xasprintf("%s/x", path);
    char *bucket, *key;
    if (split(s, file, &bucket, &key) == 0) {
        /* key is "<dir key>/x": the prefix is everything up to that 'x' */
        key[strlen(key) - 1] = '\0';
        forget_missing(s, bucket, key);
        free(bucket);
        free(key);
    }
    free(file);
}

static void walk(struct watch_scan *s, const char *dir, int depth)
{
    DIR *d;
    struct dirent *e;
    if (depth > 64)
        return;
    d = opendir(dir);
    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        char *p;
        struct stat sb;
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        p = bb_xasprintf("%s/%s", dir, e->d_name);
        if (lstat(p, &sb) == 0) {
            if (S_ISDIR(sb.st_mode)) {
                if (!watch_scan_ignored(e->d_name, s->cfg->watcher_ignore_json))
                    walk(s, p, depth + 1);
            } else {
                look(s, p, LOOK_RECONCILE);
            }
        }
        free(p);
    }
    closedir(d);
}

static int each_bucket(void *arg, const char *name, int64_t created_ms)
{
    struct watch_scan *s = arg;
    char *dir = bb_xasprintf("%s/%s", store_data_dir(s->st), name);
    (void)created_ms;
    walk(s, dir, 0);
    forget_missing(s, name, "");
    free(dir);
    return 0;
}

void watch_scan_reconcile(struct watch_scan *s)
{
    int64_t t0 = now_ms();
    /* bucket names first: the index scan inside must not run under this one */
    struct names {
        char **v;
        size_t n;
    } names = {NULL, 0};
    DIR *d = opendir(store_data_dir(s->st));
    struct dirent *e;
    while (d != NULL && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || !store_bucket_exists(s->st, e->d_name))
            continue;
        names.v = bb_xrealloc(names.v, (names.n + 1) * sizeof(char *));
        names.v[names.n++] = bb_xstrdup(e->d_name);
    }
    if (d != NULL)
        closedir(d);
    for (size_t i = 0; i < names.n; i++) {
        each_bucket(s, names.v[i], 0);
        free(names.v[i]);
    }
    free(names.v);
    BB_LOG_INFO("watch", "reconciled bucket directories with the index", "duration_ms=%lld",
                (long long)(now_ms() - t0));
}
