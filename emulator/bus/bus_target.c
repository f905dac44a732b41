/* SPDX-License-Identifier: MIT */
/*
 * bus_target: one delivery attempt at a time per call, many at once:
 * webhooks through lws client connections (protocol "bb-webhook"),
 * commands as child processes polled with waitpid from a timer (no signal
 * handler: the loop owns everything). Each attempt reports exactly once.
 */
#include "bus_target.h"
#include "bb_err.h"
#include "bb_log.h"
#include "bb_mem.h"
#include "bus.h"
#include "bus_rule.h"
#include "config.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <libwebsockets.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define POLL_US (20 * 1000)
#define MAX_ARGS 64

enum attempt_kind { ATTEMPT_WEBHOOK, ATTEMPT_COMMAND };

struct attempt {
    struct bus_runner *rn;
    int64_t id;
    enum attempt_kind kind;
    char *payload;
    size_t len;
    int64_t deadline_ms;
    int reported;
    /* webhook */
    struct lws *wsi;
    int status;
    char retry_after[32];
    /* command */
    pid_t pid;
    char *stdin_path;
    struct attempt *next;
};

struct bus_runner {
    struct bus *bus;
    struct lws_context *lws;
    bus_attempt_cb *cb;
    void *arg;
    struct attempt *list;
    int active;
    lws_sorted_usec_list_t poll_sul;
    int polling;
};

static void poll_cb(lws_sorted_usec_list_t *sul);

static void arm_poll(struct bus_runner *rn)
{
    if (rn->polling)
        return;
    rn->polling = 1;
    lws_sul_schedule(rn->lws, 0, &rn->poll_sul, poll_cb, POLL_US);
}

struct bus_runner *bus_runner_new(struct bus *b, struct lws_context *lws, bus_attempt_cb *cb,
                                  void *arg)
{
    struct bus_runner *rn = bb_xcalloc(1, sizeof(*rn));
    rn->bus = b;
    rn->lws = lws;
    rn->cb = cb;
    rn->arg = arg;
    return rn;
}

static void attempt_free(struct attempt *a)
{
    if (a->stdin_path != NULL) {
        unlink(a->stdin_path);
        free(a->stdin_path);
    }
    free(a->payload);
    free(a);
}

static void unlink_attempt(struct bus_runner *rn, struct attempt *a)
{
    for (struct attempt **pp = &rn->list; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == a) {
            *pp = a->next;
            rn->active--;
            return;
        }
    }
}

void bus_runner_free(struct bus_runner *rn)
{
    if (rn == NULL)
        return;
    lws_sul_schedule(rn->lws, 0, &rn->poll_sul, NULL, LWS_SET_TIMER_USEC_CANCEL);
    while (rn->list != NULL) {
        struct attempt *a = rn->list;
        rn->list = a->next;
        if (a->kind == ATTEMPT_COMMAND && a->pid > 0) {
            kill(a->pid, SIGKILL);
            waitpid(a->pid, NULL, 0);
        }
        if (a->wsi != NULL)
            lws_set_opaque_user_data(a->wsi, NULL);
        attempt_free(a);
    }
    free(rn);
}

int bus_runner_active(const struct bus_runner *rn)
{
    return rn->active;
}

/* Reports @a once, then forgets it (the caller must not touch @a after). */
static void report(struct attempt *a, struct bus_attempt_result *res)
{
    struct bus_runner *rn = a->rn;
    if (a->reported)
        return;
    a->reported = 1;
    unlink_attempt(rn, a);
    if (a->wsi != NULL)
        lws_set_opaque_user_data(a->wsi, NULL);
    int64_t id = a->id;
    attempt_free(a);
    rn->cb(rn->arg, id, res);
}

static void result_init(struct bus_attempt_result *res)
{
    memset(res, 0, sizeof(*res));
    res->retry_after_ms = -1;
}

__attribute__((format(printf, 5, 6))) static void
fail_now(struct bus_runner *rn, int64_t id, const char *code, int retryable, const char *fmt, ...)
{
    struct bus_attempt_result res;
    result_init(&res);
    res.code = code;
    res.retryable = retryable;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res.message, sizeof(res.message), fmt, ap);
    va_end(ap);
    rn->cb(rn->arg, id, &res);
}

