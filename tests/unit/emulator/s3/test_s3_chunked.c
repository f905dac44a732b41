/* SPDX-License-Identifier: MIT */
/* Tests for emulator/s3/s3_chunked.c: AWS's signed vectors (s3.md 3b), the
 * unsigned-trailer example, every split of the input, and the failures. */
#include "bb_test.h"

#include "s3_chunked.h"
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

#define SEED_SIG "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
#define CHUNK1_SIG "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"
#define CHUNK2_SIG "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497"
#define FINAL_SIG "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"

#define TRAILER_SEED "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e"
#define TRAILER_SIG "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435"
#define TRAILER_LINE "x-amz-checksum-crc32c:sOO8/Q=="

#define UNSIGNED_BODY "5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n"

/* Collects decoded payload. */
struct sink {
    struct bb_buf out;
    int fail_with; /* returned from the callback when non-zero */
};

static int sink_cb(void *arg, const char *p, size_t n)
{
    struct sink *s = arg;

    if (s->fail_with != 0)
        return s->fail_with;
    return bb_buf_append(&s->out, p, n);
}

static void params_signed(struct s3_chunked_params *pp, enum s3_chunked_mode mode, const char *seed,
                          uint64_t decoded_length)
{
    memset(pp, 0, sizeof(*pp));
    pp->mode = mode;
    pp->verify = 1;
    s3_sigv4_signing_key(SECRET, "20130524", "us-east-1", "s3", pp->signing_key);
    pp->amz_date = AMZ_DATE;
    pp->scope = SCOPE;
    pp->seed_signature = seed;
    pp->decoded_length = decoded_length;
}

static void params_unsigned(struct s3_chunked_params *pp, const char *trailers,
                            uint64_t decoded_length)
{
    memset(pp, 0, sizeof(*pp));
    pp->mode = S3_CHUNKED_UNSIGNED_TRAILER;
    pp->trailer_names = trailers;
    pp->decoded_length = decoded_length;
}

/*
 * Builds a signed body of 'a' chunks with the given sizes (the terminal zero
 * chunk is added), using @sigs[i] for chunk i (nsizes + 1 entries), then
 * appends @tail after the zero chunk's header line. Returns a new string.
 */
static char *build_signed(const size_t *sizes, size_t nsizes, char sigs[][65], const char *tail,
                          size_t *len)
{
    struct bb_buf b;

    bb_buf_init(&b, 1 << 22);
    for (size_t i = 0; i <= nsizes; i++) {
        size_t sz = i < nsizes ? sizes[i] : 0;

        assert_int_equal(bb_buf_appendf(&b, "%zx;chunk-signature=%s\r\n", sz, sigs[i]), BB_OK);
        if (sz == 0)
            break;
        for (size_t k = 0; k < sz; k++)
            assert_int_equal(bb_buf_append(&b, "a", 1), BB_OK);
        assert_int_equal(bb_buf_append(&b, "\r\n", 2), BB_OK);
    }
    assert_int_equal(bb_buf_appends(&b, tail), BB_OK);
    return bb_buf_detach(&b, len);
}

/* Computes the chain of chunk signatures for 'a' chunks of @sizes plus the zero chunk. */
static void sign_chain(const char *seed, const size_t *sizes, size_t nsizes, char sigs[][65])
{
    unsigned char key[32];
    const char *prev = seed;

    s3_sigv4_signing_key(SECRET, "20130524", "us-east-1", "s3", key);
    for (size_t i = 0; i <= nsizes; i++) {
        size_t sz = i < nsizes ? sizes[i] : 0;
        char *data = calloc(1, sz + 1);
        char hex[65];

        assert_non_null(data);
        memset(data, 'a', sz);
        bb_sha256_hex(data, sz, hex);
        s3_sigv4_chunk_signature(key, AMZ_DATE, SCOPE, prev, hex, sigs[i]);
        prev = sigs[i];
        free(data);
    }
}

/* Feeds @body in pieces of @step bytes (0 = whole); returns the first error, then finish. */
static int feed_steps(struct s3_chunked *c, const char *body, size_t len, size_t step,
                      struct sink *s, int *finish_rc)
{
    const char *why = NULL;
    size_t off = 0;
    int rc = BB_OK;

