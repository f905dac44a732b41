/* SPDX-License-Identifier: MIT */
/* Tests for emulator/s3/s3_sigv2.c against AWS's published SigV2 vectors. */
#include "bb_test.h"

#include "bb_buf.h"
#include "bb_err.h"
#include "s3_sigv2.h"

#include <string.h>

#define SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

static struct s3_sigv4_header hdr(const char *name, const char *value)
{
    struct s3_sigv4_header h = {name, strlen(name), value, strlen(value)};
    return h;
}

static void test_s3_sigv2_string_to_sign_matches_the_puppy_vector(void **state)
{
    struct bb_buf b;
    struct s3_sigv4_header h[] = {hdr("Host", "awsexamplebucket1.s3.us-west-1.amazonaws.com"),
                                  hdr("Date", "Tue, 27 Mar 2007 19:36:42 +0000")};
    char sig[32];
    (void)state;
    bb_buf_init(&b, 4096);
    const char *path = "/awsexamplebucket1/photos/puppy.jpg";
    assert_int_equal(s3_sigv2_string_to_sign(&b, "GET", path, strlen(path), NULL, 0, h, 2,
                                             "Tue, 27 Mar 2007 19:36:42 +0000"),
                     BB_OK);
    assert_string_equal(b.data, "GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n"
                                "/awsexamplebucket1/photos/puppy.jpg");
    s3_sigv2_sign(SECRET, b.data, b.len, sig);
    assert_string_equal(sig, "qgk2+6Sv9/oM7G3qLEjTH1a1l1g=");
    bb_buf_cleanup(&b);
}

static void test_s3_sigv2_sign_matches_the_johnsmith_vector(void **state)
{
    const char *sts = "GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/johnsmith/photos/puppy.jpg";
    char sig[32];
    (void)state;
    s3_sigv2_sign(SECRET, sts, strlen(sts), sig);
    assert_string_equal(sig, "bWq2s1WEIj+Ydj0vQ697zp+IXMU=");
}

static void test_s3_sigv2_string_to_sign_sorts_amz_headers_and_subresources(void **state)
{
    struct bb_buf b;
    struct s3_sigv4_header h[] = {hdr("X-Amz-Meta-B", "2"), hdr("x-amz-meta-a", "1"),
                                  hdr("x-amz-meta-a", "3"), hdr("Content-Type", "text/plain"),
                                  hdr("Content-MD5", "abc==")};
    const char *path = "/b/k";
    const char *query = "uploadId=x%2By&partNumber=2&foo=bar";
    (void)state;
    bb_buf_init(&b, 4096);
    assert_int_equal(s3_sigv2_string_to_sign(&b, "PUT", path, strlen(path), query, strlen(query),
                                             h, 5, ""),
                     BB_OK);
    assert_string_equal(b.data, "PUT\nabc==\ntext/plain\n\nx-amz-meta-a:1,3\nx-amz-meta-b:2\n"
                                "/b/k?partNumber=2&uploadId=x+y");
    bb_buf_cleanup(&b);
}

static void test_s3_sigv2_parse_header_splits_key_and_signature(void **state)
{
    char akid[129], sig[64];
    const char *v = "AWS AKIAIOSFODNN7EXAMPLE:qgk2+6Sv9/oM7G3qLEjTH1a1l1g=";
    (void)state;
    assert_int_equal(s3_sigv2_parse_header(v, strlen(v), akid, sig), BB_OK);
    assert_string_equal(akid, "AKIAIOSFODNN7EXAMPLE");
    assert_string_equal(sig, "qgk2+6Sv9/oM7G3qLEjTH1a1l1g=");
    assert_int_equal(s3_sigv2_parse_header("AWS nocolon", 11, akid, sig), BB_EINVAL);
    assert_int_equal(s3_sigv2_parse_header("AWS :sig", 8, akid, sig), BB_EINVAL);
    assert_int_equal(s3_sigv2_parse_header("Basic x:y", 9, akid, sig), BB_EINVAL);
    /* a NUL or a space inside would cut the key short (fuzz/s3_sigv2) */
    assert_int_equal(s3_sigv2_parse_header("AWS a\0b:sig", 11, akid, sig), BB_EINVAL);
    assert_int_equal(s3_sigv2_parse_header("AWS a b:sig", 11, akid, sig), BB_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_s3_sigv2_string_to_sign_matches_the_puppy_vector),
        cmocka_unit_test(test_s3_sigv2_sign_matches_the_johnsmith_vector),
        cmocka_unit_test(test_s3_sigv2_string_to_sign_sorts_amz_headers_and_subresources),
        cmocka_unit_test(test_s3_sigv2_parse_header_splits_key_and_signature),
    };
    return cmocka_run_group_tests_name("emulator/s3/s3_sigv2", tests, NULL, NULL);
}
