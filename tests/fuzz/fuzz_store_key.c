/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for emulator/store_key.c. The input is an object key:
 * whenever store_key_to_path accepts it, the path must stay inside the
 * bucket directory (no leading '/', no "." or ".." component, no empty
 * component, no NUL, at most 255 bytes a component) and store_key_from_path
 * must give back exactly the key (abort if not). The input, cut at its
 * first NUL, is also checked as a bucket name.
 */
#include "store_key.h"
#include "bb_buf.h"
#include "bb_err.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_path(const char *p, size_t n)
{
    size_t start = 0;

    if (n == 0 || p[0] == '/' || memchr(p, '\0', n) != NULL)
        abort();
    for (size_t i = 0; i <= n; i++) {
        if (i < n && p[i] != '/')
            continue;
        size_t l = i - start;
        const char *s = p + start;
        if (l == 0 || l > STORE_KEY_MAX_SEGMENT || (l == 1 && s[0] == '.') ||
            (l == 2 && s[0] == '.' && s[1] == '.'))
            abort();
        start = i + 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *key = (const char *)data;
    struct bb_buf path, back;
    const char *why = NULL;
    char name[80];
    size_t nl;
    int rc;

    bb_buf_init(&path, 1 << 16);
    bb_buf_init(&back, 1 << 16);
    rc = store_key_to_path(&path, key, size, &why);
    if (rc == BB_OK) {
        check_path(path.data, path.len);
        if (store_key_from_path(&back, path.data, path.len) != BB_OK || back.len != size ||
            memcmp(back.data, key, size) != 0)
            abort(); /* the mapping lost the key */
    } else if (why == NULL || (rc != BB_EINVAL && rc != BB_ETOOBIG)) {
        abort();
    }
    bb_buf_cleanup(&path);
    bb_buf_cleanup(&back);

    nl = strnlen(key, size < sizeof(name) - 1 ? size : sizeof(name) - 1);
    memcpy(name, key, nl);
    name[nl] = '\0';
    why = NULL;
    if (store_key_check_bucket(name, &why) != BB_OK && why == NULL)
        abort();
    return 0;
}
