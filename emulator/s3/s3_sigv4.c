/* SPDX-License-Identifier: MIT */
/*
 * s3_sigv4: AWS Signature Version 4 as S3 applies it. Parses the two places
 * a signature arrives (Authorization header, presigned query), builds the
 * canonical request byte for byte, and does the HMAC chain. It decides
 * nothing about time skew, expiry or which secret belongs to an access key:
 * the caller owns policy, this file owns bytes. Paths and query parts are
 * decoded and encoded exactly once (S3 rules, unlike other AWS services).
 */
#include "s3_sigv4.h"

#include "bb_buf.h"
#include "bb_err.h"
#include "bb_hash.h"
#include "bb_mem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ALGORITHM "AWS4-HMAC-SHA256"
#define TERMINATOR "aws4_request"
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* Query parameters in one canonical query; a cap before the pair array is allocated. */
#define MAX_QUERY_PARAMS 1024
/* Longest decoded presigned parameter value we look at (SignedHeaders is the largest). */
#define MAX_PRESIGN_VALUE 1024
/* Longest decoded parameter name worth comparing against the X-Amz-* names. */
#define MAX_PRESIGN_NAME 32
#define MAX_PRESIGN_EXPIRES 604800L

enum presign_param {
    P_ALGORITHM,
    P_CREDENTIAL,
    P_DATE,
    P_EXPIRES,
    P_SIGNED_HEADERS,
    P_SIGNATURE,
    P_COUNT,
};

static const char *const presign_names[P_COUNT] = {
    "X-Amz-Algorithm", "X-Amz-Credential",    "X-Amz-Date",
    "X-Amz-Expires",   "X-Amz-SignedHeaders", "X-Amz-Signature",
};

struct qpair {
    size_t name_off;
    size_t name_len;
    size_t val_off;
    size_t val_len;
    const char *name;
    const char *val;
};

static void set_why(const char **why, const char *reason)
{
    if (why != NULL)
        *why = reason;
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '~';
}

/* Whitespace as SDKs see it when canonicalising header values. */
static bool is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* RFC 9110 tchar: what a header name may contain. */
static bool is_tchar(unsigned char c)
{
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
        return true;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static unsigned char lower(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return (unsigned char)(c - 'A' + 'a');
    return c;
}

static bool span_eq(const char *s, size_t n, const char *lit)
{
    return strlen(lit) == n && memcmp(s, lit, n) == 0;
}

int s3_sigv4_uri_encode(struct bb_buf *out, const char *s, size_t n, bool keep_slash)
{
    static const char digits[] = "0123456789ABCDEF";
    size_t run = 0; /* start of the pending run of bytes kept as they are */
    int rc;

    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[3];

        if (is_unreserved(c) || (c == '/' && keep_slash))
            continue;
        rc = bb_buf_append(out, s + run, i - run);
        if (rc < 0)
            return rc;
        esc[0] = '%';
        esc[1] = digits[c >> 4];
        esc[2] = digits[c & 0x0f];
        rc = bb_buf_append(out, esc, sizeof(esc));
        if (rc < 0)
            return rc;
        run = i + 1;
    }
    return bb_buf_append(out, s + run, n - run);
}

int s3_sigv4_uri_decode(struct bb_buf *out, const char *s, size_t n, bool plus_is_space)
{
    size_t run = 0;
    int rc;

    for (size_t i = 0; i < n; i++) {
        char c;

        if (s[i] == '%') {
            int hi;
            int lo;

            if (n - i < 3)
                return BB_EINVAL;
            hi = hexval((unsigned char)s[i + 1]);
            lo = hexval((unsigned char)s[i + 2]);
            if (hi < 0 || lo < 0)
                return BB_EINVAL;
            c = (char)(hi << 4 | lo);
        } else if (s[i] == '+' && plus_is_space) {
            c = ' ';
        } else {
            continue;
        }
        rc = bb_buf_append(out, s + run, i - run);
        if (rc < 0)
            return rc;
        rc = bb_buf_append(out, &c, 1);
        if (rc < 0)
            return rc;
        if (s[i] == '%')
            i += 2;
        run = i + 1;
    }
    return bb_buf_append(out, s + run, n - run);
}

