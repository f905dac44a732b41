/* SPDX-License-Identifier: MIT */
#include "bench_daemon.h"

#include "bb_err.h"
#include "bb_log.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* the daemon to stop when the bench is interrupted (0: none) */
static volatile sig_atomic_t running_pid;

static void on_signal(int sig)
{
    (void)sig;
    if (running_pid > 0)
        kill((pid_t)running_pid, SIGTERM);
    _exit(130);
}

void bench_daemon_on_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

int64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Reads the whole ready file; NULL until it exists and ends in a newline
 * (the daemon writes it to a temp name and renames it, but be safe). */
static char *read_ready(const char *path)
{
    char *text = NULL;
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return NULL;
    size_t cap = 4096, len = 0;
    text = malloc(cap);
    if (text != NULL) {
        len = fread(text, 1, cap - 1, f);
        text[len] = '\0';
        if (len == 0 || text[len - 1] != '\n') {
            free(text);
            text = NULL;
        }
    }
    fclose(f);
    return text;
}

static void copy_str(char *dst, size_t n, const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    snprintf(dst, n, "%s", cJSON_IsString(v) ? v->valuestring : "");
}

static int parse_ready(const char *text, struct bench_daemon *d)
{
    int rc = BB_ECORRUPT;
    cJSON *o = cJSON_Parse(text);
    const cJSON *port = cJSON_GetObjectItemCaseSensitive(o, "port");
    if (o == NULL || !cJSON_IsNumber(port))
        goto out;
    d->port = port->valueint;
    copy_str(d->token, sizeof(d->token), o, "token");
    copy_str(d->access_key, sizeof(d->access_key), o, "access_key");
    copy_str(d->secret_key, sizeof(d->secret_key), o, "secret_key");
    copy_str(d->data_dir, sizeof(d->data_dir), o, "data_dir");
    rc = 0;
out:
    cJSON_Delete(o);
    return rc;
}

int bench_daemon_start(const char *bin, const char *config, struct bench_daemon *d)
{
    int rc = 0;
    char ready[600], logpath[600];
    const char *tmp = getenv("TMPDIR");

    memset(d, 0, sizeof(*d));
    snprintf(d->dir, sizeof(d->dir), "%s/bbbench.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(d->dir) == NULL) {
        rc = -errno;
        d->dir[0] = '\0';
        goto out;
    }
    snprintf(ready, sizeof(ready), "%s/ready.json", d->dir);
    snprintf(logpath, sizeof(logpath), "%s/daemon.log", d->dir);

    pid_t pid = fork();
    if (pid < 0) {
        rc = -errno;
        goto out;
    }
    if (pid == 0) {
        int fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd >= 0)
            dup2(fd, STDERR_FILENO);
        const char *argv[16];
        int n = 0;
        argv[n++] = bin;
        argv[n++] = "--ephemeral";
        argv[n++] = "--listen";
        argv[n++] = "127.0.0.1:0";
        argv[n++] = "--ready-file";
        argv[n++] = ready;
        argv[n++] = "--no-consumers";
        argv[n++] = "--log-level";
        argv[n++] = "warn";
        if (config != NULL) {
            argv[n++] = "--config";
            argv[n++] = config;
        }
        argv[n] = NULL;
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    d->pid = pid;
    running_pid = pid;

    int64_t deadline = bench_now_ns() + 60LL * 1000000000LL;
    for (;;) {
        char *text = read_ready(ready);
        if (text != NULL) {
            rc = parse_ready(text, d);
            free(text);
            goto out;
        }
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            d->pid = 0;
            running_pid = 0;
            rc = BB_EAGAIN;
            BB_LOG_ERROR("bench", "daemon exited before it was ready", "bin=%s log=%s", bin,
                         logpath);
            goto out;
        }
        if (bench_now_ns() > deadline) {
            rc = BB_EAGAIN;
            BB_LOG_ERROR("bench", "daemon not ready within 60 s", "bin=%s log=%s", bin, logpath);
            goto out;
        }
        sleep_ms(5);
    }
out:
    if (rc != 0 && d->pid > 0) {
        /* keep the log for the user: stop, but leave the directory */
        kill(d->pid, SIGKILL);
        waitpid(d->pid, NULL, 0);
        d->pid = 0;
    }
    if (d->pid == 0)
        running_pid = 0;
    return rc;
}

static int bad_exits;

int bench_daemon_bad_exits(void)
{
    return bad_exits;
}

