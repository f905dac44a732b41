/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for emulator/s3/s3_chunked.c, the aws-chunked decoder
 * in all three modes. Input:
 *   byte 0   mode (% 3); bit 2 verify signatures (with AWS's example key,
 *            date, scope and seed signature), bit 3 decoded_length given
 *   bytes 1-2  decoded_length (big endian), when given
 *   byte 3   seed of the split sizes
 *   a line   x-amz-trailer value ("" means absent)
 *   the rest the encoded body
 * The body is decoded whole and in random pieces; the two runs must agree
 * on every feed result, the finish result, the decoded bytes and the
 * trailers (abort if not).
 */
#include "s3_chunked.h"
#include "s3_sigv4.h"
#include "bb_buf.h"
#include "fuzz_util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define SEED_SIG "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"

static int sink_cb(void *arg, const char *p, size_t n)
{
    return bb_buf_append(arg, p, n) < 0 ? -1000 : 0;
}

struct run {
    struct bb_buf out;
    int feed_rc;
    int finish_rc;
    uint64_t decoded;
    const char *trailer; /* copy of x-amz-checksum-crc32's value, or NULL */
    struct s3_chunked *c;
};

static void decode(const struct s3_chunked_params *pp, const char *body, size_t n, uint32_t seed,
                   struct run *r)
{
    size_t off = 0;
    const char *why = NULL;

    bb_buf_init(&r->out, 1 << 20);
    r->c = s3_chunked_new(pp);
    r->feed_rc = 0;
    while (off < n && r->feed_rc == 0) {
        size_t k = seed == 0 ? n - off : fuzz_piece(&seed, n - off);
        r->feed_rc = s3_chunked_feed(r->c, body + off, k, sink_cb, &r->out, &why);
        off += k;
    }
    r->finish_rc = s3_chunked_finish(r->c, &why);
    r->decoded = s3_chunked_decoded(r->c);
    r->trailer = s3_chunked_trailer(r->c, "x-amz-checksum-crc32");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {(const char *)data, size};
    struct s3_chunked_params pp;
    unsigned flags = fuzz_byte(&in);
    unsigned hi = fuzz_byte(&in);
    unsigned lo = fuzz_byte(&in);
    uint32_t seed = 0x51ed00u | fuzz_byte(&in);
    char names[256];
    size_t nl;
    const char *t = fuzz_line(&in, &nl);
    struct run a, b;

    memset(&pp, 0, sizeof(pp));
    pp.mode = (enum s3_chunked_mode)(flags % 3);
    pp.verify = (flags & 4) != 0;
    s3_sigv4_signing_key(SECRET, "20130524", "us-east-1", "s3", pp.signing_key);
    pp.amz_date = "20130524T000000Z";
    pp.scope = "20130524/us-east-1/s3/aws4_request";
    pp.seed_signature = SEED_SIG;
    pp.decoded_length = (flags & 8) ? (uint64_t)(hi << 8 | lo) : UINT64_MAX;
    if (nl > 0 && nl < sizeof(names) && memchr(t, '\0', nl) == NULL) {
        memcpy(names, t, nl);
        names[nl] = '\0';
        pp.trailer_names = names;
    }

    decode(&pp, in.p, in.n, 0, &a);
    decode(&pp, in.p, in.n, seed, &b);
    if (a.feed_rc != b.feed_rc || a.finish_rc != b.finish_rc)
        abort();
    if (a.feed_rc == 0 &&
        (a.decoded != b.decoded || a.out.len != b.out.len || a.decoded != a.out.len ||
         (a.out.len > 0 && memcmp(a.out.data, b.out.data, a.out.len) != 0)))
        abort();
    if (a.feed_rc == 0 && ((a.trailer == NULL) != (b.trailer == NULL) ||
                           (a.trailer != NULL && strcmp(a.trailer, b.trailer) != 0)))
        abort();
    if (a.finish_rc == 0 && pp.decoded_length != UINT64_MAX && a.decoded != pp.decoded_length)
        abort();
    s3_chunked_free(a.c);
    s3_chunked_free(b.c);
    bb_buf_cleanup(&a.out);
    bb_buf_cleanup(&b.out);
    return 0;
}
