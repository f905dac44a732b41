/* SPDX-License-Identifier: MIT */
/*
 * bb_loadgen: closed-loop S3 PUT/GET load generator.
 *
 * --concurrency easy handles run concurrently, split over --threads worker
 * threads with one curl multi handle each; each easy handle is reused for the
 * next request as soon as its previous one finishes, so the connections stay
 * alive. Every request is signed by libcurl itself
 * (CURLOPT_AWS_SIGV4). Per-request latency is taken on the monotonic clock
 * and one JSON line with the totals and percentiles is printed on stdout.
 *
 * Bodies up to --stream-above bytes are sent from one shared buffer
 * (CURLOPT_POSTFIELDS) whose SHA-256 is computed once and sent as
 * x-amz-content-sha256, which libcurl then signs. Larger bodies are generated
 * on the fly by a read callback (never held whole) and sent as
 * UNSIGNED-PAYLOAD, or with their real hash computed in a first pass when
 * --sign-stream is given; libcurl adds "Expect: 100-continue" to those.
 *
 * Other operations (--op):
 *   putevents  EventBridge PutEvents (POST /, X-Amz-Target AWSEvents.PutEvents,
 *              signed for "events"), --batch entries per request; a request
 *              only counts if its answer says FailedEntryCount 0.
 *   reset      bucketbridge's POST /_bucketbridge/reset with the
 *              X-Bucketbridge-Token header (--token, default the secret key);
 *              also reports the duration_ms and objects_removed it answers.
 *   multipart  one upload of --size bytes in --part-size parts (the last may
 *              be shorter), --concurrency parts in flight: create, the parts
 *              (streamed from the generator, UNSIGNED-PAYLOAD), complete,
 *              then a HEAD that must show the whole size (whether its ETag
 *              ends in -<parts>, as S3's does, is reported). The clock runs
 *              from the create to the end of the complete.
 * --presign (with --op get) reads through SigV4 presigned URLs (query
 * parameters, signed here with OpenSSL's HMAC: libcurl only signs headers),
 * computed once per key after the objects are written; before measuring, one
 * GET with a corrupted signature shows whether the server checks it.
 *
 * The run is always bounded: by --duration, by --count, and by a per-request
 * timeout.
 */
#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONCURRENCY 1024
#define MAX_DURATION_S 3600.0
#define MAX_COUNT 100000000L
#define ERRBODY_MAX 4096
#define ETAG_MAX 128
#define UPLOAD_ID_MAX 1024
#define MAX_BATCH 10
#define MAX_PARTS 10000
#define MIN_PART (5ULL << 20)
#define PATTERN_LEN 65536
#define URL_MAX 1024
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* OP_PART is internal: the parts of an --op multipart run. */
enum op { OP_PUT, OP_GET, OP_PUTEVENTS, OP_RESET, OP_MULTIPART, OP_PART };

struct options {
    const char *endpoint;
    const char *bucket;
    const char *access_key;
    const char *secret_key;
    const char *region;
    const char *prefix;
    const char *token;
    enum op op;
    uint64_t size;
    uint64_t part_size;
    int batch;
    long expires;
    int concurrency;
    double duration;
    long count;
    long keys;
    long timeout_s;
    uint64_t stream_above;
    int threads;
    bool create_bucket;
    bool check_size;
    bool sign_stream;
    bool presign;
    bool verbose;
};

/*
 * One in-flight request slot: an easy handle and what belongs to its request.
 * The streamed body is the generator's bytes [up_base, up_base + up_len).
 * err keeps the start of an error answer, or of every answer for the
 * operations whose answer is read (keep_body).
 */
struct slot {
    CURL *easy;
    long key;
    double t0;
    uint64_t up_base;
    uint64_t up_len;
    uint64_t up_off;
    uint64_t down;
    bool keep_body;
    size_t errlen;
    char err[ERRBODY_MAX + 1];
    char etag[ETAG_MAX];
    char url[URL_MAX];
};

/* One phase of one worker (the populate phase of a GET run is one too). */
struct phase {
    enum op op;
    long count;     /* requests this worker issues at most */
    long first_key; /* key of request i is first_key + i * stride */
    long stride;
    double deadline; /* no new request after this monotonic time */
    long issued;
    long done;
    long errors;
    bool record;
    double t_start;
    double t_end;
    double *lat;
    size_t nlat;
    size_t cap;
    double server_ms; /* reset: the last duration_ms the server answered */
    long removed;     /* reset: the last objects_removed */
    long last_seq;    /* reset: the last last_sequence */
};

/* A worker thread: its own multi handle and its share of the slots. */
struct worker {
    pthread_t thread;
    CURLM *multi;
    struct slot *slots;
    int nslots;
    struct phase p;
};

static struct options opt = {
    .access_key = "test",
    .secret_key = "test",
    .region = "us-east-1",
    .op = OP_PUT,
    .size = 4096,
    .concurrency = 1,
    .duration = 5.0,
    .count = 0,
    .keys = 0,
    .timeout_s = 120,
    .stream_above = 64ULL << 20,
    .part_size = 16ULL << 20,
    .batch = MAX_BATCH,
    .expires = 3600,
    .check_size = true,
};

static unsigned char pattern[PATTERN_LEN];
static char *put_body; /* shared in-memory body, NULL when streaming */
static bool streaming;
static struct curl_slist *put_headers;
static struct curl_slist *get_headers;
static struct curl_slist *part_headers;
static struct curl_slist *events_headers;
static struct curl_slist *reset_headers;
static char sigv4_param[128];
static char sigv4_events_param[128];
static char put_hash_header[128];
static char prefix_buf[128];
static char *events_body; /* the PutEvents body every putevents request sends */
static char **presigned;  /* --presign: one URL per key */
static char upload_id[UPLOAD_ID_MAX];
static char upload_id_enc[3 * UPLOAD_ID_MAX];
static char (*part_etags)[ETAG_MAX];
static long nparts;
static char mp_etag[ETAG_MAX]; /* the completed object's ETag, as HEAD shows it */
static atomic_bool error_shown;
static pthread_barrier_t start_line;

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *msg)
{
    fprintf(stderr, "bb_loadgen: %s\n", msg);
    exit(2);
}

/* snprintf that dies instead of truncating. */
static void fmt(char *dst, size_t cap, const char *f, ...) __attribute__((format(printf, 3, 4)));

static void fmt(char *dst, size_t cap, const char *f, ...)
{
    va_list ap;
    int n;

    va_start(ap, f);
    n = vsnprintf(dst, cap, f, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= cap)
        die("string too long");
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);

    if (!p)
        die("out of memory");
    return p;
}