/* Visible ASCII only: these fields end up in XML error bodies and logs. */
static bool is_visible(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
            return false;
    }
    return true;
}

static bool is_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
    }
    return true;
}

/* Copies @n bytes into a fixed field of @cap bytes (NUL included); false when too long. */
static bool copy_field(char *dst, size_t cap, const char *s, size_t n)
{
    if (n >= cap)
        return false;
    memcpy(dst, s, n);
    dst[n] = '\0';
    return true;
}

/* "AKID/yyyymmdd/region/service/aws4_request" into out's akid..scope fields. */
static int parse_credential(const char *s, size_t n, struct s3_sigv4_auth *out, const char **why)
{
    const char *part[5];
    size_t plen[5];
    const char *p = s;
    const char *end = s + n;
    size_t np = 0;
    size_t off = 0;

    for (;;) {
        const char *slash = memchr(p, '/', (size_t)(end - p));
        const char *stop = slash != NULL ? slash : end;

        if (np == 5) {
            np++; /* a sixth part: too many */
            break;
        }
        part[np] = p;
        plen[np] = (size_t)(stop - p);
        np++;
        if (slash == NULL)
            break;
        p = slash + 1;
    }
    if (np != 5) {
        set_why(why, "Credential must have the form AKID/date/region/service/aws4_request");
        return BB_EINVAL;
    }
    if (!span_eq(part[4], plen[4], TERMINATOR)) {
        set_why(why, "Credential scope must end in aws4_request");
        return BB_EINVAL;
    }
    if (plen[0] == 0 || !is_visible(part[0], plen[0]) ||
        !copy_field(out->akid, sizeof(out->akid), part[0], plen[0])) {
        set_why(why, "Credential has an invalid access key id");
        return BB_EINVAL;
    }
    if (plen[1] != 8 || !is_digits(part[1], plen[1])) {
        set_why(why, "Credential date must be yyyymmdd");
        return BB_EINVAL;
    }
    copy_field(out->date, sizeof(out->date), part[1], plen[1]);
    if (plen[2] == 0 || !is_visible(part[2], plen[2]) ||
        !copy_field(out->region, sizeof(out->region), part[2], plen[2])) {
        set_why(why, "Credential has an invalid region");
        return BB_EINVAL;
    }
    if (plen[3] == 0 || !is_visible(part[3], plen[3]) ||
        !copy_field(out->service, sizeof(out->service), part[3], plen[3])) {
        set_why(why, "Credential has an invalid service");
        return BB_EINVAL;
    }
    /* Fits: 8 + 63 + 31 + 12 + 3 slashes < sizeof(scope). */
    for (size_t i = 1; i < 5; i++) {
        memcpy(out->scope + off, part[i], plen[i]);
        off += plen[i];
        if (i < 4)
            out->scope[off++] = '/';
    }
    out->scope[off] = '\0';
    return BB_OK;
}

static int parse_signed_headers(const char *s, size_t n, struct s3_sigv4_auth *out,
                                const char **why)
{
    size_t count = 1;

    if (n == 0 || !copy_field(out->signed_headers, sizeof(out->signed_headers), s, n)) {
        set_why(why, "SignedHeaders is empty or too long");
        return BB_EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i] == ';') {
            if (i == 0 || i == n - 1 || s[i - 1] == ';') {
                set_why(why, "SignedHeaders has an empty header name");
                return BB_EINVAL;
            }
            count++;
        } else if (!is_tchar((unsigned char)s[i])) {
            set_why(why, "SignedHeaders has an invalid character");
            return BB_EINVAL;
        }
    }
    if (count > S3_SIGV4_MAX_SIGNED_HEADERS) {
        set_why(why, "SignedHeaders lists too many headers");
        return BB_EINVAL;
    }
    return BB_OK;
}

