/* SPDX-License-Identifier: MIT */
/*
 * s3_chunked: the aws-chunked body decoder. A byte-driven state machine that
 * never buffers payload: only one header or trailer line (capped at
 * S3_CHUNKED_MAX_LINE) is held at a time, so input may be split anywhere.
 * Signed modes hash each chunk as it streams and check the chained chunk
 * signature once the chunk's CRLF has arrived, so framing errors win over
 * signature errors. It does not check trailer checksums against the
 * payload: that belongs to whoever computed the checksum.
 */
#include "s3_chunked.h"
#include "s3_sigv4.h"

#include "bb_buf.h"
#include "bb_err.h"
#include "bb_hash.h"
#include "bb_mem.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SIG_EXT ";chunk-signature="
#define TRAILER_SIG "x-amz-trailer-signature"
#define SIG_HEX_LEN 64

enum state {
    ST_SIZE,    /* reading "<hex>[;ext]\r\n" */
    ST_DATA,    /* reading chunk payload */
    ST_DATA_CR, /* the CR after the payload */
    ST_DATA_LF, /* the LF after the payload */
    ST_TRAILER, /* trailer lines up to the empty line */
    ST_END,     /* SIGNED mode: the empty line after the zero chunk */
    ST_DONE,
    ST_ERROR,
};

struct trailer {
    char *name;  /* lowercase */
    char *value; /* trimmed */
};

struct s3_chunked {
    enum s3_chunked_mode mode;
    bool verify; /* signed modes: check signatures, not just their syntax */
    enum state st;
    int err;             /* sticky, valid in ST_ERROR */
    const char *err_why; /* sticky, valid in ST_ERROR */
    unsigned char key[32];
    char amz_date[17];
    char scope[256];
    char prev_sig[SIG_HEX_LEN + 1];
    char chunk_sig[SIG_HEX_LEN + 1]; /* announced signature of the current chunk */
    uint64_t decoded_length;
    uint64_t decoded;
    uint64_t remaining;   /* payload bytes left in the current chunk */
    uint64_t prev_size;   /* size of the previous non-zero chunk, 0 before the first */
    struct bb_hash *hash; /* signed modes with verify */
    size_t line_len;
    char line[S3_CHUNKED_MAX_LINE + 2]; /* content, then CR, then NUL */
    size_t nannounced;
    char *announced[S3_CHUNKED_MAX_TRAILERS]; /* lowercase */
    size_t ntrailers;
    struct trailer trailers[S3_CHUNKED_MAX_TRAILERS];
    struct bb_buf canon; /* "name:value\n" per trailer, signed-trailer mode */
    bool trailer_sig_seen;
};

static bool is_signed(const struct s3_chunked *c)
{
    return c->mode == S3_CHUNKED_SIGNED || c->mode == S3_CHUNKED_SIGNED_TRAILER;
}

static int hexval(unsigned char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

static bool is_ws(char ch)
{
    return ch == ' ' || ch == '\t';
}

/* Copies 64 hex digits, lowercased, into @dst (65 bytes); false if @s is not that. */
static bool take_sig(char *dst, const char *s, size_t n)
{
    if (n != SIG_HEX_LEN)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (hexval((unsigned char)s[i]) < 0)
            return false;
        dst[i] = (s[i] >= 'A' && s[i] <= 'F') ? (char)(s[i] - 'A' + 'a') : s[i];
    }
    dst[n] = '\0';
    return true;
}

static char *lowercase_dup(const char *s, size_t n)
{
    char *d = bb_xstrndup(s, n);

    for (size_t i = 0; i < n; i++) {
        if (d[i] >= 'A' && d[i] <= 'Z')
            d[i] = (char)(d[i] - 'A' + 'a');
    }
    return d;
}

static void fail(struct s3_chunked *c, int rc, const char *why)
{
    c->st = ST_ERROR;
    c->err = rc;
    c->err_why = why;
}

static bool copy_param(char *dst, size_t cap, const char *s)
{
    size_t n;

    if (s == NULL)
        return false;
    n = strlen(s);
    if (n >= cap)
        return false;
    memcpy(dst, s, n + 1);
    return true;
}

/* Splits x-amz-trailer ("a, b,c") into c->announced; false when it is unusable. */
static bool parse_announced(struct s3_chunked *c, const char *names)
{
    const char *p = names;

    if (strlen(names) > S3_CHUNKED_MAX_LINE)
        return false;
    for (;;) {
        const char *comma = strchr(p, ',');
        const char *stop = comma != NULL ? comma : p + strlen(p);
        const char *s = p;

        while (s < stop && is_ws(*s))
            s++;
        while (stop > s && is_ws(stop[-1]))
            stop--;
        if (stop > s) {
            if (c->nannounced == S3_CHUNKED_MAX_TRAILERS)
                return false;
            c->announced[c->nannounced++] = lowercase_dup(s, (size_t)(stop - s));
        }
        if (comma == NULL)
            return true;
        p = comma + 1;
    }
}

