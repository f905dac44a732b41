/* SPDX-License-Identifier: MIT */
/* supervise: consumer processes: spawn, capture, restart, scale, stop. */
#include "supervise.h"
#include "bb_err.h"
#include "bb_log.h"
#include "bb_mem.h"
#include "bus.h"
#include "bus_queue.h"
#include "config.h"
#include "server.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <libwebsockets.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TICK_US (200 * 1000)
#define MAX_CONSUMERS 16
#define MAX_ARGS 32
#define BACKOFF_MAX_MS 30000

struct instance {
    pid_t pid;
    int restarts; /* times restarted after an exit, ever (reported) */
    int backoff;  /* exits in a row without a minute of uptime (the delay) */
    int64_t started_ms;
    int64_t restart_at_ms; /* when to start again (0: not waiting) */
    int64_t kill_at_ms;    /* stopping: SIGKILL after this */
    struct lws *out;
    char partial[512]; /* an unfinished output line */
    size_t plen;
    struct consumer *c;
    int index;
};

struct consumer {
    char *name;
    char *group;
    char *argv[MAX_ARGS + 1];
    char **env;
    size_t nenv;
    int min, max, scale_depth;
    int want;
    int peak; /* most instances running at once */
    struct instance inst[SUPERVISE_MAX_INSTANCES];
    int64_t idle_ms; /* idle this long before an instance is removed */
    int64_t idle_since;
    int64_t pending, inflight; /* the group's depth at the last tick */
    int missing;
    FILE *log;
};

struct supervise {
    struct server *srv;
    struct consumer v[MAX_CONSUMERS];
    size_t n;
    lws_sorted_usec_list_t sul;
    int stopping;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A bare program name is looked up next to the daemon's executable, then in
 * the build tree (../consumers/<dir>/), then on PATH. New string. */
static char *resolve(const char *cmd)
{
    char exe[PATH_MAX];
    ssize_t n;
    if (strchr(cmd, '/') != NULL)
        return bb_xstrdup(cmd);
    n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash != NULL) {
            *slash = '\0';
            const char *sub = strncmp(cmd, "bucketbridge-", 13) == 0 ? cmd + 13 : cmd;
            char *cands[] = {bb_xasprintf("%s/%s", exe, cmd),
                             bb_xasprintf("%s/../consumers/%s/%s", exe, sub, cmd),
                             bb_xasprintf("%s/../consumers/%s", exe, cmd)};
            char *found = NULL;
            for (int i = 0; i < 3; i++) {
                if (found == NULL && access(cands[i], X_OK) == 0)
                    found = realpath(cands[i], NULL);
                free(cands[i]);
            }
            if (found != NULL) {
                char *r = bb_xstrdup(found);
                free(found);
                return r;
            }
        }
    }
    return bb_xstrdup(cmd); /* execvp searches PATH */
}

static void out_line(struct instance *in, const char *line, size_t len)
{
    struct consumer *c = in->c;
    char ts[32];
    time_t t = time(NULL);
    struct tm tm;
    if (c->log == NULL)
        return;
    gmtime_r(&t, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
    fprintf(c->log, "%s %s[%d] %.*s\n", ts, c->name, in->index, (int)len, line);
    fflush(c->log);
}

int supervise_output_callback(struct lws *wsi, int reason, void *user, void *in, unsigned long len)
{
    struct instance *ins = lws_get_opaque_user_data(wsi);
    char buf[4096];
    ssize_t n;
    (void)user;
    (void)in;
    (void)len;

    switch (reason) {
    case LWS_CALLBACK_RAW_RX_FILE:
        if (ins == NULL)
            return -1;
        n = read(lws_get_socket_fd(wsi), buf, sizeof(buf));
        if (n <= 0)
            return -1; /* EOF: the child closed its output */
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] == '\n' || ins->plen == sizeof(ins->partial)) {
                out_line(ins, ins->partial, ins->plen);
                ins->plen = 0;
                if (buf[i] == '\n')
                    continue;
            }
            ins->partial[ins->plen++] = buf[i];
        }
        return 0;
    case LWS_CALLBACK_RAW_CLOSE_FILE:
        if (ins != NULL) {
            if (ins->plen > 0)
                out_line(ins, ins->partial, ins->plen);
            ins->plen = 0;
            ins->out = NULL;
        }
        return 0;
    default:
        return 0;
    }
}

