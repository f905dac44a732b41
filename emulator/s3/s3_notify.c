/* SPDX-License-Identifier: MIT */
/*
 * s3_notify: PutBucketNotificationConfiguration and
 * GetBucketNotificationConfiguration. The EventBridgeConfiguration element
 * turns the bucket's EventBridge events on or off; queue, topic and lambda
 * configurations become managed rules (bus_notify.c).
 */
#include "bb_buf.h"
#include "bb_err.h"
#include "bb_log.h"
#include "bus_notify.h"
#include "http_conn.h"
#include "s3_handler.h"
#include "s3_xml.h"
#include "server.h"
#include "store.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define XMLNS "http://s3.amazonaws.com/doc/2006-03-01/"
#define NOTIFY_BODY_MAX (256 * 1024)

static void put_end(struct http_req *r)
{
    struct s3_req *q = r->ctx;
    cJSON *configs = NULL;
    int eventbridge = 0;
    const char *why = NULL;
    char err[512];
    char skip[16];
    enum s3_error e = s3_body_finish(q);

    if (e != S3E_NONE) {
        s3_reply_error(q, e, q->body.err_msg, NULL, 0);
        return;
    }
    if (s3_xml_parse_notification(q->body.mem.data ? q->body.mem.data : "", q->body.mem.len,
                                  &configs, &eventbridge, &why) < 0) {
        cJSON_Delete(configs);
        s3_reply_error(q, S3E_MALFORMED_XML, why, NULL, 0);
        return;
    }
    int skip_test = s3_req_header(q, "x-amz-skip-destination-validation", skip, sizeof(skip)) &&
                    strcmp(skip, "true") == 0;
    if (bus_notify_set(q->srv->bus, q->bucket, configs, skip_test, r->request_id, err,
                       sizeof(err)) < 0) {
        cJSON_Delete(configs);
        s3_reply_error(q, S3E_INVALID_ARGUMENT, err, NULL, 0);
        return;
    }
    cJSON_Delete(configs);
    store_index_bucket_set_eventbridge(store_get_index(q->store), q->bucket, eventbridge);
    BB_LOG_INFO("s3", "notification configuration set", "bucket=%s eventbridge=%d", q->bucket,
                eventbridge);
    s3_reply_empty(q, 200);
}

static int put_body(struct http_req *r, const char *p, size_t n)
{
    struct s3_req *q = r->ctx;
    enum s3_error e = s3_body_feed(q, p, n);
    if (e != S3E_NONE)
        s3_reply_error(q, e, q->body.err_msg, NULL, 0);
    return 0;
}

void s3_notify_put(struct s3_req *q)
{
    enum s3_error e = s3_body_begin(q, 0, NOTIFY_BODY_MAX, BB_CHECKSUM_NONE);
    if (e != S3E_NONE) {
        s3_reply_error(q, e, q->body.err_msg, NULL, 0);
        return;
    }
    if (!q->http->has_body) {
        put_end(q->http);
        return;
    }
    q->http->on_body = put_body;
    q->http->on_end = put_end;
}

static void elem(struct bb_buf *b, const char *name, const char *value)
{
    bb_buf_appendf(b, "<%s>", name);
    bb_buf_append_xml(b, value, strlen(value));
    bb_buf_appendf(b, "</%s>", name);
}

void s3_notify_get(struct s3_req *q)
{
    cJSON *configs = bus_notify_get(q->srv->bus, q->bucket);
    const cJSON *c;
    struct bb_buf b;

    bb_buf_init(&b, 1024 * 1024);
    bb_buf_appends(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<NotificationConfiguration "
                       "xmlns=\"" XMLNS "\">");
    cJSON_ArrayForEach(c, configs)
    {
        const char *kind = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "Kind"));
        const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "Id"));
        const char *arn = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "Arn"));
        const char *prefix = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "Prefix"));
        const char *suffix = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "Suffix"));
        const cJSON *ev;
        if (kind == NULL || arn == NULL)
            continue;
        bb_buf_appendf(&b, "<%sConfiguration>", kind);
        if (id != NULL)
            elem(&b, "Id", id);
        elem(&b, kind, arn);
        cJSON_ArrayForEach(ev, cJSON_GetObjectItemCaseSensitive(c, "Events"))
        {
            if (cJSON_IsString(ev))
                elem(&b, "Event", ev->valuestring);
        }
        if (prefix != NULL || suffix != NULL) {
            bb_buf_appends(&b, "<Filter><S3Key>");
            if (prefix != NULL) {
                bb_buf_appends(&b, "<FilterRule><Name>prefix</Name>");
                elem(&b, "Value", prefix);
                bb_buf_appends(&b, "</FilterRule>");
            }
            if (suffix != NULL) {
                bb_buf_appends(&b, "<FilterRule><Name>suffix</Name>");
                elem(&b, "Value", suffix);
                bb_buf_appends(&b, "</FilterRule>");
            }
            bb_buf_appends(&b, "</S3Key></Filter>");
        }
        bb_buf_appendf(&b, "</%sConfiguration>", kind);
    }
    if (store_index_bucket_eventbridge(store_get_index(q->store), q->bucket))
        bb_buf_appends(&b, "<EventBridgeConfiguration></EventBridgeConfiguration>");
    bb_buf_appends(&b, "</NotificationConfiguration>");
    cJSON_Delete(configs);
    s3_reply_xml(q, 200, &b);
    bb_buf_cleanup(&b);
}
