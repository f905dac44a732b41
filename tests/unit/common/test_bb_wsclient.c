/* SPDX-License-Identifier: MIT */
/*
 * Tests for common/bb_wsclient.c, the pure half: message encoders, the
 * decoder, backoff, endpoint parsing and the request path; and
 * bb_wsclient_wake against a loopback port nobody listens on. The
 * connection half is covered by tests/integration/test_websocket.mjs.
 */
#include "bb_test.h"

#include "bb_err.h"
#include "bb_mem.h"
#include "bb_wsclient.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Parses @text, which must be a JSON object. */
static cJSON *parsed(const char *text)
{
    cJSON *o = cJSON_Parse(text);
    assert_non_null(o);
    assert_true(cJSON_IsObject(o));
    return o;
}

static const char *str(const cJSON *o, const char *key)
{
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
    assert_non_null(s);
    return s;
}

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    assert_true(cJSON_IsNumber(v));
    return v->valuedouble;
}

static void test_bb_wsclient_encode_subscribe_carries_pattern_as_object(void **state)
{
    char *t = NULL;
    cJSON *o, *p;

    assert_int_equal(
        bb_wsclient_encode_subscribe("s1", "{\"source\":[\"aws.s3\"]}", "earliest", NULL, &t),
        BB_OK);
    o = parsed(t);
    assert_string_equal(str(o, "type"), "subscribe");
    assert_string_equal(str(o, "id"), "s1");
    assert_string_equal(str(o, "from"), "earliest");
    p = cJSON_GetObjectItemCaseSensitive(o, "pattern");
    assert_true(cJSON_IsObject(p));
    assert_string_equal(
        cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(p, "source"), 0)->valuestring,
        "aws.s3");
    cJSON_Delete(o);
    free(t);
}

static void test_bb_wsclient_encode_subscribe_without_pattern_sends_null_and_latest(void **state)
{
    char *t = NULL;
    cJSON *o;

    assert_int_equal(bb_wsclient_encode_subscribe("all", NULL, NULL, NULL, &t), BB_OK);
    o = parsed(t);
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, "pattern")));
    assert_string_equal(str(o, "from"), "latest");
    cJSON_Delete(o);
    free(t);
}

static void test_bb_wsclient_encode_subscribe_from_digits_is_a_number(void **state)
{
    char *t = NULL;
    cJSON *o;

    assert_int_equal(bb_wsclient_encode_subscribe("s", NULL, "4242", NULL, &t), BB_OK);
    o = parsed(t);
    assert_true(num(o, "from") == 4242);
    cJSON_Delete(o);
    free(t);
}

static void test_bb_wsclient_encode_subscribe_from_time_stays_a_string(void **state)
{
    char *t = NULL;
    cJSON *o;

    assert_int_equal(bb_wsclient_encode_subscribe("s", NULL, "2026-11-26T08:00:00Z", NULL, &t),
                     BB_OK);
    o = parsed(t);
    assert_string_equal(str(o, "from"), "2026-11-26T08:00:00Z");
    cJSON_Delete(o);
    free(t);
}

static void test_bb_wsclient_encode_subscribe_rejects_bad_input(void **state)
{
    char id[BB_WSCLIENT_ID_MAX + 2];
    char *t = (char *)"untouched";

    memset(id, 'a', sizeof(id) - 1);
    id[sizeof(id) - 1] = '\0';
    assert_int_equal(bb_wsclient_encode_subscribe("s", "{not json", NULL, NULL, &t), BB_EINVAL);
    assert_null(t);
    assert_int_equal(bb_wsclient_encode_subscribe("s", "[1,2]", NULL, NULL, &t), BB_EINVAL);
    assert_int_equal(bb_wsclient_encode_subscribe("s", NULL, "yesterday", NULL, &t), BB_EINVAL);
    assert_int_equal(bb_wsclient_encode_subscribe("s", NULL, "-5", NULL, &t), BB_EINVAL);
    assert_int_equal(bb_wsclient_encode_subscribe("s", NULL, "99999999999999999999", NULL, &t),
                     BB_EINVAL);
    assert_int_equal(bb_wsclient_encode_subscribe("", NULL, NULL, NULL, &t), BB_EINVAL);
    assert_int_equal(bb_wsclient_encode_subscribe(id, NULL, NULL, NULL, &t), BB_EINVAL);
    id[BB_WSCLIENT_ID_MAX] = '\0';
    assert_int_equal(bb_wsclient_encode_subscribe(id, NULL, NULL, NULL, &t), BB_OK);
    free(t);
}

