/* SPDX-License-Identifier: MIT */
/*
 * s3_multipart: CreateMultipartUpload, UploadPart, UploadPartCopy,
 * CompleteMultipartUpload, AbortMultipartUpload, ListParts,
 * ListMultipartUploads, and the part layout behind GetObject ?partNumber=.
 * The on-disk layout is described in s3_multipart.h. Nothing is committed to
 * the index (and so no event is emitted) before CompleteMultipartUpload,
 * which streams the parts into one temporary file and commits it like a
 * PutObject: the object appears atomically, with one event.
 */
#include "s3_multipart.h"
#include "bb_buf.h"
#include "bb_checksum.h"
#include "bb_err.h"
#include "bb_io.h"
#include "bb_hash.h"
#include "bb_log.h"
#include "bb_mem.h"
#include "config.h"
#include "http_conn.h"
#include "s3_copy.h"
#include "s3_handler.h"
#include "s3_sigv4.h"
#include "s3_xml.h"
#include "server.h"
#include "store.h"
#include "worker.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define XMLNS "http://s3.amazonaws.com/doc/2006-03-01/"
#define OWNER_ID "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a"
#define OWNER_NAME "bucketbridge"
#define UPLOAD_ID_LEN 32
#define JSON_FILE_MAX (256 * 1024)         /* meta.json holds <= 2 KiB metadata + a key */
#define LAYOUT_FILE_MAX (256 * 1024)       /* 10000 sizes */
#define COMPLETE_XML_MAX (8 * 1024 * 1024) /* 10000 parts with checksums fit */
#define LIST_MAX 1000
#define MAX_PART_SIZE (5ull * 1024 * 1024 * 1024)

struct upload_meta {
    char *bucket;
    char *key;
    char *content_type;
    char *headers; /* JSON array of [name, value], as s3_object keeps them */
    int64_t initiated_ms;
    enum bb_checksum_alg alg;
    int full_object; /* checksum type FULL_OBJECT; COMPOSITE otherwise (when alg is set) */
    char *tags;      /* x-amz-tagging at create, as stored JSON; NULL: none */
    int has_base;    /* the key's state at create was recorded (s3_cond) */
    char *base_etag; /* its ETag then; NULL: there was no object */
};

struct part_info {
    int number;
    char etag[2 * BB_MD5_LEN + 1];
    uint64_t size;
    int64_t mtime_ms;
    enum bb_checksum_alg alg;
    char checksum[BB_CHECKSUM_MAX_B64];
};

/* ---- small helpers ------------------------------------------------------ */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void iso_time(int64_t ms, char out[32])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 32 - n, ".%03dZ", (int)(ms % 1000));
}

static void xml_elem(struct bb_buf *b, const char *name, const char *value)
{
    bb_buf_appendf(b, "<%s>", name);
    bb_buf_append_xml(b, value, strlen(value));
    bb_buf_appendf(b, "</%s>", name);
}

/* With encoding-type=url, names are UriEncoded ('/' kept), as S3 does. */
static void xml_key(struct bb_buf *b, const char *name, const char *value, int url)
{
    struct bb_buf e;

    if (!url) {
        xml_elem(b, name, value);
        return;
    }
    bb_buf_init(&e, 16 * 1024);
    s3_sigv4_uri_encode(&e, value, strlen(value), true);
    xml_elem(b, name, e.data ? e.data : "");
    bb_buf_cleanup(&e);
}

static void xml_checksum(struct bb_buf *b, enum bb_checksum_alg alg, const char *value)
{
    bb_buf_appendf(b, "<Checksum%s>", bb_checksum_alg_name(alg));
    bb_buf_append_xml(b, value, strlen(value));
    bb_buf_appendf(b, "</Checksum%s>", bb_checksum_alg_name(alg));
}

static void no_such_upload(struct s3_req *q)
{
    const char *id = s3_req_query(q, "uploadId");
    struct s3_error_field f = {"UploadId", id ? id : ""};
    s3_reply_error(q, S3E_NO_SUCH_UPLOAD, NULL, &f, 1);
}

static void internal_error(struct s3_req *q, const char *what, int rc)
{
    BB_LOG_ERROR("s3", "multipart failure", "req=%s what=\"%s\" error=\"%s\"", q->http->request_id,
                 what, bb_strerror(rc));
    s3_reply_error(q, S3E_INTERNAL_ERROR, NULL, NULL, 0);
}

/* Digits only, 1..10000; -1 otherwise. */
static int parse_part_number(const char *s)
{
    int v = 0;
    size_t n = s ? strlen(s) : 0;

    if (n == 0 || n > 5)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v >= 1 && v <= S3_MULTIPART_MAX_PARTS ? v : -1;
}

/* The ?partNumber= of the request; answers InvalidArgument when bad. */
static int part_number_arg(struct s3_req *q)
{
    const char *s = s3_req_query(q, "partNumber");
    int n = parse_part_number(s);
    if (n < 0) {
        struct s3_error_field f[] = {{"ArgumentName", "partNumber"}, {"ArgumentValue", s ? s : ""}};
        s3_reply_error(q, S3E_INVALID_ARGUMENT,
                       "Part number must be an integer between 1 and 10000, inclusive", f, 2);
    }
    return n;
}

/* A non-negative integer query parameter (default @def, capped at @cap);
 * answers InvalidArgument and returns -1 when malformed. */
static long int_arg(struct s3_req *q, const char *name, long def, long cap)
{
    const char *s = s3_req_query(q, name);
    char *end = NULL;
    long v;

    if (s == NULL)
        return def;
    v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < 0 || v > 2147483647L) {
        struct s3_error_field f[] = {{"ArgumentName", name}, {"ArgumentValue", s}};
        s3_reply_error(q, S3E_INVALID_ARGUMENT,
                       "Provided value is not an integer or within "
                       "integer range",
                       f, 2);
        return -1;
    }
    return v > cap ? cap : v;
}

static int valid_upload_id(const char *id)
{
    if (id == NULL || strlen(id) != UPLOAD_ID_LEN)
        return 0;
    for (const char *p = id; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return 0;
    return 1;
}

static char *uploads_root(struct s3_req *q)
{
    return bb_xasprintf("%s/.bucketbridge/uploads", store_data_dir(q->store));
}

/* <root>/<id>, or <root>/<id>/<name> when @name is given. */
static char *upload_path(struct s3_req *q, const char *id, const char *name)
{
    if (name == NULL)
        return bb_xasprintf("%s/.bucketbridge/uploads/%s", store_data_dir(q->store), id);
    return bb_xasprintf("%s/.bucketbridge/uploads/%s/%s", store_data_dir(q->store), id, name);
}

static char *part_path(struct s3_req *q, const char *id, int number, int sidecar)
{
    char name[32];
    snprintf(name, sizeof(name), "part-%05d%s", number, sidecar ? ".json" : "");
    return upload_path(q, id, name);
}

static int hex_decode(const char *hex, unsigned char *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned v = 0;
        for (int k = 0; k < 2; k++) {
            char c = hex[2 * i + (size_t)k];
            v <<= 4;
            if (c >= '0' && c <= '9')
                v |= (unsigned)(c - '0');
            else if (c >= 'a' && c <= 'f')
                v |= (unsigned)(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F')
                v |= (unsigned)(c - 'A' + 10);
            else
                return BB_EINVAL;
        }
        out[i] = (unsigned char)v;
    }
    return hex[2 * n] == '\0' ? BB_OK : BB_EINVAL;
}

/* Writes @doc to @path through a temporary file and a rename, so a reader
 * sees the old or the new file, never half of one. */
static int write_json(struct s3_req *q, const char *path, const cJSON *doc)
{
    char *text = cJSON_PrintUnformatted(doc);
    char *tmp = NULL;
    int fd = -1;
    int rc;

    if (text == NULL)
        return BB_EINVAL;
    rc = store_tmp_create(q->store, &fd, &tmp);
    if (rc < 0)
        goto out;
    rc = bb_write_all(fd, text, strlen(text));
    if (rc == BB_OK && q->srv->cfg->durability_full && fsync(fd) < 0)
        rc = -errno;
    if (close(fd) < 0 && rc == BB_OK)
        rc = -errno;
    fd = -1;
    if (rc == BB_OK && rename(tmp, path) < 0)
        rc = -errno;
out:
    if (tmp != NULL && rc < 0)
        unlink(tmp);
    free(tmp);
    cJSON_free(text);
    return rc;
}

/* Reads and parses a JSON file of at most @cap bytes. BB_ENOTFOUND when it
 * is absent, BB_ECORRUPT when it does not parse. */
static int read_json(const char *path, size_t cap, cJSON **out)
{
    struct stat sb;
    char *buf = NULL;
    size_t got = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int rc = BB_OK;

    *out = NULL;
    if (fd < 0)
        return errno == ENOENT || errno == ENOTDIR ? BB_ENOTFOUND : -errno;
    if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) || (uint64_t)sb.st_size > cap) {
        rc = BB_ECORRUPT;
        goto out;
    }
    buf = bb_xmalloc((size_t)sb.st_size + 1);
    while (got < (size_t)sb.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)sb.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = n < 0 ? -errno : BB_ECORRUPT;
            goto out;
        }
        got += (size_t)n;
    }
    *out = cJSON_ParseWithLength(buf, got);
    if (*out == NULL)
        rc = BB_ECORRUPT;
