/* SPDX-License-Identifier: MIT */
/*
 * bb_checksum: S3 additional checksums. CRC32 comes from zlib; CRC32C and
 * CRC64NVME are slicing-by-8 over tables built once under pthread_once, and
 * on x86-64 CPUs that have them (checked once at run time) CRC32C uses the
 * SSE4.2 crc32 instruction and CRC64NVME folds 64 bytes at a time with
 * carry-less multiplication (PCLMULQDQ), 5-10x the tables' speed on large
 * uploads; SHA1/SHA256 go through bb_hash. The finished value is written
 * big-endian, which is what S3 base64-encodes in the x-amz-checksum-*
 * headers.
 */
#include "bb_checksum.h"
#include "bb_hash.h"

#include <pthread.h>
#include <strings.h>
#include <zlib.h>
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define BB_CRC_X86 1
#endif

#define CRC32C_POLY 0x82F63B78u
#define CRC64NVME_POLY 0x9A6C9329AC4BC9B5ull

struct alg_info {
    const char *name;
    const char *header;
    size_t raw_len;
};

/* Indexed by enum bb_checksum_alg. */
static const struct alg_info algs[] = {
    [BB_CHECKSUM_NONE] = {"", NULL, 0},
    [BB_CHECKSUM_CRC32] = {"CRC32", "x-amz-checksum-crc32", 4},
    [BB_CHECKSUM_CRC32C] = {"CRC32C", "x-amz-checksum-crc32c", 4},
    [BB_CHECKSUM_CRC64NVME] = {"CRC64NVME", "x-amz-checksum-crc64nvme", 8},
    [BB_CHECKSUM_SHA1] = {"SHA1", "x-amz-checksum-sha1", BB_SHA1_LEN},
    [BB_CHECKSUM_SHA256] = {"SHA256", "x-amz-checksum-sha256", BB_SHA256_LEN},
};

#define ALG_COUNT (sizeof(algs) / sizeof(algs[0]))

static uint32_t crc32c_table[8][256];
static uint64_t crc64_table[8][256];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

/*
 * Row 0 is the classic bytewise table for the reflected polynomial; row k
 * advances row k-1 by one more zero byte, so eight input bytes can be folded
 * with eight independent lookups.
 */
static void build_tables(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        uint64_t d = i;
        for (int k = 0; k < 8; k++) {
            c = (c & 1) ? (c >> 1) ^ CRC32C_POLY : c >> 1;
            d = (d & 1) ? (d >> 1) ^ CRC64NVME_POLY : d >> 1;
        }
        crc32c_table[0][i] = c;
        crc64_table[0][i] = d;
    }
    for (int t = 1; t < 8; t++) {
        for (int i = 0; i < 256; i++) {
            uint32_t c = crc32c_table[t - 1][i];
            uint64_t d = crc64_table[t - 1][i];
            crc32c_table[t][i] = (c >> 8) ^ crc32c_table[0][c & 0xff];
            crc64_table[t][i] = (d >> 8) ^ crc64_table[0][d & 0xff];
        }
    }
}

static uint64_t load_le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* @crc is the running register (already inverted by the caller). */
static uint32_t crc32c_update(uint32_t crc, const unsigned char *p, size_t n)
{
    while (n >= 8) {
        uint64_t v = load_le64(p) ^ crc;
        crc = crc32c_table[7][v & 0xff] ^ crc32c_table[6][(v >> 8) & 0xff] ^
              crc32c_table[5][(v >> 16) & 0xff] ^ crc32c_table[4][(v >> 24) & 0xff] ^
              crc32c_table[3][(v >> 32) & 0xff] ^ crc32c_table[2][(v >> 40) & 0xff] ^
              crc32c_table[1][(v >> 48) & 0xff] ^ crc32c_table[0][v >> 56];
        p += 8;
        n -= 8;
    }
    while (n--)
        crc = (crc >> 8) ^ crc32c_table[0][(crc ^ *p++) & 0xff];
    return crc;
}