static void test_bb_wsclient_encode_subscribe_names_the_bus(void **state)
{
    static const char arn[] = "arn:aws:events:us-east-1:000000000000:event-bus/orders";
    char *t = NULL;
    cJSON *o;

    /* a name, sent as given, next to the other fields */
    assert_int_equal(
        bb_wsclient_encode_subscribe("s", "{\"source\":[\"shop\"]}", "17", "orders", &t), BB_OK);
    o = parsed(t);
    assert_string_equal(str(o, "type"), "subscribe");
    assert_string_equal(str(o, "id"), "s");
    assert_string_equal(str(o, "bus"), "orders");
    assert_true(num(o, "from") == 17);
    assert_true(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(o, "pattern")));
    cJSON_Delete(o);
    free(t);
    /* an ARN is not shortened: the daemon takes both */
    assert_int_equal(bb_wsclient_encode_subscribe("s", NULL, NULL, arn, &t), BB_OK);
    o = parsed(t);
    assert_string_equal(str(o, "bus"), arn);
    cJSON_Delete(o);
    free(t);
    /* NULL: no "bus" at all, which the daemon reads as the default bus */
    assert_int_equal(bb_wsclient_encode_subscribe("s", NULL, NULL, NULL, &t), BB_OK);
    o = parsed(t);
    assert_null(cJSON_GetObjectItemCaseSensitive(o, "bus"));
    cJSON_Delete(o);
    free(t);
}

static void test_bb_wsclient_encode_subscribe_rejects_bad_bus(void **state)
{
    char *bus = bb_xmalloc(BB_WSCLIENT_BUS_MAX + 2);
    char *t = (char *)"untouched";
    cJSON *o;

    assert_int_equal(bb_wsclient_encode_subscribe("s", NULL, NULL, "", &t), BB_EINVAL);
    assert_null(t);
    memset(bus, 'b', BB_WSCLIENT_BUS_MAX + 1);
    bus[BB_WSCLIENT_BUS_MAX + 1] = '\0';
    assert_int_equal(bb_wsclient_encode_subscribe("s", NULL, NULL, bus, &t), BB_EINVAL);
    assert_null(t);
    bus[BB_WSCLIENT_BUS_MAX] = '\0';
    assert_int_equal(bb_wsclient_encode_subscribe("s", NULL, NULL, bus, &t), BB_OK);
    o = parsed(t);
    assert_int_equal(strlen(str(o, "bus")), BB_WSCLIENT_BUS_MAX);
    cJSON_Delete(o);
    free(t);
    free(bus);
}

static void test_bb_wsclient_encode_join_checks_limits(void **state)
{
    char *t = NULL;
    cJSON *o;

    assert_int_equal(bb_wsclient_encode_join("thumbnail", 8, 5, &t), BB_OK);
    o = parsed(t);
    assert_string_equal(str(o, "type"), "join");
    assert_string_equal(str(o, "group"), "thumbnail");
    assert_true(num(o, "credit") == 8);
    assert_true(num(o, "visibility_timeout") == 5);
    cJSON_Delete(o);
    free(t);
    assert_int_equal(bb_wsclient_encode_join("thumb nail", 1, 30, &t), BB_EINVAL);
    assert_int_equal(bb_wsclient_encode_join("", 1, 30, &t), BB_EINVAL);
    assert_int_equal(bb_wsclient_encode_join("g", 0, 30, &t), BB_EINVAL);
    assert_int_equal(bb_wsclient_encode_join("g", 1001, 30, &t), BB_EINVAL);
    assert_int_equal(bb_wsclient_encode_join("g", 1, 0, &t), BB_EINVAL);
    assert_int_equal(bb_wsclient_encode_join("g", 1, 43201, &t), BB_EINVAL);
}