out:
    free(buf);
    close(fd);
    return rc;
}

static const char *json_str(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A non-negative integer member (sizes, times); 0 when absent or bad, so a
 * damaged file never turns into an out-of-range conversion. */
static uint64_t json_u64(const cJSON *v)
{
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0) || v->valuedouble > 9.0e15)
        return 0;
    return (uint64_t)v->valuedouble;
}

static uint64_t json_num(const cJSON *o, const char *name)
{
    return json_u64(cJSON_GetObjectItemCaseSensitive(o, name));
}

/* Removes an upload directory and what it holds (flat: no subdirectories). */
static void remove_upload(struct s3_req *q, const char *id)
{
    char *dir = upload_path(q, id, NULL);
    DIR *d = opendir(dir);
    struct dirent *e;

    if (d != NULL) {
        while ((e = readdir(d)) != NULL)
            if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
                unlinkat(dirfd(d), e->d_name, 0);
        closedir(d);
    }
    if (rmdir(dir) < 0 && errno != ENOENT)
        BB_LOG_WARN("s3", "cannot remove upload dir", "path=\"%s\" error=\"%s\"", dir,
                    strerror(errno));
    free(dir);
}

/* ---- upload metadata ---------------------------------------------------- */

static void meta_cleanup(struct upload_meta *m)
{
    free(m->bucket);
    free(m->key);
    free(m->content_type);
    free(m->headers);
    free(m->tags);
    free(m->base_etag);
    memset(m, 0, sizeof(*m));
}

/* Loads meta.json of @id. BB_ENOTFOUND for an unknown or malformed id. */
static int meta_load(struct s3_req *q, const char *id, struct upload_meta *m)
{
    cJSON *doc = NULL;
    char *path;
    const char *s;
    int rc;

    memset(m, 0, sizeof(*m));
    if (!valid_upload_id(id))
        return BB_ENOTFOUND;
    path = upload_path(q, id, "meta.json");
    rc = read_json(path, JSON_FILE_MAX, &doc);
    free(path);
    if (rc < 0)
        return rc;
    if (json_str(doc, "bucket") == NULL || json_str(doc, "key") == NULL) {
        rc = BB_ECORRUPT;
        goto out;
    }
    m->bucket = bb_xstrdup(json_str(doc, "bucket"));
    m->key = bb_xstrdup(json_str(doc, "key"));
    s = json_str(doc, "content_type");
    m->content_type = bb_xstrdup(s ? s : "binary/octet-stream");
    s = json_str(doc, "headers");
    m->headers = bb_xstrdup(s ? s : "[]");
    m->initiated_ms = (int64_t)json_num(doc, "initiated_ms");
    s = json_str(doc, "checksum_alg");
    m->alg = s ? bb_checksum_alg_from_name(s) : BB_CHECKSUM_NONE;
    s = json_str(doc, "checksum_type");
    m->full_object = s != NULL && strcmp(s, "FULL_OBJECT") == 0;
    s = json_str(doc, "tags");
    m->tags = s ? bb_xstrdup(s) : NULL;
    if (cJSON_GetObjectItemCaseSensitive(doc, "base_etag") != NULL) {
        m->has_base = 1;
        s = json_str(doc, "base_etag");
        m->base_etag = s ? bb_xstrdup(s) : NULL;
    }
out:
    cJSON_Delete(doc);
    if (rc < 0)
        meta_cleanup(m);
    return rc;
}

/* Loads the upload named by ?uploadId= and checks it belongs to this
 * bucket and key; answers NoSuchUpload (or InternalError) otherwise. */
static int open_upload(struct s3_req *q, struct upload_meta *m)
{
    int rc = meta_load(q, s3_req_query(q, "uploadId"), m);

    if (rc == BB_OK && (strcmp(m->bucket, q->bucket) != 0 || strcmp(m->key, q->key) != 0)) {
        meta_cleanup(m);
        rc = BB_ENOTFOUND;
    }
    if (rc == BB_ENOTFOUND || rc == BB_ECORRUPT)
        no_such_upload(q);
    else if (rc < 0)
        internal_error(q, "read upload meta", rc);
    return rc;
}

static const char *checksum_type_name(const struct upload_meta *m)
{
    return m->full_object ? "FULL_OBJECT" : "COMPOSITE";
}

/* ---- part sidecars ------------------------------------------------------ */

static int part_load(struct s3_req *q, const char *id, int number, struct part_info *p)
{
    cJSON *doc = NULL;
    char *path = part_path(q, id, number, 1);
    const char *s;
    int rc = read_json(path, JSON_FILE_MAX, &doc);

    free(path);
    memset(p, 0, sizeof(*p));
    if (rc < 0)
        return rc;
    s = json_str(doc, "etag");
    if (s == NULL || strlen(s) != 2 * BB_MD5_LEN) {
        rc = BB_ECORRUPT;
        goto out;
    }
    p->number = number;
    memcpy(p->etag, s, sizeof(p->etag));
    p->size = json_num(doc, "size");
    p->mtime_ms = (int64_t)json_num(doc, "mtime_ms");
    s = json_str(doc, "checksum_alg");
    p->alg = s ? bb_checksum_alg_from_name(s) : BB_CHECKSUM_NONE;
    s = json_str(doc, "checksum");
    if (p->alg != BB_CHECKSUM_NONE && s != NULL)
        snprintf(p->checksum, sizeof(p->checksum), "%s", s);
    else
        p->alg = BB_CHECKSUM_NONE;
out:
    cJSON_Delete(doc);
    return rc;
}

static int part_save(struct s3_req *q, const char *id, const struct part_info *p)
{
    cJSON *doc = cJSON_CreateObject();
    char *path = part_path(q, id, p->number, 1);
    int rc;

    cJSON_AddStringToObject(doc, "etag", p->etag);
    cJSON_AddNumberToObject(doc, "size", (double)p->size);
    cJSON_AddNumberToObject(doc, "mtime_ms", (double)p->mtime_ms);
    if (p->alg != BB_CHECKSUM_NONE) {
        cJSON_AddStringToObject(doc, "checksum_alg", bb_checksum_alg_name(p->alg));
        cJSON_AddStringToObject(doc, "checksum", p->checksum);
    }
    rc = write_json(q, path, doc);
    cJSON_Delete(doc);
    free(path);
    return rc;
}

/*
 * Moves a finished part file into the upload and writes its sidecar; a part
 * of the same number is replaced. Answers the request on failure (the
 * temporary file stays with the caller then).
 */
static int part_store(struct s3_req *q, const char *id, const char *tmp_path,
                      const struct part_info *p)
{
    char *path = part_path(q, id, p->number, 0);
    int rc = BB_OK;

    if (rename(tmp_path, path) < 0) {
        rc = -errno;
        if (errno == ENOENT || errno == ENOTDIR)
            no_such_upload(q); /* aborted or completed while the body streamed */
        else
            internal_error(q, "store part", rc);
        goto out;
    }
    rc = part_save(q, id, p);
    if (rc < 0) {
        unlink(path);
        internal_error(q, "write part sidecar", rc);
    }
out:
    free(path);
    return rc;
}

/* ---- CreateMultipartUpload ---------------------------------------------- */

static void new_upload_id(char out[UPLOAD_ID_LEN + 1])
{
    unsigned char rnd[10];
    char hex[2 * sizeof(rnd) + 1];

    bb_random_bytes(rnd, sizeof(rnd));
    bb_hex(rnd, sizeof(rnd), hex);
    snprintf(out, UPLOAD_ID_LEN + 1, "%012llx%s", (unsigned long long)now_ms() & 0xffffffffffffull,
             hex);
}

