/* SPDX-License-Identifier: MIT */
/*
 * s3_copy: CopyObject (COPY and REPLACE metadata directives, copy onto
 * itself), the copy source and its conditions, and the file-to-file copy
 * that UploadPartCopy and CompleteMultipartUpload share. The copy is written
 * to a temporary file and committed like a PutObject, so the destination
 * appears atomically and with one "CopyObject" event.
 */
#include "s3_copy.h"
#include "bb_buf.h"
#include "bb_checksum.h"
#include "bb_err.h"
#include "bb_io.h"
#include "bb_hash.h"
#include "bb_log.h"
#include "bb_mem.h"
#include "config.h"
#include "http_conn.h"
#include "s3_handler.h"
#include "s3_range.h"
#include "s3_sigv4.h"
#include "server.h"
#include "store.h"
#include "store_key.h"
#include "worker.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define XMLNS "http://s3.amazonaws.com/doc/2006-03-01/"
#define COPY_BUF (256 * 1024)
#define COPY_MAX_SOURCE (5ull * 1024 * 1024 * 1024) /* S3's limit for one copy */
/* x-amz-copy-source: a bucket and a 1024-byte key, each byte %-encoded */
#define COPY_SOURCE_MAX 4096

static void source_error(struct s3_req *q, const char *msg)
{
    struct s3_error_field f[] = {{"ArgumentName", "x-amz-copy-source"}};
    s3_reply_error(q, S3E_INVALID_ARGUMENT, msg, f, 1);
}

static int parse_http_time(const char *s, time_t *out)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    if (strptime(s, "%a, %d %b %Y %H:%M:%S GMT", &tm) == NULL &&
        strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) == NULL)
        return BB_EINVAL;
    *out = timegm(&tm);
    return BB_OK;
}

/*
 * S3's rules for the copy conditions: a true if-match overrides a false
 * if-unmodified-since, and a true if-none-match overrides a false
 * if-modified-since. Returns the failing header's name, or NULL.
 */
static const char *failed_condition(struct s3_req *q, const struct store_object *o)
{
    char v[512];
    time_t t;
    time_t mtime = (time_t)(o->mtime_ms / 1000);

    if (s3_req_header(q, "x-amz-copy-source-if-match", v, sizeof(v)) != NULL) {
        if (!s3_range_etag_matches(v, o->etag))
            return "x-amz-copy-source-If-Match";
    } else if (s3_req_header(q, "x-amz-copy-source-if-unmodified-since", v, sizeof(v)) != NULL &&
               parse_http_time(v, &t) == 0 && mtime > t) {
        return "x-amz-copy-source-If-Unmodified-Since";
    }
    if (s3_req_header(q, "x-amz-copy-source-if-none-match", v, sizeof(v)) != NULL) {
        if (s3_range_etag_matches(v, o->etag))
            return "x-amz-copy-source-If-None-Match";
    } else if (s3_req_header(q, "x-amz-copy-source-if-modified-since", v, sizeof(v)) != NULL &&
               parse_http_time(v, &t) == 0 && mtime <= t) {
        return "x-amz-copy-source-If-Modified-Since";
    }
    return NULL;
}

/* Decodes @n bytes of the copy source into a new string; NULL when the
 * escapes are malformed or decode to a NUL byte. */
static char *decode_part(const char *s, size_t n)
{
    struct bb_buf b;
    char *out = NULL;

    bb_buf_init(&b, COPY_SOURCE_MAX);
    if (s3_sigv4_uri_decode(&b, s, n, false) == 0 && b.len > 0 && strlen(b.data) == b.len)
        out = bb_buf_detach(&b, NULL);
    bb_buf_cleanup(&b);
    return out;
}

