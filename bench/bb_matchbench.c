/* SPDX-License-Identifier: MIT */
/*
 * bb_matchbench: event-pattern matching throughput of bus_ruleset.
 *
 * For each operator kind (exact, prefix, suffix, numeric, anything-but,
 * wildcard, exists, equals-ignore-case, cidr) it files 1, 100 and 1,000
 * rules of that kind in one rule set and matches S3 "Object Created" events
 * against it on one core: (a) events already parsed into cJSON, (b) events
 * as JSON text, parsed for every match. Rates are per second of the
 * thread's CPU time; each figure is the median of 5 runs. The 256 distinct
 * events (about 1 MiB parsed) stay in cache, as an event does in the bus,
 * where it is matched right after it is built; --events 4096 shows the cost
 * of walking cold cJSON trees instead.
 * The rules are built so that an event usually matches few of them, except
 * anything-but, where every rule but one matches (the matches column says
 * how many on average: callbacks are work that no index can save).
 *
 *   bb_matchbench [--runs N] [--ms MS] [--events N] [--kind NAME] [--csv]
 *                 [--parsed-only | --text-only]
 */
#include "bus_pattern.h"

#include "bb_mem.h"

#include <cjson/cJSON.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct opts {
    int runs;
    int ms;
    int nevents;
    const char *kind;
    int csv;
    int only; /* 0 both, 1 parsed only, 2 text only */
};