    if (step == 0)
        step = len;
    while (off < len) {
        size_t n = len - off < step ? len - off : step;

        rc = s3_chunked_feed(c, body + off, n, sink_cb, s, &why);
        if (rc < 0) {
            assert_non_null(why);
            break;
        }
        off += n;
    }
    if (finish_rc != NULL)
        *finish_rc = s3_chunked_finish(c, &why);
    return rc;
}

/* Runs @body through a fresh decoder; expects feed rc @want_feed and finish rc @want_finish. */
static void run(const struct s3_chunked_params *pp, const char *body, size_t len, size_t step,
                int want_feed, int want_finish)
{
    struct s3_chunked *c = s3_chunked_new(pp);
    struct sink s = {.fail_with = 0};
    int frc;

    bb_buf_init(&s.out, 1 << 22);
    assert_int_equal(feed_steps(c, body, len, step, &s, &frc), want_feed);
    assert_int_equal(frc, want_finish);
    bb_buf_cleanup(&s.out);
    s3_chunked_free(c);
}

static void test_s3_chunked_aws_signed_vector(void **state)
{
    const size_t sizes[] = {0x10000, 0x400};
    char sigs[3][65] = {CHUNK1_SIG, CHUNK2_SIG, FINAL_SIG};
    char computed[3][65];
    struct s3_chunked_params pp;
    size_t len;
    char *body = build_signed(sizes, 2, sigs, "\r\n", &len);
    const size_t steps[] = {0, 1, 7, 4096, 65537};

    /* The chain helper itself agrees with AWS. */
    sign_chain(SEED_SIG, sizes, 2, computed);
    for (size_t i = 0; i < 3; i++)
        assert_string_equal(computed[i], sigs[i]);
    assert_int_equal(len, 66824);
    params_signed(&pp, S3_CHUNKED_SIGNED, SEED_SIG, 66560);
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        struct s3_chunked *c = s3_chunked_new(&pp);
        struct sink s = {.fail_with = 0};
        int frc;

        bb_buf_init(&s.out, 1 << 20);
        assert_int_equal(feed_steps(c, body, len, steps[i], &s, &frc), BB_OK);
        assert_int_equal(frc, BB_OK);
        assert_int_equal(s.out.len, 66560);
        assert_int_equal(s3_chunked_decoded(c), 66560);
        for (size_t k = 0; k < s.out.len; k++) {
            if (s.out.data[k] != 'a')
                fail_msg("payload byte %zu is %d", k, s.out.data[k]);
        }
        bb_buf_cleanup(&s.out);
        s3_chunked_free(c);
    }
    free(body);
}

static void test_s3_chunked_aws_signed_vector_without_decoded_length(void **state)
{
    const size_t sizes[] = {0x10000, 0x400};
    char sigs[3][65] = {CHUNK1_SIG, CHUNK2_SIG, FINAL_SIG};
    struct s3_chunked_params pp;
    size_t len;
    char *body = build_signed(sizes, 2, sigs, "\r\n", &len);

    params_signed(&pp, S3_CHUNKED_SIGNED, SEED_SIG, UINT64_MAX);
    run(&pp, body, len, 0, BB_OK, BB_OK);
    free(body);
}