static void test_bb_wsclient_encode_ack_and_nack(void **state)
{
    char *t = NULL;
    cJSON *o;

    assert_int_equal(bb_wsclient_encode_ack(77, &t), BB_OK);
    o = parsed(t);
    assert_string_equal(str(o, "type"), "ack");
    assert_true(num(o, "delivery") == 77);
    cJSON_Delete(o);
    free(t);

    assert_int_equal(bb_wsclient_encode_nack(78, "disk full", 1, &t), BB_OK);
    o = parsed(t);
    assert_string_equal(str(o, "type"), "nack");
    assert_true(num(o, "delivery") == 78);
    assert_string_equal(str(o, "error"), "disk full");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "permanent")));
    cJSON_Delete(o);
    free(t);

    assert_int_equal(bb_wsclient_encode_nack(79, NULL, 0, &t), BB_OK);
    o = parsed(t);
    assert_null(cJSON_GetObjectItemCaseSensitive(o, "error"));
    assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(o, "permanent")));
    cJSON_Delete(o);
    free(t);
    assert_int_equal(bb_wsclient_encode_ack(-1, &t), BB_EINVAL);
}

static void test_bb_wsclient_encode_publish_copies_entries(void **state)
{
    cJSON *entries = cJSON_Parse("[{\"Source\":\"app\",\"DetailType\":\"t\",\"Detail\":\"{}\"}]");
    char *t = NULL;
    cJSON *o;

    assert_int_equal(bb_wsclient_encode_publish("r1", entries, &t), BB_OK);
    o = parsed(t);
    assert_string_equal(str(o, "type"), "publish");
    assert_string_equal(str(o, "ref"), "r1");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o, "entries")), 1);
    cJSON_Delete(o);
    free(t);
    cJSON_Delete(entries);
}

static void test_bb_wsclient_encode_publish_limits(void **state)
{
    cJSON *empty = cJSON_CreateArray();
    cJSON *eleven = cJSON_CreateArray();
    cJSON *big = cJSON_CreateArray();
    cJSON *e = cJSON_CreateObject();
    char *detail = bb_xmalloc(BB_WSCLIENT_MAX_OUT + 1);
    char *t = NULL;

    for (int i = 0; i < 11; i++)
        cJSON_AddItemToArray(eleven, cJSON_CreateObject());
    memset(detail, 'x', BB_WSCLIENT_MAX_OUT);
    detail[BB_WSCLIENT_MAX_OUT] = '\0';
    cJSON_AddStringToObject(e, "Detail", detail);
    cJSON_AddItemToArray(big, e);
    assert_int_equal(bb_wsclient_encode_publish(NULL, empty, &t), BB_EINVAL);
    assert_int_equal(bb_wsclient_encode_publish(NULL, eleven, &t), BB_EINVAL);
    assert_int_equal(bb_wsclient_encode_publish(NULL, NULL, &t), BB_EINVAL);
    assert_int_equal(bb_wsclient_encode_publish(NULL, big, &t), BB_ETOOBIG);
    assert_null(t);
    cJSON_Delete(empty);
    cJSON_Delete(eleven);
    cJSON_Delete(big);
    free(detail);
}

static void test_bb_wsclient_msg_decode_event(void **state)
{
    static const char text[] =
        "{\"type\":\"event\",\"sub\":\"s1\",\"seq\":17,\"event\":{\"source\":\"aws.s3\"}}";
    struct bb_wsclient_msg m;

    assert_int_equal(bb_wsclient_msg_decode(text, strlen(text), &m), BB_OK);
    assert_int_equal(m.type, BB_WSCLIENT_MSG_EVENT);
    assert_string_equal(m.sub, "s1");
    assert_int_equal(m.seq, 17);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(m.event, "source")->valuestring, "aws.s3");
    bb_wsclient_msg_cleanup(&m);
    assert_null(m.json);
    bb_wsclient_msg_cleanup(&m);
}

