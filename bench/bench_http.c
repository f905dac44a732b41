/* SPDX-License-Identifier: MIT */
#include "bench_http.h"

#include "bb_err.h"
#include "bb_log.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t write_cb(char *ptr, size_t size, size_t nmemb, void *arg)
{
    struct bench_http *h = arg;
    size_t n = size * nmemb;
    if (h->resp_len + n + 1 > h->resp_cap) {
        size_t cap = h->resp_cap ? h->resp_cap : 4096;
        while (cap < h->resp_len + n + 1)
            cap *= 2;
        char *p = realloc(h->resp, cap);
        if (p == NULL)
            return 0;
        h->resp = p;
        h->resp_cap = cap;
    }
    memcpy(h->resp + h->resp_len, ptr, n);
    h->resp_len += n;
    h->resp[h->resp_len] = '\0';
    return n;
}

int bench_http_init(struct bench_http *h, int port, const char *access_key, const char *secret_key)
{
    memset(h, 0, sizeof(*h));
    CURL *e = curl_easy_init();
    if (e == NULL)
        return BB_EAGAIN;
    h->easy = e;
    snprintf(h->base, sizeof(h->base), "http://127.0.0.1:%d", port);
    snprintf(h->userpwd, sizeof(h->userpwd), "%s:%s", access_key, secret_key);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(e, CURLOPT_USERPWD, h->userpwd);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, h);
    curl_easy_setopt(e, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, 10L);
    return 0;
}

void bench_http_cleanup(struct bench_http *h)
{
    if (h == NULL)
        return;
    if (h->easy != NULL)
        curl_easy_cleanup(h->easy);
    h->easy = NULL;
    free(h->resp);
    h->resp = NULL;
    h->resp_len = h->resp_cap = 0;
}

/* Runs the prepared request; 0 on a 2xx. */
static int perform(struct bench_http *h)
{
    h->resp_len = 0;
    if (h->resp != NULL)
        h->resp[0] = '\0';
    CURLcode cc = curl_easy_perform(h->easy);
    h->status = 0;
    curl_easy_getinfo(h->easy, CURLINFO_RESPONSE_CODE, &h->status);
    if (cc != CURLE_OK) {
        if (h->warned++ < 3)
            BB_LOG_WARN("bench", "request failed", "url=%s err=\"%s\"", h->url,
                        curl_easy_strerror(cc));
        return BB_EAGAIN;
    }
    return h->status >= 200 && h->status < 300 ? 0 : BB_EAGAIN;
}

int bench_http_put_events(struct bench_http *h, const char *body, size_t len, int *failed)
{
    /* no "Expect:" line to suppress 100-continue: libcurl 7.88 lists it in
     * SignedHeaders without sending it, and the signature fails */
    static const char *hdr_lines[] = {
        "Content-Type: application/x-amz-json-1.1",
        "X-Amz-Target: AWSEvents.PutEvents",
    };
    struct curl_slist *hdrs = NULL;
    CURL *e = h->easy;
    int rc;

    for (size_t i = 0; i < sizeof(hdr_lines) / sizeof(hdr_lines[0]); i++)
        hdrs = curl_slist_append(hdrs, hdr_lines[i]);
    snprintf(h->url, sizeof(h->url), "%s/", h->base);
    curl_easy_setopt(e, CURLOPT_URL, h->url);
    curl_easy_setopt(e, CURLOPT_AWS_SIGV4, "aws:amz:us-east-1:events");
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, NULL);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);
    rc = perform(h);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(hdrs);
    if (rc != 0) {
        if (h->status != 0 && h->warned++ < 3)
            BB_LOG_WARN("bench", "PutEvents refused", "status=%ld body=%.300s", h->status,
                        h->resp ? h->resp : "");
        return rc;
    }
    const char *p = h->resp ? strstr(h->resp, "\"FailedEntryCount\"") : NULL;
    if (p == NULL)
        return BB_ECORRUPT;
    p = strchr(p, ':');
    *failed = p ? atoi(p + 1) : -1;
    return *failed >= 0 ? 0 : BB_ECORRUPT;
}

size_t bench_put_events_body(char *buf, size_t cap, const char *source, const char *detail_type,
                             uint64_t first, int count)
{
    size_t len = 0;
    int n = snprintf(buf, cap, "{\"Entries\":[");
    if (n < 0 || (size_t)n >= cap)
        return 0;
    len = (size_t)n;
    for (int i = 0; i < count; i++) {
        n = snprintf(buf + len, cap - len,
                     "%s{\"Source\":\"%s\",\"DetailType\":\"%s\",\"Detail\":\"{\\\"n\\\":%llu}\"}",
                     i ? "," : "", source, detail_type, (unsigned long long)(first + (uint64_t)i));
        if (n < 0 || (size_t)n >= cap - len)
            return 0;
        len += (size_t)n;
    }
    n = snprintf(buf + len, cap - len, "]}");
    if (n < 0 || (size_t)n >= cap - len)
        return 0;
    return len + (size_t)n;
}

int bench_http_put_object(struct bench_http *h, const char *bucket, const char *key,
                          const void *data, size_t len, const char *sha256_hex)
{
    char hash_hdr[128];
    struct curl_slist *hdrs = NULL;
    CURL *e = h->easy;
    int rc;

    snprintf(hash_hdr, sizeof(hash_hdr), "x-amz-content-sha256: %s", sha256_hex);
    hdrs = curl_slist_append(hdrs, hash_hdr);
    hdrs = curl_slist_append(hdrs, "Content-Type: application/octet-stream");
    snprintf(h->url, sizeof(h->url), "%s/%s/%s", h->base, bucket, key);
    curl_easy_setopt(e, CURLOPT_URL, h->url);
    curl_easy_setopt(e, CURLOPT_AWS_SIGV4, "aws:amz:us-east-1:s3");
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "PUT");
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, data);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);
    rc = perform(h);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, NULL);
    curl_slist_free_all(hdrs);
    if (rc != 0 && h->status != 0 && h->warned++ < 3)
        BB_LOG_WARN("bench", "PUT refused", "status=%ld url=%s body=%.300s", h->status, h->url,
                    h->resp ? h->resp : "");
    return rc;
}

int bench_http_last_seq(struct bench_http *h, uint64_t *seq)
{
    CURL *e = h->easy;
    int rc;

    snprintf(h->url, sizeof(h->url), "%s/_bucketbridge/health", h->base);
    curl_easy_setopt(e, CURLOPT_URL, h->url);
    curl_easy_setopt(e, CURLOPT_AWS_SIGV4, NULL);
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, NULL);
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    rc = perform(h);
    if (rc != 0)
        return rc;
    cJSON *o = cJSON_Parse(h->resp);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "last_sequence");
    rc = cJSON_IsNumber(v) ? 0 : BB_ECORRUPT;
    if (rc == 0)
        *seq = (uint64_t)v->valuedouble;
    cJSON_Delete(o);
    return rc;
}

void bench_sha256_hex(const void *data, size_t len, char hex[65])
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256(data, len, md);
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
}
