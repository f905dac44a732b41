/* SPDX-License-Identifier: MIT */
/* bucketbridge-thumbnail: flags and environment, signals, run the workers. */
#include "thumb.h"
#include "thumb_s3.h"
#include "thumb_worker.h"
#include "bb_err.h"
#include "bb_log.h"
#include "bb_mem.h"
#include "bb_wsclient.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

static void usage(FILE *f)
{
    fprintf(
        f, "usage: bucketbridge-thumbnail [options]\n"
           "Makes thumbnails of the images the daemon's \"thumbnail\" consumer group delivers.\n"
           "  --endpoint URL          S3 endpoint (env AWS_ENDPOINT_URL; default "
           "http://127.0.0.1:4566)\n"
           "  --access-key KEY        (env AWS_ACCESS_KEY_ID; default test)\n"
           "  --secret-key SECRET     (env AWS_SECRET_ACCESS_KEY; default test)\n"
           "  --region REGION         (env AWS_DEFAULT_REGION; unused: libs3 signs with SigV2)\n"
           "  --ws-url URL            event endpoint (env BUCKETBRIDGE_WS_URL; default from the\n"
           "                          endpoint: ws://HOST:PORT/_bucketbridge/events)\n"
           "  --token TOKEN           WebSocket token (env BUCKETBRIDGE_TOKEN; default: the secret "
           "key)\n"
           "  --data-dir DIR          (env BUCKETBRIDGE_DATA_DIR; unused here)\n"
           "  --group NAME            consumer group (env BUCKETBRIDGE_GROUP; default thumbnail)\n"
           "  --workers N             worker threads and credit (default: number of cores)\n"
           "  --visibility-timeout S  seconds to finish a delivery before redelivery (default 60)\n"
           "  --bucket NAME           where thumbnails go (default my-thumbnails)\n"
           "  --size WxH[,WxH...]     bounding boxes, up to 8 (default 256x256)\n"
           "  --quality N             JPEG quality 1..100 (default 80)\n"
           "  --format auto|jpeg|png  auto: PNG for sources with transparency (default auto)\n"
           "  --naming same|seed      same key, or original.jpg -> thumbnail.jpg (default same)\n"
           "  --key-template T        thumbnail key from {key} {dir} {name} {ext} {size} {w} {h}\n"
           "  --max-pixels N          larger declared images fail (default 50000000)\n"
           "  --max-bytes N           larger objects fail (default 67108864)\n"
           "  --log-level LEVEL       error, warn, info or debug (env BB_LOG_LEVEL)\n"
           "  -v                      debug logging\n"
           "  --version, --help\n");
}

static const char *env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);

    return v != NULL && v[0] != '\0' ? v : fallback;
}

static int parse_long(const char *s, long min, long max, long *out)
{
    char *end = NULL;
    long v = strtol(s, &end, 10);

    if (*s == '\0' || *end != '\0' || v < min || v > max)
        return BB_EINVAL;
    *out = v;
    return BB_OK;
}