/* Copies the last 4 KiB of @path to stderr. */
static void dump_tail(const char *path)
{
    char buf[4097];
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return;
    if (fseek(f, 0, SEEK_END) == 0 && ftell(f) > 4096)
        fseek(f, -4096, SEEK_END);
    else
        fseek(f, 0, SEEK_SET);
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    fprintf(stderr, "---- end of %s ----\n%s\n----\n", path, buf);
}

void bench_daemon_stop(struct bench_daemon *d)
{
    char path[600];
    if (d == NULL)
        return;
    if (d->pid > 0) {
        int status = 0;
        kill(d->pid, SIGTERM);
        int64_t deadline = bench_now_ns() + 30LL * 1000000000LL;
        while (waitpid(d->pid, &status, WNOHANG) == 0) {
            if (bench_now_ns() > deadline) {
                BB_LOG_WARN("bench", "daemon ignored SIGTERM for 30 s; SIGKILL", "pid=%d",
                            (int)d->pid);
                kill(d->pid, SIGKILL);
                waitpid(d->pid, &status, 0);
                break;
            }
            sleep_ms(10);
        }
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            bad_exits++;
            BB_LOG_ERROR("bench", "the daemon did not exit cleanly", "pid=%d status=0x%x",
                         (int)d->pid, (unsigned)status);
            snprintf(path, sizeof(path), "%s/daemon.log", d->dir);
            dump_tail(path);
        }
        d->pid = 0;
        running_pid = 0;
    }
    if (d->dir[0] != '\0') {
        snprintf(path, sizeof(path), "%s/ready.json", d->dir);
        unlink(path);
        snprintf(path, sizeof(path), "%s/daemon.log", d->dir);
        unlink(path);
        rmdir(d->dir);
        d->dir[0] = '\0';
    }
}

int bench_proc_sample(pid_t pid, struct bench_proc_sample *out)
{
    char path[64], buf[4096];
    int rc = 0;
    FILE *f = NULL;

    memset(out, 0, sizeof(*out));
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    f = fopen(path, "r");
    if (f == NULL) {
        rc = -errno;
        goto out;
    }
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    f = NULL;
    /* fields after the command's closing parenthesis: state is field 3,
     * utime 14, stime 15 */
    char *p = strrchr(buf, ')');
    unsigned long long ut = 0, st = 0;
    if (p == NULL ||
        sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2) {
        rc = BB_ECORRUPT;
        goto out;
    }
    out->cpu_s = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);

    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    f = fopen(path, "r");
    if (f == NULL) {
        rc = -errno;
        goto out;
    }
    while (fgets(buf, sizeof(buf), f) != NULL) {
        unsigned long long v;
        if (sscanf(buf, "VmRSS: %llu", &v) == 1)
            out->rss_kib = v;
        else if (sscanf(buf, "VmHWM: %llu", &v) == 1)
            out->hwm_kib = v;
    }
    fclose(f);
    f = NULL;

    /* run and run-queue wait of every thread: how much CPU it could not get */
    snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
    DIR *dir = opendir(path);
    struct dirent *de;
    while (dir != NULL && (de = readdir(dir)) != NULL) {
        char sp[300];
        unsigned long long run = 0, wait = 0;
        if (de->d_name[0] == '.')
            continue;
        snprintf(sp, sizeof(sp), "/proc/%d/task/%s/schedstat", (int)pid, de->d_name);
        FILE *tf = fopen(sp, "r");
        if (tf == NULL)
            continue;
        if (fscanf(tf, "%llu %llu", &run, &wait) == 2) {
            out->run_s += (double)run / 1e9;
            out->wait_s += (double)wait / 1e9;
        }
        fclose(tf);
    }
    if (dir != NULL)
        closedir(dir);
out:
    if (f != NULL)
        fclose(f);
    return rc;
}

static void *rss_watch_main(void *arg)
{
    struct bench_rss_watch *w = arg;
    while (!w->stop) {
        struct bench_proc_sample s;
        if (bench_proc_sample(w->pid, &s) == 0) {
            if (s.rss_kib > w->max_rss_kib)
                w->max_rss_kib = s.rss_kib;
            w->samples++;
        }
        sleep_ms(w->interval_ms);
    }
    return NULL;
}

int bench_rss_watch_start(struct bench_rss_watch *w, pid_t pid, int interval_ms)
{
    pthread_t t;
    memset(w, 0, sizeof(*w));
    w->pid = pid;
    w->interval_ms = interval_ms > 0 ? interval_ms : 50;
    int rc = pthread_create(&t, NULL, rss_watch_main, w);
    if (rc != 0)
        return -rc;
    w->thread = (unsigned long)t;
    return 0;
}

void bench_rss_watch_stop(struct bench_rss_watch *w)
{
    w->stop = 1;
    pthread_join((pthread_t)w->thread, NULL);
}
