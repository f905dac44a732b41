/* SPDX-License-Identifier: MIT */
/* Tests for common/bb_checksum.c: known vectors, streaming, name mapping. */
#include "bb_test.h"

#include "bb_checksum.h"
#include "bb_hash.h"

#include <string.h>

static const enum bb_checksum_alg all_algs[] = {
    BB_CHECKSUM_CRC32, BB_CHECKSUM_CRC32C, BB_CHECKSUM_CRC64NVME,
    BB_CHECKSUM_SHA1,  BB_CHECKSUM_SHA256,
};

#define N_ALGS (sizeof(all_algs) / sizeof(all_algs[0]))

static void assert_b64(enum bb_checksum_alg alg, const char *s, const char *want)
{
    char b64[BB_CHECKSUM_MAX_B64];

    bb_checksum_buf_b64(alg, s, strlen(s), b64);
    assert_string_equal(b64, want);
}

static void assert_hex(enum bb_checksum_alg alg, const char *s, const char *want)
{
    struct bb_checksum c;
    unsigned char raw[BB_CHECKSUM_MAX_RAW];
    char hex[2 * BB_CHECKSUM_MAX_RAW + 1];
    size_t len;

    bb_checksum_init(&c, alg);
    bb_checksum_update(&c, s, strlen(s));
    len = bb_checksum_final_raw(&c, raw);
    bb_checksum_cleanup(&c);
    assert_int_equal(len, bb_checksum_raw_len(alg));
    assert_string_equal(bb_hex(raw, len, hex), want);
}

/* Bit-at-a-time references, independent of the table code under test. */
static uint32_t ref_crc32c(const unsigned char *p, size_t n)
{
    uint32_t crc = 0xffffffffu;

    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1)));
    }
    return ~crc;
}

static uint64_t ref_crc64nvme(const unsigned char *p, size_t n)
{
    uint64_t crc = ~(uint64_t)0;

    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0x9A6C9329AC4BC9B5ull & (0ull - (crc & 1)));
    }
    return ~crc;
}

static void fill_pattern(unsigned char *p, size_t n)
{
    uint32_t x = 0x12345678u;

    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        p[i] = (unsigned char)(x >> 16);
    }
}

static uint64_t raw_be(const unsigned char *raw, size_t len)
{
    uint64_t v = 0;

    for (size_t i = 0; i < len; i++)
        v = (v << 8) | raw[i];
    return v;
}

static void test_bb_checksum_crc32_of_123456789(void **state)
{
    assert_hex(BB_CHECKSUM_CRC32, "123456789", "cbf43926");
}

static void test_bb_checksum_crc32c_of_123456789(void **state)
{
    assert_hex(BB_CHECKSUM_CRC32C, "123456789", "e3069283");
}

static void test_bb_checksum_crc64nvme_of_123456789(void **state)
{
    assert_hex(BB_CHECKSUM_CRC64NVME, "123456789", "ae8b14860a799888");
}

static void test_bb_checksum_hello_matches_s3_values(void **state)
{
    assert_b64(BB_CHECKSUM_CRC32, "hello", "NhCmhg==");
    assert_b64(BB_CHECKSUM_CRC32C, "hello", "mnG7TA==");
    assert_b64(BB_CHECKSUM_CRC64NVME, "hello", "M3eFcAZSQlc=");
    assert_b64(BB_CHECKSUM_SHA1, "hello", "qvTGHdzF6KLavt4PO0gs2a6pQ00=");
    assert_b64(BB_CHECKSUM_SHA256, "hello", "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=");
}