static uint64_t crc64_update(uint64_t crc, const unsigned char *p, size_t n)
{
    while (n >= 8) {
        uint64_t v = load_le64(p) ^ crc;
        crc = crc64_table[7][v & 0xff] ^ crc64_table[6][(v >> 8) & 0xff] ^
              crc64_table[5][(v >> 16) & 0xff] ^ crc64_table[4][(v >> 24) & 0xff] ^
              crc64_table[3][(v >> 32) & 0xff] ^ crc64_table[2][(v >> 40) & 0xff] ^
              crc64_table[1][(v >> 48) & 0xff] ^ crc64_table[0][v >> 56];
        p += 8;
        n -= 8;
    }
    while (n--)
        crc = (crc >> 8) ^ crc64_table[0][(crc ^ *p++) & 0xff];
    return crc;
}

#ifdef BB_CRC_X86
/*
 * CRC64NVME by folding (Intel's "Fast CRC Computation for Generic
 * Polynomials Using PCLMULQDQ", for a reflected CRC). A 16-byte block
 * loaded little-endian is a polynomial V of degree < 128 whose bit j is the
 * coefficient of x^(127-j); its low half H holds x^127..x^64 and its high
 * half L x^63..x^0. Appending 16 more bytes multiplies V by x^128, and
 *   V * x^128 = H * x^192 + L * x^128 == H * (x^192 mod G) + L * (x^128 mod G)
 * modulo G: two 64x64 carry-less products, each of degree < 128. A product
 * of two reflected 64-bit values comes out one bit short of that 128-bit
 * layout, so the constants are x^191 and x^127 mod G. Four blocks are
 * folded side by side (by 512 bits: x^575, x^511) and then into one (by
 * 128). The last folded block V stands for V * x^64 mod G, which is what
 * the table code computes for those 16 bytes from a zero register; it
 * also finishes the bytes left over. Constants are computed once, from
 * the polynomial.
 */
static uint64_t clmul_k[4]; /* x^575, x^511, x^191, x^127 mod G, reflected */
static int have_clmul, have_sse42;
static pthread_once_t accel_once = PTHREAD_ONCE_INIT;

static uint64_t reflect64(uint64_t v)
{
    uint64_t r = 0;
    for (int i = 0; i < 64; i++)
        if (v & ((uint64_t)1 << i))
            r |= (uint64_t)1 << (63 - i);
    return r;
}

/* x^n mod G, reflected (bit i is the coefficient of x^(63-i)). */
static uint64_t xpow_mod(unsigned n)
{
    const uint64_t g = reflect64(CRC64NVME_POLY); /* x^63..x^0 of G, normal order */
    uint64_t r = 1;                               /* x^0 */
    while (n--) {
        uint64_t top = r >> 63;
        r <<= 1;
        if (top)
            r ^= g;
    }
    return reflect64(r);
}

static void accel_init(void)
{
    __builtin_cpu_init();
    have_clmul = __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
    have_sse42 = __builtin_cpu_supports("sse4.2");
    clmul_k[0] = xpow_mod(575);
    clmul_k[1] = xpow_mod(511);
    clmul_k[2] = xpow_mod(191);
    clmul_k[3] = xpow_mod(127);
}

__attribute__((target("pclmul,sse4.1"))) static __m128i fold(__m128i v, __m128i k)
{
    return _mm_xor_si128(_mm_clmulepi64_si128(v, k, 0x00), _mm_clmulepi64_si128(v, k, 0x11));
}

