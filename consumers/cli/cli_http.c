/* SPDX-License-Identifier: MIT */
/*
 * cli_http: connect (non-blocking, so the timeout covers it), write the
 * request, read until the server closes or the body is complete, parse.
 * Reading everything first keeps the parser pure and testable; the cap
 * (CLI_HTTP_MAX_RESPONSE) bounds the memory.
 */
#include "cli_http.h"
#include "bb_buf.h"
#include "bb_err.h"
#include "bb_mem.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define READ_CHUNK 65536

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int wait_fd(int fd, short events, int64_t deadline)
{
    struct pollfd p = {.fd = fd, .events = events};
    for (;;) {
        int64_t left = deadline - mono_ms();
        int n;
        if (left <= 0)
            return -ETIMEDOUT;
        n = poll(&p, 1, (int)(left > 1000000 ? 1000000 : left));
        if (n > 0)
            return BB_OK;
        if (n == 0)
            return -ETIMEDOUT;
        if (errno != EINTR)
            return -errno;
    }
}

static int dial(const char *host, int port, int64_t deadline, int *out_fd)
{
    struct addrinfo hints, *res = NULL, *ai;
    char portstr[16];
    int rc = -ECONNREFUSED;
    int fd = -1;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(portstr, sizeof(portstr), "%d", port);
    if (getaddrinfo(host, portstr, &hints, &res) != 0)
        return -EHOSTUNREACH;
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        int err = 0;
        socklen_t elen = sizeof(err);
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
        if (fd < 0) {
            rc = -errno;
            continue;
        }
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
            if (errno != EINPROGRESS) {
                rc = -errno;
                close(fd);
                fd = -1;
                continue;
            }
            rc = wait_fd(fd, POLLOUT, deadline);
            if (rc == BB_OK && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) == 0 && err != 0)
                rc = -err;
            if (rc < 0) {
                close(fd);
                fd = -1;
                continue;
            }
        }
        rc = BB_OK;
        break;
    }
    freeaddrinfo(res);
    if (rc == BB_OK)
        *out_fd = fd;
    return rc;
}

static int send_all(int fd, const char *p, size_t n, int64_t deadline)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                int rc = wait_fd(fd, POLLOUT, deadline);
                if (rc < 0)
                    return rc;
                continue;
            }
            return -errno;
        }
        p += w;
        n -= (size_t)w;
    }
    return BB_OK;
}

/* Case-insensitive search for header @name in the head [@p, @end). Returns
 * its trimmed value and length, or NULL. */
static const char *header(const char *p, const char *end, const char *name, size_t *vlen)
{
    size_t nl = strlen(name);
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *le = eol ? eol : end;
        if ((size_t)(le - p) > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            const char *ve = le;
            while (v < ve && (*v == ' ' || *v == '\t'))
                v++;
            while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
                ve--;
            *vlen = (size_t)(ve - v);
            return v;
        }
        p = eol ? eol + 1 : end;
    }
    return NULL;
}

/* Decodes a chunked body [@p, @end) into @b. */
static int dechunk(struct bb_buf *b, const char *p, const char *end)
{
    for (;;) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        unsigned long long n = 0;
        int digits = 0;
        if (eol == NULL)
            return BB_EINCOMPLETE;
        while (p < eol && isxdigit((unsigned char)*p)) {
            int d = isdigit((unsigned char)*p) ? *p - '0' : (tolower((unsigned char)*p) - 'a' + 10);
            if (n > CLI_HTTP_MAX_RESPONSE)
                return BB_ETOOBIG;
            n = n * 16 + (unsigned long long)d;
            digits++;
            p++;
        }
        if (digits == 0)
            return BB_ECORRUPT;
        p = eol + 1;
        if (n == 0)
            return BB_OK; /* trailers, if any, are ignored */
        if ((unsigned long long)(end - p) < n + 2)
            return BB_EINCOMPLETE;
        if (bb_buf_append(b, p, (size_t)n) < 0)
            return BB_ETOOBIG;
        p += n;
        if (p[0] == '\r')
            p++;
        if (p[0] != '\n')
            return BB_ECORRUPT;
        p++;
    }
}