void s3_multipart_create(struct s3_req *q)
{
    struct bb_buf xml;
    cJSON *doc = NULL;
    enum bb_checksum_alg alg = BB_CHECKSUM_NONE;
    enum s3_error e = S3E_NONE;
    const char *why = NULL;
    const char *type = NULL;
    char id[UPLOAD_ID_LEN + 1];
    char v[128];
    char ctype[512];
    char *headers = NULL;
    char *tags = NULL;
    char *root = NULL;
    char *dir = NULL;
    char *path;
    struct store_object cur;
    int rc;

    memset(&cur, 0, sizeof(cur));
    bb_buf_init(&xml, 64 * 1024);
    path = store_object_path(q->store, q->bucket, q->key, &why, &rc);
    if (path == NULL) {
        s3_reply_key_error(q, rc == BB_ETOOBIG ? S3E_KEY_TOO_LONG : S3E_INVALID_ARGUMENT, why);
        goto out;
    }
    free(path);
    if (s3_req_header(q, "x-amz-checksum-algorithm", v, sizeof(v)) != NULL) {
        alg = bb_checksum_alg_from_name(v);
        if (alg == BB_CHECKSUM_NONE) {
            s3_reply_error(q, S3E_INVALID_REQUEST,
                           "Checksum algorithm provided is unsupported. Please try again with any "
                           "of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]",
                           NULL, 0);
            goto out;
        }
        /* CRC64NVME is full-object only; the others default to composite */
        type = alg == BB_CHECKSUM_CRC64NVME ? "FULL_OBJECT" : "COMPOSITE";
    }
    if (s3_req_header(q, "x-amz-checksum-type", v, sizeof(v)) != NULL) {
        if (strcmp(v, "FULL_OBJECT") != 0 && strcmp(v, "COMPOSITE") != 0) {
            s3_reply_error(q, S3E_INVALID_REQUEST,
                           "Value for x-amz-checksum-type header is invalid.", NULL, 0);
            goto out;
        }
        if (alg == BB_CHECKSUM_NONE) {
            s3_reply_error(q, S3E_INVALID_REQUEST,
                           "The x-amz-checksum-type header can only be used with the "
                           "x-amz-checksum-algorithm header.",
                           NULL, 0);
            goto out;
        }
        if ((strcmp(v, "COMPOSITE") == 0 && alg == BB_CHECKSUM_CRC64NVME) ||
            (strcmp(v, "FULL_OBJECT") == 0 &&
             (alg == BB_CHECKSUM_SHA1 || alg == BB_CHECKSUM_SHA256))) {
            char msg[256];
            snprintf(msg, sizeof(msg),
                     "The %s checksum type cannot be used with the %s "
                     "checksum algorithm.",
                     v, bb_checksum_alg_name(alg));
            s3_reply_error(q, S3E_INVALID_REQUEST, msg, NULL, 0);
            goto out;
        }
        type = strcmp(v, "FULL_OBJECT") == 0 ? "FULL_OBJECT" : "COMPOSITE";
    }
    headers = s3_object_collect_headers(q, &e);
    if (headers == NULL) {
        s3_reply_key_error(q, e, NULL);
        goto out;
    }
    tags = s3_tagging_from_header(q, &e, &why);
    if (e != S3E_NONE) {
        s3_reply_key_error(q, e, why);
        goto out;
    }

    root = uploads_root(q);
    if (mkdir(root, 0755) < 0 && errno != EEXIST) {
        internal_error(q, "create uploads dir", -errno);
        goto out;
    }
    for (int tries = 0;; tries++) {
        new_upload_id(id);
        dir = upload_path(q, id, NULL);
        if (mkdir(dir, 0755) == 0)
            break;
        rc = -errno;
        free(dir);
        dir = NULL;
        if (rc != -EEXIST || tries == 3) {
            internal_error(q, "create upload dir", rc);
            goto out;
        }
    }
    doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "bucket", q->bucket);
    cJSON_AddStringToObject(doc, "key", q->key);
    cJSON_AddNumberToObject(doc, "initiated_ms", (double)now_ms());
    cJSON_AddStringToObject(
        doc, "content_type",
        s3_req_header(q, "content-type", ctype, sizeof(ctype)) ? ctype : "binary/octet-stream");
    cJSON_AddStringToObject(doc, "headers", headers);
    if (alg != BB_CHECKSUM_NONE) {
        cJSON_AddStringToObject(doc, "checksum_alg", bb_checksum_alg_name(alg));
        cJSON_AddStringToObject(doc, "checksum_type", type);
    }
    if (tags != NULL)
        cJSON_AddStringToObject(doc, "tags", tags);
    /* the key's state now: a conditional Complete that finds it changed
     * meanwhile answers ConditionalRequestConflict (s3_cond.h) */
    if (store_index_get(store_get_index(q->store), q->bucket, q->key, &cur) == BB_OK)
        cJSON_AddStringToObject(doc, "base_etag", cur.etag);
    else
        cJSON_AddNullToObject(doc, "base_etag");
    path = upload_path(q, id, "meta.json");
    rc = write_json(q, path, doc);
    free(path);
    if (rc < 0) {
        rmdir(dir);
        internal_error(q, "write upload meta", rc);
        goto out;
    }
    BB_LOG_DEBUG("s3", "multipart upload created", "req=%s upload=%s", q->http->request_id, id);
    if (alg != BB_CHECKSUM_NONE) {
        http_resp_header(q->http, "x-amz-checksum-algorithm", "%s", bb_checksum_alg_name(alg));
        http_resp_header(q->http, "x-amz-checksum-type", "%s", type);
    }
    bb_buf_appends(&xml, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                         "<InitiateMultipartUploadResult xmlns=\"" XMLNS "\">");
    xml_elem(&xml, "Bucket", q->bucket);
    xml_elem(&xml, "Key", q->key);
    xml_elem(&xml, "UploadId", id);
    bb_buf_appends(&xml, "</InitiateMultipartUploadResult>");
    s3_reply_xml(q, 200, &xml);
out:
    cJSON_Delete(doc);
    store_object_cleanup(&cur);
    free(headers);
    free(tags);
    free(root);
    free(dir);
    bb_buf_cleanup(&xml);
}

/* ---- UploadPart ----------------------------------------------------------- */

static void part_finish(struct s3_req *q)
{
    struct s3_body *b = &q->body;
    struct upload_meta m;
    struct part_info p;
    enum s3_error e = s3_body_finish(q);
    const char *id = s3_req_query(q, "uploadId");

    if (e != S3E_NONE) {
        s3_reply_key_error(q, e, b->err_msg);
        return;
    }
    if (open_upload(q, &m) < 0)
        return;
    if (q->srv->cfg->durability_full && fsync(b->fd) < 0) {
        internal_error(q, "fsync part", -errno);
        goto out;
    }
    close(b->fd);
    b->fd = -1;
    memset(&p, 0, sizeof(p));
    p.number = parse_part_number(s3_req_query(q, "partNumber"));
    memcpy(p.etag, b->etag, sizeof(p.etag));
    p.size = b->size;
    p.mtime_ms = now_ms();
    p.alg = b->ck_alg;
    if (p.alg != BB_CHECKSUM_NONE)
        memcpy(p.checksum, b->checksum, sizeof(p.checksum));
    if (part_store(q, id, b->tmp_path, &p) < 0)
        goto out;
    free(b->tmp_path); /* renamed into the upload */
    b->tmp_path = NULL;
    http_resp_header(q->http, "ETag", "\"%s\"", p.etag);
    if (p.alg != BB_CHECKSUM_NONE)
        http_resp_header(q->http, bb_checksum_header_name(p.alg), "%s", p.checksum);
    s3_reply_empty(q, 200);
out:
    meta_cleanup(&m);
}

static int part_body(struct http_req *r, const char *p, size_t n)
{
    struct s3_req *q = r->ctx;
    enum s3_error e = s3_body_feed(q, p, n);
    if (e != S3E_NONE)
        s3_reply_key_error(q, e, q->body.err_msg);
    return 0;
}

static void part_end(struct http_req *r)
{
    part_finish(r->ctx);
}