static void test_bb_checksum_crc32_of_empty_is_zero(void **state)
{
    assert_b64(BB_CHECKSUM_CRC32, "", "AAAAAA==");
    assert_b64(BB_CHECKSUM_CRC32C, "", "AAAAAA==");
    assert_b64(BB_CHECKSUM_CRC64NVME, "", "AAAAAAAAAAA=");
    assert_b64(BB_CHECKSUM_SHA256, "", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
}

static void test_bb_checksum_crc32_of_helloworld(void **state)
{
    assert_b64(BB_CHECKSUM_CRC32, "helloworld", "+esgrQ==");
}

static void test_bb_checksum_none_yields_empty_value(void **state)
{
    struct bb_checksum c;
    unsigned char raw[BB_CHECKSUM_MAX_RAW];

    assert_b64(BB_CHECKSUM_NONE, "hello", "");
    bb_checksum_init(&c, BB_CHECKSUM_NONE);
    bb_checksum_update(&c, "x", 1);
    assert_int_equal(bb_checksum_final_raw(&c, raw), 0);
    bb_checksum_cleanup(&c);
}

static void test_bb_checksum_streaming_in_odd_pieces_equals_one_shot(void **state)
{
    static const size_t pieces[] = {1, 2, 3, 5, 7, 8, 9, 13, 31, 64, 65, 127};
    unsigned char data[3001];

    fill_pattern(data, sizeof(data));
    for (size_t a = 0; a < N_ALGS; a++) {
        char whole[BB_CHECKSUM_MAX_B64];
        char parts[BB_CHECKSUM_MAX_B64];
        struct bb_checksum c;
        size_t off = 0;
        size_t k = 0;

        bb_checksum_buf_b64(all_algs[a], data, sizeof(data), whole);
        bb_checksum_init(&c, all_algs[a]);
        while (off < sizeof(data)) {
            size_t n = pieces[k++ % (sizeof(pieces) / sizeof(pieces[0]))];
            if (n > sizeof(data) - off)
                n = sizeof(data) - off;
            bb_checksum_update(&c, data + off, n);
            bb_checksum_update(&c, NULL, 0);
            off += n;
        }
        bb_checksum_final_b64(&c, parts);
        bb_checksum_cleanup(&c);
        assert_string_equal(parts, whole);
    }
}

static void test_bb_checksum_crcs_match_bitwise_reference_at_every_offset(void **state)
{
    unsigned char data[300];
    unsigned char raw[BB_CHECKSUM_MAX_RAW];
    struct bb_checksum c;

    fill_pattern(data, sizeof(data));
    /* Unaligned starts and lengths exercise both the 8-byte and tail loops. */
    for (size_t off = 0; off < 9; off++) {
        for (size_t n = 0; n + off <= sizeof(data); n += 37) {
            bb_checksum_init(&c, BB_CHECKSUM_CRC32C);
            bb_checksum_update(&c, data + off, n);
            assert_int_equal(bb_checksum_final_raw(&c, raw), 4);
            assert_int_equal(raw_be(raw, 4), ref_crc32c(data + off, n));

            bb_checksum_init(&c, BB_CHECKSUM_CRC64NVME);
            bb_checksum_update(&c, data + off, n);
            assert_int_equal(bb_checksum_final_raw(&c, raw), 8);
            assert_true(raw_be(raw, 8) == ref_crc64nvme(data + off, n));
        }
    }
}

/* Long inputs take the folding (PCLMULQDQ) and SSE4.2 paths where the CPU
 * has them: lengths around the 64- and 16-byte block edges, unaligned
 * starts, and the same bytes fed in three uneven pieces. */
static void test_bb_checksum_crcs_match_bitwise_reference_on_long_inputs(void **state)
{
    static unsigned char data[70000];
    static const size_t sizes[] = {63,  64,  65,  79,   80,   127,   128,       129,
                                   191, 192, 255, 1000, 4096, 65536, 65537 + 13};
    unsigned char raw[BB_CHECKSUM_MAX_RAW];
    struct bb_checksum c;

    (void)state;
    fill_pattern(data, sizeof(data));
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        for (size_t off = 0; off < 3; off++) {
            size_t n = sizes[i];
            uint64_t want64 = ref_crc64nvme(data + off, n);
            uint32_t want32 = ref_crc32c(data + off, n);
            size_t cut1 = n / 3, cut2 = n / 3 + n / 5;

            bb_checksum_init(&c, BB_CHECKSUM_CRC64NVME);
            bb_checksum_update(&c, data + off, n);
            assert_int_equal(bb_checksum_final_raw(&c, raw), 8);
            assert_true(raw_be(raw, 8) == want64);

            bb_checksum_init(&c, BB_CHECKSUM_CRC64NVME);
            bb_checksum_update(&c, data + off, cut1);
            bb_checksum_update(&c, data + off + cut1, cut2 - cut1);
            bb_checksum_update(&c, data + off + cut2, n - cut2);
            assert_int_equal(bb_checksum_final_raw(&c, raw), 8);
            assert_true(raw_be(raw, 8) == want64);

            bb_checksum_init(&c, BB_CHECKSUM_CRC32C);
            bb_checksum_update(&c, data + off, cut1);
            bb_checksum_update(&c, data + off + cut1, n - cut1);
            assert_int_equal(bb_checksum_final_raw(&c, raw), 4);
            assert_int_equal(raw_be(raw, 4), want32);
        }
    }
}

static void test_bb_checksum_init_after_final_starts_over(void **state)
{
    struct bb_checksum c;
    char b64[BB_CHECKSUM_MAX_B64];

    for (size_t a = 0; a < N_ALGS; a++) {
        char want[BB_CHECKSUM_MAX_B64];

        bb_checksum_buf_b64(all_algs[a], "hello", 5, want);
        bb_checksum_init(&c, all_algs[a]);
        bb_checksum_update(&c, "other", 5);
        bb_checksum_final_b64(&c, b64);
        bb_checksum_init(&c, all_algs[a]);
        bb_checksum_update(&c, "hel", 3);
        bb_checksum_update(&c, "lo", 2);
        bb_checksum_final_b64(&c, b64);
        bb_checksum_cleanup(&c);
        bb_checksum_cleanup(&c);
        assert_string_equal(b64, want);
    }
}

static void test_bb_checksum_cleanup_without_final_frees_digest(void **state)
{
    struct bb_checksum c;

    /* LeakSanitizer fails the run if the digest context survives. */
    bb_checksum_init(&c, BB_CHECKSUM_SHA256);
    bb_checksum_update(&c, "abc", 3);
    bb_checksum_cleanup(&c);
    bb_checksum_cleanup(&c);
}

