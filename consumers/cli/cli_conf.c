/* SPDX-License-Identifier: MIT */
/*
 * cli_conf: endpoint, token and credentials. Waiting for the ready file
 * lets a script start `bucketbridge --ready-file F &` and call the CLI at
 * once; a file left by a dead daemon (its pid is gone) counts as absent.
 */
#include "cli_conf.h"
#include "cli_args.h"
#include "bb_err.h"
#include "bb_mem.h"
#include "bb_wsclient.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define READY_POLL_MS 20
#define READY_MAX_BYTES 65536

int cli_conf_parse_url(const char *url, char *host, size_t hostlen, int *port, int *tls)
{
    const char *p = url;
    const char *h, *hend;
    int def_port = 4566;
    size_t n;

    if (url == NULL)
        return BB_EINVAL;
    *tls = 0;
    if (strncmp(p, "https://", 8) == 0) {
        p += 8;
        def_port = 443;
        *tls = 1;
    } else if (strncmp(p, "wss://", 6) == 0) {
        p += 6;
        def_port = 443;
        *tls = 1;
    } else if (strncmp(p, "http://", 7) == 0) {
        p += 7;
        def_port = 80;
    } else if (strncmp(p, "ws://", 5) == 0) {
        p += 5;
        def_port = 80;
    } else if (strstr(p, "://") != NULL) {
        return BB_EINVAL;
    }
    if (*p == '[') {
        h = p + 1;
        hend = strchr(h, ']');
        if (hend == NULL)
            return BB_EINVAL;
        p = hend + 1;
    } else {
        h = p;
        hend = p + strcspn(p, ":/?#");
        p = hend;
    }
    n = (size_t)(hend - h);
    if (n == 0 || n >= hostlen)
        return BB_EINVAL;
    memcpy(host, h, n);
    host[n] = '\0';
    *port = def_port;
    if (*p == ':') {
        char *end = NULL;
        long v;
        errno = 0;
        v = strtol(p + 1, &end, 10);
        if (errno != 0 || end == p + 1 || v < 1 || v > 65535 ||
            (*end != '\0' && *end != '/' && *end != '?'))
            return BB_EINVAL;
        *port = (int)v;
    } else if (*p != '\0' && *p != '/') {
        return BB_EINVAL;
    }
    return BB_OK;
}

int cli_conf_check_tls(const struct cli_conf *c, char *err, size_t errlen)
{
    if (!c->tls && c->ca_file != NULL) {
        snprintf(err, errlen,
                 "--ca applies to an https:// endpoint; http://%s:%d is plain (give "
                 "--endpoint https://HOST:PORT, the daemon's TLS port)",
                 c->host, c->port);
        return BB_EINVAL;
    }
    if (c->tls && c->ca_file == NULL && !bb_wsclient_host_is_loopback(c->host)) {
        snprintf(err, errlen,
                 "https://%s:%d is not a loopback host: give --ca FILE (the daemon's "
                 "<data>/.bucketbridge/tls/cert.pem) to check its certificate",
                 c->host, c->port);
        return BB_EINVAL;
    }
    return BB_OK;
}

static void take(char **dst, const cJSON *o, const char *key)
{
    const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
    if (*dst == NULL && v != NULL)
        *dst = bb_xstrdup(v);
}

int cli_conf_from_ready(struct cli_conf *c, const char *text)
{
    cJSON *o = cJSON_Parse(text);
    const char *ep = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "endpoint"));
    int rc = BB_EINVAL;

    if (!cJSON_IsObject(o) || ep == NULL)
        goto out;
    if (c->port == 0 && cli_conf_parse_url(ep, c->host, sizeof(c->host), &c->port, &c->tls) < 0)
        goto out;
    take(&c->token, o, "token");
    take(&c->access_key, o, "access_key");
    take(&c->secret_key, o, "secret_key");
    take(&c->region, o, "region");
    take(&c->account_id, o, "account_id");
    rc = BB_OK;
out:
    cJSON_Delete(o);
    return rc;
}

