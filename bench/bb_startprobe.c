/* SPDX-License-Identifier: MIT */
/*
 * bb_startprobe: time from starting a server to its first answered request.
 *
 *   bb_startprobe --port P [options] -- CMD ARGS...
 *       starts CMD, polls it in a tight loop with a SigV4-signed GET of --path
 *       (default "/", ListBuckets), prints {"startup_ms":..,"status":..} when the
 *       first answer arrives, then stops CMD (SIGTERM, SIGKILL after 5 s).
 *   bb_startprobe --port P [--pid PID] [options]
 *       only waits until the server already started on port P answers; gives up
 *       early if PID exits.
 *
 *   bb_startprobe --ready-file F [options] -- CMD ARGS...
 *       starts CMD and times it until the file F appears (inotify on F's
 *       directory: the rename or the close of a write that creates it). Then,
 *       not timed: checks that F names CMD's pid, GETs --path (default
 *       /_bucketbridge/health here) from F's "endpoint" expecting a 2xx, stops
 *       CMD (SIGTERM; SIGKILL only after 15 s) and reports whether F's
 *       "data_dir" is gone afterwards. Prints {"ready_ms":..,"health_status":..,
 *       "stop_ms":..,"killed":..,"data_dir_removed":..}.
 *
 * With --expect-2xx an answer only counts if its status is 2xx. Always bounded
 * by --timeout (default 30 s). Exit 0 on an answer, 1 otherwise.
 */
#include <curl/curl.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t discard(char *ptr, size_t size, size_t nmemb, void *userp)
{
    return size * nmemb;
}