static void spawn(struct supervise *sv, struct consumer *c, struct instance *in)
{
    const struct config *cfg = sv->srv->cfg;
    int fds[2];
    pid_t pid, parent;
    char port[16], inst[16];

    if (pipe2(fds, O_CLOEXEC) < 0) {
        BB_LOG_ERROR("supervise", "pipe failed", "consumer=%s error=\"%s\"", c->name,
                     strerror(errno));
        return;
    }
    snprintf(port, sizeof(port), "%d", sv->srv->bound_port);
    snprintf(inst, sizeof(inst), "%d", in->index);
    parent = getpid();
    /* a stop signal arriving between fork and exec would run the daemon's
     * handler in the child and be lost there: the consumer would then wait
     * out the stop's grace period. Blocked around the fork, it stays
     * pending in the child until the default action is back. */
    sigset_t stops, old;
    sigemptyset(&stops);
    sigaddset(&stops, SIGTERM);
    sigaddset(&stops, SIGINT);
    sigaddset(&stops, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &stops, &old);
    pid = fork();
    if (pid == 0) {
        signal(SIGTERM, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        signal(SIGPIPE, SIG_DFL);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        /* a consumer never outlives its daemon, even one killed with
         * SIGKILL (it would hold the port's group and the data dir) */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent)
            _exit(0);
        char *ep = bb_xasprintf("http://127.0.0.1:%s", port);
        char *ws = bb_xasprintf("ws://127.0.0.1:%s/_bucketbridge/events", port);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0)
            dup2(devnull, 0);
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        setenv("AWS_ENDPOINT_URL", ep, 1);
        setenv("AWS_ACCESS_KEY_ID", cfg->access_key ? cfg->access_key : "test", 1);
        setenv("AWS_SECRET_ACCESS_KEY", cfg->secret_key ? cfg->secret_key : "test", 1);
        setenv("AWS_DEFAULT_REGION", cfg->region, 1);
        setenv("AWS_REGION", cfg->region, 1);
        setenv("BUCKETBRIDGE_WS_URL", ws, 1);
        setenv("BUCKETBRIDGE_TOKEN",
               cfg->ws_token ? cfg->ws_token : (cfg->secret_key ? cfg->secret_key : ""), 1);
        setenv("BUCKETBRIDGE_DATA_DIR", cfg->data_dir, 1);
        setenv("BUCKETBRIDGE_CONSUMER", c->name, 1);
        setenv("BUCKETBRIDGE_INSTANCE", inst, 1);
        setenv("BUCKETBRIDGE_GROUP", c->group, 1);
        for (size_t i = 0; i < c->nenv; i++)
            putenv(c->env[i]);
        execvp(c->argv[0], c->argv);
        fprintf(stderr, "cannot run %s: %s\n", c->argv[0], strerror(errno));
        _exit(127);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    close(fds[1]);
    if (pid < 0) {
        close(fds[0]);
        BB_LOG_ERROR("supervise", "fork failed", "consumer=%s error=\"%s\"", c->name,
                     strerror(errno));
        return;
    }
    in->pid = pid;
    in->started_ms = now_ms();
    in->restart_at_ms = 0;
    in->kill_at_ms = 0;
    in->plen = 0;
    lws_sock_file_fd_type fd;
    fd.filefd = fds[0];
    lws_adopt_desc_t ad;
    memset(&ad, 0, sizeof(ad));
    ad.vh = sv->srv->s3_vhost;
    ad.type = LWS_ADOPT_RAW_FILE_DESC;
    ad.fd = fd;
    ad.vh_prot_name = "bb-consumer-out";
    ad.opaque = in;
    in->out = lws_adopt_descriptor_vhost_via_info(&ad);
    if (in->out == NULL)
        BB_LOG_WARN("supervise", "consumer output not captured", "consumer=%s", c->name);
    BB_LOG_INFO("supervise", "consumer started", "consumer=%s instance=%d pid=%d", c->name,
                in->index, (int)pid);
}