static int parse_signature(const char *s, size_t n, struct s3_sigv4_auth *out, const char **why)
{
    if (n != 64) {
        set_why(why, "Signature must be 64 hex digits");
        return BB_EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        if (hexval((unsigned char)s[i]) < 0) {
            set_why(why, "Signature must be 64 hex digits");
            return BB_EINVAL;
        }
        out->signature[i] = (char)lower((unsigned char)s[i]);
    }
    out->signature[n] = '\0';
    return BB_OK;
}

int s3_sigv4_parse_header(const char *value, size_t len, struct s3_sigv4_auth *out,
                          const char **why)
{
    const size_t alen = strlen(ALGORITHM);
    size_t b = 0;   /* start of what is left to parse */
    size_t e = len; /* end of the value, trailing whitespace cut */
    bool have_cred = false;
    bool have_sh = false;
    bool have_sig = false;
    int rc;

    memset(out, 0, sizeof(*out));
    while (b < e && is_space((unsigned char)value[b]))
        b++;
    while (e > b && is_space((unsigned char)value[e - 1]))
        e--;
    if (e - b <= alen || memcmp(value + b, ALGORITHM, alen) != 0 || value[b + alen] != ' ') {
        set_why(why, "Authorization must start with AWS4-HMAC-SHA256 and a space");
        return BB_EINVAL;
    }
    b += alen;
    for (;;) {
        size_t stop; /* the ',' ending this component, or e */
        size_t cend; /* component end without trailing spaces */
        size_t eq;
        const char *key;
        const char *val;
        size_t klen;
        size_t vlen;

        while (b < e && value[b] == ' ')
            b++;
        stop = b;
        while (stop < e && value[stop] != ',')
            stop++;
        cend = stop;
        while (cend > b && value[cend - 1] == ' ')
            cend--;
        eq = b;
        while (eq < cend && value[eq] != '=')
            eq++;
        if (eq == cend) {
            set_why(why, "Authorization component is not key=value");
            return BB_EINVAL;
        }
        key = value + b;
        klen = eq - b;
        val = value + eq + 1;
        vlen = cend - eq - 1;
        if (span_eq(key, klen, "Credential")) {
            if (have_cred) {
                set_why(why, "Credential given twice");
                return BB_EINVAL;
            }
            rc = parse_credential(val, vlen, out, why);
            have_cred = true;
        } else if (span_eq(key, klen, "SignedHeaders")) {
            if (have_sh) {
                set_why(why, "SignedHeaders given twice");
                return BB_EINVAL;
            }
            rc = parse_signed_headers(val, vlen, out, why);
            have_sh = true;
        } else if (span_eq(key, klen, "Signature")) {
            if (have_sig) {
                set_why(why, "Signature given twice");
                return BB_EINVAL;
            }
            rc = parse_signature(val, vlen, out, why);
            have_sig = true;
        } else {
            set_why(why, "Authorization has an unknown component");
            return BB_EINVAL;
        }
        if (rc < 0)
            return rc;
        if (stop == e)
            break;
        b = stop + 1;
    }
    if (!have_cred || !have_sh || !have_sig) {
        set_why(why, "Authorization needs Credential, SignedHeaders and Signature");
        return BB_EINVAL;
    }
    return BB_OK;
}

/* Decodes one query value into a fixed field; BB_EINVAL when malformed or too long. */
static int decode_field(const char *s, size_t n, char *dst, size_t cap, size_t *outlen)
{
    struct bb_buf b;
    int rc;

    bb_buf_init(&b, cap - 1);
    rc = s3_sigv4_uri_decode(&b, s, n, true);
    if (rc < 0) {
        rc = BB_EINVAL;
        goto out;
    }
    memcpy(dst, b.len ? b.data : "", b.len);
    dst[b.len] = '\0';
    *outlen = b.len;
out:
    bb_buf_cleanup(&b);
    return rc;
}

