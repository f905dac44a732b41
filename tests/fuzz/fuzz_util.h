/* SPDX-License-Identifier: MIT */
/*
 * fuzz_util: small helpers shared by the fuzz entry points: cutting an
 * input into newline-separated fields, and a deterministic generator of
 * piece sizes for feeding streaming decoders in random splits (the seed
 * comes from the input, so a saved input replays the same splits).
 */
#ifndef BB_TESTS_FUZZ_FUZZ_UTIL_H
#define BB_TESTS_FUZZ_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/** The rest of an input, consumed front to back. */
struct fuzz_in {
    const char *p;
    size_t n;
};

/** Takes bytes up to the next @sep (dropped) or the end; sets *len. */
static inline const char *fuzz_field(struct fuzz_in *in, int sep, size_t *len)
{
    const char *s = in->p;
    const char *nl = in->n > 0 ? memchr(in->p, sep, in->n) : NULL;
    size_t l = nl != NULL ? (size_t)(nl - in->p) : in->n;

    *len = l;
    in->p += l + (nl != NULL);
    in->n -= l + (nl != NULL);
    return s;
}

/** Takes bytes up to the next '\n' (dropped) or the end; sets *len. */
static inline const char *fuzz_line(struct fuzz_in *in, size_t *len)
{
    return fuzz_field(in, '\n', len);
}

/** Takes one byte (0 when empty). */
static inline unsigned fuzz_byte(struct fuzz_in *in)
{
    unsigned c = 0;

    if (in->n > 0) {
        c = (unsigned char)in->p[0];
        in->p++;
        in->n--;
    }
    return c;
}

/** Piece sizes: 1..max, mostly small, from the state @s (never 0). */
static inline size_t fuzz_piece(uint32_t *s, size_t max)
{
    uint32_t x = *s;

    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *s = x;
    if (max == 0)
        return 0;
    if ((x & 3) == 0)
        return max; /* the whole rest now and then */
    return 1 + (size_t)((x >> 2) % (max < 64 ? max : 64));
}

#endif
