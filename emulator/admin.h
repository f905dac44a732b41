/* SPDX-License-Identifier: MIT */
/*
 * admin: the daemon's own endpoints under /_bucketbridge/: health (JSON),
 * and the dead-letter queues (list, redrive). Requests that change state
 * must come from no web page or from the daemon's own (Origin check in
 * route.c). Loop thread.
 */
#ifndef BB_EMULATOR_ADMIN_H
#define BB_EMULATOR_ADMIN_H

struct http_req;

/** Answers @r when it names an admin endpoint and returns 1; returns 0
 * (without answering) otherwise. */
int admin_handle(struct http_req *r);

#endif
