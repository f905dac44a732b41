/* SPDX-License-Identifier: MIT */
/* s3_cond: If-None-Match / If-Match on writes, evaluated at commit. */
#include "s3_cond.h"
#include "bb_err.h"
#include "s3_handler.h"
#include "s3_range.h"
#include "store.h"

#include <stdio.h>
#include <string.h>

/* The object's ETag now into @etag; 1 when it exists, 0 when not, <0. */
static int current(struct s3_req *q, char *etag, size_t n)
{
    struct store_object o;
    int rc;

    memset(&o, 0, sizeof(o));
    rc = store_index_get(store_get_index(q->store), q->bucket, q->key, &o);
    if (rc == BB_OK)
        snprintf(etag, n, "%s", o.etag ? o.etag : "");
    store_object_cleanup(&o);
    if (rc == BB_ENOTFOUND)
        return 0;
    return rc < 0 ? rc : 1;
}

enum s3_error s3_cond_begin(struct s3_req *q, struct s3_cond *c, const char **msg)
{
    char v[256];
    int rc;

    memset(c, 0, sizeof(*c));
    if (s3_req_header(q, "if-none-match", v, sizeof(v)) != NULL) {
        if (strcmp(v, "*") != 0) {
            *msg = "If-None-Match on a write accepts only \"*\" (create only if absent).";
            return S3E_NOT_IMPLEMENTED;
        }
        c->none_match = 1;
    }
    if (s3_req_header(q, "if-match", c->match, sizeof(c->match)) != NULL)
        c->has_match = 1;
    if (!s3_cond_active(c))
        return S3E_NONE;
    rc = current(q, c->etag, sizeof(c->etag));
    c->existed = rc == 1;
    return S3E_NONE;
}

int s3_cond_active(const struct s3_cond *c)
{
    return c->none_match || c->has_match;
}

enum s3_error s3_cond_check(struct s3_req *q, const struct s3_cond *c)
{
    char now[S3_COND_ETAG_MAX];
    int rc;

    if (!s3_cond_active(c))
        return S3E_NONE;
    rc = current(q, now, sizeof(now));
    if (rc < 0)
        return S3E_INTERNAL_ERROR;
    if (c->none_match && rc == 1)
        return c->existed ? S3E_PRECONDITION_FAILED : S3E_CONDITIONAL_REQUEST_CONFLICT;
    if (c->has_match) {
        if (rc == 0)
            return c->existed ? S3E_CONDITIONAL_REQUEST_CONFLICT : S3E_NO_SUCH_KEY;
        if (!s3_range_etag_matches(c->match, now)) {
            /* it matched when we began: somebody else's write won the race */
            if (c->existed && s3_range_etag_matches(c->match, c->etag))
                return S3E_CONDITIONAL_REQUEST_CONFLICT;
            return S3E_PRECONDITION_FAILED;
        }
    }
    return S3E_NONE;
}
