/* SPDX-License-Identifier: MIT */
/*
 * s3_form: multipart/form-data, one byte state machine. The delimiter is
 * "\r\n--" + boundary; a boundary cannot hold CR (RFC 2046 bchars), so a
 * partial match that fails can only restart at the current byte, and the
 * bytes held so far are exactly the matched prefix of the delimiter: they
 * are data and are handed out as such.
 */
#include "s3_form.h"
#include "bb_err.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

enum form_state { F_PREAMBLE, F_AFTER, F_HEAD, F_DATA, F_DONE };

int s3_form_boundary(const char *ct, char *out, size_t n)
{
    const char *p;
    size_t len = 0;

    if (strncasecmp(ct, "multipart/form-data", 19) != 0)
        return BB_EINVAL;
    for (p = ct + 19; *p; p++) {
        if (strncasecmp(p, "boundary=", 9) == 0 && (p[-1] == ';' || p[-1] == ' ')) {
            p += 9;
            break;
        }
    }
    if (*p == '\0')
        return BB_EINVAL;
    if (*p == '"') {
        const char *end = strchr(p + 1, '"');
        if (end == NULL)
            return BB_EINVAL;
        p++;
        len = (size_t)(end - p);
    } else {
        len = strcspn(p, "; \t");
    }
    if (len == 0 || len > S3_FORM_BOUNDARY_MAX || len >= n || memchr(p, '\r', len) != NULL ||
        memchr(p, '\n', len) != NULL)
        return BB_EINVAL;
    memcpy(out, p, len);
    out[len] = '\0';
    return BB_OK;
}

void s3_form_init(struct s3_form *f, const char *boundary, s3_form_begin_cb *on_begin,
                  s3_form_data_cb *on_data, s3_form_end_cb *on_end, void *arg)
{
    memset(f, 0, sizeof(*f));
    f->dlen = (size_t)snprintf(f->delim, sizeof(f->delim), "\r\n--%s", boundary);
    f->state = F_PREAMBLE;
    f->matched = 2; /* the body may start with "--boundary" right away */
    bb_buf_init(&f->head, S3_FORM_HEAD_MAX + 1); /* + the NUL part_begin adds */
    f->on_begin = on_begin;
    f->on_data = on_data;
    f->on_end = on_end;
    f->arg = arg;
}

void s3_form_cleanup(struct s3_form *f)
{
    bb_buf_cleanup(&f->head);
}

int s3_form_done(const struct s3_form *f)
{
    return f->state == F_DONE;
}

/* The value of parameter @name in a Content-Disposition value, into @out. */
static const char *param(const char *v, const char *name, char *out, size_t n)
{
    size_t nl = strlen(name);
    for (const char *p = v; (p = strcasestr(p, name)) != NULL; p += nl) {
        const char *q = p + nl;
        if (p > v && p[-1] != ' ' && p[-1] != ';' && p[-1] != '\t')
            continue;
        while (*q == ' ')
            q++;
        if (*q != '=')
            continue;
        q++;
        while (*q == ' ')
            q++;
        size_t o = 0;
        if (*q == '"') {
            for (q++; *q && *q != '"' && o + 1 < n; q++) {
                if (*q == '\\' && q[1] != '\0')
                    q++;
                out[o++] = *q;
            }
        } else {
            for (; *q && *q != ';' && *q != ' ' && o + 1 < n; q++)
                out[o++] = *q;
        }
        out[o] = '\0';
        return out;
    }
    return NULL;
}