/* The file's text when it is complete and its daemon alive, else NULL. */
static char *read_ready(const char *path, int *why)
{
    FILE *f = fopen(path, "re");
    char *buf;
    size_t n;
    cJSON *o;
    const cJSON *pid;

    if (f == NULL) {
        *why = -errno;
        return NULL;
    }
    buf = bb_xmalloc(READY_MAX_BYTES + 1);
    n = fread(buf, 1, READY_MAX_BYTES, f);
    fclose(f);
    buf[n] = '\0';
    o = cJSON_Parse(buf);
    pid = cJSON_GetObjectItemCaseSensitive(o, "pid");
    if (!cJSON_IsObject(o) || (cJSON_IsNumber(pid) && pid->valuedouble > 0 &&
                               kill((pid_t)pid->valuedouble, 0) < 0 && errno == ESRCH)) {
        *why = cJSON_IsObject(o) ? -ESRCH : BB_ECORRUPT;
        cJSON_Delete(o);
        free(buf);
        return NULL;
    }
    cJSON_Delete(o);
    return buf;
}

static int load_ready(struct cli_conf *c, const char *path, char *err, size_t errlen)
{
    struct timespec ts = {0, READY_POLL_MS * 1000000L};
    int waited = 0;
    int why = 0;
    char *text;
    int rc;

    for (;;) {
        text = read_ready(path, &why);
        if (text != NULL || waited >= CLI_CONF_READY_WAIT_MS)
            break;
        nanosleep(&ts, NULL);
        waited += READY_POLL_MS;
    }
    if (text == NULL) {
        snprintf(err, errlen, "the ready file %s is not usable after %d s: %s", path,
                 CLI_CONF_READY_WAIT_MS / 1000,
                 why == -ESRCH ? "its daemon (pid) is not running" : bb_strerror(why));
        return why < 0 ? why : BB_EAGAIN;
    }
    rc = cli_conf_from_ready(c, text);
    if (rc < 0)
        snprintf(err, errlen, "the ready file %s has no usable \"endpoint\"", path);
    free(text);
    return rc;
}

static void fallback(char **dst, const char *env, const char *def)
{
    const char *v = env ? getenv(env) : NULL;
    if (*dst != NULL)
        return;
    *dst = bb_xstrdup(v != NULL ? v : def);
}

int cli_conf_resolve(struct cli_conf *c, const struct cli_args *a, char *err, size_t errlen)
{
    const char *ready = a->ready_file ? a->ready_file : getenv("BUCKETBRIDGE_READY_FILE");
    const char *ep = a->endpoint;
    int rc;

    memset(c, 0, sizeof(*c));
    if (ep != NULL) {
        if (cli_conf_parse_url(ep, c->host, sizeof(c->host), &c->port, &c->tls) < 0) {
            snprintf(err, errlen,
                     "--endpoint wants http://HOST:PORT or https://HOST:PORT, got \"%s\"", ep);
            return BB_EINVAL;
        }
    }
    if (a->token != NULL)
        c->token = bb_xstrdup(a->token);
    if (ready != NULL && ready[0] != '\0') {
        rc = load_ready(c, ready, err, errlen);
        if (rc < 0)
            return rc;
    }
    if (c->port == 0) {
        ep = getenv("BUCKETBRIDGE_ENDPOINT");
        if (ep == NULL || ep[0] == '\0')
            ep = CLI_DEFAULT_ENDPOINT;
        if (cli_conf_parse_url(ep, c->host, sizeof(c->host), &c->port, &c->tls) < 0) {
            snprintf(
                err, errlen,
                "$BUCKETBRIDGE_ENDPOINT wants http://HOST:PORT or https://HOST:PORT, got \"%s\"",
                ep);
            return BB_EINVAL;
        }
    }
    if (a->ca_file != NULL)
        c->ca_file = bb_xstrdup(a->ca_file);
    rc = cli_conf_check_tls(c, err, errlen);
    if (rc < 0)
        return rc;
    fallback(&c->token, "BUCKETBRIDGE_TOKEN", CLI_DEFAULT_TOKEN);
    fallback(&c->access_key, "AWS_ACCESS_KEY_ID", "test");
    fallback(&c->secret_key, "AWS_SECRET_ACCESS_KEY", "test");
    fallback(&c->region, getenv("AWS_REGION") ? "AWS_REGION" : "AWS_DEFAULT_REGION", "us-east-1");
    fallback(&c->account_id, NULL, "000000000000");
    return BB_OK;
}

void cli_conf_cleanup(struct cli_conf *c)
{
    free(c->ca_file);
    free(c->token);
    free(c->access_key);
    free(c->secret_key);
    free(c->region);
    free(c->account_id);
    memset(c, 0, sizeof(*c));
}
