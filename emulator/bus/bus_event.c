/* SPDX-License-Identifier: MIT */
/*
 * bus_event: the JSON shapes S3 and PutEvents produce (reference sections
 * 1, 2 and 5.4). Objects are built with cJSON in AWS's key order (cJSON
 * keeps insertion order). A PutEvents Detail is spliced into the envelope
 * as its own minified text rather than re-serialised, so numbers keep
 * their spelling (1.0 stays 1.0, int64 values beyond 2^53 stay exact).
 * Does not model the per-type extras (restore-expiry-time, storage
 * classes, glacierEventData): struct bus_s3_event has no room for them.
 */
#include "bus_event.h"

#include "bb_err.h"
#include "bb_hash.h"
#include "bb_mem.h"

#include <cjson/cJSON.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z: what four year digits hold. */
#define TIME_MIN (-62167219200LL)
#define TIME_MAX 253402300799LL

static const char hexdig[] = "0123456789ABCDEF";

static char *print_json(const cJSON *j)
{
    char *tmp = cJSON_PrintUnformatted(j);
    char *out;

    if (tmp == NULL) {
        fprintf(stderr, "level=error mod=bus msg=\"out of memory printing JSON\"\n");
        abort();
    }
    out = bb_xstrdup(tmp);
    cJSON_free(tmp);
    return out;
}

static int seeded;
static uint64_t seed_state;

void bus_event_seed(uint64_t seed)
{
    seeded = 1;
    seed_state = seed;
}

