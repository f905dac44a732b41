/* SPDX-License-Identifier: MIT */
/* ready: the ready line and the ephemeral data dir's removal. */
#include "ready.h"
#include "bb_err.h"
#include "bb_io.h"
#include "bb_log.h"
#include "bb_mem.h"
#include "config.h"
#include "server.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int ready_announce(struct server *srv, const char *path, int fd)
{
    const struct config *cfg = srv->cfg;
    cJSON *o = cJSON_CreateObject();
    char *base =
        bb_xasprintf("http://%s:%d", strchr(cfg->listen_host, ':') ? "[::1]" : cfg->listen_host,
                     srv->bound_port);
    char *ws =
        bb_xasprintf("ws://%s:%d/_bucketbridge/events",
                     strchr(cfg->listen_host, ':') ? "[::1]" : cfg->listen_host, srv->bound_port);
    char *viewer = bb_xasprintf("%s/_bucketbridge/", base);
    char *text, *line;
    int rc = BB_OK;

    cJSON_AddStringToObject(o, "endpoint", base);
    cJSON_AddStringToObject(o, "s3", base);
    cJSON_AddStringToObject(o, "events_api", base);
    cJSON_AddStringToObject(o, "websocket", ws);
    cJSON_AddStringToObject(o, "viewer", viewer);
    if (srv->tls_port > 0) {
        char *https =
            bb_xasprintf("https://%s:%d", strchr(cfg->https_host, ':') ? "[::1]" : cfg->https_host,
                         srv->tls_port);
        char *wss = bb_xasprintf("wss%s/_bucketbridge/events", https + 5);
        cJSON_AddStringToObject(o, "https", https);
        cJSON_AddNumberToObject(o, "https_port", srv->tls_port);
        cJSON_AddStringToObject(o, "websocket_tls", wss);
        cJSON_AddStringToObject(o, "tls_cert", srv->tls_cert_path);
        free(wss);
        free(https);
    }
    cJSON_AddNumberToObject(o, "port", srv->bound_port);
    cJSON_AddStringToObject(o, "access_key", cfg->auth_enabled ? cfg->access_key : "");
    cJSON_AddStringToObject(o, "secret_key", cfg->auth_enabled ? cfg->secret_key : "");
    cJSON_AddStringToObject(
        o, "token", cfg->auth_enabled ? (cfg->ws_token ? cfg->ws_token : cfg->secret_key) : "");
    cJSON_AddStringToObject(o, "region", cfg->region);
    cJSON_AddStringToObject(o, "account_id", cfg->account_id);
    cJSON_AddStringToObject(o, "data_dir", cfg->data_dir);
    cJSON_AddNumberToObject(o, "pid", (double)getpid());
    text = cJSON_PrintUnformatted(o);
    line = bb_xasprintf("%s\n", text);
    cJSON_free(text);
    cJSON_Delete(o);
    if (path != NULL) {
        char *tmp = bb_xasprintf("%s.tmp.%d", path, (int)getpid());
        int f = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        rc = f < 0 ? -errno : bb_write_all(f, line, strlen(line));
        if (f >= 0)
            close(f);
        if (rc == BB_OK && rename(tmp, path) < 0)
            rc = -errno;
        if (rc < 0) {
            unlink(tmp);
            BB_LOG_ERROR("main", "cannot write the ready file", "path=\"%s\" error=\"%s\"", path,
                         bb_strerror(rc));
        }
        free(tmp);
    }
    if (rc == BB_OK && fd >= 0) {
        rc = bb_write_all(fd, line, strlen(line));
        if (rc < 0)
            BB_LOG_ERROR("main", "cannot write the ready line", "fd=%d error=\"%s\"", fd,
                         bb_strerror(rc));
        close(fd);
    }
    free(line);
    free(base);
    free(ws);
    free(viewer);
    return rc;
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
    (void)sb;
    (void)flag;
    (void)f;
    return remove(p) < 0 ? 0 : 0;
}

void ready_remove_tree(const char *dir)
{
    nftw(dir, rm_one, 32, FTW_DEPTH | FTW_PHYS);
}