static void fill_pattern(void)
{
    uint32_t x = 0x9e3779b9u;

    /* xorshift: cheap bytes that do not compress to nothing */
    for (size_t i = 0; i < PATTERN_LEN; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        pattern[i] = (unsigned char)x;
    }
}

/* Copy the generated stream's bytes [off, off + len) into dst. */
static void gen_bytes(unsigned char *dst, uint64_t off, size_t len)
{
    while (len > 0) {
        size_t at = (size_t)(off % PATTERN_LEN);
        size_t n = PATTERN_LEN - at;

        if (n > len)
            n = len;
        memcpy(dst, pattern + at, n);
        dst += n;
        off += n;
        len -= n;
    }
}

static void hex_of(const unsigned char *md, unsigned int len, char *hex)
{
    for (unsigned int i = 0; i < len; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

/* SHA-256 of the generated stream's bytes [off, off + len), as hex. */
static void range_sha256_hex(uint64_t off, uint64_t len, char hex[65])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned char *block = xmalloc(PATTERN_LEN);
    unsigned int mdlen = 0;

    if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
        die("sha256 init failed");
    while (len > 0) {
        size_t n = len > PATTERN_LEN ? PATTERN_LEN : (size_t)len;

        gen_bytes(block, off, n);
        if (EVP_DigestUpdate(ctx, block, n) != 1)
            die("sha256 update failed");
        off += n;
        len -= n;
    }
    if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 32)
        die("sha256 final failed");
    EVP_MD_CTX_free(ctx);
    free(block);
    hex_of(md, mdlen, hex);
}

static void sha256_hex(const void *data, size_t len, char hex[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
        die("sha256 failed");
    hex_of(md, mdlen, hex);
}

static void hmac_sha256(const void *key, size_t keylen, const char *msg, unsigned char out[32])
{
    unsigned int n = 32;

    if (!HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)msg, strlen(msg), out, &n) ||
        n != 32)
        die("HMAC-SHA256 failed");
}

/* SigV4's URI encoding: everything but unreserved bytes (and '/' if kept) as %XX. */
static void uri_encode(const char *in, bool keep_slash, char *out, size_t cap)
{
    static const char hexdig[] = "0123456789ABCDEF";
    size_t n = 0;

    for (; *in; in++) {
        unsigned char c = (unsigned char)*in;
        bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                     c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/');

        if (n + 4 > cap)
            die("URL too long");
        if (plain) {
            out[n++] = (char)c;
        } else {
            out[n++] = '%';
            out[n++] = hexdig[c >> 4];
            out[n++] = hexdig[c & 15];
        }
    }
    out[n] = '\0';
}

/*
 * A SigV4 presigned GET URL for the object key (X-Amz-SignedHeaders=host,
 * UNSIGNED-PAYLOAD, as the SDKs presign), signed at time now. New string.
 */
static char *presign_url(long key, time_t now)
{
    char path[URL_MAX];
    char path_enc[3 * URL_MAX];
    char host[256];
    char amz_date[32];
    char day[16];
    char scope[128];
    char cred[256];
    char cred_enc[3 * 256];
    char query[1024];
    char canon[4096];
    char canon_hash[65];
    char to_sign[512];
    char sig[65];
    char ksecret[256];
    unsigned char k[32];
    unsigned char md[32];
    const char *h = strstr(opt.endpoint, "://");
    size_t hl;
    struct tm tm;
    char *url;

    h = h ? h + 3 : opt.endpoint;
    hl = strcspn(h, "/");
    if (hl >= sizeof(host))
        die("endpoint host too long");
    memcpy(host, h, hl);
    host[hl] = '\0';
    gmtime_r(&now, &tm);
    strftime(amz_date, sizeof(amz_date), "%Y%m%dT%H%M%SZ", &tm);
    strftime(day, sizeof(day), "%Y%m%d", &tm);
    fmt(scope, sizeof(scope), "%s/%s/s3/aws4_request", day, opt.region);
    fmt(cred, sizeof(cred), "%s/%s", opt.access_key, scope);
    uri_encode(cred, false, cred_enc, sizeof(cred_enc));
    fmt(path, sizeof(path), "/%s/%s/%ld", opt.bucket, opt.prefix, key);
    uri_encode(path, true, path_enc, sizeof(path_enc));
    /* the parameters in byte order, as the canonical query string wants them */
    fmt(query, sizeof(query),
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=%s&X-Amz-Date=%s"
        "&X-Amz-Expires=%ld&X-Amz-SignedHeaders=host",
        cred_enc, amz_date, opt.expires);
    fmt(canon, sizeof(canon), "GET\n%s\n%s\nhost:%s\n\nhost\nUNSIGNED-PAYLOAD", path_enc, query,
        host);
    sha256_hex(canon, strlen(canon), canon_hash);
    fmt(to_sign, sizeof(to_sign), "AWS4-HMAC-SHA256\n%s\n%s\n%s", amz_date, scope, canon_hash);
    fmt(ksecret, sizeof(ksecret), "AWS4%s", opt.secret_key);
    hmac_sha256(ksecret, strlen(ksecret), day, k);
    hmac_sha256(k, 32, opt.region, k);
    hmac_sha256(k, 32, "s3", k);
    hmac_sha256(k, 32, "aws4_request", k);
    hmac_sha256(k, 32, to_sign, md);
    hex_of(md, 32, sig);
    if (asprintf(&url, "%.*s%s?%s&X-Amz-Signature=%s", (int)(h - opt.endpoint + hl), opt.endpoint,
                 path_enc, query, sig) < 0)
        die("out of memory");
    return url;
}

static size_t read_cb(char *buf, size_t size, size_t nitems, void *userp)
{
    struct slot *s = userp;
    uint64_t left = s->up_len - s->up_off;
    size_t n = size * nitems;

    if (n > left)
        n = (size_t)left;
    gen_bytes((unsigned char *)buf, s->up_base + s->up_off, n);
    s->up_off += n;
    return n;
}

static size_t write_cb(char *ptr, size_t size, size_t nmemb, void *userp)
{
    struct slot *s = userp;
    size_t n = size * nmemb;
    long code = 0;

    s->down += n;
    curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &code);
    if ((s->keep_body || code < 200 || code > 299) && s->errlen < ERRBODY_MAX) {
        size_t take = ERRBODY_MAX - s->errlen;

        if (take > n)
            take = n;
        memcpy(s->err + s->errlen, ptr, take);
        s->errlen += take;
        s->err[s->errlen] = '\0';
    }
    return n;
}