int s3_copy_source_open(struct s3_req *q, struct s3_copy_source *src)
{
    char raw[COPY_SOURCE_MAX + 1];
    const char *why = NULL;
    const char *cond;
    struct stat sb;
    char *p;
    char *slash;
    char *qm;
    int rc;

    memset(src, 0, sizeof(*src));
    src->fd = -1;
    if (s3_req_header(q, "x-amz-copy-source", raw, sizeof(raw)) == NULL) {
        source_error(q, "Copy Source must mention the source bucket and key: "
                        "sourcebucket/sourcekey");
        return BB_EINVAL;
    }
    if (strlen(raw) == COPY_SOURCE_MAX) {
        source_error(q, "The x-amz-copy-source header is too long.");
        return BB_ETOOBIG;
    }
    p = raw[0] == '/' ? raw + 1 : raw;
    qm = strchr(p, '?');
    if (qm != NULL) {
        *qm = '\0';
        /* no versioning here: only the "null" version exists */
        if (strcmp(qm + 1, "versionId=null") != 0) {
            source_error(q, "Invalid version id specified");
            return BB_EINVAL;
        }
    }
    slash = strchr(p, '/');
    if (slash == NULL || slash == p || slash[1] == '\0') {
        source_error(q, "Copy Source must mention the source bucket and key: "
                        "sourcebucket/sourcekey");
        return BB_EINVAL;
    }
    src->bucket = decode_part(p, (size_t)(slash - p));
    src->key = decode_part(slash + 1, strlen(slash + 1));
    if (src->bucket == NULL || src->key == NULL) {
        source_error(q, "The x-amz-copy-source header is not validly percent-encoded.");
        return BB_EINVAL;
    }
    if (store_key_check_bucket(src->bucket, &why) < 0 ||
        !store_bucket_exists(q->store, src->bucket)) {
        struct s3_error_field f = {"BucketName", src->bucket};
        s3_reply_error(q, S3E_NO_SUCH_BUCKET, NULL, &f, 1);
        return BB_ENOTFOUND;
    }
    rc = store_index_get(store_get_index(q->store), src->bucket, src->key, &src->o);
    if (rc == BB_OK)
        rc = store_object_open(q->store, src->bucket, src->key, &src->fd);
    if (rc == BB_OK && (fstat(src->fd, &sb) < 0 || !S_ISREG(sb.st_mode)))
        rc = BB_ENOTFOUND;
    if (rc < 0) {
        struct s3_error_field f = {"Key", src->key};
        if (rc != BB_ENOTFOUND)
            BB_LOG_ERROR("s3", "copy source lookup failed", "req=%s error=\"%s\"",
                         q->http->request_id, bb_strerror(rc));
        s3_reply_error(q, rc == BB_ENOTFOUND ? S3E_NO_SUCH_KEY : S3E_INTERNAL_ERROR, NULL, &f, 1);
        return rc;
    }
    src->size = (uint64_t)sb.st_size;
    cond = failed_condition(q, &src->o);
    if (cond != NULL) {
        struct s3_error_field f = {"Condition", cond};
        s3_reply_error(q, S3E_PRECONDITION_FAILED, NULL, &f, 1);
        return BB_ECONFLICT;
    }
    return BB_OK;
}

void s3_copy_source_cleanup(struct s3_copy_source *src)
{
    if (src->fd >= 0)
        close(src->fd);
    free(src->bucket);
    free(src->key);
    store_object_cleanup(&src->o);
    memset(src, 0, sizeof(*src));
    src->fd = -1;
}

int s3_copy_stream(int src_fd, uint64_t off, uint64_t len, int dst_fd, struct bb_hash *md5,
                   struct bb_checksum *ck)
{
    char *buf;
    int rc = BB_OK;

