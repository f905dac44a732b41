/* SPDX-License-Identifier: MIT */
/* s3_bucket: bucket operations and object listings. */
#include "bb_buf.h"
#include "bb_err.h"
#include "bb_hash.h"
#include "bb_log.h"
#include "bb_mem.h"
#include "config.h"
#include "http_conn.h"
#include "s3_handler.h"
#include "s3_sigv4.h"
#include "s3_xml.h"
#include "server.h"
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define XMLNS "http://s3.amazonaws.com/doc/2006-03-01/"
#define OWNER_ID "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a"
#define OWNER_NAME "bucketbridge"
#define LIST_MAX_KEYS 1000
#define XML_BODY_MAX (2 * 1024 * 1024)

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
    if (!url) {
        xml_elem(b, name, value);
        return;
    }
    struct bb_buf e;
    bb_buf_init(&e, 16 * 1024);
    s3_sigv4_uri_encode(&e, value, strlen(value), true);
    xml_elem(b, name, e.data ? e.data : "");
    bb_buf_cleanup(&e);
}

static int add_bucket(void *arg, const char *name, int64_t created_ms)
{
    struct bb_buf *b = arg;
    char t[32];
    iso_time(created_ms, t);
    bb_buf_appends(b, "<Bucket>");
    xml_elem(b, "Name", name);
    xml_elem(b, "CreationDate", t);
    bb_buf_appends(b, "</Bucket>");
    return 0;
}

void s3_bucket_list_buckets(struct s3_req *q)
{
    struct bb_buf b;
    bb_buf_init(&b, 64 * 1024 * 1024);
    bb_buf_appends(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListAllMyBucketsResult xmlns=\"" XMLNS
                       "\"><Owner><ID>" OWNER_ID "</ID><DisplayName>" OWNER_NAME
                       "</DisplayName></Owner><Buckets>");
    if (store_index_bucket_each(store_get_index(q->store), add_bucket, &b) < 0) {
        bb_buf_cleanup(&b);
        s3_reply_error(q, S3E_INTERNAL_ERROR, NULL, NULL, 0);
        return;
    }
    bb_buf_appends(&b, "</Buckets></ListAllMyBucketsResult>");
    s3_reply_xml(q, 200, &b);
    bb_buf_cleanup(&b);
}

static void create_now(struct s3_req *q)
{
    int rc;
    if (q->body.active) {
        char loc[64];
        const char *why = NULL;
        enum s3_error e = s3_body_finish(q);
        if (e != S3E_NONE) {
            s3_reply_error(q, e, q->body.err_msg, NULL, 0);
            return;
        }
        if (s3_xml_parse_create_bucket(q->body.mem.data, q->body.mem.len, loc, sizeof(loc),
                                       &why) < 0) {
            s3_reply_error(q, S3E_MALFORMED_XML, why, NULL, 0);
            return;
        }
    }
    rc = store_bucket_create(q->store, q->bucket);
    if (rc == BB_ECONFLICT && strcmp(q->srv->cfg->region, "us-east-1") == 0) {
        /* us-east-1 answers a repeated create by the owner with 200 (legacy
         * behaviour scripts rely on); other regions say BucketAlreadyOwnedByYou */
        http_resp_header(q->http, "Location", "/%s", q->bucket);
        s3_reply_empty(q, 200);
        return;
    }
    if (rc == BB_ECONFLICT) {
        struct s3_error_field f = {"BucketName", q->bucket};
        s3_reply_error(q, S3E_BUCKET_ALREADY_OWNED_BY_YOU, NULL, &f, 1);
        return;
    }
    if (rc < 0) {
        BB_LOG_ERROR("s3", "create bucket failed", "bucket=%s error=\"%s\"", q->bucket,
                     bb_strerror(rc));
        s3_reply_error(q, S3E_INTERNAL_ERROR, NULL, NULL, 0);
        return;
    }
    BB_LOG_INFO("s3", "bucket created", "bucket=%s", q->bucket);
    http_resp_header(q->http, "Location", "/%s", q->bucket);
    s3_reply_empty(q, 200);
}

