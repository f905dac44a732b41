/* SPDX-License-Identifier: MIT */
/*
 * bb_nullsrv: an HTTP/1.1 server that does nothing, the load generator's ceiling.
 *
 * One thread, epoll, keep-alive. For every request it reads the head, skips a
 * Content-Length body and answers "200 OK" with an empty body. It honours
 * "Expect: 100-continue" and "Connection: close", refuses chunked bodies with
 * 501, and serves pipelined requests in order. It binds loopback addresses only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define IN_CAP 65536
#define OUT_CAP 4096
#define MAX_EVENTS 64

static const char resp_ok[] = "HTTP/1.1 200 OK\r\nServer: bb_nullsrv\r\nContent-Length: 0\r\n\r\n";
static const char resp_continue[] = "HTTP/1.1 100 Continue\r\n\r\n";
static const char resp_too_big[] = "HTTP/1.1 431 Request Header Fields Too Large\r\n"
                                   "Content-Length: 0\r\nConnection: close\r\n\r\n";
static const char resp_chunked[] = "HTTP/1.1 501 Not Implemented\r\n"
                                   "Content-Length: 0\r\nConnection: close\r\n\r\n";
static const char resp_bad[] = "HTTP/1.1 400 Bad Request\r\n"
                               "Content-Length: 0\r\nConnection: close\r\n\r\n";

struct conn {
    int fd;
    bool close_after; /* close once out is flushed */
    bool want_out;    /* EPOLLOUT is armed */
    bool keep_alive;  /* of the request being read */
    uint64_t body_left;
    size_t in_len;
    size_t out_len;
    char in[IN_CAP];
    char out[OUT_CAP];
};

static int epfd = -1;

static void conn_close(struct conn *c)
{
    epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c);
}

static bool queue(struct conn *c, const char *s, size_t n)
{
    if (c->out_len + n > OUT_CAP)
        return false;
    memcpy(c->out + c->out_len, s, n);
    c->out_len += n;
    return true;
}

/* Write what is queued; returns false if the connection must go. */
static bool flush_out(struct conn *c)
{
    size_t off = 0;
    bool want;

    while (off < c->out_len) {
        ssize_t n = send(c->fd, c->out + off, c->out_len - off, MSG_NOSIGNAL);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            return false;
        }
        off += (size_t)n;
    }
    memmove(c->out, c->out + off, c->out_len - off);
    c->out_len -= off;
    if (c->out_len == 0 && c->close_after)
        return false;
    want = c->out_len > 0;
    if (want != c->want_out) {
        struct epoll_event ev = {.events = want ? EPOLLOUT : EPOLLIN, .data.ptr = c};

        epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
        c->want_out = want;
    }
    return true;
}

/* Case-insensitive: does the head line at p (length n) name header `name`? */
static const char *header_value(const char *p, size_t n, const char *name)
{
    size_t k = strlen(name);

    if (n <= k || strncasecmp(p, name, k) != 0 || p[k] != ':')
        return NULL;
    p += k + 1;
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* Parse one request head of len bytes (ending in CRLFCRLF); false = answered with an error. */
static bool parse_head(struct conn *c, const char *head, size_t len)
{
    const char *p = head;
    const char *end = head + len;
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    bool http10;
    bool chunked = false;
    bool expect = false;

    if (!eol || eol - p < 14) {
        queue(c, resp_bad, sizeof(resp_bad) - 1);
        return false;
    }
    http10 = memcmp(eol - 9, "HTTP/1.0", 8) == 0;
    c->keep_alive = !http10;
    c->body_left = 0;
    for (p = eol + 1; p < end; p = eol + 1) {
        const char *v;
        size_t n;

        eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            break;
        n = (size_t)(eol - p);
        if ((v = header_value(p, n, "content-length")) != NULL) {
            char *stop;

            errno = 0;
            c->body_left = strtoull(v, &stop, 10);
            if (errno || stop == v) {
                queue(c, resp_bad, sizeof(resp_bad) - 1);
                return false;
            }
        } else if ((v = header_value(p, n, "transfer-encoding")) != NULL) {
            chunked = strncasecmp(v, "identity", 8) != 0;
        } else if ((v = header_value(p, n, "expect")) != NULL) {
            expect = strncasecmp(v, "100-continue", 12) == 0;
        } else if ((v = header_value(p, n, "connection")) != NULL) {
            if (strncasecmp(v, "close", 5) == 0)
                c->keep_alive = false;
            else if (strncasecmp(v, "keep-alive", 10) == 0)
                c->keep_alive = true;
        }
    }
    if (chunked) {
        queue(c, resp_chunked, sizeof(resp_chunked) - 1);
        return false;
    }
    if (expect && c->body_left > 0)
        queue(c, resp_continue, sizeof(resp_continue) - 1);
    return true;
}

/* Consume buffered input: heads, bodies, answers. True if it stopped for lack of room to
 * answer, with complete requests still buffered. */
static bool process(struct conn *c)
{
    size_t pos = 0;
    bool blocked = false;

    while (pos < c->in_len) {
        if (c->body_left > 0) {
            size_t n = c->in_len - pos;

            if (n > c->body_left)
                n = (size_t)c->body_left;
            if (n == c->body_left && c->out_len + sizeof(resp_ok) > OUT_CAP) {
                blocked = true; /* answer after a flush */
                break;
            }
            pos += n;
            c->body_left -= n;
            if (c->body_left > 0)
                break;
            queue(c, resp_ok, sizeof(resp_ok) - 1);
            if (!c->keep_alive)
                c->close_after = true;
            continue;
        }
        char *head = c->in + pos;
        size_t avail = c->in_len - pos;
        char *hend = memmem(head, avail, "\r\n\r\n", 4);

        if (!hend) {
            if (pos == 0 && avail == IN_CAP) {
                queue(c, resp_too_big, sizeof(resp_too_big) - 1);
                c->close_after = true;
            }
            break;
        }
        size_t hlen = (size_t)(hend - head) + 4;

        if (c->out_len + sizeof(resp_continue) + sizeof(resp_ok) > OUT_CAP) {
            blocked = true; /* answer after a flush */
            break;
        }
        pos += hlen;
        if (!parse_head(c, head, hlen)) {
            c->close_after = true;
            break;
        }
        if (c->body_left == 0) {
            queue(c, resp_ok, sizeof(resp_ok) - 1);
            if (!c->keep_alive) {
                c->close_after = true;
                break;
            }
        }
    }
    memmove(c->in, c->in + pos, c->in_len - pos);
    c->in_len -= pos;
    if (c->close_after)
        c->in_len = 0;
    return blocked;
}

static void on_readable(struct conn *c)
{
    for (;;) {
        ssize_t n;
        bool blocked = process(c);

        if (!flush_out(c)) {
            conn_close(c);
            return;
        }
        /* closing once flushed, or answers are pending: EPOLLOUT resumes us */
        if (c->close_after || c->out_len > 0)
            return;
        if (blocked || c->in_len == IN_CAP)
            continue; /* answers are out: process more of what is buffered */
        n = recv(c->fd, c->in + c->in_len, IN_CAP - c->in_len, 0);
        if (n == 0) {
            conn_close(c);
            return;
        }
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                conn_close(c);
            return;
        }
        c->in_len += (size_t)n;
    }
}

