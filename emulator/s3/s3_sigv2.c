/* SPDX-License-Identifier: MIT */
/* s3_sigv2: the SigV2 string to sign and HMAC-SHA1 signature. */
#include "s3_sigv2.h"
#include "bb_buf.h"
#include "bb_err.h"
#include "bb_hash.h"
#include "bb_mem.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SIGV2_MAX_AMZ 64

/* Query parameters that are part of the canonicalized resource. */
static const char *const subresources[] = {
    "acl", "cors", "delete", "lifecycle", "location", "logging", "notification", "partNumber",
    "policy", "requestPayment", "response-cache-control", "response-content-disposition",
    "response-content-encoding", "response-content-language", "response-content-type",
    "response-expires", "restore", "tagging", "torrent", "uploadId", "uploads", "versionId",
    "versioning", "versions", "website",
};

static int is_subresource(const char *name, size_t n)
{
    for (size_t i = 0; i < sizeof(subresources) / sizeof(subresources[0]); i++)
        if (strlen(subresources[i]) == n && memcmp(subresources[i], name, n) == 0)
            return 1;
    return 0;
}

static const char *header(const struct s3_sigv4_header *h, size_t n, const char *name,
                          size_t *len)
{
    size_t nl = strlen(name);
    for (size_t i = 0; i < n; i++) {
        if (h[i].name_len == nl && strncasecmp(h[i].name, name, nl) == 0) {
            *len = h[i].value_len;
            return h[i].value;
        }
    }
    *len = 0;
    return NULL;
}

struct amz {
    char *name; /* lowercase */
    struct bb_buf value;
};

static int cmp_amz(const void *a, const void *b)
{
    return strcmp(((const struct amz *)a)->name, ((const struct amz *)b)->name);
}

struct qp {
    const char *name;
    size_t nlen;
    char *value; /* decoded, or NULL */
};

static int cmp_qp(const void *a, const void *b)
{
    const struct qp *x = a, *y = b;
    size_t n = x->nlen < y->nlen ? x->nlen : y->nlen;
    int c = memcmp(x->name, y->name, n);
    return c != 0 ? c : (x->nlen < y->nlen ? -1 : x->nlen > y->nlen);
}

int s3_sigv2_string_to_sign(struct bb_buf *out, const char *method, const char *raw_path,
                            size_t path_len, const char *raw_query, size_t query_len,
                            const struct s3_sigv4_header *hdrs, size_t nhdrs, const char *date)
{
    struct amz amz[SIGV2_MAX_AMZ];
    struct qp qps[64];
    size_t na = 0, nq = 0;
    const char *v;
    size_t vl;
    int rc = BB_OK;

    bb_buf_appendf(out, "%s\n", method);
    v = header(hdrs, nhdrs, "content-md5", &vl);
    bb_buf_append(out, v ? v : "", vl);
    bb_buf_append(out, "\n", 1);
    v = header(hdrs, nhdrs, "content-type", &vl);
    bb_buf_append(out, v ? v : "", vl);
    bb_buf_append(out, "\n", 1);
    bb_buf_appends(out, date);
    bb_buf_append(out, "\n", 1);

    /* x-amz-* headers: lowercase names, sorted, repeats joined with ',' */
    for (size_t i = 0; i < nhdrs; i++) {
        const struct s3_sigv4_header *h = &hdrs[i];
        size_t k;
        if (h->name_len < 6 || strncasecmp(h->name, "x-amz-", 6) != 0)
            continue;
        char *name = bb_xstrndup(h->name, h->name_len);
        for (char *p = name; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
        for (k = 0; k < na; k++)
            if (strcmp(amz[k].name, name) == 0)
                break;
        if (k == na) {
            if (na == SIGV2_MAX_AMZ) {
                free(name);
                rc = BB_ETOOBIG;
                goto out;
            }
            amz[na].name = name;
            bb_buf_init(&amz[na].value, 64 * 1024);
            na++;
        } else {
            free(name);
            bb_buf_append(&amz[k].value, ",", 1);
        }
        bb_buf_append(&amz[k].value, h->value, h->value_len);
    }
    qsort(amz, na, sizeof(amz[0]), cmp_amz);
    for (size_t k = 0; k < na; k++)
        bb_buf_appendf(out, "%s:%s\n", amz[k].name, amz[k].value.data ? amz[k].value.data : "");

    /* resource: the path as sent, then the sub-resources */
    bb_buf_append(out, raw_path, path_len);
    for (size_t i = 0; raw_query != NULL && i < query_len;) {
        const char *amp = memchr(raw_query + i, '&', query_len - i);
        size_t end = amp ? (size_t)(amp - raw_query) : query_len;
        const char *part = raw_query + i;
        size_t pl = end - i;
        const char *eq = memchr(part, '=', pl);
        size_t nl = eq ? (size_t)(eq - part) : pl;
        if (is_subresource(part, nl) && nq < 64) {
            qps[nq].name = part;
            qps[nq].nlen = nl;
            qps[nq].value = NULL;
            if (eq != NULL) {
                struct bb_buf d;
                bb_buf_init(&d, 8192);
                if (s3_sigv4_uri_decode(&d, eq + 1, pl - nl - 1, true) < 0) {
                    bb_buf_cleanup(&d);
                    rc = BB_EINVAL;
                    goto out;
                }
                qps[nq].value = bb_buf_detach(&d, NULL);
            }
            nq++;
        }
        i = end + 1;
    }
    qsort(qps, nq, sizeof(qps[0]), cmp_qp);
    for (size_t k = 0; k < nq; k++) {
        bb_buf_append(out, k == 0 ? "?" : "&", 1);
        bb_buf_append(out, qps[k].name, qps[k].nlen);
        if (qps[k].value != NULL) {
            bb_buf_append(out, "=", 1);
            bb_buf_appends(out, qps[k].value);
        }
    }
out:
    for (size_t k = 0; k < na; k++) {
        free(amz[k].name);
        bb_buf_cleanup(&amz[k].value);
    }
    for (size_t k = 0; k < nq; k++)
        free(qps[k].value);
    return rc;
}

void s3_sigv2_sign(const char *secret, const char *sts, size_t len, char out[32])
{
    unsigned char mac[BB_SHA1_LEN];
    bb_hmac_sha1(secret, strlen(secret), sts, len, mac);
    bb_base64(mac, sizeof(mac), out);
}

int s3_sigv2_parse_header(const char *value, size_t len, char akid[129], char sig[64])
{
    const char *colon;
    if (len < 6 || strncmp(value, "AWS ", 4) != 0)
        return BB_EINVAL;
    colon = memchr(value + 4, ':', len - 4);
    if (colon == NULL || colon == value + 4 || (size_t)(colon - value - 4) > 128 ||
        (size_t)(value + len - colon - 1) >= 64 || colon + 1 == value + len)
        return BB_EINVAL;
    /* Visible ASCII only: a NUL would cut the key short, and the key ends up
     * in error bodies and logs (as in s3_sigv4). */
    for (const char *p = value + 4; p < value + len; p++)
        if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e)
            return BB_EINVAL;
    memcpy(akid, value + 4, (size_t)(colon - value - 4));
    akid[colon - value - 4] = '\0';
    memcpy(sig, colon + 1, (size_t)(value + len - colon - 1));
    sig[value + len - colon - 1] = '\0';
    return BB_OK;
}
