/* SPDX-License-Identifier: MIT */
/* s3_body: decode, hash, verify and spool a request body. */
#include "s3_body.h"
#include "s3_bodyhash.h"
#include "bb_err.h"
#include "bb_log.h"
#include "bb_mem.h"
#include "http_conn.h"
#include "s3_chunked.h"
#include "s3_handler.h"
#include "store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define S3_MAX_OBJECT (5ull * 1024 * 1024 * 1024)

static enum s3_error fail(struct s3_body *b, enum s3_error e, const char *msg)
{
    if (b->err == S3E_NONE) {
        b->err = e;
        b->err_msg = msg;
    }
    return b->err;
}

static int parse_u64(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    if (*s == '\0' || strlen(s) > 19)
        return BB_EINVAL;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return BB_EINVAL;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return BB_OK;
}

/* Finds the x-amz-checksum-<alg> header, if any. */
static enum s3_error find_checksum_header(struct s3_req *q, struct s3_body *b)
{
    static const enum bb_checksum_alg algs[] = {BB_CHECKSUM_CRC32, BB_CHECKSUM_CRC32C,
                                                BB_CHECKSUM_CRC64NVME, BB_CHECKSUM_SHA1,
                                                BB_CHECKSUM_SHA256};
    char v[128];
    int found = 0;

    for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
        const char *h = s3_req_header(q, bb_checksum_header_name(algs[i]), v, sizeof(v));
        unsigned char raw[BB_CHECKSUM_MAX_RAW + 4];
        int n;
        if (h == NULL)
            continue;
        if (found++)
            return fail(b, S3E_INVALID_REQUEST, "Expecting a single x-amz-checksum- header");
        n = bb_base64_decode(h, strlen(h), raw, sizeof(raw));
        if (n < 0 || (size_t)n != bb_checksum_raw_len(algs[i]))
            return fail(b, S3E_INVALID_REQUEST,
                        "Value for x-amz-checksum-* header is invalid (want base64 of the "
                        "big-endian checksum).");
        b->ck_alg = algs[i];
        snprintf(b->ck_expected, sizeof(b->ck_expected), "%s", h);
    }
    return S3E_NONE;
}

enum s3_error s3_body_begin(struct s3_req *q, int to_file, size_t mem_cap,
                            enum bb_checksum_alg compute_alg)
{
    struct s3_body *b = &q->body;
    struct http_req *r = q->http;
    char v[256];
    enum s3_error e;
    int streaming = q->auth.payload == S3_PAYLOAD_STREAMING_SIGNED ||
                    q->auth.payload == S3_PAYLOAD_STREAMING_SIGNED_TRAILER ||
                    q->auth.payload == S3_PAYLOAD_STREAMING_UNSIGNED_TRAILER;

    b->active = 1;
    b->to_file = to_file;
    b->fd = -1;
    bb_buf_init(&b->mem, mem_cap);
    b->md5 = bb_hash_new(BB_HASH_MD5);
    if (q->auth.payload == S3_PAYLOAD_SHA256)
        b->sha256 = bb_hash_new(BB_HASH_SHA256);

    if (s3_req_header(q, "content-md5", v, sizeof(v)) != NULL) {
        unsigned char raw[BB_MD5_LEN + 4];
        if (bb_base64_decode(v, strlen(v), raw, sizeof(raw)) != BB_MD5_LEN)
            return fail(b, S3E_INVALID_DIGEST, NULL);
        memcpy(b->content_md5, raw, BB_MD5_LEN);
        b->has_content_md5 = 1;
    }
    e = find_checksum_header(q, b);
    if (e != S3E_NONE)
        return e;

