/* SPDX-License-Identifier: MIT */
/*
 * cli_http: connect (non-blocking, so the timeout covers it), write the
 * request, read until the server closes or the body is complete, parse.
 * Reading everything first keeps the parser pure and testable; the cap
 * (CLI_HTTP_MAX_RESPONSE) bounds the memory. TLS rides on the same
 * non-blocking socket: OpenSSL's WANT_READ/WANT_WRITE become waits.
 */
#include "cli_http.h"
#include "bb_buf.h"
#include "bb_err.h"
#include "bb_mem.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
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

/* One connection: @ssl NULL for plain TCP. */
struct conn {
    int fd;
    SSL_CTX *ctx;
    SSL *ssl;
};

/* Waits for what OpenSSL asked for after @r from an SSL call; 1 to retry,
 * else a negative code. */
static int ssl_wait(struct conn *c, int r, int64_t deadline)
{
    int e = SSL_get_error(c->ssl, r);
    if (e == SSL_ERROR_WANT_READ)
        return wait_fd(c->fd, POLLIN, deadline) < 0 ? -ETIMEDOUT : 1;
    if (e == SSL_ERROR_WANT_WRITE)
        return wait_fd(c->fd, POLLOUT, deadline) < 0 ? -ETIMEDOUT : 1;
    if (e == SSL_ERROR_ZERO_RETURN)
        return 0;
    return -ECONNRESET;
}

static void ssl_why(char *why, size_t whylen, const char *what)
{
    unsigned long e = ERR_get_error();
    char buf[200] = "";
    if (e != 0)
        ERR_error_string_n(e, buf, sizeof(buf));
    snprintf(why, whylen, "%s%s%s", what, buf[0] ? ": " : "", buf);
    ERR_clear_error();
}

static int tls_start(struct conn *c, struct cli_http_peer *peer, int64_t deadline)
{
    struct in6_addr a6;
    struct in_addr a4;
    int r;

    ERR_clear_error();
    c->ctx = SSL_CTX_new(TLS_client_method());
    if (c->ctx == NULL) {
        ssl_why(peer->why, sizeof(peer->why), "cannot set up TLS");
        return -EPROTO;
    }
    SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
    if (peer->ca_file != NULL) {
        if (SSL_CTX_load_verify_locations(c->ctx, peer->ca_file, NULL) != 1) {
            ERR_clear_error();
            snprintf(peer->why, sizeof(peer->why),
                     "cannot read the CA file %s (--ca wants a PEM certificate)", peer->ca_file);
            return -EPROTO;
        }
        SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
    } else {
        SSL_CTX_set_verify(c->ctx, SSL_VERIFY_NONE, NULL);
    }
    c->ssl = SSL_new(c->ctx);
    if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1) {
        ssl_why(peer->why, sizeof(peer->why), "cannot set up TLS");
        return -EPROTO;
    }
    if (inet_pton(AF_INET, peer->host, &a4) != 1 && inet_pton(AF_INET6, peer->host, &a6) != 1)
        SSL_set_tlsext_host_name(c->ssl, peer->host);
    for (;;) {
        r = SSL_connect(c->ssl);
        if (r == 1)
            return BB_OK;
        int e = SSL_get_error(c->ssl, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            int w = wait_fd(c->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline);
            if (w < 0) {
                snprintf(peer->why, sizeof(peer->why),
                         "no TLS handshake: %s (is this the daemon's https port?)", bb_strerror(w));
                return w;
            }
            continue;
        }
        break;
    }
    {
        long vr = SSL_get_verify_result(c->ssl);
        if (vr != X509_V_OK) {
            ERR_clear_error();
            snprintf(peer->why, sizeof(peer->why),
                     "the daemon's TLS certificate was not accepted: %s (--ca %s is not the CA "
                     "that signed it; give the daemon's tls_cert)",
                     X509_verify_cert_error_string(vr), peer->ca_file ? peer->ca_file : "-");
        } else {
            ssl_why(peer->why, sizeof(peer->why), "TLS handshake failed (is this the https port?)");
        }
    }
    return -EPROTO;
}

