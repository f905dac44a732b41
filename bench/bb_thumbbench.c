/* SPDX-License-Identifier: MIT */
/*
 * bb_thumbbench: thumbnails per second of the image path alone
 * (thumb_image_make: decode, resize, orient, encode), no S3, no events.
 *
 *   bb_thumbbench [--rounds R] [--seconds S] [--size WxH] [--quality Q] FILE...
 *
 * Each file is read into memory once and made into a thumbnail once to warm
 * up; then R rounds (default 5) each run for at least S seconds (default 1)
 * and count thumbnails. Prints one JSON line per file: the median round's
 * thumbnails/s and ms per thumbnail, the rounds, the source size, the
 * thumbnail size and bytes, the DCT scale used for JPEGs, and the median
 * round's CPU time per thumbnail (cpu_ms_per_thumb: the process's CPU
 * clock, which other load on the core does not stretch). One thread: pin
 * it with taskset to measure one core.
 */
#include "thumb_image.h"
#include "bb_mem.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_ROUNDS 50

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time of this process: unlike the wall clock, not stretched when other
 * processes share the core. */
static double cpu_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf;
    long n;

    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return NULL;
    }
    buf = bb_xmalloc((size_t)n + 1);
    if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static int bench_file(const char *path, const struct thumb_image_opts *o, int rounds,
                      double seconds)
{
    struct thumb_image_result r;
    double rate[MAX_ROUNDS], sorted[MAX_ROUNDS], cpu_ms[MAX_ROUNDS];
    size_t len = 0;
    unsigned char *data = slurp(path, &len);
    int rc;

    if (data == NULL) {
        fprintf(stderr, "bb_thumbbench: cannot read %s\n", path);
        return 1;
    }
    rc = thumb_image_make(data, len, o, &r);
    if (rc != 0) {
        fprintf(stderr, "bb_thumbbench: %s: %s\n", path, r.error);
        free(data);
        return 1;
    }
    for (int i = 0; i < rounds; i++) {
        double t0 = now_s(), c0 = cpu_s(), t;
        long n = 0;
        do {
            struct thumb_image_result x;
            if (thumb_image_make(data, len, o, &x) != 0) {
                fprintf(stderr, "bb_thumbbench: %s failed during the run\n", path);
                free(data);
                thumb_image_result_cleanup(&r);
                return 1;
            }
            thumb_image_result_cleanup(&x);
            n++;
            t = now_s() - t0;
        } while (t < seconds);
        rate[i] = (double)n / t;
        sorted[i] = rate[i];
        cpu_ms[i] = (cpu_s() - c0) * 1000.0 / (double)n;
    }
    qsort(sorted, (size_t)rounds, sizeof(double), cmp_double);
    qsort(cpu_ms, (size_t)rounds, sizeof(double), cmp_double);
    printf("{\"file\":\"%s\",\"format\":\"%s\",\"src\":\"%dx%d\",\"thumb\":\"%dx%d\","
           "\"thumb_bytes\":%zu,\"scale\":\"1/%d\",\"thumbs_per_s\":%.1f,\"ms_per_thumb\":%.2f,"
           "\"cpu_ms_per_thumb\":%.2f,\"rounds\":[",
           path, thumb_image_format_name(r.src_format), r.src_w, r.src_h, r.out[0].w, r.out[0].h,
           r.out[0].len, r.scale_denom, sorted[rounds / 2], 1000.0 / sorted[rounds / 2],
           cpu_ms[rounds / 2]);
    for (int i = 0; i < rounds; i++)
        printf("%s%.1f", i ? "," : "", rate[i]);
    printf("]}\n");
    fflush(stdout);
    thumb_image_result_cleanup(&r);
    free(data);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"rounds", required_argument, NULL, 'r'}, {"seconds", required_argument, NULL, 's'},
        {"size", required_argument, NULL, 'z'},   {"quality", required_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    struct thumb_image_box box;
    struct thumb_image_opts o;
    double seconds = 1.0;
    int rounds = 5, opt, bad = 0;
    char *end;

    thumb_image_opts_init(&o, &box);
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (opt) {
        case 'r':
            rounds = (int)strtol(optarg, &end, 10);
            bad |= *end != '\0' || rounds < 1 || rounds > MAX_ROUNDS;
            break;
        case 's':
            seconds = strtod(optarg, &end);
            bad |= *end != '\0' || seconds <= 0 || seconds > 600;
            break;
        case 'z':
            box.w = (int)strtol(optarg, &end, 10);
            bad |= *end != 'x';
            box.h = (int)strtol(end + 1, &end, 10);
            bad |= *end != '\0' || box.w < 1 || box.h < 1;
            break;
        case 'q':
            o.quality = (int)strtol(optarg, &end, 10);
            bad |= *end != '\0' || o.quality < 1 || o.quality > 100;
            break;
        default:
            bad = 1;
        }
    }
    if (bad || optind >= argc) {
        fprintf(stderr, "usage: bb_thumbbench [--rounds R] [--seconds S] [--size WxH] "
                        "[--quality Q] FILE...\n");
        return 2;
    }
    for (int i = optind; i < argc; i++)
        if (bench_file(argv[i], &o, rounds, seconds) != 0)
            return 1;
    return 0;
}