static void nap_us(long us)
{
    struct timespec ts = {.tv_sec = 0, .tv_nsec = us * 1000};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static pid_t spawn(char **argv, bool show_output)
{
    pid_t pid = fork();

    if (pid < 0) {
        perror("bb_startprobe: fork");
        exit(1);
    }
    if (pid == 0) {
        if (!show_output) {
            int fd = open("/dev/null", O_WRONLY);

            if (fd >= 0) {
                dup2(fd, STDOUT_FILENO);
                dup2(fd, STDERR_FILENO);
                close(fd);
            }
        }
        execvp(argv[0], argv);
        _exit(127);
    }
    return pid;
}

/* SIGTERM, then SIGKILL after grace_s; returns false if it had to be killed. */
static bool stop(pid_t pid, double grace_s)
{
    double until = now_s() + grace_s;

    kill(pid, SIGTERM);
    while (now_s() < until) {
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return true;
        nap_us(2000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return false;
}

/* Is pid alive? A zombie (our own exited child) is not. */
static bool alive(pid_t pid)
{
    char path[64];
    char buf[512];
    FILE *f;
    size_t n;
    char *paren;

    if (kill(pid, 0) != 0)
        return false;
    snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
    f = fopen(path, "r");
    if (!f)
        return false;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    paren = strrchr(buf, ')');
    return paren && paren[1] == ' ' && paren[2] != 'Z' && paren[2] != 'X';
}

/*
 * The string value of "key" in the one-line JSON object text, copied into out;
 * false if absent. Enough for the ready line, whose strings have no escapes
 * other than \/ (which is undone here).
 */
static bool json_str(const char *text, const char *key, char *out, size_t cap)
{
    char pat[64];
    const char *p;
    size_t n = 0;

    snprintf(pat, sizeof(pat), "\"%s\":\"", key);
    p = strstr(text, pat);
    if (!p)
        return false;
    for (p += strlen(pat); *p && *p != '"' && n + 1 < cap; p++) {
        if (*p == '\\' && p[1] == '/')
            p++;
        out[n++] = *p;
    }
    out[n] = '\0';
    return *p == '"';
}

static long json_long(const char *text, const char *key)
{
    char pat[64];
    const char *p;

    snprintf(pat, sizeof(pat), "\"%s\":", key);
    p = strstr(text, pat);
    return p ? strtol(p + strlen(pat), NULL, 10) : -1;
}

/*
 * Start cmd and wait until path appears. inotify watches path's directory
 * before the fork, so neither a rename into it nor a write of it can be
 * missed. Returns the milliseconds from just before fork, or -1 when the child
 * exited first or the deadline passed; *child is the started pid (0 if it has
 * been reaped).
 */
static double time_ready_file(const char *path, char **cmd, bool show_output, double timeout,
                              pid_t *child)
{
    char dir[PATH_MAX];
    const char *base;
    const char *slash = strrchr(path, '/');
    unsigned char evbuf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    double t0;
    double deadline;
    double ms = -1;
    int ifd;

    if (!slash) {
        snprintf(dir, sizeof(dir), ".");
        base = path;
    } else {
        snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path) ? (int)(slash - path) : 1, path);
        base = slash + 1;
    }
    if (unlink(path) < 0 && errno != ENOENT) {
        fprintf(stderr, "bb_startprobe: cannot remove the old %s: %s\n", path, strerror(errno));
        return -1;
    }
    ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    if (ifd < 0 || inotify_add_watch(ifd, dir, IN_MOVED_TO | IN_CLOSE_WRITE) < 0) {
        fprintf(stderr, "bb_startprobe: inotify on %s: %s\n", dir, strerror(errno));
        if (ifd >= 0)
            close(ifd);
        return -1;
    }
    t0 = now_s();
    deadline = t0 + timeout;
    *child = spawn(cmd, show_output);
    while (ms < 0 && now_s() < deadline) {
        struct pollfd pfd = {.fd = ifd, .events = POLLIN};
        ssize_t n;

        /* the deadline and the child's exit are checked at least every 50 ms */
        if (poll(&pfd, 1, 50) < 0 && errno != EINTR)
            break;
        while ((n = read(ifd, evbuf, sizeof(evbuf))) > 0) {
            for (ssize_t off = 0; off < n;) {
                const struct inotify_event *ev = (const struct inotify_event *)(evbuf + off);

                if (ms < 0 && ev->len > 0 && strcmp(ev->name, base) == 0)
                    ms = (now_s() - t0) * 1000.0;
                off += (ssize_t)(sizeof(*ev) + ev->len);
            }
        }
        if (ms < 0 && waitpid(*child, NULL, WNOHANG) == *child) {
            fprintf(stderr, "bb_startprobe: %s exited before writing %s\n", cmd[0], path);
            *child = 0;
            break;
        }
    }
    close(ifd);
    if (ms < 0 && *child)
        fprintf(stderr, "bb_startprobe: %s did not appear within %.0f s\n", path, timeout);
    return ms;
}

/* --ready-file mode; returns the exit status. */
static int ready_mode(const char *path, char **cmd, bool show_output, double timeout,
                      const char *health_path, bool expect_2xx)
{
    char text[8192];
    char endpoint[512];
    char data_dir[PATH_MAX];
    char url[1024];
    pid_t child = 0;
    long status = 0;
    long pid;
    double ready_ms;
    double t_stop;
    double stop_ms = -1;
    bool removed = false;
    bool killed = false;
    bool ok = false;
    size_t n = 0;
    FILE *f;
    CURL *e = NULL;
    struct stat st;

    ready_ms = time_ready_file(path, cmd, show_output, timeout, &child);
    if (ready_ms < 0)
        goto out;
    f = fopen(path, "r");
    if (f) {
        n = fread(text, 1, sizeof(text) - 1, f);
        fclose(f);
    }
    text[n] = '\0';
    pid = json_long(text, "pid");
    if (!json_str(text, "endpoint", endpoint, sizeof(endpoint)) || pid != (long)child) {
        fprintf(stderr, "bb_startprobe: %s does not name an endpoint and pid %ld: %s\n", path,
                (long)child, text);
        goto out;
    }
    if (!json_str(text, "data_dir", data_dir, sizeof(data_dir)))
        data_dir[0] = '\0';
    /* the ready file promises a serving daemon: ask it once (not timed) */
    e = curl_easy_init();
    if (!e)
        goto out;
    snprintf(url, sizeof(url), "%s%s", endpoint, health_path);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(timeout * 1000.0));
    if (curl_easy_perform(e) == CURLE_OK)
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    ok = status > 0 && (!expect_2xx || (status >= 200 && status <= 299));
    if (!ok)
        fprintf(stderr, "bb_startprobe: %s answered %ld after the ready file\n", url, status);
out:
    if (child) {
        /* longer than bucketbridge's own 5 s grace for its consumers */
        t_stop = now_s();
        killed = !stop(child, 15.0);
        stop_ms = (now_s() - t_stop) * 1000.0;
    }
    if (ok && data_dir[0])
        removed = stat(data_dir, &st) < 0 && errno == ENOENT;
    if (ok)
        printf("{\"ready_ms\":%.2f,\"health_status\":%ld,\"stop_ms\":%.1f,\"killed\":%s,"
               "\"data_dir_removed\":%s}\n",
               ready_ms, status, stop_ms, killed ? "true" : "false", removed ? "true" : "false");
    fflush(stdout);
    if (e)
        curl_easy_cleanup(e);
    return ok ? 0 : 1;
}

