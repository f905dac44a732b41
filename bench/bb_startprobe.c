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
 * With --expect-2xx an answer only counts if its status is 2xx. Always bounded
 * by --timeout (default 30 s). Exit 0 on an answer, 1 otherwise.
 */
#include <curl/curl.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

static void stop(pid_t pid)
{
    double until = now_s() + 5.0;

    kill(pid, SIGTERM);
    while (now_s() < until) {
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return;
        nap_us(2000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
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

static void usage(void)
{
    fprintf(stderr, "usage: bb_startprobe --port P [--host H] [--path /] [--timeout S]\n"
                    "       [--access-key K --secret-key S --region R] [--expect-2xx]\n"
                    "       [--show-output] [--pid PID | -- CMD ARGS...]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1";
    const char *path = "/";
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
    if (port <= 0 || port > 65535 || !(timeout > 0) || timeout > 600)
        usage();

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
        stop(child);
    curl_easy_cleanup(e);
    curl_slist_free_all(hdrs);
    curl_global_cleanup();
    return answered ? 0 : 1;
}