struct s3_chunked *s3_chunked_new(const struct s3_chunked_params *params)
{
    struct s3_chunked *c = bb_xcalloc(1, sizeof(*c));

    c->mode = params->mode;
    c->st = ST_SIZE;
    c->decoded_length = params->decoded_length;
    bb_buf_init(&c->canon, S3_CHUNKED_MAX_TRAILERS * (S3_CHUNKED_MAX_LINE + 1));
    c->verify = params->verify != 0;
    /* With auth off there is no key, date or seed worth keeping. */
    if (is_signed(c) && c->verify) {
        memcpy(c->key, params->signing_key, sizeof(c->key));
        c->hash = bb_hash_new(BB_HASH_SHA256);
        if (!copy_param(c->amz_date, sizeof(c->amz_date), params->amz_date) ||
            !copy_param(c->scope, sizeof(c->scope), params->scope) ||
            params->seed_signature == NULL ||
            !take_sig(c->prev_sig, params->seed_signature, strlen(params->seed_signature))) {
            fail(c, BB_EINVAL, "bad signing parameters for aws-chunked");
            return c;
        }
    }
    /* x-amz-trailer means nothing to the plain signed form, which has no trailers. */
    if (c->mode != S3_CHUNKED_SIGNED && params->trailer_names != NULL &&
        !parse_announced(c, params->trailer_names))
        fail(c, BB_EINVAL, "x-amz-trailer names too many trailers");
    return c;
}

void s3_chunked_free(struct s3_chunked *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->nannounced; i++)
        free(c->announced[i]);
    for (size_t i = 0; i < c->ntrailers; i++) {
        free(c->trailers[i].name);
        free(c->trailers[i].value);
    }
    bb_buf_cleanup(&c->canon);
    bb_hash_free(c->hash);
    explicit_bzero(c->key, sizeof(c->key));
    free(c);
}

/*
 * Accumulates one CRLF-terminated line. Returns 1 with c->line holding the
 * content (NUL-terminated, CRLF removed), 0 when more input is needed, or
 * BB_EINVAL. *used is the number of bytes consumed.
 */
static int line_take(struct s3_chunked *c, const char *p, size_t n, size_t *used, const char **why)
{
    const char *nl = memchr(p, '\n', n);
    size_t take = nl != NULL ? (size_t)(nl - p) : n;

    /* Room for the content plus its CR. */
    if (take > S3_CHUNKED_MAX_LINE + 1 - c->line_len) {
        *why = "aws-chunked line too long";
        return BB_EINVAL;
    }
    memcpy(c->line + c->line_len, p, take);
    c->line_len += take;
    if (nl == NULL) {
        *used = n;
        return 0;
    }
    *used = take + 1;
    if (c->line_len == 0 || c->line[c->line_len - 1] != '\r') {
        *why = "aws-chunked line not terminated by CRLF";
        return BB_EINVAL;
    }
    c->line_len--;
    c->line[c->line_len] = '\0';
    if (memchr(c->line, '\r', c->line_len) != NULL || memchr(c->line, '\0', c->line_len) != NULL) {
        *why = "aws-chunked line holds a control byte";
        return BB_EINVAL;
    }
    return 1;
}

/* Checks the current chunk's signature against the chain and advances it. */
static int verify_chunk(struct s3_chunked *c, const char **why)
{
    unsigned char digest[BB_SHA256_LEN];
    char hex[65];
    char want[65];

    if (!c->verify)
        return BB_OK;
    bb_hash_final(c->hash, digest);
    bb_hash_reset(c->hash);
    bb_hex(digest, sizeof(digest), hex);
    s3_sigv4_chunk_signature(c->key, c->amz_date, c->scope, c->prev_sig, hex, want);
    if (!bb_ct_equal(want, c->chunk_sig, SIG_HEX_LEN)) {
        *why = "chunk signature does not match";
        return BB_EBADSIG;
    }
    memcpy(c->prev_sig, c->chunk_sig, sizeof(c->prev_sig));
    return BB_OK;
}