static void test_s3_chunked_aws_signed_trailer_vector(void **state)
{
    const size_t sizes[] = {0x10000, 0x400};
    char sigs[3][65];
    char tsig[65];
    unsigned char key[32];
    struct s3_chunked_params pp;
    struct bb_buf tail;
    size_t len;
    char *body;

    /*
     * s3.md only gives the chunk signatures abbreviated ("b474d886…5aa2",
     * "1c1344b1…51e5c7", "2ca2aba2…63f992"): compute the chain from the seed
     * and check both ends of each, then check the full trailer signature,
     * which depends on all of them.
     */
    sign_chain(TRAILER_SEED, sizes, 2, sigs);
    assert_memory_equal(sigs[0], "b474d886", 8);
    assert_string_equal(sigs[0] + 60, "5aa2");
    assert_memory_equal(sigs[1], "1c1344b1", 8);
    assert_string_equal(sigs[1] + 58, "51e5c7");
    assert_memory_equal(sigs[2], "2ca2aba2", 8);
    assert_string_equal(sigs[2] + 58, "63f992");
    s3_sigv4_signing_key(SECRET, "20130524", "us-east-1", "s3", key);
    s3_sigv4_trailer_signature(key, AMZ_DATE, SCOPE, sigs[2], TRAILER_LINE "\n",
                               strlen(TRAILER_LINE "\n"), tsig);
    assert_string_equal(tsig, TRAILER_SIG);

    bb_buf_init(&tail, 1024);
    assert_int_equal(
        bb_buf_appends(&tail, TRAILER_LINE "\r\nx-amz-trailer-signature:" TRAILER_SIG "\r\n\r\n"),
        BB_OK);
    body = build_signed(sizes, 2, sigs, tail.data, &len);
    params_signed(&pp, S3_CHUNKED_SIGNED_TRAILER, TRAILER_SEED, 66560);
    pp.trailer_names = "x-amz-checksum-crc32c";
    for (size_t step = 0; step <= 1; step++) {
        struct s3_chunked *c = s3_chunked_new(&pp);
        struct sink s = {.fail_with = 0};
        int frc;

        bb_buf_init(&s.out, 1 << 20);
        assert_int_equal(feed_steps(c, body, len, step, &s, &frc), BB_OK);
        assert_int_equal(frc, BB_OK);
        assert_int_equal(s.out.len, 66560);
        assert_string_equal(s3_chunked_trailer(c, "x-amz-checksum-crc32c"), "sOO8/Q==");
        assert_string_equal(s3_chunked_trailer(c, "X-Amz-Checksum-CRC32C"), "sOO8/Q==");
        assert_null(s3_chunked_trailer(c, "x-amz-checksum-crc32"));
        bb_buf_cleanup(&s.out);
        s3_chunked_free(c);
    }
    free(body);

    /* A tampered trailer value breaks the trailer signature. */
    bb_buf_reset(&tail);
    assert_int_equal(bb_buf_appends(&tail, "x-amz-checksum-crc32c:sOO8/R==\r\n"
                                           "x-amz-trailer-signature:" TRAILER_SIG "\r\n\r\n"),
                     BB_OK);
    body = build_signed(sizes, 2, sigs, tail.data, &len);
    run(&pp, body, len, 0, BB_EBADSIG, BB_EBADSIG);
    free(body);

    /* The trailer signature is required in this mode. */
    bb_buf_reset(&tail);
    assert_int_equal(bb_buf_appends(&tail, TRAILER_LINE "\r\n\r\n"), BB_OK);
    body = build_signed(sizes, 2, sigs, tail.data, &len);
    run(&pp, body, len, 0, BB_EINVAL, BB_EINVAL);
    free(body);

    /* Nothing may follow the trailer signature but the final CRLF. */
    bb_buf_reset(&tail);
    assert_int_equal(bb_buf_appends(&tail, TRAILER_LINE "\r\nx-amz-trailer-signature:" TRAILER_SIG
                                                        "\r\n" TRAILER_LINE "\r\n\r\n"),
                     BB_OK);
    body = build_signed(sizes, 2, sigs, tail.data, &len);
    run(&pp, body, len, 0, BB_EINVAL, BB_EINVAL);
    free(body);
    bb_buf_cleanup(&tail);
}

static void test_s3_chunked_unsigned_trailer_example(void **state)
{
    struct s3_chunked_params pp;
    const char *body = UNSIGNED_BODY;
    size_t len = strlen(body);

    assert_int_equal(len, 46);
    params_unsigned(&pp, "x-amz-checksum-crc32", 5);
    for (size_t step = 0; step <= 3; step++) {
        struct s3_chunked *c = s3_chunked_new(&pp);
        struct sink s = {.fail_with = 0};
        int frc;

        bb_buf_init(&s.out, 1024);
        assert_int_equal(feed_steps(c, body, len, step, &s, &frc), BB_OK);
        assert_int_equal(frc, BB_OK);
        assert_int_equal(s.out.len, 5);
        assert_memory_equal(s.out.data, "hello", 5);
        assert_string_equal(s3_chunked_trailer(c, "x-amz-checksum-crc32"), "NhCmhg==");
        assert_string_equal(s3_chunked_trailer(c, "X-AMZ-CHECKSUM-CRC32"), "NhCmhg==");
        bb_buf_cleanup(&s.out);
        s3_chunked_free(c);
    }
}