static bool valid_amz_date(const char *s, size_t n)
{
    return n == 16 && is_digits(s, 8) && s[8] == 'T' && is_digits(s + 9, 6) && s[15] == 'Z';
}

int s3_sigv4_parse_query(const char *raw_query, size_t len, struct s3_sigv4_auth *out,
                         const char **why)
{
    const char *raw[P_COUNT] = {NULL};
    size_t rawlen[P_COUNT] = {0};
    const char *p;
    const char *end;
    char name[MAX_PRESIGN_NAME + 1];
    char val[MAX_PRESIGN_VALUE + 1];
    size_t nlen;
    size_t vlen;
    int rc;

    memset(out, 0, sizeof(*out));
    if (raw_query == NULL)
        return BB_ENOTFOUND;
    p = raw_query;
    end = raw_query + len;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp != NULL ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(stop - p));
        const char *nend = eq != NULL ? eq : stop;

        /* Names that fail to decode or are long cannot be ours; the canonical
         * request will reject a malformed escape anyway. */
        if (decode_field(p, (size_t)(nend - p), name, sizeof(name), &nlen) == BB_OK) {
            for (size_t i = 0; i < P_COUNT; i++) {
                if (!span_eq(name, nlen, presign_names[i]))
                    continue;
                if (raw[i] != NULL) {
                    set_why(why, "presigned parameter given twice");
                    return BB_EINVAL;
                }
                raw[i] = eq != NULL ? eq + 1 : stop;
                rawlen[i] = (size_t)(stop - raw[i]);
            }
        }
        p = amp != NULL ? amp + 1 : end;
    }
    if (raw[P_ALGORITHM] == NULL)
        return BB_ENOTFOUND;
    for (size_t i = 0; i < P_COUNT; i++) {
        if (raw[i] == NULL) {
            set_why(why, "presigned URL lacks a required X-Amz-* parameter");
            return BB_EINVAL;
        }
    }
    if (decode_field(raw[P_ALGORITHM], rawlen[P_ALGORITHM], val, sizeof(val), &vlen) < 0 ||
        !span_eq(val, vlen, ALGORITHM)) {
        set_why(why, "X-Amz-Algorithm must be AWS4-HMAC-SHA256");
        return BB_EINVAL;
    }
    if (decode_field(raw[P_CREDENTIAL], rawlen[P_CREDENTIAL], val, sizeof(val), &vlen) < 0) {
        set_why(why, "X-Amz-Credential is malformed");
        return BB_EINVAL;
    }
    rc = parse_credential(val, vlen, out, why);
    if (rc < 0)
        return rc;
    if (decode_field(raw[P_DATE], rawlen[P_DATE], val, sizeof(val), &vlen) < 0 ||
        !valid_amz_date(val, vlen)) {
        set_why(why, "X-Amz-Date must be yyyymmddThhmmssZ");
        return BB_EINVAL;
    }
    copy_field(out->amz_date, sizeof(out->amz_date), val, vlen);
    if (memcmp(out->amz_date, out->date, 8) != 0) {
        set_why(why, "X-Amz-Date does not match the credential date");
        return BB_EINVAL;
    }
    if (decode_field(raw[P_EXPIRES], rawlen[P_EXPIRES], val, sizeof(val), &vlen) < 0 || vlen == 0 ||
        vlen > 10 || !is_digits(val, vlen)) {
        set_why(why, "X-Amz-Expires must be a number of seconds");
        return BB_EINVAL;
    }
    out->expires = strtol(val, NULL, 10);
    if (out->expires < 1 || out->expires > MAX_PRESIGN_EXPIRES) {
        set_why(why, "X-Amz-Expires must be between 1 and 604800");
        return BB_EINVAL;
    }
    if (decode_field(raw[P_SIGNED_HEADERS], rawlen[P_SIGNED_HEADERS], val, sizeof(val), &vlen) <
        0) {
        set_why(why, "X-Amz-SignedHeaders is malformed");
        return BB_EINVAL;
    }
    rc = parse_signed_headers(val, vlen, out, why);
    if (rc < 0)
        return rc;
    if (decode_field(raw[P_SIGNATURE], rawlen[P_SIGNATURE], val, sizeof(val), &vlen) < 0) {
        set_why(why, "X-Amz-Signature is malformed");
        return BB_EINVAL;
    }
    return parse_signature(val, vlen, out, why);
}