/* Keeps the ETag header's value (quotes included) in s->etag. */
static size_t header_cb(char *buf, size_t size, size_t nitems, void *userp)
{
    struct slot *s = userp;
    size_t n = size * nitems;

    if (n > 5 && strncasecmp(buf, "etag:", 5) == 0) {
        const char *v = buf + 5;
        size_t len = n - 5;

        while (len > 0 && (*v == ' ' || *v == '\t')) {
            v++;
            len--;
        }
        while (len > 0 && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' '))
            len--;
        if (len >= ETAG_MAX)
            len = ETAG_MAX - 1;
        memcpy(s->etag, v, len);
        s->etag[len] = '\0';
    }
    return n;
}

static void setopt_common(struct slot *s)
{
    CURL *e = s->easy;

    curl_easy_setopt(e, CURLOPT_PRIVATE, s);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(e, CURLOPT_AWS_SIGV4, sigv4_param);
    curl_easy_setopt(e, CURLOPT_USERNAME, opt.access_key);
    curl_easy_setopt(e, CURLOPT_PASSWORD, opt.secret_key);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, s);
    curl_easy_setopt(e, CURLOPT_READFUNCTION, read_cb);
    curl_easy_setopt(e, CURLOPT_READDATA, s);
    curl_easy_setopt(e, CURLOPT_TIMEOUT, opt.timeout_s);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 256L * 1024);
    curl_easy_setopt(e, CURLOPT_UPLOAD_BUFFERSIZE, 1024L * 1024);
    curl_easy_setopt(e, CURLOPT_VERBOSE, opt.verbose ? 1L : 0L);
}

/* Sign the request with libcurl's SigV4 for service param, or not at all (NULL). */
static void sign_with(CURL *e, const char *param)
{
    curl_easy_setopt(e, CURLOPT_AWS_SIGV4, param);
    curl_easy_setopt(e, CURLOPT_USERNAME, param ? opt.access_key : NULL);
    curl_easy_setopt(e, CURLOPT_PASSWORD, param ? opt.secret_key : NULL);
}

/* A body sent from memory with method (PUT or POST); len may be 0. */
static void body_from_memory(CURL *e, const char *method, const char *body, size_t len)
{
    curl_easy_setopt(e, CURLOPT_NOBODY, 0L);
    curl_easy_setopt(e, CURLOPT_UPLOAD, 0L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, body ? body : "");
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, strcmp(method, "POST") == 0 ? NULL : method);
}

/* A body of the generator's bytes [base, base + len), streamed with PUT. */
static void body_streamed(struct slot *s, uint64_t base, uint64_t len)
{
    CURL *e = s->easy;

    s->up_base = base;
    s->up_len = len;
    curl_easy_setopt(e, CURLOPT_NOBODY, 0L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, NULL);
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, NULL);
    curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
}

static void no_body(CURL *e, bool head)
{
    curl_easy_setopt(e, CURLOPT_UPLOAD, 0L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, NULL);
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, NULL);
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(e, CURLOPT_NOBODY, head ? 1L : 0L);
}

static void object_url(struct slot *s, long key, const char *query)
{
    int n = snprintf(s->url, sizeof(s->url), "%s/%s/%s/%ld%s", opt.endpoint, opt.bucket, opt.prefix,
                     key, query);

    if (n < 0 || (size_t)n >= sizeof(s->url))
        die("URL too long");
}

static void prepare(struct slot *s, enum op op, long key)
{
    CURL *e = s->easy;

    s->key = key;
    s->up_off = 0;
    s->up_base = 0;
    s->up_len = opt.size;
    s->down = 0;
    s->errlen = 0;
    s->err[0] = '\0';
    s->etag[0] = '\0';
    s->keep_body = op == OP_PUTEVENTS || op == OP_RESET;
    switch (op) {
    case OP_GET:
        no_body(e, false);
        if (presigned) {
            fmt(s->url, sizeof(s->url), "%s", presigned[key]);
            sign_with(e, NULL);
            curl_easy_setopt(e, CURLOPT_HTTPHEADER, NULL);
        } else {
            object_url(s, key, "");
            sign_with(e, sigv4_param);
            curl_easy_setopt(e, CURLOPT_HTTPHEADER, get_headers);
        }
        break;
    case OP_PUT:
        object_url(s, key, "");
        sign_with(e, sigv4_param);
        if (streaming)
            body_streamed(s, 0, opt.size);
        else
            body_from_memory(e, "PUT", put_body, (size_t)opt.size);
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, put_headers);
        break;
    case OP_PART: {
        char q[64 + sizeof(upload_id_enc)];
        uint64_t base = (uint64_t)key * opt.part_size;
        uint64_t len = opt.size - base < opt.part_size ? opt.size - base : opt.part_size;

        snprintf(q, sizeof(q), "?partNumber=%ld&uploadId=%s", key + 1, upload_id_enc);
        object_url(s, 0, q); /* the upload's object is key 0 */
        sign_with(e, sigv4_param);
        body_streamed(s, base, len);
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, part_headers);
        break;
    }
    case OP_PUTEVENTS:
        snprintf(s->url, sizeof(s->url), "%s/", opt.endpoint);
        sign_with(e, sigv4_events_param);
        body_from_memory(e, "POST", events_body, strlen(events_body));
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, events_headers);
        break;
    case OP_RESET:
        snprintf(s->url, sizeof(s->url), "%s/_bucketbridge/reset", opt.endpoint);
        sign_with(e, NULL);
        body_from_memory(e, "POST", NULL, 0);
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, reset_headers);
        break;
    case OP_MULTIPART:
        die("internal: multipart is not a per-request operation");
    }
    curl_easy_setopt(e, CURLOPT_URL, s->url);
}

static void record(struct phase *p, double ms)
{
    if (!p->record)
        return;
    if (p->nlat == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 4096;
        double *v = realloc(p->lat, cap * sizeof(*v));

        if (!v)
            die("out of memory");
        p->lat = v;
        p->cap = cap;
    }
    p->lat[p->nlat++] = ms;
}

static const char *op_name(enum op op)
{
    static const char *const names[] = {"put", "get", "putevents", "reset", "multipart", "part"};

    return names[op];
}