static void test_s3_chunked_unsigned_announce_is_case_insensitive(void **state)
{
    struct s3_chunked_params pp;

    params_unsigned(&pp, " X-Amz-Checksum-CRC32 , x-amz-other", UINT64_MAX);
    /* x-amz-other was announced but never sent. */
    run(&pp, UNSIGNED_BODY, strlen(UNSIGNED_BODY), 1, BB_OK, BB_EINVAL);
    params_unsigned(&pp, "X-Amz-Checksum-CRC32", UINT64_MAX);
    run(&pp, UNSIGNED_BODY, strlen(UNSIGNED_BODY), 1, BB_OK, BB_OK);
}

static void test_s3_chunked_unsigned_ignores_extensions(void **state)
{
    struct s3_chunked_params pp;
    const char *body = "5;foo=bar;chunk-signature=zz\r\nhello\r\n3;x\r\n!!!\r\n0;y=1\r\n\r\n";

    params_unsigned(&pp, NULL, 8);
    run(&pp, body, strlen(body), 0, BB_OK, BB_OK);
    run(&pp, body, strlen(body), 1, BB_OK, BB_OK);
}

static void test_s3_chunked_unsigned_empty_body(void **state)
{
    struct s3_chunked_params pp;

    params_unsigned(&pp, NULL, 0);
    run(&pp, "0\r\n\r\n", 5, 1, BB_OK, BB_OK);
}

static void test_s3_chunked_tampered_data_is_badsig(void **state)
{
    const size_t sizes[] = {0x10000, 0x400};
    char sigs[3][65] = {CHUNK1_SIG, CHUNK2_SIG, FINAL_SIG};
    struct s3_chunked_params pp;
    size_t len;
    char *body = build_signed(sizes, 2, sigs, "\r\n", &len);

    body[88 + 1000] = 'b';
    params_signed(&pp, S3_CHUNKED_SIGNED, SEED_SIG, 66560);
    run(&pp, body, len, 0, BB_EBADSIG, BB_EBADSIG);
    run(&pp, body, len, 1, BB_EBADSIG, BB_EBADSIG);
    free(body);
}

static void test_s3_chunked_tampered_signature_is_badsig(void **state)
{
    const size_t sizes[] = {0x10000, 0x400};
    char sigs[3][65] = {CHUNK1_SIG, CHUNK2_SIG, FINAL_SIG};
    struct s3_chunked_params pp;
    size_t len;
    char *body;

    params_signed(&pp, S3_CHUNKED_SIGNED, SEED_SIG, 66560);
    /* second chunk */
    sigs[1][10] = sigs[1][10] == '0' ? '1' : '0';
    body = build_signed(sizes, 2, sigs, "\r\n", &len);
    run(&pp, body, len, 0, BB_EBADSIG, BB_EBADSIG);
    free(body);
    /* final zero-length chunk */
    memcpy(sigs[1], CHUNK2_SIG, 65);
    sigs[2][63] = sigs[2][63] == '0' ? '1' : '0';
    body = build_signed(sizes, 2, sigs, "\r\n", &len);
    run(&pp, body, len, 1, BB_EBADSIG, BB_EBADSIG);
    free(body);
    /* wrong seed */
    memcpy(sigs[2], FINAL_SIG, 65);
    body = build_signed(sizes, 2, sigs, "\r\n", &len);
    params_signed(&pp, S3_CHUNKED_SIGNED, TRAILER_SEED, 66560);
    run(&pp, body, len, 0, BB_EBADSIG, BB_EBADSIG);
    free(body);
}

