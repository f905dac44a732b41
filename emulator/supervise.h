/* SPDX-License-Identifier: MIT */
/*
 * supervise: runs the configured consumer programs: starts the minimum
 * number of instances with the endpoint and credentials in their
 * environment, captures their output into .bucketbridge/logs/<name>.log
 * with a line prefix, restarts one that exits (with backoff), adds
 * instances while the group's queue depth per instance is over the
 * threshold (scale_depth) and removes them one at a time when the queue
 * has been idle for idle_seconds, and stops all
 * at shutdown (SIGTERM, then SIGKILL after a grace period). Loop thread.
 */
#ifndef BB_EMULATOR_SUPERVISE_H
#define BB_EMULATOR_SUPERVISE_H

struct cJSON;
struct lws;
struct server;
struct supervise;

#define SUPERVISE_MAX_INSTANCES 16
#define SUPERVISE_STOP_GRACE_MS 5000
#define SUPERVISE_IDLE_MS 30000 /* default of a consumer's idle_seconds */

/** Starts the consumers of the configuration (none when disabled).
 * Returns a new supervisor (free with supervise_stop) or NULL when there is
 * nothing to run. */
struct supervise *supervise_start(struct server *srv);
/** Stops every instance (TERM, grace, KILL) and frees. */
void supervise_stop(struct supervise *sv);
/** A JSON array describing consumers and their instances (new object). */
struct cJSON *supervise_status(struct supervise *sv);

/** The lws protocol callback for the consumers' output pipes. */
int supervise_output_callback(struct lws *wsi, int reason, void *user, void *in, unsigned long len);

#endif
