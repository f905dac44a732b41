/* SPDX-License-Identifier: MIT */
/*
 * bus_pattern: the EventBridge event-pattern language (reference section 3).
 *
 * A pattern's JSON text is parsed by a small JSON reader of our own (it keeps
 * number text, gives Jackson-shaped syntax errors and uses no globals), then
 * compiled into sub-rules: $or is expanded into its cross product, as
 * event-ruler does, and each sub-rule is a list of (dotted path, condition)
 * fields sorted by path. An event is flattened once into leaves, only at the
 * paths some pattern names, each leaf remembering which array elements hold
 * it; a sub-rule matches when every field has a leaf that satisfies its
 * condition and the chosen leaves agree on every array they share (array
 * consistency). The rule set (bus_ruleset.c) indexes the conditions and runs
 * the same evaluator on the candidates it finds. It does no I/O and keeps no
 * state between calls; the number parsing assumes LC_NUMERIC is "C".
 */
#include "bus_pattern.h"
#include "bus_pattern_int.h"

#include "bb_err.h"
#include "bb_mem.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REASON_PREFIX "Event pattern is not valid. Reason: "
#define ERR_MAX 512

/* ---- arena: the compiled pattern and the parse trees live in one ---- */

struct bus_arena {
    struct bus_arena *next;
    size_t used;
    size_t cap;
    max_align_t data[];
};

static void *arena_alloc(struct bus_arena **a, size_t n)
{
    struct bus_arena *c = *a;
    size_t need = (n + 15) & ~(size_t)15;
    void *p;

    if (c == NULL || c->cap - c->used < need) {
        /* small first chunks keep a compiled pattern compact (rule sets
         * walk many of them), larger ones keep big parses cheap */
        size_t cap = c == NULL ? 1024 : (c->cap < 32768 ? 2 * c->cap : 32768);

        if (cap < need)
            cap = need;

        c = bb_xmalloc(sizeof(*c) + cap);
        c->cap = cap;
        c->used = 0;
        c->next = *a;
        *a = c;
    }
    p = (char *)c->data + c->used;
    c->used += need;
    return p;
}

static void *arena_dup(struct bus_arena **a, const void *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);

    if (n > 0)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

static void arena_free(struct bus_arena *a)
{
    while (a != NULL) {
        struct bus_arena *next = a->next;

        free(a);
        a = next;
    }
}

/* ---- UTF-8 and case folding ---- */

uint32_t bus_pattern_utf8_next(const char *s, size_t len, size_t *i)
{
    const unsigned char *u = (const unsigned char *)s + *i;
    size_t left = len - *i;
    uint32_t c = u[0];
    uint32_t cp;
    size_t need;
    size_t k;

    if (c < 0x80) {
        (*i)++;
        return c;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        need = 1;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        need = 2;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        need = 3;
        cp = c & 0x07;
    } else {
        goto bad;
    }
    if (left <= need)
        goto bad;
    for (k = 1; k <= need; k++) {
        if ((u[k] & 0xc0) != 0x80)
            goto bad;
        cp = (cp << 6) | (u[k] & 0x3f);
    }
    if ((c == 0xe0 && u[1] < 0xa0) || (c == 0xed && u[1] > 0x9f) || (c == 0xf0 && u[1] < 0x90) ||
        (c == 0xf4 && u[1] > 0x8f))
        goto bad;
    *i += need + 1;
    return cp;
bad:
    (*i)++;
    return BUS_CP_BAD + c;
}

/*
 * Simple case folding, c -> toLowerCase(toUpperCase(c)) with Unicode's
 * one-to-one mappings: two characters are equal ignoring case exactly when
 * Java's String.equalsIgnoreCase says so. Generated from Python 3.11's
 * Unicode 14 tables (docs/internals/bus_pattern.md): {first, last, delta,
 * stride}; stride 2 means only every other code point in the run maps.
 */
struct fold_range {
    uint32_t first;
    uint32_t last;
    int32_t delta;
    uint32_t stride;
};

static const struct fold_range fold_tab[] = {
    {0x00B5, 0x00B5, 775, 1},    {0x00C0, 0x00D6, 32, 1},     {0x00D8, 0x00DE, 32, 1},
    {0x0100, 0x012E, 1, 2},      {0x0130, 0x0130, -199, 1},   {0x0131, 0x0131, -200, 1},
    {0x0132, 0x0136, 1, 2},      {0x0139, 0x0147, 1, 2},      {0x014A, 0x0176, 1, 2},
    {0x0178, 0x0178, -121, 1},   {0x0179, 0x017D, 1, 2},      {0x017F, 0x017F, -268, 1},
    {0x0181, 0x0181, 210, 1},    {0x0182, 0x0184, 1, 2},      {0x0186, 0x0186, 206, 1},
    {0x0187, 0x0187, 1, 1},      {0x0189, 0x018A, 205, 1},    {0x018B, 0x018B, 1, 1},
    {0x018E, 0x018E, 79, 1},     {0x018F, 0x018F, 202, 1},    {0x0190, 0x0190, 203, 1},
    {0x0191, 0x0191, 1, 1},      {0x0193, 0x0193, 205, 1},    {0x0194, 0x0194, 207, 1},
    {0x0196, 0x0196, 211, 1},    {0x0197, 0x0197, 209, 1},    {0x0198, 0x0198, 1, 1},
    {0x019C, 0x019C, 211, 1},    {0x019D, 0x019D, 213, 1},    {0x019F, 0x019F, 214, 1},
    {0x01A0, 0x01A4, 1, 2},      {0x01A6, 0x01A6, 218, 1},    {0x01A7, 0x01A7, 1, 1},
    {0x01A9, 0x01A9, 218, 1},    {0x01AC, 0x01AC, 1, 1},      {0x01AE, 0x01AE, 218, 1},
    {0x01AF, 0x01AF, 1, 1},      {0x01B1, 0x01B2, 217, 1},    {0x01B3, 0x01B5, 1, 2},
    {0x01B7, 0x01B7, 219, 1},    {0x01B8, 0x01B8, 1, 1},      {0x01BC, 0x01BC, 1, 1},
    {0x01C4, 0x01C4, 2, 1},      {0x01C5, 0x01C5, 1, 1},      {0x01C7, 0x01C7, 2, 1},
    {0x01C8, 0x01C8, 1, 1},      {0x01CA, 0x01CA, 2, 1},      {0x01CB, 0x01DB, 1, 2},
    {0x01DE, 0x01EE, 1, 2},      {0x01F1, 0x01F1, 2, 1},      {0x01F2, 0x01F4, 1, 2},
    {0x01F6, 0x01F6, -97, 1},    {0x01F7, 0x01F7, -56, 1},    {0x01F8, 0x021E, 1, 2},
    {0x0220, 0x0220, -130, 1},   {0x0222, 0x0232, 1, 2},      {0x023A, 0x023A, 10795, 1},
    {0x023B, 0x023B, 1, 1},      {0x023D, 0x023D, -163, 1},   {0x023E, 0x023E, 10792, 1},
    {0x0241, 0x0241, 1, 1},      {0x0243, 0x0243, -195, 1},   {0x0244, 0x0244, 69, 1},
    {0x0245, 0x0245, 71, 1},     {0x0246, 0x024E, 1, 2},      {0x0345, 0x0345, 116, 1},
    {0x0370, 0x0372, 1, 2},      {0x0376, 0x0376, 1, 1},      {0x037F, 0x037F, 116, 1},
    {0x0386, 0x0386, 38, 1},     {0x0388, 0x038A, 37, 1},     {0x038C, 0x038C, 64, 1},
    {0x038E, 0x038F, 63, 1},     {0x0391, 0x03A1, 32, 1},     {0x03A3, 0x03AB, 32, 1},
    {0x03C2, 0x03C2, 1, 1},      {0x03CF, 0x03CF, 8, 1},      {0x03D0, 0x03D0, -30, 1},
    {0x03D1, 0x03D1, -25, 1},    {0x03D5, 0x03D5, -15, 1},    {0x03D6, 0x03D6, -22, 1},
    {0x03D8, 0x03EE, 1, 2},      {0x03F0, 0x03F0, -54, 1},    {0x03F1, 0x03F1, -48, 1},
    {0x03F4, 0x03F4, -60, 1},    {0x03F5, 0x03F5, -64, 1},    {0x03F7, 0x03F7, 1, 1},
    {0x03F9, 0x03F9, -7, 1},     {0x03FA, 0x03FA, 1, 1},      {0x03FD, 0x03FF, -130, 1},
    {0x0400, 0x040F, 80, 1},     {0x0410, 0x042F, 32, 1},     {0x0460, 0x0480, 1, 2},
    {0x048A, 0x04BE, 1, 2},      {0x04C0, 0x04C0, 15, 1},     {0x04C1, 0x04CD, 1, 2},
    {0x04D0, 0x052E, 1, 2},      {0x0531, 0x0556, 48, 1},     {0x10A0, 0x10C5, 7264, 1},
    {0x10C7, 0x10C7, 7264, 1},   {0x10CD, 0x10CD, 7264, 1},   {0x13A0, 0x13EF, 38864, 1},
    {0x13F0, 0x13F5, 8, 1},      {0x1C80, 0x1C80, -6222, 1},  {0x1C81, 0x1C81, -6221, 1},
    {0x1C82, 0x1C82, -6212, 1},  {0x1C83, 0x1C84, -6210, 1},  {0x1C85, 0x1C85, -6211, 1},
    {0x1C86, 0x1C86, -6204, 1},  {0x1C87, 0x1C87, -6180, 1},  {0x1C88, 0x1C88, 35267, 1},
    {0x1C90, 0x1CBA, -3008, 1},  {0x1CBD, 0x1CBF, -3008, 1},  {0x1E00, 0x1E94, 1, 2},
    {0x1E9B, 0x1E9B, -58, 1},    {0x1E9E, 0x1E9E, -7615, 1},  {0x1EA0, 0x1EFE, 1, 2},
    {0x1F08, 0x1F0F, -8, 1},     {0x1F18, 0x1F1D, -8, 1},     {0x1F28, 0x1F2F, -8, 1},
    {0x1F38, 0x1F3F, -8, 1},     {0x1F48, 0x1F4D, -8, 1},     {0x1F59, 0x1F5F, -8, 2},
    {0x1F68, 0x1F6F, -8, 1},     {0x1F88, 0x1F8F, -8, 1},     {0x1F98, 0x1F9F, -8, 1},
    {0x1FA8, 0x1FAF, -8, 1},     {0x1FB8, 0x1FB9, -8, 1},     {0x1FBA, 0x1FBB, -74, 1},
    {0x1FBC, 0x1FBC, -9, 1},     {0x1FBE, 0x1FBE, -7173, 1},  {0x1FC8, 0x1FCB, -86, 1},
    {0x1FCC, 0x1FCC, -9, 1},     {0x1FD8, 0x1FD9, -8, 1},     {0x1FDA, 0x1FDB, -100, 1},
    {0x1FE8, 0x1FE9, -8, 1},     {0x1FEA, 0x1FEB, -112, 1},   {0x1FEC, 0x1FEC, -7, 1},
    {0x1FF8, 0x1FF9, -128, 1},   {0x1FFA, 0x1FFB, -126, 1},   {0x1FFC, 0x1FFC, -9, 1},
    {0x2126, 0x2126, -7517, 1},  {0x212A, 0x212A, -8383, 1},  {0x212B, 0x212B, -8262, 1},
    {0x2132, 0x2132, 28, 1},     {0x2160, 0x216F, 16, 1},     {0x2183, 0x2183, 1, 1},
    {0x24B6, 0x24CF, 26, 1},     {0x2C00, 0x2C2F, 48, 1},     {0x2C60, 0x2C60, 1, 1},
    {0x2C62, 0x2C62, -10743, 1}, {0x2C63, 0x2C63, -3814, 1},  {0x2C64, 0x2C64, -10727, 1},
    {0x2C67, 0x2C6B, 1, 2},      {0x2C6D, 0x2C6D, -10780, 1}, {0x2C6E, 0x2C6E, -10749, 1},
    {0x2C6F, 0x2C6F, -10783, 1}, {0x2C70, 0x2C70, -10782, 1}, {0x2C72, 0x2C72, 1, 1},
    {0x2C75, 0x2C75, 1, 1},      {0x2C7E, 0x2C7F, -10815, 1}, {0x2C80, 0x2CE2, 1, 2},
    {0x2CEB, 0x2CED, 1, 2},      {0x2CF2, 0x2CF2, 1, 1},      {0xA640, 0xA66C, 1, 2},
    {0xA680, 0xA69A, 1, 2},      {0xA722, 0xA72E, 1, 2},      {0xA732, 0xA76E, 1, 2},
    {0xA779, 0xA77B, 1, 2},      {0xA77D, 0xA77D, -35332, 1}, {0xA77E, 0xA786, 1, 2},
    {0xA78B, 0xA78B, 1, 1},      {0xA78D, 0xA78D, -42280, 1}, {0xA790, 0xA792, 1, 2},
    {0xA796, 0xA7A8, 1, 2},      {0xA7AA, 0xA7AA, -42308, 1}, {0xA7AB, 0xA7AB, -42319, 1},
    {0xA7AC, 0xA7AC, -42315, 1}, {0xA7AD, 0xA7AD, -42305, 1}, {0xA7AE, 0xA7AE, -42308, 1},
    {0xA7B0, 0xA7B0, -42258, 1}, {0xA7B1, 0xA7B1, -42282, 1}, {0xA7B2, 0xA7B2, -42261, 1},
    {0xA7B3, 0xA7B3, 928, 1},    {0xA7B4, 0xA7C2, 1, 2},      {0xA7C4, 0xA7C4, -48, 1},
    {0xA7C5, 0xA7C5, -42307, 1}, {0xA7C6, 0xA7C6, -35384, 1}, {0xA7C7, 0xA7C9, 1, 2},
    {0xA7D0, 0xA7D0, 1, 1},      {0xA7D6, 0xA7D8, 1, 2},      {0xA7F5, 0xA7F5, 1, 1},
    {0xFF21, 0xFF3A, 32, 1},     {0x10400, 0x10427, 40, 1},   {0x104B0, 0x104D3, 40, 1},
    {0x10570, 0x1057A, 39, 1},   {0x1057C, 0x1058A, 39, 1},   {0x1058C, 0x10592, 39, 1},
    {0x10594, 0x10595, 39, 1},   {0x10C80, 0x10CB2, 64, 1},   {0x118A0, 0x118BF, 32, 1},
    {0x16E40, 0x16E5F, 32, 1},   {0x1E900, 0x1E921, 34, 1},
};