/* Account for one finished request; returns false if it failed. */
static bool finish(struct phase *p, struct slot *s, CURLcode rc)
{
    double ms = (now_s() - s->t0) * 1000.0;
    long code = 0;
    bool ok;
    char why[160];

    curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &code);
    ok = rc == CURLE_OK && code >= 200 && code <= 299;
    why[0] = '\0';
    if (rc != CURLE_OK)
        snprintf(why, sizeof(why), "curl: %s", curl_easy_strerror(rc));
    else if (!ok)
        snprintf(why, sizeof(why), "HTTP %ld", code);
    else if (p->op == OP_GET && opt.check_size && s->down != opt.size) {
        snprintf(why, sizeof(why), "GET returned %" PRIu64 " bytes, expected %" PRIu64, s->down,
                 opt.size);
        ok = false;
    } else if (p->op == OP_PUTEVENTS && !strstr(s->err, "\"FailedEntryCount\":0")) {
        snprintf(why, sizeof(why), "PutEvents did not take every entry");
        ok = false;
    } else if (p->op == OP_RESET) {
        const char *d = strstr(s->err, "\"duration_ms\":");
        const char *o = strstr(s->err, "\"objects_removed\":");
        const char *q = strstr(s->err, "\"last_sequence\":");

        ok = strstr(s->err, "\"reset\":true") && d && o && q;
        if (ok) {
            p->server_ms = strtod(d + 14, NULL);
            p->removed = strtol(o + 18, NULL, 10);
            p->last_seq = strtol(q + 16, NULL, 10);
        } else {
            snprintf(why, sizeof(why), "the answer is not a successful reset");
        }
    } else if (p->op == OP_PART) {
        ok = s->etag[0] != '\0' && s->key < nparts;
        if (ok)
            memcpy(part_etags[s->key], s->etag, ETAG_MAX);
        else
            snprintf(why, sizeof(why), "UploadPart answered without an ETag");
    }
    p->done++;
    if (!ok) {
        p->errors++;
        if (!atomic_exchange(&error_shown, true)) {
            fprintf(stderr, "bb_loadgen: first error: %s %s: %s\n%s%s", op_name(p->op), s->url, why,
                    s->err, s->errlen ? "\n" : "");
        }
    }
    record(p, ms);
    return ok;
}

/* Issue the phase's next request on slot s, or return false if the phase is over. */
static bool launch(CURLM *multi, struct phase *p, struct slot *s)
{
    long key;

    if (p->issued >= p->count || now_s() >= p->deadline)
        return false;
    /* stop early when the server clearly rejects everything */
    if (p->errors >= 100 && p->errors * 2 > p->done)
        return false;
    key = p->first_key + p->issued * p->stride;
    if (p->op == OP_GET)
        key %= opt.keys;
    p->issued++;
    prepare(s, p->op, key);
    s->t0 = now_s();
    if (curl_multi_add_handle(multi, s->easy) != CURLM_OK)
        die("curl_multi_add_handle failed");
    return true;
}

/* Run the worker's phase to completion, noting when it started and ended. */
static void run_phase(struct worker *w)
{
    struct phase *p = &w->p;
    int active = 0;

    p->t_start = now_s();
    p->t_end = p->t_start;
    for (int i = 0; i < w->nslots; i++) {
        if (launch(w->multi, p, &w->slots[i]))
            active++;
    }
    while (active > 0) {
        int running = 0;
        int left = 0;
        CURLMsg *m;

        if (curl_multi_perform(w->multi, &running) != CURLM_OK)
            die("curl_multi_perform failed");
        while ((m = curl_multi_info_read(w->multi, &left)) != NULL) {
            struct slot *s = NULL;
            CURLcode rc = m->data.result;
            CURL *e = m->easy_handle;

            if (m->msg != CURLMSG_DONE)
                continue;
            curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&s);
            finish(p, s, rc);
            p->t_end = now_s();
            curl_multi_remove_handle(w->multi, e);
            active--;
            if (launch(w->multi, p, s))
                active++;
        }
        if (active > 0 && running > 0 && curl_multi_poll(w->multi, NULL, 0, 100, NULL) != CURLM_OK)
            die("curl_multi_poll failed");
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;

    pthread_barrier_wait(&start_line);
    w->p.deadline = now_s() + opt.duration;
    run_phase(w);
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;

    return (x > y) - (x < y);
}

/* Nearest-rank percentile of a sorted array. */
static double percentile(const double *v, size_t n, double pct)
{
    double rank_f;
    size_t rank;

    if (n == 0)
        return 0.0;
    rank_f = pct / 100.0 * (double)n;
    rank = (size_t)rank_f;
    if ((double)rank < rank_f)
        rank++;
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return v[rank - 1];
}

static bool create_bucket(void)
{
    struct slot *s = calloc(1, sizeof(*s));
    long code = 0;
    CURLcode rc;
    bool ok;

    if (!s)
        die("out of memory");
    s->easy = curl_easy_init();
    if (!s->easy)
        die("curl_easy_init failed");
    setopt_common(s);
    snprintf(s->url, sizeof(s->url), "%s/%s", opt.endpoint, opt.bucket);
    curl_easy_setopt(s->easy, CURLOPT_URL, s->url);
    curl_easy_setopt(s->easy, CURLOPT_CUSTOMREQUEST, "PUT");
    curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, get_headers);
    rc = curl_easy_perform(s->easy);
    curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &code);
    /* 409 is BucketAlreadyOwnedByYou / BucketAlreadyExists: fine for a benchmark */
    ok = rc == CURLE_OK && ((code >= 200 && code <= 299) || code == 409);
    if (!ok)
        fprintf(stderr, "bb_loadgen: create bucket %s: %s HTTP %ld\n%s\n", opt.bucket,
                curl_easy_strerror(rc), code, s->err);
    curl_easy_cleanup(s->easy);
    free(s);
    return ok;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: bb_loadgen --endpoint URL --bucket NAME [options]\n"
            "  --op OP               put (default), get, putevents, reset or multipart\n"
            "  --size BYTES          object size (default 4096; suffixes k, m, g = KiB, MiB, GiB)\n"
            "  --concurrency N       requests in flight (default 1, max %d)\n"
            "  --threads N           threads sharing them (default: online CPUs,\n"
            "                        at most --concurrency; multipart: 1)\n"
            "  --duration SECONDS    stop issuing after this long (default 5, max %.0f)\n"
            "  --count N             stop after N requests (default: duration only)\n"
            "  --keys N              GET: objects PUT first and read round-robin\n"
            "                        (default: 4 x concurrency, at least 16)\n"
            "  --prefix P            key prefix (default bench-PID-TIME)\n"
            "  --access-key K --secret-key S --region R   (default test, test, us-east-1)\n"
            "  --create-bucket       PUT the bucket first (409 is accepted)\n"
            "  --no-check            do not require GET bodies of --size bytes\n"
            "  --stream-above BYTES  stream bodies larger than this (default 64m)\n"
            "  --sign-stream         hash streamed bodies first instead of UNSIGNED-PAYLOAD\n"
            "                        (not for multipart parts, always UNSIGNED-PAYLOAD)\n"
            "  --presign             get: through SigV4 presigned URLs, signed once per key\n"
            "  --expires SECONDS     presigned URLs' X-Amz-Expires (default 3600)\n"
            "  --part-size BYTES     multipart: part size (default 16m, at least 5m)\n"
            "  --batch N             putevents: entries per request (1 to %d, default %d)\n"
            "  --token T             reset: X-Bucketbridge-Token (default the secret key)\n"
            "  --timeout SECONDS     per-request timeout (default 120)\n"
            "  --verbose             libcurl verbose output\n"
            "Prints one JSON line: op, size, concurrency, threads, requests, errors, seconds,\n"
            "req_per_s, mib_per_s, p50_ms, p99_ms, max_ms, and per operation: events_per_s\n"
            "(putevents); server_ms, objects_removed, last_sequence (reset); parts, part_size,\n"
            "create_ms, complete_ms, completed, etag, etag_has_part_count (multipart);\n"
            "presigned, tampered_status (get --presign). Exit 1 if any request failed.\n",
            MAX_CONCURRENCY, MAX_DURATION_S, MAX_BATCH, MAX_BATCH);
}

