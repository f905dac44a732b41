/* SPDX-License-Identifier: MIT */
/*
 * server: one lws context, one vhost listening on the configured loopback
 * address. Accepted sockets are adopted as raw sockets (the
 * listen_accept_role option) and carried by http_conn.c.
 */
#include "server.h"
#include "reset.h"
#include "s3_bodyhash.h"
#include "bb_err.h"
#include "bb_hash.h"
#include "bb_log.h"
#include "bb_mem.h"
#include "config.h"
#include "http_conn.h"
#include "store.h"
#include "bus.h"
#include "db.h"
#include "bus_s3.h"
#include "ws.h"
#include "watch.h"
#include "watch_scan.h"
#include "worker.h"
#include "supervise.h"
#include "ws_conn.h"
#include "tls.h"

int bus_target_webhook_callback(struct lws *wsi, int reason, void *user, void *in, size_t len);

#include <libwebsockets.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile sig_atomic_t stop_flag;

static int conn_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                   size_t len)
{
    if (reason == LWS_CALLBACK_EVENT_WAIT_CANCELLED) {
        /* another thread handed something over (bb_queue + cancel) */
        struct server *srv = lws_context_user(lws_get_context(wsi));
        if (srv != NULL) {
            worker_drain(srv->worker);
            watch_drain(srv->watch);
        }
        return 0;
    }
    return http_conn_callback(wsi, (int)reason, user, in, len);
}

static int webhook_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                      size_t len)
{
    return bus_target_webhook_callback(wsi, (int)reason, user, in, len);
}

static int consumer_out_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                           size_t len)
{
    return supervise_output_callback(wsi, (int)reason, user, in, len);
}