void s3_multipart_upload_part(struct s3_req *q)
{
    struct upload_meta m;
    enum s3_error e;

    if (part_number_arg(q) < 0)
        return;
    if (open_upload(q, &m) < 0)
        return;
    /* parts of an upload created with an algorithm carry its checksum;
     * compute it when the client sent none */
    e = s3_body_begin(q, 1, 0, m.alg);
    if (e == S3E_NONE && m.alg != BB_CHECKSUM_NONE && q->body.ck_alg != m.alg) {
        char msg[160];
        snprintf(msg, sizeof(msg),
                 "Checksum Type mismatch occurred, expected checksum Type: %s, actual checksum "
                 "Type: %s",
                 bb_checksum_alg_name(m.alg), bb_checksum_alg_name(q->body.ck_alg));
        meta_cleanup(&m);
        s3_reply_error(q, S3E_INVALID_REQUEST, msg, NULL, 0);
        return;
    }
    meta_cleanup(&m);
    if (e != S3E_NONE) {
        s3_reply_key_error(q, e, q->body.err_msg);
        return;
    }
    if (!q->http->has_body) {
        part_finish(q);
        return;
    }
    q->http->on_body = part_body;
    q->http->on_end = part_end;
}

/* ---- UploadPartCopy ----------------------------------------------------- */

/* x-amz-copy-source-range: "bytes=first-last", both given, inside the
 * source. Returns 0, or answers and returns -1. */
static int copy_range(struct s3_req *q, uint64_t size, uint64_t *first, uint64_t *last)
{
    char v[128];
    unsigned long long a, b;
    int used = 0;

    *first = 0;
    *last = size ? size - 1 : 0;
    if (s3_req_header(q, "x-amz-copy-source-range", v, sizeof(v)) == NULL)
        return 0;
    /* digits only: sscanf alone would take signs and blanks */
    if (strncmp(v, "bytes=", 6) != 0 || strspn(v + 6, "0123456789-") != strlen(v + 6) ||
        sscanf(v, "bytes=%llu-%llu%n", &a, &b, &used) != 2 || v[used] != '\0' || b < a) {
        struct s3_error_field f[] = {{"ArgumentName", "x-amz-copy-source-range"},
                                     {"ArgumentValue", v}};
        s3_reply_error(q, S3E_INVALID_ARGUMENT,
                       "The x-amz-copy-source-range value must be of the form bytes=first-last "
                       "where first and last are the zero-based offsets of the first and last "
                       "bytes to copy",
                       f, 2);
        return -1;
    }
    if (b >= size) {
        char msg[128];
        snprintf(msg, sizeof(msg), "Range specified is not valid for source object of size: %llu",
                 (unsigned long long)size);
        s3_reply_error(q, S3E_INVALID_ARGUMENT, msg, NULL, 0);
        return -1;
    }
    *first = a;
    *last = b;
    return 0;
}

void s3_multipart_upload_part_copy(struct s3_req *q)
{
    struct upload_meta m;
    struct s3_copy_source src;
    struct part_info p;
    struct bb_checksum ck;
    struct bb_hash *md5 = NULL;
    struct bb_buf xml;
    unsigned char digest[BB_MD5_LEN];
    const char *id = s3_req_query(q, "uploadId");
    char lm[32];
    char *tmp_path = NULL;
    uint64_t first, last, len;
    int tmp_fd = -1;
    int number;
    int rc;

    memset(&m, 0, sizeof(m));
    memset(&src, 0, sizeof(src));
    src.fd = -1;
    memset(&ck, 0, sizeof(ck));
    bb_buf_init(&xml, 16 * 1024);
    number = part_number_arg(q);
    if (number < 0)
        goto out;
    if (open_upload(q, &m) < 0)
        goto out;
    if (s3_copy_source_open(q, &src) < 0)
        goto out;
    if (copy_range(q, src.size, &first, &last) < 0)
        goto out;
    len = src.size == 0 ? 0 : last - first + 1;
    if (len > MAX_PART_SIZE) {
        s3_reply_error(q, S3E_INVALID_REQUEST,
                       "The specified copy source is larger than the maximum allowable size for a "
                       "copy source: 5368709120",
                       NULL, 0);
        goto out;
    }
    rc = store_tmp_create(q->store, &tmp_fd, &tmp_path);
    if (rc < 0) {
        internal_error(q, "create temporary file", rc);
        goto out;
    }
    md5 = bb_hash_new(BB_HASH_MD5);
    if (m.alg != BB_CHECKSUM_NONE)
        bb_checksum_init(&ck, m.alg);
    rc = s3_copy_stream(src.fd, first, len, tmp_fd, md5, m.alg != BB_CHECKSUM_NONE ? &ck : NULL);
    if (rc == BB_OK && q->srv->cfg->durability_full && fsync(tmp_fd) < 0)
        rc = -errno;
    if (rc < 0) {
        internal_error(q, "copy part", rc);
        goto out;
    }
    close(tmp_fd);
    tmp_fd = -1;
    memset(&p, 0, sizeof(p));
    p.number = number;
    bb_hash_final(md5, digest);
    bb_hex(digest, BB_MD5_LEN, p.etag);
    p.size = len;
    p.mtime_ms = now_ms();
    p.alg = m.alg;
    if (m.alg != BB_CHECKSUM_NONE)
        bb_checksum_final_b64(&ck, p.checksum);
    if (part_store(q, id, tmp_path, &p) < 0)
        goto out;
    free(tmp_path); /* renamed into the upload */
    tmp_path = NULL;
    iso_time(p.mtime_ms, lm);
    bb_buf_appends(&xml, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                         "<CopyPartResult xmlns=\"" XMLNS "\">");
    bb_buf_appendf(&xml, "<LastModified>%s</LastModified><ETag>&quot;%s&quot;</ETag>", lm, p.etag);
    if (p.alg != BB_CHECKSUM_NONE)
        xml_checksum(&xml, p.alg, p.checksum);
    bb_buf_appends(&xml, "</CopyPartResult>");
    s3_reply_xml(q, 200, &xml);
out:
    if (tmp_fd >= 0)
        close(tmp_fd);
    if (tmp_path != NULL) {
        unlink(tmp_path);
        free(tmp_path);
    }
    bb_hash_free(md5);
    bb_checksum_cleanup(&ck);
    bb_buf_cleanup(&xml);
    s3_copy_source_cleanup(&src);
    meta_cleanup(&m);
}

/* ---- CompleteMultipartUpload -------------------------------------------- */

/* The ETag of a <Part> without quotes, into @out. */
static void unquote_etag(const char *s, char *out, size_t n)
{
    size_t len = strlen(s);
    if (len >= 2 && s[0] == '"' && s[len - 1] == '"') {
        s++;
        len -= 2;
    }
    if (len >= n)
        len = n - 1;
    memcpy(out, s, len);
    out[len] = '\0';
}

static char *layout_path(struct s3_req *q, const char *bucket, const char *key, int dir_only)
{
    char hex[65];
    if (dir_only)
        return bb_xasprintf("%s/.bucketbridge/parts/%s", store_data_dir(q->store), bucket);
    bb_sha256_hex(key, strlen(key), hex);
    return bb_xasprintf("%s/.bucketbridge/parts/%s/%s.json", store_data_dir(q->store), bucket, hex);
}

/* Records the part sizes of a completed object for GetObject ?partNumber=.
 * Best effort: without it, part requests on this object fail. */
static void layout_save(struct s3_req *q, const char *etag, const struct part_info *parts, size_t n)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON *sizes = cJSON_AddArrayToObject(doc, "sizes");
    char *top = bb_xasprintf("%s/.bucketbridge/parts", store_data_dir(q->store));
    char *dir = layout_path(q, q->bucket, q->key, 1);
    char *path = layout_path(q, q->bucket, q->key, 0);
    int rc = BB_OK;

    cJSON_AddStringToObject(doc, "key", q->key);
    cJSON_AddStringToObject(doc, "etag", etag);
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(sizes, cJSON_CreateNumber((double)parts[i].size));
    if ((mkdir(top, 0755) < 0 && errno != EEXIST) || (mkdir(dir, 0755) < 0 && errno != EEXIST))
        rc = -errno;
    if (rc == BB_OK)
        rc = write_json(q, path, doc);
    if (rc < 0)
        BB_LOG_WARN("s3", "cannot record part layout", "req=%s error=\"%s\"", q->http->request_id,
                    bb_strerror(rc));
    cJSON_Delete(doc);
    free(top);
    free(dir);
    free(path);
}

/* Checks the listed parts against the upload; fills @parts. Answers and
 * returns -1 on the first problem. */