static int qpair_cmp(const void *a, const void *b)
{
    const struct qpair *x = a;
    const struct qpair *y = b;
    size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
    int c = n ? memcmp(x->name, y->name, n) : 0;

    if (c != 0)
        return c;
    if (x->name_len != y->name_len)
        return x->name_len < y->name_len ? -1 : 1;
    n = x->val_len < y->val_len ? x->val_len : y->val_len;
    c = n ? memcmp(x->val, y->val, n) : 0;
    if (c != 0)
        return c;
    if (x->val_len != y->val_len)
        return x->val_len < y->val_len ? -1 : 1;
    return 0;
}

/* Decodes then re-encodes @s into @enc; @tmp is scratch. */
static int requote(struct bb_buf *enc, struct bb_buf *tmp, const char *s, size_t n)
{
    int rc;

    bb_buf_reset(tmp);
    rc = s3_sigv4_uri_decode(tmp, s, n, true);
    if (rc < 0)
        return rc == BB_ETOOBIG ? rc : BB_EINVAL;
    return s3_sigv4_uri_encode(enc, tmp->len ? tmp->data : "", tmp->len, false);
}

static int canonical_query(struct bb_buf *out, const char *q, size_t n, bool presigned)
{
    struct qpair *pairs = NULL;
    struct bb_buf enc;
    struct bb_buf tmp;
    size_t count = 1;
    size_t np = 0;
    const char *p = q;
    const char *end = q + n;
    int rc = BB_OK;

    for (size_t i = 0; i < n; i++) {
        if (q[i] == '&')
            count++;
    }
    if (count > MAX_QUERY_PARAMS)
        return BB_ETOOBIG;
    pairs = bb_xcalloc(count, sizeof(*pairs));
    bb_buf_init(&enc, out->limit);
    bb_buf_init(&tmp, n);
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp != NULL ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(stop - p));
        const char *nend = eq != NULL ? eq : stop;
        const char *vstart = eq != NULL ? eq + 1 : stop;
        struct qpair *qp = &pairs[np];

        if (stop == p) {
            /* "a=1&&b=2" or a trailing '&': nothing to sign. */
            p = stop + 1;
            continue;
        }
        if (presigned) {
            bb_buf_reset(&tmp);
            rc = s3_sigv4_uri_decode(&tmp, p, (size_t)(nend - p), true);
            if (rc < 0) {
                rc = rc == BB_ETOOBIG ? rc : BB_EINVAL;
                goto out;
            }
            if (span_eq(tmp.len ? tmp.data : "", tmp.len, "X-Amz-Signature")) {
                p = amp != NULL ? amp + 1 : end;
                continue;
            }
        }
        qp->name_off = enc.len;
        rc = requote(&enc, &tmp, p, (size_t)(nend - p));
        if (rc < 0)
            goto out;
        qp->name_len = enc.len - qp->name_off;
        qp->val_off = enc.len;
        rc = requote(&enc, &tmp, vstart, (size_t)(stop - vstart));
        if (rc < 0)
            goto out;
        qp->val_len = enc.len - qp->val_off;
        np++;
        p = amp != NULL ? amp + 1 : end;
    }
    /* Pointers only now: appends above may have moved enc.data. */
    for (size_t i = 0; i < np; i++) {
        pairs[i].name = enc.data + pairs[i].name_off;
        pairs[i].val = enc.data + pairs[i].val_off;
    }
    qsort(pairs, np, sizeof(*pairs), qpair_cmp);
    for (size_t i = 0; i < np && rc == BB_OK; i++) {
        if (i > 0)
            rc = bb_buf_append(out, "&", 1);
        if (rc == BB_OK)
            rc = bb_buf_append(out, pairs[i].name, pairs[i].name_len);
        if (rc == BB_OK)
            rc = bb_buf_append(out, "=", 1);
        if (rc == BB_OK)
            rc = bb_buf_append(out, pairs[i].val, pairs[i].val_len);
    }