static void test_bb_wsclient_msg_decode_delivery(void **state)
{
    static const char text[] = "{\"type\":\"delivery\",\"group\":\"thumbnail\",\"delivery\":9001,"
                               "\"seq\":5,\"attempt\":2,\"rule\":\"thumbnail-images\","
                               "\"event\":\"transformed text\"}";
    struct bb_wsclient_msg m;

    assert_int_equal(bb_wsclient_msg_decode(text, strlen(text), &m), BB_OK);
    assert_int_equal(m.type, BB_WSCLIENT_MSG_DELIVERY);
    assert_string_equal(m.group, "thumbnail");
    assert_string_equal(m.rule, "thumbnail-images");
    assert_int_equal(m.delivery, 9001);
    assert_int_equal(m.seq, 5);
    assert_int_equal(m.attempt, 2);
    assert_true(cJSON_IsString(m.event));
    bb_wsclient_msg_cleanup(&m);
}

static void test_bb_wsclient_msg_decode_control_messages(void **state)
{
    static const char sub[] =
        "{\"type\":\"subscribed\",\"id\":\"s1\",\"after\":40,\"last_seq\":41}";
    static const char lag[] = "{\"type\":\"lagged\",\"sub\":\"s1\",\"resume_from\":123,"
                              "\"message\":\"fell behind\"}";
    static const char err[] = "{\"type\":\"error\",\"ref\":\"r1\",\"message\":\"no\"}";
    static const char pub[] = "{\"type\":\"published\",\"ref\":\"r2\",\"entries\":[]}";
    static const char fut[] = "{\"type\":\"from-the-future\",\"x\":1}";
    struct bb_wsclient_msg m;

    assert_int_equal(bb_wsclient_msg_decode(sub, strlen(sub), &m), BB_OK);
    assert_int_equal(m.type, BB_WSCLIENT_MSG_SUBSCRIBED);
    assert_string_equal(m.sub, "s1");
    assert_int_equal(m.seq, 40);
    bb_wsclient_msg_cleanup(&m);

    assert_int_equal(bb_wsclient_msg_decode(lag, strlen(lag), &m), BB_OK);
    assert_int_equal(m.type, BB_WSCLIENT_MSG_LAGGED);
    assert_int_equal(m.seq, 123);
    assert_string_equal(m.message, "fell behind");
    bb_wsclient_msg_cleanup(&m);

    assert_int_equal(bb_wsclient_msg_decode(err, strlen(err), &m), BB_OK);
    assert_int_equal(m.type, BB_WSCLIENT_MSG_ERROR);
    assert_string_equal(m.ref, "r1");
    assert_string_equal(m.message, "no");
    bb_wsclient_msg_cleanup(&m);

    assert_int_equal(bb_wsclient_msg_decode(pub, strlen(pub), &m), BB_OK);
    assert_int_equal(m.type, BB_WSCLIENT_MSG_PUBLISHED);
    assert_string_equal(m.ref, "r2");
    bb_wsclient_msg_cleanup(&m);

    assert_int_equal(bb_wsclient_msg_decode(fut, strlen(fut), &m), BB_OK);
    assert_int_equal(m.type, BB_WSCLIENT_MSG_UNKNOWN);
    bb_wsclient_msg_cleanup(&m);
}

static void test_bb_wsclient_msg_decode_rejects_malformed(void **state)
{
    static const char *const bad[] = {"", "nope", "[1]", "{\"x\":1}", "{\"type\":3}"};
    static const char *const incomplete[] = {
        "{\"type\":\"event\",\"sub\":\"s\",\"event\":{}}",
        "{\"type\":\"event\",\"sub\":\"s\",\"seq\":-1,\"event\":{}}",
        "{\"type\":\"event\",\"sub\":\"s\",\"seq\":1.5,\"event\":{}}",
        "{\"type\":\"event\",\"seq\":1,\"event\":{}}",
        "{\"type\":\"delivery\",\"group\":\"g\",\"seq\":1,\"event\":{}}",
        "{\"type\":\"lagged\",\"sub\":\"s\"}",
        "{\"type\":\"error\"}",
    };
    struct bb_wsclient_msg m;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(bb_wsclient_msg_decode(bad[i], strlen(bad[i]), &m), BB_EINVAL);
        assert_null(m.json);
    }
    for (size_t i = 0; i < sizeof(incomplete) / sizeof(incomplete[0]); i++) {
        assert_int_equal(bb_wsclient_msg_decode(incomplete[i], strlen(incomplete[i]), &m),
                         BB_ECORRUPT);
        assert_null(m.json);
    }
}

