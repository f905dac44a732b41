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
 * The run is always bounded: by --duration, by --count, and by a per-request
 * timeout.
 */
#include <curl/curl.h>
#include <openssl/evp.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONCURRENCY 1024
#define MAX_DURATION_S 3600.0
#define MAX_COUNT 100000000L
#define ERRBODY_MAX 1024
#define PATTERN_LEN 65536
#define URL_MAX 1024
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

enum op { OP_PUT, OP_GET };

struct options {
    const char *endpoint;
    const char *bucket;
    const char *access_key;
    const char *secret_key;
    const char *region;
    const char *prefix;
    enum op op;
    uint64_t size;
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
    bool verbose;
};

/* One in-flight request slot: an easy handle and what belongs to its request. */
struct slot {
    CURL *easy;
    long key;
    double t0;
    uint64_t up_off;
    uint64_t down;
    size_t errlen;
    char err[ERRBODY_MAX + 1];
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
    .check_size = true,
};

static unsigned char pattern[PATTERN_LEN];
static char *put_body; /* shared in-memory body, NULL when streaming */
static bool streaming;
static struct curl_slist *put_headers;
static struct curl_slist *get_headers;
static char sigv4_param[128];
static char put_hash_header[128];
static char prefix_buf[128];
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

/* SHA-256 of the first size bytes of the generated stream, as hex. */
static void stream_sha256_hex(uint64_t size, char hex[65])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    uint64_t off = 0;

    if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
        die("sha256 init failed");
    /* the generated stream is the pattern repeated, so hash it block by block */
    while (off < size) {
        uint64_t n = size - off;

        if (n > PATTERN_LEN)
            n = PATTERN_LEN;
        if (EVP_DigestUpdate(ctx, pattern, (size_t)n) != 1)
            die("sha256 update failed");
        off += n;
    }
    if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 32)
        die("sha256 final failed");
    EVP_MD_CTX_free(ctx);
    for (unsigned int i = 0; i < mdlen; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

static size_t read_cb(char *buf, size_t size, size_t nitems, void *userp)
{
    struct slot *s = userp;
    uint64_t left = opt.size - s->up_off;
    size_t n = size * nitems;

    if (n > left)
        n = (size_t)left;
    gen_bytes((unsigned char *)buf, s->up_off, n);
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
    if ((code < 200 || code > 299) && s->errlen < ERRBODY_MAX) {
        size_t take = ERRBODY_MAX - s->errlen;

        if (take > n)
            take = n;
        memcpy(s->err + s->errlen, ptr, take);
        s->errlen += take;
        s->err[s->errlen] = '\0';
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
    curl_easy_setopt(e, CURLOPT_READFUNCTION, read_cb);
    curl_easy_setopt(e, CURLOPT_READDATA, s);
    curl_easy_setopt(e, CURLOPT_TIMEOUT, opt.timeout_s);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 256L * 1024);
    curl_easy_setopt(e, CURLOPT_UPLOAD_BUFFERSIZE, 1024L * 1024);
    curl_easy_setopt(e, CURLOPT_VERBOSE, opt.verbose ? 1L : 0L);
}

static void prepare(struct slot *s, enum op op, long key)
{
    CURL *e = s->easy;
    int n;

    s->key = key;
    s->up_off = 0;
    s->down = 0;
    s->errlen = 0;
    s->err[0] = '\0';
    n = snprintf(s->url, sizeof(s->url), "%s/%s/%s/%ld", opt.endpoint, opt.bucket, opt.prefix, key);
    if (n < 0 || (size_t)n >= sizeof(s->url))
        die("URL too long");
    curl_easy_setopt(e, CURLOPT_URL, s->url);
    if (op == OP_GET) {
        curl_easy_setopt(e, CURLOPT_UPLOAD, 0L);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, NULL);
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, NULL);
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, get_headers);
    } else if (streaming) {
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, NULL);
        curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)opt.size);
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, put_headers);
    } else {
        curl_easy_setopt(e, CURLOPT_UPLOAD, 0L);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)opt.size);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, put_body);
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "PUT");
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, put_headers);
    }
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
    }
    p->done++;
    if (!ok) {
        p->errors++;
        if (!atomic_exchange(&error_shown, true)) {
            fprintf(stderr, "bb_loadgen: first error: %s %s: %s\n%s%s",
                    p->op == OP_GET ? "GET" : "PUT", s->url, why, s->err, s->errlen ? "\n" : "");
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
            "  --op put|get          operation to measure (default put)\n"
            "  --size BYTES          object size (default 4096; suffixes k, m, g = KiB, MiB, GiB)\n"
            "  --concurrency N       requests in flight (default 1, max %d)\n"
            "  --threads N           threads sharing them (default: online CPUs,\n"
            "                        at most --concurrency)\n"
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
            "  --timeout SECONDS     per-request timeout (default 120)\n"
            "  --verbose             libcurl verbose output\n"
            "Prints one JSON line: op, size, concurrency, threads, requests, errors, seconds,\n"
            "req_per_s, mib_per_s, p50_ms, p99_ms, max_ms. Exit 1 if any request failed.\n",
            MAX_CONCURRENCY, MAX_DURATION_S);
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
            else
                die("--op must be put or get");
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

static void build_headers(void)
{
    char hex[65];

    /*
     * libcurl 7.88 signs x-amz-content-sha256 when given but does not add it for
     * s3, which S3 servers require. The in-memory body is the same for every
     * request, so it is hashed once here. No "Expect:" override: libcurl 7.88
     * would sign that empty header without sending it.
     */
    if (streaming && !opt.sign_stream)
        snprintf(hex, sizeof(hex), "UNSIGNED-PAYLOAD");
    else
        stream_sha256_hex(opt.size, hex);
    snprintf(put_hash_header, sizeof(put_hash_header), "x-amz-content-sha256: %s", hex);
    put_headers = curl_slist_append(NULL, "Content-Type: application/octet-stream");
    put_headers = curl_slist_append(put_headers, put_hash_header);
    get_headers = curl_slist_append(NULL, "x-amz-content-sha256: " EMPTY_SHA256);
    if (!put_headers || !get_headers)
        die("out of memory");
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
        w[i].p.op = opt.op;
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

int main(int argc, char **argv)
{
    struct slot *slots;
    struct worker *workers;
    int nworkers;
    double t_start = 0;
    double t_end = 0;
    double secs;
    long done = 0;
    long errors = 0;
    double *lat;
    size_t nlat = 0;
    long ok;
    int status;

    parse_args(argc, argv);
    fill_pattern();
    snprintf(sigv4_param, sizeof(sigv4_param), "aws:amz:%s:s3", opt.region);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        die("curl_global_init failed");
    streaming = opt.size > opt.stream_above;
    if (!streaming) {
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
    printf("{\"op\":\"%s\",\"size\":%" PRIu64 ",\"concurrency\":%d,\"threads\":%d,"
           "\"requests\":%ld,\"errors\":%ld,\"seconds\":%.3f,\"req_per_s\":%.1f,"
           "\"mib_per_s\":%.2f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f}\n",
           opt.op == OP_GET ? "get" : "put", opt.size, opt.concurrency, nworkers, done, errors,
           secs, (double)ok / secs, (double)ok * (double)opt.size / secs / 1048576.0,
           percentile(lat, nlat, 50), percentile(lat, nlat, 99), nlat ? lat[nlat - 1] : 0.0);
    fflush(stdout);
    status = errors > 0 || ok == 0 ? 1 : 0;

    for (int i = 0; i < nworkers; i++) {
        curl_multi_cleanup(workers[i].multi);
        free(workers[i].p.lat);
    }
    for (int i = 0; i < opt.concurrency; i++)
        curl_easy_cleanup(slots[i].easy);
    pthread_barrier_destroy(&start_line);
    curl_slist_free_all(put_headers);
    curl_slist_free_all(get_headers);
    free(workers);
    free(slots);
    free(lat);
    free(put_body);
    curl_global_cleanup();
    return status;
}