static struct attempt *new_attempt(struct bus_runner *rn, int64_t id, enum attempt_kind kind,
                                   const char *payload, size_t len, int timeout_s)
{
    struct attempt *a = bb_xcalloc(1, sizeof(*a));
    a->rn = rn;
    a->id = id;
    a->kind = kind;
    a->payload = bb_xstrndup(payload, len);
    a->len = len;
    a->deadline_ms = bus_now_ms(rn->bus) + (int64_t)timeout_s * 1000;
    a->next = rn->list;
    rn->list = a;
    rn->active++;
    return a;
}

/* ---- webhooks ---- */

static const char *webhook_url(struct bus_runner *rn, const struct bus_target *t, char **owned)
{
    const struct config *cfg = bus_config(rn->bus);
    cJSON *hooks;
    const cJSON *h, *u;

    *owned = NULL;
    if (strncmp(t->resource, "http://", 7) == 0 || strncmp(t->resource, "https://", 8) == 0)
        return t->resource;
    hooks = cJSON_Parse(cfg->webhooks_json ? cfg->webhooks_json : "{}");
    h = cJSON_GetObjectItemCaseSensitive(hooks, t->resource);
    u = h ? cJSON_GetObjectItemCaseSensitive(h, "url") : NULL;
    if (cJSON_IsString(u))
        *owned = bb_xstrdup(u->valuestring);
    cJSON_Delete(hooks);
    return *owned;
}

static int start_webhook(struct bus_runner *rn, int64_t id, const struct bus_target *t,
                         const char *payload, size_t len)
{
    struct lws_client_connect_info ci;
    char *owned = NULL;
    const char *url = webhook_url(rn, t, &owned);
    char *buf;
    const char *prot = NULL, *ads = NULL, *path = NULL;
    char fullpath[2048];
    int port = 0;
    struct attempt *a;

    if (url == NULL) {
        fail_now(rn, id, "NO_RESOURCE", 0, "No URL is configured for webhook %s.", t->resource);
        return BB_OK;
    }
    buf = bb_xstrdup(url);
    if (lws_parse_uri(buf, &prot, &ads, &port, &path) != 0 ||
        (strcmp(prot, "http") != 0 && strcmp(prot, "https") != 0)) {
        fail_now(rn, id, "INVALID_PARAMETER", 0, "Webhook URL %s is not an http(s) URL.", url);
        free(buf);
        free(owned);
        return BB_OK;
    }
    snprintf(fullpath, sizeof(fullpath), "/%s", path);
    a = new_attempt(rn, id, ATTEMPT_WEBHOOK, payload, len, BUS_TARGET_HTTP_TIMEOUT_S);
    memset(&ci, 0, sizeof(ci));
    ci.context = rn->lws;
    ci.address = ads;
    ci.port = port;
    ci.path = fullpath;
    ci.host = ads;
    ci.origin = ads;
    ci.method = "POST";
    ci.ssl_connection = strcmp(prot, "https") == 0 ? LCCSCF_USE_SSL : 0;
    ci.protocol = NULL;
    ci.local_protocol_name = "bb-webhook";
    ci.opaque_user_data = a;
    ci.pwsi = &a->wsi;
    if (lws_client_connect_via_info(&ci) == NULL) {
        struct bus_attempt_result res;
        result_init(&res);
        res.code = "CONNECTION_FAILURE";
        res.retryable = 1;
        snprintf(res.message, sizeof(res.message), "Could not connect to %s.", url);
        a->wsi = NULL;
        report(a, &res);
    }
    arm_poll(rn);
    free(buf);
    free(owned);
    return BB_OK;
}

int bus_target_webhook_callback(struct lws *wsi, int reason, void *user, void *in, size_t len);

