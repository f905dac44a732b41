/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for emulator/http_parse.c, the request head and chunked
 * body as the S3 port sees them. Input: one byte seeding the split sizes,
 * then a request (head + body). The head is found and parsed; every field
 * must lie inside the head and hold no CR or LF. The body after it goes
 * through the chunked decoder twice, whole and in random pieces: both must
 * agree on failure, decoded bytes and bytes consumed (abort if not).
 */
#include "http_parse.h"
#include "bb_buf.h"
#include "fuzz_util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int sink_cb(void *arg, const char *p, size_t n)
{
    return bb_buf_append(arg, p, n) < 0 ? -1000 : 0;
}

/* Aborts unless [p, p+n) lies inside [lo, hi) and holds no CR or LF. */
static void check_field(const char *p, size_t n, const char *lo, const char *hi)
{
    if (n == 0)
        return;
    if (p < lo || p + n > hi || memchr(p, '\r', n) != NULL || memchr(p, '\n', n) != NULL)
        abort();
}

static void check_head(const char *buf, long len)
{
    struct http_head *h = malloc(sizeof(*h));
    const char *end = buf + len;
    size_t vl = 0;

    if (h == NULL || http_parse_head(buf, (size_t)len, h) != 0)
        goto out;
    if (h->method_len == 0 || h->path_len == 0 || h->path[0] != '/' || h->minor_version > 1)
        abort();
    check_field(h->method, h->method_len, buf, end);
    check_field(h->path, h->path_len, buf, end);
    if (memchr(h->path, '?', h->path_len) != NULL)
        abort();
    if (h->query != NULL)
        check_field(h->query, h->query_len, buf, end);
    if (h->nheaders > HTTP_MAX_HEADERS)
        abort();
    for (size_t i = 0; i < h->nheaders; i++) {
        check_field(h->headers[i].name, h->headers[i].name_len, buf, end);
        check_field(h->headers[i].value, h->headers[i].value_len, buf, end);
        if (h->headers[i].name_len == 0)
            abort();
    }
    if (http_head_get(h, "host", &vl) != NULL && vl > (size_t)len)
        abort();
out:
    free(h);
}

/* Decodes @body in pieces from @seed; returns BB_OK-style status. */
static long decode(const char *body, size_t n, uint32_t seed, struct bb_buf *out, size_t *used)
{
    struct http_chunked c;
    size_t off = 0;

    http_chunked_init(&c);
    *used = 0;
    while (off < n) {
        size_t k = seed == 0 ? n - off : fuzz_piece(&seed, n - off);
        long r = http_chunked_feed(&c, body + off, k, sink_cb, out);
        if (r < 0)
            return r;
        if ((size_t)r > k)
            abort();
        off += (size_t)r;
        if ((size_t)r < k) {
            if (!c.done)
                abort(); /* stopped early without having ended */
            break;
        }
    }
    *used = off;
    return c.done;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {(const char *)data, size};
    uint32_t seed = 0x9e3700u | fuzz_byte(&in);
    long head = http_parse_head_end(in.p, in.n);
    struct bb_buf a, b;
    size_t used_a, used_b;
    long ra, rb;

    if (head < 0)
        return 0;
    if (head > 0) {
        if ((size_t)head > in.n || head < 4 || memcmp(in.p + head - 4, "\r\n\r\n", 4) != 0)
            abort();
        check_head(in.p, head);
        in.p += head;
        in.n -= (size_t)head;
    }
    bb_buf_init(&a, 1 << 20);
    bb_buf_init(&b, 1 << 20);
    ra = decode(in.p, in.n, 0, &a, &used_a);
    rb = decode(in.p, in.n, seed, &b, &used_b);
    if ((ra < 0) != (rb < 0))
        abort();
    if (ra >= 0 && (ra != rb || used_a != used_b || a.len != b.len ||
                    (a.len > 0 && memcmp(a.data, b.data, a.len) != 0)))
        abort();
    bb_buf_cleanup(&a);
    bb_buf_cleanup(&b);
    return 0;
}