static int on_size_line(struct s3_chunked *c, const char **why)
{
    const char *s = c->line;
    size_t n = c->line_len;
    size_t i = 0;
    uint64_t size = 0;

    for (; i < n; i++) {
        int v = hexval((unsigned char)s[i]);

        if (v < 0)
            break;
        if (size > (UINT64_MAX >> 4)) {
            *why = "chunk size overflows";
            return BB_EINVAL;
        }
        size = size << 4 | (uint64_t)v;
    }
    if (i == 0) {
        *why = "chunk size is not hex";
        return BB_EINVAL;
    }
    if (is_signed(c)) {
        const size_t elen = strlen(SIG_EXT);

        if (n - i < elen || memcmp(s + i, SIG_EXT, elen) != 0 ||
            !take_sig(c->chunk_sig, s + i + elen, n - i - elen)) {
            *why = "chunk header needs ;chunk-signature=<64 hex>";
            return BB_EINVAL;
        }
    } else if (i < n && s[i] != ';') {
        /* Extensions are ignored, but only after a ';'. */
        *why = "chunk size is not hex";
        return BB_EINVAL;
    }
    if (size == 0) {
        c->st = c->mode == S3_CHUNKED_SIGNED ? ST_END : ST_TRAILER;
        return is_signed(c) ? verify_chunk(c, why) : BB_OK;
    }
    if (is_signed(c) && c->prev_size != 0 && c->prev_size < S3_CHUNKED_MIN_CHUNK) {
        *why = "signed chunk under 8 KiB that is not the last";
        return BB_EINVAL;
    }
    if (size > UINT64_MAX - c->decoded ||
        (c->decoded_length != UINT64_MAX && c->decoded + size > c->decoded_length)) {
        *why = "chunks exceed x-amz-decoded-content-length";
        return BB_ETOOBIG;
    }
    c->prev_size = size;
    c->remaining = size;
    c->st = ST_DATA;
    return BB_OK;
}

static bool is_announced(const struct s3_chunked *c, const char *name, size_t n)
{
    for (size_t i = 0; i < c->nannounced; i++) {
        if (strlen(c->announced[i]) == n && strncasecmp(c->announced[i], name, n) == 0)
            return true;
    }
    return false;
}

static int on_trailer_sig(struct s3_chunked *c, const char *v, size_t vn, const char **why)
{
    char got[65];
    char want[65];

    if (!take_sig(got, v, vn)) {
        *why = "x-amz-trailer-signature needs 64 hex digits";
        return BB_EINVAL;
    }
    c->trailer_sig_seen = true;
    if (!c->verify)
        return BB_OK;
    s3_sigv4_trailer_signature(c->key, c->amz_date, c->scope, c->prev_sig,
                               c->canon.len ? c->canon.data : "", c->canon.len, want);
    if (!bb_ct_equal(want, got, SIG_HEX_LEN)) {
        *why = "trailer signature does not match";
        return BB_EBADSIG;
    }
    return BB_OK;
}

static int on_trailer_line(struct s3_chunked *c, const char **why)
{
    const char *s = c->line;
    const char *colon;
    const char *v;
    size_t nn;
    size_t vn;
    int rc;

    if (c->line_len == 0) {
        if (c->mode == S3_CHUNKED_SIGNED_TRAILER && !c->trailer_sig_seen) {
            *why = "x-amz-trailer-signature missing";
            return BB_EINVAL;
        }
        c->st = ST_DONE;
        return BB_OK;
    }
    if (c->trailer_sig_seen) {
        *why = "trailer after x-amz-trailer-signature";
        return BB_EINVAL;
    }
    colon = memchr(s, ':', c->line_len);
    if (colon == NULL || colon == s) {
        *why = "trailer line is not name:value";
        return BB_EINVAL;
    }
    nn = (size_t)(colon - s);
    for (size_t i = 0; i < nn; i++) {
        if (is_ws(s[i])) {
            *why = "trailer name holds whitespace";
            return BB_EINVAL;
        }
    }
    v = colon + 1;
    vn = c->line_len - nn - 1;
    while (vn > 0 && is_ws(*v)) {
        v++;
        vn--;
    }
    while (vn > 0 && is_ws(v[vn - 1]))
        vn--;
    if (c->mode == S3_CHUNKED_SIGNED_TRAILER && nn == strlen(TRAILER_SIG) &&
        strncasecmp(s, TRAILER_SIG, nn) == 0)
        return on_trailer_sig(c, v, vn, why);
    if (!is_announced(c, s, nn)) {
        *why = "trailer not announced in x-amz-trailer";
        return BB_EINVAL;
    }
    for (size_t i = 0; i < c->ntrailers; i++) {
        if (strlen(c->trailers[i].name) == nn && strncasecmp(c->trailers[i].name, s, nn) == 0) {
            *why = "trailer given twice";
            return BB_EINVAL;
        }
    }
    /* Announced names are capped at S3_CHUNKED_MAX_TRAILERS and repeats are
     * refused, so this cannot trigger; it keeps the array write obviously safe. */
    if (c->ntrailers == S3_CHUNKED_MAX_TRAILERS) {
        *why = "too many trailers";
        return BB_EINVAL;
    }
    if (c->mode == S3_CHUNKED_SIGNED_TRAILER) {
        /* The signer hashes the line as it sent it, with LF instead of CRLF. */
        rc = bb_buf_append(&c->canon, s, c->line_len);
        if (rc == BB_OK)
            rc = bb_buf_append(&c->canon, "\n", 1);
        if (rc < 0) {
            *why = "trailers too long";
            return BB_EINVAL;
        }
    }
    c->trailers[c->ntrailers].name = lowercase_dup(s, nn);
    c->trailers[c->ntrailers].value = bb_xstrndup(v, vn);
    c->ntrailers++;
    return BB_OK;
}