static void test_bb_checksum_raw_len_per_alg(void **state)
{
    assert_int_equal(bb_checksum_raw_len(BB_CHECKSUM_NONE), 0);
    assert_int_equal(bb_checksum_raw_len(BB_CHECKSUM_CRC32), 4);
    assert_int_equal(bb_checksum_raw_len(BB_CHECKSUM_CRC32C), 4);
    assert_int_equal(bb_checksum_raw_len(BB_CHECKSUM_CRC64NVME), 8);
    assert_int_equal(bb_checksum_raw_len(BB_CHECKSUM_SHA1), 20);
    assert_int_equal(bb_checksum_raw_len(BB_CHECKSUM_SHA256), 32);
}

static void test_bb_checksum_names_round_trip(void **state)
{
    for (size_t a = 0; a < N_ALGS; a++) {
        const char *name = bb_checksum_alg_name(all_algs[a]);
        const char *hdr = bb_checksum_header_name(all_algs[a]);

        assert_non_null(hdr);
        assert_int_equal(bb_checksum_alg_from_name(name), all_algs[a]);
        assert_int_equal(bb_checksum_alg_from_header(hdr), all_algs[a]);
    }
    assert_string_equal(bb_checksum_alg_name(BB_CHECKSUM_CRC64NVME), "CRC64NVME");
    assert_string_equal(bb_checksum_header_name(BB_CHECKSUM_CRC64NVME), "x-amz-checksum-crc64nvme");
    assert_string_equal(bb_checksum_header_name(BB_CHECKSUM_SHA256), "x-amz-checksum-sha256");
}

static void test_bb_checksum_names_parse_case_insensitively(void **state)
{
    assert_int_equal(bb_checksum_alg_from_name("crc32c"), BB_CHECKSUM_CRC32C);
    assert_int_equal(bb_checksum_alg_from_name("Sha256"), BB_CHECKSUM_SHA256);
    assert_int_equal(bb_checksum_alg_from_header("X-Amz-Checksum-CRC32"), BB_CHECKSUM_CRC32);
}

static void test_bb_checksum_unknown_names_give_none(void **state)
{
    assert_int_equal(bb_checksum_alg_from_name(NULL), BB_CHECKSUM_NONE);
    assert_int_equal(bb_checksum_alg_from_name(""), BB_CHECKSUM_NONE);
    assert_int_equal(bb_checksum_alg_from_name("MD5"), BB_CHECKSUM_NONE);
    assert_int_equal(bb_checksum_alg_from_name("CRC32 "), BB_CHECKSUM_NONE);
    assert_int_equal(bb_checksum_alg_from_name("CRC64"), BB_CHECKSUM_NONE);
    assert_int_equal(bb_checksum_alg_from_header(NULL), BB_CHECKSUM_NONE);
    assert_int_equal(bb_checksum_alg_from_header(""), BB_CHECKSUM_NONE);
    assert_int_equal(bb_checksum_alg_from_header("x-amz-checksum-"), BB_CHECKSUM_NONE);
    assert_int_equal(bb_checksum_alg_from_header("x-amz-checksum-md5"), BB_CHECKSUM_NONE);
    assert_int_equal(bb_checksum_alg_from_header("CRC32"), BB_CHECKSUM_NONE);
    assert_string_equal(bb_checksum_alg_name(BB_CHECKSUM_NONE), "");
    assert_null(bb_checksum_header_name(BB_CHECKSUM_NONE));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bb_checksum_crc32_of_123456789),
        cmocka_unit_test(test_bb_checksum_crc32c_of_123456789),
        cmocka_unit_test(test_bb_checksum_crc64nvme_of_123456789),
        cmocka_unit_test(test_bb_checksum_hello_matches_s3_values),
        cmocka_unit_test(test_bb_checksum_crc32_of_empty_is_zero),
        cmocka_unit_test(test_bb_checksum_crc32_of_helloworld),
        cmocka_unit_test(test_bb_checksum_none_yields_empty_value),
        cmocka_unit_test(test_bb_checksum_streaming_in_odd_pieces_equals_one_shot),
        cmocka_unit_test(test_bb_checksum_crcs_match_bitwise_reference_at_every_offset),
        cmocka_unit_test(test_bb_checksum_crcs_match_bitwise_reference_on_long_inputs),
        cmocka_unit_test(test_bb_checksum_init_after_final_starts_over),
        cmocka_unit_test(test_bb_checksum_cleanup_without_final_frees_digest),
        cmocka_unit_test(test_bb_checksum_raw_len_per_alg),
        cmocka_unit_test(test_bb_checksum_names_round_trip),
        cmocka_unit_test(test_bb_checksum_names_parse_case_insensitively),
        cmocka_unit_test(test_bb_checksum_unknown_names_give_none),
    };

    return cmocka_run_group_tests_name("common/bb_checksum", tests, NULL, NULL);
}
