/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for emulator/s3/s3_sigv4.c. Input, one field a line:
 *   Authorization value / raw query / method / raw path / header lines
 *   ("name:value", up to S3_SIGV4_MAX_SIGNED_HEADERS of them).
 * Both auth parsers run; their string fields must be NUL-terminated in
 * their arrays. The canonical request is built with the signed headers one
 * of them gave (else "host;x-amz-date") and, when it builds, signed. The
 * URI codec is checked on the path: decode(encode(x)) == x for both slash
 * modes, encoding yields only unreserved bytes and %XX, and
 * encode(decode(.)) is a fixed point after one round (abort if not).
 */
#include "s3_sigv4.h"
#include "bb_buf.h"
#include "fuzz_util.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CAP (1 << 20)

static void check_auth(const struct s3_sigv4_auth *a)
{
    if (strnlen(a->akid, sizeof(a->akid)) == sizeof(a->akid) ||
        strnlen(a->date, sizeof(a->date)) == sizeof(a->date) ||
        strnlen(a->region, sizeof(a->region)) == sizeof(a->region) ||
        strnlen(a->service, sizeof(a->service)) == sizeof(a->service) ||
        strnlen(a->scope, sizeof(a->scope)) == sizeof(a->scope) ||
        strnlen(a->signed_headers, sizeof(a->signed_headers)) == sizeof(a->signed_headers) ||
        strnlen(a->signature, sizeof(a->signature)) == sizeof(a->signature) ||
        strnlen(a->amz_date, sizeof(a->amz_date)) == sizeof(a->amz_date))
        abort();
}

static int is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

static void check_uri(const char *s, size_t n)
{
    struct bb_buf e, d, e2, d2;

    for (int slash = 0; slash < 2; slash++) {
        bb_buf_init(&e, CAP);
        bb_buf_init(&d, CAP);
        if (s3_sigv4_uri_encode(&e, s, n, slash) == 0) {
            for (size_t i = 0; i < e.len; i++) {
                unsigned char c = (unsigned char)e.data[i];
                if (c == '%' && e.len - i >= 3 && isxdigit((unsigned char)e.data[i + 1]) &&
                    isxdigit((unsigned char)e.data[i + 2]))
                    i += 2;
                else if (!is_unreserved(c) && !(slash && c == '/'))
                    abort();
            }
            if (s3_sigv4_uri_decode(&d, e.data, e.len, false) != 0 || d.len != n ||
                (n > 0 && memcmp(d.data, s, n) != 0))
                abort();
        }
        bb_buf_cleanup(&e);
        bb_buf_cleanup(&d);
    }
    /* encode(decode(x)) is canonical: another round leaves it alone */
    bb_buf_init(&d, CAP);
    bb_buf_init(&e, CAP);
    bb_buf_init(&d2, CAP);
    bb_buf_init(&e2, CAP);
    if (s3_sigv4_uri_decode(&d, s, n, true) == 0 &&
        s3_sigv4_uri_encode(&e, d.data, d.len, true) == 0) {
        if (s3_sigv4_uri_decode(&d2, e.data, e.len, true) != 0 ||
            s3_sigv4_uri_encode(&e2, d2.data, d2.len, true) != 0 || e2.len != e.len ||
            (e.len > 0 && memcmp(e.data, e2.data, e.len) != 0))
            abort();
    }
    bb_buf_cleanup(&d);
    bb_buf_cleanup(&e);
    bb_buf_cleanup(&d2);
    bb_buf_cleanup(&e2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {(const char *)data, size};
    struct s3_sigv4_header hdrs[S3_SIGV4_MAX_SIGNED_HEADERS];
    struct s3_sigv4_auth ah, aq;
    const char *why = NULL;
    const char *auth, *query, *method, *path;
    size_t alen, qlen, mlen, plen, nhdrs = 0;
    char meth[32];
    const char *signed_headers = "host;x-amz-date";
    bool presigned = false;
    struct bb_buf creq, sts;

    auth = fuzz_line(&in, &alen);
    query = fuzz_line(&in, &qlen);
    method = fuzz_line(&in, &mlen);
    path = fuzz_line(&in, &plen);
    while (in.n > 0 && nhdrs < S3_SIGV4_MAX_SIGNED_HEADERS) {
        size_t l;
        const char *line = fuzz_line(&in, &l);
        const char *colon = memchr(line, ':', l);
        if (colon == NULL)
            continue;
        hdrs[nhdrs].name = line;
        hdrs[nhdrs].name_len = (size_t)(colon - line);
        hdrs[nhdrs].value = colon + 1;
        hdrs[nhdrs].value_len = l - hdrs[nhdrs].name_len - 1;
        nhdrs++;
    }

    if (s3_sigv4_parse_header(auth, alen, &ah, &why) == 0) {
        check_auth(&ah);
        signed_headers = ah.signed_headers;
    }
    if (s3_sigv4_parse_query(query, qlen, &aq, &why) == 0) {
        check_auth(&aq);
        signed_headers = aq.signed_headers;
        presigned = true;
    }
    if (mlen >= sizeof(meth) || memchr(method, '\0', mlen) != NULL)
        mlen = 0;
    memcpy(meth, method, mlen);
    meth[mlen] = '\0';

    bb_buf_init(&creq, CAP);
    bb_buf_init(&sts, CAP);
    if (s3_sigv4_canonical_request(&creq, meth, path, plen, qlen ? query : NULL, qlen, hdrs, nhdrs,
                                   signed_headers, "UNSIGNED-PAYLOAD", presigned) == 0 &&
        creq.len > 0 &&
        s3_sigv4_string_to_sign(&sts, "20130524T000000Z", "20130524/us-east-1/s3/aws4_request",
                                creq.data, creq.len) == 0) {
        unsigned char key[32];
        char hex[65];
        s3_sigv4_signing_key("secret", "20130524", "us-east-1", "s3", key);
        s3_sigv4_sign(key, sts.data, sts.len, hex);
    }
    bb_buf_cleanup(&creq);
    bb_buf_cleanup(&sts);
    check_uri(path, plen);
    return 0;
}