static int complete_check(struct s3_req *q, const struct upload_meta *m,
                          const struct s3_xml_complete *c, struct part_info *parts)
{
    const char *id = s3_req_query(q, "uploadId");
    char num[16];

    for (size_t i = 0; i < c->nparts; i++) {
        long n = c->parts[i].number;
        if (n < 1 || n > S3_MULTIPART_MAX_PARTS) {
            snprintf(num, sizeof(num), "%ld", n);
            struct s3_error_field f[] = {{"ArgumentName", "PartNumber"}, {"ArgumentValue", num}};
            s3_reply_error(q, S3E_INVALID_ARGUMENT,
                           "Part number must be an integer between 1 and 10000, inclusive", f, 2);
            return -1;
        }
        if (i > 0 && n <= c->parts[i - 1].number) {
            s3_reply_error(q, S3E_INVALID_PART_ORDER, NULL, NULL, 0);
            return -1;
        }
    }
    for (size_t i = 0; i < c->nparts; i++) {
        const struct s3_xml_part *x = &c->parts[i];
        struct part_info *p = &parts[i];
        char want[2 * BB_MD5_LEN + 8];
        char path_size[32];
        struct stat sb;
        char *path;
        int rc;

        snprintf(num, sizeof(num), "%ld", x->number);
        unquote_etag(x->etag, want, sizeof(want));
        struct s3_error_field f[] = {{"UploadId", id}, {"PartNumber", num}, {"ETag", want}};
        rc = part_load(q, id, (int)x->number, p);
        if (rc == BB_OK) {
            path = part_path(q, id, (int)x->number, 0);
            if (stat(path, &sb) < 0 || (uint64_t)sb.st_size != p->size)
                rc = BB_ECORRUPT;
            free(path);
        }
        if (rc < 0 || strcasecmp(want, p->etag) != 0) {
            s3_reply_error(q, S3E_INVALID_PART, NULL, f, 3);
            return -1;
        }
        if (m->alg != BB_CHECKSUM_NONE && !m->full_object && x->checksum == NULL) {
            char msg[200];
            snprintf(msg, sizeof(msg),
                     "The upload was created using a %s checksum. The complete request must "
                     "include the checksum for each part. It was missing for part %ld in the "
                     "request.",
                     bb_checksum_alg_name(m->alg), x->number);
            s3_reply_error(q, S3E_INVALID_REQUEST, msg, NULL, 0);
            return -1;
        }
        if (x->checksum != NULL &&
            (p->alg == BB_CHECKSUM_NONE ||
             strcasecmp(x->checksum_alg, bb_checksum_alg_name(p->alg)) != 0 ||
             strcmp(x->checksum, p->checksum) != 0)) {
            s3_reply_error(q, S3E_INVALID_PART, NULL, f, 3);
            return -1;
        }
        if (i + 1 < c->nparts && p->size < S3_MULTIPART_MIN_PART) {
            char min[32];
            snprintf(path_size, sizeof(path_size), "%llu", (unsigned long long)p->size);
            snprintf(min, sizeof(min), "%llu", (unsigned long long)S3_MULTIPART_MIN_PART);
            struct s3_error_field g[] = {{"ProposedSize", path_size},
                                         {"MinSizeAllowed", min},
                                         {"PartNumber", num},
                                         {"ETag", p->etag}};
            s3_reply_error(q, S3E_ENTITY_TOO_SMALL, NULL, g, 4);
            return -1;
        }
    }
    return 0;
}

/* A completion in progress: the parts are joined on the worker thread
 * (a gigabyte takes seconds; the loop keeps serving), then the commit and
 * the answer happen back on the loop thread. */
struct complete_job {
    struct s3_req *q; /* NULL once the client has gone */
    char *id;
    struct upload_meta m;
    struct part_info *parts;
    char **paths; /* part files, in order */
    size_t n;
    enum bb_checksum_alg full_alg; /* NONE: the checksum is already known */
    struct bb_checksum ck;
    char etag[2 * BB_MD5_LEN + 16];
    char checksum[BB_CHECKSUM_MAX_B64 + 16];
    int durable;
    int tmp_fd;
    char *tmp_path;
    int rc;
};

static void job_free(struct complete_job *j)
{
    if (j->tmp_fd >= 0)
        close(j->tmp_fd);
    if (j->tmp_path != NULL) {
        unlink(j->tmp_path);
        free(j->tmp_path);
    }
    for (size_t i = 0; i < j->n; i++)
        free(j->paths[i]);
    free(j->paths);
    free(j->parts);
    free(j->id);
    bb_checksum_cleanup(&j->ck);
    meta_cleanup(&j->m);
    free(j);
}

static void job_detach(void *arg)
{
    struct complete_job *j = arg;
    j->q = NULL;
}

/* Worker thread: streams the parts into the temporary file; @ck (when a
 * full-object checksum is due) sees every byte. Touches only the job. */
static void assemble_run(void *arg)
{
    struct complete_job *j = arg;
    struct bb_checksum *ck = j->full_alg != BB_CHECKSUM_NONE ? &j->ck : NULL;

    j->rc = BB_OK;
    for (size_t i = 0; i < j->n && j->rc == BB_OK; i++) {
        int pfd = open(j->paths[i], O_RDONLY | O_CLOEXEC);
        if (pfd < 0) {
            j->rc = -errno;
            break;
        }
        j->rc = s3_copy_stream(pfd, 0, j->parts[i].size, j->tmp_fd, NULL, ck);
        close(pfd);
    }
    if (j->rc == BB_OK && j->durable && fsync(j->tmp_fd) < 0)
        j->rc = -errno;
}

/* Loop thread, parts joined: checks, commits and answers. */
static void reply_completed(struct s3_req *q, const struct complete_job *j, const char *checksum);

/* Records in the upload's directory that its object (@etag, @size) is about
 * to be renamed into place. */
static void done_mark(struct s3_req *q, const char *id, const char *etag, uint64_t size)
{
    cJSON *doc = cJSON_CreateObject();
    char *path = upload_path(q, id, "done.json");

    cJSON_AddStringToObject(doc, "etag", etag);
    cJSON_AddNumberToObject(doc, "size", (double)size);
    if (write_json(q, path, doc) < 0)
        BB_LOG_WARN("s3", "cannot mark the upload as completing", "path=\"%s\"", path);
    free(path);
    cJSON_Delete(doc);
}

/* A retried Complete of an upload whose object was already renamed into
 * place (the daemon stopped before it removed the upload): the done mark
 * and the key's object agree. Answers as the first Complete would have,
 * announces nothing a second time, removes the upload. Returns 1 when it
 * answered, 0 when the upload is to be completed as usual. */
static int complete_again(struct s3_req *q, struct complete_job *j)
{
    char *path = upload_path(q, j->id, "done.json");
    struct store_object cur;
    cJSON *doc = NULL;
    const cJSON *etag;
    uint64_t size = 0;
    int same = 0;

    memset(&cur, 0, sizeof(cur));
    for (size_t i = 0; i < j->n; i++)
        size += j->parts[i].size;
    if (read_json(path, 4096, &doc) == BB_OK &&
        cJSON_IsString(etag = cJSON_GetObjectItemCaseSensitive(doc, "etag")) &&
        strcmp(etag->valuestring, j->etag) == 0 &&
        store_index_get(store_get_index(q->store), q->bucket, q->key, &cur) == BB_OK &&
        strcmp(cur.etag, j->etag) == 0 && cur.size == size)
        same = 1;
    if (same) {
        BB_LOG_INFO("s3", "retried complete of an upload already in place; no second event",
                    "req=%s upload=%s", q->http->request_id, j->id);
        layout_save(q, j->etag, j->parts, j->n);
        remove_upload(q, j->id);
        reply_completed(q, j, cur.checksum != NULL ? cur.checksum : "");
    }
    cJSON_Delete(doc);
    store_object_cleanup(&cur);
    free(path);
    return same;
}