/* With @eof, a body without a length ends at the end of @raw. */
static int parse(const char *raw, size_t len, int eof, struct cli_http_resp *out)
{
    const char *end = raw + len;
    const char *head_end = NULL;
    const char *body = NULL;
    const char *v;
    size_t vlen = 0;
    struct bb_buf b;
    int status;
    int rc;

    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i + 1 < len; i++) {
        if (raw[i] == '\n' && raw[i + 1] == '\n') {
            head_end = raw + i + 1;
            body = raw + i + 2;
            break;
        }
        if (i + 3 < len && memcmp(raw + i, "\r\n\r\n", 4) == 0) {
            head_end = raw + i + 2;
            body = raw + i + 4;
            break;
        }
    }
    if (len >= 5 && strncmp(raw, "HTTP/", 5) != 0)
        return BB_ECORRUPT;
    if (head_end == NULL)
        return BB_EINCOMPLETE;
    if (sscanf(raw, "HTTP/1.%*1d %3d", &status) != 1 || status < 100 || status > 599)
        return BB_ECORRUPT;
    bb_buf_init(&b, CLI_HTTP_MAX_RESPONSE);
    v = header(raw, head_end, "transfer-encoding", &vlen);
    if (v != NULL && vlen == 7 && strncasecmp(v, "chunked", 7) == 0) {
        rc = dechunk(&b, body, end);
        if (rc < 0)
            goto out;
    } else {
        v = header(raw, head_end, "content-length", &vlen);
        size_t n = (size_t)(end - body);
        if (v != NULL) {
            char num[24];
            char *e = NULL;
            unsigned long long cl;
            if (vlen == 0 || vlen >= sizeof(num)) {
                rc = BB_ECORRUPT;
                goto out;
            }
            memcpy(num, v, vlen);
            num[vlen] = '\0';
            cl = strtoull(num, &e, 10);
            if (*e != '\0' || !isdigit((unsigned char)num[0])) {
                rc = BB_ECORRUPT;
                goto out;
            }
            if (cl > CLI_HTTP_MAX_RESPONSE) {
                rc = BB_ETOOBIG;
                goto out;
            }
            if (n < cl) {
                rc = BB_EINCOMPLETE;
                goto out;
            }
            n = (size_t)cl;
        } else if (status == 204 || status == 304 || status < 200) {
            n = 0;
        } else if (!eof) {
            rc = BB_EINCOMPLETE;
            goto out;
        }
        if (bb_buf_append(&b, body, n) < 0) {
            rc = BB_ETOOBIG;
            goto out;
        }
    }
    out->status = status;
    out->body = bb_buf_detach(&b, &out->body_len);
    if (out->body == NULL)
        out->body = bb_xstrdup("");
    return BB_OK;
out:
    bb_buf_cleanup(&b);
    return rc;
}

int cli_http_parse_response(const char *raw, size_t len, struct cli_http_resp *out)
{
    return parse(raw, len, 1, out);
}

int cli_http_request(const char *host, int port, const char *method, const char *target,
                     const char *const *headers, const char *body, size_t body_len,
                     int64_t timeout_ms, struct cli_http_resp *out)
{
    int64_t deadline = mono_ms() + timeout_ms;
    struct bb_buf req, in;
    int fd = -1;
    int rc;

    memset(out, 0, sizeof(*out));
    bb_buf_init(&req, CLI_HTTP_MAX_RESPONSE);
    bb_buf_init(&in, CLI_HTTP_MAX_RESPONSE + 65536);
    if (strchr(host, ':') != NULL)
        bb_buf_appendf(&req, "%s %s HTTP/1.1\r\nHost: [%s]:%d\r\n", method, target, host, port);
    else
        bb_buf_appendf(&req, "%s %s HTTP/1.1\r\nHost: %s:%d\r\n", method, target, host, port);
    bb_buf_appends(&req, "User-Agent: bucketbridge-cli\r\nAccept: application/json\r\n"
                         "Connection: close\r\n");
    for (size_t i = 0; headers != NULL && headers[i] != NULL; i++)
        bb_buf_appendf(&req, "%s\r\n", headers[i]);
    bb_buf_appendf(&req, "Content-Length: %zu\r\n\r\n", body ? body_len : 0);
    if (body != NULL && bb_buf_append(&req, body, body_len) < 0) {
        rc = BB_ETOOBIG;
        goto out;
    }

    rc = dial(host, port, deadline, &fd);
    if (rc < 0)
        goto out;
    rc = send_all(fd, req.data, req.len, deadline);
    if (rc < 0)
        goto out;
    for (;;) {
        char chunk[READ_CHUNK];
        ssize_t r = recv(fd, chunk, sizeof(chunk), 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                rc = wait_fd(fd, POLLIN, deadline);
                if (rc < 0)
                    goto out;
                continue;
            }
            rc = -errno;
            goto out;
        }
        if (r == 0)
            break;
        if (bb_buf_append(&in, chunk, (size_t)r) < 0) {
            rc = BB_ETOOBIG;
            goto out;
        }
        /* done as soon as the body is complete, even if the server lingers */
        rc = parse(in.data, in.len, 0, out);
        if (rc == BB_OK)
            goto out;
        if (rc != BB_EINCOMPLETE)
            goto out;
    }
    rc = cli_http_parse_response(in.data ? in.data : "", in.len, out);
    if (rc == BB_EINCOMPLETE)
        rc = in.len == 0 ? -ECONNRESET : BB_ECORRUPT;
out:
    if (fd >= 0)
        close(fd);
    bb_buf_cleanup(&in);
    bb_buf_cleanup(&req);
    return rc;
}

void cli_http_resp_cleanup(struct cli_http_resp *r)
{
    free(r->body);
    memset(r, 0, sizeof(*r));
}
