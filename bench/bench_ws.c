/* SPDX-License-Identifier: MIT */
#include "bench_ws.h"

#include "bb_err.h"
#include "bench_daemon.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define IO_TIMEOUT_MS 10000

/* Waits for @events on @fd until @deadline_ns; 0 when ready. */
static int wait_fd(int fd, short events, int64_t deadline_ns)
{
    for (;;) {
        int64_t left = (deadline_ns - bench_now_ns()) / 1000000;
        if (left <= 0)
            return -ETIMEDOUT;
        struct pollfd p = {.fd = fd, .events = events};
        int n = poll(&p, 1, (int)left);
        if (n > 0)
            return 0;
        if (n < 0 && errno != EINTR)
            return -errno;
    }
}

static int write_all(int fd, const void *data, size_t len)
{
    const unsigned char *p = data;
    int64_t deadline = bench_now_ns() + (int64_t)IO_TIMEOUT_MS * 1000000;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int rc = wait_fd(fd, POLLOUT, deadline);
            if (rc != 0)
                return rc;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            return n < 0 ? -errno : -EPIPE;
        }
    }
    return 0;
}

static int rx_reserve(struct bench_ws *w, size_t more)
{
    if (w->rx_len + more <= w->rx_cap)
        return 0;
    size_t cap = w->rx_cap ? w->rx_cap : 65536;
    while (cap < w->rx_len + more)
        cap *= 2;
    unsigned char *p = realloc(w->rx, cap);
    if (p == NULL)
        return -ENOMEM;
    w->rx = p;
    w->rx_cap = cap;
    return 0;
}

