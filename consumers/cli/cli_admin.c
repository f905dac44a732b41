/* SPDX-License-Identifier: MIT */
/*
 * cli_admin: GET /_bucketbridge/health and /dlq, POST /reset and
 * /dlq/redrive with the X-Bucketbridge-Token header. Answers are printed
 * as one JSON line, as the daemon sent them, so `| jq` sees its fields.
 */
#include "cli_admin.h"
#include "cli_args.h"
#include "cli_conf.h"
#include "cli_events.h"
#include "cli_http.h"
#include "bb_buf.h"
#include "bb_err.h"
#include "bb_mem.h"
#include "s3_sigv4.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *cli_admin_queue_arn(const struct cli_conf *c, const char *arn)
{
    if (strchr(arn, ':') != NULL)
        return bb_xstrdup(arn);
    return bb_xasprintf("arn:aws:sqs:%s:%s:%s", c->region, c->account_id, arn);
}

/* One request; prints why on failure and returns a CLI_EXIT_* code. */
static int call(const struct cli_args *a, const struct cli_conf *c, const char *what,
                const char *method, const char *target, int with_token, struct cli_http_resp *resp)
{
    char *tok = with_token ? bb_xasprintf("X-Bucketbridge-Token: %s", c->token) : NULL;
    const char *hdrs[] = {tok, NULL};
    struct cli_http_peer peer = {
        .host = c->host, .port = c->port, .tls = c->tls, .ca_file = c->ca_file};
    int rc = cli_http_send(&peer, method, target, hdrs, NULL, 0, a->timeout_ms, resp);
    free(tok);
    if (rc < 0) {
        fprintf(stderr, "bucketbridge-cli: %s: cannot reach the daemon at %s://%s:%d: %s\n", what,
                c->tls ? "https" : "http", c->host, c->port,
                peer.why[0] ? peer.why : bb_strerror(rc));
        return CLI_EXIT_ERROR;
    }
    if (resp->status == 403) {
        fprintf(stderr,
                "bucketbridge-cli: %s: the daemon refused the token (--token, "
                "$BUCKETBRIDGE_TOKEN or --ready-file): %s\n",
                what, resp->body);
        return CLI_EXIT_ERROR;
    }
    return CLI_EXIT_OK;
}

/* Prints the body as one line of JSON (re-serialised when it parses). */
static void print_json_body(const struct cli_http_resp *r)
{
    cJSON *o = cJSON_ParseWithLength(r->body, r->body_len);
    if (o != NULL) {
        char *t = cJSON_PrintUnformatted(o);
        printf("%s\n", t);
        cJSON_free(t);
        cJSON_Delete(o);
    } else {
        printf("%s\n", r->body);
    }
}

/* The query value @v, percent-encoded. New string. */
static char *qenc(const char *v)
{
    struct bb_buf b;
    bb_buf_init(&b, 65536);
    s3_sigv4_uri_encode(&b, v, strlen(v), false);
    char *s = bb_buf_detach(&b, NULL);
    return s ? s : bb_xstrdup("");
}

int cli_admin_status(const struct cli_args *a, const struct cli_conf *c,
                     volatile sig_atomic_t *stop)
{
    struct cli_http_resp r;
    cJSON *health = NULL, *st = NULL;
    const char *hs;
    char err[400];
    char *text;
    int rc;

    rc = call(a, c, "status", "GET", "/_bucketbridge/health", 0, &r);
    if (rc != CLI_EXIT_OK) {
        cli_http_resp_cleanup(&r);
        return rc;
    }
    health = cJSON_ParseWithLength(r.body, r.body_len);
    cli_http_resp_cleanup(&r);
    if (!cJSON_IsObject(health)) {
        fprintf(stderr, "bucketbridge-cli: status: the health answer is not JSON\n");
        rc = CLI_EXIT_ERROR;
        goto out;
    }
    rc = cli_events_status(c, a->timeout_ms, stop, &st, err, sizeof(err));
    if (rc != CLI_EXIT_OK) {
        fprintf(stderr, "bucketbridge-cli: status: %s\n", err);
        goto out;
    }
    hs = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(health, "status"));
    rc = hs != NULL && strcmp(hs, "ok") == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
    cJSON_AddItemToObject(st, "health", health);
    health = NULL;
    text = cJSON_PrintUnformatted(st);
    printf("%s\n", text);
    cJSON_free(text);
out:
    cJSON_Delete(health);
    cJSON_Delete(st);
    return rc;
}

int cli_admin_reset(const struct cli_args *a, const struct cli_conf *c)
{
    struct cli_http_resp r;
    int rc = call(a, c, "reset", "POST", "/_bucketbridge/reset", 1, &r);
    if (rc != CLI_EXIT_OK)
        goto out;
    if (r.status != 200) {
        fprintf(stderr, "bucketbridge-cli: reset: HTTP %d: %s\n", r.status, r.body);
        rc = CLI_EXIT_FAIL;
        goto out;
    }
    print_json_body(&r);
out:
    cli_http_resp_cleanup(&r);
    return rc;
}

int cli_admin_dlq_list(const struct cli_args *a, const struct cli_conf *c,
                       volatile sig_atomic_t *stop)
{
    cJSON *st = NULL;
    const cJSON *q;
    char err[400];
    char *text;
    int rc = cli_events_status(c, a->timeout_ms, stop, &st, err, sizeof(err));
    if (rc != CLI_EXIT_OK) {
        fprintf(stderr, "bucketbridge-cli: dlq list: %s\n", err);
        return rc;
    }
    q = cJSON_GetObjectItemCaseSensitive(st, "dead_letter_queues");
    text = cJSON_IsArray(q) ? cJSON_PrintUnformatted(q) : NULL;
    printf("%s\n", text ? text : "[]");
    cJSON_free(text);
    cJSON_Delete(st);
    return CLI_EXIT_OK;
}

int cli_admin_dlq_show(const struct cli_args *a, const struct cli_conf *c)
{
    struct cli_http_resp r;
    char *arn = cli_admin_queue_arn(c, a->arn);
    char *enc = qenc(arn);
    char *target = bb_xasprintf("/_bucketbridge/dlq?arn=%s&limit=%d", enc, a->limit);
    int rc = call(a, c, "dlq show", "GET", target, 1, &r);
    if (rc != CLI_EXIT_OK)
        goto out;
    if (r.status != 200) {
        fprintf(stderr, "bucketbridge-cli: dlq show: HTTP %d: %s\n", r.status, r.body);
        rc = CLI_EXIT_FAIL;
        goto out;
    }
    print_json_body(&r);
out:
    cli_http_resp_cleanup(&r);
    free(target);
    free(enc);
    free(arn);
    return rc;
}

int cli_admin_dlq_redrive(const struct cli_args *a, const struct cli_conf *c)
{
    struct cli_http_resp r;
    char *arn = cli_admin_queue_arn(c, a->arn);
    char *enc = qenc(arn);
    char *target = bb_xasprintf("/_bucketbridge/dlq/redrive?arn=%s", enc);
    int rc = call(a, c, "dlq redrive", "POST", target, 1, &r);
    if (rc != CLI_EXIT_OK)
        goto out;
    if (r.status != 200) {
        fprintf(stderr, "bucketbridge-cli: dlq redrive: HTTP %d: %s\n", r.status, r.body);
        rc = CLI_EXIT_FAIL;
        goto out;
    }
    print_json_body(&r);
out:
    cli_http_resp_cleanup(&r);
    free(target);
    free(enc);
    free(arn);
    return rc;
}