out:
    bb_buf_cleanup(&tmp);
    bb_buf_cleanup(&enc);
    free(pairs);
    return rc;
}

/* Appends a header value trimmed, with inner whitespace runs collapsed to one space. */
static int append_header_value(struct bb_buf *out, const char *v, size_t n)
{
    size_t i = 0;
    bool pending_space = false;
    int rc = BB_OK;

    while (n > 0 && is_space((unsigned char)v[n - 1]))
        n--;
    while (i < n && is_space((unsigned char)v[i]))
        i++;
    while (i < n && rc == BB_OK) {
        size_t start = i;

        if (is_space((unsigned char)v[i])) {
            pending_space = true;
            i++;
            continue;
        }
        while (i < n && !is_space((unsigned char)v[i]))
            i++;
        if (pending_space)
            rc = bb_buf_append(out, " ", 1);
        if (rc == BB_OK)
            rc = bb_buf_append(out, v + start, i - start);
        pending_space = false;
    }
    return rc;
}

static int canonical_headers(struct bb_buf *out, const struct s3_sigv4_header *hdrs, size_t nhdrs,
                             const char *signed_headers)
{
    const char *p = signed_headers;
    size_t count = 0;
    int rc;

    for (;;) {
        const char *semi = strchr(p, ';');
        size_t nlen = semi != NULL ? (size_t)(semi - p) : strlen(p);
        bool found = false;

        if (nlen == 0 || ++count > S3_SIGV4_MAX_SIGNED_HEADERS)
            return BB_EINVAL;
        for (size_t i = 0; i < nlen; i++) {
            char c = (char)lower((unsigned char)p[i]);

            rc = bb_buf_append(out, &c, 1);
            if (rc < 0)
                return rc;
        }
        rc = bb_buf_append(out, ":", 1);
        if (rc < 0)
            return rc;
        for (size_t i = 0; i < nhdrs; i++) {
            if (hdrs[i].name_len != nlen || strncasecmp(hdrs[i].name, p, nlen) != 0)
                continue;
            if (found) {
                rc = bb_buf_append(out, ",", 1);
                if (rc < 0)
                    return rc;
            }
            rc = append_header_value(out, hdrs[i].value, hdrs[i].value_len);
            if (rc < 0)
                return rc;
            found = true;
        }
        if (!found)
            return BB_EINVAL;
        rc = bb_buf_append(out, "\n", 1);
        if (rc < 0)
            return rc;
        if (semi == NULL)
            return BB_OK;
        p = semi + 1;
    }
}