    if (streaming) {
        struct s3_chunked_params p;
        char trailer[256];
        memset(&p, 0, sizeof(p));
        p.mode = q->auth.payload == S3_PAYLOAD_STREAMING_SIGNED ? S3_CHUNKED_SIGNED
                 : q->auth.payload == S3_PAYLOAD_STREAMING_SIGNED_TRAILER
                     ? S3_CHUNKED_SIGNED_TRAILER
                     : S3_CHUNKED_UNSIGNED_TRAILER;
        p.verify = q->auth.authenticated;
        memcpy(p.signing_key, q->auth.signing_key, sizeof(p.signing_key));
        p.amz_date = q->auth.amz_date;
        p.scope = q->auth.scope;
        p.seed_signature = q->auth.seed_signature;
        p.trailer_names = s3_req_header(q, "x-amz-trailer", trailer, sizeof(trailer));
        p.decoded_length = UINT64_MAX;
        if (s3_req_header(q, "x-amz-decoded-content-length", v, sizeof(v)) == NULL)
            return fail(b, S3E_MISSING_CONTENT_LENGTH,
                        "aws-chunked bodies need x-amz-decoded-content-length.");
        if (parse_u64(v, &p.decoded_length) < 0)
            return fail(b, S3E_INVALID_ARGUMENT, "x-amz-decoded-content-length is not a number.");
        b->declared_len = p.decoded_length;
        if (p.trailer_names != NULL) {
            enum bb_checksum_alg ta = BB_CHECKSUM_NONE;
            char names[256];
            snprintf(names, sizeof(names), "%s", p.trailer_names);
            for (char *save = NULL, *t = strtok_r(names, ", ", &save); t != NULL;
                 t = strtok_r(NULL, ", ", &save)) {
                enum bb_checksum_alg a = bb_checksum_alg_from_header(t);
                if (a == BB_CHECKSUM_NONE)
                    return fail(b, S3E_INVALID_REQUEST,
                                "x-amz-trailer names an unsupported trailer.");
                ta = a;
            }
            if (ta != BB_CHECKSUM_NONE) {
                if (b->ck_alg != BB_CHECKSUM_NONE)
                    return fail(b, S3E_INVALID_REQUEST,
                                "Expecting a single x-amz-checksum- header or trailer");
                b->ck_alg = ta;
                b->ck_from_trailer = 1;
            }
        }
        b->dec = s3_chunked_new(&p);
    } else if (r->content_length != HTTP_NO_LENGTH) {
        b->declared_len = r->content_length;
    } else if (r->chunked) {
        b->declared_len = UINT64_MAX;
    } else if (to_file) {
        return fail(b, S3E_MISSING_CONTENT_LENGTH, NULL);
    }
    if (b->declared_len != UINT64_MAX && b->declared_len > S3_MAX_OBJECT)
        return fail(b, S3E_ENTITY_TOO_LARGE, NULL);
    if (!to_file && b->declared_len != UINT64_MAX && b->declared_len > mem_cap)
        return fail(b, S3E_ENTITY_TOO_LARGE, "The request body is too large for this operation.");

    if (b->ck_alg == BB_CHECKSUM_NONE)
        b->ck_alg = compute_alg;
    if (b->ck_alg != BB_CHECKSUM_NONE)
        bb_checksum_init(&b->ck, b->ck_alg);
    if (to_file) {
        int rc = store_tmp_create(q->store, &b->fd, &b->tmp_path);
        if (rc < 0) {
            BB_LOG_ERROR("s3", "cannot create temporary file", "error=\"%s\"", bb_strerror(rc));
            return fail(b, S3E_INTERNAL_ERROR, NULL);
        }
        if (b->declared_len != UINT64_MAX && b->declared_len >= S3_BODYHASH_MIN)
            b->bh = s3_bodyhash_new();
        if (b->bh != NULL)
            b->hbuf = s3_bodyhash_buffer(b->bh);
        else
            b->wbuf = bb_xmalloc(S3_BODY_WBUF);
    }
    return S3E_NONE;
}

