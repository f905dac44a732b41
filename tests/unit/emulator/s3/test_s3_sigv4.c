/* SPDX-License-Identifier: MIT */
/* Tests for emulator/s3/s3_sigv4.c: AWS's published vectors (s3.md 3a),
 * header and presigned parsing, and the single-encoding rules. */
#include "bb_test.h"

#include "s3_sigv4.h"

#include "bb_buf.h"
#include "bb_err.h"
#include "bb_hash.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define AMZ_DATE "20130524T000000Z"
#define SCOPE "20130524/us-east-1/s3/aws4_request"
#define HOST "examplebucket.s3.amazonaws.com"
#define EMPTY_SHA "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

#define HDR(n, v)                                                                                  \
    {                                                                                              \
        (n), sizeof(n) - 1, (v), sizeof(v) - 1                                                     \
    }

/* Builds the canonical request, checks its hash (when given) and the signature. */
static void check_signature(const char *method, const char *path, const char *query,
                            const struct s3_sigv4_header *hdrs, size_t nhdrs,
                            const char *signed_headers, const char *payload, bool presigned,
                            const char *want_creq_sha, const char *want_sig)
{
    struct bb_buf creq;
    struct bb_buf sts;
    unsigned char key[32];
    char hex[65];
    int rc;

    bb_buf_init(&creq, 65536);
    bb_buf_init(&sts, 4096);
    rc = s3_sigv4_canonical_request(&creq, method, path, strlen(path), query,
                                    query != NULL ? strlen(query) : 0, hdrs, nhdrs, signed_headers,
                                    payload, presigned);
    assert_int_equal(rc, BB_OK);
    if (want_creq_sha != NULL) {
        bb_sha256_hex(creq.data, creq.len, hex);
        assert_string_equal(hex, want_creq_sha);
    }
    rc = s3_sigv4_string_to_sign(&sts, AMZ_DATE, SCOPE, creq.data, creq.len);
    assert_int_equal(rc, BB_OK);
    s3_sigv4_signing_key(SECRET, "20130524", "us-east-1", "s3", key);
    s3_sigv4_sign(key, sts.data, sts.len, hex);
    assert_string_equal(hex, want_sig);
    bb_buf_cleanup(&sts);
    bb_buf_cleanup(&creq);
}

/* Canonical request as a new string, or NULL with *rc set on failure. */
static char *creq_of(const char *path, const char *query, const struct s3_sigv4_header *hdrs,
                     size_t nhdrs, const char *signed_headers, bool presigned, int *rc)
{
    struct bb_buf b;

    bb_buf_init(&b, 65536);
    *rc = s3_sigv4_canonical_request(&b, "GET", path, strlen(path), query,
                                     query != NULL ? strlen(query) : 0, hdrs, nhdrs, signed_headers,
                                     "UNSIGNED-PAYLOAD", presigned);
    if (*rc < 0) {
        bb_buf_cleanup(&b);
        return NULL;
    }
    return bb_buf_detach(&b, NULL);
}

/* Second line (canonical URI) of the canonical request for @path. */
static void assert_canonical_uri(const char *path, const char *want)
{
    const struct s3_sigv4_header h[] = {HDR("Host", "h")};
    int rc;
    char *c = creq_of(path, NULL, h, 1, "host", false, &rc);
    char *line;
    char *nl;

    assert_int_equal(rc, BB_OK);
    line = strchr(c, '\n') + 1;
    nl = strchr(line, '\n');
    *nl = '\0';
    assert_string_equal(line, want);
    free(c);
}

/* Third line (canonical query) of the canonical request. */
static void assert_canonical_query(const char *query, bool presigned, const char *want)
{
    const struct s3_sigv4_header h[] = {HDR("Host", "h")};
    int rc;
    char *c = creq_of("/", query, h, 1, "host", presigned, &rc);
    char *line;
    char *nl;

    assert_int_equal(rc, BB_OK);
    line = strchr(strchr(c, '\n') + 1, '\n') + 1;
    nl = strchr(line, '\n');
    *nl = '\0';
    assert_string_equal(line, want);
    free(c);
}

