/* SPDX-License-Identifier: MIT */
/* store_key: bucket names and key <-> path escaping. */
#include "store_key.h"
#include "bb_buf.h"
#include "bb_err.h"

#include <string.h>

int store_key_check_bucket(const char *name, const char **why)
{
    size_t n = strlen(name);
    int dots = 0;
    int all_digits_dots = 1;

    if (n < 3 || n > 63) {
        *why = "Bucket name must be between 3 and 63 characters long";
        return BB_EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
        if (!ok) {
            *why = "Bucket name can consist only of lowercase letters, numbers, dots and hyphens";
            return BB_EINVAL;
        }
        if (c == '.')
            dots++;
        if (!(c == '.' || (c >= '0' && c <= '9')))
            all_digits_dots = 0;
        if (i > 0 && c == '.' && (name[i - 1] == '.' || name[i - 1] == '-')) {
            *why = "Bucket name must not contain two adjacent periods or a period next to a hyphen";
            return BB_EINVAL;
        }
        if (i > 0 && c == '-' && name[i - 1] == '.') {
            *why = "Bucket name must not contain a period next to a hyphen";
            return BB_EINVAL;
        }
    }
    if (!((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= '0' && name[0] <= '9')) ||
        !((name[n - 1] >= 'a' && name[n - 1] <= 'z') || (name[n - 1] >= '0' && name[n - 1] <= '9'))) {
        *why = "Bucket name must begin and end with a letter or number";
        return BB_EINVAL;
    }
    if (all_digits_dots && dots == 3) {
        *why = "Bucket name must not be formatted as an IP address";
        return BB_EINVAL;
    }
    static const char *const prefixes[] = {"xn--", "sthree-", "amzn-s3-demo-"};
    static const char *const suffixes[] = {"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"};
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
        if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0) {
            *why = "Bucket name uses a reserved prefix";
            return BB_EINVAL;
        }
    }
    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        size_t sl = strlen(suffixes[i]);
        if (n > sl && strcmp(name + n - sl, suffixes[i]) == 0) {
            *why = "Bucket name uses a reserved suffix";
            return BB_EINVAL;
        }
    }
    return BB_OK;
}

/* Checks UTF-8 well-formedness (no overlongs, no surrogates, <= U+10FFFF). */
static int utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        size_t len;
        unsigned int cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            len = 2;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4;
            cp = c & 0x07;
        } else {
            return 0;
        }
        if (i + len > n)
            return 0;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
            cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += len;
    }
    return 1;
}

int store_key_to_path(struct bb_buf *out, const char *key, size_t len, const char **why)
{
    size_t start = 0;
    int rc = BB_OK;

    if (len == 0) {
        *why = "The key must not be empty";
        return BB_EINVAL;
    }
    if (len > STORE_KEY_MAX) {
        *why = "Your key is too long";
        return BB_ETOOBIG;
    }
    if (memchr(key, '\0', len) != NULL) {
        *why = "Object key must not contain a NUL byte";
        return BB_EINVAL;
    }
    if (!utf8_valid((const unsigned char *)key, len)) {
        *why = "Object key must be valid UTF-8";
        return BB_EINVAL;
    }
    for (size_t i = 0; i <= len && rc == BB_OK; i++) {
        if (i < len && key[i] != '/')
            continue;
        const char *seg = key + start;
        size_t n = i - start;
        int esc = n == 0 || seg[0] == '%';
        if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.')) {
            *why = "Object key segments \".\" and \"..\" cannot be stored as files";
            return BB_EINVAL;
        }
        if (n + (size_t)esc > STORE_KEY_MAX_SEGMENT) {
            *why = "A segment of the key (between slashes) is longer than 255 bytes";
            return BB_ETOOBIG;
        }
        if (start > 0)
            rc = bb_buf_append(out, "/", 1);
        if (rc == BB_OK && esc)
            rc = bb_buf_append(out, "%", 1);
        if (rc == BB_OK)
            rc = bb_buf_append(out, seg, n);
        start = i + 1;
    }
    return rc;
}

int store_key_from_path(struct bb_buf *out, const char *path, size_t len)
{
    size_t start = 0;
    int rc = BB_OK;

    for (size_t i = 0; i <= len && rc == BB_OK; i++) {
        if (i < len && path[i] != '/')
            continue;
        const char *seg = path + start;
        size_t n = i - start;
        if (start > 0)
            rc = bb_buf_append(out, "/", 1);
        if (rc == BB_OK && n > 0 && seg[0] == '%') {
            seg++;
            n--;
        }
        if (rc == BB_OK)
            rc = bb_buf_append(out, seg, n);
        start = i + 1;
    }
    return rc;
}