static void test_bb_wsclient_msg_decode_honours_length(void **state)
{
    static const char text[] = "{\"type\":\"status\"}garbage";
    struct bb_wsclient_msg m;

    assert_int_equal(bb_wsclient_msg_decode(text, 17, &m), BB_OK);
    assert_int_equal(m.type, BB_WSCLIENT_MSG_STATUS);
    bb_wsclient_msg_cleanup(&m);
}

static void test_bb_wsclient_backoff_ms_doubles_caps_and_jitters(void **state)
{
    assert_int_equal(bb_wsclient_backoff_ms(0, 100, 10000, 1.0), 100);
    assert_int_equal(bb_wsclient_backoff_ms(0, 100, 10000, 0.0), 50);
    assert_int_equal(bb_wsclient_backoff_ms(1, 100, 10000, 1.0), 200);
    assert_int_equal(bb_wsclient_backoff_ms(3, 100, 10000, 1.0), 800);
    assert_int_equal(bb_wsclient_backoff_ms(20, 100, 10000, 1.0), 10000);
    assert_int_equal(bb_wsclient_backoff_ms(1000000, 100, 10000, 0.0), 5000);
    for (int a = 0; a < 40; a++) {
        int v = bb_wsclient_backoff_ms(a, 250, 15000, 0.37);
        assert_true(v >= 125 && v <= 15000);
    }
    /* out-of-range jitter is clamped */
    assert_int_equal(bb_wsclient_backoff_ms(0, 100, 100, 7.0), 100);
    assert_int_equal(bb_wsclient_backoff_ms(0, 100, 100, -3.0), 50);
}

static void test_bb_wsclient_parse_endpoint_forms(void **state)
{
    char host[64];
    int port = 0;

    assert_int_equal(bb_wsclient_parse_endpoint("ws://127.0.0.1:4566", host, sizeof(host), &port),
                     BB_OK);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 4566);
    assert_int_equal(bb_wsclient_parse_endpoint("http://localhost", host, sizeof(host), &port),
                     BB_OK);
    assert_string_equal(host, "localhost");
    assert_int_equal(port, 80);
    assert_int_equal(
        bb_wsclient_parse_endpoint("ws://[::1]:9/_bucketbridge/events", host, sizeof(host), &port),
        BB_OK);
    assert_string_equal(host, "::1");
    assert_int_equal(port, 9);
    assert_int_equal(bb_wsclient_parse_endpoint("ws://h:1/", host, sizeof(host), &port), BB_OK);
}

static void test_bb_wsclient_parse_endpoint_rejects(void **state)
{
    static const char *const bad[] = {
        "127.0.0.1:4566", "wss://h:1",    "ws://",     "ws://:80",  "ws://h:",
        "ws://h:0",       "ws://h:65536", "ws://h:1x", "ws://[::1", "ws://h:1/other",
    };
    char host[8];
    int port;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(bb_wsclient_parse_endpoint(bad[i], host, sizeof(host), &port), BB_EINVAL);
    /* host longer than the buffer */
    assert_int_equal(bb_wsclient_parse_endpoint("ws://localhost:1", host, sizeof(host), &port),
                     BB_EINVAL);
}