static void complete_commit(struct s3_req *q, struct complete_job *j)
{
    struct upload_meta *m = &j->m;
    struct store_object o;
    struct store_cause cause;
    char v[128];
    char *meta = upload_path(q, j->id, "meta.json");
    enum s3_error e;
    int rc;

    if (access(meta, F_OK) != 0) {
        /* completed or aborted by another request meanwhile */
        no_such_upload(q);
        goto out;
    }
    if (j->rc < 0) {
        internal_error(q, "assemble parts", j->rc);
        goto out;
    }
    close(j->tmp_fd);
    j->tmp_fd = -1;
    if (j->full_alg != BB_CHECKSUM_NONE) {
        bb_checksum_final_b64(&j->ck, j->checksum);
        /* a full-object checksum sent with the request must match */
        if (m->alg != BB_CHECKSUM_NONE &&
            s3_req_header(q, bb_checksum_header_name(m->alg), v, sizeof(v)) != NULL &&
            strcmp(v, j->checksum) != 0) {
            char msg[160];
            snprintf(msg, sizeof(msg),
                     "The %s you specified did not match the calculated checksum.",
                     bb_checksum_header_name(m->alg));
            s3_reply_error(q, S3E_BAD_DIGEST, msg, NULL, 0);
            goto out;
        }
    }

    memset(&o, 0, sizeof(o));
    o.key = q->key;
    for (size_t i = 0; i < j->n; i++)
        o.size += j->parts[i].size;
    o.etag = j->etag;
    o.content_type = m->content_type;
    o.mtime_ms = now_ms();
    o.headers = m->headers;
    o.checksum_alg =
        (char *)bb_checksum_alg_name(m->alg != BB_CHECKSUM_NONE ? m->alg : j->full_alg);
    o.checksum = j->checksum;
    o.tags = m->tags;
    s3_req_cause(q, "CompleteMultipartUpload", &cause);
    if (m->has_base) {
        /* a race is judged against the key as it was at CreateMultipartUpload */
        q->cond.existed = m->base_etag != NULL;
        snprintf(q->cond.etag, sizeof(q->cond.etag), "%s", m->base_etag ? m->base_etag : "");
    }
    e = s3_cond_check(q, &q->cond);
    if (e != S3E_NONE) {
        s3_reply_key_error(q, e, NULL);
        goto out;
    }
    /* if the daemon stops between the rename and the removal of the
     * upload, a retried Complete finds this and the object in place */
    done_mark(q, j->id, j->etag, o.size);
    rc = store_object_commit(q->store, q->bucket, j->tmp_path, &o, &cause);
    if (rc < 0) {
        s3_reply_commit_error(q, rc);
        goto out;
    }
    free(j->tmp_path); /* renamed into place */
    j->tmp_path = NULL;
    layout_save(q, j->etag, j->parts, j->n);
    remove_upload(q, j->id);
    BB_LOG_DEBUG("s3", "multipart upload completed", "req=%s upload=%s parts=%zu",
                 q->http->request_id, j->id, j->n);
    reply_completed(q, j, j->checksum);
out:
    free(meta);
}

/* The CompleteMultipartUploadResult of @j, with @checksum (when the upload
 * has an algorithm). */
static void reply_completed(struct s3_req *q, const struct complete_job *j, const char *checksum)
{
    const struct upload_meta *m = &j->m;
    struct bb_buf xml;
    char host[256];

    bb_buf_init(&xml, 64 * 1024);
    bb_buf_appends(&xml, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                         "<CompleteMultipartUploadResult xmlns=\"" XMLNS "\">");
    {
        struct bb_buf loc;
        bb_buf_init(&loc, 16 * 1024);
        bb_buf_appendf(&loc, "http://%s/%s/",
                       s3_req_header(q, "host", host, sizeof(host)) ? host : "localhost",
                       q->bucket);
        s3_sigv4_uri_encode(&loc, q->key, strlen(q->key), true);
        xml_elem(&xml, "Location", loc.data);
        bb_buf_cleanup(&loc);
    }
    xml_elem(&xml, "Bucket", q->bucket);
    xml_elem(&xml, "Key", q->key);
    bb_buf_appendf(&xml, "<ETag>&quot;%s&quot;</ETag>", j->etag);
    if (m->alg != BB_CHECKSUM_NONE) {
        xml_checksum(&xml, m->alg, checksum);
        xml_elem(&xml, "ChecksumType", checksum_type_name(m));
    }
    bb_buf_appends(&xml, "</CompleteMultipartUploadResult>");
    s3_reply_xml(q, 200, &xml);
    bb_buf_cleanup(&xml);
}

static void assemble_done(void *arg, int cancelled)
{
    struct complete_job *j = arg;
    struct s3_req *q = j->q;

    if (q != NULL) {
        q->pending = NULL;
        q->pending_detach = NULL;
        if (cancelled)
            internal_error(q, "assemble parts", BB_EINCOMPLETE); /* shutting down */
        else
            complete_commit(q, j);
    }
    /* else the client left: the upload stays, a retry completes it */
    job_free(j);
}

static void complete_end(struct http_req *r)
{
    struct s3_req *q = r->ctx;
    struct s3_xml_complete c;
    struct complete_job *j = bb_xcalloc(1, sizeof(*j));
    struct bb_checksum comp;
    struct bb_hash *md5 = NULL;
    enum s3_error e = s3_body_finish(q);
    const char *why = NULL;
    unsigned char digest[BB_MD5_LEN];
    int rc;

    memset(&c, 0, sizeof(c));
    memset(&comp, 0, sizeof(comp));
    j->tmp_fd = -1;
    j->id = bb_xstrdup(s3_req_query(q, "uploadId") ? s3_req_query(q, "uploadId") : "");
    if (e != S3E_NONE) {
        s3_reply_error(q, e, q->body.err_msg, NULL, 0);
        goto out;
    }
    if (s3_xml_parse_complete(q->body.mem.data, q->body.mem.len, &c, &why) < 0) {
        s3_reply_error(q, S3E_MALFORMED_XML, why, NULL, 0);
        goto out;
    }
    if (open_upload(q, &j->m) < 0)
        goto out;
    j->parts = bb_xcalloc(c.nparts, sizeof(j->parts[0]));
    if (complete_check(q, &j->m, &c, j->parts) < 0)
        goto out;
    j->paths = bb_xcalloc(c.nparts, sizeof(char *));
    j->n = c.nparts;
    for (size_t i = 0; i < c.nparts; i++)
        j->paths[i] = part_path(q, j->id, j->parts[i].number, 0);

    /* ETag: MD5 of the concatenated binary part MD5s, "-N" */
    md5 = bb_hash_new(BB_HASH_MD5);
    for (size_t i = 0; i < c.nparts; i++) {
        unsigned char raw[BB_MD5_LEN];
        hex_decode(j->parts[i].etag, raw, sizeof(raw));
        bb_hash_update(md5, raw, sizeof(raw));
    }
    bb_hash_final(md5, digest);
    bb_hex(digest, BB_MD5_LEN, j->etag);
    snprintf(j->etag + 2 * BB_MD5_LEN, sizeof(j->etag) - 2 * BB_MD5_LEN, "-%zu", c.nparts);

    /* checksum: composite over the part checksums, or over the whole object
     * (CRC64NVME when the upload named no algorithm, as S3 does) */
    if (j->m.alg != BB_CHECKSUM_NONE && !j->m.full_object) {
        char b64[BB_CHECKSUM_MAX_B64];
        bb_checksum_init(&comp, j->m.alg);
        for (size_t i = 0; i < c.nparts; i++) {
            unsigned char raw[BB_CHECKSUM_MAX_RAW + 4];
            int n = bb_base64_decode(j->parts[i].checksum, strlen(j->parts[i].checksum), raw,
                                     sizeof(raw));
            if (n < 0 || j->parts[i].alg != j->m.alg) {
                internal_error(q, "part checksum", BB_ECORRUPT);
                goto out;
            }
            bb_checksum_update(&comp, raw, (size_t)n);
        }
        bb_checksum_final_b64(&comp, b64);
        snprintf(j->checksum, sizeof(j->checksum), "%s-%zu", b64, c.nparts);
    } else {
        j->full_alg = j->m.alg != BB_CHECKSUM_NONE ? j->m.alg : BB_CHECKSUM_CRC64NVME;
        bb_checksum_init(&j->ck, j->full_alg);
    }
    if (complete_again(q, j))
        goto out;
    rc = store_tmp_create(q->store, &j->tmp_fd, &j->tmp_path);
    if (rc < 0) {
        internal_error(q, "assemble parts", rc);
        goto out;
    }
    j->durable = q->srv->cfg->durability_full;
    j->q = q;
    if (q->srv->worker == NULL) {
        assemble_run(j);
        j->q = NULL;
        complete_commit(q, j);
        goto out;
    }
    q->pending = j;
    q->pending_detach = job_detach;
    http_req_hold(q->http);
    worker_submit(q->srv->worker, assemble_run, assemble_done, j);
    j = NULL; /* the worker's now */
out:
    if (j != NULL)
        job_free(j);
    bb_hash_free(md5);
    bb_checksum_cleanup(&comp);
    s3_xml_complete_cleanup(&c);
}