/* @n >= 64. */
__attribute__((target("pclmul,sse4.1"))) static uint64_t
crc64_clmul(uint64_t crc, const unsigned char *p, size_t n)
{
    const __m128i k512 = _mm_set_epi64x((long long)clmul_k[1], (long long)clmul_k[0]);
    const __m128i k128 = _mm_set_epi64x((long long)clmul_k[3], (long long)clmul_k[2]);
    __m128i a0 = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i a1 = _mm_loadu_si128((const __m128i *)(const void *)(p + 16));
    __m128i a2 = _mm_loadu_si128((const __m128i *)(const void *)(p + 32));
    __m128i a3 = _mm_loadu_si128((const __m128i *)(const void *)(p + 48));
    unsigned char last[16];

    a0 = _mm_xor_si128(a0,
                       _mm_set_epi64x(0, (long long)crc)); /* the register meets the first bytes */
    p += 64;
    n -= 64;
    while (n >= 64) {
        a0 = _mm_xor_si128(fold(a0, k512), _mm_loadu_si128((const __m128i *)(const void *)p));
        a1 =
            _mm_xor_si128(fold(a1, k512), _mm_loadu_si128((const __m128i *)(const void *)(p + 16)));
        a2 =
            _mm_xor_si128(fold(a2, k512), _mm_loadu_si128((const __m128i *)(const void *)(p + 32)));
        a3 =
            _mm_xor_si128(fold(a3, k512), _mm_loadu_si128((const __m128i *)(const void *)(p + 48)));
        p += 64;
        n -= 64;
    }
    a1 = _mm_xor_si128(a1, fold(a0, k128));
    a2 = _mm_xor_si128(a2, fold(a1, k128));
    a3 = _mm_xor_si128(a3, fold(a2, k128));
    while (n >= 16) {
        a3 = _mm_xor_si128(fold(a3, k128), _mm_loadu_si128((const __m128i *)(const void *)p));
        p += 16;
        n -= 16;
    }
    _mm_storeu_si128((__m128i *)(void *)last, a3);
    crc = crc64_update(0, last, sizeof(last));
    return crc64_update(crc, p, n);
}

__attribute__((target("sse4.2"))) static uint32_t crc32c_sse42(uint32_t crc, const unsigned char *p,
                                                               size_t n)
{
    uint64_t c = crc;
    while (n >= 8) {
        c = _mm_crc32_u64(c, load_le64(p));
        p += 8;
        n -= 8;
    }
    while (n--)
        c = _mm_crc32_u8((uint32_t)c, *p++);
    return (uint32_t)c;
}
#endif

static int alg_valid(enum bb_checksum_alg alg)
{
    return (unsigned)alg < ALG_COUNT && alg != BB_CHECKSUM_NONE;
}

enum bb_checksum_alg bb_checksum_alg_from_name(const char *name)
{
    if (name == NULL)
        return BB_CHECKSUM_NONE;
    for (size_t i = 1; i < ALG_COUNT; i++) {
        if (strcasecmp(name, algs[i].name) == 0)
            return (enum bb_checksum_alg)i;
    }
    return BB_CHECKSUM_NONE;
}

const char *bb_checksum_alg_name(enum bb_checksum_alg alg)
{
    return alg_valid(alg) ? algs[alg].name : "";
}

const char *bb_checksum_header_name(enum bb_checksum_alg alg)
{
    return alg_valid(alg) ? algs[alg].header : NULL;
}

enum bb_checksum_alg bb_checksum_alg_from_header(const char *name)
{
    if (name == NULL)
        return BB_CHECKSUM_NONE;
    for (size_t i = 1; i < ALG_COUNT; i++) {
        if (strcasecmp(name, algs[i].header) == 0)
            return (enum bb_checksum_alg)i;
    }
    return BB_CHECKSUM_NONE;
}

size_t bb_checksum_raw_len(enum bb_checksum_alg alg)
{
    return alg_valid(alg) ? algs[alg].raw_len : 0;
}