static void on_accept(int lfd)
{
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        int one = 1;
        struct conn *c;
        struct epoll_event ev;

        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            return; /* EAGAIN, or out of fds: try again on the next event */
        }
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        c = calloc(1, sizeof(*c));
        if (!c) {
            close(fd);
            continue;
        }
        c->fd = fd;
        ev.events = EPOLLIN;
        ev.data.ptr = c;
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
            close(fd);
            free(c);
        }
    }
}

static int listen_on(const char *spec)
{
    char host[64];
    const char *colon = strrchr(spec, ':');
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t slen = sizeof(sa);
    int fd;
    int one = 1;
    long port;
    char *end;

    if (!colon || (size_t)(colon - spec) >= sizeof(host)) {
        fprintf(stderr, "bb_nullsrv: --listen wants HOST:PORT\n");
        exit(2);
    }
    memcpy(host, spec, (size_t)(colon - spec));
    host[colon - spec] = '\0';
    port = strtol(colon + 1, &end, 10);
    if (*end != '\0' || port < 0 || port > 65535 || inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        fprintf(stderr, "bb_nullsrv: bad --listen %s\n", spec);
        exit(2);
    }
    if ((ntohl(sa.sin_addr.s_addr) >> 24) != 127) {
        fprintf(stderr, "bb_nullsrv: refusing to listen outside 127.0.0.0/8\n");
        exit(2);
    }
    sa.sin_port = htons((uint16_t)port);
    fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 1024) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &slen) != 0) {
        perror("bb_nullsrv: listen");
        exit(1);
    }
    fprintf(stderr, "bb_nullsrv: listening on %s:%u\n", host, (unsigned)ntohs(sa.sin_port));
    return fd;
}

int main(int argc, char **argv)
{
    const char *spec = "127.0.0.1:8080";
    struct epoll_event ev = {.events = EPOLLIN};
    struct epoll_event events[MAX_EVENTS];
    int lfd;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc) {
            spec = argv[++i];
        } else {
            fprintf(stderr, "usage: bb_nullsrv [--listen 127.0.0.1:PORT]\n");
            return 2;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    lfd = listen_on(spec);
    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0) {
        perror("bb_nullsrv: epoll_create1");
        return 1;
    }
    ev.data.ptr = NULL; /* NULL marks the listening socket */
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &ev) != 0) {
        perror("bb_nullsrv: epoll_ctl");
        return 1;
    }
    for (;;) {
        int n = epoll_wait(epfd, events, MAX_EVENTS, -1);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            perror("bb_nullsrv: epoll_wait");
            return 1;
        }
        for (int i = 0; i < n; i++) {
            struct conn *c = events[i].data.ptr;

            if (!c) {
                on_accept(lfd);
            } else if (events[i].events & (EPOLLERR | EPOLLHUP) && !(events[i].events & EPOLLIN)) {
                conn_close(c);
            } else if (events[i].events & EPOLLIN) {
                on_readable(c);
            } else if (events[i].events & EPOLLOUT) {
                if (!flush_out(c))
                    conn_close(c);
                else
                    on_readable(c);
            }
        }
    }
}