static void usage(void)
{
    fprintf(stderr, "usage: bb_startprobe --port P [--host H] [--path /] [--timeout S]\n"
                    "       [--access-key K --secret-key S --region R] [--expect-2xx]\n"
                    "       [--show-output] [--pid PID | -- CMD ARGS...]\n"
                    "       bb_startprobe --ready-file F [--path /_bucketbridge/health]\n"
                    "       [--timeout S] [--expect-2xx] [--show-output] -- CMD ARGS...\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1";
    const char *path = NULL;
    const char *ready_file = NULL;
    const char *ak = "test";
    const char *sk = "test";
    const char *region = "us-east-1";
    long port = 0;
    double timeout = 30.0;
    bool expect_2xx = false;
    bool show_output = false;
    pid_t watch = 0;
    pid_t child = 0;
    char **cmd = NULL;
    char url[512];
    char sigv4[128];
    double t0;
    double deadline;
    long status = 0;
    bool answered = false;
    CURL *e;
    struct curl_slist *hdrs;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (strcmp(a, "--") == 0) {
            if (i + 1 >= argc)
                usage();
            cmd = &argv[i + 1];
            break;
        } else if (strcmp(a, "--expect-2xx") == 0) {
            expect_2xx = true;
        } else if (strcmp(a, "--show-output") == 0) {
            show_output = true;
        } else if (!v) {
            usage();
        } else if (strcmp(a, "--port") == 0) {
            port = strtol(v, NULL, 10);
            i++;
        } else if (strcmp(a, "--host") == 0) {
            host = v;
            i++;
        } else if (strcmp(a, "--ready-file") == 0) {
            ready_file = v;
            i++;
        } else if (strcmp(a, "--path") == 0) {
            path = v;
            i++;
        } else if (strcmp(a, "--timeout") == 0) {
            timeout = strtod(v, NULL);
            i++;
        } else if (strcmp(a, "--pid") == 0) {
            watch = (pid_t)strtol(v, NULL, 10);
            i++;
        } else if (strcmp(a, "--access-key") == 0) {
            ak = v;
            i++;
        } else if (strcmp(a, "--secret-key") == 0) {
            sk = v;
            i++;
        } else if (strcmp(a, "--region") == 0) {
            region = v;
            i++;
        } else {
            usage();
        }
    }
    if (!(timeout > 0) || timeout > 600)
        usage();
    if (ready_file) {
        int rc;

        if (!cmd || !*ready_file)
            usage();
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            return 1;
        rc = ready_mode(ready_file, cmd, show_output, timeout,
                        path ? path : "/_bucketbridge/health", expect_2xx);
        curl_global_cleanup();
        return rc;
    }
    if (port <= 0 || port > 65535)
        usage();
    if (!path)
        path = "/";

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 1;
    e = curl_easy_init();
    if (!e)
        return 1;
    snprintf(url, sizeof(url), "http://%s:%ld%s", host, port, path);
    snprintf(sigv4, sizeof(sigv4), "aws:amz:%s:s3", region);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_AWS_SIGV4, sigv4);
    curl_easy_setopt(e, CURLOPT_USERNAME, ak);
    curl_easy_setopt(e, CURLOPT_PASSWORD, sk);
    /* S3 servers insist on the payload hash; this is the empty body's */
    hdrs =
        curl_slist_append(NULL, "x-amz-content-sha256: "
                                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    if (!hdrs)
        return 1;
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 1000L);

    t0 = now_s();
    deadline = t0 + timeout;
    if (cmd)
        child = spawn(cmd, show_output);
    while (now_s() < deadline) {
        long left_ms = (long)((deadline - now_s()) * 1000.0) + 1;
        CURLcode rc;

        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, left_ms);
        rc = curl_easy_perform(e);
        if (rc == CURLE_OK) {
            curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
            if (status > 0 && (!expect_2xx || (status >= 200 && status <= 299))) {
                answered = true;
                break;
            }
        }
        if (child && waitpid(child, NULL, WNOHANG) == child) {
            fprintf(stderr, "bb_startprobe: %s exited before answering\n", cmd[0]);
            child = 0;
            break;
        }
        if (watch && !alive(watch)) {
            fprintf(stderr, "bb_startprobe: pid %ld is gone\n", (long)watch);
            break;
        }
        nap_us(200);
    }
    if (answered)
        printf("{\"startup_ms\":%.2f,\"status\":%ld}\n", (now_s() - t0) * 1000.0, status);
    else
        fprintf(stderr, "bb_startprobe: no %sanswer from %s (last status %ld)\n",
                expect_2xx ? "2xx " : "", url, status);
    fflush(stdout);
    if (child)
        stop(child, 5.0);
    curl_easy_cleanup(e);
    curl_slist_free_all(hdrs);
    curl_global_cleanup();
    return answered ? 0 : 1;
}