void bb_checksum_init(struct bb_checksum *c, enum bb_checksum_alg alg)
{
    c->alg = alg_valid(alg) ? alg : BB_CHECKSUM_NONE;
    c->crc = 0;
    c->hash = NULL;
    switch (c->alg) {
    case BB_CHECKSUM_CRC32C:
        pthread_once(&tables_once, build_tables);
#ifdef BB_CRC_X86
        pthread_once(&accel_once, accel_init);
#endif
        c->crc = 0xffffffffu;
        break;
    case BB_CHECKSUM_CRC64NVME:
        pthread_once(&tables_once, build_tables);
#ifdef BB_CRC_X86
        pthread_once(&accel_once, accel_init);
#endif
        c->crc = ~(uint64_t)0;
        break;
    case BB_CHECKSUM_SHA1:
        c->hash = bb_hash_new(BB_HASH_SHA1);
        break;
    case BB_CHECKSUM_SHA256:
        c->hash = bb_hash_new(BB_HASH_SHA256);
        break;
    default:
        break;
    }
}

void bb_checksum_update(struct bb_checksum *c, const void *p, size_t n)
{
    /* zlib's crc32 returns 0 for a NULL buffer, so an empty update must not
     * reach it. */
    if (n == 0)
        return;
    switch (c->alg) {
    case BB_CHECKSUM_CRC32:
        c->crc = crc32_z((uLong)c->crc, p, n);
        break;
    case BB_CHECKSUM_CRC32C:
#ifdef BB_CRC_X86
        if (have_sse42) {
            c->crc = crc32c_sse42((uint32_t)c->crc, p, n);
            break;
        }
#endif
        c->crc = crc32c_update((uint32_t)c->crc, p, n);
        break;
    case BB_CHECKSUM_CRC64NVME:
#ifdef BB_CRC_X86
        if (have_clmul && n >= 64) {
            c->crc = crc64_clmul(c->crc, p, n);
            break;
        }
#endif
        c->crc = crc64_update(c->crc, p, n);
        break;
    case BB_CHECKSUM_SHA1:
    case BB_CHECKSUM_SHA256:
        if (c->hash != NULL)
            bb_hash_update(c->hash, p, n);
        break;
    default:
        break;
    }
}

static void put_be(unsigned char *out, uint64_t v, size_t len)
{
    for (size_t i = 0; i < len; i++)
        out[i] = (unsigned char)(v >> (8 * (len - 1 - i)));
}

/*
 * The digest context is freed here rather than reset so that "call init
 * again" after final, as the header asks, cannot leak it. A second final on
 * a SHA state therefore yields nothing.
 */
size_t bb_checksum_final_raw(struct bb_checksum *c, unsigned char raw[BB_CHECKSUM_MAX_RAW])
{
    size_t len = 0;

    switch (c->alg) {
    case BB_CHECKSUM_CRC32:
        len = 4;
        put_be(raw, c->crc, len);
        break;
    case BB_CHECKSUM_CRC32C:
        len = 4;
        put_be(raw, c->crc ^ 0xffffffffu, len);
        break;
    case BB_CHECKSUM_CRC64NVME:
        len = 8;
        put_be(raw, ~c->crc, len);
        break;
    case BB_CHECKSUM_SHA1:
    case BB_CHECKSUM_SHA256:
        if (c->hash == NULL)
            break;
        len = bb_hash_final(c->hash, raw);
        bb_hash_free(c->hash);
        c->hash = NULL;
        break;
    default:
        break;
    }
    return len;
}

void bb_checksum_final_b64(struct bb_checksum *c, char b64[BB_CHECKSUM_MAX_B64])
{
    unsigned char raw[BB_CHECKSUM_MAX_RAW];
    size_t len = bb_checksum_final_raw(c, raw);

    bb_base64(raw, len, b64);
}

void bb_checksum_cleanup(struct bb_checksum *c)
{
    bb_hash_free(c->hash);
    c->hash = NULL;
}

void bb_checksum_buf_b64(enum bb_checksum_alg alg, const void *p, size_t n,
                         char b64[BB_CHECKSUM_MAX_B64])
{
    struct bb_checksum c;

    bb_checksum_init(&c, alg);
    bb_checksum_update(&c, p, n);
    bb_checksum_final_b64(&c, b64);
    bb_checksum_cleanup(&c);
}
