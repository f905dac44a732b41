/* SPDX-License-Identifier: MIT */
/* bucketbridge-logger: flags and environment, signals, run the loop. */
#include "logger_run.h"
#include "bb_err.h"
#include "bb_log.h"
#include "bb_mem.h"
#include "bb_wsclient.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: bucketbridge-logger [options]\n"
               "Writes one JSON Lines record per event of the \"logger\" consumer group to\n"
               "DATA_DIR/.bucketbridge/logs/processing-YYYY-MM-DD.jsonl and a line to stdout.\n"
               "  --data-dir DIR         (env BUCKETBRIDGE_DATA_DIR; default ./data)\n"
               "  --log-dir DIR          where the .jsonl files go (default DATA_DIR/.bucketbridge/"
               "logs)\n"
               "  --ws-url URL           event endpoint (env BUCKETBRIDGE_WS_URL; default from\n"
               "                         --endpoint: ws://HOST:PORT/_bucketbridge/events, or\n"
               "                         wss://... for an https:// endpoint)\n"
               "  --endpoint URL         (env AWS_ENDPOINT_URL; default http://127.0.0.1:4566);\n"
               "                         https://HOST:PORT, the daemon's TLS port, means wss\n"
               "  --ca FILE              with wss: check the daemon's certificate against FILE\n"
               "                         (env AWS_CA_BUNDLE; its <data>/.bucketbridge/tls/\n"
               "                         cert.pem); without it any self-signed certificate is\n"
               "                         accepted, on a loopback host only\n"
               "  --token TOKEN          WebSocket token (env BUCKETBRIDGE_TOKEN)\n"
               "  --access-key, --secret-key, --region   accepted and unused\n"
               "  --group NAME           consumer group (default logger)\n"
               "  --credit N             deliveries in flight (default 32)\n"
               "  --quiet                no human lines on stdout\n"
               "  --log-level LEVEL      error, warn, info or debug (env BB_LOG_LEVEL)\n"
               "  -v                     debug logging\n"
               "  --version, --help\n");
}

static const char *env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);

    return v != NULL && v[0] != '\0' ? v : fallback;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data-dir", required_argument, NULL, 'D'},
        {"log-dir", required_argument, NULL, 'O'},
        {"ws-url", required_argument, NULL, 'W'},
        {"endpoint", required_argument, NULL, 'E'},
        {"ca", required_argument, NULL, 'C'},
        {"token", required_argument, NULL, 'T'},
        {"access-key", required_argument, NULL, 'A'},
        {"secret-key", required_argument, NULL, 'S'},
        {"region", required_argument, NULL, 'R'},
        {"group", required_argument, NULL, 'g'},
        {"credit", required_argument, NULL, 'c'},
        {"quiet", no_argument, NULL, 'Q'},
        {"log-level", required_argument, NULL, 'L'},
        {"version", no_argument, NULL, 'Z'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *data_dir = env_or("BUCKETBRIDGE_DATA_DIR", "./data");
    const char *endpoint = env_or("AWS_ENDPOINT_URL", "http://127.0.0.1:4566");
    const char *ws_url = env_or("BUCKETBRIDGE_WS_URL", NULL);
    const char *log_level = env_or("BB_LOG_LEVEL", NULL);
    const char *ca_file = env_or("AWS_CA_BUNDLE", NULL);
    const char *log_dir = NULL;
    const char *secret_key = env_or("AWS_SECRET_ACCESS_KEY", "test");
    struct logger_run_conf conf = {0};
    struct sigaction sa;
    char *derived_ws = NULL, *derived_dir = NULL;
    char host[256];
    char *end;
    long v;
    int opt, rc, exit_code = 1;

    conf.group = env_or("BUCKETBRIDGE_GROUP", "logger");
    conf.credit = 32;
    conf.ack_delay_ms = LOGGER_RUN_ACK_DELAY_MS;
    conf.visibility_timeout_s = 30;
    conf.token = env_or("BUCKETBRIDGE_TOKEN", NULL);
    while ((opt = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
        switch (opt) {
        case 'D':
            data_dir = optarg;
            break;
        case 'O':
            log_dir = optarg;
            break;
        case 'W':
            ws_url = optarg;
            break;
        case 'E':
            endpoint = optarg;
            break;
        case 'C':
            ca_file = optarg;
            break;
        case 'T':
            conf.token = optarg;
            break;
        case 'S':
            secret_key = optarg;
            break;
        case 'A':
        case 'R':
            break;
        case 'g':
            conf.group = optarg;
            break;
        case 'c':
            v = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || v < 1 || v > 1000) {
                fprintf(stderr, "bucketbridge-logger: bad value for --credit: %s\n", optarg);
                return 2;
            }
            conf.credit = (int)v;
            break;
        case 'Q':
            conf.quiet = 1;
            break;
        case 'L':
            log_level = optarg;
            break;
        case 'v':
            log_level = "debug";
            break;
        case 'Z':
            printf("bucketbridge-logger %s\n", BB_VERSION);
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
        usage(stderr);
        return 2;
    }
    if (log_level != NULL && bb_log_set_level_name(log_level) < 0) {
        fprintf(stderr, "bucketbridge-logger: bad value for --log-level: %s\n", log_level);
        return 2;
    }
    if (ws_url == NULL) {
        derived_ws = logger_run_ws_url(endpoint);
        if (derived_ws == NULL) {
            fprintf(stderr,
                    "bucketbridge-logger: --endpoint wants http://HOST:PORT or "
                    "https://HOST:PORT, got %s\n",
                    endpoint);
            exit_code = 2;
            goto out;
        }
        ws_url = derived_ws;
    }
    if (bb_wsclient_parse_url(ws_url, host, sizeof(host), &conf.ws_port, &conf.ws_tls) < 0) {
        fprintf(stderr, "bucketbridge-logger: bad WebSocket URL: %s\n", ws_url);
        exit_code = 2;
        goto out;
    }
    if (conf.ws_tls && ca_file == NULL && !bb_wsclient_host_is_loopback(host)) {
        fprintf(
            stderr,
            "bucketbridge-logger: %s is not a loopback host: give --ca FILE (or AWS_CA_BUNDLE), "
            "the daemon's <data>/.bucketbridge/tls/cert.pem, to check its certificate\n",
            ws_url);
        exit_code = 2;
        goto out;
    }
    if (conf.ws_tls)
        conf.ca_file = ca_file; /* a CA with plain ws:// has nothing to check */
    if (log_dir == NULL) {
        derived_dir = bb_xasprintf("%s/.bucketbridge/logs", data_dir);
        log_dir = derived_dir;
    }
    if (conf.token == NULL)
        conf.token = secret_key; /* the daemon's default token */
    conf.ws_host = host;
    conf.log_dir = log_dir;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    bb_wsclient_log_lws(bb_log_level_current >= BB_LOG_LEVEL_DEBUG);

    BB_LOG_INFO("logger", "starting", "ws=%s ca=%s dir=%s", ws_url,
                conf.ca_file ? conf.ca_file : "-", log_dir);
    rc = logger_run(&conf, &g_stop);
    if (rc < 0) {
        BB_LOG_ERROR("logger", "cannot run", "rc=%s", bb_strerror(rc));
        goto out;
    }
    BB_LOG_INFO("logger", "stopped", NULL);
    exit_code = 0;
out:
    free(derived_ws);
    free(derived_dir);
    return exit_code;
}