int bus_target_webhook_callback(struct lws *wsi, int reason, void *user, void *in, size_t len)
{
    struct attempt *a = lws_get_opaque_user_data(wsi);
    struct bus_attempt_result res;
    (void)user;

    switch (reason) {
    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER: {
        unsigned char **p = (unsigned char **)in, *end = (*p) + len;
        char cl[32];
        if (a == NULL)
            return -1;
        snprintf(cl, sizeof(cl), "%zu", a->len);
        if (lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE,
                                         (const unsigned char *)"application/json", 16, p, end) ||
            lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH,
                                         (const unsigned char *)cl, (int)strlen(cl), p, end) ||
            lws_add_http_header_by_name(wsi, (const unsigned char *)"user-agent:",
                                        (const unsigned char *)"bucketbridge", 12, p, end))
            return -1;
        lws_client_http_body_pending(wsi, 1);
        lws_callback_on_writable(wsi);
        return 0;
    }
    case LWS_CALLBACK_CLIENT_HTTP_WRITEABLE: {
        unsigned char *buf;
        if (a == NULL)
            return -1;
        buf = bb_xmalloc(LWS_PRE + a->len + 1);
        memcpy(buf + LWS_PRE, a->payload, a->len);
        int w = lws_write(wsi, buf + LWS_PRE, a->len, LWS_WRITE_HTTP_FINAL);
        free(buf);
        lws_client_http_body_pending(wsi, 0);
        return w < 0 ? -1 : 0;
    }
    case LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP:
        if (a != NULL) {
            a->status = (int)lws_http_client_http_response(wsi);
            lws_hdr_copy(wsi, a->retry_after, sizeof(a->retry_after), WSI_TOKEN_HTTP_RETRY_AFTER);
        }
        return 0;
    case LWS_CALLBACK_RECEIVE_CLIENT_HTTP: {
        char buffer[1024 + LWS_PRE];
        char *px = buffer + LWS_PRE;
        int lenx = sizeof(buffer) - LWS_PRE;
        if (lws_http_client_read(wsi, &px, &lenx) < 0)
            return -1;
        return 0;
    }
    case LWS_CALLBACK_RECEIVE_CLIENT_HTTP_READ:
        return 0;
    case LWS_CALLBACK_COMPLETED_CLIENT_HTTP:
        if (a == NULL)
            return 0;
        result_init(&res);
        if (a->status >= 200 && a->status < 300) {
            res.ok = 1;
        } else {
            res.code = "ERROR_FROM_TARGET";
            res.retryable = a->status == 429 || a->status >= 500;
            if (a->retry_after[0] != '\0') {
                long v = strtol(a->retry_after, NULL, 10);
                if (v < 0)
                    res.retryable = 0;
                else
                    res.retry_after_ms = v * 1000;
            }
            snprintf(res.message, sizeof(res.message), "The webhook answered HTTP %d.", a->status);
        }
        report(a, &res);
        return 0;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        if (a == NULL)
            return 0;
        result_init(&res);
        res.code = "CONNECTION_FAILURE";
        res.retryable = 1;
        snprintf(res.message, sizeof(res.message), "Connection failed: %s",
                 in ? (const char *)in : "unknown error");
        report(a, &res);
        return 0;
    case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
        if (a == NULL)
            return 0;
        result_init(&res);
        res.code = "CONNECTION_FAILURE";
        res.retryable = 1;
        snprintf(res.message, sizeof(res.message), "The webhook closed the connection early.");
        report(a, &res);
        return 0;
    default:
        return 0;
    }
}

/* ---- commands ---- */

