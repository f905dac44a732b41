/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the WebSocket message codec: the client's decoder
 * of server messages (common/bb_wsclient.c bb_wsclient_msg_decode) and the
 * daemon's check of client messages (emulator/ws_conn.c
 * ws_conn_message_type). The input is one message text. Decoded fields
 * must borrow from the message's own JSON; a client message with a string
 * "id" (and optional "pattern" text, "from" and "bus") is re-encoded with the
 * client's encoders, and what they produce must pass the daemon's check as
 * the same type (abort if not).
 */
#include "bb_wsclient.h"
#include "ws_conn.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts unless the daemon sees @text as a message of type @want. */
static void expect_type(char *text, const char *want)
{
    cJSON *m = cJSON_Parse(text);
    const char *why = NULL;
    const char *t = ws_conn_message_type(m, &why);

    if (t == NULL || strcmp(t, want) != 0)
        abort();
    cJSON_Delete(m);
    free(text);
}

static void reencode(const cJSON *m)
{
    const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "id"));
    const char *from = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "from"));
    const char *bus = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "bus"));
    const cJSON *pat = cJSON_GetObjectItemCaseSensitive(m, "pattern");
    const cJSON *dl = cJSON_GetObjectItemCaseSensitive(m, "delivery");
    char *ptext = cJSON_IsObject(pat) ? cJSON_PrintUnformatted(pat) : NULL;
    char *out = NULL;

    if (id != NULL && bb_wsclient_encode_subscribe(id, ptext, from, bus, &out) == 0)
        expect_type(out, "subscribe");
    if (id != NULL && bb_wsclient_encode_unsubscribe(id, &out) == 0)
        expect_type(out, "unsubscribe");
    if (id != NULL && bb_wsclient_encode_join(id, 10, 30, &out) == 0)
        expect_type(out, "join");
    if (cJSON_IsNumber(dl) && dl->valuedouble >= 0 && dl->valuedouble < 9e15) {
        if (bb_wsclient_encode_ack((int64_t)dl->valuedouble, &out) == 0)
            expect_type(out, "ack");
        if (bb_wsclient_encode_nack((int64_t)dl->valuedouble, from, 0, &out) == 0)
            expect_type(out, "nack");
    }
    free(ptext);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    struct bb_wsclient_msg msg;
    const char *why = NULL;
    cJSON *m;

    memset(&msg, 0, sizeof(msg));
    if (bb_wsclient_msg_decode(text, size, &msg) == 0) {
        if (msg.json == NULL || msg.type == BB_WSCLIENT_MSG_CONNECTED ||
            msg.type == BB_WSCLIENT_MSG_DISCONNECTED)
            abort();
        if (msg.type == BB_WSCLIENT_MSG_EVENT && (msg.sub == NULL || msg.event == NULL))
            abort();
    }
    bb_wsclient_msg_cleanup(&msg);
    if (msg.json != NULL)
        abort(); /* cleanup zeroes */

    m = cJSON_ParseWithLength(text, size);
    if (ws_conn_message_type(m, &why) == NULL) {
        if (why == NULL)
            abort();
    } else {
        reencode(m);
    }
    cJSON_Delete(m);
    return 0;
}