static uint64_t parse_size(const char *s)
{
    char *end;
    unsigned long long v;

    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || end == s)
        die("bad size");
    switch (*end) {
    case 'k':
    case 'K':
        v <<= 10;
        end++;
        break;
    case 'm':
    case 'M':
        v <<= 20;
        end++;
        break;
    case 'g':
    case 'G':
        v <<= 30;
        end++;
        break;
    default:
        break;
    }
    if (*end != '\0')
        die("bad size suffix");
    return v;
}

static long parse_long(const char *s, long lo, long hi, const char *what)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end != '\0' || v < lo || v > hi) {
        fprintf(stderr, "bb_loadgen: bad %s: %s\n", what, s);
        exit(2);
    }
    return v;
}

static void parse_args(int argc, char **argv)
{
    enum {
        O_ENDPOINT = 256,
        O_BUCKET,
        O_OP,
        O_SIZE,
        O_CONC,
        O_DURATION,
        O_COUNT,
        O_KEYS,
        O_PREFIX,
        O_AK,
        O_SK,
        O_REGION,
        O_CREATE,
        O_NOCHECK,
        O_STREAM_ABOVE,
        O_SIGN_STREAM,
        O_TIMEOUT,
        O_VERBOSE,
        O_THREADS,
        O_PRESIGN,
        O_EXPIRES,
        O_PART_SIZE,
        O_BATCH,
        O_TOKEN,
        O_HELP,
    };
    static const struct option longopts[] = {
        {"endpoint", required_argument, NULL, O_ENDPOINT},
        {"bucket", required_argument, NULL, O_BUCKET},
        {"op", required_argument, NULL, O_OP},
        {"size", required_argument, NULL, O_SIZE},
        {"concurrency", required_argument, NULL, O_CONC},
        {"duration", required_argument, NULL, O_DURATION},
        {"count", required_argument, NULL, O_COUNT},
        {"keys", required_argument, NULL, O_KEYS},
        {"prefix", required_argument, NULL, O_PREFIX},
        {"access-key", required_argument, NULL, O_AK},
        {"secret-key", required_argument, NULL, O_SK},
        {"region", required_argument, NULL, O_REGION},
        {"create-bucket", no_argument, NULL, O_CREATE},
        {"no-check", no_argument, NULL, O_NOCHECK},
        {"stream-above", required_argument, NULL, O_STREAM_ABOVE},
        {"sign-stream", no_argument, NULL, O_SIGN_STREAM},
        {"timeout", required_argument, NULL, O_TIMEOUT},
        {"verbose", no_argument, NULL, O_VERBOSE},
        {"threads", required_argument, NULL, O_THREADS},
        {"presign", no_argument, NULL, O_PRESIGN},
        {"expires", required_argument, NULL, O_EXPIRES},
        {"part-size", required_argument, NULL, O_PART_SIZE},
        {"batch", required_argument, NULL, O_BATCH},
        {"token", required_argument, NULL, O_TOKEN},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    int c;

    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case O_ENDPOINT:
            opt.endpoint = optarg;
            break;
        case O_BUCKET:
            opt.bucket = optarg;
            break;
        case O_OP:
            if (strcmp(optarg, "put") == 0)
                opt.op = OP_PUT;
            else if (strcmp(optarg, "get") == 0)
                opt.op = OP_GET;
            else if (strcmp(optarg, "putevents") == 0)
                opt.op = OP_PUTEVENTS;
            else if (strcmp(optarg, "reset") == 0)
                opt.op = OP_RESET;
            else if (strcmp(optarg, "multipart") == 0)
                opt.op = OP_MULTIPART;
            else
                die("--op must be put, get, putevents, reset or multipart");
            break;
        case O_SIZE:
            opt.size = parse_size(optarg);
            break;
        case O_CONC:
            opt.concurrency = (int)parse_long(optarg, 1, MAX_CONCURRENCY, "--concurrency");
            break;
        case O_DURATION: {
            char *end;

            opt.duration = strtod(optarg, &end);
            if (end == optarg || *end != '\0' || !(opt.duration > 0) ||
                opt.duration > MAX_DURATION_S)
                die("bad --duration");
            break;
        }
        case O_COUNT:
            opt.count = parse_long(optarg, 1, MAX_COUNT, "--count");
            break;
        case O_KEYS:
            opt.keys = parse_long(optarg, 1, 1000000, "--keys");
            break;
        case O_PREFIX:
            opt.prefix = optarg;
            break;
        case O_AK:
            opt.access_key = optarg;
            break;
        case O_SK:
            opt.secret_key = optarg;
            break;
        case O_REGION:
            opt.region = optarg;
            break;
        case O_CREATE:
            opt.create_bucket = true;
            break;
        case O_NOCHECK:
            opt.check_size = false;
            break;
        case O_STREAM_ABOVE:
            opt.stream_above = parse_size(optarg);
            break;
        case O_SIGN_STREAM:
            opt.sign_stream = true;
            break;
        case O_TIMEOUT:
            opt.timeout_s = parse_long(optarg, 1, 86400, "--timeout");
            break;
        case O_VERBOSE:
            opt.verbose = true;
            break;
        case O_THREADS:
            opt.threads = (int)parse_long(optarg, 1, 64, "--threads");
            break;
        case O_PRESIGN:
            opt.presign = true;
            break;
        case O_EXPIRES:
            opt.expires = parse_long(optarg, 1, 604800, "--expires");
            break;
        case O_PART_SIZE:
            opt.part_size = parse_size(optarg);
            break;
        case O_BATCH:
            opt.batch = (int)parse_long(optarg, 1, MAX_BATCH, "--batch");
            break;
        case O_TOKEN:
            opt.token = optarg;
            break;
        case O_HELP:
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            exit(2);
        }
    }
    if (optind != argc || !opt.endpoint || !opt.bucket) {
        usage(stderr);
        exit(2);
    }
    if (opt.presign && opt.op != OP_GET)
        die("--presign goes with --op get");
    if (opt.op == OP_MULTIPART) {
        if (opt.part_size < MIN_PART || opt.size == 0)
            die("multipart wants --part-size of at least 5m and a --size");
        nparts = (long)((opt.size + opt.part_size - 1) / opt.part_size);
        if (nparts > MAX_PARTS)
            die("multipart: more than 10000 parts");
        opt.count = nparts;
        opt.threads = 1;
    }
    if (!opt.token)
        opt.token = opt.secret_key;
    if (opt.count == 0)
        opt.count = MAX_COUNT;
    if (opt.threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);

        opt.threads = n < 1 ? 1 : n > 64 ? 64 : (int)n;
    }
    if (opt.keys == 0)
        opt.keys = opt.concurrency * 4 < 16 ? 16 : opt.concurrency * 4;
    if (!opt.prefix) {
        snprintf(prefix_buf, sizeof(prefix_buf), "bench-%ld-%ld", (long)getpid(), (long)time(NULL));
        opt.prefix = prefix_buf;
    }
}