int bench_ws_connect(struct bench_ws *w, int port, const char *token)
{
    unsigned char nonce[16], sha[SHA_DIGEST_LENGTH];
    char key[32], accept_want[40], req[1024], concat[128];
    int rc = 0, one = 1;
    struct sockaddr_in sa;
    int64_t deadline = bench_now_ns() + (int64_t)IO_TIMEOUT_MS * 1000000;

    memset(w, 0, sizeof(*w));
    w->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (w->fd < 0) {
        rc = -errno;
        goto out;
    }
    setsockopt(w->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(w->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        rc = -errno;
        goto out;
    }
    if (RAND_bytes(nonce, sizeof(nonce)) != 1) {
        rc = BB_EAGAIN;
        goto out;
    }
    EVP_EncodeBlock((unsigned char *)key, nonce, sizeof(nonce));
    snprintf(concat, sizeof(concat), "%s%s", key, WS_GUID);
    SHA1((const unsigned char *)concat, strlen(concat), sha);
    EVP_EncodeBlock((unsigned char *)accept_want, sha, sizeof(sha));

    int n = snprintf(req, sizeof(req),
                     "GET /_bucketbridge/events%s%s HTTP/1.1\r\n"
                     "Host: 127.0.0.1:%d\r\n"
                     "Upgrade: websocket\r\n"
                     "Connection: Upgrade\r\n"
                     "Sec-WebSocket-Key: %s\r\n"
                     "Sec-WebSocket-Version: 13\r\n\r\n",
                     token && *token ? "?token=" : "", token && *token ? token : "", port, key);
    if (n < 0 || (size_t)n >= sizeof(req)) {
        rc = BB_EINVAL;
        goto out;
    }
    rc = write_all(w->fd, req, (size_t)n);
    if (rc != 0)
        goto out;

    /* the answer's head; bytes after it are the first frames */
    char *end = NULL;
    while (end == NULL) {
        if ((rc = rx_reserve(w, 4096)) != 0)
            goto out;
        if (w->rx_len > 16384) {
            rc = BB_ECORRUPT;
            goto out;
        }
        if ((rc = wait_fd(w->fd, POLLIN, deadline)) != 0)
            goto out;
        ssize_t got = recv(w->fd, w->rx + w->rx_len, w->rx_cap - w->rx_len - 1, 0);
        if (got <= 0) {
            rc = got < 0 ? -errno : -ECONNRESET;
            goto out;
        }
        w->rx_len += (size_t)got;
        w->rx[w->rx_len] = '\0';
        end = strstr((char *)w->rx, "\r\n\r\n");
    }
    size_t head_len = (size_t)(end + 4 - (char *)w->rx);
    if (strncmp((char *)w->rx, "HTTP/1.1 101", 12) != 0) {
        fprintf(stderr, "bench_ws: handshake refused: %.*s\n", (int)head_len, (char *)w->rx);
        rc = BB_EAGAIN;
        goto out;
    }
    char *acc = strcasestr((char *)w->rx, "\r\nSec-WebSocket-Accept:");
    if (acc == NULL || acc > end) {
        rc = BB_ECORRUPT;
        goto out;
    }
    acc += strlen("\r\nSec-WebSocket-Accept:");
    while (*acc == ' ')
        acc++;
    if (strncmp(acc, accept_want, strlen(accept_want)) != 0) {
        rc = BB_EBADSIG;
        goto out;
    }
    memmove(w->rx, w->rx + head_len, w->rx_len - head_len);
    w->rx_len -= head_len;
    int fl = fcntl(w->fd, F_GETFL);
    if (fl < 0 || fcntl(w->fd, F_SETFL, fl | O_NONBLOCK) != 0) {
        rc = -errno;
        goto out;
    }
out:
    if (rc != 0)
        bench_ws_close(w);
    return rc;
}

/* Sends one masked frame with @opcode. */
static int send_frame(struct bench_ws *w, int opcode, const void *data, size_t len)
{
    unsigned char hdr[14], mask[4];
    size_t h = 0;
    int rc;

    if (w->fd < 0)
        return -EPIPE;
    hdr[h++] = (unsigned char)(0x80 | opcode);
    if (len < 126) {
        hdr[h++] = (unsigned char)(0x80 | len);
    } else if (len <= 0xffff) {
        hdr[h++] = 0x80 | 126;
        hdr[h++] = (unsigned char)(len >> 8);
        hdr[h++] = (unsigned char)len;
    } else {
        hdr[h++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--)
            hdr[h++] = (unsigned char)((uint64_t)len >> (8 * i));
    }
    if (RAND_bytes(mask, sizeof(mask)) != 1)
        return BB_EAGAIN;
    memcpy(hdr + h, mask, 4);
    h += 4;
    unsigned char *buf = malloc(h + len);
    if (buf == NULL)
        return -ENOMEM;
    memcpy(buf, hdr, h);
    const unsigned char *src = data;
    for (size_t i = 0; i < len; i++)
        buf[h + i] = src[i] ^ mask[i & 3];
    rc = write_all(w->fd, buf, h + len);
    free(buf);
    return rc;
}

int bench_ws_send(struct bench_ws *w, const char *text, size_t len)
{
    return send_frame(w, 0x1, text, len);
}

static int frag_append(struct bench_ws *w, const unsigned char *p, size_t n)
{
    if (w->frag_len + n + 1 > w->frag_cap) {
        size_t cap = w->frag_cap ? w->frag_cap : 65536;
        while (cap < w->frag_len + n + 1)
            cap *= 2;
        char *q = realloc(w->frag, cap);
        if (q == NULL)
            return -ENOMEM;
        w->frag = q;
        w->frag_cap = cap;
    }
    memcpy(w->frag + w->frag_len, p, n);
    w->frag_len += n;
    w->frag[w->frag_len] = '\0';
    return 0;
}

/* Cuts complete frames off w->rx. Returns messages delivered, or -1. */
static int parse_frames(struct bench_ws *w, bench_ws_msg_cb *cb, void *arg)
{
    size_t off = 0;
    int msgs = 0;

    for (;;) {
        unsigned char *p = w->rx + off;
        size_t avail = w->rx_len - off, h = 2;
        if (avail < 2)
            break;
        int fin = p[0] & 0x80, opcode = p[0] & 0x0f, masked = p[1] & 0x80;
        uint64_t len = p[1] & 0x7f;
        if (len == 126) {
            if (avail < 4)
                break;
            len = ((uint64_t)p[2] << 8) | p[3];
            h = 4;
        } else if (len == 127) {
            if (avail < 10)
                break;
            len = 0;
            for (int i = 0; i < 8; i++)
                len = (len << 8) | p[2 + i];
            h = 10;
        }
        if (masked)
            return -1; /* servers never mask */
        if (len > (uint64_t)64 * 1024 * 1024)
            return -1;
        if (avail < h + len)
            break;
        unsigned char *payload = p + h;
        size_t plen = (size_t)len;
        off += h + plen;

        if (opcode == 0x8) {
            return -1;
        } else if (opcode == 0x9) {
            if (send_frame(w, 0xA, payload, plen) != 0)
                return -1;
        } else if (opcode == 0xA) {
            /* unsolicited pong: ignore */
        } else if (opcode == 0x1 && fin && !w->in_frag) {
            /* the common case: borrow the buffer, NUL-terminate in place */
            int last = off == w->rx_len;
            if (last && rx_reserve(w, 1) != 0)
                return -1;
            payload = w->rx + (off - plen); /* rx may have moved */
            unsigned char saved = last ? 0 : payload[plen];
            payload[plen] = '\0';
            cb(w, (char *)payload, plen, arg);
            payload[plen] = saved;
            msgs++;
        } else if (opcode == 0x1 || opcode == 0x0) {
            if (opcode == 0x1)
                w->frag_len = 0;
            w->in_frag = 1;
            if (frag_append(w, payload, plen) != 0)
                return -1;
            if (fin) {
                w->in_frag = 0;
                cb(w, w->frag, w->frag_len, arg);
                msgs++;
            }
        } else if (opcode == 0x2) {
            /* binary: not part of the protocol; skip */
        } else {
            return -1;
        }
        if (w->fd < 0)
            return -1;
    }
    if (off > 0) {
        memmove(w->rx, w->rx + off, w->rx_len - off);
        w->rx_len -= off;
    }
    return msgs;
}

int bench_ws_read(struct bench_ws *w, bench_ws_msg_cb *cb, void *arg)
{
    int total = 0;

    if (w->fd < 0)
        return -1;
    for (;;) {
        if (rx_reserve(w, 65536) != 0)
            goto fail;
        ssize_t n = recv(w->fd, w->rx + w->rx_len, w->rx_cap - w->rx_len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n <= 0)
            goto fail;
        w->rx_len += (size_t)n;
        int m = parse_frames(w, cb, arg);
        if (m < 0)
            goto fail;
        total += m;
    }
    return total;
fail:
    bench_ws_close(w);
    return -1;
}

void bench_ws_close(struct bench_ws *w)
{
    if (w->fd >= 0)
        close(w->fd);
    w->fd = -1;
    free(w->rx);
    free(w->frag);
    w->rx = NULL;
    w->frag = NULL;
    w->rx_len = w->rx_cap = w->frag_len = w->frag_cap = 0;
    w->in_frag = 0;
}