static void test_s3_sigv4_vector_get_object_range(void **state)
{
    const struct s3_sigv4_header h[] = {
        HDR("Host", HOST),
        HDR("Range", "bytes=0-9"),
        HDR("x-amz-content-sha256", EMPTY_SHA),
        HDR("x-amz-date", AMZ_DATE),
    };

    check_signature("GET", "/test.txt", NULL, h, 4, "host;range;x-amz-content-sha256;x-amz-date",
                    EMPTY_SHA, false,
                    "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972",
                    "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

static void test_s3_sigv4_vector_put_object_dollar_key(void **state)
{
    const char *body = "Welcome to Amazon S3.";
    char payload[65];

    /* s3.md gives the payload hash only as "44ce7dd6…f8b072": check both ends. */
    bb_sha256_hex(body, strlen(body), payload);
    assert_memory_equal(payload, "44ce7dd6", 8);
    assert_string_equal(payload + 58, "f8b072");
    {
        const struct s3_sigv4_header h[] = {
            {"Date", 4, "Fri, 24 May 2013 00:00:00 GMT", 29}, HDR("Host", HOST),
            {"x-amz-content-sha256", 20, payload, 64},        HDR("x-amz-date", AMZ_DATE),
            HDR("x-amz-storage-class", "REDUCED_REDUNDANCY"),
        };

        check_signature("PUT", "/test%24file.text", NULL, h, 5,
                        "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class", payload,
                        false, NULL,
                        "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
    }
}

static void test_s3_sigv4_vector_list_objects_query(void **state)
{
    const struct s3_sigv4_header h[] = {
        HDR("Host", HOST),
        HDR("x-amz-content-sha256", EMPTY_SHA),
        HDR("x-amz-date", AMZ_DATE),
    };

    check_signature("GET", "/", "max-keys=2&prefix=J", h, 3, "host;x-amz-content-sha256;x-amz-date",
                    EMPTY_SHA, false, NULL,
                    "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
    /* Same request with the parameters in the other order signs the same. */
    check_signature("GET", "/", "prefix=J&max-keys=2", h, 3, "host;x-amz-content-sha256;x-amz-date",
                    EMPTY_SHA, false, NULL,
                    "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

#define PRESIGN_QUERY                                                                              \
    "X-Amz-Algorithm=AWS4-HMAC-SHA256"                                                             \
    "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"            \
    "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
#define PRESIGN_SIG "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"

static void test_s3_sigv4_vector_presigned_get(void **state)
{
    const char *q = PRESIGN_QUERY "&X-Amz-Signature=" PRESIGN_SIG;
    const struct s3_sigv4_header h[] = {HDR("Host", HOST)};
    struct s3_sigv4_auth a;
    const char *why = NULL;

    assert_int_equal(s3_sigv4_parse_query(q, strlen(q), &a, &why), BB_OK);
    assert_string_equal(a.akid, "AKIAIOSFODNN7EXAMPLE");
    assert_string_equal(a.date, "20130524");
    assert_string_equal(a.region, "us-east-1");
    assert_string_equal(a.service, "s3");
    assert_string_equal(a.scope, SCOPE);
    assert_string_equal(a.amz_date, AMZ_DATE);
    assert_int_equal(a.expires, 86400);
    assert_string_equal(a.signed_headers, "host");
    assert_string_equal(a.signature, PRESIGN_SIG);
    /* NULL payload hash means UNSIGNED-PAYLOAD; the signature itself is left out. */
    check_signature("GET", "/test.txt", q, h, 1, a.signed_headers, NULL, true,
                    "3bfa292879f6447bbcda7001decf97f4a54dc650c8942174ae0a9121cf58ad04",
                    PRESIGN_SIG);
    check_signature("GET", "/test.txt", q, h, 1, a.signed_headers, "UNSIGNED-PAYLOAD", true,
                    "3bfa292879f6447bbcda7001decf97f4a54dc650c8942174ae0a9121cf58ad04",
                    PRESIGN_SIG);
}

#define GET_SIG "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
#define GET_CRED "Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request"
#define GET_SH "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date"

static void assert_header_ok(const char *v)
{
    struct s3_sigv4_auth a;
    const char *why = NULL;

    assert_int_equal(s3_sigv4_parse_header(v, strlen(v), &a, &why), BB_OK);
    assert_string_equal(a.akid, "AKIAIOSFODNN7EXAMPLE");
    assert_string_equal(a.date, "20130524");
    assert_string_equal(a.region, "us-east-1");
    assert_string_equal(a.service, "s3");
    assert_string_equal(a.scope, SCOPE);
    assert_string_equal(a.signed_headers, "host;range;x-amz-content-sha256;x-amz-date");
    assert_string_equal(a.signature, GET_SIG);
    assert_string_equal(a.amz_date, "");
    assert_int_equal(a.expires, 0);
}

static void test_s3_sigv4_parse_header_separators(void **state)
{
    assert_header_ok("AWS4-HMAC-SHA256 " GET_CRED ", " GET_SH ", Signature=" GET_SIG);
    assert_header_ok("AWS4-HMAC-SHA256 " GET_CRED "," GET_SH ",Signature=" GET_SIG);
    assert_header_ok("AWS4-HMAC-SHA256 " GET_CRED ",  " GET_SH " , Signature=" GET_SIG);
    assert_header_ok("  AWS4-HMAC-SHA256   " GET_CRED "," GET_SH ",Signature=" GET_SIG "  ");
}

static void test_s3_sigv4_parse_header_any_order(void **state)
{
    assert_header_ok("AWS4-HMAC-SHA256 Signature=" GET_SIG ", " GET_SH ", " GET_CRED);
    assert_header_ok("AWS4-HMAC-SHA256 " GET_SH "," GET_CRED ",Signature=" GET_SIG);
}

static void test_s3_sigv4_parse_header_uppercase_signature_is_lowered(void **state)
{
    struct s3_sigv4_auth a;
    const char *v = "AWS4-HMAC-SHA256 " GET_CRED ", " GET_SH
                    ", Signature=F0E8BDB87C964420E857BD35B5D6ED310BD44F0170ABA48DD91039C6036BDB41";

    assert_int_equal(s3_sigv4_parse_header(v, strlen(v), &a, NULL), BB_OK);
    assert_string_equal(a.signature, GET_SIG);
}

static void assert_header_bad(const char *v)
{
    struct s3_sigv4_auth a;
    const char *why = NULL;

    assert_int_equal(s3_sigv4_parse_header(v, strlen(v), &a, &why), BB_EINVAL);
    assert_non_null(why);
}

static void test_s3_sigv4_parse_header_malformed(void **state)
{
    assert_header_bad("");
    assert_header_bad("AWS4-HMAC-SHA256");
    assert_header_bad("AWS4-HMAC-SHA256 ");
    assert_header_bad("AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=");
    assert_header_bad("AWS4-HMAC-SHA512 " GET_CRED ", " GET_SH ", Signature=" GET_SIG);
    assert_header_bad("AWS4-HMAC-SHA256-PAYLOAD " GET_CRED ", " GET_SH ", Signature=" GET_SIG);
    /* missing components */
    assert_header_bad("AWS4-HMAC-SHA256 " GET_CRED ", " GET_SH);
    assert_header_bad("AWS4-HMAC-SHA256 " GET_SH ", Signature=" GET_SIG);
    assert_header_bad("AWS4-HMAC-SHA256 " GET_CRED ", Signature=" GET_SIG);
    /* duplicate, unknown, empty and not key=value components */
    assert_header_bad("AWS4-HMAC-SHA256 " GET_CRED ", " GET_CRED ", " GET_SH
                      ", Signature=" GET_SIG);
    assert_header_bad("AWS4-HMAC-SHA256 " GET_CRED ", " GET_SH ", Signature=" GET_SIG ", Extra=1");
    assert_header_bad("AWS4-HMAC-SHA256 " GET_CRED ", " GET_SH ", Signature=" GET_SIG ",");
    assert_header_bad("AWS4-HMAC-SHA256 " GET_CRED ",, " GET_SH ", Signature=" GET_SIG);
    assert_header_bad("AWS4-HMAC-SHA256 " GET_CRED ", " GET_SH ", Signature");
    /* bad signatures */
    assert_header_bad(
        "AWS4-HMAC-SHA256 " GET_CRED ", " GET_SH
        ", Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb4");
    assert_header_bad("AWS4-HMAC-SHA256 " GET_CRED ", " GET_SH ", Signature=" GET_SIG "0");
    assert_header_bad(
        "AWS4-HMAC-SHA256 " GET_CRED ", " GET_SH
        ", Signature=g0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
    /* bad credentials */
    assert_header_bad("AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/s3, " GET_SH
                      ", Signature=" GET_SIG);
    assert_header_bad(
        "AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/s3/aws4_request/x, " GET_SH
        ", Signature=" GET_SIG);
    assert_header_bad("AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/s3/aws5_request, " GET_SH
                      ", Signature=" GET_SIG);
    assert_header_bad("AWS4-HMAC-SHA256 Credential=AKID/2013052/us-east-1/s3/aws4_request, " GET_SH
                      ", Signature=" GET_SIG);
    assert_header_bad("AWS4-HMAC-SHA256 Credential=AKID/2013o524/us-east-1/s3/aws4_request, " GET_SH
                      ", Signature=" GET_SIG);
    assert_header_bad("AWS4-HMAC-SHA256 Credential=/20130524/us-east-1/s3/aws4_request, " GET_SH
                      ", Signature=" GET_SIG);
    assert_header_bad("AWS4-HMAC-SHA256 Credential=AKID/20130524//s3/aws4_request, " GET_SH
                      ", Signature=" GET_SIG);
    /* bad signed headers */
    assert_header_bad("AWS4-HMAC-SHA256 " GET_CRED ", SignedHeaders=, Signature=" GET_SIG);
    assert_header_bad("AWS4-HMAC-SHA256 " GET_CRED
                      ", SignedHeaders=host;;x-amz-date, Signature=" GET_SIG);
    assert_header_bad("AWS4-HMAC-SHA256 " GET_CRED ", SignedHeaders=host;, Signature=" GET_SIG);
    assert_header_bad("AWS4-HMAC-SHA256 " GET_CRED ", SignedHeaders=host:x, Signature=" GET_SIG);
}

static void test_s3_sigv4_parse_header_overlong_fields(void **state)
{
    char v[4096];
    char akid[200];

    memset(akid, 'A', sizeof(akid) - 1);
    akid[sizeof(akid) - 1] = '\0';
    snprintf(v, sizeof(v),
             "AWS4-HMAC-SHA256 Credential=%s/20130524/us-east-1/s3/aws4_request, " GET_SH
             ", Signature=" GET_SIG,
             akid);
    assert_header_bad(v);
}

static void test_s3_sigv4_parse_query_not_presigned(void **state)
{
    struct s3_sigv4_auth a;
    const char *q = "max-keys=2&prefix=J";

    assert_int_equal(s3_sigv4_parse_query(q, strlen(q), &a, NULL), BB_ENOTFOUND);
    assert_int_equal(s3_sigv4_parse_query("", 0, &a, NULL), BB_ENOTFOUND);
    assert_int_equal(s3_sigv4_parse_query(NULL, 0, &a, NULL), BB_ENOTFOUND);
    /* Other X-Amz-* parameters alone do not make a presigned request. */
    q = "X-Amz-Signature=" PRESIGN_SIG;
    assert_int_equal(s3_sigv4_parse_query(q, strlen(q), &a, NULL), BB_ENOTFOUND);
}

static void assert_query_bad(const char *q)
{
    struct s3_sigv4_auth a;
    const char *why = NULL;

    assert_int_equal(s3_sigv4_parse_query(q, strlen(q), &a, &why), BB_EINVAL);
    assert_non_null(why);
}

static void test_s3_sigv4_parse_query_malformed(void **state)
{
    /* no signature */
    assert_query_bad(PRESIGN_QUERY);
    /* wrong algorithm */
    assert_query_bad("X-Amz-Algorithm=AWS4-HMAC-SHA1"
                     "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_"
                     "request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400"
                     "&X-Amz-SignedHeaders=host&X-Amz-Signature=" PRESIGN_SIG);
    /* duplicate parameter */
    assert_query_bad(PRESIGN_QUERY "&X-Amz-Signature=" PRESIGN_SIG "&X-Amz-Signature=" PRESIGN_SIG);
    /* expiry out of range */
    assert_query_bad("X-Amz-Algorithm=AWS4-HMAC-SHA256"
                     "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_"
                     "request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=604801"
                     "&X-Amz-SignedHeaders=host&X-Amz-Signature=" PRESIGN_SIG);
    assert_query_bad("X-Amz-Algorithm=AWS4-HMAC-SHA256"
                     "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_"
                     "request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=0"
                     "&X-Amz-SignedHeaders=host&X-Amz-Signature=" PRESIGN_SIG);
    assert_query_bad("X-Amz-Algorithm=AWS4-HMAC-SHA256"
                     "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_"
                     "request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=-5"
                     "&X-Amz-SignedHeaders=host&X-Amz-Signature=" PRESIGN_SIG);
    /* date not matching the credential, malformed date */
    assert_query_bad("X-Amz-Algorithm=AWS4-HMAC-SHA256"
                     "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_"
                     "request&X-Amz-Date=20130525T000000Z&X-Amz-Expires=86400"
                     "&X-Amz-SignedHeaders=host&X-Amz-Signature=" PRESIGN_SIG);
    assert_query_bad("X-Amz-Algorithm=AWS4-HMAC-SHA256"
                     "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_"
                     "request&X-Amz-Date=20130524&X-Amz-Expires=86400"
                     "&X-Amz-SignedHeaders=host&X-Amz-Signature=" PRESIGN_SIG);
    /* malformed escape inside the credential */
    assert_query_bad("X-Amz-Algorithm=AWS4-HMAC-SHA256"
                     "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2G20130524%2Fus-east-1%2Fs3%2Faws4_"
                     "request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400"
                     "&X-Amz-SignedHeaders=host&X-Amz-Signature=" PRESIGN_SIG);
}

static void assert_encode(const char *in, size_t n, bool keep_slash, const char *want)
{
    struct bb_buf b;

    bb_buf_init(&b, 1024);
    assert_int_equal(s3_sigv4_uri_encode(&b, in, n, keep_slash), BB_OK);
    assert_int_equal(b.len, strlen(want));
    assert_memory_equal(b.len ? b.data : "", want, b.len);
    bb_buf_cleanup(&b);
}

static void test_s3_sigv4_uri_encode_rules(void **state)
{
    assert_encode("a b", 3, true, "a%20b");
    assert_encode("a+b", 3, true, "a%2Bb");
    assert_encode("a*b", 3, true, "a%2Ab");
    assert_encode("test$file.text", 14, true, "test%24file.text");
    assert_encode("AZaz09-_.~", 10, false, "AZaz09-_.~");
    assert_encode("a/b", 3, true, "a/b");
    assert_encode("a/b", 3, false, "a%2Fb");
    assert_encode("caf\xc3\xa9", 5, true, "caf%C3%A9");
    assert_encode("\xe6\x97\xa5", 3, false, "%E6%97%A5");
    assert_encode("=&%?#", 5, false, "%3D%26%25%3F%23");
    assert_encode("a\0b", 3, false, "a%00b");
    assert_encode("", 0, false, "");
}

static void assert_decode(const char *in, bool plus_is_space, const char *want, size_t want_len)
{
    struct bb_buf b;

    bb_buf_init(&b, 1024);
    assert_int_equal(s3_sigv4_uri_decode(&b, in, strlen(in), plus_is_space), BB_OK);
    assert_int_equal(b.len, want_len);
    assert_memory_equal(b.len ? b.data : "", want, want_len);
    bb_buf_cleanup(&b);
}

static void assert_decode_bad(const char *in)
{
    struct bb_buf b;

    bb_buf_init(&b, 1024);
    assert_int_equal(s3_sigv4_uri_decode(&b, in, strlen(in), true), BB_EINVAL);
    bb_buf_cleanup(&b);
}

static void test_s3_sigv4_uri_decode_rules(void **state)
{
    assert_decode("a%20b", false, "a b", 3);
    assert_decode("a+b", true, "a b", 3);
    assert_decode("a+b", false, "a+b", 3);
    assert_decode("a%2Bb", true, "a+b", 3);
    assert_decode("a%2bb", true, "a+b", 3);
    assert_decode("caf%C3%A9", false, "caf\xc3\xa9", 5);
    assert_decode("%00", false, "\0", 1);
    assert_decode("%2F%2f", false, "//", 2);
    assert_decode("", false, "", 0);
}

static void test_s3_sigv4_uri_decode_rejects_malformed(void **state)
{
    assert_decode_bad("%");
    assert_decode_bad("a%");
    assert_decode_bad("a%2");
    assert_decode_bad("%G0");
    assert_decode_bad("%0g");
    assert_decode_bad("%%41");
    assert_decode_bad("%-1");
}

static void test_s3_sigv4_uri_encode_too_big(void **state)
{
    struct bb_buf b;

    bb_buf_init(&b, 5);
    assert_int_equal(s3_sigv4_uri_encode(&b, "a b", 3, false), BB_OK);
    assert_int_equal(s3_sigv4_uri_encode(&b, " ", 1, false), BB_ETOOBIG);
    bb_buf_cleanup(&b);
}

static void test_s3_sigv4_canonical_uri_single_encoding(void **state)
{
    assert_canonical_uri("/test.txt", "/test.txt");
    assert_canonical_uri("/test%24file.text", "/test%24file.text");
    /* Unencoded '$' from a lax client ends up the same. */
    assert_canonical_uri("/test$file.text", "/test%24file.text");
    /* '+' in a path is a literal plus, whichever way it arrived. */
    assert_canonical_uri("/a+b", "/a%2Bb");
    assert_canonical_uri("/a%2Bb", "/a%2Bb");
    assert_canonical_uri("/a%20b", "/a%20b");
    assert_canonical_uri("/%7Euser/%41", "/~user/A");
    assert_canonical_uri("/caf%c3%a9", "/caf%C3%A9");
    /* No normalisation of "//", "." or "..". */
    assert_canonical_uri("/a//b/../c/./d", "/a//b/../c/./d");
    assert_canonical_uri("//", "//");
    assert_canonical_uri("", "/");
    assert_canonical_uri("/", "/");
}

static void test_s3_sigv4_canonical_uri_rejects_bad_escape(void **state)
{
    const struct s3_sigv4_header h[] = {HDR("Host", "h")};
    int rc;

    assert_null(creq_of("/a%zzb", NULL, h, 1, "host", false, &rc));
    assert_int_equal(rc, BB_EINVAL);
    assert_null(creq_of("/a%", NULL, h, 1, "host", false, &rc));
    assert_int_equal(rc, BB_EINVAL);
    assert_null(creq_of("/", "a=%x1", h, 1, "host", false, &rc));
    assert_int_equal(rc, BB_EINVAL);
}

static void test_s3_sigv4_canonical_query_sorting(void **state)
{
    assert_canonical_query("prefix=J&max-keys=2", false, "max-keys=2&prefix=J");
    assert_canonical_query("b=2&a=3&a=1&c&B=x", false, "B=x&a=1&a=3&b=2&c=");
    assert_canonical_query("uploads", false, "uploads=");
    assert_canonical_query("uploads=", false, "uploads=");
    assert_canonical_query("a=1&&b=2&", false, "a=1&b=2");
    /* '+' in a query is a space and becomes %20; %2B stays a plus. */
    assert_canonical_query("q=a+b&r=a%2Bb", false, "q=a%20b&r=a%2Bb");
    /* '/' is encoded in query parts; '=' after the first is part of the value. */
    assert_canonical_query("prefix=a/b&x=y=z", false, "prefix=a%2Fb&x=y%3Dz");
    assert_canonical_query("k=%7e%41", false, "k=~A");
    assert_canonical_query("k=caf%C3%A9&k2=\xc3\xa9", false, "k=caf%C3%A9&k2=%C3%A9");
    /* sort happens on the encoded form ('%' 0x25 sorts before 'a' and '-') */
    assert_canonical_query("a-b=1&a b=2", false, "a%20b=2&a-b=1");
    assert_canonical_query("x-id=GetObject&X-Amz-Signature=abc&X-Amz-Date=1", true,
                           "X-Amz-Date=1&x-id=GetObject");
    assert_canonical_query("X-Amz-Signature=abc&X-Amz-Date=1", false,
                           "X-Amz-Date=1&X-Amz-Signature=abc");
}

static void test_s3_sigv4_canonical_headers_trim_collapse_join(void **state)
{
    const struct s3_sigv4_header h[] = {
        HDR("HOST", "  example.com:9000 "), HDR("X-Amz-Meta-A", "\t one   two\t three  "),
        HDR("x-amz-meta-a", "four"),        HDR("x-amz-date", AMZ_DATE),
        HDR("x-ignored", "not signed"),
    };
    int rc;
    char *c = creq_of("/k", "", h, 5, "host;x-amz-date;x-amz-meta-a", false, &rc);

    assert_int_equal(rc, BB_OK);
    assert_string_equal(c, "GET\n/k\n\n"
                           "host:example.com:9000\n"
                           "x-amz-date:" AMZ_DATE "\n"
                           "x-amz-meta-a:one two three,four\n"
                           "\n"
                           "host;x-amz-date;x-amz-meta-a\n"
                           "UNSIGNED-PAYLOAD");
    free(c);
}

static void test_s3_sigv4_canonical_headers_missing_signed_header(void **state)
{
    const struct s3_sigv4_header h[] = {HDR("Host", "h")};
    int rc;

    assert_null(creq_of("/", NULL, h, 1, "host;x-amz-date", false, &rc));
    assert_int_equal(rc, BB_EINVAL);
    assert_null(creq_of("/", NULL, h, 1, "host;;x", false, &rc));
    assert_int_equal(rc, BB_EINVAL);
    assert_null(creq_of("/", NULL, h, 1, "", false, &rc));
    assert_int_equal(rc, BB_EINVAL);
}

static void test_s3_sigv4_canonical_request_too_big(void **state)
{
    const struct s3_sigv4_header h[] = {HDR("Host", HOST)};
    struct bb_buf b;
    int rc;

    bb_buf_init(&b, 40);
    rc = s3_sigv4_canonical_request(&b, "GET", "/test.txt", 9, "a=1&b=2", 7, h, 1, "host",
                                    EMPTY_SHA, false);
    assert_int_equal(rc, BB_ETOOBIG);
    bb_buf_cleanup(&b);
}

static void test_s3_sigv4_string_to_sign_shape(void **state)
{
    struct bb_buf b;
    char hex[65];

    bb_buf_init(&b, 1024);
    bb_sha256_hex("x", 1, hex);
    assert_int_equal(s3_sigv4_string_to_sign(&b, AMZ_DATE, SCOPE, "x", 1), BB_OK);
    assert_memory_equal(b.data, "AWS4-HMAC-SHA256\n" AMZ_DATE "\n" SCOPE "\n", 17 + 17 + 35);
    assert_string_equal(b.data + 17 + 17 + 35, hex);
    bb_buf_cleanup(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_s3_sigv4_vector_get_object_range),
        cmocka_unit_test(test_s3_sigv4_vector_put_object_dollar_key),
        cmocka_unit_test(test_s3_sigv4_vector_list_objects_query),
        cmocka_unit_test(test_s3_sigv4_vector_presigned_get),
        cmocka_unit_test(test_s3_sigv4_parse_header_separators),
        cmocka_unit_test(test_s3_sigv4_parse_header_any_order),
        cmocka_unit_test(test_s3_sigv4_parse_header_uppercase_signature_is_lowered),
        cmocka_unit_test(test_s3_sigv4_parse_header_malformed),
        cmocka_unit_test(test_s3_sigv4_parse_header_overlong_fields),
        cmocka_unit_test(test_s3_sigv4_parse_query_not_presigned),
        cmocka_unit_test(test_s3_sigv4_parse_query_malformed),
        cmocka_unit_test(test_s3_sigv4_uri_encode_rules),
        cmocka_unit_test(test_s3_sigv4_uri_decode_rules),
        cmocka_unit_test(test_s3_sigv4_uri_decode_rejects_malformed),
        cmocka_unit_test(test_s3_sigv4_uri_encode_too_big),
        cmocka_unit_test(test_s3_sigv4_canonical_uri_single_encoding),
        cmocka_unit_test(test_s3_sigv4_canonical_uri_rejects_bad_escape),
        cmocka_unit_test(test_s3_sigv4_canonical_query_sorting),
        cmocka_unit_test(test_s3_sigv4_canonical_headers_trim_collapse_join),
        cmocka_unit_test(test_s3_sigv4_canonical_headers_missing_signed_header),
        cmocka_unit_test(test_s3_sigv4_canonical_request_too_big),
        cmocka_unit_test(test_s3_sigv4_string_to_sign_shape),
    };

    return cmocka_run_group_tests_name("emulator/s3/s3_sigv4", tests, NULL, NULL);
}
