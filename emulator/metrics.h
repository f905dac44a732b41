/* SPDX-License-Identifier: MIT */
/*
 * metrics: counters and histograms of the daemon, rendered as Prometheus
 * text exposition at /_bucketbridge/metrics. Label sets are small and
 * bounded (operations, statuses, sources, detail-types: at most
 * METRICS_MAX_SERIES per family; more fold into "other"). Loop thread.
 */
#ifndef BB_EMULATOR_METRICS_H
#define BB_EMULATOR_METRICS_H

#include <stdint.h>

struct bb_buf;
struct server;

#define METRICS_MAX_SERIES 128

/** One answered HTTP request. */
void metrics_request(const char *op, int status, uint64_t bytes_in, uint64_t bytes_out,
                     int64_t duration_us);
/** One event committed to the journal. */
void metrics_event(const char *source, const char *detail_type);
/** One rule matched an event. */
void metrics_rule_match(void);
/** One SQLite commit that took @us microseconds. */
void metrics_commit(int64_t us);
/** Watcher notes handled and reconciliations run. */
void metrics_watch(int rescan);
/** A WebSocket connection was accepted (+1) or closed (-1). */
void metrics_ws_connection(int delta);
/** A live WebSocket subscription fell behind and was paused (lagged). */
void metrics_ws_lagged(void);

/** Appends the exposition text (counters above plus gauges read from
 * @srv: connections, queue depths, dead letters, consumers). */
void metrics_render(struct bb_buf *out, struct server *srv);

#endif
