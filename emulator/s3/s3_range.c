/* SPDX-License-Identifier: MIT */
/* s3_range: Range and ETag-list parsing for GET/HEAD, as S3 reads them. */
#include "s3_range.h"

#include <stdint.h>
#include <string.h>

int s3_range_etag_matches(const char *v, const char *etag)
{
    size_t el = strlen(etag);
    const char *p = v;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        if (*p == '\0')
            break;
        const char *start = p;
        while (*p && *p != ',')
            p++;
        const char *end = p;
        while (end > start && end[-1] == ' ')
            end--;
        if (end - start >= 2 && start[0] == 'W' && start[1] == '/')
            start += 2;
        if (end - start >= 2 && *start == '"' && end[-1] == '"') {
            start++;
            end--;
        }
        if ((end - start == 1 && *start == '*') ||
            ((size_t)(end - start) == el && memcmp(start, etag, el) == 0))
            return 1;
    }
    return 0;
}

int s3_range_parse(const char *v, uint64_t size, uint64_t *first, uint64_t *last)
{
    uint64_t a = 0, b = 0;
    int has_a = 0, has_b = 0;
    const char *p;

    if (v == NULL || strncmp(v, "bytes=", 6) != 0)
        return 0;
    p = v + 6;
    if (strchr(p, ',') != NULL)
        return 0;
    while (*p >= '0' && *p <= '9') {
        if (a > UINT64_MAX / 10 - 10)
            return 0;
        a = a * 10 + (uint64_t)(*p++ - '0');
        has_a = 1;
    }
    if (*p++ != '-')
        return 0;
    while (*p >= '0' && *p <= '9') {
        if (b > UINT64_MAX / 10 - 10)
            return 0;
        b = b * 10 + (uint64_t)(*p++ - '0');
        has_b = 1;
    }
    if (*p != '\0' || (!has_a && !has_b))
        return 0;
    if (!has_a) { /* suffix: the last b bytes */
        if (b == 0 || size == 0)
            return -1;
        *first = b >= size ? 0 : size - b;
        *last = size - 1;
        return 1;
    }
    if (has_b && b < a)
        return 0;
    if (a >= size)
        return -1;
    *first = a;
    *last = has_b && b < size ? b : size - 1;
    return 1;
}