static int body_cb(struct http_req *r, const char *p, size_t n)
{
    struct s3_req *q = r->ctx;
    enum s3_error e = s3_body_feed(q, p, n);
    if (e != S3E_NONE)
        s3_reply_error(q, e, q->body.err_msg, NULL, 0);
    return 0;
}

static void create_end(struct http_req *r)
{
    create_now(r->ctx);
}

/* Starts reading a small XML body, then runs @end. */
static int read_xml_body(struct s3_req *q, http_end_cb *end)
{
    enum s3_error e = s3_body_begin(q, 0, XML_BODY_MAX, BB_CHECKSUM_NONE);
    if (e != S3E_NONE) {
        s3_reply_error(q, e, q->body.err_msg, NULL, 0);
        return -1;
    }
    q->http->on_body = body_cb;
    q->http->on_end = end;
    return 0;
}

void s3_bucket_create(struct s3_req *q)
{
    if (!q->http->has_body) {
        create_now(q);
        return;
    }
    read_xml_body(q, create_end);
}

void s3_bucket_delete(struct s3_req *q)
{
    int rc = store_bucket_delete(q->store, q->bucket);
    struct s3_error_field f = {"BucketName", q->bucket};
    if (rc == BB_ECONFLICT) {
        s3_reply_error(q, S3E_BUCKET_NOT_EMPTY, NULL, &f, 1);
        return;
    }
    if (rc == BB_ENOTFOUND) {
        s3_reply_error(q, S3E_NO_SUCH_BUCKET, NULL, &f, 1);
        return;
    }
    if (rc < 0) {
        s3_reply_error(q, S3E_INTERNAL_ERROR, NULL, NULL, 0);
        return;
    }
    store_index_cors_put(store_get_index(q->store), q->bucket, NULL);
    BB_LOG_INFO("s3", "bucket deleted", "bucket=%s", q->bucket);
    s3_reply_empty(q, 204);
}

void s3_bucket_head(struct s3_req *q)
{
    http_resp_header(q->http, "x-amz-bucket-region", "%s", q->srv->cfg->region);
    s3_reply_empty(q, 200);
}

void s3_bucket_location(struct s3_req *q)
{
    struct bb_buf b;
    const char *region = q->srv->cfg->region;
    bb_buf_init(&b, 4096);
    bb_buf_appends(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LocationConstraint xmlns=\"" XMLNS "\">");
    /* us-east-1 is reported as an empty constraint, as S3 does */
    if (strcmp(region, "us-east-1") != 0)
        bb_buf_append_xml(&b, region, strlen(region));
    bb_buf_appends(&b, "</LocationConstraint>");
    s3_reply_xml(q, 200, &b);
    bb_buf_cleanup(&b);
}

/* Listing state shared by V1 and V2. */
struct list_ctx {
    struct bb_buf *out;
    const char *prefix;
    const char *delim;
    size_t plen, dlen;
    int url;
    int owner;
    int versions; /* ListObjectVersions: <Version> entries, version id "null" */
    long max;
    long count;
    int truncated;
    char *last; /* last key or common prefix emitted (owned) */
    char *last_cp;
};

