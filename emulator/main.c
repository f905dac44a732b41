/* SPDX-License-Identifier: MIT */
/* bucketbridge: argument handling, signals, run the server. */
#include "bb_err.h"
#include "bb_log.h"
#include "bb_mem.h"
#include "config.h"
#include "config_print.h"
#include "server.h"
#include "tls.h"
#include "bus_event.h"
#include "ready.h"

#include <getopt.h>
#include <sys/resource.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct server g_srv;

/* A non-negative decimal int, or -1. */
static int atoi_checked(const char *s)
{
    char *end = NULL;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < 0 || v > 1 << 20)
        return -1;
    return (int)v;
}

static void on_signal(int sig)
{
    (void)sig;
    server_request_stop(&g_srv);
}

static void usage(FILE *f)
{
    fprintf(
        f, "usage: bucketbridge [options]\n"
           "  --listen HOST:PORT     address to serve S3 on (default 127.0.0.1:4566)\n"
           "  --data-dir DIR         buckets live in DIR/<bucket>/ (default ./data)\n"
           "  --config FILE          JSON configuration file (see docs/configuration.md)\n"
           "  --auth KEY:SECRET|none credentials clients sign with (default test:test)\n"
           "  --durability fast|full fsync every upload and commit with full (default fast)\n"
           "  --log-level LEVEL      error, warn, info or debug (default info)\n"
           "  --no-consumers         do not start the configured consumer programs\n"
           "  --ephemeral            fresh temporary data dir removed at exit; port 0 unless\n"
           "                         --listen is given\n"
           "  --ready-file PATH      write one JSON line (endpoints, credentials, pid) when ready\n"
           "  --ready-fd N           the same JSON line to file descriptor N\n"
           "  --seed N               deterministic event ids (snapshot tests)\n"
           "  --clock-offset S       add S seconds to event times (tests)\n"
           "  --print-config         print the effective configuration file and exit\n"
           "  --version              print the version and exit\n"
           "  --help                 this text\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"listen", required_argument, NULL, 'l'},
        {"data-dir", required_argument, NULL, 'd'},
        {"config", required_argument, NULL, 'c'},
        {"auth", required_argument, NULL, 'a'},
        {"durability", required_argument, NULL, 'D'},
        {"log-level", required_argument, NULL, 'L'},
        {"print-config", no_argument, NULL, 'P'},
        {"no-consumers", no_argument, NULL, 'N'},
        {"ephemeral", no_argument, NULL, 'E'},
        {"ready-file", required_argument, NULL, 'R'},
        {"ready-fd", required_argument, NULL, 'F'},
        {"seed", required_argument, NULL, 'S'},
        {"clock-offset", required_argument, NULL, 'O'},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct config cfg;
    char err[512];
    const char *listen = NULL, *data_dir = NULL, *config_file = NULL, *auth = NULL;
    const char *durability = NULL, *log_level = NULL;
    int print_config = 0;
    int no_consumers = 0;
    int ephemeral = 0;
    int ready_fd = -1;
    const char *ready_file = NULL, *seed = NULL, *clock_offset = NULL;
    char *eph_dir = NULL;
    int opt;
    int rc = 0;
    int exit_code = 1;

    while ((opt = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
        switch (opt) {
        case 'l':
            listen = optarg;
            break;
        case 'd':
            data_dir = optarg;
            break;
        case 'c':
            config_file = optarg;
            break;
        case 'a':
            auth = optarg;
            break;
        case 'D':
            durability = optarg;
            break;
        case 'L':
            log_level = optarg;
            break;
        case 'v':
            log_level = "debug";
            break;
        case 'P':
            print_config = 1;
            break;
        case 'N':
            no_consumers = 1;
            break;
        case 'E':
            ephemeral = 1;
            break;
        case 'R':
            ready_file = optarg;
            break;
        case 'F':
            ready_fd = atoi_checked(optarg);
            if (ready_fd < 0) {
                fprintf(stderr, "bucketbridge: --ready-fd wants a file descriptor number\n");
                return 2;
            }
            break;
        case 'S':
            seed = optarg;
            break;
        case 'O':
            clock_offset = optarg;
            break;
        case 'V':
            printf("bucketbridge %s\n", BB_VERSION);
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "bucketbridge: unexpected argument \"%s\"\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    config_init(&cfg);
    err[0] = '\0';
    if (config_file != NULL)
        rc = config_load_file(&cfg, config_file, err, sizeof(err));
    if (rc == 0 && listen != NULL)
        rc = config_set_listen(&cfg, listen, err, sizeof(err));
    if (rc == 0 && auth != NULL)
        rc = config_set_auth(&cfg, auth, err, sizeof(err));
    if (rc == 0 && data_dir != NULL) {
        free(cfg.data_dir);
        cfg.data_dir = bb_xstrdup(data_dir);
    }
    if (rc == 0 && durability != NULL) {
        if (strcmp(durability, "full") == 0 || strcmp(durability, "fast") == 0) {
            cfg.durability_full = strcmp(durability, "full") == 0;
        } else {
            snprintf(err, sizeof(err), "--durability: want fast or full");
            rc = BB_EINVAL;
        }
    }
    if (no_consumers)
        cfg.consumers_enabled = 0;
    if (rc == 0 && seed != NULL) {
        char *end = NULL;
        unsigned long long v = strtoull(seed, &end, 10);
        if (*seed == '\0' || *end != '\0') {
            snprintf(err, sizeof(err), "--seed: want a non-negative integer");
            rc = BB_EINVAL;
        }
        cfg.has_seed = 1;
        cfg.seed = (uint64_t)v;
    }
    if (rc == 0 && clock_offset != NULL) {
        char *end = NULL;
        long v = strtol(clock_offset, &end, 10);
        if (*clock_offset == '\0' || *end != '\0') {
            snprintf(err, sizeof(err),
                     "--clock-offset: want seconds (an integer, may be negative)");
            rc = BB_EINVAL;
        }
        cfg.clock_offset_s = v;
    }
    if (rc == 0 && ephemeral) {
        /* a fresh data dir, removed at exit; port 0 unless one was given */
        const char *tmp = getenv("TMPDIR");
        eph_dir = bb_xasprintf("%s/bucketbridge-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (mkdtemp(eph_dir) == NULL) {
            snprintf(err, sizeof(err), "--ephemeral: cannot create a temporary directory");
            rc = BB_EINVAL;
        } else {
            free(cfg.data_dir);
            cfg.data_dir = bb_xstrdup(eph_dir);
            if (listen == NULL)
                cfg.listen_port = 0;
        }
    }
    if (rc == 0 && log_level != NULL) {
        free(cfg.log_level);
        cfg.log_level = bb_xstrdup(log_level);
    }
    if (rc == 0 && getenv("BB_LOG_LEVEL") != NULL && getenv("BB_LOG_LEVEL")[0] != '\0') {
        free(cfg.log_level);
        cfg.log_level = bb_xstrdup(getenv("BB_LOG_LEVEL"));
    }
    if (rc == 0 && bb_log_set_level_name(cfg.log_level) < 0) {
        snprintf(err, sizeof(err), "log level: want error, warn, info or debug, got \"%s\"",
                 cfg.log_level);
        rc = BB_EINVAL;
    }
    if (rc < 0) {
        fprintf(stderr, "bucketbridge: configuration error: %s\n", err);
        exit_code = 2;
        goto out;
    }
    if (print_config) {
        char *text = config_print(&cfg);
        fputs(text, stdout);
        free(text);
        exit_code = 0;
        goto out;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    /* many idle connections are fine: take the hard limit of descriptors */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    rc = server_init(&g_srv, &cfg);
    if (rc < 0) {
        server_cleanup(&g_srv);
        goto out;
    }
    if (cfg.has_seed)
        bus_event_seed(cfg.seed);
    if (ready_file != NULL || ready_fd >= 0) {
        /* the ready file names the https port and its certificate */
        (void)tls_cert_wait(&g_srv);
        if (ready_announce(&g_srv, ready_file, ready_fd) < 0) {
            server_cleanup(&g_srv);
            goto out;
        }
    }
    BB_LOG_INFO("main", "bucketbridge ready",
                "version=%s endpoint=http://%s:%d data_dir=\"%s\" access_key=%s secret_key=%s "
                "auth=%s viewer=http://%s:%d/_bucketbridge/",
                BB_VERSION, cfg.listen_host, g_srv.bound_port, cfg.data_dir,
                cfg.auth_enabled ? cfg.access_key : "-", cfg.auth_enabled ? cfg.secret_key : "-",
                cfg.auth_enabled ? "sigv4" : "none", cfg.listen_host, g_srv.bound_port);
    server_run(&g_srv);
    BB_LOG_INFO("main", "shutting down", NULL);
    server_cleanup(&g_srv);
    exit_code = 0;
out:
    if (eph_dir != NULL) {
        ready_remove_tree(eph_dir);
        free(eph_dir);
    }
    config_cleanup(&cfg);
    return exit_code;
}