/* Appends line to list; dies when out of memory. */
static struct curl_slist *add_header(struct curl_slist *list, const char *line)
{
    struct curl_slist *l = curl_slist_append(list, line);

    if (!l)
        die("out of memory");
    return l;
}

static void build_events_body(void)
{
    size_t cap = 256 + (size_t)opt.batch * 160;
    size_t n = 0;

    events_body = xmalloc(cap);
    n += (size_t)snprintf(events_body + n, cap - n, "{\"Entries\":[");
    for (int i = 0; i < opt.batch; i++)
        n += (size_t)snprintf(events_body + n, cap - n,
                              "%s{\"Source\":\"bench.loadgen\",\"DetailType\":\"Bench Event\","
                              "\"Detail\":\"{\\\"n\\\":%d,\\\"prefix\\\":\\\"%s\\\"}\"}",
                              i ? "," : "", i, opt.prefix);
    snprintf(events_body + n, cap - n, "]}");
}

static void build_headers(void)
{
    char hex[65];
    char line[256];

    /*
     * libcurl 7.88 signs x-amz-content-sha256 when given but does not add it for
     * s3, which S3 servers require. The in-memory body is the same for every
     * request, so it is hashed once here. No "Expect:" override: libcurl 7.88
     * would sign that empty header without sending it.
     */
    if (streaming && !opt.sign_stream)
        snprintf(hex, sizeof(hex), "UNSIGNED-PAYLOAD");
    else if (opt.op == OP_PUT || opt.op == OP_GET)
        range_sha256_hex(0, opt.size, hex);
    else
        snprintf(hex, sizeof(hex), "%s", EMPTY_SHA256); /* no PUT in this run */
    snprintf(put_hash_header, sizeof(put_hash_header), "x-amz-content-sha256: %s", hex);
    put_headers = add_header(NULL, "Content-Type: application/octet-stream");
    put_headers = add_header(put_headers, put_hash_header);
    get_headers = add_header(NULL, "x-amz-content-sha256: " EMPTY_SHA256);
    part_headers = add_header(NULL, "x-amz-content-sha256: UNSIGNED-PAYLOAD");
    if (opt.op == OP_PUTEVENTS) {
        build_events_body();
        sha256_hex(events_body, strlen(events_body), hex);
        snprintf(line, sizeof(line), "x-amz-content-sha256: %s", hex);
        events_headers = add_header(NULL, "Content-Type: application/x-amz-json-1.1");
        events_headers = add_header(events_headers, "X-Amz-Target: AWSEvents.PutEvents");
        events_headers = add_header(events_headers, line);
    }
    snprintf(line, sizeof(line), "X-Bucketbridge-Token: %s", opt.token);
    reset_headers = add_header(NULL, line);
}

/* Split the slots and the request budget over the workers. */
static struct worker *make_workers(int nworkers, struct slot *slots)
{
    struct worker *w = calloc((size_t)nworkers, sizeof(*w));
    int next = 0;

    if (!w)
        die("out of memory");
    for (int i = 0; i < nworkers; i++) {
        w[i].multi = curl_multi_init();
        if (!w[i].multi)
            die("curl_multi_init failed");
        w[i].slots = slots + next;
        w[i].nslots = opt.concurrency / nworkers + (i < opt.concurrency % nworkers);
        next += w[i].nslots;
        curl_multi_setopt(w[i].multi, CURLMOPT_MAXCONNECTS, (long)w[i].nslots + 4);
        w[i].p.op = opt.op == OP_MULTIPART ? OP_PART : opt.op;
        w[i].p.count = opt.count / nworkers + (i < opt.count % nworkers);
        w[i].p.first_key = i;
        w[i].p.stride = nworkers;
        w[i].p.record = true;
    }
    return w;
}

/* PUT the objects a GET run reads, on worker 0's handles; not measured. */
static bool populate(struct worker *w)
{
    struct phase saved = w->p;
    bool ok;

    memset(&w->p, 0, sizeof(w->p));
    w->p.op = OP_PUT;
    w->p.count = opt.keys;
    w->p.stride = 1;
    w->p.deadline = now_s() + MAX_DURATION_S;
    run_phase(w);
    ok = w->p.errors == 0;
    if (!ok)
        fprintf(stderr, "bb_loadgen: populating %ld keys for GET failed (%ld errors)\n", opt.keys,
                w->p.errors);
    w->p = saved;
    return ok;
}

/*
 * One blocking request on s's handle, which is in no multi handle at the time,
 * for the upload's object (key 0) with query; the answer's start is kept in
 * s->err. Returns the HTTP status, 0 on a transport error.
 */