static void test_s3_chunked_verify_off_parses_only(void **state)
{
    const size_t sizes[] = {0x10000, 0x400};
    char sigs[3][65] = {CHUNK1_SIG, CHUNK2_SIG, FINAL_SIG};
    struct s3_chunked_params pp;
    size_t len;
    char *body;

    /* auth off: no key, no seed; tampered data and signatures pass */
    memset(&pp, 0, sizeof(pp));
    pp.mode = S3_CHUNKED_SIGNED;
    pp.decoded_length = 66560;
    sigs[1][10] = sigs[1][10] == '0' ? '1' : '0';
    body = build_signed(sizes, 2, sigs, "\r\n", &len);
    body[88 + 5] = 'b';
    run(&pp, body, len, 0, BB_OK, BB_OK);
    run(&pp, body, len, 1, BB_OK, BB_OK);
    free(body);

    /* ...but the framing rules still hold */
    body = build_signed(sizes, 2, sigs, "x\r\n", &len);
    run(&pp, body, len, 0, BB_EINVAL, BB_EINVAL);
    free(body);
    {
        const char *bad = "400;chunk-signature=abc\r\n";

        run(&pp, bad, strlen(bad), 0, BB_EINVAL, BB_EINVAL);
    }

    /* signed trailer: the trailer signature line is required but not checked */
    pp.mode = S3_CHUNKED_SIGNED_TRAILER;
    pp.trailer_names = "x-amz-checksum-crc32c";
    body = build_signed(sizes, 2, sigs,
                        TRAILER_LINE "\r\nx-amz-trailer-signature:" SEED_SIG "\r\n\r\n", &len);
    run(&pp, body, len, 1, BB_OK, BB_OK);
    free(body);
    body = build_signed(sizes, 2, sigs, TRAILER_LINE "\r\n\r\n", &len);
    run(&pp, body, len, 0, BB_EINVAL, BB_EINVAL);
    free(body);
}

static void test_s3_chunked_signed_header_needs_signature(void **state)
{
    struct s3_chunked_params pp;
    const char *missing = "400\r\n";
    const char *short_sig = "400;chunk-signature=abc\r\n";
    const char *other_ext = "400;chunk-signatur=" CHUNK1_SIG "\r\n";

    params_signed(&pp, S3_CHUNKED_SIGNED, SEED_SIG, UINT64_MAX);
    run(&pp, missing, strlen(missing), 0, BB_EINVAL, BB_EINVAL);
    run(&pp, short_sig, strlen(short_sig), 0, BB_EINVAL, BB_EINVAL);
    run(&pp, other_ext, strlen(other_ext), 0, BB_EINVAL, BB_EINVAL);
}

static void test_s3_chunked_bad_hex_size(void **state)
{
    struct s3_chunked_params pp;
    const char *bodies[] = {
        "zz\r\nhello\r\n0\r\n\r\n",
        "5x\r\nhello\r\n0\r\n\r\n",
        "\r\nhello\r\n0\r\n\r\n",
        " 5\r\nhello\r\n0\r\n\r\n",
        "-5\r\nhello\r\n0\r\n\r\n",
        /* 17 hex digits overflow 64 bits */
        "10000000000000000\r\n",
    };

    params_unsigned(&pp, NULL, UINT64_MAX);
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        run(&pp, bodies[i], strlen(bodies[i]), 0, BB_EINVAL, BB_EINVAL);
        run(&pp, bodies[i], strlen(bodies[i]), 1, BB_EINVAL, BB_EINVAL);
    }
}

static void test_s3_chunked_huge_size_without_decoded_length(void **state)
{
    struct s3_chunked_params pp;
    const char *body = "ffffffffffffffff\r\nab";

    /* 16 hex digits fit; the data simply has not all arrived. */
    params_unsigned(&pp, NULL, UINT64_MAX);
    run(&pp, body, strlen(body), 0, BB_OK, BB_EINCOMPLETE);
}

static void test_s3_chunked_missing_crlf(void **state)
{
    struct s3_chunked_params pp;
    const char *bodies[] = {
        "5\r\nhelloX\r\n0\r\n\r\n", "5\r\nhello\n0\r\n\r\n", "5\r\nhello\r\r\n0\r\n\r\n",
        "5\nhello\r\n0\r\n\r\n",    "5\r\nhello\r\n0\r\n\n", "5\r\r\nhello\r\n0\r\n\r\n",
    };

    params_unsigned(&pp, NULL, UINT64_MAX);
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        run(&pp, bodies[i], strlen(bodies[i]), 0, BB_EINVAL, BB_EINVAL);
        run(&pp, bodies[i], strlen(bodies[i]), 1, BB_EINVAL, BB_EINVAL);
    }
}

