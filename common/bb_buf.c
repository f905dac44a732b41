/* SPDX-License-Identifier: MIT */
/* bb_buf: capped growable buffer. */
#include "bb_buf.h"
#include "bb_err.h"
#include "bb_mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void bb_buf_init(struct bb_buf *b, size_t limit)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->limit = limit;
}

void bb_buf_cleanup(struct bb_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void bb_buf_reset(struct bb_buf *b)
{
    b->len = 0;
    if (b->data != NULL)
        b->data[0] = '\0';
}

static int grow(struct bb_buf *b, size_t add)
{
    size_t need;

    if (add > b->limit || b->len > b->limit - add)
        return BB_ETOOBIG;
    need = b->len + add + 1;
    if (need <= b->cap)
        return BB_OK;
    size_t ncap = b->cap ? b->cap : 256;
    while (ncap < need)
        ncap *= 2;
    b->data = bb_xrealloc(b->data, ncap);
    b->cap = ncap;
    return BB_OK;
}

int bb_buf_append(struct bb_buf *b, const void *p, size_t n)
{
    int rc = grow(b, n);
    if (rc < 0)
        return rc;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return BB_OK;
}

int bb_buf_appends(struct bb_buf *b, const char *s)
{
    return bb_buf_append(b, s, strlen(s));
}

int bb_buf_appendf(struct bb_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;
    int rc;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return BB_EINVAL;
    rc = grow(b, (size_t)n);
    if (rc < 0)
        return rc;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return BB_OK;
}

int bb_buf_append_xml(struct bb_buf *b, const char *s, size_t n)
{
    size_t start = 0;
    size_t old_len = b->len;
    int rc = BB_OK;

    for (size_t i = 0; i < n && rc == BB_OK; i++) {
        const char *rep = NULL;
        switch (s[i]) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&apos;";
            break;
        case '\r':
            rep = "&#13;";
            break;
        default:
            break;
        }
        if (rep == NULL)
            continue;
        rc = bb_buf_append(b, s + start, i - start);
        if (rc == BB_OK)
            rc = bb_buf_appends(b, rep);
        start = i + 1;
    }
    if (rc == BB_OK)
        rc = bb_buf_append(b, s + start, n - start);
    if (rc < 0 && b->data != NULL) {
        /* Drop the part already escaped: no half-written value. */
        b->len = old_len;
        b->data[old_len] = '\0';
    }
    return rc;
}

char *bb_buf_detach(struct bb_buf *b, size_t *len)
{
    char *p = b->data;
    if (len != NULL)
        *len = b->len;
    if (p == NULL)
        p = bb_xstrdup("");
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}