static void reap(struct supervise *sv, struct consumer *c, struct instance *in, int status)
{
    int64_t up = now_ms() - in->started_ms;
    int stopping = in->kill_at_ms != 0;
    in->pid = 0;
    in->kill_at_ms = 0;
    if (stopping || sv->stopping)
        return;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && up < 2000)
        c->missing = 1;
    if (up > 60000)
        in->backoff = 0;
    int64_t delay = 1000;
    for (int i = 0; i < in->backoff && delay < BACKOFF_MAX_MS; i++)
        delay *= 2;
    if (delay > BACKOFF_MAX_MS)
        delay = BACKOFF_MAX_MS;
    in->backoff++;
    in->restarts++;
    in->restart_at_ms = now_ms() + delay;
    BB_LOG_WARN("supervise", "consumer exited; restarting",
                "consumer=%s instance=%d status=%d restart_in_ms=%lld", c->name, in->index,
                WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), (long long)delay);
}

static int running(const struct consumer *c)
{
    int n = 0;
    for (int i = 0; i < c->max; i++)
        if (c->inst[i].pid > 0 && c->inst[i].kill_at_ms == 0)
            n++;
    return n;
}

static void scale(struct supervise *sv, struct consumer *c, int64_t now)
{
    int64_t pending = 0, inflight = 0;
    int run = running(c);
    bus_queue_group_depth(bus_get_queue(sv->srv->bus), c->group, &pending, &inflight);
    c->pending = pending;
    c->inflight = inflight;
    if (run > c->peak)
        c->peak = run;
    if (pending > 0 || inflight > 0)
        c->idle_since = now;
    if (run > 0 && pending / run > c->scale_depth && c->want < c->max) {
        /* as many as the backlog asks for at once (a burst does not wait a
         * tick per instance), at least one more, at most max */
        int64_t need = (pending + c->scale_depth - 1) / (c->scale_depth > 0 ? c->scale_depth : 1);
        c->want = need > c->max ? c->max : need > c->want + 1 ? (int)need : c->want + 1;
        BB_LOG_INFO("supervise", "scaling up", "consumer=%s instances=%d depth=%lld", c->name,
                    c->want, (long long)pending);
    } else if (c->want > c->min && now - c->idle_since >= c->idle_ms) {
        c->want--;
        c->idle_since = now;
        BB_LOG_INFO("supervise", "scaling down", "consumer=%s instances=%d", c->name, c->want);
    }
}

static void tick(lws_sorted_usec_list_t *sul)
{
    struct supervise *sv = lws_container_of(sul, struct supervise, sul);
    int64_t now = now_ms();

    for (size_t k = 0; k < sv->n; k++) {
        struct consumer *c = &sv->v[k];
        for (int i = 0; i < c->max; i++) {
            struct instance *in = &c->inst[i];
            int status;
            if (in->pid > 0 && waitpid(in->pid, &status, WNOHANG) == in->pid)
                reap(sv, c, in, status);
            if (in->pid > 0 && in->kill_at_ms != 0 && now >= in->kill_at_ms)
                kill(in->pid, SIGKILL);
        }
        scale(sv, c, now);
        for (int i = 0; i < c->max; i++) {
            struct instance *in = &c->inst[i];
            if (i < c->want && in->pid == 0 && now >= in->restart_at_ms)
                spawn(sv, c, in);
            if (i >= c->want && in->pid > 0 && in->kill_at_ms == 0) {
                kill(in->pid, SIGTERM);
                in->kill_at_ms = now + SUPERVISE_STOP_GRACE_MS;
            }
        }
    }
    lws_sul_schedule(sv->srv->lws, 0, &sv->sul, tick, TICK_US);
}