static void test_s3_chunked_signed_missing_final_crlf(void **state)
{
    const size_t sizes[] = {0x10000, 0x400};
    char sigs[3][65] = {CHUNK1_SIG, CHUNK2_SIG, FINAL_SIG};
    struct s3_chunked_params pp;
    size_t len;
    char *body = build_signed(sizes, 2, sigs, "x\r\n", &len);

    params_signed(&pp, S3_CHUNKED_SIGNED, SEED_SIG, 66560);
    run(&pp, body, len, 0, BB_EINVAL, BB_EINVAL);
    /* Without the final CRLF at all the body is incomplete. */
    run(&pp, body, len - 3, 0, BB_OK, BB_EINCOMPLETE);
    free(body);
}

static void test_s3_chunked_truncated_body_is_incomplete(void **state)
{
    const size_t sizes[] = {0x10000, 0x400};
    char sigs[3][65] = {CHUNK1_SIG, CHUNK2_SIG, FINAL_SIG};
    struct s3_chunked_params pp;
    size_t len;
    char *body = build_signed(sizes, 2, sigs, "\r\n", &len);
    const size_t cuts[] = {0, 1, 50, 88, 1000, 65626, 65627, 66738, len - 1};

    params_signed(&pp, S3_CHUNKED_SIGNED, SEED_SIG, 66560);
    for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++)
        run(&pp, body, cuts[i], 0, BB_OK, BB_EINCOMPLETE);
    free(body);
    params_unsigned(&pp, "x-amz-checksum-crc32", 5);
    /* stops inside the trailer block */
    run(&pp, UNSIGNED_BODY, strlen(UNSIGNED_BODY) - 2, 1, BB_OK, BB_EINCOMPLETE);
    run(&pp, UNSIGNED_BODY, 13, 1, BB_OK, BB_EINCOMPLETE);
}

static void test_s3_chunked_decoded_length_mismatch(void **state)
{
    struct s3_chunked_params pp;
    const char *body = "5\r\nhello\r\n0\r\n\r\n";
    struct s3_chunked *c;
    const char *why = NULL;

    /* fewer bytes than announced */
    params_unsigned(&pp, NULL, 6);
    run(&pp, body, strlen(body), 0, BB_OK, BB_EINCOMPLETE);
    /* more bytes than announced: refused at the chunk header, before any data */
    params_unsigned(&pp, NULL, 4);
    c = s3_chunked_new(&pp);
    assert_int_equal(s3_chunked_feed(c, body, strlen(body), NULL, NULL, &why), BB_ETOOBIG);
    assert_non_null(why);
    assert_int_equal(s3_chunked_decoded(c), 0);
    /* sticky */
    assert_int_equal(s3_chunked_feed(c, "0\r\n\r\n", 5, NULL, NULL, NULL), BB_ETOOBIG);
    assert_int_equal(s3_chunked_finish(c, NULL), BB_ETOOBIG);
    s3_chunked_free(c);
}

static void test_s3_chunked_unannounced_trailer(void **state)
{
    struct s3_chunked_params pp;

    params_unsigned(&pp, NULL, 5);
    run(&pp, UNSIGNED_BODY, strlen(UNSIGNED_BODY), 0, BB_EINVAL, BB_EINVAL);
    params_unsigned(&pp, "x-amz-checksum-crc32c", 5);
    run(&pp, UNSIGNED_BODY, strlen(UNSIGNED_BODY), 1, BB_EINVAL, BB_EINVAL);
    /* the trailer-signature line is not a trailer in unsigned mode */
    params_unsigned(&pp, "x-amz-checksum-crc32", 5);
    {
        const char *b = "0\r\nx-amz-trailer-signature:" TRAILER_SIG "\r\n\r\n";

        params_unsigned(&pp, "x-amz-checksum-crc32", 0);
        run(&pp, b, strlen(b), 0, BB_EINVAL, BB_EINVAL);
    }
}

