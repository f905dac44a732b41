/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for emulator/s3/s3_form.c, the multipart/form-data
 * parser of POST Object. Input: one byte seeding the split sizes and
 * whether an end callback stops the parse, a Content-Type line (when its
 * boundary does not parse, "b0undary" is used), then the body. The body is
 * fed whole and in random pieces; both runs must return the same and write
 * the same transcript of begins (name, filename, type), data and ends
 * (abort if not).
 */
#include "s3_form.h"
#include "bb_buf.h"
#include "bb_err.h"
#include "fuzz_util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct run {
    struct bb_buf log;
    int stop_after; /* end callback returns 1 at this part (0: never) */
    int parts;
};

static int on_begin(void *arg, const struct s3_form_part *p)
{
    struct run *r = arg;

    if (p->name == NULL)
        abort();
    r->parts++;
    return bb_buf_appendf(&r->log, "B[%s][%s][%s]", p->name, p->filename ? p->filename : "-",
                          p->content_type ? p->content_type : "-") < 0
               ? -1000
               : 0;
}

static int on_data(void *arg, const char *p, size_t n)
{
    struct run *r = arg;

    if (n == 0)
        abort(); /* empty pieces are never handed out */
    return bb_buf_append(&r->log, p, n) < 0 ? -1000 : 0;
}

static int on_end(void *arg)
{
    struct run *r = arg;

    if (bb_buf_appends(&r->log, "E") < 0)
        return -1000;
    return r->parts == r->stop_after ? 1 : 0;
}

static int decode(const char *boundary, const char *body, size_t n, uint32_t seed, struct run *r)
{
    struct s3_form f;
    const char *why = NULL;
    size_t off = 0;
    int rc = 0;

    s3_form_init(&f, boundary, on_begin, on_data, on_end, r);
    while (off < n && rc == 0) {
        size_t k = seed == 0 ? n - off : fuzz_piece(&seed, n - off);
        rc = s3_form_feed(&f, body + off, k, &why);
        off += k;
    }
    if (rc == BB_EINVAL && why == NULL)
        abort();
    if (rc == 0 && s3_form_done(&f))
        (void)bb_buf_appends(&r->log, "D");
    s3_form_cleanup(&f);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {(const char *)data, size};
    unsigned s = fuzz_byte(&in);
    uint32_t seed = 0xf0e000u | s;
    char ct[512];
    char boundary[S3_FORM_BOUNDARY_MAX + 1];
    size_t cl;
    const char *line = fuzz_line(&in, &cl);
    struct run a = {.stop_after = (int)(s >> 6)}, b = {.stop_after = (int)(s >> 6)};
    int ra, rb;

    if (cl >= sizeof(ct))
        cl = sizeof(ct) - 1;
    memcpy(ct, line, cl);
    ct[cl] = '\0';
    if (s3_form_boundary(ct, boundary, sizeof(boundary)) != 0)
        snprintf(boundary, sizeof(boundary), "b0undary");
    else if (strlen(boundary) == 0 || strlen(boundary) > S3_FORM_BOUNDARY_MAX ||
             strpbrk(boundary, "\r\n") != NULL)
        abort();

    bb_buf_init(&a.log, 1 << 20);
    bb_buf_init(&b.log, 1 << 20);
    ra = decode(boundary, in.p, in.n, 0, &a);
    rb = decode(boundary, in.p, in.n, seed, &b);
    if (ra != rb || (ra == 0 && (a.log.len != b.log.len ||
                                 (a.log.len > 0 && memcmp(a.log.data, b.log.data, a.log.len)))))
        abort();
    bb_buf_cleanup(&a.log);
    bb_buf_cleanup(&b.log);
    return 0;
}