static int on_line(struct s3_chunked *c, const char **why)
{
    switch (c->st) {
    case ST_SIZE:
        return on_size_line(c, why);
    case ST_TRAILER:
        return on_trailer_line(c, why);
    case ST_END:
        if (c->line_len != 0) {
            *why = "expected CRLF after the final chunk";
            return BB_EINVAL;
        }
        c->st = ST_DONE;
        return BB_OK;
    default:
        *why = "internal state error";
        return BB_EINVAL;
    }
}

static int feed_data(struct s3_chunked *c, const char *p, size_t n, s3_chunked_data_cb *cb,
                     void *arg, const char **why)
{
    if (c->hash != NULL)
        bb_hash_update(c->hash, p, n);
    c->decoded += n;
    c->remaining -= n;
    if (c->remaining == 0)
        c->st = ST_DATA_CR;
    if (cb != NULL && n > 0) {
        int rc = cb(arg, p, n);

        if (rc < 0) {
            *why = "aborted by the data callback";
            return rc;
        }
    }
    return BB_OK;
}

int s3_chunked_feed(struct s3_chunked *c, const char *p, size_t n, s3_chunked_data_cb *cb,
                    void *arg, const char **why)
{
    const char *reason = NULL;
    size_t i = 0;
    int rc = BB_OK;

    if (c->st == ST_ERROR) {
        if (why != NULL)
            *why = c->err_why;
        return c->err;
    }
    while (i < n && rc == BB_OK) {
        size_t used = 0;

        switch (c->st) {
        case ST_SIZE:
        case ST_TRAILER:
        case ST_END:
            rc = line_take(c, p + i, n - i, &used, &reason);
            i += used;
            if (rc == 1) {
                rc = on_line(c, &reason);
                c->line_len = 0;
            }
            break;
        case ST_DATA:
            used = n - i;
            if (used > c->remaining)
                used = (size_t)c->remaining;
            rc = feed_data(c, p + i, used, cb, arg, &reason);
            i += used;
            break;
        case ST_DATA_CR:
        case ST_DATA_LF:
            if (p[i] != (c->st == ST_DATA_CR ? '\r' : '\n')) {
                reason = "missing CRLF after chunk data";
                rc = BB_EINVAL;
                break;
            }
            i++;
            if (c->st == ST_DATA_CR) {
                c->st = ST_DATA_LF;
                break;
            }
            c->st = ST_SIZE;
            if (is_signed(c))
                rc = verify_chunk(c, &reason);
            break;
        case ST_DONE:
            reason = "data after the end of the aws-chunked body";
            rc = BB_EINVAL;
            break;
        case ST_ERROR:
        default:
            reason = "internal state error";
            rc = BB_EINVAL;
            break;
        }
    }
    if (rc < 0) {
        fail(c, rc, reason);
        if (why != NULL)
            *why = reason;
        return rc;
    }
    return BB_OK;
}

int s3_chunked_finish(struct s3_chunked *c, const char **why)
{
    const char *reason = NULL;
    int rc = BB_OK;

    if (c->st == ST_ERROR) {
        reason = c->err_why;
        rc = c->err;
        goto out;
    }
    if (c->st != ST_DONE) {
        reason = "aws-chunked body ended early";
        rc = BB_EINCOMPLETE;
        goto out;
    }
    if (c->decoded_length != UINT64_MAX && c->decoded != c->decoded_length) {
        reason = "payload shorter than x-amz-decoded-content-length";
        rc = BB_EINCOMPLETE;
        goto out;
    }
    if (c->mode == S3_CHUNKED_SIGNED)
        goto out;
    for (size_t i = 0; i < c->nannounced; i++) {
        if (s3_chunked_trailer(c, c->announced[i]) == NULL) {
            reason = "trailer announced in x-amz-trailer never came";
            rc = BB_EINVAL;
            goto out;
        }
    }
out:
    if (rc < 0 && why != NULL)
        *why = reason;
    return rc;
}

const char *s3_chunked_trailer(const struct s3_chunked *c, const char *name)
{
    for (size_t i = 0; i < c->ntrailers; i++) {
        if (strcasecmp(c->trailers[i].name, name) == 0)
            return c->trailers[i].value;
    }
    return NULL;
}

uint64_t s3_chunked_decoded(const struct s3_chunked *c)
{
    return c->decoded;
}