static void test_s3_chunked_bad_trailer_lines(void **state)
{
    struct s3_chunked_params pp;
    const char *bodies[] = {
        "0\r\nno-colon\r\n\r\n",
        "0\r\n:value\r\n\r\n",
        "0\r\nx-amz-checksum-crc32 :v\r\n\r\n",
        "0\r\nx-amz-checksum-crc32:a\r\nx-amz-checksum-crc32:b\r\n\r\n",
    };

    params_unsigned(&pp, "x-amz-checksum-crc32", 0);
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++)
        run(&pp, bodies[i], strlen(bodies[i]), 1, BB_EINVAL, BB_EINVAL);
}

static void test_s3_chunked_trailer_value_trimmed(void **state)
{
    struct s3_chunked_params pp;
    const char *body = "0\r\nX-Amz-Checksum-Crc32: NhCmhg== \r\n\r\n";
    struct s3_chunked *c;

    params_unsigned(&pp, "x-amz-checksum-crc32", 0);
    c = s3_chunked_new(&pp);
    assert_int_equal(s3_chunked_feed(c, body, strlen(body), NULL, NULL, NULL), BB_OK);
    assert_int_equal(s3_chunked_finish(c, NULL), BB_OK);
    assert_string_equal(s3_chunked_trailer(c, "x-amz-checksum-crc32"), "NhCmhg==");
    s3_chunked_free(c);
}

static void test_s3_chunked_small_non_final_signed_chunk(void **state)
{
    const size_t small[] = {100, 100};
    const size_t ok_last_small[] = {8192, 100};
    const size_t ok_single_small[] = {100};
    char sigs[3][65];
    struct s3_chunked_params pp;
    size_t len;
    char *body;

    params_signed(&pp, S3_CHUNKED_SIGNED, SEED_SIG, UINT64_MAX);
    sign_chain(SEED_SIG, small, 2, sigs);
    body = build_signed(small, 2, sigs, "\r\n", &len);
    run(&pp, body, len, 0, BB_EINVAL, BB_EINVAL);
    run(&pp, body, len, 1, BB_EINVAL, BB_EINVAL);
    free(body);

    sign_chain(SEED_SIG, ok_last_small, 2, sigs);
    body = build_signed(ok_last_small, 2, sigs, "\r\n", &len);
    run(&pp, body, len, 3, BB_OK, BB_OK);
    free(body);

    sign_chain(SEED_SIG, ok_single_small, 1, sigs);
    body = build_signed(ok_single_small, 1, sigs, "\r\n", &len);
    run(&pp, body, len, 0, BB_OK, BB_OK);
    free(body);

    /* An empty signed body is just the signed zero chunk. */
    sign_chain(SEED_SIG, NULL, 0, sigs);
    body = build_signed(NULL, 0, sigs, "\r\n", &len);
    pp.decoded_length = 0;
    run(&pp, body, len, 1, BB_OK, BB_OK);
    free(body);
}

static void test_s3_chunked_overlong_header_line(void **state)
{
    struct s3_chunked_params pp;
    struct bb_buf b;

    bb_buf_init(&b, 1 << 16);
    assert_int_equal(bb_buf_appends(&b, "5;"), BB_OK);
    for (size_t i = 0; i < S3_CHUNKED_MAX_LINE; i++)
        assert_int_equal(bb_buf_append(&b, "x", 1), BB_OK);
    assert_int_equal(bb_buf_appends(&b, "\r\nhello\r\n0\r\n\r\n"), BB_OK);
    params_unsigned(&pp, NULL, UINT64_MAX);
    run(&pp, b.data, b.len, 0, BB_EINVAL, BB_EINVAL);
    run(&pp, b.data, b.len, 1, BB_EINVAL, BB_EINVAL);
    /* An endless line without LF is cut off at the cap too. */
    run(&pp, b.data, S3_CHUNKED_MAX_LINE + 10, 1, BB_EINVAL, BB_EINVAL);

    /* Exactly at the cap is fine. */
    bb_buf_reset(&b);
    assert_int_equal(bb_buf_appends(&b, "5;"), BB_OK);
    for (size_t i = 0; i < S3_CHUNKED_MAX_LINE - 2; i++)
        assert_int_equal(bb_buf_append(&b, "x", 1), BB_OK);
    assert_int_equal(bb_buf_appends(&b, "\r\nhello\r\n0\r\n\r\n"), BB_OK);
    run(&pp, b.data, b.len, 1, BB_OK, BB_OK);
    bb_buf_cleanup(&b);
}

