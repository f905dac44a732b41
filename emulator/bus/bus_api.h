/* SPDX-License-Identifier: MIT */
/*
 * bus_api: the EventBridge API (JSON 1.1: POST / with X-Amz-Target:
 * AWSEvents.<Op>, SigV4 with service "events") on the S3 port: PutEvents,
 * the rule and target operations, TestEventPattern, archives and replays,
 * and the default bus's description. Errors are {"__type", "message"}.
 * Loop thread.
 */
#ifndef BB_EMULATOR_BUS_BUS_API_H
#define BB_EMULATOR_BUS_BUS_API_H

struct http_req;

#define BUS_API_MAX_BODY (2 * 1024 * 1024)

/** 1 when @r is an EventBridge API call (POST / with X-Amz-Target AWSEvents.*). */
int bus_api_is_call(const struct http_req *r);
/** Handles the call (answers it). */
void bus_api_dispatch(struct http_req *r);

#endif