static int start_command(struct bus_runner *rn, int64_t id, const struct bus_target *t,
                         const char *payload, size_t len)
{
    const struct config *cfg = bus_config(rn->bus);
    cJSON *fns = cJSON_Parse(cfg->functions_json ? cfg->functions_json : "{}");
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(fns, t->resource);
    const cJSON *cmd = f ? cJSON_GetObjectItemCaseSensitive(f, "command") : NULL;
    char *argv[MAX_ARGS + 1];
    int argc = 0;
    struct attempt *a;
    char *logdir = NULL, *logpath = NULL;
    int in_fd = -1, log_fd = -1;
    pid_t pid;

    if (cJSON_IsString(cmd)) {
        argv[argc++] = bb_xstrdup("/bin/sh");
        argv[argc++] = bb_xstrdup("-c");
        argv[argc++] = bb_xstrdup(cmd->valuestring);
    } else if (cJSON_IsArray(cmd)) {
        const cJSON *x;
        cJSON_ArrayForEach(x, cmd)
        {
            if (cJSON_IsString(x) && argc < MAX_ARGS)
                argv[argc++] = bb_xstrdup(x->valuestring);
        }
    }
    argv[argc] = NULL;
    if (argc == 0) {
        cJSON_Delete(fns);
        fail_now(rn, id, "NO_RESOURCE", 0,
                 "Function %s is not configured (functions.<name>.command).", t->resource);
        return BB_OK;
    }
    a = new_attempt(rn, id, ATTEMPT_COMMAND, payload, len,
                    cfg->command_timeout_s > 0 ? cfg->command_timeout_s : 30);
    logdir = bb_xasprintf("%s/.bucketbridge/logs", cfg->data_dir);
    mkdir(logdir, 0755);
    logpath = bb_xasprintf("%s/commands.log", logdir);
    a->stdin_path = bb_xasprintf("%s/.bucketbridge/tmp/cmd-%lld", cfg->data_dir, (long long)id);
    in_fd = open(a->stdin_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (in_fd < 0 && errno == ENOENT) {
        /* tmp/ is made by the first upload or command (store_tmp.h) */
        char *tmpdir = bb_xasprintf("%s/.bucketbridge/tmp", cfg->data_dir);
        mkdir(tmpdir, 0755);
        free(tmpdir);
        in_fd = open(a->stdin_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    }
    log_fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (in_fd < 0 || write(in_fd, payload, len) != (ssize_t)len || lseek(in_fd, 0, SEEK_SET) < 0) {
        struct bus_attempt_result res;
        result_init(&res);
        res.code = "INTERNAL_ERROR";
        res.retryable = 1;
        snprintf(res.message, sizeof(res.message), "Could not prepare the command's input.");
        report(a, &res);
        goto out;
    }
    pid = fork();
    if (pid == 0) {
        char rid[32];
        dup2(in_fd, 0);
        if (log_fd >= 0) {
            dup2(log_fd, 1);
            dup2(log_fd, 2);
        }
        snprintf(rid, sizeof(rid), "%lld", (long long)id);
        setenv("BUCKETBRIDGE_DELIVERY_ID", rid, 1);
        setenv("BUCKETBRIDGE_TARGET", t->id, 1);
        setenv("BUCKETBRIDGE_FUNCTION", t->resource, 1);
        execvp(argv[0], argv);
        _exit(127);
    }
    if (pid < 0) {
        struct bus_attempt_result res;
        result_init(&res);
        res.code = "INTERNAL_ERROR";
        res.retryable = 1;
        snprintf(res.message, sizeof(res.message), "fork failed: %s", strerror(errno));
        report(a, &res);
        goto out;
    }
    a->pid = pid;
    arm_poll(rn);
out:
    if (in_fd >= 0)
        close(in_fd);
    if (log_fd >= 0)
        close(log_fd);
    for (int i = 0; i < argc; i++)
        free(argv[i]);
    free(logdir);
    free(logpath);
    cJSON_Delete(fns);
    return BB_OK;
}

static void poll_cb(lws_sorted_usec_list_t *sul)
{
    struct bus_runner *rn = lws_container_of(sul, struct bus_runner, poll_sul);
    int64_t now = bus_now_ms(rn->bus);
    struct attempt *a = rn->list;

    rn->polling = 0;
    while (a != NULL) {
        struct attempt *next = a->next;
        struct bus_attempt_result res;
        result_init(&res);
        if (a->kind == ATTEMPT_COMMAND) {
            int status = 0;
            pid_t w = waitpid(a->pid, &status, WNOHANG);
            if (w == a->pid) {
                a->pid = 0;
                if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
                    res.ok = 1;
                } else {
                    res.code = "ERROR_FROM_TARGET";
                    res.retryable = 1;
                    if (WIFEXITED(status))
                        snprintf(res.message, sizeof(res.message), "The command exited with %d.",
                                 WEXITSTATUS(status));
                    else
                        snprintf(res.message, sizeof(res.message),
                                 "The command was killed by signal %d.", WTERMSIG(status));
                }
                report(a, &res);
            } else if (now >= a->deadline_ms) {
                kill(a->pid, SIGKILL);
                waitpid(a->pid, NULL, 0);
                a->pid = 0;
                res.code = "TIMEOUT";
                res.retryable = 1;
                snprintf(res.message, sizeof(res.message), "The command did not finish in time.");
                report(a, &res);
            }
        } else if (now >= a->deadline_ms && a->wsi != NULL) {
            struct lws *wsi = a->wsi;
            res.code = "TIMEOUT";
            res.retryable = 1;
            snprintf(res.message, sizeof(res.message), "The webhook did not answer in %d s.",
                     BUS_TARGET_HTTP_TIMEOUT_S);
            report(a, &res);
            lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
        }
        a = next;
    }
    if (rn->list != NULL)
        arm_poll(rn);
}

int bus_runner_start(struct bus_runner *rn, int64_t delivery_id, const struct bus_target *t,
                     const char *payload, size_t len)
{
    switch (t->kind) {
    case BUS_TARGET_WEBHOOK:
        return start_webhook(rn, delivery_id, t, payload, len);
    case BUS_TARGET_COMMAND:
        return start_command(rn, delivery_id, t, payload, len);
    default:
        fail_now(rn, delivery_id, "NO_RESOURCE", 0, "Target %s cannot be delivered to.", t->arn);
        return BB_OK;
    }
}