static void test_bb_wsclient_host_is_loopback(void **state)
{
    (void)state;
    assert_int_equal(bb_wsclient_host_is_loopback("localhost"), 1);
    assert_int_equal(bb_wsclient_host_is_loopback("LocalHost"), 1);
    assert_int_equal(bb_wsclient_host_is_loopback("app.localhost"), 1);
    assert_int_equal(bb_wsclient_host_is_loopback("127.0.0.1"), 1);
    assert_int_equal(bb_wsclient_host_is_loopback("127.3.2.1"), 1);
    assert_int_equal(bb_wsclient_host_is_loopback("::1"), 1);
    assert_int_equal(bb_wsclient_host_is_loopback("::ffff:127.0.0.1"), 1);
    assert_int_equal(bb_wsclient_host_is_loopback("128.0.0.1"), 0);
    assert_int_equal(bb_wsclient_host_is_loopback("10.0.0.1"), 0);
    assert_int_equal(bb_wsclient_host_is_loopback("::2"), 0);
    assert_int_equal(bb_wsclient_host_is_loopback("::ffff:10.0.0.1"), 0);
    assert_int_equal(bb_wsclient_host_is_loopback("localhost.example.com"), 0);
    assert_int_equal(bb_wsclient_host_is_loopback("notlocalhost"), 0);
    assert_int_equal(bb_wsclient_host_is_loopback(".localhost"), 0);
    assert_int_equal(bb_wsclient_host_is_loopback("127.0.0.1.nip.io"), 0);
    assert_int_equal(bb_wsclient_host_is_loopback(""), 0);
    assert_int_equal(bb_wsclient_host_is_loopback(NULL), 0);
}

static void test_bb_wsclient_parse_url_tells_tls(void **state)
{
    char host[64];
    int port = 0;
    int tls = -1;

    assert_int_equal(bb_wsclient_parse_url("wss://127.0.0.1:4567/_bucketbridge/events", host,
                                           sizeof(host), &port, &tls),
                     BB_OK);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 4567);
    assert_int_equal(tls, 1);
    assert_int_equal(bb_wsclient_parse_url("https://localhost", host, sizeof(host), &port, &tls),
                     BB_OK);
    assert_string_equal(host, "localhost");
    assert_int_equal(port, 443);
    assert_int_equal(tls, 1);
    assert_int_equal(bb_wsclient_parse_url("wss://[::1]", host, sizeof(host), &port, &tls), BB_OK);
    assert_string_equal(host, "::1");
    assert_int_equal(port, 443);
    assert_int_equal(bb_wsclient_parse_url("ws://h:9", host, sizeof(host), &port, &tls), BB_OK);
    assert_int_equal(port, 9);
    assert_int_equal(tls, 0);
    assert_int_equal(bb_wsclient_parse_url("http://h", host, sizeof(host), &port, &tls), BB_OK);
    assert_int_equal(port, 80);
    assert_int_equal(tls, 0);
    for (size_t i = 0; i < 4; i++) {
        static const char *const bad[] = {"wss://", "wss://h:0", "https://h:1/other", "wsss://h"};
        assert_int_equal(bb_wsclient_parse_url(bad[i], host, sizeof(host), &port, &tls), BB_EINVAL);
    }
}

static void test_bb_wsclient_request_path_encodes_token(void **state)
{
    char *p = bb_wsclient_request_path("test");
    assert_string_equal(p, "/_bucketbridge/events?token=test");
    free(p);
    p = bb_wsclient_request_path("a b&c=d/é");
    assert_string_equal(p, "/_bucketbridge/events?token=a%20b%26c%3Dd%2F%C3%A9");
    free(p);
    p = bb_wsclient_request_path(NULL);
    assert_string_equal(p, "/_bucketbridge/events");
    free(p);
    p = bb_wsclient_request_path("");
    assert_string_equal(p, "/_bucketbridge/events");
    free(p);
}

/* ---- bb_wsclient_wake ---- */