static int xml_body(struct http_req *r, const char *p, size_t n)
{
    struct s3_req *q = r->ctx;
    enum s3_error e = s3_body_feed(q, p, n);
    if (e != S3E_NONE)
        s3_reply_error(q, e, q->body.err_msg, NULL, 0);
    return 0;
}

void s3_multipart_complete(struct s3_req *q)
{
    struct upload_meta m;
    enum s3_error e;
    const char *why = NULL;

    if (open_upload(q, &m) < 0)
        return;
    meta_cleanup(&m);
    e = s3_cond_begin(q, &q->cond, &why);
    if (e != S3E_NONE) {
        s3_reply_key_error(q, e, why);
        return;
    }
    if (!q->http->has_body) {
        s3_reply_error(q, S3E_MALFORMED_XML, "You must specify at least one part.", NULL, 0);
        return;
    }
    e = s3_body_begin(q, 0, COMPLETE_XML_MAX, BB_CHECKSUM_NONE);
    if (e != S3E_NONE) {
        s3_reply_error(q, e, q->body.err_msg, NULL, 0);
        return;
    }
    /* here an x-amz-checksum-* header is the object's full-object checksum
     * (checked in complete_end), not the XML body's */
    if (!q->body.ck_from_trailer)
        q->body.ck_expected[0] = '\0';
    q->http->on_body = xml_body;
    q->http->on_end = complete_end;
}

/* ---- AbortMultipartUpload ----------------------------------------------- */

void s3_multipart_abort(struct s3_req *q)
{
    struct upload_meta m;

    if (open_upload(q, &m) < 0)
        return;
    meta_cleanup(&m);
    remove_upload(q, s3_req_query(q, "uploadId"));
    BB_LOG_DEBUG("s3", "multipart upload aborted", "req=%s upload=%s", q->http->request_id,
                 s3_req_query(q, "uploadId"));
    s3_reply_empty(q, 204);
}

/* ---- ListParts ------------------------------------------------------------ */

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a;
    int y = *(const int *)b;
    return (x > y) - (x < y);
}

/* The part numbers present in the upload, sorted, into a new array. */
static int *part_numbers(struct s3_req *q, const char *id, size_t *count)
{
    char *dir = upload_path(q, id, NULL);
    DIR *d = opendir(dir);
    struct dirent *e;
    int *nums = NULL;
    size_t n = 0, cap = 0;

    free(dir);
    *count = 0;
    if (d == NULL)
        return NULL;
    while ((e = readdir(d)) != NULL) {
        char digits[6];
        int num;
        /* exactly "part-NNNNN.json" */
        if (strlen(e->d_name) != 15 || strncmp(e->d_name, "part-", 5) != 0 ||
            strcmp(e->d_name + 10, ".json") != 0)
            continue;
        memcpy(digits, e->d_name + 5, 5);
        digits[5] = '\0';
        num = parse_part_number(digits);
        if (num < 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            nums = bb_xrealloc(nums, cap * sizeof(nums[0]));
        }
        nums[n++] = num;
    }
    closedir(d);
    if (n > 0)
        qsort(nums, n, sizeof(nums[0]), cmp_int);
    *count = n;
    return nums;
}

static void owner_xml(struct bb_buf *b, const char *elem)
{
    bb_buf_appendf(b, "<%s><ID>" OWNER_ID "</ID><DisplayName>" OWNER_NAME "</DisplayName></%s>",
                   elem, elem);
}

void s3_multipart_list_parts(struct s3_req *q)
{
    struct upload_meta m;
    struct bb_buf xml;
    const char *id = s3_req_query(q, "uploadId");
    long max = int_arg(q, "max-parts", LIST_MAX, LIST_MAX);
    long marker;
    int *nums = NULL;
    size_t n = 0;
    long emitted = 0;
    int last = 0;
    int truncated = 0;

    if (max < 0)
        return;
    marker = int_arg(q, "part-number-marker", 0, 2147483647L);
    if (marker < 0)
        return;
    if (open_upload(q, &m) < 0)
        return;
    bb_buf_init(&xml, 64 * 1024 * 1024);
    nums = part_numbers(q, id, &n);
    bb_buf_appends(&xml, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                         "<ListPartsResult xmlns=\"" XMLNS "\">");
    xml_elem(&xml, "Bucket", q->bucket);
    xml_elem(&xml, "Key", q->key);
    xml_elem(&xml, "UploadId", id);
    owner_xml(&xml, "Initiator");
    owner_xml(&xml, "Owner");
    bb_buf_appends(&xml, "<StorageClass>STANDARD</StorageClass>");
    bb_buf_appendf(&xml, "<PartNumberMarker>%ld</PartNumberMarker>", marker);
    struct bb_buf items;
    bb_buf_init(&items, 64 * 1024 * 1024);
    for (size_t i = 0; i < n; i++) {
        struct part_info p;
        char t[32];
        if (nums[i] <= marker)
            continue;
        if (emitted == max) {
            truncated = 1;
            break;
        }
        if (part_load(q, id, nums[i], &p) < 0)
            continue;
        iso_time(p.mtime_ms, t);
        bb_buf_appendf(&items,
                       "<Part><PartNumber>%d</PartNumber><LastModified>%s</LastModified>"
                       "<ETag>&quot;%s&quot;</ETag><Size>%llu</Size>",
                       p.number, t, p.etag, (unsigned long long)p.size);
        if (p.alg != BB_CHECKSUM_NONE)
            xml_checksum(&items, p.alg, p.checksum);
        bb_buf_appends(&items, "</Part>");
        last = p.number;
        emitted++;
    }
    bb_buf_appendf(&xml, "<NextPartNumberMarker>%d</NextPartNumberMarker>", last);
    bb_buf_appendf(&xml, "<MaxParts>%ld</MaxParts><IsTruncated>%s</IsTruncated>", max,
                   truncated ? "true" : "false");
    bb_buf_append(&xml, items.data ? items.data : "", items.len);
    if (m.alg != BB_CHECKSUM_NONE) {
        xml_elem(&xml, "ChecksumAlgorithm", bb_checksum_alg_name(m.alg));
        xml_elem(&xml, "ChecksumType", checksum_type_name(&m));
    }
    bb_buf_appends(&xml, "</ListPartsResult>");
    s3_reply_xml(q, 200, &xml);
    bb_buf_cleanup(&items);
    bb_buf_cleanup(&xml);
    free(nums);
    meta_cleanup(&m);
}

/* ---- ListMultipartUploads ------------------------------------------------- */

struct upload_entry {
    char id[UPLOAD_ID_LEN + 1];
    struct upload_meta m;
};

static int cmp_upload(const void *a, const void *b)
{
    const struct upload_entry *x = a;
    const struct upload_entry *y = b;
    int c = strcmp(x->m.key, y->m.key);
    return c != 0 ? c : strcmp(x->id, y->id);
}

/* Every upload of @bucket whose key starts with @prefix, sorted by key then
 * id (= creation time). */
static struct upload_entry *uploads_of(struct s3_req *q, const char *prefix, size_t *count)
{
    char *root = uploads_root(q);
    DIR *d = opendir(root);
    struct dirent *e;
    struct upload_entry *v = NULL;
    size_t n = 0, cap = 0;
    size_t plen = strlen(prefix);

    free(root);
    *count = 0;
    if (d == NULL)
        return NULL;
    while ((e = readdir(d)) != NULL) {
        struct upload_meta m;
        if (meta_load(q, e->d_name, &m) < 0)
            continue;
        if (strcmp(m.bucket, q->bucket) != 0 || strncmp(m.key, prefix, plen) != 0) {
            meta_cleanup(&m);
            continue;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            v = bb_xrealloc(v, cap * sizeof(v[0]));
        }
        memcpy(v[n].id, e->d_name, UPLOAD_ID_LEN + 1); /* checked by meta_load */
        v[n].m = m;
        n++;
    }
    closedir(d);
    if (n > 0)
        qsort(v, n, sizeof(v[0]), cmp_upload);
    *count = n;
    return v;
}