    if (md5 == NULL && ck == NULL) {
        /* nothing to hash: let the kernel copy (or share) the extents */
        loff_t in = (loff_t)off;
        while (len > 0) {
            size_t want = len > (1u << 30) ? (1u << 30) : (size_t)len;
            ssize_t n = copy_file_range(src_fd, &in, dst_fd, NULL, want, 0);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                break; /* EXDEV, ENOSYS, EINVAL...: fall back to read/write */
            if (n == 0)
                return BB_EINCOMPLETE;
            len -= (uint64_t)n;
        }
        if (len == 0)
            return BB_OK;
        off = (uint64_t)in;
    }
    buf = bb_xmalloc(COPY_BUF);
    while (len > 0) {
        size_t want = len > COPY_BUF ? COPY_BUF : (size_t)len;
        ssize_t n = pread(src_fd, buf, want, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = -errno;
            goto out;
        }
        if (n == 0) {
            rc = BB_EINCOMPLETE;
            goto out;
        }
        if (md5 != NULL)
            bb_hash_update(md5, buf, (size_t)n);
        if (ck != NULL)
            bb_checksum_update(ck, buf, (size_t)n);
        rc = bb_write_all(dst_fd, buf, (size_t)n);
        if (rc < 0)
            goto out;
        off += (uint64_t)n;
        len -= (uint64_t)n;
    }
out:
    free(buf);
    return rc;
}

static void iso_time(int64_t ms, char out[32])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 32 - n, ".%03dZ", (int)(ms % 1000));
}

/* A change other than the metadata that makes a copy onto itself legal. */
static int changes_something_else(struct s3_req *q)
{
    static const char *const hdrs[] = {"x-amz-storage-class", "x-amz-website-redirect-location",
                                       "x-amz-server-side-encryption"};
    char v[8];
    for (size_t i = 0; i < sizeof(hdrs) / sizeof(hdrs[0]); i++)
        if (s3_req_header(q, hdrs[i], v, sizeof(v)) != NULL)
            return 1;
    return 0;
}

/* A CopyObject in progress: the bytes are copied and hashed on the worker
 * thread (gigabytes take seconds; the loop keeps serving), the commit and
 * the answer happen back on the loop thread. */
struct copy_job {
    struct s3_req *q; /* NULL once the client has gone */
    struct s3_copy_source src;
    int tmp_fd;
    char *tmp_path;
    enum bb_checksum_alg alg;
    char *headers;
    char *tags;
    char *content_type;
    int durable;
    struct bb_hash *md5;
    struct bb_checksum ck;
    int rc;
};

static void copy_job_free(struct copy_job *j)
{
    if (j->tmp_fd >= 0)
        close(j->tmp_fd);
    if (j->tmp_path != NULL) {
        unlink(j->tmp_path);
        free(j->tmp_path);
    }
    s3_copy_source_cleanup(&j->src);
    bb_hash_free(j->md5);
    bb_checksum_cleanup(&j->ck);
    free(j->headers);
    free(j->tags);
    free(j->content_type);
    free(j);
}

static void copy_detach(void *arg)
{
    struct copy_job *j = arg;
    j->q = NULL;
}

/* Worker thread: touches only the job. */
static void copy_run(void *arg)
{
    struct copy_job *j = arg;
    j->rc = s3_copy_stream(j->src.fd, 0, j->src.size, j->tmp_fd, j->md5, &j->ck);
    if (j->rc == BB_OK && j->durable && fsync(j->tmp_fd) < 0)
        j->rc = -errno;
}