static int list_row(void *arg, const struct store_object *o, char **reseek)
{
    struct list_ctx *l = arg;
    const char *rest = o->key + l->plen;

    if (l->dlen > 0) {
        const char *d = strstr(rest, l->delim);
        if (d != NULL) {
            size_t cpl = (size_t)(d - o->key) + l->dlen;
            if (l->count == l->max) {
                l->truncated = 1;
                return 1;
            }
            free(l->last_cp);
            l->last_cp = bb_xstrndup(o->key, cpl);
            free(l->last);
            l->last = bb_xstrdup(l->last_cp);
            bb_buf_appends(l->out, "<CommonPrefixes>");
            xml_key(l->out, "Prefix", l->last_cp, l->url);
            bb_buf_appends(l->out, "</CommonPrefixes>");
            l->count++;
            /* skip every key under this prefix: UTF-8 never holds 0xF5..0xFF */
            *reseek = bb_xasprintf("%s\xff", l->last_cp);
            return 2;
        }
    }
    if (l->count == l->max) {
        l->truncated = 1;
        return 1;
    }
    char t[32];
    iso_time(o->mtime_ms, t);
    bb_buf_appends(l->out, l->versions ? "<Version>" : "<Contents>");
    xml_key(l->out, "Key", o->key, l->url);
    if (l->versions)
        bb_buf_appends(l->out, "<VersionId>null</VersionId><IsLatest>true</IsLatest>");
    xml_elem(l->out, "LastModified", t);
    bb_buf_appendf(l->out, "<ETag>&quot;%s&quot;</ETag><Size>%llu</Size>", o->etag,
                   (unsigned long long)o->size);
    if (o->checksum_alg != NULL)
        bb_buf_appendf(l->out, "<ChecksumAlgorithm>%s</ChecksumAlgorithm>"
                               "<ChecksumType>FULL_OBJECT</ChecksumType>",
                       o->checksum_alg);
    bb_buf_appends(l->out, "<StorageClass>STANDARD</StorageClass>");
    if (l->owner)
        bb_buf_appends(l->out, "<Owner><ID>" OWNER_ID "</ID><DisplayName>" OWNER_NAME
                               "</DisplayName></Owner>");
    bb_buf_appends(l->out, l->versions ? "</Version>" : "</Contents>");
    free(l->last);
    l->last = bb_xstrdup(o->key);
    l->count++;
    return 0;
}

/* Continuation tokens are the base64 of the last key returned: opaque to
 * clients, stable across restarts. */
static char *token_encode(const char *key)
{
    size_t n = strlen(key);
    char *out = bb_xmalloc(4 * ((n + 2) / 3) + 1);
    return bb_base64((const unsigned char *)key, n, out);
}

static char *token_decode(const char *tok)
{
    size_t n = strlen(tok);
    unsigned char *raw;
    int len;
    if (n == 0 || n > 2000)
        return NULL;
    raw = bb_xmalloc(n);
    len = bb_base64_decode(tok, n, raw, n);
    if (len < 0) {
        free(raw);
        return NULL;
    }
    char *s = bb_xstrndup((const char *)raw, (size_t)len);
    free(raw);
    return s;
}