static int conn_send_all(struct conn *c, const char *p, size_t n, int64_t deadline)
{
    while (n > 0) {
        if (c->ssl != NULL) {
            int w = SSL_write(c->ssl, p, n > INT32_MAX ? INT32_MAX : (int)n);
            if (w <= 0) {
                int rc = ssl_wait(c, w, deadline);
                if (rc < 0)
                    return rc;
                if (rc == 0)
                    return -ECONNRESET;
                continue;
            }
            p += w;
            n -= (size_t)w;
            continue;
        }
        ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                int rc = wait_fd(c->fd, POLLOUT, deadline);
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

/* Reads some bytes into @buf: > 0 bytes read, 0 at the end, or a negative
 * code. */
static ssize_t conn_recv(struct conn *c, char *buf, size_t len, int64_t deadline)
{
    for (;;) {
        if (c->ssl != NULL) {
            int r = SSL_read(c->ssl, buf, (int)len);
            if (r > 0)
                return r;
            int e = SSL_get_error(c->ssl, r);
            if (e == SSL_ERROR_ZERO_RETURN)
                return 0;
            if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
                ERR_clear_error();
                return 0; /* a close without close_notify: the body decides */
            }
            int rc = ssl_wait(c, r, deadline);
            if (rc <= 0)
                return rc < 0 ? rc : 0;
            continue;
        }
        ssize_t r = recv(c->fd, buf, len, 0);
        if (r >= 0)
            return r;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            int rc = wait_fd(c->fd, POLLIN, deadline);
            if (rc < 0)
                return rc;
            continue;
        }
        return -errno;
    }
}

static void conn_close(struct conn *c)
{
    if (c->ssl != NULL)
        SSL_free(c->ssl);
    if (c->ctx != NULL)
        SSL_CTX_free(c->ctx);
    if (c->fd >= 0)
        close(c->fd);
    c->ssl = NULL;
    c->ctx = NULL;
    c->fd = -1;
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

int cli_http_send(struct cli_http_peer *peer, const char *method, const char *target,
                  const char *const *headers, const char *body, size_t body_len, int64_t timeout_ms,
                  struct cli_http_resp *out)
{
    int64_t deadline = mono_ms() + timeout_ms;
    const char *host = peer->host;
    int port = peer->port;
    struct conn conn = {.fd = -1};
    struct bb_buf req, in;
    int rc;

    peer->why[0] = '\0';
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

    rc = dial(host, port, deadline, &conn.fd);
    if (rc < 0)
        goto out;
    if (peer->tls) {
        rc = tls_start(&conn, peer, deadline);
        if (rc < 0)
            goto out;
    }
    rc = conn_send_all(&conn, req.data, req.len, deadline);
    if (rc < 0)
        goto out;
    for (;;) {
        char chunk[READ_CHUNK];
        ssize_t r = conn_recv(&conn, chunk, sizeof(chunk), deadline);
        if (r < 0) {
            rc = (int)r;
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
    conn_close(&conn);
    bb_buf_cleanup(&in);
    bb_buf_cleanup(&req);
    return rc;
}

int cli_http_tls_check(struct cli_http_peer *peer, int64_t timeout_ms)
{
    int64_t deadline = mono_ms() + timeout_ms;
    struct conn conn = {.fd = -1};
    int rc;

    peer->why[0] = '\0';
    rc = dial(peer->host, peer->port, deadline, &conn.fd);
    if (rc == BB_OK)
        rc = tls_start(&conn, peer, deadline);
    if (rc == BB_OK)
        SSL_shutdown(conn.ssl);
    conn_close(&conn);
    return rc;
}

int cli_http_request(const char *host, int port, const char *method, const char *target,
                     const char *const *headers, const char *body, size_t body_len,
                     int64_t timeout_ms, struct cli_http_resp *out)
{
    struct cli_http_peer peer = {.host = host, .port = port};

    return cli_http_send(&peer, method, target, headers, body, body_len, timeout_ms, out);
}

void cli_http_resp_cleanup(struct cli_http_resp *r)
{
    free(r->body);
    memset(r, 0, sizeof(*r));
}