static int bad(const char *flag, const char *value)
{
    fprintf(stderr, "bucketbridge-thumbnail: bad value for --%s: %s\n", flag, value);
    return 2;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"endpoint", required_argument, NULL, 'E'},
        {"access-key", required_argument, NULL, 'A'},
        {"secret-key", required_argument, NULL, 'S'},
        {"region", required_argument, NULL, 'R'},
        {"ws-url", required_argument, NULL, 'W'},
        {"token", required_argument, NULL, 'T'},
        {"data-dir", required_argument, NULL, 'D'},
        {"group", required_argument, NULL, 'g'},
        {"workers", required_argument, NULL, 'w'},
        {"visibility-timeout", required_argument, NULL, 'V'},
        {"bucket", required_argument, NULL, 'b'},
        {"size", required_argument, NULL, 's'},
        {"quality", required_argument, NULL, 'q'},
        {"format", required_argument, NULL, 'f'},
        {"naming", required_argument, NULL, 'n'},
        {"key-template", required_argument, NULL, 'k'},
        {"max-pixels", required_argument, NULL, 'P'},
        {"max-bytes", required_argument, NULL, 'B'},
        {"log-level", required_argument, NULL, 'L'},
        {"version", no_argument, NULL, 'Z'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *endpoint = env_or("AWS_ENDPOINT_URL", "http://127.0.0.1:4566");
    const char *access_key = env_or("AWS_ACCESS_KEY_ID", "test");
    const char *secret_key = env_or("AWS_SECRET_ACCESS_KEY", "test");
    const char *ws_url = env_or("BUCKETBRIDGE_WS_URL", NULL);
    const char *token = env_or("BUCKETBRIDGE_TOKEN", NULL);
    const char *log_level = env_or("BB_LOG_LEVEL", NULL);
    struct thumb_worker_conf wc = {0};
    struct thumb_config cfg;
    struct thumb_s3 *s3 = NULL;
    struct sigaction sa;
    char *derived_ws = NULL;
    char host[256];
    char err[256];
    long v;
    int opt, rc, s3_init = 0, exit_code = 1;

    thumb_config_init(&cfg);
    wc.group = env_or("BUCKETBRIDGE_GROUP", "thumbnail");
    wc.visibility_timeout_s = 60;
    v = sysconf(_SC_NPROCESSORS_ONLN);
    wc.workers = v < 1 ? 1 : v > THUMB_WORKER_MAX ? THUMB_WORKER_MAX : (int)v;

    while ((opt = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
        switch (opt) {
        case 'E':
            endpoint = optarg;
            break;
        case 'A':
            access_key = optarg;
            break;
        case 'S':
            secret_key = optarg;
            break;
        case 'R':
        case 'D':
            break;
        case 'W':
            ws_url = optarg;
            break;
        case 'T':
            token = optarg;
            break;
        case 'g':
            wc.group = optarg;
            break;
        case 'w':
            if (parse_long(optarg, 1, THUMB_WORKER_MAX, &v) < 0)
                return bad("workers", optarg);
            wc.workers = (int)v;
            break;
        case 'V':
            if (parse_long(optarg, 1, 43200, &v) < 0)
                return bad("visibility-timeout", optarg);
            wc.visibility_timeout_s = (int)v;
            break;
        case 'b':
            cfg.out_bucket = optarg;
            break;
        case 's':
            if (thumb_config_set_sizes(&cfg, optarg) < 0)
                return bad("size", optarg);
            break;
        case 'q':
            if (parse_long(optarg, 1, 100, &v) < 0)
                return bad("quality", optarg);
            cfg.image.quality = (int)v;
            break;
        case 'f':
            if (strcmp(optarg, "auto") == 0)
                cfg.image.output = THUMB_IMAGE_OUT_AUTO;
            else if (strcmp(optarg, "jpeg") == 0 || strcmp(optarg, "jpg") == 0)
                cfg.image.output = THUMB_IMAGE_OUT_JPEG;
            else if (strcmp(optarg, "png") == 0)
                cfg.image.output = THUMB_IMAGE_OUT_PNG;
            else
                return bad("format", optarg);
            break;
        case 'n':
            if (strcmp(optarg, "same") == 0)
                cfg.naming = THUMB_NAMING_SAME;
            else if (strcmp(optarg, "seed") == 0)
                cfg.naming = THUMB_NAMING_SEED;
            else
                return bad("naming", optarg);
            break;
        case 'k':
            cfg.naming = THUMB_NAMING_TEMPLATE;
            cfg.key_template = optarg;
            break;
        case 'P':
            if (parse_long(optarg, 1, 1L << 40, &v) < 0)
                return bad("max-pixels", optarg);
            cfg.image.max_pixels = (uint64_t)v;
            break;
        case 'B':
            if (parse_long(optarg, 1, 1L << 31, &v) < 0)
                return bad("max-bytes", optarg);
            cfg.image.max_bytes = (size_t)v;
            break;
        case 'L':
            log_level = optarg;
            break;
        case 'v':
            log_level = "debug";
            break;
        case 'Z':
            printf("bucketbridge-thumbnail %s\n", BB_VERSION);
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
    if (log_level != NULL && bb_log_set_level_name(log_level) < 0)
        return bad("log-level", log_level);
    if (thumb_config_check(&cfg, err, sizeof(err)) < 0) {
        fprintf(stderr, "bucketbridge-thumbnail: %s\n", err);
        return 2;
    }
    if (ws_url == NULL) {
        /* same host and port as S3: the daemon serves both on one port */
        const char *rest = strncmp(endpoint, "https://", 8) == 0 ? endpoint + 8 : endpoint + 7;
        derived_ws = bb_xasprintf("ws://%.*s%s", (int)strcspn(rest, "/"), rest, BB_WSCLIENT_PATH);
        ws_url = derived_ws;
    }
    if (bb_wsclient_parse_endpoint(ws_url, host, sizeof(host), &wc.ws_port) < 0) {
        fprintf(stderr, "bucketbridge-thumbnail: bad WebSocket URL: %s\n", ws_url);
        exit_code = 2;
        goto out;
    }
    wc.ws_host = host;
    wc.token = token != NULL ? token : secret_key; /* the daemon's default token */
    wc.cfg = &cfg;

    if (thumb_s3_global_init() < 0) {
        fprintf(stderr, "bucketbridge-thumbnail: libs3 did not initialise\n");
        goto out;
    }
    s3_init = 1;
    if (thumb_s3_new(endpoint, access_key, secret_key, &s3) < 0) {
        fprintf(stderr, "bucketbridge-thumbnail: bad S3 endpoint: %s\n", endpoint);
        exit_code = 2;
        goto out;
    }
    wc.s3 = s3;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    bb_wsclient_log_lws(bb_log_level_current >= BB_LOG_LEVEL_DEBUG);

    BB_LOG_INFO("thumb", "starting", "endpoint=%s ws=%s bucket=%s workers=%d sizes=%d quality=%d",
                endpoint, ws_url, cfg.out_bucket, wc.workers, cfg.image.nboxes, cfg.image.quality);
    rc = thumb_worker_run(&wc, &g_stop);
    if (rc < 0) {
        BB_LOG_ERROR("thumb", "cannot run", "rc=%s", bb_strerror(rc));
        goto out;
    }
    BB_LOG_INFO("thumb", "stopped", NULL);
    exit_code = 0;
out:
    thumb_s3_free(s3);
    if (s3_init)
        thumb_s3_global_cleanup();
    free(derived_ws);
    return exit_code;
}