int s3_sigv4_canonical_request(struct bb_buf *out, const char *method, const char *raw_path,
                               size_t path_len, const char *raw_query, size_t query_len,
                               const struct s3_sigv4_header *hdrs, size_t nhdrs,
                               const char *signed_headers, const char *payload_hash, bool presigned)
{
    struct bb_buf path;
    int rc;

    if (signed_headers == NULL)
        return BB_EINVAL;
    if (payload_hash == NULL)
        payload_hash = "UNSIGNED-PAYLOAD";
    bb_buf_init(&path, path_len);
    rc = bb_buf_appends(out, method);
    if (rc < 0)
        goto out;
    rc = bb_buf_append(out, "\n", 1);
    if (rc < 0)
        goto out;
    if (path_len == 0) {
        rc = bb_buf_append(out, "/", 1);
    } else {
        rc = s3_sigv4_uri_decode(&path, raw_path, path_len, false);
        if (rc == BB_OK)
            rc = s3_sigv4_uri_encode(out, path.len ? path.data : "", path.len, true);
    }
    if (rc < 0)
        goto out;
    rc = bb_buf_append(out, "\n", 1);
    if (rc < 0)
        goto out;
    if (raw_query != NULL && query_len > 0) {
        rc = canonical_query(out, raw_query, query_len, presigned);
        if (rc < 0)
            goto out;
    }
    rc = bb_buf_append(out, "\n", 1);
    if (rc < 0)
        goto out;
    rc = canonical_headers(out, hdrs, nhdrs, signed_headers);
    if (rc < 0)
        goto out;
    rc = bb_buf_append(out, "\n", 1);
    if (rc == BB_OK)
        rc = bb_buf_appends(out, signed_headers);
    if (rc == BB_OK)
        rc = bb_buf_append(out, "\n", 1);
    if (rc == BB_OK)
        rc = bb_buf_appends(out, payload_hash);
out:
    bb_buf_cleanup(&path);
    return rc;
}

int s3_sigv4_string_to_sign(struct bb_buf *out, const char *amz_date, const char *scope,
                            const char *creq, size_t creq_len)
{
    char hex[65];

    bb_sha256_hex(creq, creq_len, hex);
    return bb_buf_appendf(out, ALGORITHM "\n%s\n%s\n%s", amz_date, scope, hex);
}

static void hmac_str(const unsigned char *key, size_t keylen, const char *msg,
                     unsigned char out[BB_SHA256_LEN])
{
    bb_hmac_sha256(key, keylen, msg, strlen(msg), out);
}

void s3_sigv4_signing_key(const char *secret, const char *date8, const char *region,
                          const char *service, unsigned char key[32])
{
    char *ksecret = bb_xasprintf("AWS4%s", secret);
    unsigned char kdate[BB_SHA256_LEN];
    unsigned char kregion[BB_SHA256_LEN];
    unsigned char kservice[BB_SHA256_LEN];

    hmac_str((const unsigned char *)ksecret, strlen(ksecret), date8, kdate);
    hmac_str(kdate, sizeof(kdate), region, kregion);
    hmac_str(kregion, sizeof(kregion), service, kservice);
    hmac_str(kservice, sizeof(kservice), TERMINATOR, key);
    /* The intermediate keys are as good as the secret for this day. */
    explicit_bzero(ksecret, strlen(ksecret));
    explicit_bzero(kdate, sizeof(kdate));
    explicit_bzero(kregion, sizeof(kregion));
    explicit_bzero(kservice, sizeof(kservice));
    free(ksecret);
}

void s3_sigv4_sign(const unsigned char key[32], const char *msg, size_t len, char hex[65])
{
    unsigned char mac[BB_SHA256_LEN];

    bb_hmac_sha256(key, BB_SHA256_LEN, msg, len, mac);
    bb_hex(mac, sizeof(mac), hex);
}

void s3_sigv4_chunk_signature(const unsigned char key[32], const char *amz_date, const char *scope,
                              const char *prev_sig, const char *chunk_sha256_hex, char hex[65])
{
    char *sts = bb_xasprintf(ALGORITHM "-PAYLOAD\n%s\n%s\n%s\n" EMPTY_SHA256 "\n%s", amz_date,
                             scope, prev_sig, chunk_sha256_hex);

    s3_sigv4_sign(key, sts, strlen(sts), hex);
    free(sts);
}

void s3_sigv4_trailer_signature(const unsigned char key[32], const char *amz_date,
                                const char *scope, const char *prev_sig,
                                const char *canonical_trailers, size_t len, char hex[65])
{
    char digest[65];
    char *sts;

    bb_sha256_hex(canonical_trailers, len, digest);
    sts = bb_xasprintf(ALGORITHM "-TRAILER\n%s\n%s\n%s\n%s", amz_date, scope, prev_sig, digest);
    s3_sigv4_sign(key, sts, strlen(sts), hex);
    free(sts);
}