/* Loop thread, bytes copied: commits and answers. */
static void copy_commit(struct s3_req *q, struct copy_job *j)
{
    struct store_object o;
    struct store_cause cause;
    struct bb_buf xml;
    struct timespec ts;
    unsigned char digest[BB_MD5_LEN];
    char etag[2 * BB_MD5_LEN + 1];
    char checksum[BB_CHECKSUM_MAX_B64];
    char lm[32];
    int rc;

    bb_buf_init(&xml, 64 * 1024);
    if (j->rc < 0) {
        BB_LOG_ERROR("s3", "copy failed", "req=%s error=\"%s\"", q->http->request_id,
                     bb_strerror(j->rc));
        s3_reply_key_error(q, S3E_INTERNAL_ERROR, NULL);
        goto out;
    }
    close(j->tmp_fd);
    j->tmp_fd = -1;
    bb_hash_final(j->md5, digest);
    bb_hex(digest, BB_MD5_LEN, etag);
    bb_checksum_final_b64(&j->ck, checksum);

    clock_gettime(CLOCK_REALTIME, &ts);
    memset(&o, 0, sizeof(o));
    o.key = q->key;
    o.size = j->src.size;
    o.etag = etag;
    o.content_type = j->content_type;
    o.mtime_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    o.headers = j->headers;
    o.checksum_alg = (char *)bb_checksum_alg_name(j->alg);
    o.checksum = checksum;
    o.tags = j->tags;
    s3_req_cause(q, "CopyObject", &cause);
    rc = store_object_commit(q->store, q->bucket, j->tmp_path, &o, &cause);
    if (rc < 0) {
        s3_reply_commit_error(q, rc);
        goto out;
    }
    free(j->tmp_path); /* renamed into place */
    j->tmp_path = NULL;

    iso_time(o.mtime_ms, lm);
    bb_buf_appends(
        &xml, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CopyObjectResult xmlns=\"" XMLNS "\">");
    bb_buf_appendf(&xml, "<LastModified>%s</LastModified><ETag>&quot;%s&quot;</ETag>", lm, etag);
    bb_buf_appendf(&xml, "<Checksum%s>%s</Checksum%s><ChecksumType>FULL_OBJECT</ChecksumType>",
                   bb_checksum_alg_name(j->alg), checksum, bb_checksum_alg_name(j->alg));
    bb_buf_appends(&xml, "</CopyObjectResult>");
    s3_reply_xml(q, 200, &xml);
out:
    bb_buf_cleanup(&xml);
}

static void copy_done(void *arg, int cancelled)
{
    struct copy_job *j = arg;
    struct s3_req *q = j->q;

    if (q != NULL) {
        q->pending = NULL;
        q->pending_detach = NULL;
        if (cancelled)
            s3_reply_key_error(q, S3E_INTERNAL_ERROR, NULL); /* shutting down */
        else
            copy_commit(q, j);
    }
    copy_job_free(j);
}

