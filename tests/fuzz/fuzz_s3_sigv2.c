/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for emulator/s3/s3_sigv2.c. Input, one field a line:
 *   Authorization value / raw query / method / raw path / Date / header
 *   lines ("name:value", up to 64).
 * The header parser must hand back NUL-terminated fields that rebuild the
 * value; the string to sign is built and, when it builds, signed.
 */
#include "s3_sigv2.h"
#include "bb_buf.h"
#include "fuzz_util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_HDRS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {(const char *)data, size};
    struct s3_sigv4_header hdrs[MAX_HDRS];
    const char *auth, *query, *method, *path, *date;
    size_t alen, qlen, mlen, plen, dlen, nhdrs = 0;
    char akid[129], sig[64], meth[32], dt[128];
    struct bb_buf sts;

    auth = fuzz_line(&in, &alen);
    query = fuzz_line(&in, &qlen);
    method = fuzz_line(&in, &mlen);
    path = fuzz_line(&in, &plen);
    date = fuzz_line(&in, &dlen);
    while (in.n > 0 && nhdrs < MAX_HDRS) {
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

    if (s3_sigv2_parse_header(auth, alen, akid, sig) == 0) {
        size_t kl = strnlen(akid, sizeof(akid));
        size_t sl = strnlen(sig, sizeof(sig));
        if (kl == sizeof(akid) || sl == sizeof(sig) || 4 + kl + 1 + sl != alen ||
            memcmp(auth + 4, akid, kl) != 0 || memcmp(auth + 5 + kl, sig, sl) != 0)
            abort();
    }
    if (mlen >= sizeof(meth) || memchr(method, '\0', mlen) != NULL)
        mlen = 0;
    memcpy(meth, method, mlen);
    meth[mlen] = '\0';
    if (dlen >= sizeof(dt) || memchr(date, '\0', dlen) != NULL)
        dlen = 0;
    memcpy(dt, date, dlen);
    dt[dlen] = '\0';

    bb_buf_init(&sts, 1 << 20);
    if (s3_sigv2_string_to_sign(&sts, meth, path, plen, qlen ? query : NULL, qlen, hdrs, nhdrs,
                                dt) == 0) {
        char out[32];
        s3_sigv2_sign("secret", sts.data != NULL ? sts.data : "", sts.len, out);
        if (strnlen(out, sizeof(out)) != 28)
            abort(); /* base64 of a 20-byte HMAC-SHA1 */
    }
    bb_buf_cleanup(&sts);
    return 0;
}