static void test_s3_chunked_bytes_after_end(void **state)
{
    struct s3_chunked_params pp;
    const char *body = "5\r\nhello\r\n0\r\n\r\nX";

    params_unsigned(&pp, NULL, 5);
    run(&pp, body, strlen(body), 0, BB_EINVAL, BB_EINVAL);
}

static void test_s3_chunked_callback_abort(void **state)
{
    struct s3_chunked_params pp;
    struct s3_chunked *c;
    struct sink s = {.fail_with = -42};
    const char *why = NULL;

    bb_buf_init(&s.out, 64);
    params_unsigned(&pp, NULL, 5);
    c = s3_chunked_new(&pp);
    assert_int_equal(s3_chunked_feed(c, UNSIGNED_BODY, 10, sink_cb, &s, &why), -42);
    assert_non_null(why);
    assert_int_equal(s3_chunked_feed(c, "\r\n", 2, sink_cb, &s, NULL), -42);
    s3_chunked_free(c);
    bb_buf_cleanup(&s.out);
}

static void test_s3_chunked_bad_params(void **state)
{
    struct s3_chunked_params pp;
    struct s3_chunked *c;

    params_signed(&pp, S3_CHUNKED_SIGNED, "not-a-signature", UINT64_MAX);
    c = s3_chunked_new(&pp);
    assert_int_equal(s3_chunked_feed(c, "0", 1, NULL, NULL, NULL), BB_EINVAL);
    assert_int_equal(s3_chunked_finish(c, NULL), BB_EINVAL);
    s3_chunked_free(c);

    params_unsigned(&pp, "a,b,c,d,e,f,g,h,i", UINT64_MAX);
    c = s3_chunked_new(&pp);
    assert_int_equal(s3_chunked_feed(c, "0", 1, NULL, NULL, NULL), BB_EINVAL);
    s3_chunked_free(c);
    s3_chunked_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_s3_chunked_aws_signed_vector),
        cmocka_unit_test(test_s3_chunked_aws_signed_vector_without_decoded_length),
        cmocka_unit_test(test_s3_chunked_aws_signed_trailer_vector),
        cmocka_unit_test(test_s3_chunked_unsigned_trailer_example),
        cmocka_unit_test(test_s3_chunked_unsigned_announce_is_case_insensitive),
        cmocka_unit_test(test_s3_chunked_unsigned_ignores_extensions),
        cmocka_unit_test(test_s3_chunked_unsigned_empty_body),
        cmocka_unit_test(test_s3_chunked_tampered_data_is_badsig),
        cmocka_unit_test(test_s3_chunked_tampered_signature_is_badsig),
        cmocka_unit_test(test_s3_chunked_verify_off_parses_only),
        cmocka_unit_test(test_s3_chunked_signed_header_needs_signature),
        cmocka_unit_test(test_s3_chunked_bad_hex_size),
        cmocka_unit_test(test_s3_chunked_huge_size_without_decoded_length),
        cmocka_unit_test(test_s3_chunked_missing_crlf),
        cmocka_unit_test(test_s3_chunked_signed_missing_final_crlf),
        cmocka_unit_test(test_s3_chunked_truncated_body_is_incomplete),
        cmocka_unit_test(test_s3_chunked_decoded_length_mismatch),
        cmocka_unit_test(test_s3_chunked_unannounced_trailer),
        cmocka_unit_test(test_s3_chunked_bad_trailer_lines),
        cmocka_unit_test(test_s3_chunked_trailer_value_trimmed),
        cmocka_unit_test(test_s3_chunked_small_non_final_signed_chunk),
        cmocka_unit_test(test_s3_chunked_overlong_header_line),
        cmocka_unit_test(test_s3_chunked_bytes_after_end),
        cmocka_unit_test(test_s3_chunked_callback_abort),
        cmocka_unit_test(test_s3_chunked_bad_params),
    };

    return cmocka_run_group_tests_name("emulator/s3/s3_chunked", tests, NULL, NULL);
}