static long blocking(struct slot *s, const char *method, const char *query, const char *body,
                     struct curl_slist *hdrs)
{
    CURL *e = s->easy;
    long code = 0;
    CURLcode rc;

    s->keep_body = true;
    s->errlen = 0;
    s->err[0] = '\0';
    s->etag[0] = '\0';
    s->down = 0;
    object_url(s, 0, query);
    sign_with(e, sigv4_param);
    if (strcmp(method, "HEAD") == 0) {
        no_body(e, true);
    } else if (strcmp(method, "DELETE") == 0) {
        no_body(e, false);
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "DELETE");
    } else {
        body_from_memory(e, method, body, body ? strlen(body) : 0);
    }
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(e, CURLOPT_URL, s->url);
    rc = curl_easy_perform(e);
    if (rc == CURLE_OK)
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
    else
        fprintf(stderr, "bb_loadgen: %s %s: curl: %s\n", method, s->url, curl_easy_strerror(rc));
    return code;
}

/* CreateMultipartUpload; sets upload_id and its encoded form. */
static bool mp_create(struct slot *s)
{
    struct curl_slist *h = add_header(NULL, "Content-Type: application/octet-stream");
    const char *a;
    const char *b = NULL;
    long code;

    h = add_header(h, "x-amz-content-sha256: " EMPTY_SHA256);
    code = blocking(s, "POST", "?uploads=", NULL, h);
    curl_slist_free_all(h);
    a = strstr(s->err, "<UploadId>");
    if (a)
        b = strstr(a + 10, "</UploadId>");
    if (code != 200 || !b || b - (a + 10) >= UPLOAD_ID_MAX || b == a + 10) {
        fprintf(stderr, "bb_loadgen: CreateMultipartUpload %s: HTTP %ld\n%s\n", s->url, code,
                s->err);
        return false;
    }
    snprintf(upload_id, sizeof(upload_id), "%.*s", (int)(b - (a + 10)), a + 10);
    uri_encode(upload_id, false, upload_id_enc, sizeof(upload_id_enc));
    return true;
}

/* CompleteMultipartUpload with every part's ETag; S3 may answer 200 with an error. */
static bool mp_complete(struct slot *s)
{
    size_t cap = 128 + (size_t)nparts * (64 + ETAG_MAX);
    char *body = xmalloc(cap);
    char query[32 + sizeof(upload_id_enc)];
    char hex[65];
    char line[128];
    size_t n = 0;
    struct curl_slist *h;
    long code;
    bool ok;

    n += (size_t)snprintf(body + n, cap - n, "<CompleteMultipartUpload>");
    for (long i = 0; i < nparts; i++)
        n += (size_t)snprintf(body + n, cap - n,
                              "<Part><PartNumber>%ld</PartNumber><ETag>%s</ETag></Part>", i + 1,
                              part_etags[i]);
    snprintf(body + n, cap - n, "</CompleteMultipartUpload>");
    sha256_hex(body, strlen(body), hex);
    snprintf(line, sizeof(line), "x-amz-content-sha256: %s", hex);
    h = add_header(NULL, "Content-Type: application/xml");
    h = add_header(h, line);
    snprintf(query, sizeof(query), "?uploadId=%s", upload_id_enc);
    code = blocking(s, "POST", query, body, h);
    /* moto names the element CompleteMultipartUploadResponse, S3 ...Result */
    ok = code == 200 && strstr(s->err, "<CompleteMultipartUpload") && !strstr(s->err, "<Error>");
    if (!ok)
        fprintf(stderr, "bb_loadgen: CompleteMultipartUpload %s: HTTP %ld\n%s\n", s->url, code,
                s->err);
    curl_slist_free_all(h);
    free(body);
    return ok;
}

/*
 * HEAD of the completed object: it must have the upload's size. Whether its
 * ETag ends in -<parts>, as S3's does, goes to *s3_etag (not every peer's does).
 */
static bool mp_check(struct slot *s, bool *s3_etag)
{
    curl_off_t len = -1;
    char suffix[32];
    size_t el;
    size_t sl;
    size_t n = 0;
    long code = blocking(s, "HEAD", "", NULL, get_headers);

    curl_easy_getinfo(s->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &len);
    snprintf(suffix, sizeof(suffix), "-%ld\"", nparts);
    el = strlen(s->etag);
    sl = strlen(suffix);
    *s3_etag = el > sl && strcmp(s->etag + el - sl, suffix) == 0;
    /* kept without its quotes (and anything else JSON would need escaped) */
    for (size_t i = 0; i < el && n + 1 < sizeof(mp_etag); i++) {
        unsigned char c = (unsigned char)s->etag[i];

        if (c != '"' && c != '\\' && c >= 0x20)
            mp_etag[n++] = (char)c;
    }
    mp_etag[n] = '\0';
    if (code == 200 && len == (curl_off_t)opt.size)
        return true;
    fprintf(stderr,
            "bb_loadgen: HEAD %s after the upload: HTTP %ld, %" CURL_FORMAT_CURL_OFF_T
            " bytes (expected %" PRIu64 ")\n",
            s->url, code, len, opt.size);
    return false;
}

static void mp_abort(struct slot *s)
{
    char query[32 + sizeof(upload_id_enc)];

    snprintf(query, sizeof(query), "?uploadId=%s", upload_id_enc);
    blocking(s, "DELETE", query, NULL, get_headers);
}

/* The status of a GET of key 0's presigned URL with its signature's last digit changed. */
static long presign_tamper_status(struct slot *s)
{
    char *url = presign_url(0, time(NULL));
    size_t n = strlen(url);
    long code = 0;

    url[n - 1] = url[n - 1] == '0' ? '1' : '0';
    s->keep_body = false;
    s->errlen = 0;
    s->err[0] = '\0';
    no_body(s->easy, false);
    sign_with(s->easy, NULL);
    curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(s->easy, CURLOPT_URL, url);
    if (curl_easy_perform(s->easy) == CURLE_OK)
        curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &code);
    free(url);
    return code;
}