void s3_copy_object(struct s3_req *q)
{
    struct s3_copy_source src;
    struct store_object o;
    enum bb_checksum_alg alg = BB_CHECKSUM_CRC64NVME;
    enum s3_error e = S3E_NONE;
    char v[128];
    char ctype[512];
    const char *why = NULL;
    char *headers = NULL;
    char *tags = NULL;
    char *tmp_path = NULL;
    char *path;
    int tmp_fd = -1;
    int replace = 0;
    int rc;

    memset(&src, 0, sizeof(src));
    src.fd = -1;
    memset(&o, 0, sizeof(o));
    path = store_object_path(q->store, q->bucket, q->key, &why, &rc);
    if (path == NULL) {
        s3_reply_key_error(q, rc == BB_ETOOBIG ? S3E_KEY_TOO_LONG : S3E_INVALID_ARGUMENT, why);
        goto out;
    }
    free(path);
    if (s3_req_header(q, "x-amz-metadata-directive", v, sizeof(v)) != NULL) {
        if (strcmp(v, "REPLACE") == 0) {
            replace = 1;
        } else if (strcmp(v, "COPY") != 0) {
            struct s3_error_field f[] = {{"ArgumentName", "x-amz-metadata-directive"},
                                         {"ArgumentValue", v}};
            s3_reply_error(q, S3E_INVALID_ARGUMENT, "Unknown metadata directive.", f, 2);
            goto out;
        }
    }
    if (s3_req_header(q, "x-amz-checksum-algorithm", v, sizeof(v)) != NULL) {
        alg = bb_checksum_alg_from_name(v);
        if (alg == BB_CHECKSUM_NONE) {
            s3_reply_error(q, S3E_INVALID_REQUEST,
                           "Checksum algorithm provided is unsupported. Please try again with any "
                           "of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]",
                           NULL, 0);
            goto out;
        }
    }
    if (s3_copy_source_open(q, &src) < 0)
        goto out;
    if (strcmp(src.bucket, q->bucket) == 0 && strcmp(src.key, q->key) == 0 && !replace &&
        !changes_something_else(q)) {
        s3_reply_error(q, S3E_INVALID_REQUEST,
                       "This copy request is illegal because it is trying to copy an object to "
                       "itself without changing the object's metadata, storage class, website "
                       "redirect location or encryption attributes.",
                       NULL, 0);
        goto out;
    }
    if (src.size > COPY_MAX_SOURCE) {
        s3_reply_error(q, S3E_INVALID_REQUEST,
                       "The specified copy source is larger than the maximum allowable size for a "
                       "copy source: 5368709120",
                       NULL, 0);
        goto out;
    }
    /* keep the source's algorithm unless the request names one */
    if (s3_req_header(q, "x-amz-checksum-algorithm", v, sizeof(v)) == NULL &&
        src.o.checksum_alg != NULL &&
        bb_checksum_alg_from_name(src.o.checksum_alg) != BB_CHECKSUM_NONE)
        alg = bb_checksum_alg_from_name(src.o.checksum_alg);
    if (replace) {
        headers = s3_object_collect_headers(q, &e);
        if (headers == NULL) {
            s3_reply_key_error(q, e, NULL);
            goto out;
        }
        o.content_type = (char *)(s3_req_header(q, "content-type", ctype, sizeof(ctype))
                                      ? ctype
                                      : "binary/octet-stream");
    } else {
        headers = bb_xstrdup(src.o.headers ? src.o.headers : "[]");
        o.content_type = src.o.content_type ? src.o.content_type : "binary/octet-stream";
    }
    /* x-amz-tagging-directive: COPY (the default) keeps the source's tags */
    if (s3_req_header(q, "x-amz-tagging-directive", v, sizeof(v)) != NULL &&
        strcmp(v, "REPLACE") == 0) {
        tags = s3_tagging_from_header(q, &e, &why);
        if (e != S3E_NONE) {
            s3_reply_key_error(q, e, why);
            goto out;
        }
    } else if (src.o.tags != NULL) {
        tags = bb_xstrdup(src.o.tags);
    }

    rc = store_tmp_create(q->store, &tmp_fd, &tmp_path);
    if (rc < 0) {
        BB_LOG_ERROR("s3", "cannot create temporary file", "error=\"%s\"", bb_strerror(rc));
        s3_reply_key_error(q, S3E_INTERNAL_ERROR, NULL);
        goto out;
    }
    /* the bytes are copied and hashed on the worker thread; the commit and
     * the answer come back to the loop (copy_done) */
    struct copy_job *j = bb_xcalloc(1, sizeof(*j));
    j->q = q;
    j->src = src;
    memset(&src, 0, sizeof(src)); /* the job's now */
    src.fd = -1;
    j->tmp_fd = tmp_fd;
    j->tmp_path = tmp_path;
    tmp_fd = -1;
    tmp_path = NULL;
    j->alg = alg;
    j->headers = headers;
    headers = NULL;
    j->tags = tags;
    tags = NULL;
    j->content_type = bb_xstrdup(o.content_type);
    j->durable = q->srv->cfg->durability_full;
    j->md5 = bb_hash_new(BB_HASH_MD5);
    bb_checksum_init(&j->ck, alg);
    if (q->srv->worker == NULL) {
        copy_run(j);
        copy_commit(q, j);
        copy_job_free(j);
        goto out;
    }
    q->pending = j;
    q->pending_detach = copy_detach;
    http_req_hold(q->http);
    worker_submit(q->srv->worker, copy_run, copy_done, j);
out:
    if (tmp_fd >= 0)
        close(tmp_fd);
    if (tmp_path != NULL) {
        unlink(tmp_path);
        free(tmp_path);
    }
    free(headers);
    free(tags);
    s3_copy_source_cleanup(&src);
}