uint32_t bus_pattern_fold(uint32_t c)
{
    size_t lo = 0;
    size_t hi = sizeof(fold_tab) / sizeof(fold_tab[0]);

    if (c < 0x80)
        return (c >= 'A' && c <= 'Z') ? c + 32 : c;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;

        if (fold_tab[mid].last < c)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < sizeof(fold_tab) / sizeof(fold_tab[0]) && fold_tab[lo].first <= c &&
        (c - fold_tab[lo].first) % fold_tab[lo].stride == 0)
        return (uint32_t)((int32_t)c + fold_tab[lo].delta);
    return c;
}

static uint32_t *fold_string(struct bus_arena **a, const char *s, size_t len, size_t *ncp)
{
    uint32_t *cp = arena_alloc(a, (len + 1) * sizeof(*cp));
    size_t i = 0;
    size_t n = 0;

    while (i < len)
        cp[n++] = bus_pattern_fold(bus_pattern_utf8_next(s, len, &i));
    *ncp = n;
    return cp;
}

/* ---- numbers ---- */

void bus_pattern_num_key(double d, unsigned char out[8])
{
    uint64_t bits;
    int i;

    if (d == 0)
        d = 0; /* -0 sorts and hashes as 0 */
    memcpy(&bits, &d, sizeof(bits));
    if (bits >> 63)
        bits = ~bits;
    else
        bits |= 1ULL << 63;
    for (i = 7; i >= 0; i--) {
        out[i] = (unsigned char)bits;
        bits >>= 8;
    }
}

/* Significant digits of number text (no leading or trailing zeros) in @dig
 * and @exp such that value = 0.DIGITS x 10^exp. Returns the digit count, or
 * cap + 1 when there are more than @cap of them. */
