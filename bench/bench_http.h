/* SPDX-License-Identifier: MIT */
/*
 * bench_http: the HTTP calls the event benchmarks make, on one reusable
 * libcurl easy handle (keep-alive): SigV4-signed EventBridge PutEvents
 * (AWS JSON 1.1, X-Amz-Target: AWSEvents.PutEvents, service "events"),
 * SigV4-signed S3 PutObject, and the daemon's health JSON. libcurl signs
 * (CURLOPT_AWS_SIGV4). One bench_http per thread; call
 * curl_global_init() once before the first bench_http_init().
 */
#ifndef BB_BENCH_BENCH_HTTP_H
#define BB_BENCH_BENCH_HTTP_H

#include <stddef.h>
#include <stdint.h>

struct bench_http {
    void *easy; /* CURL *, owned */
    char base[64];
    char userpwd[260];
    char url[512];
    char *resp; /* last response body, owned, NUL-terminated */
    size_t resp_len, resp_cap;
    long status; /* last HTTP status */
    int warned;  /* failures logged so far (at most 3 per handle) */
};

/** Sets up a handle for http://127.0.0.1:@port with @access_key/@secret_key
 * (copied). Returns 0 or BB_EAGAIN. */
int bench_http_init(struct bench_http *h, int port, const char *access_key, const char *secret_key);
/** Frees the handle. NULL-safe; idempotent. */
void bench_http_cleanup(struct bench_http *h);

/**
 * POSTs PutEvents with the JSON @body (@len bytes, borrowed). Returns 0 and
 * *failed = the answer's FailedEntryCount, or BB_EAGAIN on a transport
 * error or a non-2xx status (h->resp holds the answer).
 */
int bench_http_put_events(struct bench_http *h, const char *body, size_t len, int *failed);

/**
 * Writes a PutEvents body with @count (1..10) entries, Source @source,
 * DetailType @detail_type and Detail {"n":N} for N = @first .. @first+count-1
 * into @buf (@cap bytes). Returns its length, or 0 when it does not fit.
 */
size_t bench_put_events_body(char *buf, size_t cap, const char *source, const char *detail_type,
                             uint64_t first, int count);

/**
 * PUTs @len bytes at @data (borrowed) as s3://@bucket/@key; @sha256_hex is
 * the body's SHA-256 in hex (sent as x-amz-content-sha256). Returns 0 on a
 * 2xx, BB_EAGAIN otherwise.
 */
int bench_http_put_object(struct bench_http *h, const char *bucket, const char *key,
                          const void *data, size_t len, const char *sha256_hex);

/** GET /_bucketbridge/health; returns 0 and *seq = its last_sequence. */
int bench_http_last_seq(struct bench_http *h, uint64_t *seq);

/** Hex SHA-256 of @len bytes at @data into @hex (65 bytes). */
void bench_sha256_hex(const void *data, size_t len, char hex[65]);

#endif
