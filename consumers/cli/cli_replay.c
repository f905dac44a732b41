/* SPDX-License-Identifier: MIT */
/*
 * cli_replay: signs exactly the headers cli_http sends (Host as
 * "host:port", bracketed for IPv6), so the daemon's canonical request and
 * ours agree.
 */
#include "cli_replay.h"
#include "cli_args.h"
#include "cli_conf.h"
#include "cli_http.h"
#include "bb_buf.h"
#include "bb_err.h"
#include "bb_hash.h"
#include "bb_mem.h"
#include "s3_sigv4.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CONTENT_TYPE "application/x-amz-json-1.1"
#define SIGNED "content-type;host;x-amz-date;x-amz-target"
#define POLL_MS 200

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void set_hdr(struct s3_sigv4_header *h, const char *name, const char *value)
{
    h->name = name;
    h->name_len = strlen(name);
    h->value = value;
    h->value_len = strlen(value);
}

char *cli_replay_authorization(const struct cli_conf *c, const char *hosthdr, const char *amz_date,
                               const char *target, const char *body, size_t body_len)
{
    struct s3_sigv4_header h[4];
    struct bb_buf creq, sts;
    unsigned char key[32];
    char payload[65], sig[65], date8[9], scope[256];
    char *out = NULL;

    snprintf(date8, sizeof(date8), "%.8s", amz_date);
    snprintf(scope, sizeof(scope), "%s/%s/events/aws4_request", date8, c->region);
    bb_sha256_hex(body, body_len, payload);
    set_hdr(&h[0], "content-type", CONTENT_TYPE);
    set_hdr(&h[1], "host", hosthdr);
    set_hdr(&h[2], "x-amz-date", amz_date);
    set_hdr(&h[3], "x-amz-target", target);
    bb_buf_init(&creq, 1 << 20);
    bb_buf_init(&sts, 1 << 20);
    if (s3_sigv4_canonical_request(&creq, "POST", "/", 1, "", 0, h, 4, SIGNED, payload, false) <
            0 ||
        s3_sigv4_string_to_sign(&sts, amz_date, scope, creq.data, creq.len) < 0)
        goto out;
    s3_sigv4_signing_key(c->secret_key, date8, c->region, "events", key);
    s3_sigv4_sign(key, sts.data, sts.len, sig);
    out = bb_xasprintf("AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s",
                       c->access_key, scope, SIGNED, sig);
out:
    bb_buf_cleanup(&sts);
    bb_buf_cleanup(&creq);
    return out;
}

/* One signed API call: 0 with *out (the JSON answer) or a CLI_EXIT_* code. */
static int api(const struct cli_args *a, const struct cli_conf *c, const char *op, const cJSON *req,
               cJSON **out)
{
    char *body = cJSON_PrintUnformatted(req);
    char *hosthdr = strchr(c->host, ':') ? bb_xasprintf("[%s]:%d", c->host, c->port)
                                         : bb_xasprintf("%s:%d", c->host, c->port);
    char *target = bb_xasprintf("AWSEvents.%s", op);
    char amz_date[17];
    struct tm tm;
    time_t now = time(NULL);
    struct cli_http_resp r;
    char *auth, *h_auth, *h_date, *h_target;
    int rc;

    memset(&r, 0, sizeof(r));
    gmtime_r(&now, &tm);
    strftime(amz_date, sizeof(amz_date), "%Y%m%dT%H%M%SZ", &tm);
    auth = cli_replay_authorization(c, hosthdr, amz_date, target, body, strlen(body));
    h_auth = bb_xasprintf("Authorization: %s", auth ? auth : "");
    h_date = bb_xasprintf("X-Amz-Date: %s", amz_date);
    h_target = bb_xasprintf("X-Amz-Target: %s", target);
    const char *hdrs[] = {"Content-Type: " CONTENT_TYPE, h_date, h_target, h_auth, NULL};
    struct cli_http_peer peer = {
        .host = c->host, .port = c->port, .tls = c->tls, .ca_file = c->ca_file};
    rc = cli_http_send(&peer, "POST", "/", hdrs, body, strlen(body), a->timeout_ms, &r);
    if (rc < 0) {
        fprintf(stderr, "bucketbridge-cli: replay: cannot reach the daemon at %s://%s:%d: %s\n",
                c->tls ? "https" : "http", c->host, c->port,
                peer.why[0] ? peer.why : bb_strerror(rc));
        rc = CLI_EXIT_ERROR;
        goto out;
    }
    *out = cJSON_ParseWithLength(r.body, r.body_len);
    if (r.status != 200 || *out == NULL) {
        const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(*out, "__type"));
        const char *msg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(*out, "message"));
        if (msg == NULL)
            msg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(*out, "Message"));
        fprintf(stderr, "bucketbridge-cli: replay: %s failed (HTTP %d): %s: %s\n", op, r.status,
                type ? type : "error", msg ? msg : r.body);
        cJSON_Delete(*out);
        *out = NULL;
        rc = r.status == 403 ? CLI_EXIT_ERROR : CLI_EXIT_FAIL;
        goto out;
    }
    rc = CLI_EXIT_OK;