void s3_bucket_list_objects(struct s3_req *q, int v2)
{
    struct bb_buf body, items;
    struct list_ctx l;
    const char *prefix = s3_req_query(q, "prefix");
    const char *delim = s3_req_query(q, "delimiter");
    const char *max_s = s3_req_query(q, "max-keys");
    const char *enc = s3_req_query(q, "encoding-type");
    const char *marker = s3_req_query(q, v2 ? "start-after" : "marker");
    const char *token = v2 ? s3_req_query(q, "continuation-token") : NULL;
    const char *fetch_owner = s3_req_query(q, "fetch-owner");
    char *after = NULL;
    int rc;

    memset(&l, 0, sizeof(l));
    l.max = LIST_MAX_KEYS;
    if (max_s != NULL) {
        char *end = NULL;
        long v = strtol(max_s, &end, 10);
        if (*max_s == '\0' || *end != '\0' || v < 0) {
            struct s3_error_field f[] = {{"ArgumentName", "max-keys"}, {"ArgumentValue", max_s}};
            s3_reply_error(q, S3E_INVALID_ARGUMENT, "Provided max-keys not an integer or within "
                                                    "integer range",
                           f, 2);
            return;
        }
        l.max = v > LIST_MAX_KEYS ? LIST_MAX_KEYS : v;
    }
    if (enc != NULL && strcmp(enc, "url") != 0) {
        struct s3_error_field f[] = {{"ArgumentName", "encoding-type"}, {"ArgumentValue", enc}};
        s3_reply_error(q, S3E_INVALID_ARGUMENT, "Invalid Encoding Method specified in Request", f,
                       2);
        return;
    }
    if (token != NULL) {
        after = token_decode(token);
        if (after == NULL) {
            struct s3_error_field f[] = {{"ArgumentName", "continuation-token"}};
            s3_reply_error(q, S3E_INVALID_ARGUMENT, "The continuation token provided is incorrect",
                           f, 1);
            return;
        }
    } else if (marker != NULL && marker[0] != '\0') {
        after = bb_xstrdup(marker);
    }
    l.prefix = prefix ? prefix : "";
    l.plen = strlen(l.prefix);
    l.delim = delim ? delim : "";
    l.dlen = strlen(l.delim);
    l.url = enc != NULL;
    l.owner = !v2 || (fetch_owner != NULL && strcmp(fetch_owner, "true") == 0);

    /* resuming after a common prefix skips every key under it */
    if (after != NULL && l.dlen > 0 && strncmp(after, l.prefix, l.plen) == 0) {
        size_t al = strlen(after);
        if (al >= l.dlen && strcmp(after + al - l.dlen, l.delim) == 0 &&
            strstr(after + l.plen, l.delim) == after + al - l.dlen) {
            char *x = bb_xasprintf("%s\xff", after);
            free(after);
            after = x;
        }
    }

    bb_buf_init(&items, 256 * 1024 * 1024);
    l.out = &items;
    rc = l.max == 0 ? BB_OK
                    : store_index_scan(store_get_index(q->store), q->bucket, l.prefix, after,
                                       list_row, &l);
    if (rc < 0) {
        s3_reply_error(q, S3E_INTERNAL_ERROR, NULL, NULL, 0);
        goto out;
    }
    bb_buf_init(&body, 256 * 1024 * 1024);
    bb_buf_appends(&body, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult xmlns=\"" XMLNS "\">");
    xml_elem(&body, "Name", q->bucket);
    xml_key(&body, "Prefix", l.prefix, l.url);
    if (!v2)
        xml_key(&body, "Marker", marker ? marker : "", l.url);
    if (v2 && token != NULL)
        xml_elem(&body, "ContinuationToken", token);
    if (v2 && s3_req_query(q, "start-after") != NULL)
        xml_key(&body, "StartAfter", s3_req_query(q, "start-after"), l.url);
    if (l.truncated && l.last != NULL) {
        if (v2) {
            char *t = token_encode(l.last);
            xml_elem(&body, "NextContinuationToken", t);
            free(t);
        } else if (l.dlen > 0) {
            xml_key(&body, "NextMarker", l.last, l.url);
        }
    }
    if (v2)
        bb_buf_appendf(&body, "<KeyCount>%ld</KeyCount>", l.count);
    bb_buf_appendf(&body, "<MaxKeys>%ld</MaxKeys>", l.max);
    if (l.dlen > 0)
        xml_key(&body, "Delimiter", l.delim, l.url);
    if (l.url)
        xml_elem(&body, "EncodingType", "url");
    bb_buf_appendf(&body, "<IsTruncated>%s</IsTruncated>", l.truncated ? "true" : "false");
    bb_buf_append(&body, items.data ? items.data : "", items.len);
    bb_buf_appends(&body, "</ListBucketResult>");
    s3_reply_xml(q, 200, &body);
    bb_buf_cleanup(&body);
out:
    bb_buf_cleanup(&items);
    free(after);
    free(l.last);
    free(l.last_cp);
}