static int tls_accept_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                         size_t len)
{
    return tls_accept_callback(wsi, (int)reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
    {"bb-http", conn_cb, HTTP_CONN_PSS_SIZE, 0, 0, NULL, 0},
    {"bb-webhook", webhook_cb, 0, 4096, 0, NULL, 0},
    {"bb-consumer-out", consumer_out_cb, 0, 0, 0, NULL, 0},
    {"bb-tls-accept", tls_accept_cb, 0, 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void lws_log_bridge(int level, const char *line)
{
    size_t n = strlen(line);
    char msg[512];
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        n--;
    bb_log_quote(msg, sizeof(msg), line, n);
    /* lws 4.1 reports every adoption with a read buffer at error level, and
     * warns before binding a pipe to the raw-file role, which then works */
    if ((strstr(line, "adopt_socket_readbuf: calling service") != NULL &&
         strstr(line, "failed") == NULL) ||
        (strstr(line, "protocol 'bb-consumer-out', type 0x0, failed") != NULL ||
         strstr(line, "protocol 'bb-tls-accept', type 0x0, failed") != NULL)) {
        BB_LOG_DEBUG("lws", "lws", "line=%s", msg);
        return;
    }
    bb_log_write(level == LLL_ERR ? BB_LOG_LEVEL_ERROR : BB_LOG_LEVEL_WARN, "lws", "lws", "line=%s",
                 msg);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* debug log of how long each start-up step took (bench/README.md) */
static void step_done(const char *step, double *t)
{
    double now = mono_ms();
    BB_LOG_DEBUG("server", "start-up step done", "step=%s ms=%.2f", step, now - *t);
    *t = now;
}

/* the start-up's writes into the database file, synced, off the loop */
static void checkpoint_run(void *arg)
{
    db_checkpoint_file(arg);
}

static void checkpoint_done(void *arg, int cancelled)
{
    (void)cancelled;
    free(arg);
}

/* OpenSSL's first use costs about 1.3 ms of CPU (its configuration and
 * provider): done on a thread while the store waits for the file system,
 * instead of in the first request. */
static void *preload_main(void *arg)
{
    (void)arg;
    bb_hash_preload();
    return NULL;
}

int server_init(struct server *srv, const struct config *cfg)
{
    double t = mono_ms();
    struct lws_context_creation_info info;
    struct lws_vhost *vh;
    pthread_t preload;
    int preloading;
    int rc;

    memset(srv, 0, sizeof(*srv));
    srv->cfg = cfg;
    srv->started_ms = now_ms();
    tls_cert_begin(srv); /* made while the store, bus and lws start; forks: before any thread */
    preloading = pthread_create(&preload, NULL, preload_main, NULL) == 0;
    rc = store_open(cfg, &srv->store);
    if (preloading)
        pthread_join(preload, NULL);
    if (rc < 0)
        return rc;
    step_done("store", &t);
    char err[512];
    rc = bus_open(store_get_db(srv->store), cfg, &srv->bus, err, sizeof(err));
    if (rc < 0) {
        BB_LOG_ERROR("server", "event bus configuration error", "error=\"%s\"", err);
        return rc;
    }
    bus_s3_attach(srv->bus, srv->store);
    step_done("bus", &t);
    rc = db_ready(store_get_db(srv->store));
    if (rc < 0)
        return rc;
    step_done("checkpoint", &t);

    lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_bridge);
    memset(&info, 0, sizeof(info));
    info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_DISABLE_IPV6;
    /* reads of up to 64 KiB per callback: large bodies in fewer, bigger chunks */
    info.pt_serv_buf_size = 64 * 1024;
    if (strchr(cfg->listen_host, ':') != NULL)
        info.options &= ~(uint64_t)LWS_SERVER_OPTION_DISABLE_IPV6;
    info.user = srv;
    srv->lws = lws_create_context(&info);
    if (srv->lws == NULL) {
        BB_LOG_ERROR("server", "cannot create lws context", NULL);
        return BB_EINVAL;
    }
    memset(&info, 0, sizeof(info));
    info.port = cfg->listen_port; /* 0: the kernel picks a free port */
    info.iface = cfg->listen_host;
    info.protocols = protocols;
    info.vhost_name = "s3";
    info.options = LWS_SERVER_OPTION_ADOPT_APPLY_LISTEN_ACCEPT_CONFIG |
                   LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND;
    info.listen_accept_role = "raw-skt";
    info.listen_accept_protocol = "bb-http";
    vh = lws_create_vhost(srv->lws, &info);
    if (vh == NULL) {
        BB_LOG_ERROR("server", "cannot listen", "host=%s port=%d", cfg->listen_host,
                     cfg->listen_port);
        return BB_EINVAL;
    }
    srv->bound_port = lws_get_vhost_listen_port(vh);
    srv->s3_vhost = vh;
    step_done("listen", &t);
    rc = tls_start(srv, protocols);
    if (rc < 0)
        return rc;
    step_done("tls", &t);
    bus_start(srv->bus, srv->lws);
    rc = ws_start(srv, srv->lws);
    if (rc < 0)
        return rc;
    step_done("ws", &t);
    reset_sweep_trash(cfg->data_dir);
    srv->worker = worker_new(srv->lws);
    if (!cfg->durability_full && srv->worker != NULL)
        worker_submit(srv->worker, checkpoint_run, checkpoint_done,
                      bb_xstrdup(db_path(store_get_db(srv->store))));
    else if (!cfg->durability_full)
        db_checkpoint_file(db_path(store_get_db(srv->store)));
    srv->scan = watch_scan_new(srv->store, cfg, srv->worker, srv->lws);
    if (cfg->watcher_enabled)
        srv->watch = watch_start(cfg->data_dir, srv->lws, srv->scan);
    /* files added, changed or removed while the daemon was stopped */
    watch_scan_reconcile(srv->scan);
    step_done("watch", &t);
    srv->supervise = supervise_start(srv);
    /* group commit from here on: server_run commits after each turn */
    db_batch_enable(store_get_db(srv->store));
    step_done("supervise", &t);
    srv->ready = 1;
    return BB_OK;
}

void server_request_stop(struct server *srv)
{
    stop_flag = 1;
    if (srv->lws != NULL)
        lws_cancel_service(srv->lws);
}

int server_run(struct server *srv)
{
    struct db *db = store_get_db(srv->store);
    while (!stop_flag) {
        if (lws_service(srv->lws, 0) < 0)
            break;
        db_flush(db);
    }
    db_flush(db);
    srv->stopping = 1;
    srv->ready = 0;
    return BB_OK;
}

void server_cleanup(struct server *srv)
{
    supervise_stop(srv->supervise);
    srv->supervise = NULL;
    watch_stop(srv->watch);
    srv->watch = NULL;
    worker_free(srv->worker);
    srv->worker = NULL;
    watch_scan_free(srv->scan);
    srv->scan = NULL;
    ws_conn_stop(srv);
    bus_free(srv->bus); /* before the loop goes: it cancels its timers */
    srv->bus = NULL;
    if (srv->lws != NULL)
        lws_context_destroy(srv->lws); /* closes connections: unfinished uploads are dropped */
    srv->lws = NULL;
    tls_cleanup(srv);
    store_free(srv->store);
    srv->store = NULL;
    s3_bodyhash_shutdown(); /* every upload is freed with its connection */
}