out:
    cli_http_resp_cleanup(&r);
    free(h_target);
    free(h_date);
    free(h_auth);
    free(auth);
    free(target);
    free(hosthdr);
    cJSON_free(body);
    return rc;
}

static void print_obj(const cJSON *o)
{
    char *t = cJSON_PrintUnformatted(o);
    printf("%s\n", t);
    cJSON_free(t);
}

int cli_replay_run(const struct cli_args *a, const struct cli_conf *c, volatile sig_atomic_t *stop)
{
    cJSON *req = cJSON_CreateObject();
    cJSON *resp = NULL;
    char *name = a->name ? bb_xstrdup(a->name)
                         : bb_xasprintf("cli-%lld-%d", (long long)time(NULL), (int)getpid());
    char *src =
        bb_xasprintf("arn:aws:events:%s:%s:archive/%s", c->region, c->account_id, a->archive);
    char *bus = bb_xasprintf("arn:aws:events:%s:%s:event-bus/default", c->region, c->account_id);
    int64_t deadline = mono_ms() + a->timeout_ms;
    int rc;

    cJSON_AddStringToObject(req, "ReplayName", name);
    cJSON_AddStringToObject(req, "EventSourceArn", src);
    cJSON_AddNumberToObject(req, "EventStartTime", (double)a->from_s);
    cJSON_AddNumberToObject(req, "EventEndTime", (double)a->to_s);
    cJSON_AddStringToObject(cJSON_AddObjectToObject(req, "Destination"), "Arn", bus);
    rc = api(a, c, "StartReplay", req, &resp);
    if (rc != CLI_EXIT_OK || !a->wait) {
        if (rc == CLI_EXIT_OK) {
            cJSON_AddStringToObject(resp, "ReplayName", name);
            print_obj(resp);
        }
        goto out;
    }
    cJSON_Delete(req);
    req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "ReplayName", name);
    for (;;) {
        const char *state;
        cJSON_Delete(resp);
        resp = NULL;
        rc = api(a, c, "DescribeReplay", req, &resp);
        if (rc != CLI_EXIT_OK)
            goto out;
        state = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(resp, "State"));
        if (state != NULL && (strcmp(state, "COMPLETED") == 0 || strcmp(state, "FAILED") == 0 ||
                              strcmp(state, "CANCELLED") == 0)) {
            print_obj(resp);
            rc = strcmp(state, "COMPLETED") == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
            goto out;
        }
        if (*stop || mono_ms() + POLL_MS > deadline) {
            print_obj(resp);
            fprintf(stderr, "bucketbridge-cli: replay: %s is still %s after %.1f s\n", name,
                    state ? state : "?", (double)a->timeout_ms / 1000.0);
            rc = CLI_EXIT_FAIL;
            goto out;
        }
        usleep(POLL_MS * 1000);
    }
out:
    cJSON_Delete(resp);
    cJSON_Delete(req);
    free(bus);
    free(src);
    free(name);
    return rc;
}