static void delete_objects_end(struct http_req *r)
{
    struct s3_req *q = r->ctx;
    struct s3_xml_delete d;
    struct bb_buf b;
    const char *why = NULL;
    enum s3_error e = s3_body_finish(q);

    if (e != S3E_NONE) {
        s3_reply_error(q, e, q->body.err_msg, NULL, 0);
        return;
    }
    if (s3_xml_parse_delete(q->body.mem.data, q->body.mem.len, &d, &why) < 0) {
        s3_xml_delete_cleanup(&d);
        s3_reply_error(q, S3E_MALFORMED_XML, why, NULL, 0);
        return;
    }
    bb_buf_init(&b, 64 * 1024 * 1024);
    bb_buf_appends(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<DeleteResult xmlns=\"" XMLNS "\">");
    struct store_cause cause;
    s3_req_cause(q, "DeleteObject", &cause);
    for (size_t i = 0; i < d.nkeys; i++) {
        const char *vid = d.version_ids != NULL ? d.version_ids[i] : NULL;
        int rc;
        if (vid != NULL && strcmp(vid, "null") != 0) {
            /* buckets here are never versioned: "null" is the only version */
            bb_buf_appends(&b, "<Error>");
            xml_elem(&b, "Key", d.keys[i]);
            xml_elem(&b, "VersionId", vid);
            xml_elem(&b, "Code", "NoSuchVersion");
            xml_elem(&b, "Message", "The specified version does not exist.");
            bb_buf_appends(&b, "</Error>");
            continue;
        }
        rc = store_object_delete(q->store, q->bucket, d.keys[i], &cause);
        if (rc < 0) {
            bb_buf_appends(&b, "<Error>");
            xml_elem(&b, "Key", d.keys[i]);
            xml_elem(&b, "Code", "InternalError");
            xml_elem(&b, "Message", "We encountered an internal error. Please try again.");
            bb_buf_appends(&b, "</Error>");
            continue;
        }
        if (!d.quiet) {
            bb_buf_appends(&b, "<Deleted>");
            xml_elem(&b, "Key", d.keys[i]);
            if (vid != NULL)
                xml_elem(&b, "VersionId", vid);
            bb_buf_appends(&b, "</Deleted>");
        }
    }
    bb_buf_appends(&b, "</DeleteResult>");
    s3_xml_delete_cleanup(&d);
    s3_reply_xml(q, 200, &b);
    bb_buf_cleanup(&b);
}

void s3_bucket_delete_objects(struct s3_req *q)
{
    char v[8];
    int has_digest = s3_req_header(q, "content-md5", v, sizeof(v)) != NULL;
    for (int a = BB_CHECKSUM_CRC32; a <= BB_CHECKSUM_SHA256 && !has_digest; a++)
        has_digest = s3_req_header(q, bb_checksum_header_name(a), v, sizeof(v)) != NULL;
    /* an aws-chunked body may carry the checksum in a trailer */
    if (!has_digest && s3_req_header(q, "x-amz-trailer", v, sizeof(v)) != NULL)
        has_digest = 1;
    if (!has_digest) {
        s3_reply_error(q, S3E_INVALID_REQUEST,
                       "Missing required header for this request: Content-MD5 (or an "
                       "x-amz-checksum-* header)",
                       NULL, 0);
        return;
    }
    if (!q->http->has_body) {
        s3_reply_error(q, S3E_MALFORMED_XML, NULL, NULL, 0);
        return;
    }
    read_xml_body(q, delete_objects_end);
}

/* ListObjectVersions on a bucket that was never versioned: every object is
 * its one version, "null", and the latest. */
