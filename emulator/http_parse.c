/* SPDX-License-Identifier: MIT */
/* http_parse: request heads and chunked bodies, without normalisation. */
#include "http_parse.h"
#include "bb_err.h"

#include <string.h>
#include <strings.h>

long http_parse_head_end(const char *buf, size_t len)
{
    size_t lim = len < HTTP_MAX_HEAD ? len : HTTP_MAX_HEAD;
    const char *p = memmem(buf, lim, "\r\n\r\n", 4);

    if (p != NULL)
        return (long)(p - buf) + 4;
    if (len >= HTTP_MAX_HEAD)
        return BB_ETOOBIG;
    return 0;
}

static int is_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

int http_parse_head(const char *buf, size_t len, struct http_head *out)
{
    const char *end = buf + len;
    const char *p = buf;
    const char *eol;
    const char *sp;

    memset(out, 0, sizeof(*out));
    eol = memmem(p, (size_t)(end - p), "\r\n", 2);
    if (eol == NULL)
        return BB_EINVAL;
    /* method */
    sp = memchr(p, ' ', (size_t)(eol - p));
    if (sp == NULL || sp == p)
        return BB_EINVAL;
    for (const char *q = p; q < sp; q++)
        if (!is_tchar((unsigned char)*q))
            return BB_EINVAL;
    out->method = p;
    out->method_len = (size_t)(sp - p);
    p = sp + 1;
    /* target */
    sp = memchr(p, ' ', (size_t)(eol - p));
    if (sp == NULL || sp == p || *p != '/')
        return BB_EINVAL;
    for (const char *q = p; q < sp; q++) {
        unsigned char c = (unsigned char)*q;
        if (c <= 0x20 || c == 0x7f)
            return BB_EINVAL;
    }
    const char *qm = memchr(p, '?', (size_t)(sp - p));
    out->path = p;
    out->path_len = (size_t)((qm ? qm : sp) - p);
    if (qm != NULL) {
        out->query = qm + 1;
        out->query_len = (size_t)(sp - qm - 1);
    }
    p = sp + 1;
    if ((size_t)(eol - p) != 8 || memcmp(p, "HTTP/1.", 7) != 0 || (p[7] != '0' && p[7] != '1'))
        return BB_EINVAL;
    out->minor_version = p[7] - '0';
    p = eol + 2;
    /* headers */
    while (p < end) {
        eol = memmem(p, (size_t)(end - p), "\r\n", 2);
        if (eol == NULL)
            return BB_EINVAL;
        if (eol == p)
            return BB_OK; /* blank line */
        if (*p == ' ' || *p == '\t')
            return BB_EINVAL; /* obsolete line folding */
        const char *colon = memchr(p, ':', (size_t)(eol - p));
        if (colon == NULL || colon == p)
            return BB_EINVAL;
        for (const char *q = p; q < colon; q++)
            if (!is_tchar((unsigned char)*q))
                return BB_EINVAL;
        if (out->nheaders == HTTP_MAX_HEADERS)
            return BB_ETOOBIG;
        const char *v = colon + 1;
        const char *ve = eol;
        while (v < ve && (*v == ' ' || *v == '\t'))
            v++;
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
            ve--;
        for (const char *q = v; q < ve; q++) {
            unsigned char c = (unsigned char)*q;
            if ((c < 0x20 && c != '\t') || c == 0x7f)
                return BB_EINVAL;
        }
        struct http_header *h = &out->headers[out->nheaders++];
        h->name = p;
        h->name_len = (size_t)(colon - p);
        h->value = v;
        h->value_len = (size_t)(ve - v);
        p = eol + 2;
    }
    return BB_EINVAL;
}

const char *http_head_get(const struct http_head *h, const char *name, size_t *len)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < h->nheaders; i++) {
        if (h->headers[i].name_len == n && strncasecmp(h->headers[i].name, name, n) == 0) {
            if (len != NULL)
                *len = h->headers[i].value_len;
            return h->headers[i].value;
        }
    }
    return NULL;
}

enum {
    CH_SIZE,      /* reading hex digits */
    CH_EXT,       /* skipping chunk extensions to CRLF */
    CH_SIZE_LF,   /* expecting LF after CR of the size line */
    CH_DATA,      /* chunk data */
    CH_DATA_CR,   /* CR after data */
    CH_DATA_LF,   /* LF after data */
    CH_TRAILER,   /* trailer line (or the final blank line) */
    CH_TRAILER_LF /* LF after a trailer line's CR */
};

#define CH_MAX_LINE 4096

void http_chunked_init(struct http_chunked *c)
{
    memset(c, 0, sizeof(*c));
    c->state = CH_SIZE;
}

static int hexval(unsigned char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

long http_chunked_feed(struct http_chunked *c, const char *p, size_t n, http_chunked_data_cb *cb,
                       void *arg)
{
    size_t i = 0;

    while (i < n && !c->done) {
        unsigned char ch = (unsigned char)p[i];
        switch (c->state) {
        case CH_SIZE: {
            int v = hexval(ch);
            if (v >= 0) {
                if (c->remaining >> 59)
                    return BB_EINVAL;
                c->remaining = c->remaining * 16 + (uint64_t)v;
                c->line_len++;
            } else if (c->line_len == 0) {
                return BB_EINVAL;
            } else if (ch == ';' || ch == ' ' || ch == '\t') {
                c->state = CH_EXT;
            } else if (ch == '\r') {
                c->state = CH_SIZE_LF;
            } else {
                return BB_EINVAL;
            }
            i++;
            break;
        }
        case CH_EXT:
            if (++c->line_len > CH_MAX_LINE)
                return BB_EINVAL;
            if (ch == '\r')
                c->state = CH_SIZE_LF;
            i++;
            break;
        case CH_SIZE_LF:
            if (ch != '\n')
                return BB_EINVAL;
            i++;
            c->line_len = 0;
            c->state = c->remaining ? CH_DATA : CH_TRAILER;
            break;
        case CH_DATA: {
            size_t take = n - i;
            if (take > c->remaining)
                take = (size_t)c->remaining;
            int rc = cb(arg, p + i, take);
            if (rc < 0)
                return rc;
            i += take;
            c->remaining -= take;
            if (c->remaining == 0)
                c->state = CH_DATA_CR;
            break;
        }
        case CH_DATA_CR:
            if (ch != '\r')
                return BB_EINVAL;
            c->state = CH_DATA_LF;
            i++;
            break;
        case CH_DATA_LF:
            if (ch != '\n')
                return BB_EINVAL;
            c->state = CH_SIZE;
            c->line_len = 0;
            i++;
            break;
        case CH_TRAILER:
            if (ch == '\r') {
                c->state = CH_TRAILER_LF;
            } else if (++c->line_len > CH_MAX_LINE) {
                return BB_EINVAL;
            }
            i++;
            break;
        case CH_TRAILER_LF:
            if (ch != '\n')
                return BB_EINVAL;
            i++;
            if (c->line_len == 0)
                c->done = 1;
            c->line_len = 0;
            c->state = CH_TRAILER;
            break;
        default:
            return BB_EINVAL;
        }
    }
    return (long)i;
}