static double mono_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A loopback port that was free a moment ago (bound, then closed). */
static int closed_port(void)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    assert_true(fd >= 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static void ignore_msg(struct bb_wsclient *c, const struct bb_wsclient_msg *m, void *arg)
{
    (void)c;
    (void)m;
    (void)arg;
}

static void *wake_later(void *arg)
{
    usleep(100 * 1000);
    bb_wsclient_wake(arg);
    return NULL;
}

static void test_bb_wsclient_subscribe_checks_the_bus_up_front(void **state)
{
    struct bb_wsclient *c = NULL;

    /* nothing connects before bb_wsclient_run(): only the wish list changes */
    assert_int_equal(bb_wsclient_new("127.0.0.1", closed_port(), "t", ignore_msg, NULL, &c), BB_OK);
    assert_int_equal(bb_wsclient_subscribe(c, "s", NULL, NULL, ""), BB_EINVAL);
    assert_int_equal(bb_wsclient_subscribe(c, "s", NULL, "earliest", "orders"), BB_OK);
    /* replacing by id may change the bus */
    assert_int_equal(bb_wsclient_subscribe(c, "s", NULL, "earliest", NULL), BB_OK);
    assert_int_equal(bb_wsclient_unsubscribe(c, "s"), BB_OK);
    assert_int_equal(bb_wsclient_unsubscribe(c, "s"), BB_ENOTFOUND);
    bb_wsclient_free(c);
}

static void test_bb_wsclient_wake_ends_run_early(void **state)
{
    struct bb_wsclient *c = NULL;
    pthread_t t;
    double t0;

    (void)state;
    assert_int_equal(bb_wsclient_new("127.0.0.1", closed_port(), "t", ignore_msg, NULL, &c), 0);
    /* before run: the next run returns at once */
    bb_wsclient_wake(c);
    t0 = mono_s();
    assert_int_equal(bb_wsclient_run(c, 60000), 0);
    assert_true(mono_s() - t0 < 30.0);
    /* from another thread during run */
    assert_int_equal(pthread_create(&t, NULL, wake_later, c), 0);
    t0 = mono_s();
    assert_int_equal(bb_wsclient_run(c, 60000), 0);
    assert_true(mono_s() - t0 < 30.0);
    pthread_join(t, NULL);
    /* the wake was consumed: a short run lasts its timeout */
    t0 = mono_s();
    assert_int_equal(bb_wsclient_run(c, 200), 0);
    assert_true(mono_s() - t0 >= 0.19);
    bb_wsclient_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bb_wsclient_encode_subscribe_carries_pattern_as_object),
        cmocka_unit_test(test_bb_wsclient_encode_subscribe_without_pattern_sends_null_and_latest),
        cmocka_unit_test(test_bb_wsclient_encode_subscribe_from_digits_is_a_number),
        cmocka_unit_test(test_bb_wsclient_encode_subscribe_from_time_stays_a_string),
        cmocka_unit_test(test_bb_wsclient_encode_subscribe_rejects_bad_input),
        cmocka_unit_test(test_bb_wsclient_encode_subscribe_names_the_bus),
        cmocka_unit_test(test_bb_wsclient_encode_subscribe_rejects_bad_bus),
        cmocka_unit_test(test_bb_wsclient_subscribe_checks_the_bus_up_front),
        cmocka_unit_test(test_bb_wsclient_encode_join_checks_limits),
        cmocka_unit_test(test_bb_wsclient_encode_ack_and_nack),
        cmocka_unit_test(test_bb_wsclient_encode_publish_copies_entries),
        cmocka_unit_test(test_bb_wsclient_encode_publish_limits),
        cmocka_unit_test(test_bb_wsclient_msg_decode_event),
        cmocka_unit_test(test_bb_wsclient_msg_decode_delivery),
        cmocka_unit_test(test_bb_wsclient_msg_decode_control_messages),
        cmocka_unit_test(test_bb_wsclient_msg_decode_rejects_malformed),
        cmocka_unit_test(test_bb_wsclient_msg_decode_honours_length),
        cmocka_unit_test(test_bb_wsclient_backoff_ms_doubles_caps_and_jitters),
        cmocka_unit_test(test_bb_wsclient_parse_endpoint_forms),
        cmocka_unit_test(test_bb_wsclient_parse_endpoint_rejects),
        cmocka_unit_test(test_bb_wsclient_parse_url_tells_tls),
        cmocka_unit_test(test_bb_wsclient_host_is_loopback),
        cmocka_unit_test(test_bb_wsclient_request_path_encodes_token),
        cmocka_unit_test(test_bb_wsclient_wake_ends_run_early),
    };
    return cmocka_run_group_tests_name("common/bb_wsclient", tests, NULL, NULL);
}