void s3_bucket_list_versions(struct s3_req *q)
{
    struct bb_buf body, items;
    struct list_ctx l;
    const char *prefix = s3_req_query(q, "prefix");
    const char *delim = s3_req_query(q, "delimiter");
    const char *max_s = s3_req_query(q, "max-keys");
    const char *enc = s3_req_query(q, "encoding-type");
    const char *key_marker = s3_req_query(q, "key-marker");
    const char *vid_marker = s3_req_query(q, "version-id-marker");
    char *after = NULL;
    int rc;

    memset(&l, 0, sizeof(l));
    l.max = LIST_MAX_KEYS;
    l.versions = 1;
    l.owner = 1;
    if (max_s != NULL) {
        char *end = NULL;
        long v = strtol(max_s, &end, 10);
        if (*max_s == '\0' || *end != '\0' || v < 0) {
            struct s3_error_field f[] = {{"ArgumentName", "max-keys"}, {"ArgumentValue", max_s}};
            s3_reply_error(q, S3E_INVALID_ARGUMENT,
                           "Provided max-keys not an integer or within integer range", f, 2);
            return;
        }
        l.max = v > LIST_MAX_KEYS ? LIST_MAX_KEYS : v;
    }
    if (enc != NULL && strcmp(enc, "url") != 0) {
        struct s3_error_field f[] = {{"ArgumentName", "encoding-type"}, {"ArgumentValue", enc}};
        s3_reply_error(q, S3E_INVALID_ARGUMENT, "Invalid Encoding Method specified in Request", f,
                       2);
        return;
    }
    if (vid_marker != NULL && vid_marker[0] != '\0') {
        if (key_marker == NULL || key_marker[0] == '\0') {
            struct s3_error_field f[] = {{"ArgumentName", "version-id-marker"},
                                         {"ArgumentValue", vid_marker}};
            s3_reply_error(q, S3E_INVALID_ARGUMENT,
                           "A version-id marker cannot be specified without a key marker.", f, 2);
            return;
        }
        if (strcmp(vid_marker, "null") != 0) {
            struct s3_error_field f[] = {{"ArgumentName", "version-id-marker"},
                                         {"ArgumentValue", vid_marker}};
            s3_reply_error(q, S3E_INVALID_ARGUMENT, "Invalid version id specified", f, 2);
            return;
        }
    }
    /* each key has exactly one version, so "after key K (version null)"
     * and "after key K" are the same position */
    if (key_marker != NULL && key_marker[0] != '\0')
        after = bb_xstrdup(key_marker);
    l.prefix = prefix ? prefix : "";
    l.plen = strlen(l.prefix);
    l.delim = delim ? delim : "";
    l.dlen = strlen(l.delim);
    l.url = enc != NULL;
    if (after != NULL && l.dlen > 0 && strncmp(after, l.prefix, l.plen) == 0) {
        size_t al = strlen(after);
        if (al >= l.dlen && strcmp(after + al - l.dlen, l.delim) == 0 &&
            strstr(after + l.plen, l.delim) == after + al - l.dlen) {
            char *x = bb_xasprintf("%s\xff", after);
            free(after);
            after = x;
        }
    }

    bb_buf_init(&items, 256 * 1024 * 1024);
    l.out = &items;
    rc = l.max == 0 ? BB_OK
                    : store_index_scan(store_get_index(q->store), q->bucket, l.prefix, after,
                                       list_row, &l);
    if (rc < 0) {
        s3_reply_error(q, S3E_INTERNAL_ERROR, NULL, NULL, 0);
        goto out;
    }
    bb_buf_init(&body, 256 * 1024 * 1024);
    bb_buf_appends(&body, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListVersionsResult xmlns=\"" XMLNS "\">");
    xml_elem(&body, "Name", q->bucket);
    xml_key(&body, "Prefix", l.prefix, l.url);
    xml_key(&body, "KeyMarker", key_marker ? key_marker : "", l.url);
    xml_elem(&body, "VersionIdMarker", vid_marker ? vid_marker : "");
    if (l.truncated && l.last != NULL) {
        xml_key(&body, "NextKeyMarker", l.last, l.url);
        xml_elem(&body, "NextVersionIdMarker", "null");
    }
    bb_buf_appendf(&body, "<MaxKeys>%ld</MaxKeys>", l.max);
    if (l.dlen > 0)
        xml_key(&body, "Delimiter", l.delim, l.url);
    if (l.url)
        xml_elem(&body, "EncodingType", "url");
    bb_buf_appendf(&body, "<IsTruncated>%s</IsTruncated>", l.truncated ? "true" : "false");
    bb_buf_append(&body, items.data ? items.data : "", items.len);
    bb_buf_appends(&body, "</ListVersionsResult>");
    s3_reply_xml(q, 200, &body);
    bb_buf_cleanup(&body);
out:
    bb_buf_cleanup(&items);
    free(after);
    free(l.last);
    free(l.last_cp);
}

void s3_bucket_versioning_get(struct s3_req *q)
{
    struct bb_buf b;
    bb_buf_init(&b, 4096);
    /* never enabled: no <Status> element, as S3 answers for such buckets */
    bb_buf_appends(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<VersioningConfiguration xmlns=\"" XMLNS "\"/>");
    s3_reply_xml(q, 200, &b);
    bb_buf_cleanup(&b);
}

void s3_bucket_versioning_put(struct s3_req *q)
{
    s3_reply_error(q, S3E_NOT_IMPLEMENTED,
                   "Bucket versioning is not implemented by bucketbridge: buckets stay "
                   "unversioned (GetBucketVersioning reports it was never enabled; every object "
                   "has the one version \"null\").",
                   NULL, 0);
}