static int part_begin(struct s3_form *f, const char **why)
{
    char *h = f->head.data;
    char name[1024], filename[1024], ctype[256];
    struct s3_form_part part = {"", NULL, NULL};
    int has_disposition = 0;

    /* the head ends with "\r\n\r\n" (or is just "\r\n" when empty) */
    h[f->head.len - 2] = '\0';
    for (char *line = h; line != NULL && *line;) {
        char *eol = strstr(line, "\r\n");
        if (eol != NULL)
            *eol = '\0';
        char *colon = strchr(line, ':');
        if (colon != NULL) {
            char *v = colon + 1;
            *colon = '\0';
            while (*v == ' ' || *v == '\t')
                v++;
            if (strcasecmp(line, "Content-Disposition") == 0) {
                has_disposition = 1;
                if (param(v, "name", name, sizeof(name)) != NULL)
                    part.name = name;
                part.filename = param(v, "filename", filename, sizeof(filename));
            } else if (strcasecmp(line, "Content-Type") == 0) {
                snprintf(ctype, sizeof(ctype), "%s", v);
                part.content_type = ctype;
            }
        }
        line = eol != NULL ? eol + 2 : NULL;
    }
    if (!has_disposition) {
        *why = "A form part has no Content-Disposition header.";
        return BB_EINVAL;
    }
    bb_buf_reset(&f->head);
    return f->on_begin(f->arg, &part);
}

/* Hands out data (F_DATA) or drops it (F_PREAMBLE). */
static int emit(struct s3_form *f, const char *p, size_t n)
{
    if (n == 0 || f->state != F_DATA)
        return BB_OK;
    return f->on_data(f->arg, p, n);
}

int s3_form_feed(struct s3_form *f, const char *p, size_t n, const char **why)
{
    size_t i = 0;
    int rc;

    while (i < n) {
        switch (f->state) {
        case F_DONE:
            return BB_OK;
        case F_PREAMBLE:
        case F_DATA:
            if (f->matched == 0) {
                const char *cr = memchr(p + i, '\r', n - i);
                size_t upto = cr != NULL ? (size_t)(cr - p) : n;
                rc = emit(f, p + i, upto - i);
                if (rc < 0)
                    return rc;
                i = upto;
                if (cr != NULL) {
                    f->matched = 1;
                    i++;
                }
                break;
            }
            if (p[i] == f->delim[f->matched]) {
                i++;
                if (++f->matched < f->dlen)
                    break;
                f->matched = 0;
                if (f->state == F_DATA) {
                    rc = f->on_end(f->arg);
                    if (rc < 0)
                        return rc;
                    if (rc == 1) {
                        f->state = F_DONE;
                        return BB_OK;
                    }
                }
                f->state = F_AFTER;
                f->after = 0;
                break;
            }
            /* mismatch: what was held is data; look at this byte afresh */
            rc = emit(f, f->delim, f->matched);
            if (rc < 0)
                return rc;
            f->matched = 0;
            break;
        case F_AFTER:
            if (f->after == 0 && (p[i] == ' ' || p[i] == '\t')) {
                i++;
            } else if (f->after == 0 && (p[i] == '-' || p[i] == '\r')) {
                f->after = p[i++];
            } else if (f->after == '-' && p[i] == '-') {
                f->state = F_DONE;
                return BB_OK;
            } else if (f->after == '\r' && p[i] == '\n') {
                i++;
                f->state = F_HEAD;
            } else {
                *why = "A form boundary is followed by neither CRLF nor \"--\".";
                return BB_EINVAL;
            }
            break;
        case F_HEAD: {
            /* up to the blank line, one byte at a time: heads are small */
            if (f->head.len >= S3_FORM_HEAD_MAX || bb_buf_append(&f->head, p + i, 1) < 0) {
                *why = "A form part's header section is too large.";
                return BB_EINVAL;
            }
            i++;
            size_t hl = f->head.len;
            if ((hl == 2 && memcmp(f->head.data, "\r\n", 2) == 0) ||
                (hl >= 4 && memcmp(f->head.data + hl - 4, "\r\n\r\n", 4) == 0)) {
                bb_buf_append(&f->head, "", 1); /* NUL for part_begin */
                f->head.len--;
                rc = part_begin(f, why);
                if (rc < 0)
                    return rc;
                f->state = F_DATA;
                f->matched = 0;
            }
            break;
        }
        }
    }
    return BB_OK;
}