int main(int argc, char **argv)
{
    struct slot *slots;
    struct worker *workers;
    int nworkers;
    double t_start = 0;
    double t_end = 0;
    double t_mp0 = 0;
    double create_ms = 0;
    double complete_ms = 0;
    double secs;
    long done = 0;
    long errors = 0;
    long tampered = 0;
    double *lat;
    size_t nlat = 0;
    long ok;
    int status;
    bool mp_ok = true;
    bool s3_etag = false;

    parse_args(argc, argv);
    fill_pattern();
    snprintf(sigv4_param, sizeof(sigv4_param), "aws:amz:%s:s3", opt.region);
    snprintf(sigv4_events_param, sizeof(sigv4_events_param), "aws:amz:%s:events", opt.region);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        die("curl_global_init failed");
    streaming = opt.size > opt.stream_above;
    if (!streaming && (opt.op == OP_PUT || opt.op == OP_GET)) {
        put_body = xmalloc((size_t)opt.size);
        gen_bytes((unsigned char *)put_body, 0, (size_t)opt.size);
    }
    build_headers();
    if (opt.create_bucket && !create_bucket())
        return 1;

    nworkers = opt.threads;
    if (nworkers > opt.concurrency)
        nworkers = opt.concurrency;
    if (nworkers > opt.count)
        nworkers = (int)opt.count;
    slots = calloc((size_t)opt.concurrency, sizeof(*slots));
    if (!slots)
        die("out of memory");
    for (int i = 0; i < opt.concurrency; i++) {
        slots[i].easy = curl_easy_init();
        if (!slots[i].easy)
            die("curl_easy_init failed");
        setopt_common(&slots[i]);
    }
    workers = make_workers(nworkers, slots);
    if (opt.op == OP_GET && !populate(&workers[0]))
        return 1;
    if (opt.presign) {
        time_t now = time(NULL);

        presigned = xmalloc((size_t)opt.keys * sizeof(*presigned));
        for (long k = 0; k < opt.keys; k++)
            presigned[k] = presign_url(k, now);
        tampered = presign_tamper_status(&slots[0]);
    }
    if (opt.op == OP_MULTIPART) {
        /* the clock runs from the create; multipart ignores --duration */
        for (int i = 0; i < nworkers; i++)
            workers[i].p.count = nparts;
        opt.duration = MAX_DURATION_S;
        part_etags = calloc((size_t)nparts, sizeof(*part_etags));
        if (!part_etags)
            die("out of memory");
        t_mp0 = now_s();
        if (!mp_create(&slots[0]))
            return 1;
        create_ms = (now_s() - t_mp0) * 1000.0;
    }

    if (pthread_barrier_init(&start_line, NULL, (unsigned)nworkers + 1) != 0)
        die("pthread_barrier_init failed");
    for (int i = 0; i < nworkers; i++) {
        if (pthread_create(&workers[i].thread, NULL, worker_main, &workers[i]) != 0)
            die("pthread_create failed");
    }
    pthread_barrier_wait(&start_line);
    for (int i = 0; i < nworkers; i++) {
        struct phase *p = &workers[i].p;

        pthread_join(workers[i].thread, NULL);
        if (i == 0 || p->t_start < t_start)
            t_start = p->t_start;
        if (i == 0 || p->t_end > t_end)
            t_end = p->t_end;
        done += p->done;
        errors += p->errors;
        nlat += p->nlat;
    }
    if (opt.op == OP_MULTIPART) {
        double t = now_s();

        mp_ok = errors == 0 && done == nparts && mp_complete(&slots[0]);
        t_end = now_s();
        complete_ms = (t_end - t) * 1000.0;
        t_start = t_mp0;
        if (mp_ok)
            mp_ok = mp_check(&slots[0], &s3_etag);
        else
            mp_abort(&slots[0]);
    }
    lat = xmalloc(nlat * sizeof(*lat));
    nlat = 0;
    for (int i = 0; i < nworkers; i++) {
        memcpy(lat + nlat, workers[i].p.lat, workers[i].p.nlat * sizeof(*lat));
        nlat += workers[i].p.nlat;
    }
    qsort(lat, nlat, sizeof(*lat), cmp_double);
    secs = t_end - t_start;
    if (secs <= 0)
        secs = 1e-9;
    ok = done - errors;
    /* size is the request body: PutEvents' JSON, none for a reset */
    if (opt.op == OP_PUTEVENTS)
        opt.size = strlen(events_body);
    else if (opt.op == OP_RESET)
        opt.size = 0;
    printf("{\"op\":\"%s\",\"size\":%" PRIu64 ",\"concurrency\":%d,\"threads\":%d,"
           "\"requests\":%ld,\"errors\":%ld,\"seconds\":%.3f,\"req_per_s\":%.1f,"
           "\"mib_per_s\":%.2f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f",
           op_name(opt.op), opt.size, opt.concurrency, nworkers, done, errors + !mp_ok, secs,
           (double)ok / secs,
           (double)(opt.op == OP_MULTIPART ? (mp_ok ? 1 : 0) : ok) * (double)opt.size / secs /
               1048576.0,
           percentile(lat, nlat, 50), percentile(lat, nlat, 99), nlat ? lat[nlat - 1] : 0.0);
    if (opt.op == OP_PUTEVENTS)
        printf(",\"batch\":%d,\"events_per_s\":%.1f", opt.batch, (double)ok * opt.batch / secs);
    if (opt.op == OP_RESET)
        printf(",\"server_ms\":%.3f,\"objects_removed\":%ld,\"last_sequence\":%ld",
               workers[0].p.server_ms, workers[0].p.removed, workers[0].p.last_seq);
    if (opt.op == OP_MULTIPART)
        printf(",\"parts\":%ld,\"part_size\":%" PRIu64 ",\"create_ms\":%.1f,\"complete_ms\":%.1f,"
               "\"completed\":%s,\"etag\":\"%s\",\"etag_has_part_count\":%s",
               nparts, opt.part_size, create_ms, complete_ms, mp_ok ? "true" : "false", mp_etag,
               s3_etag ? "true" : "false");
    if (opt.presign)
        printf(",\"presigned\":true,\"tampered_status\":%ld", tampered);
    printf("}\n");
    fflush(stdout);
    status = errors > 0 || ok == 0 || !mp_ok ? 1 : 0;

    for (int i = 0; i < nworkers; i++) {
        curl_multi_cleanup(workers[i].multi);
        free(workers[i].p.lat);
    }
    for (int i = 0; i < opt.concurrency; i++)
        curl_easy_cleanup(slots[i].easy);
    pthread_barrier_destroy(&start_line);
    curl_slist_free_all(put_headers);
    curl_slist_free_all(get_headers);
    curl_slist_free_all(part_headers);
    curl_slist_free_all(events_headers);
    curl_slist_free_all(reset_headers);
    if (presigned) {
        for (long k = 0; k < opt.keys; k++)
            free(presigned[k]);
        free(presigned);
    }
    free(part_etags);
    free(events_body);
    free(workers);
    free(slots);
    free(lat);
    free(put_body);
    curl_global_cleanup();
    return status;
}