/* splitmix64: a small, well-mixed sequence for reproducible ids in tests */
static uint64_t next_seeded(void)
{
    uint64_t z = (seed_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void bus_event_uuid(char out[37])
{
    static const char lower[] = "0123456789abcdef";
    unsigned char b[16];
    size_t o = 0;

    if (seeded) {
        uint64_t x = next_seeded(), y = next_seeded();
        for (int i = 0; i < 8; i++) {
            b[i] = (unsigned char)(x >> (8 * i));
            b[8 + i] = (unsigned char)(y >> (8 * i));
        }
    } else {
        bb_random_bytes(b, sizeof(b));
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    for (size_t i = 0; i < sizeof(b); i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = lower[b[i] >> 4];
        out[o++] = lower[b[i] & 0x0f];
    }
    out[o] = '\0';
}

/* Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    int64_t era;
    unsigned yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    int64_t era;
    unsigned doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = (unsigned)(z - era * 146097);
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static void put_digits(char *p, unsigned v, int n)
{
    while (n-- > 0) {
        p[n] = (char)('0' + v % 10);
        v /= 10;
    }
}

void bus_event_time(int64_t s, char out[21])
{
    int64_t days, secs, y;
    unsigned m, d;

    if (s < TIME_MIN)
        s = TIME_MIN;
    if (s > TIME_MAX)
        s = TIME_MAX;
    days = s / 86400;
    secs = s % 86400;
    if (secs < 0) {
        secs += 86400;
        days--;
    }
    civil_from_days(days, &y, &m, &d);
    memcpy(out, "0000-00-00T00:00:00Z", 21);
    put_digits(out, (unsigned)y, 4);
    put_digits(out + 5, m, 2);
    put_digits(out + 8, d, 2);
    put_digits(out + 11, (unsigned)(secs / 3600), 2);
    put_digits(out + 14, (unsigned)(secs / 60 % 60), 2);
    put_digits(out + 17, (unsigned)(secs % 60), 2);
}

/* "YYYY-MM-DDTHH:MM:SS.000Z": the classic format's millisecond precision. */
static void time_ms(int64_t s, char out[25])
{
    bus_event_time(s, out);
    memcpy(out + 19, ".000Z", 6);
}

static int unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

char *bus_event_form_encode(const char *key)
{
    size_t n = strlen(key);
    char *out = bb_xmalloc(n * 3 + 1);
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)key[i];
        if (unreserved(c) || c == '/') {
            out[o++] = (char)c;
        } else if (c == ' ') {
            out[o++] = '+';
        } else {
            out[o++] = '%';
            out[o++] = hexdig[c >> 4];
            out[o++] = hexdig[c & 0x0f];
        }
    }
    out[o] = '\0';
    return out;
}

static void add_str(cJSON *o, const char *name, const char *v)
{
    if (v != NULL)
        cJSON_AddStringToObject(o, name, v);
}

/* The envelope up to and including "resources"; the caller adds "detail". */
static cJSON *envelope(const char *detail_type, const char *source, const struct bus_event_env *env,
                       int64_t time_s)
{
    cJSON *ev = cJSON_CreateObject();
    char t[21];

    bus_event_time(time_s, t);
    cJSON_AddStringToObject(ev, "version", "0");
    cJSON_AddStringToObject(ev, "id", env->id ? env->id : "");
    cJSON_AddStringToObject(ev, "detail-type", detail_type ? detail_type : "");
    cJSON_AddStringToObject(ev, "source", source);
    cJSON_AddStringToObject(ev, "account", env->account ? env->account : "");
    cJSON_AddStringToObject(ev, "time", t);
    cJSON_AddStringToObject(ev, "region", env->region ? env->region : "");
    return ev;
}

static char *bucket_arn(const char *bucket)
{
    return bb_xasprintf("arn:aws:s3:::%s", bucket ? bucket : "");
}

char *bus_event_s3(const struct bus_s3_event *e, const struct bus_event_env *env)
{
    cJSON *ev = envelope(e->detail_type, "aws.s3", env, env->time_s);
    cJSON *res = cJSON_AddArrayToObject(ev, "resources");
    cJSON *detail, *bucket, *object;
    char *arn = bucket_arn(e->bucket);
    char *key = NULL;
    char *out;

    cJSON_AddItemToArray(res, cJSON_CreateString(arn));
    free(arn);

    detail = cJSON_AddObjectToObject(ev, "detail");
    cJSON_AddStringToObject(detail, "version", "0");
    bucket = cJSON_AddObjectToObject(detail, "bucket");
    add_str(bucket, "name", e->bucket);
    object = cJSON_AddObjectToObject(detail, "object");
    if (e->key != NULL) {
        key = env->key_encoding == BUS_KEY_RAW ? bb_xstrdup(e->key) : bus_event_form_encode(e->key);
        cJSON_AddStringToObject(object, "key", key);
    }
    if (e->size >= 0)
        cJSON_AddNumberToObject(object, "size", (double)e->size);
    add_str(object, "etag", e->etag);
    add_str(object, "version-id", e->version_id);
    add_str(object, "sequencer", e->sequencer);
    add_str(detail, "request-id", e->request_id);
    add_str(detail, "requester", e->requester);
    add_str(detail, "source-ip-address", e->source_ip);
    add_str(detail, "reason", e->reason);
    add_str(detail, "deletion-type", e->deletion_type);

    out = print_json(ev);
    cJSON_Delete(ev);
    free(key);
    return out;
}

static int has_prefix(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

/* Section 2.1: 2.3 for lifecycle, Intelligent-Tiering, ACL, tagging and
 * restore-delete events, 2.2 for replication, 2.1 for the rest. */
static const char *record_version(const char *name)
{
    if (has_prefix(name, "ObjectTagging:") || has_prefix(name, "ObjectAcl:") ||
        has_prefix(name, "LifecycleExpiration:") || strcmp(name, "LifecycleTransition") == 0 ||
        strcmp(name, "IntelligentTiering") == 0 || strcmp(name, "ObjectRestore:Delete") == 0)
        return "2.3";
    if (has_prefix(name, "Replication:"))
        return "2.2";
    return "2.1";
}

char *bus_event_s3_record(const struct bus_s3_event *e, const struct bus_event_env *env,
                          const char *event_name, const char *config_id)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *recs = cJSON_AddArrayToObject(root, "Records");
    cJSON *r = cJSON_CreateObject();
    cJSON *o, *s3, *bucket, *object;
    char t[25];
    char *arn = bucket_arn(e->bucket);
    char *out;

    cJSON_AddItemToArray(recs, r);
    time_ms(env->time_s, t);
    cJSON_AddStringToObject(r, "eventVersion", record_version(event_name ? event_name : ""));
    cJSON_AddStringToObject(r, "eventSource", "aws:s3");
    cJSON_AddStringToObject(r, "awsRegion", env->region ? env->region : "");
    cJSON_AddStringToObject(r, "eventTime", t);
    cJSON_AddStringToObject(r, "eventName", event_name ? event_name : "");
    o = cJSON_AddObjectToObject(r, "userIdentity");
    cJSON_AddStringToObject(o, "principalId",
                            e->requester ? e->requester : (env->account ? env->account : ""));
    /* Service-initiated events (lifecycle, restore completion) have no client
     * address; AWS names the service there. */
    o = cJSON_AddObjectToObject(r, "requestParameters");
    cJSON_AddStringToObject(o, "sourceIPAddress", e->source_ip ? e->source_ip : "s3.amazonaws.com");
    o = cJSON_AddObjectToObject(r, "responseElements");
    /* The emulator answers with x-amz-id-2 equal to the request id. */
    add_str(o, "x-amz-request-id", e->request_id);
    add_str(o, "x-amz-id-2", e->request_id);

    s3 = cJSON_AddObjectToObject(r, "s3");
    cJSON_AddStringToObject(s3, "s3SchemaVersion", "1.0");
    cJSON_AddStringToObject(s3, "configurationId", config_id ? config_id : "");
    bucket = cJSON_AddObjectToObject(s3, "bucket");
    cJSON_AddStringToObject(bucket, "name", e->bucket ? e->bucket : "");
    o = cJSON_AddObjectToObject(bucket, "ownerIdentity");
    cJSON_AddStringToObject(o, "principalId", env->account ? env->account : "");
    cJSON_AddStringToObject(bucket, "arn", arn);
    object = cJSON_AddObjectToObject(s3, "object");
    if (e->key != NULL) {
        char *key = bus_event_form_encode(e->key);
        cJSON_AddStringToObject(object, "key", key);
        free(key);
    }
    if (e->size >= 0)
        cJSON_AddNumberToObject(object, "size", (double)e->size);
    add_str(object, "eTag", e->etag);
    add_str(object, "versionId", e->version_id);
    add_str(object, "sequencer", e->sequencer);

    out = print_json(root);
    cJSON_Delete(root);
    free(arn);
    return out;
}

char *bus_event_s3_test_event(const char *bucket, const char *request_id,
                              const struct bus_event_env *env)
{
    cJSON *o = cJSON_CreateObject();
    char t[25];
    char *out;

    time_ms(env->time_s, t);
    cJSON_AddStringToObject(o, "Service", "Amazon S3");
    cJSON_AddStringToObject(o, "Event", "s3:TestEvent");
    cJSON_AddStringToObject(o, "Time", t);
    cJSON_AddStringToObject(o, "Bucket", bucket ? bucket : "");
    cJSON_AddStringToObject(o, "RequestId", request_id ? request_id : "");
    cJSON_AddStringToObject(o, "HostId", request_id ? request_id : "");
    out = print_json(o);
    cJSON_Delete(o);
    return out;
}

/* ---- PutEvents ---- */

static const char *str_field(const cJSON *entry, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(entry, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int digits(const char **pp, int n, unsigned *out)
{
    const char *p = *pp;
    unsigned v = 0;

    for (int i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (unsigned)(p[i] - '0');
    }
    *pp = p + n;
    *out = v;
    return 0;
}

static int expect(const char **pp, const char *set)
{
    if (**pp == '\0' || strchr(set, **pp) == NULL)
        return -1;
    (*pp)++;
    return 0;
}

/* RFC 3339 date-time ("2021-11-12T00:00:00.123Z", "...+02:00") to epoch
 * seconds, fraction dropped. */
static int parse_rfc3339(const char *s, int64_t *out)
{
    static const unsigned mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const char *p = s;
    unsigned y, mo, d, h, mi, se, oh = 0, om = 0;
    int sign = 0;
    int64_t t;

    if (digits(&p, 4, &y) < 0 || expect(&p, "-") < 0 || digits(&p, 2, &mo) < 0 ||
        expect(&p, "-") < 0 || digits(&p, 2, &d) < 0 || expect(&p, "Tt ") < 0 ||
        digits(&p, 2, &h) < 0 || expect(&p, ":") < 0 || digits(&p, 2, &mi) < 0 ||
        expect(&p, ":") < 0 || digits(&p, 2, &se) < 0)
        return BB_EINVAL;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return BB_EINVAL;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        sign = *p == '+' ? 1 : -1;
        p++;
        if (digits(&p, 2, &oh) < 0 || expect(&p, ":") < 0 || digits(&p, 2, &om) < 0)
            return BB_EINVAL;
    } else {
        return BB_EINVAL;
    }
    if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 ||
        se > 60 || oh > 23 || om > 59)
        return BB_EINVAL;
    if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return BB_EINVAL;
    t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + (se == 60 ? 59 : se);
    t -= sign * (int64_t)(oh * 3600 + om * 60);
    *out = t;
    return 0;
}

/* Time: epoch seconds as a JSON number (what awsJson1_1 SDKs send) or an
 * RFC 3339 string. */
static int entry_time(const cJSON *v, int64_t *out)
{
    if (cJSON_IsNumber(v)) {
        double f = v->valuedouble;
        int64_t i;
        /* NaN and infinities fail the range test too; no libm needed. */
        if (!(f >= (double)TIME_MIN && f <= (double)TIME_MAX))
            return BB_EINVAL;
        i = (int64_t)f;
        if ((double)i > f) /* truncation went up for negatives: floor */
            i--;
        *out = i;
        return 0;
    }
    if (cJSON_IsString(v))
        return parse_rfc3339(v->valuestring, out);
    return BB_EINVAL;
}

static int fail(const char **code, const char **message, const char *c, const char *m)
{
    *code = c;
    *message = m;
    return BB_EINVAL;
}

/* Name of an EventBusName given as arn:...:event-bus/<name>; else @v. */
static const char *bus_name(const char *v)
{
    const char *p;

    if (strncmp(v, "arn:", 4) != 0)
        return v;
    p = strstr(v, ":event-bus/");
    if (p == NULL)
        return v;
    return p + strlen(":event-bus/");
}

int bus_event_from_entry(const struct cJSON *entry, const struct bus_event_env *env, char **out,
                         const char **bus, const char **code, const char **message)
{
    const char *source = str_field(entry, "Source");
    const char *dtype = str_field(entry, "DetailType");
    const char *detail = str_field(entry, "Detail");
    const char *busv = str_field(entry, "EventBusName");
    const cJSON *tv = cJSON_GetObjectItemCaseSensitive(entry, "Time");
    const cJSON *resources = cJSON_GetObjectItemCaseSensitive(entry, "Resources");
    const cJSON *r;
    cJSON *parsed, *ev, *res;
    int64_t t = env->time_s;
    char *head, *min;
    size_t hl, ml;

    *out = NULL;
    *code = NULL;
    *message = NULL;
    *bus = "default";
    if (!cJSON_IsObject(entry))
        return fail(code, message, "InvalidArgument",
                    "Parameter Source is not valid. Reason: Source is a required argument.");
    if (source == NULL || source[0] == '\0')
        return fail(code, message, "InvalidArgument",
                    "Parameter Source is not valid. Reason: Source is a required argument.");
    if (dtype == NULL || dtype[0] == '\0')
        return fail(code, message, "InvalidArgument",
                    "Parameter DetailType is not valid. Reason: DetailType is a required "
                    "argument.");
    if (detail == NULL || detail[0] == '\0')
        return fail(code, message, "InvalidArgument",
                    "Parameter Detail is not valid. Reason: Detail is a required argument.");
    if (has_prefix(source, "aws."))
        return fail(code, message, "NotAuthorizedForSourceException",
                    "Not authorized for the source.");
    parsed = cJSON_ParseWithOpts(detail, NULL, 1);
    if (!cJSON_IsObject(parsed)) {
        cJSON_Delete(parsed);
        return fail(code, message, "MalformedDetail", "Detail is malformed.");
    }
    cJSON_Delete(parsed);
    if (resources != NULL && !cJSON_IsNull(resources)) {
        int ok = cJSON_IsArray(resources);
        cJSON_ArrayForEach(r, resources)
        {
            if (!cJSON_IsString(r))
                ok = 0;
        }
        if (!ok)
            return fail(code, message, "InvalidArgument",
                        "Parameter Resources is not valid. Reason: Resources must be an array "
                        "of strings.");
    }
    if (tv != NULL && !cJSON_IsNull(tv) && entry_time(tv, &t) < 0)
        return fail(code, message, "InvalidArgument",
                    "Parameter Time is not valid. Reason: Time must be epoch seconds or an RFC "
                    "3339 timestamp.");

    ev = envelope(dtype, source, env, t);
    res = cJSON_AddArrayToObject(ev, "resources");
    if (cJSON_IsArray(resources)) {
        cJSON_ArrayForEach(r, resources)
        {
            cJSON_AddItemToArray(res, cJSON_CreateString(r->valuestring));
        }
    }
    head = print_json(ev);
    cJSON_Delete(ev);

    /* Splice the detail's own text in: head ends with '}'. */
    min = bb_xstrdup(detail);
    cJSON_Minify(min);
    hl = strlen(head);
    ml = strlen(min);
    *out = bb_xmalloc(hl - 1 + strlen(",\"detail\":") + ml + 2);
    memcpy(*out, head, hl - 1);
    memcpy(*out + hl - 1, ",\"detail\":", 10);
    memcpy(*out + hl - 1 + 10, min, ml);
    memcpy(*out + hl - 1 + 10 + ml, "}", 2);
    free(head);
    free(min);
    if (busv != NULL && busv[0] != '\0')
        *bus = bus_name(busv);
    return 0;
}

size_t bus_event_entry_size(const struct cJSON *entry)
{
    const cJSON *tv = cJSON_GetObjectItemCaseSensitive(entry, "Time");
    const cJSON *resources = cJSON_GetObjectItemCaseSensitive(entry, "Resources");
    const char *fields[] = {"Source", "DetailType", "Detail"};
    const cJSON *r;
    size_t n = 0;

    if (tv != NULL && !cJSON_IsNull(tv))
        n += 14;
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        const char *v = str_field(entry, fields[i]);
        if (v != NULL)
            n += strlen(v);
    }
    if (cJSON_IsArray(resources)) {
        cJSON_ArrayForEach(r, resources)
        {
            if (cJSON_IsString(r))
                n += strlen(r->valuestring);
        }
    }
    return n;
}