static int load(struct supervise *sv, const cJSON *arr)
{
    const cJSON *o;
    const struct config *cfg = sv->srv->cfg;
    char *logdir = bb_xasprintf("%s/.bucketbridge/logs", cfg->data_dir);
    mkdir(logdir, 0755);
    cJSON_ArrayForEach(o, arr)
    {
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "name"));
        const char *cmd = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "command"));
        const char *group = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "group"));
        const cJSON *args = cJSON_GetObjectItemCaseSensitive(o, "args");
        const cJSON *env = cJSON_GetObjectItemCaseSensitive(o, "env");
        const cJSON *inst = cJSON_GetObjectItemCaseSensitive(o, "instances");
        const cJSON *depth = cJSON_GetObjectItemCaseSensitive(o, "scale_depth");
        const cJSON *idle = cJSON_GetObjectItemCaseSensitive(o, "idle_seconds");
        const cJSON *a;
        struct consumer *c;
        int argc = 0;

        if (sv->n == MAX_CONSUMERS || name == NULL || cmd == NULL)
            continue;
        c = &sv->v[sv->n++];
        c->name = bb_xstrdup(name);
        c->group = bb_xstrdup(group ? group : name);
        c->argv[argc++] = resolve(cmd);
        cJSON_ArrayForEach(a, args)
        {
            if (cJSON_IsString(a) && argc < MAX_ARGS)
                c->argv[argc++] = bb_xstrdup(a->valuestring);
        }
        c->argv[argc] = NULL;
        cJSON_ArrayForEach(a, env)
        {
            if (cJSON_IsString(a)) {
                c->env = bb_xrealloc(c->env, (c->nenv + 1) * sizeof(char *));
                c->env[c->nenv++] = bb_xasprintf("%s=%s", a->string, a->valuestring);
            }
        }
        c->min = 1;
        c->max = 1;
        if (cJSON_IsObject(inst)) {
            const cJSON *mn = cJSON_GetObjectItemCaseSensitive(inst, "min");
            const cJSON *mx = cJSON_GetObjectItemCaseSensitive(inst, "max");
            if (cJSON_IsNumber(mn))
                c->min = (int)mn->valuedouble;
            if (cJSON_IsNumber(mx))
                c->max = (int)mx->valuedouble;
        }
        if (c->max > SUPERVISE_MAX_INSTANCES)
            c->max = SUPERVISE_MAX_INSTANCES;
        if (c->min < 0)
            c->min = 0;
        if (c->min > c->max)
            c->min = c->max;
        c->want = c->min;
        c->scale_depth = cJSON_IsNumber(depth) ? (int)depth->valuedouble : 20;
        c->idle_ms =
            cJSON_IsNumber(idle) ? (int64_t)(idle->valuedouble * 1000.0) : SUPERVISE_IDLE_MS;
        c->idle_since = now_ms();
        for (int i = 0; i < SUPERVISE_MAX_INSTANCES; i++) {
            c->inst[i].c = c;
            c->inst[i].index = i;
        }
        char *path = bb_xasprintf("%s/%s.log", logdir, name);
        c->log = fopen(path, "a");
        free(path);
    }
    free(logdir);
    return BB_OK;
}

struct supervise *supervise_start(struct server *srv)
{
    const struct config *cfg = srv->cfg;
    struct supervise *sv;
    cJSON *arr;

    if (!cfg->consumers_enabled || cfg->consumers_json == NULL)
        return NULL;
    arr = cJSON_Parse(cfg->consumers_json);
    if (cJSON_GetArraySize(arr) == 0) {
        cJSON_Delete(arr);
        return NULL;
    }
    sv = bb_xcalloc(1, sizeof(*sv));
    sv->srv = srv;
    load(sv, arr);
    cJSON_Delete(arr);
    lws_sul_schedule(srv->lws, 0, &sv->sul, tick, 1000);
    return sv;
}

/* While the consumers stop, the loop keeps turning (they close their
 * WebSockets and wait for the daemon's answer): at least every 10 ms. */
static void stop_tick(lws_sorted_usec_list_t *sul)
{
    struct supervise *sv = lws_container_of(sul, struct supervise, sul);
    lws_sul_schedule(sv->srv->lws, 0, &sv->sul, stop_tick, 10 * LWS_US_PER_MS);
}