static int write_all(int fd, const void *p, size_t n)
{
    size_t off = 0;
    while (off < n) {
        ssize_t w = write(fd, (const char *)p + off, n - off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        off += (size_t)w;
    }
    return BB_OK;
}

/* Hands the filled bh buffer to the hashing thread (its bytes are in the
 * file already). */
static int flush_hashed(struct s3_body *b)
{
    s3_bodyhash_submit(b->bh, b->wlen);
    b->wlen = 0;
    b->hbuf = NULL;
    return BB_OK;
}

static int flush(struct s3_body *b)
{
    int rc;
    if (b->bh != NULL)
        return b->wlen > 0 ? flush_hashed(b) : BB_OK;
    rc = write_all(b->fd, b->wbuf, b->wlen);
    b->wlen = 0;
    return rc;
}

/* Payload bytes (after aws-chunked decoding). */
static int payload(void *arg, const char *p, size_t n)
{
    struct s3_body *b = arg;

    b->size += n;
    if (b->declared_len != UINT64_MAX && b->size > b->declared_len) {
        fail(b, S3E_INCOMPLETE_BODY, "The body is longer than the declared length.");
        return BB_ETOOBIG;
    }
    if (b->bh == NULL)
        bb_hash_update(b->md5, p, n);
    if (b->sha256 != NULL)
        bb_hash_update(b->sha256, p, n);
    if (b->ck_alg != BB_CHECKSUM_NONE)
        bb_checksum_update(&b->ck, p, n);
    if (!b->to_file) {
        if (bb_buf_append(&b->mem, p, n) < 0) {
            fail(b, S3E_ENTITY_TOO_LARGE, "The request body is too large for this operation.");
            return BB_ETOOBIG;
        }
        return BB_OK;
    }
    /* large: each piece goes to the file as it comes (as the small path's
     * 64 KiB writes do), and into the buffer the hashing thread reads */
    if (b->bh != NULL && write_all(b->fd, p, n) < 0) {
        fail(b, S3E_INTERNAL_ERROR, "Writing the upload to disk failed.");
        return BB_EINVAL;
    }
    while (n > 0) {
        size_t cap = b->bh != NULL ? S3_BODYHASH_BUF : S3_BODY_WBUF;
        size_t take = cap - b->wlen;
        int rc;
        if (b->bh != NULL && b->hbuf == NULL)
            b->hbuf = s3_bodyhash_buffer(b->bh); /* waits while all are being hashed */
        if (take > n)
            take = n;
        memcpy(b->bh != NULL ? (char *)b->hbuf + b->wlen : b->wbuf + b->wlen, p, take);
        b->wlen += take;
        p += take;
        n -= take;
        if (b->wlen < cap)
            continue;
        rc = flush(b);
        if (rc < 0) {
            fail(b, S3E_INTERNAL_ERROR, "Writing the upload to disk failed.");
            return BB_EINVAL;
        }
    }
    return BB_OK;
}

enum s3_error s3_body_feed(struct s3_req *q, const char *p, size_t n)
{
    struct s3_body *b = &q->body;
    const char *why = NULL;
    int rc;

    if (b->err != S3E_NONE)
        return b->err;
    if (b->dec == NULL) {
        payload(b, p, n);
        return b->err;
    }
    rc = s3_chunked_feed(b->dec, p, n, payload, b, &why);
    if (rc == BB_EBADSIG)
        return fail(b, S3E_SIGNATURE_DOES_NOT_MATCH,
                    "The chunk signature of the aws-chunked body does not match.");
    if (rc == BB_ETOOBIG)
        return fail(b, S3E_INCOMPLETE_BODY,
                    "The aws-chunked body holds more than x-amz-decoded-content-length bytes.");
    if (rc < 0)
        return fail(b, S3E_INVALID_REQUEST, why ? why : "Malformed aws-chunked body.");
    return b->err;
}

enum s3_error s3_body_finish(struct s3_req *q)
{
    struct s3_body *b = &q->body;
    unsigned char md5[BB_MD5_LEN];
    const char *why = NULL;

    if (b->err != S3E_NONE)
        return b->err;
    if (b->dec != NULL) {
        int rc = s3_chunked_finish(b->dec, &why);
        if (rc == BB_EBADSIG)
            return fail(b, S3E_SIGNATURE_DOES_NOT_MATCH,
                        "The trailer signature of the aws-chunked body does not match.");
        if (rc < 0)
            return fail(b, rc == BB_EINCOMPLETE ? S3E_INCOMPLETE_BODY : S3E_INVALID_REQUEST,
                        why ? why : "The aws-chunked body is incomplete.");
    }
    if (b->declared_len != UINT64_MAX && b->size != b->declared_len)
        return fail(b, S3E_INCOMPLETE_BODY, NULL);
    if (b->to_file) {
        if (flush(b) < 0)
            return fail(b, S3E_INTERNAL_ERROR, "Writing the upload to disk failed.");
    }
    if (b->bh != NULL)
        s3_bodyhash_final(b->bh, md5);
    else
        bb_hash_final(b->md5, md5);
    bb_hex(md5, BB_MD5_LEN, b->etag);
    if (b->has_content_md5 && memcmp(md5, b->content_md5, BB_MD5_LEN) != 0)
        return fail(b, S3E_BAD_DIGEST,
                    "The Content-MD5 you specified did not match what we "
                    "received.");
    if (b->sha256 != NULL) {
        unsigned char d[BB_SHA256_LEN];
        char hex[65];
        bb_hash_final(b->sha256, d);
        bb_hex(d, sizeof(d), hex);
        if (strcmp(hex, q->auth.payload_sha256) != 0)
            return fail(b, S3E_XAMZ_CONTENT_SHA256_MISMATCH, NULL);
    }
    if (b->ck_alg != BB_CHECKSUM_NONE) {
        const char *expected = b->ck_expected;
        bb_checksum_final_b64(&b->ck, b->checksum);
        if (b->ck_from_trailer) {
            expected = s3_chunked_trailer(b->dec, bb_checksum_header_name(b->ck_alg));
            if (expected == NULL)
                return fail(b, S3E_INVALID_REQUEST, "The checksum trailer is missing.");
        }
        if (expected[0] != '\0' && strcmp(expected, b->checksum) != 0) {
            snprintf(b->err_buf, sizeof(b->err_buf),
                     "The %s you specified did not match the calculated checksum.",
                     bb_checksum_header_name(b->ck_alg));
            return fail(b, S3E_BAD_DIGEST, b->err_buf);
        }
    }
    return S3E_NONE;
}

void s3_body_cleanup(struct s3_body *b)
{
    if (!b->active)
        return;
    if (b->fd >= 0)
        close(b->fd);
    if (b->tmp_path != NULL) {
        unlink(b->tmp_path);
        free(b->tmp_path);
    }
    free(b->wbuf);
    s3_bodyhash_free(b->bh); /* after the buffers in flight are hashed */
    bb_buf_cleanup(&b->mem);
    s3_chunked_free(b->dec);
    bb_hash_free(b->md5);
    bb_hash_free(b->sha256);
    if (b->ck_alg != BB_CHECKSUM_NONE)
        bb_checksum_cleanup(&b->ck);
    memset(b, 0, sizeof(*b));
    b->fd = -1;
}