static size_t num_digits(const char *s, size_t len, char *dig, size_t cap, long *exp)
{
    size_t i = 0;
    size_t n = 0;
    long point = 0;
    long lead = 0;
    long e = 0;
    int seen_point = 0;
    int any = 0;
    int toolong = 0;

    if (i < len && (s[i] == '-' || s[i] == '+'))
        i++;
    for (; i < len; i++) {
        char c = s[i];

        if (c == '.') {
            seen_point = 1;
            continue;
        }
        if (c < '0' || c > '9')
            break;
        if (!seen_point)
            point++;
        if (c == '0' && !any) {
            lead++;
            continue;
        }
        any = 1;
        if (n < cap)
            dig[n] = c;
        else if (c != '0')
            toolong = 1;
        n++;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E'))
        e = strtol(s + i + 1, NULL, 10);
    if (toolong)
        return cap + 1;
    if (n > cap)
        n = cap;
    while (n > 0 && dig[n - 1] == '0')
        n--;
    *exp = point - lead + e;
    return n;
}

/*
 * Parses number text. Returns 1 when the text is exactly the value of a
 * finite double's shortest representation (so "300", "300.0" and "3.0e2" are
 * all canonical but "0.1000000000000000055511151231257827" is not), which is
 * when event-ruler compares it as a number; 0 otherwise (compared by text).
 */
static int num_canonical(const char *s, size_t len, double *out)
{
    char buf[64];
    char *tmp = buf;
    char d1[40];
    char d2[40];
    size_t n1;
    size_t n2;
    long e1;
    long e2;
    double d;
    int prec;
    int ok = 0;

    if (len >= sizeof(buf))
        tmp = bb_xmalloc(len + 1);
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    d = strtod(tmp, NULL);
    if (tmp != buf)
        free(tmp);
    if (!isfinite(d))
        return 0;
    if (d == 0)
        d = 0;
    *out = d;
    n1 = num_digits(s, len, d1, sizeof(d1), &e1);
    if (n1 == 0)
        return 1; /* zero */
    if (n1 > 17)
        return 0;
    if (n1 <= 15 && isnormal(d))
        return 1; /* 15 significant digits always survive a round trip */
    for (prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof(buf), "%.*e", prec - 1, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    n2 = num_digits(buf, strlen(buf), d2, sizeof(d2), &e2);
    if (n1 == n2 && e1 == e2 && memcmp(d1, d2, n1) == 0)
        ok = 1;
    return ok;
}

/* ---- IP literals (event-ruler's CIDR class: a shape check, then a parse) ---- */

static int ip_shape(const char *s, size_t len)
{
    size_t i;
    int parts = 0;
    int digits = 0;
    int colon = 0;
    int v4 = 1;
    int v6 = 1;

    for (i = 0; i < len; i++) {
        char c = s[i];

        if (c >= '0' && c <= '9') {
            digits++;
            continue;
        }
        if (c == '.') {
            v6 = 0;
            if (digits == 0)
                v4 = 0;
            parts++;
            digits = 0;
            continue;
        }
        v4 = 0;
        if (c == ':')
            colon = 1;
        else if (!((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            v6 = 0;
    }
    if (v4 && parts == 3 && digits > 0)
        return 4;
    if (v6 && colon)
        return 6;
    return 0;
}

/* 4 or 6 with the address in @out; 0 when @s does not look like an IP
 * literal; -1 when it looks like one but does not parse. */
static int ip_parse(const char *s, size_t len, unsigned char out[16])
{
    char buf[64];
    int shape = ip_shape(s, len);

    memset(out, 0, 16);
    if (shape == 0)
        return 0;
    if (len >= sizeof(buf))
        return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (shape == 4)
        return inet_pton(AF_INET, buf, out) == 1 ? 4 : -1;
    if (inet_pton(AF_INET6, buf, out) != 1)
        return -1;
    /* Java's InetAddress turns IPv4-mapped IPv6 addresses into IPv4 ones */
    if (memcmp(out, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0) {
        memmove(out, out + 12, 4);
        memset(out + 4, 0, 12);
        return 4;
    }
    return 6;
}

int bus_pattern_leaf_ip(struct bus_leaf *l)
{
    if (l->type != BUS_LV_STR)
        return 0;
    if (l->ip < 0) {
        int r = ip_parse(l->s, l->len, l->ipb);

        l->ip = (int8_t)(r > 0 ? r : 0);
    }
    return l->ip;
}

/* ---- JSON reader: keeps number text, gives Jackson-shaped errors ---- */

enum jn_type { JN_OBJ = 1, JN_ARR, JN_STR, JN_NUM, JN_TRUE, JN_FALSE, JN_NULL };

struct jn {
    struct jn *next;
    struct jn *child;
    const char *key; /* member name in an object */
    size_t klen;
    const char *s; /* string value or number text */
    size_t len;
    uint8_t type;
};

struct jparse {
    const char *p;
    const char *end;
    struct bus_arena **a;
    int depth;
    int maxdepth;
    char *err;
    size_t errlen;
    int failed;
};

static void jp_fail(struct jparse *jp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void jp_fail(struct jparse *jp, const char *fmt, ...)
{
    va_list ap;

    if (jp->failed)
        return;
    jp->failed = 1;
    if (jp->err == NULL || jp->errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(jp->err, jp->errlen, fmt, ap);
    va_end(ap);
}

/* Jackson's description of a character: 'x' (code 120), (CTRL-CHAR, code 9) */
static void char_desc(const char *p, const char *end, char *out, size_t n)
{
    size_t i = 0;
    uint32_t cp = bus_pattern_utf8_next(p, (size_t)(end - p), &i);

    if (cp >= BUS_CP_BAD)
        snprintf(out, n, "(CTRL-CHAR, code %u)", cp - BUS_CP_BAD);
    else if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
        snprintf(out, n, "(CTRL-CHAR, code %u)", cp);
    else if (cp > 255)
        snprintf(out, n, "'%.*s' (code %u / 0x%x)", (int)i, p, cp, cp);
    else
        snprintf(out, n, "'%.*s' (code %u)", (int)i, p, cp);
}

static void jp_unexpected(struct jparse *jp, const char *what)
{
    char d[64];

    char_desc(jp->p, jp->end, d, sizeof(d));
    jp_fail(jp, "Unexpected character (%s): %s", d, what);
}

static void jp_ws(struct jparse *jp)
{
    while (jp->p < jp->end && (*jp->p == ' ' || *jp->p == '\t' || *jp->p == '\n' || *jp->p == '\r'))
        jp->p++;
}

static struct jn *jp_node(struct jparse *jp, uint8_t type)
{
    struct jn *n = arena_alloc(jp->a, sizeof(*n));

    memset(n, 0, sizeof(*n));
    n->type = type;
    return n;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static size_t put_utf8(char *o, uint32_t cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Reads 4 hex digits at jp->p; -1 on error (reported). */
static long jp_hex4(struct jparse *jp)
{
    long v = 0;
    int k;

    for (k = 0; k < 4; k++) {
        int h;

        if (jp->p >= jp->end) {
            jp_fail(jp, "Unexpected end-of-input in character escape sequence");
            return -1;
        }
        h = hexval(*jp->p);
        if (h < 0) {
            jp_unexpected(jp, "expected a hex-digit for character escape sequence");
            return -1;
        }
        v = v * 16 + h;
        jp->p++;
    }
    return v;
}

/* A string at jp->p (the opening quote). Unescaped text in *out (pointing
 * into the input when there is nothing to unescape). */
static int jp_string(struct jparse *jp, const char **out, size_t *outlen, int name)
{
    const char *start = ++jp->p;
    const char *q = start;
    char *buf;
    size_t n = 0;

    while (q < jp->end && *q != '"' && *q != '\\' && (unsigned char)*q >= 0x20)
        q++;
    if (q < jp->end && *q == '"') {
        *out = start;
        *outlen = (size_t)(q - start);
        jp->p = q + 1;
        return 0;
    }
    /* escapes or an error: decode into a copy no longer than the raw text */
    {
        const char *r = start;

        while (r < jp->end && *r != '"') {
            if (*r == '\\' && r + 1 < jp->end)
                r++;
            r++;
        }
        buf = arena_alloc(jp->a, (size_t)(r - start) + 1);
    }
    jp->p = start;
    for (;;) {
        unsigned char c;

        if (jp->p >= jp->end) {
            if (name)
                jp_fail(jp, "Unexpected end-of-input in field name");
            else
                jp_fail(jp, "Unexpected end-of-input: was expecting closing quote for a string "
                            "value");
            return -1;
        }
        c = (unsigned char)*jp->p;
        if (c == '"') {
            jp->p++;
            break;
        }
        if (c < 0x20) {
            char d[64];

            char_desc(jp->p, jp->end, d, sizeof(d));
            jp_fail(jp,
                    "Illegal unquoted character (%s): has to be escaped using backslash to be "
                    "included in %s",
                    d, name ? "name" : "string value");
            return -1;
        }
        if (c != '\\') {
            buf[n++] = (char)c;
            jp->p++;
            continue;
        }
        jp->p++;
        if (jp->p >= jp->end) {
            jp_fail(jp, "Unexpected end-of-input in character escape sequence");
            return -1;
        }
        c = (unsigned char)*jp->p++;
        switch (c) {
        case '"':
        case '\\':
        case '/':
            buf[n++] = (char)c;
            break;
        case 'b':
            buf[n++] = '\b';
            break;
        case 'f':
            buf[n++] = '\f';
            break;
        case 'n':
            buf[n++] = '\n';
            break;
        case 'r':
            buf[n++] = '\r';
            break;
        case 't':
            buf[n++] = '\t';
            break;
        case 'u': {
            long v = jp_hex4(jp);

            if (v < 0)
                return -1;
            if (v >= 0xd800 && v <= 0xdbff && jp->end - jp->p >= 6 && jp->p[0] == '\\' &&
                jp->p[1] == 'u') {
                const char *save = jp->p;
                long lo;

                jp->p += 2;
                lo = jp_hex4(jp);
                if (lo < 0)
                    return -1;
                if (lo >= 0xdc00 && lo <= 0xdfff)
                    v = 0x10000 + ((v - 0xd800) << 10) + (lo - 0xdc00);
                else
                    jp->p = save;
            }
            n += put_utf8(buf + n, (uint32_t)v);
            break;
        }
        default: {
            char d[64];

            jp->p--;
            char_desc(jp->p, jp->end, d, sizeof(d));
            jp_fail(jp, "Unrecognized character escape %s", d);
            return -1;
        }
        }
    }
    buf[n] = '\0';
    *out = buf;
    *outlen = n;
    return 0;
}

static int is_digit(const struct jparse *jp)
{
    return jp->p < jp->end && *jp->p >= '0' && *jp->p <= '9';
}

static struct jn *jp_number(struct jparse *jp)
{
    const char *start = jp->p;
    struct jn *n;

    if (*jp->p == '-') {
        jp->p++;
        if (jp->p >= jp->end) {
            jp_fail(jp, "Unexpected end-of-input in a Number value");
            return NULL;
        }
        if (!is_digit(jp)) {
            jp_unexpected(jp, "expected digit (0-9) to follow minus sign, for valid numeric "
                              "value");
            return NULL;
        }
    }
    if (*jp->p == '0') {
        jp->p++;
        if (is_digit(jp)) {
            jp_fail(jp, "Invalid numeric value: Leading zeroes not allowed");
            return NULL;
        }
    } else {
        while (is_digit(jp))
            jp->p++;
    }
    if (jp->p < jp->end && *jp->p == '.') {
        jp->p++;
        if (!is_digit(jp)) {
            if (jp->p >= jp->end)
                jp_fail(jp, "Unexpected end-of-input in a Number value");
            else
                jp_unexpected(jp, "Decimal point not followed by a digit");
            return NULL;
        }
        while (is_digit(jp))
            jp->p++;
    }
    if (jp->p < jp->end && (*jp->p == 'e' || *jp->p == 'E')) {
        jp->p++;
        if (jp->p < jp->end && (*jp->p == '+' || *jp->p == '-'))
            jp->p++;
        if (!is_digit(jp)) {
            if (jp->p >= jp->end)
                jp_fail(jp, "Unexpected end-of-input in a Number value");
            else
                jp_unexpected(jp, "Exponent indicator not followed by a digit");
            return NULL;
        }
        while (is_digit(jp))
            jp->p++;
    }
    n = jp_node(jp, JN_NUM);
    n->s = start;
    n->len = (size_t)(jp->p - start);
    return n;
}

static int ident_part(char c)
{
    unsigned char u = (unsigned char)c;

    return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || u == '_' ||
           u == '$' || u >= 0x80;
}

static struct jn *jp_value(struct jparse *jp);

static struct jn *jp_object(struct jparse *jp)
{
    struct jn *obj = jp_node(jp, JN_OBJ);
    struct jn **tail = &obj->child;

    if (++jp->depth > jp->maxdepth) {
        jp_fail(jp, "Document nesting depth (%d) exceeds the maximum allowed (%d)", jp->depth,
                jp->maxdepth);
        return NULL;
    }
    jp->p++;
    jp_ws(jp);
    if (jp->p < jp->end && *jp->p == '}') {
        jp->p++;
        jp->depth--;
        return obj;
    }
    for (;;) {
        const char *key;
        size_t klen;
        struct jn *v;

        jp_ws(jp);
        if (jp->p >= jp->end) {
            jp_fail(jp, "Unexpected end-of-input: expected close marker for OBJECT");
            return NULL;
        }
        if (*jp->p != '"') {
            jp_unexpected(jp, "was expecting double-quote to start field name");
            return NULL;
        }
        if (jp_string(jp, &key, &klen, 1) < 0)
            return NULL;
        jp_ws(jp);
        if (jp->p >= jp->end) {
            jp_fail(jp, "Unexpected end-of-input: expected close marker for OBJECT");
            return NULL;
        }
        if (*jp->p != ':') {
            jp_unexpected(jp, "was expecting a colon to separate field name and value");
            return NULL;
        }
        jp->p++;
        v = jp_value(jp);
        if (v == NULL)
            return NULL;
        v->key = key;
        v->klen = klen;
        *tail = v;
        tail = &v->next;
        jp_ws(jp);
        if (jp->p >= jp->end) {
            jp_fail(jp, "Unexpected end-of-input: expected close marker for OBJECT");
            return NULL;
        }
        if (*jp->p == ',') {
            jp->p++;
            continue;
        }
        if (*jp->p == '}') {
            jp->p++;
            jp->depth--;
            return obj;
        }
        jp_unexpected(jp, "was expecting comma to separate Object entries");
        return NULL;
    }
}

static struct jn *jp_array(struct jparse *jp)
{
    struct jn *arr = jp_node(jp, JN_ARR);
    struct jn **tail = &arr->child;

    if (++jp->depth > jp->maxdepth) {
        jp_fail(jp, "Document nesting depth (%d) exceeds the maximum allowed (%d)", jp->depth,
                jp->maxdepth);
        return NULL;
    }
    jp->p++;
    jp_ws(jp);
    if (jp->p < jp->end && *jp->p == ']') {
        jp->p++;
        jp->depth--;
        return arr;
    }
    for (;;) {
        struct jn *v = jp_value(jp);

        if (v == NULL)
            return NULL;
        *tail = v;
        tail = &v->next;
        jp_ws(jp);
        if (jp->p >= jp->end) {
            jp_fail(jp, "Unexpected end-of-input: expected close marker for ARRAY");
            return NULL;
        }
        if (*jp->p == ',') {
            jp->p++;
            continue;
        }
        if (*jp->p == ']') {
            jp->p++;
            jp->depth--;
            return arr;
        }
        jp_unexpected(jp, "was expecting comma to separate Array entries");
        return NULL;
    }
}

static struct jn *jp_value(struct jparse *jp)
{
    static const char expect[] =
        "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')";
    const char *start;
    struct jn *n;
    char c;

    jp_ws(jp);
    if (jp->p >= jp->end) {
        jp_fail(jp, "Unexpected end-of-input: expected a valid value %s", expect);
        return NULL;
    }
    c = *jp->p;
    if (c == '{')
        return jp_object(jp);
    if (c == '[')
        return jp_array(jp);
    if (c == '"') {
        n = jp_node(jp, JN_STR);
        if (jp_string(jp, &n->s, &n->len, 0) < 0)
            return NULL;
        return n;
    }
    if (c == '-' || (c >= '0' && c <= '9'))
        return jp_number(jp);
    if ((unsigned char)c < 0x20) {
        char d[64];

        char_desc(jp->p, jp->end, d, sizeof(d));
        jp_fail(jp,
                "Illegal character (%s): only regular white space (\\r, \\n, \\t) is allowed "
                "between tokens",
                d);
        return NULL;
    }
    if (c == '/') {
        jp_unexpected(jp, "maybe a (non-standard) comment? (not recognized as one since "
                          "Feature 'ALLOW_COMMENTS' not enabled for parser)");
        return NULL;
    }
    if (!ident_part(c) || (c >= '0' && c <= '9')) {
        char what[128];

        snprintf(what, sizeof(what), "expected a valid value %s", expect);
        jp_unexpected(jp, what);
        return NULL;
    }
    start = jp->p;
    while (jp->p < jp->end && ident_part(*jp->p) && jp->p - start < 256)
        jp->p++;
    if (jp->p - start == 4 && memcmp(start, "true", 4) == 0)
        return jp_node(jp, JN_TRUE);
    if (jp->p - start == 5 && memcmp(start, "false", 5) == 0)
        return jp_node(jp, JN_FALSE);
    if (jp->p - start == 4 && memcmp(start, "null", 4) == 0)
        return jp_node(jp, JN_NULL);
    jp_fail(jp, "Unrecognized token '%.*s': was expecting %s", (int)(jp->p - start), start, expect);
    return NULL;
}

static void jp_init(struct jparse *jp, const char *s, size_t len, struct bus_arena **a,
                    int maxdepth, char *err, size_t errlen)
{
    memset(jp, 0, sizeof(*jp));
    jp->p = s;
    jp->end = s + len;
    jp->a = a;
    jp->maxdepth = maxdepth;
    jp->err = err;
    jp->errlen = errlen;
}

/* A pattern document: like event-ruler, the first token must open an object
 * and whatever follows the closing brace is never read. */
static struct jn *jp_pattern(struct jparse *jp)
{
    jp_ws(jp);
    if (jp->p >= jp->end || *jp->p == '[' || *jp->p == '"') {
        jp_fail(jp, "Filter is not an object");
        return NULL;
    }
    if (*jp->p != '{') {
        if (jp_value(jp) != NULL)
            jp_fail(jp, "Filter is not an object");
        return NULL;
    }
    return jp_object(jp);
}

/* An event document: one object and nothing but white space after it. */
static struct jn *jp_event(struct jparse *jp)
{
    struct jn *root;

    jp_ws(jp);
    if (jp->p >= jp->end || *jp->p != '{')
        return NULL;
    root = jp_object(jp);
    if (root == NULL)
        return NULL;
    jp_ws(jp);
    if (jp->p != jp->end)
        return NULL;
    return root;
}

/* ---- compiler: JSON tree -> sub-rules ---- */

struct cmap { /* a sub-rule being built: (path id, condition) pairs, last put wins */
    uint32_t *pc;
    uint32_t n;
    uint32_t cap;
};

struct clist {
    struct cmap *m;
    uint32_t n;
    uint32_t cap;
};

struct comp {
    struct bus_pattern *p;
    struct bus_arena **tmp; /* the parse arena, for joined paths */
    struct bus_cond *cond;
    uint32_t ncond;
    uint32_t capcond;
    int or_mode; /* 0: event-ruler's fallback compiler, "$or" is a plain field */
    int failed;
    int final; /* a service limit, not a syntax error: no fallback */
    char reason[ERR_MAX];
};

static const char *const reserved_in_or[] = {
    "exactly",
    "equals-ignore-case",
    "prefix",
    "suffix",
    "anything-but",
    "exists",
    "wildcard",
    "numeric",
    "cidr",
    "=",
    "<",
    "<=",
    ">",
    ">=",
    "regex",
    "not-wildcard",
    "not-equals-ignore-case",
    "date-after",
    "date-on-or-after",
    "date-before",
    "date-on-or-before",
    "in-date-range",
    "ip-address-in-range",
    "ip-address-not-in-range",
};

static void c_fail(struct comp *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void c_fail(struct comp *c, const char *fmt, ...)
{
    va_list ap;

    if (c->failed)
        return;
    c->failed = 1;
    va_start(ap, fmt);
    vsnprintf(c->reason, sizeof(c->reason), fmt, ap);
    va_end(ap);
}

static int key_is(const struct jn *n, const char *word)
{
    size_t wl = strlen(word);

    return n->klen == wl && memcmp(n->key, word, wl) == 0;
}

static int str_is(const struct jn *n, const char *word)
{
    size_t wl = strlen(word);

    return n->type == JN_STR && n->len == wl && memcmp(n->s, word, wl) == 0;
}

/* What Jackson's getText() says for the token at @n (NULL: the closing bracket). */
static void tok_text(const struct jn *n, const char **s, int *len)
{
    static const char *const lit[] = {"", "{", "[", "", "", "true", "false", "null"};

    if (n == NULL) {
        *s = "]";
        *len = 1;
    } else if (n->type == JN_STR || n->type == JN_NUM) {
        *s = n->s;
        *len = n->len > 200 ? 200 : (int)n->len;
    } else {
        *s = lit[n->type];
        *len = (int)strlen(*s);
    }
}

static void cmap_put(struct cmap *m, uint32_t path, uint32_t cond)
{
    uint32_t i;

    for (i = 0; i < m->n; i++) {
        if (m->pc[2 * i] == path) {
            m->pc[2 * i + 1] = cond;
            return;
        }
    }
    if (m->n == m->cap) {
        m->cap = m->cap ? 2 * m->cap : 8;
        m->pc = bb_xrealloc(m->pc, (size_t)m->cap * 2 * sizeof(*m->pc));
    }
    m->pc[2 * m->n] = path;
    m->pc[2 * m->n + 1] = cond;
    m->n++;
}

static void clist_add(struct clist *l, const struct cmap *src)
{
    struct cmap *m;

    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 4;
        l->m = bb_xrealloc(l->m, (size_t)l->cap * sizeof(*l->m));
    }
    m = &l->m[l->n++];
    memset(m, 0, sizeof(*m));
    if (src != NULL && src->n > 0) {
        m->cap = src->n;
        m->n = src->n;
        m->pc = bb_xmalloc((size_t)m->cap * 2 * sizeof(*m->pc));
        memcpy(m->pc, src->pc, (size_t)m->n * 2 * sizeof(*m->pc));
    }
}

static void clist_free(struct clist *l)
{
    uint32_t i;

    for (i = 0; i < l->n; i++)
        free(l->m[i].pc);
    free(l->m);
    memset(l, 0, sizeof(*l));
}

static const char *c_join(struct comp *c, const char *pre, size_t plen, const struct jn *m,
                          size_t *len)
{
    char *s;

    if (pre == NULL) {
        *len = m->klen;
        return m->key;
    }
    *len = plen + 1 + m->klen;
    s = arena_alloc(c->tmp, *len + 1);
    memcpy(s, pre, plen);
    s[plen] = '.';
    memcpy(s + plen + 1, m->key, m->klen);
    s[*len] = '\0';
    return s;
}

static void c_wildcard(struct comp *c, const char *s, size_t len, struct bus_wc *wc)
{
    char *buf = arena_alloc(&c->p->arena, len + 1);
    const char **seg;
    size_t *seglen;
    size_t i;
    size_t n = 0;
    uint32_t nstar = 0;
    uint32_t k = 0;

    for (i = 0; i < len; i++) {
        if (s[i] == '*') {
            if (i + 1 < len && s[i + 1] == '*') {
                c_fail(c, "Consecutive wildcard characters at pos %zu", i + 1);
                return;
            }
            nstar++;
        } else if (s[i] == '\\') {
            if (i + 1 >= len || (s[i + 1] != '*' && s[i + 1] != '\\')) {
                c_fail(c, "Invalid escape character at pos %zu", i + 1);
                return;
            }
            i++;
        }
    }
    if (nstar > BUS_PATTERN_MAX_WILDCARD_STARS) {
        c->final = 1;
        c_fail(c, "Rule is too complex - try using fewer wildcard characters or fewer repeating "
                  "character sequences after a wildcard character");
        return;
    }
    seg = arena_alloc(&c->p->arena, (nstar + 1) * sizeof(*seg));
    seglen = arena_alloc(&c->p->arena, (nstar + 1) * sizeof(*seglen));
    seg[0] = buf;
    for (i = 0; i < len; i++) {
        if (s[i] == '*') {
            seglen[k] = (size_t)(buf + n - seg[k]);
            k++;
            seg[k] = buf + n;
            continue;
        }
        if (s[i] == '\\')
            i++;
        buf[n++] = s[i];
    }
    seglen[k] = (size_t)(buf + n - seg[k]);
    wc->seg = seg;
    wc->seglen = seglen;
    wc->nstar = nstar;
}

/* event-ruler's CIDR.cidr(): Java's split("/"), Integer.parseInt, then the
 * range from the address as written to the address with the host bits set. */
static void c_cidr(struct comp *c, const char *s, size_t len, struct bus_matcher *m)
{
    size_t cut[3];
    size_t nparts = 0;
    size_t i;
    size_t last;
    const char *ms;
    size_t mlen;
    long mask = 0;
    int neg = 0;
    int fam;

    /* pieces between slashes, trailing empty ones dropped */
    last = len;
    while (last > 0 && s[last - 1] == '/')
        last--;
    for (i = 0; i < last; i++) {
        if (s[i] == '/') {
            if (nparts < 3)
                cut[nparts] = i;
            nparts++;
        }
    }
    if (last == 0 || nparts != 1) {
        c_fail(c, "Malformed CIDR, one '/' required");
        return;
    }
    ms = s + cut[0] + 1;
    mlen = last - cut[0] - 1;
    i = 0;
    if (mlen > 0 && (ms[0] == '+' || ms[0] == '-')) {
        neg = ms[0] == '-';
        i = 1;
    }
    if (i == mlen) {
        c_fail(c, "Malformed CIDR, mask bits must be an integer");
        return;
    }
    for (; i < mlen; i++) {
        if (ms[i] < '0' || ms[i] > '9' || mask > 214748364L) {
            c_fail(c, "Malformed CIDR, mask bits must be an integer");
            return;
        }
        mask = mask * 10 + (ms[i] - '0');
        if (mask > 2147483647L + neg) {
            c_fail(c, "Malformed CIDR, mask bits must be an integer");
            return;
        }
    }
    if (neg && mask > 0) {
        c_fail(c, "Malformed CIDR, mask bits must not be negative");
        return;
    }
    fam = ip_parse(s, cut[0], m->ip_lo);
    if (fam == 0) {
        c_fail(c, "Nonstandard IP address: %.*s", (int)(cut[0] > 200 ? 200 : cut[0]), s);
        return;
    }
    if (fam < 0) {
        c_fail(c, "Invalid IP address: %.*s", (int)(cut[0] > 200 ? 200 : cut[0]), s);
        return;
    }
    if (fam == 4 && mask > 31) {
        c_fail(c, "IPv4 mask bits must be < 32");
        return;
    }
    if (fam == 6 && mask > 127) {
        c_fail(c, "IPv6 mask bits must be < 128");
        return;
    }
    m->type = BUS_MT_CIDR;
    m->fam = (uint8_t)fam;
    memcpy(m->ip_hi, m->ip_lo, 16);
    for (i = 0; i < (size_t)(fam == 4 ? 32 : 128); i++) {
        if ((long)i >= mask)
            m->ip_hi[i / 8] |= (unsigned char)(0x80 >> (i % 8));
    }
}

static void c_number_operand(struct comp *c, const struct jn *n, double *out)
{
    if (!num_canonical(n->s, n->len, out))
        c_fail(c, "Cannot compare number : %.*s", (int)(n->len > 200 ? 200 : n->len), n->s);
}

static void c_numeric(struct comp *c, const struct jn *arr, struct bus_matcher *m)
{
    const struct jn *e0 = arr->child;
    const struct jn *e1;
    const struct jn *e2;
    const struct jn *e3 = NULL;
    const char *t;
    int tl;

    if (e0 == NULL || e0->type != JN_STR) {
        tok_text(e0, &t, &tl);
        c_fail(c, "Invalid member in numeric match: %.*s", tl, t);
        return;
    }
    e1 = e0->next;
    m->type = BUS_MT_NUMERIC;
    m->lo = -INFINITY;
    m->hi = INFINITY;
    if (str_is(e0, "=")) {
        if (e1 == NULL || e1->type != JN_NUM) {
            c_fail(c, "Value of equals must be numeric");
            return;
        }
        if (e1->next != NULL) {
            c_fail(c, "Too many elements in numeric expression");
            return;
        }
        m->type = BUS_MT_NUM;
        c_number_operand(c, e1, &m->d);
        return;
    }
    if (str_is(e0, ">") || str_is(e0, ">=")) {
        if (e1 == NULL || e1->type != JN_NUM) {
            c_fail(c, "Value of %.*s must be numeric", (int)e0->len, e0->s);
            return;
        }
        m->lo_open = e0->len == 1;
        e2 = e1->next;
        if (e2 != NULL) {
            if (e2->type != JN_STR) {
                tok_text(e2, &t, &tl);
                c_fail(c, "Bad value in numeric range: %.*s", tl, t);
                return;
            }
            if (!str_is(e2, "<") && !str_is(e2, "<=")) {
                c_fail(c, "Bad numeric range operator: %.*s", (int)(e2->len > 200 ? 200 : e2->len),
                       e2->s);
                return;
            }
            e3 = e2->next;
            if (e3 == NULL || e3->type != JN_NUM) {
                c_fail(c, "Value of %.*s must be numeric", (int)e2->len, e2->s);
                return;
            }
            if (e3->next != NULL) {
                c_fail(c, "Too many terms in numeric range expression");
                return;
            }
            m->hi_open = e2->len == 1;
        }
        c_number_operand(c, e1, &m->lo);
        if (e3 != NULL) {
            c_number_operand(c, e3, &m->hi);
            if (!c->failed && m->lo >= m->hi)
                c_fail(c, "Bottom must be less than top");
        }
        return;
    }
    if (str_is(e0, "<") || str_is(e0, "<=")) {
        if (e1 == NULL || e1->type != JN_NUM) {
            c_fail(c, "Value of %.*s must be numeric", (int)e0->len, e0->s);
            return;
        }
        if (e1->next != NULL) {
            c_fail(c, "Too many elements in numeric expression");
            return;
        }
        m->hi_open = e0->len == 1;
        c_number_operand(c, e1, &m->hi);
        return;
    }
    c_fail(c, "Unrecognized numeric range operator: %.*s", (int)(e0->len > 200 ? 200 : e0->len),
           e0->s);
}

static void c_string(struct comp *c, struct bus_matcher *m, uint8_t type, const struct jn *v)
{
    m->type = type;
    if (type == BUS_MT_PREFIX_CI || type == BUS_MT_SUFFIX_CI || type == BUS_MT_EQ_CI) {
        m->cp = fold_string(&c->p->arena, v->s, v->len, &m->ncp);
    } else {
        m->s = arena_dup(&c->p->arena, v->s, v->len);
        m->len = v->len;
    }
}

enum ab_kind { AB_PLAIN, AB_CI, AB_PREFIX, AB_SUFFIX, AB_WILDCARD };

static void c_anything_but(struct comp *c, const struct jn *v, int more, struct bus_matcher *m)
{
    static const char too_many[] = "Too many elements in numeric expression";
    enum ab_kind kind = AB_PLAIN;
    const struct jn *inner = v;
    const struct jn *list;
    const struct jn *e;
    int inner_more = 0;
    int hasnum = 0;
    int hasstr = 0;
    uint32_t n = 0;

    if (v->type == JN_OBJ) {
        const struct jn *f = v->child;

        if (f == NULL) {
            c_fail(c, "Anything-But expression name not found");
            return;
        }
        if (key_is(f, "equals-ignore-case")) {
            kind = AB_CI;
        } else if (key_is(f, "prefix")) {
            kind = AB_PREFIX;
        } else if (key_is(f, "suffix")) {
            kind = AB_SUFFIX;
        } else if (key_is(f, "wildcard")) {
            kind = AB_WILDCARD;
        } else {
            c_fail(c, "Unsupported anything-but pattern: %.*s",
                   (int)(f->klen > 200 ? 200 : f->klen), f->key);
            return;
        }
        inner = f;
        inner_more = f->next != NULL;
    }
    if (inner->type != JN_ARR && inner->type != JN_STR && inner->type != JN_NUM) {
        c_fail(c, "Value of anything-but must be an array or single string/number value.");
        return;
    }
    list = inner->type == JN_ARR ? inner->child : inner;
    for (e = list; e != NULL; e = inner->type == JN_ARR ? e->next : NULL)
        n++;
    m->type = BUS_MT_ANYBUT;
    m->sub = arena_alloc(&c->p->arena, (n ? n : 1) * sizeof(*m->sub));
    memset(m->sub, 0, (n ? n : 1) * sizeof(*m->sub));
    for (e = list; e != NULL && !c->failed; e = inner->type == JN_ARR ? e->next : NULL) {
        struct bus_matcher *s = &m->sub[m->nsub];

        if (kind == AB_PLAIN) {
            if (e->type == JN_STR) {
                c_string(c, s, BUS_MT_STR, e);
                hasstr = 1;
            } else if (e->type == JN_NUM) {
                s->type = BUS_MT_NUM;
                c_number_operand(c, e, &s->d);
                hasnum = 1;
            } else {
                c_fail(c, "Inside anything but list, start|null|boolean is not supported.");
                return;
            }
            m->nsub++;
            continue;
        }
        if (e->type != JN_STR) {
            if (kind == AB_CI)
                c_fail(c, "Inside anything-but/equals-ignore-case list, "
                          "number|start|null|boolean is not supported.");
            else if (kind == AB_WILDCARD)
                c_fail(c, "wildcard match pattern must be a string");
            else
                c_fail(c, "prefix/suffix match pattern must be a string");
            return;
        }
        if ((kind == AB_PREFIX || kind == AB_SUFFIX) && e->len == 0) {
            c_fail(c, "Null prefix/suffix not allowed");
            return;
        }
        if (kind == AB_CI)
            c_string(c, s, BUS_MT_EQ_CI, e);
        else if (kind == AB_PREFIX)
            c_string(c, s, BUS_MT_PREFIX, e);
        else if (kind == AB_SUFFIX)
            c_string(c, s, BUS_MT_SUFFIX, e);
        else
            c_string(c, s, BUS_MT_WILDCARD, e);
        m->nsub++;
    }
    if (c->failed)
        return;
    if (kind == AB_PLAIN && hasnum == hasstr) {
        c_fail(c, "Inside anything but list, either all values are number or string, mixed "
                  "type is not supported");
        return;
    }
    if (kind == AB_WILDCARD) {
        uint32_t i;

        for (i = 0; i < m->nsub && !c->failed; i++)
            c_wildcard(c, m->sub[i].s, m->sub[i].len, &m->sub[i].wc);
        if (c->failed)
            return;
    }
    if (inner_more || more)
        c_fail(c, "%s", too_many);
}

/* {"prefix": {"equals-ignore-case": "x"}} and the suffix twin */
static void c_affix_ci(struct comp *c, const struct jn *v, int more, struct bus_matcher *m,
                       int prefix)
{
    const struct jn *f = v->child;
    const char *which = prefix ? "prefix" : "suffix";

    if (f == NULL) {
        c_fail(c, "%s expression name not found", prefix ? "Prefix" : "Suffix");
        return;
    }
    if (!key_is(f, "equals-ignore-case")) {
        c_fail(c, "Unsupported %s pattern: %.*s", which, (int)(f->klen > 200 ? 200 : f->klen),
               f->key);
        return;
    }
    if (f->type != JN_STR) {
        c_fail(c, "equals-ignore-case match pattern must be a string");
        return;
    }
    if (f->next != NULL || more) {
        c_fail(c, "Only one key allowed in match expression");
        return;
    }
    c_string(c, m, prefix ? BUS_MT_PREFIX_CI : BUS_MT_SUFFIX_CI, f);
}

/* One {"operator": ...} matcher. Returns 0, 1 for {"exists": false}, or -1. */
static int c_matcher(struct comp *c, const struct jn *obj, struct bus_matcher *m)
{
    static const char one_key[] = "Only one key allowed in match expression";
    const struct jn *v = obj->child;
    int more;

    memset(m, 0, sizeof(*m));
    if (v == NULL) {
        c_fail(c, "Match expression name not found");
        return -1;
    }
    more = v->next != NULL;
    if (key_is(v, "exactly")) {
        if (v->type != JN_STR)
            c_fail(c, "exact match pattern must be a string");
        else if (more)
            c_fail(c, one_key);
        else
            c_string(c, m, BUS_MT_STR, v);
    } else if (key_is(v, "prefix") || key_is(v, "suffix")) {
        int prefix = key_is(v, "prefix");

        if (v->type == JN_OBJ)
            c_affix_ci(c, v, more, m, prefix);
        else if (v->type != JN_STR)
            c_fail(c, "%s match pattern must be a string", prefix ? "prefix" : "suffix");
        else if (more)
            c_fail(c, one_key);
        else
            c_string(c, m, prefix ? BUS_MT_PREFIX : BUS_MT_SUFFIX, v);
    } else if (key_is(v, "numeric")) {
        if (v->type != JN_ARR) {
            c_fail(c, "Value of numeric must be an array.");
        } else {
            c_numeric(c, v, m);
            if (more)
                c_fail(c, "Too many elements in numeric expression");
        }
    } else if (key_is(v, "anything-but")) {
        c_anything_but(c, v, more, m);
    } else if (key_is(v, "exists")) {
        if (v->type != JN_TRUE && v->type != JN_FALSE)
            c_fail(c, "exists match pattern must be either true or false.");
        else if (more)
            c_fail(c, one_key);
        else if (v->type == JN_FALSE)
            return 1;
        else
            m->type = BUS_MT_EXISTS;
    } else if (key_is(v, "cidr")) {
        if (v->type != JN_STR) {
            c_fail(c, "prefix match pattern must be a string");
        } else {
            c_cidr(c, v->s, v->len, m);
            if (more)
                c_fail(c, one_key);
        }
    } else if (key_is(v, "equals-ignore-case")) {
        if (v->type != JN_STR)
            c_fail(c, "equals-ignore-case match pattern must be a string");
        else if (more)
            c_fail(c, one_key);
        else
            c_string(c, m, BUS_MT_EQ_CI, v);
    } else if (key_is(v, "wildcard")) {
        if (v->type != JN_STR) {
            c_fail(c, "wildcard match pattern must be a string");
        } else {
            c_string(c, m, BUS_MT_WILDCARD, v);
            c_wildcard(c, v->s, v->len, &m->wc);
            if (more)
                c_fail(c, one_key);
        }
    } else {
        c_fail(c, "Unrecognized match type %.*s", (int)(v->klen > 200 ? 200 : v->klen), v->key);
    }
    return c->failed ? -1 : 0;
}

/* A field's array of matchers: one condition, put into every sub-rule. */
static void c_write(struct comp *c, const struct jn *arr, const char *path, size_t plen,
                    struct clist *rules)
{
    const struct jn *e;
    struct bus_matcher *m;
    struct bus_cond *cond;
    uint32_t n = 0;
    uint32_t nm = 0;
    uint32_t i;
    int absent_ok = 0;

    for (e = arr->child; e != NULL; e = e->next)
        n++;
    m = arena_alloc(&c->p->arena, (n ? n : 1) * sizeof(*m));
    for (e = arr->child; e != NULL; e = e->next) {
        struct bus_matcher *x = &m[nm];
        int fam;

        memset(x, 0, sizeof(*x));
        switch (e->type) {
        case JN_OBJ:
            fam = c_matcher(c, e, x);
            if (fam < 0)
                return;
            if (fam == 1)
                absent_ok = 1;
            else
                nm++;
            break;
        case JN_STR:
            fam = ip_parse(e->s, e->len, x->ip_lo);
            if (fam > 0) {
                x->type = BUS_MT_IP;
                x->fam = (uint8_t)fam;
            } else {
                c_string(c, x, BUS_MT_STR, e);
            }
            nm++;
            break;
        case JN_NUM:
            x->d = NAN;
            if (num_canonical(e->s, e->len, &x->d)) {
                x->type = BUS_MT_NUM;
            } else {
                x->type = BUS_MT_NUMTEXT;
                x->s = arena_dup(&c->p->arena, e->s, e->len);
                x->len = e->len;
            }
            nm++;
            break;
        case JN_TRUE:
            x->type = BUS_MT_TRUE;
            nm++;
            break;
        case JN_FALSE:
            x->type = BUS_MT_FALSE;
            nm++;
            break;
        case JN_NULL:
            x->type = BUS_MT_NULL;
            nm++;
            break;
        default:
            c_fail(c, "Match value must be String, number, true, false, or null");
            return;
        }
    }
    if (n == 0) {
        c_fail(c, "Empty arrays are not allowed");
        return;
    }
    if (c->ncond == c->capcond) {
        c->capcond = c->capcond ? 2 * c->capcond : 8;
        c->cond = bb_xrealloc(c->cond, (size_t)c->capcond * sizeof(*c->cond));
    }
    cond = &c->cond[c->ncond];
    cond->path = bus_pattern_ptab_ref(&c->p->pt, path, plen);
    cond->nm = nm;
    cond->m = m;
    cond->absent_ok = (uint8_t)absent_ok;
    if (rules->n == 0)
        clist_add(rules, NULL);
    for (i = 0; i < rules->n; i++)
        cmap_put(&rules->m[i], cond->path, c->ncond);
    c->ncond++;
}

static void c_object(struct comp *c, const struct jn *obj, const char *pre, size_t plen, int in_or,
                     struct clist *rules);

static void c_or(struct comp *c, const struct jn *v, const char *pre, size_t plen,
                 struct clist *rules)
{
    struct clist cur = *rules;
    const struct jn *e;
    uint32_t count = 0;

    if (v->type != JN_ARR) {
        c_fail(c, "It must be an Array followed with $or.");
        return;
    }
    memset(rules, 0, sizeof(*rules));
    for (e = v->child; e != NULL && !c->failed; e = e->next) {
        struct clist nr = {0};
        uint32_t i;

        count++;
        if (e->type != JN_OBJ) {
            c_fail(c, "Only JSON object is allowed in array of $or relationship.");
            break;
        }
        for (i = 0; i < cur.n; i++)
            clist_add(&nr, &cur.m[i]);
        if (nr.n == 0)
            clist_add(&nr, NULL);
        c_object(c, e, pre, plen, 1, &nr);
        for (i = 0; i < nr.n && !c->failed; i++) {
            if (rules->n >= BUS_PATTERN_MAX_SUBRULES) {
                c->final = 1;
                c_fail(c, "Rule is too complex - the $or combinations exceed the limit of %d",
                       BUS_PATTERN_MAX_SUBRULES);
                break;
            }
            clist_add(rules, &nr.m[i]);
        }
        clist_free(&nr);
    }
    if (!c->failed && count < 2)
        c_fail(c, "There must have at least 2 Objects in $or relationship.");
    clist_free(&cur);
}

static void c_object(struct comp *c, const struct jn *obj, const char *pre, size_t plen, int in_or,
                     struct clist *rules)
{
    const struct jn *m;

    if (obj->child == NULL) {
        c_fail(c, "Empty objects are not allowed");
        return;
    }
    for (m = obj->child; m != NULL && !c->failed; m = m->next) {
        const char *path;
        size_t len;
        size_t i;

        if (c->or_mode && key_is(m, "$or")) {
            c_or(c, m, pre, plen, rules);
            continue;
        }
        if (in_or) {
            for (i = 0; i < sizeof(reserved_in_or) / sizeof(reserved_in_or[0]); i++) {
                if (key_is(m, reserved_in_or[i])) {
                    c_fail(c, "%s is Ruler reserved fieldName which cannot be used inside $or.",
                           reserved_in_or[i]);
                    return;
                }
            }
        }
        path = c_join(c, pre, plen, m, &len);
        if (m->type == JN_OBJ)
            c_object(c, m, path, len, in_or, rules);
        else if (m->type == JN_ARR)
            c_write(c, m, path, len, rules);
        else
            c_fail(c, "\"%.*s\" must be an object or an array",
                   (int)(m->klen > 200 ? 200 : m->klen), m->key);
    }
}

static int field_cmp(const void *a, const void *b, void *arg)
{
    const struct bus_ptab *pt = arg;
    const struct bus_path *x = &pt->e[((const struct bus_field *)a)->path];
    const struct bus_path *y = &pt->e[((const struct bus_field *)b)->path];
    size_t n = x->len < y->len ? x->len : y->len;
    int r = memcmp(x->s, y->s, n);

    if (r != 0)
        return r;
    return x->len < y->len ? -1 : x->len > y->len;
}

static void pattern_free(struct bus_pattern *p)
{
    if (p == NULL)
        return;
    bus_pattern_ptab_cleanup(&p->pt);
    arena_free(p->arena);
    free(p);
}

/* Compiles the tree; on failure returns NULL with the reason in c->reason. */
static struct bus_pattern *compile_tree(struct comp *c, const struct jn *root)
{
    struct bus_pattern *p = bb_xcalloc(1, sizeof(*p));
    struct clist rules = {0};
    uint32_t i;

    bus_pattern_ptab_init(&p->pt);
    c->p = p;
    c->ncond = 0;
    c->failed = 0;
    c->final = 0;
    c_object(c, root, NULL, 0, 0, &rules);
    if (c->failed) {
        clist_free(&rules);
        pattern_free(p);
        return NULL;
    }
    p->ncond = c->ncond;
    p->cond = arena_alloc(&p->arena, (c->ncond ? c->ncond : 1) * sizeof(*p->cond));
    if (c->ncond > 0)
        memcpy(p->cond, c->cond, c->ncond * sizeof(*p->cond));
    p->nsub = rules.n;
    p->sub = arena_alloc(&p->arena, (rules.n ? rules.n : 1) * sizeof(*p->sub));
    for (i = 0; i < rules.n; i++) {
        struct bus_subrule *s = &p->sub[i];
        uint32_t k;

        s->n = rules.m[i].n;
        s->f = arena_alloc(&p->arena, (s->n ? s->n : 1) * sizeof(*s->f));
        for (k = 0; k < s->n; k++) {
            s->f[k].path = rules.m[i].pc[2 * k];
            s->f[k].cond = rules.m[i].pc[2 * k + 1];
        }
        qsort_r(s->f, s->n, sizeof(*s->f), field_cmp, &p->pt);
    }
    clist_free(&rules);
    return p;
}

static int tree_has_or(const struct jn *n)
{
    const struct jn *k;

    for (k = n->child; k != NULL; k = k->next) {
        if (n->type == JN_OBJ && key_is(k, "$or"))
            return 1;
        if ((k->type == JN_OBJ || k->type == JN_ARR) && tree_has_or(k))
            return 1;
    }
    return 0;
}

/* ---- path table ---- */

#define NONE UINT32_MAX

void bus_pattern_ptab_init(struct bus_ptab *t)
{
    memset(t, 0, sizeof(*t));
}

void bus_pattern_ptab_cleanup(struct bus_ptab *t)
{
    uint32_t i;

    for (i = 0; i < t->n; i++) {
        free(t->e[i].s);
        free(t->e[i].kid);
    }
    free(t->e);
    free(t->slot);
    free(t->rootkid);
    memset(t, 0, sizeof(*t));
}

static uint64_t path_hash(const char *s, size_t len)
{
    uint64_t h = BUS_FNV_BASIS;
    size_t i;

    for (i = 0; i < len; i++)
        h = bus_pattern_path_step(h, (unsigned char)s[i]);
    return h;
}

static uint32_t ptab_lookup(const struct bus_ptab *t, uint64_t h, const char *s, size_t len)
{
    uint32_t mask;
    uint32_t i;

    if (t->nslot == 0)
        return NONE;
    mask = t->nslot - 1;
    for (i = (uint32_t)bus_pattern_mix(h) & mask; t->slot[i] != 0; i = (i + 1) & mask) {
        const struct bus_path *e = &t->e[t->slot[i] - 1];

        if (e->hash == h && e->len == len && e->s != NULL && memcmp(e->s, s, len) == 0)
            return t->slot[i] - 1;
    }
    return NONE;
}

static void ptab_reindex(struct bus_ptab *t)
{
    uint32_t want = 16;
    uint32_t i;

    while (want < 2 * t->nlive + 2)
        want *= 2;
    free(t->slot);
    t->slot = bb_xcalloc(want, sizeof(*t->slot));
    t->nslot = want;
    t->maxlen = 0;
    for (i = 0; i < t->n; i++) {
        const struct bus_path *e = &t->e[i];
        uint32_t j;

        if (e->s == NULL)
            continue;
        for (j = (uint32_t)bus_pattern_mix(e->hash) & (want - 1); t->slot[j] != 0;
             j = (j + 1) & (want - 1))
            ;
        t->slot[j] = i + 1;
        if (e->len > t->maxlen)
            t->maxlen = e->len;
    }
}

static void kid_add(uint32_t **kid, uint32_t *n, uint32_t *cap, uint32_t id)
{
    if (*n == *cap) {
        *cap = *cap ? 2 * *cap : 4;
        *kid = bb_xrealloc(*kid, (size_t)*cap * sizeof(**kid));
    }
    (*kid)[(*n)++] = id;
}

static void kid_drop(uint32_t *kid, uint32_t *n, uint32_t id)
{
    uint32_t i;

    for (i = 0; i < *n; i++) {
        if (kid[i] == id) {
            kid[i] = kid[--*n];
            return;
        }
    }
}

/* The entry for @s, made (without references) if new; its parent, the path
 * up to the last dot, must exist already. */
static uint32_t ptab_get(struct bus_ptab *t, const char *s, size_t len)
{
    uint64_t h = path_hash(s, len);
    uint32_t id = ptab_lookup(t, h, s, len);
    struct bus_path *e;
    size_t dot = len;
    uint32_t i;

    if (id != NONE)
        return id;
    i = t->n;
    if (t->nlive < t->n) {
        for (i = 0; i < t->n; i++) {
            if (t->e[i].s == NULL)
                break;
        }
    }
    if (i == t->n) {
        if (t->n == t->cap) {
            t->cap = t->cap ? 2 * t->cap : 16;
            t->e = bb_xrealloc(t->e, (size_t)t->cap * sizeof(*t->e));
        }
        t->n++;
    }
    e = &t->e[i];
    memset(e, 0, sizeof(*e));
    e->s = bb_xstrndup(s, len);
    e->len = (uint32_t)len;
    e->hash = h;
    while (dot > 0 && s[dot - 1] != '.')
        dot--;
    if (dot == 0) {
        e->parent = NONE;
        kid_add(&t->rootkid, &t->nrootkid, &t->caprootkid, i);
    } else {
        e->parent = ptab_lookup(t, path_hash(s, dot - 1), s, dot - 1);
        e->seg = (uint32_t)dot;
        kid_add(&t->e[e->parent].kid, &t->e[e->parent].nkid, &t->e[e->parent].capkid, i);
    }
    t->nlive++;
    if (2 * t->nlive + 2 > t->nslot) {
        ptab_reindex(t);
    } else {
        uint32_t j;

        for (j = (uint32_t)bus_pattern_mix(h) & (t->nslot - 1); t->slot[j] != 0;
             j = (j + 1) & (t->nslot - 1))
            ;
        t->slot[j] = i + 1;
        if (len > t->maxlen)
            t->maxlen = (uint32_t)len;
    }
    return i;
}

uint32_t bus_pattern_ptab_ref(struct bus_ptab *t, const char *s, size_t len)
{
    uint32_t id;
    size_t k;

    for (k = 0; k < len; k++) {
        if (s[k] == '.') {
            uint32_t pid = ptab_get(t, s, k); /* may move t->e */

            t->e[pid].nprefix++;
        }
    }
    id = ptab_get(t, s, len);
    t->e[id].nfull++;
    return id;
}

static int ptab_drop(struct bus_ptab *t, uint32_t id)
{
    struct bus_path *e = &t->e[id];

    if (e->nfull > 0 || e->nprefix > 0)
        return 0;
    if (e->parent == NONE)
        kid_drop(t->rootkid, &t->nrootkid, id);
    else if (t->e[e->parent].s != NULL)
        kid_drop(t->e[e->parent].kid, &t->e[e->parent].nkid, id);
    free(e->s);
    free(e->kid);
    e->s = NULL;
    e->kid = NULL;
    e->nkid = 0;
    e->capkid = 0;
    t->nlive--;
    return 1;
}

void bus_pattern_ptab_unref(struct bus_ptab *t, uint32_t id)
{
    size_t len = t->e[id].len;
    char *s = bb_xstrndup(t->e[id].s, len);
    size_t k;
    int dropped = 0;

    if (t->e[id].nfull > 0)
        t->e[id].nfull--;
    dropped |= ptab_drop(t, id); /* before its parents: they still list it */
    for (k = len; k > 0; k--) {
        if (s[k - 1] == '.') {
            uint32_t pid = ptab_lookup(t, path_hash(s, k - 1), s, k - 1);

            if (pid != NONE && t->e[pid].nprefix > 0) {
                t->e[pid].nprefix--;
                dropped |= ptab_drop(t, pid);
            }
        }
    }
    if (dropped)
        ptab_reindex(t);
    free(s);
}

/* ---- flattening an event into leaves ---- */

static void *grow(void *p, const void *inl, uint32_t *cap, size_t elem, uint32_t need)
{
    uint32_t ncap = *cap ? *cap : 16;
    void *q;

    while (ncap < need)
        ncap *= 2;
    if (p == inl) {
        q = bb_xmalloc((size_t)ncap * elem);
        memcpy(q, p, (size_t)*cap * elem);
    } else {
        q = bb_xrealloc(p, (size_t)ncap * elem);
    }
    *cap = ncap;
    return q;
}

void bus_pattern_flat_init(struct bus_flat *f, const struct bus_ptab *pt)
{
    f->pt = pt;
    f->leaf = f->leaf_in;
    f->nleaf = 0;
    f->capleaf = BUS_FLAT_INLINE_LEAVES;
    f->node = f->node_in;
    f->nnode = 1;
    f->capnode = BUS_FLAT_INLINE_NODES;
    memset(&f->node[0], 0, sizeof(f->node[0]));
    f->narr = 0;
    f->truncated = 0;
    f->path = f->path_in;
    f->cappath = sizeof(f->path_in);
    if ((size_t)pt->maxlen + 2 > f->cappath) {
        f->cappath = (size_t)pt->maxlen + 2;
        f->path = bb_xmalloc(f->cappath);
    }
    f->memb = NULL;
    f->capmemb = 0;
    f->scratch = (unsigned char *)f->scratch_in;
    f->capscratch = sizeof(f->scratch_in);
    f->usedscratch = 0;
}

void bus_pattern_flat_cleanup(struct bus_flat *f)
{
    if (f->leaf != f->leaf_in)
        free(f->leaf);
    if (f->node != f->node_in)
        free(f->node);
    if (f->path != f->path_in)
        free(f->path);
    if (f->scratch != (unsigned char *)f->scratch_in)
        free(f->scratch);
    free(f->memb);
}

static struct bus_leaf *fl_leaf(struct bus_flat *f, uint32_t path, uint32_t node, uint8_t type)
{
    struct bus_leaf *l;

    if (f->nleaf >= BUS_PATTERN_MAX_LEAVES) {
        f->truncated = 1;
        return NULL;
    }
    if (f->nleaf == f->capleaf)
        f->leaf = grow(f->leaf, f->leaf_in, &f->capleaf, sizeof(*f->leaf), f->nleaf + 1);
    l = &f->leaf[f->nleaf];
    l->s = "";
    l->len = 0;
    l->d = 0;
    l->path = path;
    l->node = node;
    l->seq = f->nleaf;
    l->type = type;
    l->textless = 0;
    l->ip = -1;
    f->nleaf++;
    return l;
}

static uint32_t fl_node(struct bus_flat *f, uint32_t parent, uint32_t arr, uint32_t idx)
{
    struct bus_anode *n;

    if (f->nnode >= BUS_PATTERN_MAX_LEAVES) {
        f->truncated = 1;
        return NONE;
    }
    if (f->nnode == f->capnode)
        f->node = grow(f->node, f->node_in, &f->capnode, sizeof(*f->node), f->nnode + 1);
    n = &f->node[f->nnode];
    n->parent = parent;
    n->arr = arr;
    n->idx = idx;
    return f->nnode++;
}

#define FANOUT_LINEAR 12 /* up to this many segments are compared one by one */

/*
 * The table entry for member @key (@klen bytes, or up to its NUL when @klen
 * is SIZE_MAX) of the object at entry @parent (NONE: the event root). The
 * joined path is the parent's path, a dot and the key, so dots inside the
 * key step further down the trie.
 */
static uint32_t fl_find(struct bus_flat *f, uint32_t parent, const char *key, size_t klen)
{
    const struct bus_ptab *pt = f->pt;
    uint32_t cur = parent;
    size_t at = 0;

    for (;;) {
        const uint32_t *kid = cur == NONE ? pt->rootkid : pt->e[cur].kid;
        uint32_t nk = cur == NONE ? pt->nrootkid : pt->e[cur].nkid;
        uint32_t next = NONE;
        size_t end = 0;
        uint32_t i;

        if (nk == 0)
            return NONE;
        if (nk <= FANOUT_LINEAR) {
            for (i = 0; i < nk && next == NONE; i++) {
                const struct bus_path *e = &pt->e[kid[i]];
                const char *seg = e->s + e->seg;
                size_t sl = e->len - e->seg;
                size_t j;

                for (j = 0; j < sl; j++) {
                    size_t x = at + j;

                    if (x >= klen || (klen == SIZE_MAX && key[x] == '\0') || key[x] != seg[j])
                        break;
                }
                if (j < sl)
                    continue;
                end = at + sl;
                if (end == klen || (klen == SIZE_MAX && key[end] == '\0') || key[end] == '.')
                    next = kid[i];
            }
        } else {
            /* many candidates: look the whole path up by hash */
            size_t base = cur == NONE ? 0 : pt->e[cur].len + 1;
            uint64_t h = cur == NONE ? BUS_FNV_BASIS : bus_pattern_path_step(pt->e[cur].hash, '.');

            if (cur != NONE) {
                memcpy(f->path, pt->e[cur].s, pt->e[cur].len);
                f->path[base - 1] = '.';
            }
            for (end = at; end < klen && !(klen == SIZE_MAX && key[end] == '\0') && key[end] != '.';
                 end++) {
                if (base + end - at >= pt->maxlen)
                    return NONE;
                f->path[base + end - at] = key[end];
                h = bus_pattern_path_step(h, (unsigned char)key[end]);
            }
            next = ptab_lookup(pt, h, f->path, base + end - at);
        }
        if (next == NONE)
            return NONE;
        if (end == klen || (klen == SIZE_MAX && key[end] == '\0'))
            return next;
        cur = next;
        at = end + 1;
    }
}

static void fl_cj_value(struct bus_flat *f, const cJSON *v, uint32_t id, uint32_t node, int depth);

static void fl_cj_members(struct bus_flat *f, const cJSON *obj, uint32_t parent, uint32_t node,
                          int depth)
{
    const cJSON *m;

    for (m = obj->child; m != NULL; m = m->next) {
        uint32_t id = fl_find(f, parent, m->string != NULL ? m->string : "", SIZE_MAX);

        if (id != NONE)
            fl_cj_value(f, m, id, node, depth);
    }
}

static void fl_cj_value(struct bus_flat *f, const cJSON *v, uint32_t id, uint32_t node, int depth)
{
    const struct bus_path *e = &f->pt->e[id];
    struct bus_leaf *l;

    switch (v->type & 0xff) {
    case cJSON_Object:
        if (e->nkid > 0 && depth < BUS_PATTERN_MAX_EVENT_DEPTH)
            fl_cj_members(f, v, id, node, depth + 1);
        break;
    case cJSON_Array: {
        const cJSON *el;
        uint32_t arr;
        uint32_t idx = 0;

        if (depth >= BUS_PATTERN_MAX_EVENT_DEPTH)
            break;
        arr = f->narr++;
        for (el = v->child; el != NULL; el = el->next, idx++) {
            int t = el->type & 0xff;
            uint32_t n;

            if (t == cJSON_Object ? e->nkid == 0 : (t != cJSON_Array && e->nfull == 0))
                continue;
            n = fl_node(f, node, arr, idx);
            if (n == NONE)
                break;
            fl_cj_value(f, el, id, n, depth + 1);
        }
        break;
    }
    case cJSON_String:
        if (e->nfull > 0 && (l = fl_leaf(f, id, node, BUS_LV_STR)) != NULL) {
            if (v->valuestring != NULL) {
                l->s = v->valuestring;
                l->len = strlen(v->valuestring);
            }
        }
        break;
    case cJSON_Number:
        if (e->nfull > 0) {
            int fin = isfinite(v->valuedouble);

            l = fl_leaf(f, id, node, fin ? BUS_LV_NUM : BUS_LV_NUMTEXT);
            if (l != NULL && fin) {
                l->d = v->valuedouble == 0 ? 0 : v->valuedouble;
                l->textless = 1;
            }
        }
        break;
    case cJSON_True:
        if (e->nfull > 0)
            fl_leaf(f, id, node, BUS_LV_TRUE);
        break;
    case cJSON_False:
        if (e->nfull > 0)
            fl_leaf(f, id, node, BUS_LV_FALSE);
        break;
    case cJSON_NULL:
        if (e->nfull > 0)
            fl_leaf(f, id, node, BUS_LV_NULL);
        break;
    default:
        break;
    }
}

static void fl_jn_value(struct bus_flat *f, const struct jn *v, uint32_t id, uint32_t node,
                        int depth);

static void fl_jn_members(struct bus_flat *f, const struct jn *obj, uint32_t parent, uint32_t node,
                          int depth)
{
    const struct jn *m;

    for (m = obj->child; m != NULL; m = m->next) {
        uint32_t id = fl_find(f, parent, m->key, m->klen);

        if (id != NONE)
            fl_jn_value(f, m, id, node, depth);
    }
}

static void fl_jn_value(struct bus_flat *f, const struct jn *v, uint32_t id, uint32_t node,
                        int depth)
{
    const struct bus_path *e = &f->pt->e[id];
    struct bus_leaf *l;

    if (v->type == JN_OBJ) {
        if (e->nkid > 0 && depth < BUS_PATTERN_MAX_EVENT_DEPTH)
            fl_jn_members(f, v, id, node, depth + 1);
        return;
    }
    if (v->type == JN_ARR) {
        const struct jn *el;
        uint32_t arr;
        uint32_t idx = 0;

        if (depth >= BUS_PATTERN_MAX_EVENT_DEPTH)
            return;
        arr = f->narr++;
        for (el = v->child; el != NULL; el = el->next, idx++) {
            uint32_t n;

            if (el->type == JN_OBJ ? e->nkid == 0 : (el->type != JN_ARR && e->nfull == 0))
                continue;
            n = fl_node(f, node, arr, idx);
            if (n == NONE)
                break;
            fl_jn_value(f, el, id, n, depth + 1);
        }
        return;
    }
    if (e->nfull == 0)
        return;
    switch (v->type) {
    case JN_STR:
        l = fl_leaf(f, id, node, BUS_LV_STR);
        if (l != NULL) {
            l->s = v->s;
            l->len = v->len;
        }
        break;
    case JN_NUM: {
        double d = 0;
        int canon = num_canonical(v->s, v->len, &d);

        l = fl_leaf(f, id, node, canon ? BUS_LV_NUM : BUS_LV_NUMTEXT);
        if (l != NULL) {
            l->d = d;
            l->s = v->s;
            l->len = v->len;
        }
        break;
    }
    case JN_TRUE:
        fl_leaf(f, id, node, BUS_LV_TRUE);
        break;
    case JN_FALSE:
        fl_leaf(f, id, node, BUS_LV_FALSE);
        break;
    case JN_NULL:
        fl_leaf(f, id, node, BUS_LV_NULL);
        break;
    default:
        break;
    }
}

static int leaf_before(const struct bus_leaf *a, const struct bus_leaf *b)
{
    return a->path < b->path || (a->path == b->path && a->seq < b->seq);
}

static int leaf_cmp(const void *a, const void *b)
{
    const struct bus_leaf *x = a;
    const struct bus_leaf *y = b;

    return leaf_before(x, y) ? -1 : leaf_before(y, x);
}

static void fl_sort(struct bus_flat *f)
{
    uint32_t i;

    if (f->nleaf > 32) {
        qsort(f->leaf, f->nleaf, sizeof(*f->leaf), leaf_cmp);
        return;
    }
    for (i = 1; i < f->nleaf; i++) {
        struct bus_leaf x = f->leaf[i];
        uint32_t j = i;

        while (j > 0 && leaf_before(&x, &f->leaf[j - 1])) {
            f->leaf[j] = f->leaf[j - 1];
            j--;
        }
        f->leaf[j] = x;
    }
}

void bus_pattern_flat_cjson(struct bus_flat *f, const cJSON *ev)
{
    if (ev != NULL && (ev->type & 0xff) == cJSON_Object)
        fl_cj_members(f, ev, NONE, 0, 0);
    fl_sort(f);
}

static void flat_jn(struct bus_flat *f, const struct jn *ev)
{
    fl_jn_members(f, ev, NONE, 0, 0);
    fl_sort(f);
}

uint32_t bus_pattern_flat_range(const struct bus_flat *f, uint32_t path, uint32_t *first)
{
    uint32_t lo = 0;
    uint32_t hi = f->nleaf;
    uint32_t a;

    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;

        if (f->leaf[mid].path < path)
            lo = mid + 1;
        else
            hi = mid;
    }
    a = lo;
    hi = f->nleaf;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;

        if (f->leaf[mid].path <= path)
            lo = mid + 1;
        else
            hi = mid;
    }
    *first = a;
    return lo - a;
}

/* ---- matching ---- */

static int ci_next(const char *s, size_t len, size_t *i)
{
    unsigned char c = (unsigned char)s[*i];

    if (c < 0x80) {
        (*i)++;
        return (c >= 'A' && c <= 'Z') ? c + 32 : c;
    }
    return (int)bus_pattern_fold(bus_pattern_utf8_next(s, len, i));
}

/* Compares the folded code points of s[*i..] with @cp; 1 when all of @cp matched. */
static int ci_run(const char *s, size_t len, size_t *i, const uint32_t *cp, size_t ncp)
{
    size_t k;

    for (k = 0; k < ncp; k++) {
        if (*i >= len || (uint32_t)ci_next(s, len, i) != cp[k])
            return 0;
    }
    return 1;
}

static int ci_suffix(const char *s, size_t len, const uint32_t *cp, size_t ncp)
{
    size_t n = 0;
    size_t i = 0;

    while (i < len) {
        bus_pattern_utf8_next(s, len, &i);
        n++;
    }
    if (n < ncp)
        return 0;
    i = 0;
    for (; n > ncp; n--)
        bus_pattern_utf8_next(s, len, &i);
    return ci_run(s, len, &i, cp, ncp) && i == len;
}

static int wc_match(const struct bus_wc *wc, const char *s, size_t len)
{
    size_t flen = wc->seglen[0];
    size_t llen = wc->seglen[wc->nstar];
    size_t pos;
    size_t end;
    uint32_t k;

    if (wc->nstar == 0)
        return len == flen && memcmp(s, wc->seg[0], len) == 0;
    if (len < flen + llen || memcmp(s, wc->seg[0], flen) != 0 ||
        memcmp(s + len - llen, wc->seg[wc->nstar], llen) != 0)
        return 0;
    pos = flen;
    end = len - llen;
    for (k = 1; k < wc->nstar; k++) {
        const char *hit = memmem(s + pos, end - pos, wc->seg[k], wc->seglen[k]);

        if (hit == NULL)
            return 0;
        pos = (size_t)(hit - s) + wc->seglen[k];
    }
    return 1;
}

static int match_one(const struct bus_matcher *m, struct bus_leaf *l)
{
    size_t i = 0;
    uint32_t k;

    switch (m->type) {
    case BUS_MT_STR:
        return l->type == BUS_LV_STR && l->len == m->len && memcmp(l->s, m->s, m->len) == 0;
    case BUS_MT_IP:
        return bus_pattern_leaf_ip(l) == m->fam && memcmp(l->ipb, m->ip_lo, 16) == 0;
    case BUS_MT_NUM:
        return l->type == BUS_LV_NUM && l->d == m->d;
    case BUS_MT_NUMTEXT:
        /* cJSON kept only the double: the nearest one has to do */
        if (l->type == BUS_LV_NUM && l->textless)
            return l->d == m->d;
        return l->type == BUS_LV_NUMTEXT && l->len == m->len && memcmp(l->s, m->s, m->len) == 0;
    case BUS_MT_TRUE:
        return l->type == BUS_LV_TRUE;
    case BUS_MT_FALSE:
        return l->type == BUS_LV_FALSE;
    case BUS_MT_NULL:
        return l->type == BUS_LV_NULL;
    case BUS_MT_PREFIX:
        return l->type == BUS_LV_STR && l->len >= m->len && memcmp(l->s, m->s, m->len) == 0;
    case BUS_MT_SUFFIX:
        return l->type == BUS_LV_STR && l->len >= m->len &&
               memcmp(l->s + l->len - m->len, m->s, m->len) == 0;
    case BUS_MT_PREFIX_CI:
        return l->type == BUS_LV_STR && ci_run(l->s, l->len, &i, m->cp, m->ncp);
    case BUS_MT_SUFFIX_CI:
        return l->type == BUS_LV_STR && ci_suffix(l->s, l->len, m->cp, m->ncp);
    case BUS_MT_EQ_CI:
        return l->type == BUS_LV_STR && ci_run(l->s, l->len, &i, m->cp, m->ncp) && i == l->len;
    case BUS_MT_WILDCARD:
        return l->type == BUS_LV_STR && wc_match(&m->wc, l->s, l->len);
    case BUS_MT_NUMERIC:
        return l->type == BUS_LV_NUM && (m->lo_open ? l->d > m->lo : l->d >= m->lo) &&
               (m->hi_open ? l->d < m->hi : l->d <= m->hi);
    case BUS_MT_CIDR:
        return bus_pattern_leaf_ip(l) == m->fam && memcmp(l->ipb, m->ip_lo, 16) >= 0 &&
               memcmp(l->ipb, m->ip_hi, 16) <= 0;
    case BUS_MT_EXISTS:
        return 1;
    case BUS_MT_ANYBUT:
        for (k = 0; k < m->nsub; k++) {
            if (match_one(&m->sub[k], l))
                return 0;
        }
        return 1;
    default:
        return 0;
    }
}

static int cond_match(const struct bus_cond *c, struct bus_leaf *l)
{
    uint32_t k;

    for (k = 0; k < c->nm; k++) {
        if (match_one(&c->m[k], l))
            return 1;
    }
    return 0;
}

/* ---- sub-rule evaluation with array consistency ---- */

struct evf {     /* one field of the sub-rule under evaluation */
    uint32_t lb; /* leaves at the path: f->leaf[lb .. lb + ln) */
    uint32_t ln;
    uint32_t *cand; /* those satisfying a positive matcher */
    uint32_t cn;
    uint8_t absent_ok;
    uint8_t later_absent; /* a later field has {"exists": false} */
};

struct frame {
    uint32_t pos;
    uint32_t mark;
    uint8_t mode; /* 0 fresh, 1 trying candidates, 2 satisfied by absence */
};

static void *scratch_take(struct bus_flat *f, size_t n)
{
    void *p = f->scratch + f->usedscratch;

    f->usedscratch += (n + 7) & ~(size_t)7;
    return p;
}

static int leaf_consistent(const struct bus_flat *f, const struct bus_leaf *l)
{
    uint32_t n = l->node;

    while (n != 0) {
        const struct bus_anode *a = &f->node[n];
        uint32_t want = f->memb[a->arr];

        if (want != 0 && want != a->idx + 1)
            return 0;
        n = a->parent;
    }
    return 1;
}

static void leaf_apply(struct bus_flat *f, const struct bus_leaf *l, uint32_t *undo, uint32_t *top)
{
    uint32_t n = l->node;

    while (n != 0) {
        const struct bus_anode *a = &f->node[n];

        if (f->memb[a->arr] == 0) {
            f->memb[a->arr] = a->idx + 1;
            undo[(*top)++] = a->arr;
        }
        n = a->parent;
    }
}

static void undo_to(struct bus_flat *f, uint32_t *undo, uint32_t *top, uint32_t mark)
{
    while (*top > mark)
        f->memb[undo[--*top]] = 0;
}

/*
 * Is there a choice of one candidate leaf per field (or, for a field that
 * allows {"exists": false}, no consistent leaf at all) such that all chosen
 * leaves sit in the same element of every array they share? Fields are taken
 * in path order and absence is judged against the choices made so far, which
 * is how event-ruler's array-consistent finder walks them. Backtracking is
 * bounded by BUS_PATTERN_MAX_STEPS (then: no match).
 */
static int eval_dfs(struct bus_flat *f, struct evf *ev, const uint32_t *order, uint32_t k)
{
    struct frame *fr;
    uint32_t *undo;
    uint32_t top = 0;
    uint32_t steps = 0;
    int64_t i = 0;
    int ok = 0;

    fr = scratch_take(f, (size_t)k * sizeof(*fr));
    undo = scratch_take(f, (size_t)(f->narr + 1) * sizeof(*undo));
    fr[0].mode = 0;
    for (;;) {
        struct frame *F;
        struct evf *E;
        int found = 0;

        if (i == (int64_t)k) {
            ok = 1;
            break;
        }
        F = &fr[i];
        E = &ev[order[i]];
        if (F->mode == 0) {
            F->mark = top;
            if (E->absent_ok) {
                uint32_t j;
                int present = 0;

                for (j = 0; j < E->ln && !present; j++) {
                    if (++steps > BUS_PATTERN_MAX_STEPS)
                        goto out;
                    present = leaf_consistent(f, &f->leaf[E->lb + j]);
                }
                if (!present) {
                    F->mode = 2; /* absence adds no constraint: nothing better to try */
                    i++;
                    if (i < (int64_t)k)
                        fr[i].mode = 0;
                    continue;
                }
            }
            F->pos = 0;
            F->mode = 1;
        } else {
            undo_to(f, undo, &top, F->mark);
        }
        while (F->pos < E->cn) {
            const struct bus_leaf *l = &f->leaf[E->cand[F->pos++]];
            uint32_t before = top;

            if (++steps > BUS_PATTERN_MAX_STEPS)
                goto out;
            if (!leaf_consistent(f, l))
                continue;
            leaf_apply(f, l, undo, &top);
            if (top == before && !E->later_absent)
                F->pos = E->cn; /* no new constraint: alternatives cannot do better */
            found = 1;
            break;
        }
        if (found) {
            i++;
            if (i < (int64_t)k)
                fr[i].mode = 0;
            continue;
        }
        do {
            i--;
        } while (i >= 0 && fr[i].mode == 2);
        if (i < 0)
            break;
    }
out:
    undo_to(f, undo, &top, 0);
    return ok;
}

static uint32_t outer_array(const struct bus_flat *f, uint32_t node)
{
    while (f->node[node].parent != 0)
        node = f->node[node].parent;
    return f->node[node].arr;
}

static uint32_t uf_find(uint32_t *up, uint32_t x)
{
    while (up[x] != x) {
        up[x] = up[up[x]];
        x = up[x];
    }
    return x;
}

static int pair_cmp(const void *a, const void *b)
{
    const uint32_t *x = a;
    const uint32_t *y = b;

    return x[0] < y[0] ? -1 : x[0] > y[0];
}

/*
 * Fields whose leaves share no array cannot constrain each other, so each
 * group of fields linked through a shared outermost array is searched on its
 * own (in path order, as a whole). Fields touching no array at all were
 * settled by the caller.
 */
static int eval_groups(struct bus_flat *f, struct evf *ev, uint32_t k)
{
    uint32_t *up = scratch_take(f, (size_t)k * sizeof(*up));
    uint32_t *order = scratch_take(f, (size_t)k * sizeof(*order));
    uint32_t *pairs = scratch_take(f, ((size_t)f->nleaf + 1) * 2 * sizeof(*pairs));
    uint32_t np = 0;
    uint32_t i;
    uint32_t j;
    int ok = 1;

    if (f->capmemb < f->narr) {
        free(f->memb);
        f->capmemb = f->narr;
        f->memb = bb_xcalloc(f->capmemb, sizeof(*f->memb));
    }
    for (i = 0; i < k; i++) {
        const struct evf *E = &ev[i];

        up[i] = i;
        for (j = 0; j < E->ln; j++) {
            const struct bus_leaf *l = &f->leaf[E->lb + j];

            if (l->node != 0) {
                pairs[2 * np] = outer_array(f, l->node);
                pairs[2 * np + 1] = i;
                np++;
            }
        }
    }
    qsort(pairs, np, 2 * sizeof(*pairs), pair_cmp);
    for (i = 1; i < np; i++) {
        if (pairs[2 * i] == pairs[2 * i - 2]) {
            uint32_t a = uf_find(up, pairs[2 * i + 1]);
            uint32_t b = uf_find(up, pairs[2 * i - 1]);

            if (a != b)
                up[a < b ? b : a] = a < b ? a : b;
        }
    }
    for (i = 0; i < k && ok; i++) {
        uint32_t n = 0;
        size_t mark;

        if (uf_find(up, i) != i || (ev[i].ln == 0 && ev[i].absent_ok))
            continue; /* a settled field stays a group of its own */
        for (j = i; j < k; j++) {
            if (uf_find(up, j) == i)
                order[n++] = j;
        }
        for (j = 0; j < n; j++) {
            uint32_t m;

            ev[order[j]].later_absent = 0;
            for (m = j + 1; m < n; m++) {
                if (ev[order[m]].absent_ok)
                    ev[order[j]].later_absent = 1;
            }
        }
        mark = f->usedscratch;
        ok = eval_dfs(f, ev, order, n);
        f->usedscratch = mark;
    }
    return ok;
}

int bus_pattern_eval(const struct bus_pattern *p, uint32_t si, struct bus_flat *f,
                     const uint32_t *pmap)
{
    const struct bus_subrule *sr = &p->sub[si];
    uint32_t k = sr->n;
    size_t need =
        (size_t)k * (sizeof(struct evf) + sizeof(struct frame) + 4 * sizeof(uint32_t) + 32) +
        ((size_t)3 * f->nleaf + f->narr + 16) * sizeof(uint32_t) + 128;
    struct evf *ev;
    uint32_t *cand;
    uint32_t i;
    int chained = 0;

    if (need > f->capscratch) {
        if (f->scratch != (unsigned char *)f->scratch_in)
            free(f->scratch);
        f->scratch = bb_xmalloc(need);
        f->capscratch = need;
    }
    f->usedscratch = 0;
    ev = scratch_take(f, (size_t)k * sizeof(*ev));
    cand = scratch_take(f, ((size_t)f->nleaf + 1) * sizeof(*cand));
    for (i = 0; i < k; i++) {
        const struct bus_cond *c = &p->cond[sr->f[i].cond];
        uint32_t path = pmap != NULL ? pmap[sr->f[i].path] : sr->f[i].path;
        struct evf *E = &ev[i];
        uint32_t j;

        E->ln = bus_pattern_flat_range(f, path, &E->lb);
        E->cand = cand;
        E->cn = 0;
        E->absent_ok = c->absent_ok;
        E->later_absent = 0;
        for (j = 0; j < E->ln; j++) {
            struct bus_leaf *l = &f->leaf[E->lb + j];

            if (l->node != 0)
                chained = 1;
            if (cond_match(c, l))
                E->cand[E->cn++] = E->lb + j;
        }
        cand += E->cn;
        if (E->cn == 0 && !E->absent_ok)
            return 0;
    }
    /* A leaf in no array agrees with every choice. As a candidate it settles
     * its field (unless a later field's absence could need the constraints
     * another candidate would add); as a leaf it makes the path present for
     * every choice. */
    for (i = k; i > 1; i--)
        ev[i - 2].later_absent = ev[i - 1].absent_ok || ev[i - 1].later_absent;
    for (i = 0; i < k; i++) {
        struct evf *E = &ev[i];
        uint32_t j;
        int free_leaf = 0;
        int free_cand = 0;

        for (j = 0; j < E->ln; j++) {
            if (f->leaf[E->lb + j].node == 0)
                free_leaf = 1;
        }
        for (j = 0; j < E->cn && !E->later_absent; j++) {
            if (f->leaf[E->cand[j]].node == 0)
                free_cand = 1;
        }
        if (free_cand) {
            E->ln = 0; /* settled by that leaf: no constraint */
            E->cn = 0;
            E->absent_ok = 1;
        } else if (free_leaf && E->cn == 0) {
            return 0; /* present for every choice, and nothing matches */
        } else if (free_leaf) {
            E->absent_ok = 0; /* absence impossible: must pick a candidate */
        }
    }
    if (!chained)
        return 1;
    f->usedscratch = (size_t)((unsigned char *)cand - f->scratch + 7) & ~(size_t)7;
    return eval_groups(f, ev, k);
}

/* ---- public API ---- */

int bus_pattern_compile(const char *json, size_t len, struct bus_pattern **out, char *err,
                        size_t errlen)
{
    struct bus_arena *tmp = NULL;
    struct bus_pattern *p = NULL;
    struct jparse jp;
    struct comp c;
    const struct jn *root;
    int rc = BB_EINVAL;

    if (out != NULL)
        *out = NULL;
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    memset(&c, 0, sizeof(c));
    if (json == NULL)
        len = 0;
    if (len > BUS_PATTERN_MAX_TEXT) {
        snprintf(c.reason, sizeof(c.reason), "Event pattern is longer than %d characters",
                 BUS_PATTERN_MAX_TEXT);
        goto out;
    }
    jp_init(&jp, json != NULL ? json : "", len, &tmp, BUS_PATTERN_MAX_DEPTH, c.reason,
            sizeof(c.reason));
    root = jp_pattern(&jp);
    if (root == NULL)
        goto out;
    c.tmp = &tmp;
    c.or_mode = 1;
    p = compile_tree(&c, root);
    if (p == NULL && !c.final && tree_has_or(root)) {
        /* event-ruler retries with its older compiler, to which "$or" is a plain field */
        c.or_mode = 0;
        p = compile_tree(&c, root);
    }
    if (p == NULL)
        goto out;
    rc = 0;
    if (out != NULL)
        *out = p;
    else
        pattern_free(p);
out:
    if (rc != 0 && err != NULL && errlen > 0)
        snprintf(err, errlen, REASON_PREFIX "%s", c.reason);
    free(c.cond);
    arena_free(tmp);
    return rc;
}

void bus_pattern_free(struct bus_pattern *p)
{
    pattern_free(p);
}

static int match_flat(const struct bus_pattern *p, struct bus_flat *f)
{
    uint32_t i;

    for (i = 0; i < p->nsub; i++) {
        if (bus_pattern_eval(p, i, f, NULL))
            return 1;
    }
    return 0;
}

int bus_pattern_match(const struct bus_pattern *p, const cJSON *event)
{
    struct bus_flat f;
    int r;

    if (p == NULL || event == NULL || (event->type & 0xff) != cJSON_Object)
        return 0;
    bus_pattern_flat_init(&f, &p->pt);
    bus_pattern_flat_cjson(&f, event);
    r = match_flat(p, &f);
    bus_pattern_flat_cleanup(&f);
    return r;
}

int bus_pattern_match_text(const struct bus_pattern *p, const char *event_json, size_t len)
{
    struct bus_arena *tmp = NULL;
    struct bus_flat f;
    struct jparse jp;
    const struct jn *root;
    int r = BB_EINVAL;

    if (p == NULL || event_json == NULL || len > BUS_PATTERN_MAX_EVENT_TEXT)
        return BB_EINVAL;
    jp_init(&jp, event_json, len, &tmp, BUS_PATTERN_MAX_EVENT_DEPTH, NULL, 0);
    root = jp_event(&jp);
    if (root == NULL)
        goto out;
    bus_pattern_flat_init(&f, &p->pt);
    flat_jn(&f, root);
    r = match_flat(p, &f);
    bus_pattern_flat_cleanup(&f);
out:
    arena_free(tmp);
    return r;
}