void supervise_stop(struct supervise *sv)
{
    int64_t deadline;
    if (sv == NULL)
        return;
    sv->stopping = 1;
    lws_sul_schedule(sv->srv->lws, 0, &sv->sul, NULL, LWS_SET_TIMER_USEC_CANCEL);
    for (size_t k = 0; k < sv->n; k++)
        for (int i = 0; i < SUPERVISE_MAX_INSTANCES; i++)
            if (sv->v[k].inst[i].pid > 0)
                kill(sv->v[k].inst[i].pid, SIGTERM);
    stop_tick(&sv->sul);
    deadline = now_ms() + SUPERVISE_STOP_GRACE_MS;
    for (size_t k = 0; k < sv->n; k++) {
        struct consumer *c = &sv->v[k];
        for (int i = 0; i < SUPERVISE_MAX_INSTANCES; i++) {
            struct instance *in = &c->inst[i];
            while (in->pid > 0) {
                int status;
                if (waitpid(in->pid, &status, WNOHANG) == in->pid) {
                    in->pid = 0;
                } else if (now_ms() >= deadline) {
                    kill(in->pid, SIGKILL);
                    waitpid(in->pid, &status, 0);
                    in->pid = 0;
                } else {
                    lws_service(sv->srv->lws, 0);
                }
            }
            if (in->out != NULL)
                lws_set_opaque_user_data(in->out, NULL);
        }
        for (int i = 0; c->argv[i] != NULL; i++)
            free(c->argv[i]);
        for (size_t i = 0; i < c->nenv; i++)
            free(c->env[i]);
        free(c->env);
        free(c->name);
        free(c->group);
        if (c->log != NULL)
            fclose(c->log);
    }
    lws_sul_schedule(sv->srv->lws, 0, &sv->sul, NULL, LWS_SET_TIMER_USEC_CANCEL);
    free(sv);
}

cJSON *supervise_status(struct supervise *sv)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t k = 0; sv != NULL && k < sv->n; k++) {
        struct consumer *c = &sv->v[k];
        cJSON *o = cJSON_CreateObject();
        cJSON *insts = cJSON_CreateArray();
        cJSON_AddStringToObject(o, "name", c->name);
        cJSON_AddStringToObject(o, "group", c->group);
        cJSON_AddStringToObject(o, "command", c->argv[0]);
        cJSON_AddNumberToObject(o, "min", c->min);
        cJSON_AddNumberToObject(o, "max", c->max);
        cJSON_AddNumberToObject(o, "desired", c->want);
        cJSON_AddNumberToObject(o, "running", running(c));
        cJSON_AddNumberToObject(o, "peak", c->peak);
        cJSON_AddNumberToObject(o, "scale_depth", c->scale_depth);
        cJSON_AddNumberToObject(o, "idle_seconds", (double)c->idle_ms / 1000.0);
        cJSON_AddNumberToObject(o, "pending", (double)c->pending);
        cJSON_AddNumberToObject(o, "in_flight", (double)c->inflight);
        if (c->missing)
            cJSON_AddStringToObject(o, "problem", "the command could not be run (not found?)");
        int restarts = 0;
        for (int i = 0; i < c->max; i++) {
            struct instance *in = &c->inst[i];
            cJSON *x = cJSON_CreateObject();
            restarts += in->restarts;
            cJSON_AddNumberToObject(x, "instance", i);
            cJSON_AddNumberToObject(x, "pid", in->pid);
            cJSON_AddStringToObject(x, "state",
                                    in->pid > 0         ? (in->kill_at_ms ? "stopping" : "running")
                                    : in->restart_at_ms ? "restarting"
                                                        : "stopped");
            cJSON_AddNumberToObject(x, "restarts", in->restarts);
            cJSON_AddItemToArray(insts, x);
        }
        cJSON_AddNumberToObject(o, "restarts", restarts);
        cJSON_AddItemToObject(o, "instances", insts);
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}