void s3_multipart_list_uploads(struct s3_req *q)
{
    const char *prefix = s3_req_query(q, "prefix");
    const char *delim = s3_req_query(q, "delimiter");
    const char *kmark = s3_req_query(q, "key-marker");
    const char *umark = s3_req_query(q, "upload-id-marker");
    const char *enc = s3_req_query(q, "encoding-type");
    long max = int_arg(q, "max-uploads", LIST_MAX, LIST_MAX);
    struct upload_entry *v = NULL;
    struct bb_buf xml, items;
    char *last_cp = NULL;
    const char *next_key = NULL;
    const char *next_id = NULL;
    size_t n = 0;
    size_t plen, dlen;
    long emitted = 0;
    int truncated = 0;
    int url = enc != NULL;

    if (max < 0)
        return;
    if (enc != NULL && strcmp(enc, "url") != 0) {
        struct s3_error_field f[] = {{"ArgumentName", "encoding-type"}, {"ArgumentValue", enc}};
        s3_reply_error(q, S3E_INVALID_ARGUMENT, "Invalid Encoding Method specified in Request", f,
                       2);
        return;
    }
    prefix = prefix ? prefix : "";
    delim = delim ? delim : "";
    plen = strlen(prefix);
    dlen = strlen(delim);
    if (kmark != NULL && kmark[0] == '\0')
        kmark = NULL;
    v = uploads_of(q, prefix, &n);
    bb_buf_init(&items, 64 * 1024 * 1024);
    for (size_t i = 0; i < n; i++) {
        const struct upload_entry *u = &v[i];
        const char *rest = u->m.key + plen;
        const char *d;
        char t[32];

        if (kmark != NULL) {
            int c = strcmp(u->m.key, kmark);
            if (c < 0 || (c == 0 && (umark == NULL || strcmp(u->id, umark) <= 0)))
                continue;
            /* resuming after a common prefix skips everything under it */
            if (dlen > 0 && strncmp(u->m.key, kmark, strlen(kmark)) == 0 && strlen(kmark) >= dlen &&
                strcmp(kmark + strlen(kmark) - dlen, delim) == 0)
                continue;
        }
        d = dlen > 0 ? strstr(rest, delim) : NULL;
        if (d != NULL) {
            size_t cpl = (size_t)(d - u->m.key) + dlen;
            if (last_cp != NULL && strlen(last_cp) == cpl && strncmp(last_cp, u->m.key, cpl) == 0)
                continue;
            if (emitted == max) {
                truncated = 1;
                break;
            }
            free(last_cp);
            last_cp = bb_xstrndup(u->m.key, cpl);
            bb_buf_appends(&items, "<CommonPrefixes>");
            xml_key(&items, "Prefix", last_cp, url);
            bb_buf_appends(&items, "</CommonPrefixes>");
            next_key = last_cp;
            next_id = NULL;
            emitted++;
            continue;
        }
        if (emitted == max) {
            truncated = 1;
            break;
        }
        iso_time(u->m.initiated_ms, t);
        bb_buf_appends(&items, "<Upload>");
        xml_key(&items, "Key", u->m.key, url);
        xml_elem(&items, "UploadId", u->id);
        owner_xml(&items, "Initiator");
        owner_xml(&items, "Owner");
        bb_buf_appends(&items, "<StorageClass>STANDARD</StorageClass>");
        xml_elem(&items, "Initiated", t);
        if (u->m.alg != BB_CHECKSUM_NONE) {
            xml_elem(&items, "ChecksumAlgorithm", bb_checksum_alg_name(u->m.alg));
            xml_elem(&items, "ChecksumType", checksum_type_name(&u->m));
        }
        bb_buf_appends(&items, "</Upload>");
        next_key = u->m.key;
        next_id = u->id;
        emitted++;
    }
    bb_buf_init(&xml, 64 * 1024 * 1024);
    bb_buf_appends(&xml, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                         "<ListMultipartUploadsResult xmlns=\"" XMLNS "\">");
    xml_elem(&xml, "Bucket", q->bucket);
    xml_key(&xml, "KeyMarker", kmark ? kmark : "", url);
    xml_elem(&xml, "UploadIdMarker", umark ? umark : "");
    if (truncated) {
        xml_key(&xml, "NextKeyMarker", next_key ? next_key : "", url);
        xml_elem(&xml, "NextUploadIdMarker", next_id ? next_id : "");
    }
    xml_key(&xml, "Prefix", prefix, url);
    if (dlen > 0)
        xml_key(&xml, "Delimiter", delim, url);
    if (url)
        xml_elem(&xml, "EncodingType", "url");
    bb_buf_appendf(&xml, "<MaxUploads>%ld</MaxUploads><IsTruncated>%s</IsTruncated>", max,
                   truncated ? "true" : "false");
    bb_buf_append(&xml, items.data ? items.data : "", items.len);
    bb_buf_appends(&xml, "</ListMultipartUploadsResult>");
    s3_reply_xml(q, 200, &xml);
    bb_buf_cleanup(&xml);
    bb_buf_cleanup(&items);
    free(last_cp);
    for (size_t i = 0; i < n; i++)
        meta_cleanup(&v[i].m);
    free(v);
}

/* ---- GetObject / HeadObject ?partNumber= --------------------------------- */

/* N of an ETag "<md5>-N"; 0 for a single-part ETag. */
static int etag_parts(const char *etag)
{
    const char *dash = etag ? strchr(etag, '-') : NULL;
    return dash ? parse_part_number(dash + 1) : 0;
}

int s3_multipart_part_range(struct s3_req *q, const struct store_object *o, uint64_t size,
                            uint64_t *first, uint64_t *last)
{
    int want = part_number_arg(q);
    int nparts = etag_parts(o->etag);
    cJSON *doc = NULL;
    const cJSON *sizes;
    const cJSON *it;
    char *path;
    char v[8];
    char nbuf[16];
    char cbuf[16];
    uint64_t off = 0, total = 0, psize = 0;
    int i = 0;
    int rc;

    if (want < 0)
        return BB_EINVAL;
    if (s3_req_header(q, "range", v, sizeof(v)) != NULL) {
        s3_reply_error(q, S3E_INVALID_REQUEST,
                       "Cannot specify both Range header and partNumber query parameter", NULL, 0);
        return BB_EINVAL;
    }
    snprintf(nbuf, sizeof(nbuf), "%d", want);
    snprintf(cbuf, sizeof(cbuf), "%d", nparts > 0 ? nparts : 1);
    struct s3_error_field f[] = {{"PartNumberRequested", nbuf}, {"ActualPartCount", cbuf}};
    if (nparts <= 0) {
        if (want != 1) {
            s3_reply_error(q, S3E_INVALID_PART_NUMBER, NULL, f, 2);
            return BB_EINVAL;
        }
        if (size == 0)
            return 0;
        *first = 0;
        *last = size - 1;
        return 1;
    }
    if (want > nparts) {
        s3_reply_error(q, S3E_INVALID_PART_NUMBER, NULL, f, 2);
        return BB_EINVAL;
    }
    path = layout_path(q, q->bucket, q->key, 0);
    rc = read_json(path, LAYOUT_FILE_MAX, &doc);
    free(path);
    sizes = rc == BB_OK ? cJSON_GetObjectItemCaseSensitive(doc, "sizes") : NULL;
    if (rc == BB_OK &&
        (json_str(doc, "etag") == NULL || strcmp(json_str(doc, "etag"), o->etag) != 0 ||
         cJSON_GetArraySize(sizes) != nparts))
        rc = BB_ECORRUPT;
    if (rc < 0)
        sizes = NULL;
    cJSON_ArrayForEach(it, sizes)
    {
        uint64_t s = json_u64(it);
        i++;
        if (i < want)
            off += s;
        else if (i == want)
            psize = s;
        total += s;
    }
    cJSON_Delete(doc);
    if (rc == BB_OK && total != size)
        rc = BB_ECORRUPT;
    if (rc < 0) {
        BB_LOG_WARN("s3", "part layout unknown", "req=%s error=\"%s\"", q->http->request_id,
                    bb_strerror(rc));
        s3_reply_error(q, S3E_INTERNAL_ERROR, "The part layout of this object is not known.", NULL,
                       0);
        return rc;
    }
    if (psize == 0) {
        s3_reply_error(q, S3E_INVALID_PART_NUMBER, NULL, f, 2);
        return BB_EINVAL;
    }
    http_resp_header(q->http, "x-amz-mp-parts-count", "%d", nparts);
    *first = off;
    *last = off + psize - 1;
    return 1;
}
