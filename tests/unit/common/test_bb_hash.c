/* SPDX-License-Identifier: MIT */
/* Tests for common/bb_hash.c: digests, HMAC, hex and base64 codecs. */
#include "bb_test.h"

#include "bb_err.h"
#include "bb_hash.h"

#include <string.h>

static const char *hexof(const unsigned char *p, size_t n)
{
    static char hex[2 * BB_SHA256_LEN + 1];

    return bb_hex(p, n, hex);
}

static void test_bb_hash_md5_known_vectors(void **state)
{
    unsigned char d[BB_MD5_LEN];

    bb_md5("", 0, d);
    assert_string_equal(hexof(d, sizeof(d)), "d41d8cd98f00b204e9800998ecf8427e");
    bb_md5("abc", 3, d);
    assert_string_equal(hexof(d, sizeof(d)), "900150983cd24fb0d6963f7d28e17f72");
}

static void test_bb_hash_sha1_known_vectors(void **state)
{
    unsigned char d[BB_SHA1_LEN];

    bb_sha1("", 0, d);
    assert_string_equal(hexof(d, sizeof(d)), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    bb_sha1("abc", 3, d);
    assert_string_equal(hexof(d, sizeof(d)), "a9993e364706816aba3e25717850c26c9cd0d89d");
}

static void test_bb_hash_sha256_known_vectors(void **state)
{
    unsigned char d[BB_SHA256_LEN];
    char hex[65];

    bb_sha256("", 0, d);
    assert_string_equal(hexof(d, sizeof(d)),
                        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    bb_sha256_hex("abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_bb_hash_streaming_equals_one_shot_and_reset_restarts(void **state)
{
    static const enum bb_hash_alg algs[] = {BB_HASH_MD5, BB_HASH_SHA1, BB_HASH_SHA256};
    static const size_t lens[] = {BB_MD5_LEN, BB_SHA1_LEN, BB_SHA256_LEN};

    for (size_t i = 0; i < 3; i++) {
        unsigned char one[BB_SHA256_LEN];
        unsigned char got[BB_SHA256_LEN];
        struct bb_hash *h = bb_hash_new(algs[i]);

        if (algs[i] == BB_HASH_MD5)
            bb_md5("abc", 3, one);
        else if (algs[i] == BB_HASH_SHA1)
            bb_sha1("abc", 3, one);
        else
            bb_sha256("abc", 3, one);

        bb_hash_update(h, "a", 1);
        bb_hash_update(h, "", 0);
        bb_hash_update(h, "bc", 2);
        assert_int_equal(bb_hash_final(h, got), lens[i]);
        assert_memory_equal(got, one, lens[i]);

        bb_hash_reset(h);
        bb_hash_update(h, "abc", 3);
        assert_int_equal(bb_hash_final(h, got), lens[i]);
        assert_memory_equal(got, one, lens[i]);
        bb_hash_free(h);
    }
    bb_hash_free(NULL);
}

static void test_bb_hash_hmac_sha256_rfc4231_case_1(void **state)
{
    unsigned char key[20];
    unsigned char mac[BB_SHA256_LEN];

    memset(key, 0x0b, sizeof(key));
    bb_hmac_sha256(key, sizeof(key), "Hi There", 8, mac);
    assert_string_equal(hexof(mac, sizeof(mac)),
                        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

static void test_bb_hash_hmac_sha256_rfc4231_case_2(void **state)
{
    static const char msg[] = "what do ya want for nothing?";
    unsigned char mac[BB_SHA256_LEN];

    bb_hmac_sha256("Jefe", 4, msg, strlen(msg), mac);
    assert_string_equal(hexof(mac, sizeof(mac)),
                        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

static void test_bb_hash_hmac_sha1_known_vector(void **state)
{
    static const char msg[] = "The quick brown fox jumps over the lazy dog";
    unsigned char mac[BB_SHA1_LEN];

    bb_hmac_sha1("key", 3, msg, strlen(msg), mac);
    assert_string_equal(hexof(mac, sizeof(mac)), "de7c9b85b8b78aa6bc8a7a36f70a90701c9db4d9");
}

static void test_bb_hash_hex_is_lowercase_and_terminated(void **state)
{
    static const unsigned char in[] = {0x00, 0x0f, 0xa5, 0xff};
    char out[2 * sizeof(in) + 1];

    memset(out, 'X', sizeof(out));
    assert_ptr_equal(bb_hex(in, sizeof(in), out), out);
    assert_string_equal(out, "000fa5ff");
    assert_string_equal(bb_hex(in, 0, out), "");
}

static void test_bb_hash_base64_encodes_rfc4648_vectors(void **state)
{
    static const char *const want[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
                                       "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    char out[16];

    for (size_t n = 0; n <= 6; n++)
        assert_string_equal(bb_base64((const unsigned char *)"foobar", n, out), want[n]);
}

static void test_bb_hash_base64_decode_round_trips(void **state)
{
    static const char *const enc[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
                                      "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    unsigned char out[16];

    for (size_t n = 0; n <= 6; n++) {
        memset(out, 0, sizeof(out));
        assert_int_equal(bb_base64_decode(enc[n], strlen(enc[n]), out, sizeof(out)), n);
        assert_memory_equal(out, "foobar", n);
    }
}

static void test_bb_hash_base64_decode_binary_round_trips(void **state)
{
    unsigned char in[BB_SHA256_LEN];
    unsigned char out[BB_SHA256_LEN];
    char enc[45];

    for (size_t i = 0; i < sizeof(in); i++)
        in[i] = (unsigned char)(0xff - 7 * i);
    bb_base64(in, sizeof(in), enc);
    assert_int_equal(strlen(enc), 44);
    assert_int_equal(bb_base64_decode(enc, strlen(enc), out, sizeof(out)), sizeof(in));
    assert_memory_equal(out, in, sizeof(in));
}

static void test_bb_hash_base64_decode_rejects_bad_input(void **state)
{
    static const char *const bad[] = {
        "Zm9",       /* not a multiple of four */
        "Zm9vY",     /* ditto */
        "Zm9v!mFy",  /* outside the alphabet */
        "Zm9 ",      /* whitespace */
        "Zm-_",      /* URL-safe alphabet */
        "Z===",      /* too much padding */
        "=m9v",      /* padding first */
        "Zm=v",      /* padding in the middle of a quantum */
        "Zg==Zm9v",  /* padding before the end */
        "Zm9v\nYmFy" /* embedded newline */
    };
    unsigned char out[16];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = bb_base64_decode(bad[i], strlen(bad[i]), out, sizeof(out));
        if (rc != BB_EINVAL)
            fail_msg("\"%s\" decoded to %d", bad[i], rc);
    }
}

static void test_bb_hash_base64_decode_respects_capacity(void **state)
{
    unsigned char out[2];

    assert_true(bb_base64_decode("Zm9v", 4, out, sizeof(out)) < 0);
    assert_int_equal(bb_base64_decode("Zm8=", 4, out, sizeof(out)), 2);
    assert_memory_equal(out, "fo", 2);
}

static void test_bb_hash_ct_equal_compares_bytes(void **state)
{
    assert_int_equal(bb_ct_equal("abcd", "abcd", 4), 1);
    assert_int_equal(bb_ct_equal("abcd", "abce", 4), 0);
    assert_int_equal(bb_ct_equal("xbcd", "abcd", 4), 0);
    assert_int_equal(bb_ct_equal("abcd", "abXX", 2), 1);
    assert_int_equal(bb_ct_equal("a", "b", 0), 1);
}

static void test_bb_hash_random_bytes_differ_between_calls(void **state)
{
    unsigned char a[32];
    unsigned char b[32];

    bb_random_bytes(a, sizeof(a));
    bb_random_bytes(b, sizeof(b));
    assert_memory_not_equal(a, b, sizeof(a));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bb_hash_md5_known_vectors),
        cmocka_unit_test(test_bb_hash_sha1_known_vectors),
        cmocka_unit_test(test_bb_hash_sha256_known_vectors),
        cmocka_unit_test(test_bb_hash_streaming_equals_one_shot_and_reset_restarts),
        cmocka_unit_test(test_bb_hash_hmac_sha256_rfc4231_case_1),
        cmocka_unit_test(test_bb_hash_hmac_sha256_rfc4231_case_2),
        cmocka_unit_test(test_bb_hash_hmac_sha1_known_vector),
        cmocka_unit_test(test_bb_hash_hex_is_lowercase_and_terminated),
        cmocka_unit_test(test_bb_hash_base64_encodes_rfc4648_vectors),
        cmocka_unit_test(test_bb_hash_base64_decode_round_trips),
        cmocka_unit_test(test_bb_hash_base64_decode_binary_round_trips),
        cmocka_unit_test(test_bb_hash_base64_decode_rejects_bad_input),
        cmocka_unit_test(test_bb_hash_base64_decode_respects_capacity),
        cmocka_unit_test(test_bb_hash_ct_equal_compares_bytes),
        cmocka_unit_test(test_bb_hash_random_bytes_differ_between_calls),
    };

    return cmocka_run_group_tests_name("common/bb_hash", tests, NULL, NULL);
}