struct event {
    char *text;
    size_t len;
    cJSON *json;
};

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint32_t rnd(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

/* CPU time of this thread: "events per second on one core" even when the
 * machine is busy with other work. */
static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* An EventBridge "Object Created" event as S3 sends it (reference 1.5),
 * with the variable parts drawn at random from 1,000 values each. */
static void make_event(struct event *e, int i)
{
    uint32_t b = rnd(1000);
    uint32_t d = rnd(1000);
    uint32_t x = rnd(1000);
    uint32_t ip = rnd(1000);

    e->text = bb_xasprintf(
        "{\"version\":\"0\",\"id\":\"17793124-05d4-b198-2fde-%012d\","
        "\"detail-type\":\"Object Created\",\"source\":\"aws.s3\",\"account\":\"111122223333\","
        "\"time\":\"2021-11-12T00:00:00Z\",\"region\":\"ca-central-1\","
        "\"resources\":[\"arn:aws:s3:::Bucket-%u\"],"
        "\"detail\":{\"version\":\"0\",\"bucket\":{\"name\":\"Bucket-%u\"},"
        "\"object\":{\"key\":\"dir%u/photo-%u.ext%u\",\"size\":%u,"
        "\"etag\":\"b1946ac92492d2347c6235b4d2611184\","
        "\"version-id\":\"IYV3p45BT0ac8hjHg1houSdS1a.Mro8e\",\"sequencer\":\"617f08299329d189\"},"
        "\"request-id\":\"N4N7GDK58NMKJ12R\",\"requester\":\"123456789012\","
        "\"source-ip-address\":\"10.%u.%u.%u\",\"reason\":\"PutObject\",\"attr-%u\":\"v\"}}",
        i, b, b, d, rnd(100000), x, rnd(1000000), ip / 256, ip % 256, rnd(256), rnd(1000));
    e->len = strlen(e->text);
    e->json = cJSON_ParseWithLength(e->text, e->len);
    if (e->json == NULL) {
        fprintf(stderr, "bb_matchbench: generated event does not parse\n");
        exit(1);
    }
}

/* Rule @i of @kind; returns a new string. */
static char *make_rule(const char *kind, int i)
{
    if (strcmp(kind, "exact") == 0)
        return bb_xasprintf("{\"source\":[\"aws.s3\"],\"detail-type\":[\"Object Created\"],"
                            "\"detail\":{\"bucket\":{\"name\":[\"Bucket-%d\"]}}}",
                            i);
    if (strcmp(kind, "prefix") == 0)
        return bb_xasprintf("{\"detail\":{\"object\":{\"key\":[{\"prefix\":\"dir%d/\"}]}}}", i);
    if (strcmp(kind, "suffix") == 0)
        return bb_xasprintf("{\"detail\":{\"object\":{\"key\":[{\"suffix\":\".ext%d\"}]}}}", i);
    if (strcmp(kind, "numeric") == 0)
        return bb_xasprintf("{\"detail\":{\"object\":{\"size\":[{\"numeric\":"
                            "[\">=\",%d,\"<\",%d]}]}}}",
                            i * 1000, i * 1000 + 500);
    if (strcmp(kind, "anything-but") == 0)
        return bb_xasprintf("{\"detail\":{\"bucket\":{\"name\":[{\"anything-but\":"
                            "\"Bucket-%d\"}]}}}",
                            i);
    if (strcmp(kind, "wildcard") == 0)
        return bb_xasprintf("{\"detail\":{\"object\":{\"key\":[{\"wildcard\":"
                            "\"dir%d/*.ext*\"}]}}}",
                            i);
    if (strcmp(kind, "exists") == 0)
        return bb_xasprintf("{\"detail\":{\"attr-%d\":[{\"exists\":true}]}}", i);
    if (strcmp(kind, "equals-ignore-case") == 0)
        return bb_xasprintf("{\"detail\":{\"bucket\":{\"name\":[{\"equals-ignore-case\":"
                            "\"BUCKET-%d\"}]}}}",
                            i);
    if (strcmp(kind, "cidr") == 0)
        return bb_xasprintf("{\"detail\":{\"source-ip-address\":[{\"cidr\":"
                            "\"10.%d.%d.0/24\"}]}}",
                            i / 256, i % 256);
    return NULL;
}

static int count_cb(void *arg, uint64_t id)
{
    uint64_t *n = arg;

    (void)id;
    (*n)++;
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;

    return x < y ? -1 : x > y;
}

/* Events per second, median of @o->runs runs of about @o->ms each. */
static double measure(const struct bus_ruleset *rs, const struct event *ev, int nev, int parse,
                      const struct opts *o, double *matches)
{
    double rates[32];
    int r;

    for (r = 0; r < o->runs; r++) {
        uint64_t done = 0;
        uint64_t hits = 0;
        double t0 = now_s();
        double t = t0;

        while (t - t0 < o->ms / 1000.0) {
            int i;

            for (i = 0; i < nev; i++) {
                if (parse) {
                    cJSON *j = cJSON_ParseWithLength(ev[i].text, ev[i].len);

                    bus_ruleset_match(rs, j, count_cb, &hits);
                    cJSON_Delete(j);
                } else {
                    bus_ruleset_match(rs, ev[i].json, count_cb, &hits);
                }
            }
            done += (uint64_t)nev;
            t = now_s();
        }
        rates[r] = (double)done / (t - t0);
        *matches = (double)hits / (double)done;
    }
    qsort(rates, (size_t)o->runs, sizeof(rates[0]), cmp_double);
    return rates[o->runs / 2];
}

static void pin_one_core(void)
{
    cpu_set_t set;
    int cpu = sched_getcpu();

    if (cpu < 0)
        return;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    sched_setaffinity(0, sizeof(set), &set);
}

int main(int argc, char **argv)
{
    static const char *const kinds[] = {"exact",        "prefix",   "suffix", "numeric",
                                        "anything-but", "wildcard", "exists", "equals-ignore-case",
                                        "cidr"};
    static const int counts[] = {1, 100, 1000};
    struct opts o = {5, 300, 256, NULL, 0, 0};
    struct event *ev;
    size_t k;
    size_t c;
    int i;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
            o.runs = (int)strtol(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--ms") == 0 && i + 1 < argc) {
            o.ms = (int)strtol(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--events") == 0 && i + 1 < argc) {
            o.nevents = (int)strtol(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--kind") == 0 && i + 1 < argc) {
            o.kind = argv[++i];
        } else if (strcmp(argv[i], "--csv") == 0) {
            o.csv = 1;
        } else if (strcmp(argv[i], "--parsed-only") == 0) {
            o.only = 1;
        } else if (strcmp(argv[i], "--text-only") == 0) {
            o.only = 2;
        } else {
            fprintf(stderr, "usage: bb_matchbench [--runs N] [--ms MS] [--events N] [--kind NAME] "
                            "[--csv]\n");
            return 2;
        }
    }
    if (o.runs < 1 || o.runs > 31 || o.ms < 1 || o.nevents < 1 || o.nevents > 1000000) {
        fprintf(stderr, "bb_matchbench: --runs 1..31, --ms >= 1, --events 1..1000000\n");
        return 2;
    }
    pin_one_core();
    ev = bb_xcalloc((size_t)o.nevents, sizeof(*ev));
    for (i = 0; i < o.nevents; i++)
        make_event(&ev[i], i);
    if (o.csv)
        printf("kind,rules,matches_per_event,parsed_events_per_s,text_events_per_s\n");
    else
        printf("%-20s %6s %9s %16s %16s\n", "kind", "rules", "matches", "parsed ev/s",
               "with parse ev/s");
    if (o.kind == NULL && o.only != 1) {
        /* the floor of (b): parsing and freeing with nothing to match */
        struct bus_ruleset *rs = bus_ruleset_new();
        double m = 0;
        double txt = measure(rs, ev, o.nevents, 1, &o, &m);

        if (o.csv)
            printf("parse-only,0,0,0,%.0f\n", txt);
        else
            printf("%-20s %6d %9.3f %16s %16.0f\n", "(cJSON parse only)", 0, 0.0, "-", txt);
        bus_ruleset_free(rs);
    }
    for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        if (o.kind != NULL && strcmp(o.kind, kinds[k]) != 0)
            continue;
        for (c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
            struct bus_ruleset *rs = bus_ruleset_new();
            struct bus_pattern **pats = bb_xcalloc((size_t)counts[c], sizeof(*pats));
            double m = 0;
            double pre;
            double txt;

            for (i = 0; i < counts[c]; i++) {
                char *text = make_rule(kinds[k], i);
                char err[256];

                if (bus_pattern_compile(text, strlen(text), &pats[i], err, sizeof(err)) != 0 ||
                    bus_ruleset_add(rs, (uint64_t)i, pats[i]) != 0) {
                    fprintf(stderr, "bb_matchbench: rule %s: %s\n", text, err);
                    return 1;
                }
                free(text);
            }
            pre = o.only == 2 ? 0 : measure(rs, ev, o.nevents, 0, &o, &m);
            txt = o.only == 1 ? 0 : measure(rs, ev, o.nevents, 1, &o, &m);
            if (o.csv)
                printf("%s,%d,%.3f,%.0f,%.0f\n", kinds[k], counts[c], m, pre, txt);
            else
                printf("%-20s %6d %9.3f %16.0f %16.0f\n", kinds[k], counts[c], m, pre, txt);
            fflush(stdout);
            bus_ruleset_free(rs);
            for (i = 0; i < counts[c]; i++)
                bus_pattern_free(pats[i]);
            free(pats);
        }
    }
    for (i = 0; i < o.nevents; i++) {
        cJSON_Delete(ev[i].json);
        free(ev[i].text);
    }
    free(ev);
    return 0;
}
