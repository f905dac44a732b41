/* SPDX-License-Identifier: MIT */
/*
 * bb_checksum: S3 additional checksums. CRC32 comes from zlib; CRC32C and
 * CRC64NVME are slicing-by-8 over tables built once under pthread_once;
 * SHA1/SHA256 go through bb_hash. The finished value is written big-endian,
 * which is what S3 base64-encodes in the x-amz-checksum-* headers.
 */
#include "bb_checksum.h"
#include "bb_hash.h"

#include <pthread.h>
#include <strings.h>
#include <zlib.h>

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
        c->crc = 0xffffffffu;
        break;
    case BB_CHECKSUM_CRC64NVME:
        pthread_once(&tables_once, build_tables);
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
        c->crc = crc32c_update((uint32_t)c->crc, p, n);
        break;
    case BB_CHECKSUM_CRC64NVME:
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
