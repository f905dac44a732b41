/* SPDX-License-Identifier: MIT */
/* bucketbridge-tail: flags and signals; the work is in tail.c. */
#include "bb_err.h"
#include "bb_log.h"
#include "bb_wsclient.h"
#include "tail.h"

#include <errno.h>
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
    fprintf(f,
            "usage: bucketbridge-tail [options]\n"
            "  --endpoint URL        ws://HOST:PORT of the daemon (default ws://127.0.0.1:4566),\n"
            "                        or wss://HOST:PORT for its TLS port\n"
            "  --ca FILE             with wss: check the daemon's certificate against FILE\n"
            "                        (its <data>/.bucketbridge/tls/cert.pem); without it a\n"
            "                        self-signed certificate is accepted on a loopback host\n"
            "                        only\n"
            "  --token T             WebSocket token: the daemon's secret key (default $BB_TOKEN,\n"
            "                        else \"test\"); \"\" when it runs with --auth none\n"
            "  --pattern JSON        EventBridge event pattern (default: every event)\n"
            "  --since POS           latest (default), earliest, a sequence number (start\n"
            "                        after it) or a UTC time like 2026-11-26T08:00:00Z\n"
            "  --bus NAME            the event bus to follow, a name or an ARN (default: the\n"
            "                        default bus); one that does not exist exits 1\n"
            "  --group NAME          share the deliveries of consumer group NAME, acking each\n"
            "                        once printed (instead of a live stream)\n"
            "  --credit N            deliveries in flight with --group (default 1)\n"
            "  --visibility-timeout S  seconds to ack a delivery with --group (default 30)\n"
            "  --format json|pretty  one JSON line per event (default) or a readable line\n"
            "  -v, --verbose         debug logging on stderr\n"
            "  -h, --help            this text\n");
}

static int parse_int(const char *s, int lo, int hi, int *out)
{
    char *end = NULL;
    long v;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
        return BB_EINVAL;
    *out = (int)v;
    return BB_OK;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"endpoint", required_argument, NULL, 'e'},
        {"ca", required_argument, NULL, 'C'},
        {"token", required_argument, NULL, 't'},
        {"pattern", required_argument, NULL, 'p'},
        {"since", required_argument, NULL, 's'},
        {"bus", required_argument, NULL, 'b'},
        {"group", required_argument, NULL, 'g'},
        {"credit", required_argument, NULL, 'c'},
        {"visibility-timeout", required_argument, NULL, 'V'},
        {"format", required_argument, NULL, 'f'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *endpoint = "ws://127.0.0.1:4566";
    const char *env_token = getenv("BB_TOKEN");
    struct tail_opts o;
    struct sigaction sa;
    char host[256];
    char why[512] = "";
    int verbose = 0;
    int opt, rc;

    memset(&o, 0, sizeof(o));
    o.token = env_token ? env_token : "test";
    o.credit = 1;
    o.visibility_timeout_s = 30;
    o.format = TAIL_FORMAT_JSON;
    while ((opt = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
        switch (opt) {
        case 'e':
            endpoint = optarg;
            break;
        case 'C':
            o.ca_file = optarg;
            break;
        case 't':
            o.token = optarg;
            break;
        case 'p':
            o.pattern = optarg;
            break;
        case 's':
            o.since = optarg;
            break;
        case 'b':
            o.bus = optarg;
            break;
        case 'g':
            o.group = optarg;
            break;
        case 'c':
            if (parse_int(optarg, 1, 1000, &o.credit) < 0) {
                fprintf(stderr, "bucketbridge-tail: --credit wants 1..1000\n");
                return 2;
            }
            break;
        case 'V':
            if (parse_int(optarg, 1, 43200, &o.visibility_timeout_s) < 0) {
                fprintf(stderr, "bucketbridge-tail: --visibility-timeout wants 1..43200\n");
                return 2;
            }
            break;
        case 'f':
            if (strcmp(optarg, "json") == 0) {
                o.format = TAIL_FORMAT_JSON;
            } else if (strcmp(optarg, "pretty") == 0) {
                o.format = TAIL_FORMAT_PRETTY;
            } else {
                fprintf(stderr, "bucketbridge-tail: --format wants json or pretty\n");
                return 2;
            }
            break;
        case 'v':
            verbose = 1;
            break;
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
    if (bb_wsclient_parse_url(endpoint, host, sizeof(host), &o.port, &o.tls) < 0) {
        fprintf(stderr, "bucketbridge-tail: --endpoint wants ws://HOST:PORT or wss://HOST:PORT\n");
        return 2;
    }
    o.host = host;
    /* an unchecked self-signed certificate is only sound on this machine */
    if (o.tls && o.ca_file == NULL && !bb_wsclient_host_is_loopback(host)) {
        fprintf(stderr,
                "bucketbridge-tail: wss://%s:%d is not a loopback host: give --ca FILE (the "
                "daemon's <data>/.bucketbridge/tls/cert.pem) to check its certificate\n",
                host, o.port);
        return 2;
    }
    if (o.group != NULL && (o.pattern != NULL || o.since != NULL || o.bus != NULL)) {
        fprintf(stderr, "bucketbridge-tail: --pattern, --since and --bus apply to live streams, "
                        "not to --group (the group's rules decide what it gets)\n");
        return 2;
    }
    /* checked here so a typo fails now rather than once connected */
    if (o.group == NULL) {
        char *probe = NULL;
        if (o.bus != NULL && (o.bus[0] == '\0' || strlen(o.bus) > BB_WSCLIENT_BUS_MAX)) {
            fprintf(stderr,
                    "bucketbridge-tail: --bus wants an event bus name or ARN (1-%d bytes)\n",
                    BB_WSCLIENT_BUS_MAX);
            return 2;
        }
        rc = bb_wsclient_encode_subscribe("tail", o.pattern, o.since, o.bus, &probe);
        free(probe);
        if (rc < 0) {
            fprintf(stderr, "bucketbridge-tail: --pattern must be a JSON object and --since "
                            "latest, earliest, a number or a time\n");
            return 2;
        }
    }
    bb_log_set_level(verbose ? BB_LOG_LEVEL_DEBUG : BB_LOG_LEVEL_WARN);
    if (getenv("BB_LOG_LEVEL") != NULL)
        bb_log_set_level_name(getenv("BB_LOG_LEVEL"));
    bb_wsclient_log_lws(verbose);

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);

    rc = tail_run(&o, &g_stop, why, sizeof(why));
    if (rc == -EPIPE)
        return 0; /* the reader went away (| head) */
    if (rc == BB_EINVAL && why[0] != '\0') {
        fprintf(stderr, "bucketbridge-tail: the daemon refused: %s\n", why);
        return 1;
    }
    if (rc < 0) {
        fprintf(stderr, "bucketbridge-tail: %s\n", bb_strerror(rc));
        return 1;
    }
    return 0;
}
