/* SPDX-License-Identifier: MIT */
/*
 * bus_queue: per-target delivery rows and their state machine, in SQLite:
 *
 *   PENDING --taken--> INFLIGHT --ack--> (row deleted, counted)
 *      ^                  |
 *      +---fail, retries left (next_ms = now + backoff)
 *                         +--fail, retries or age spent--> DLQ row (or dropped)
 *
 * Webhook and command targets are taken by the dispatcher in bus.c;
 * consumer-group (queue) targets stay PENDING until a consumer takes them
 * (WebSocket issue). A restart puts INFLIGHT rows back to PENDING: nothing
 * is lost, a delivery may repeat (at-least-once). Loop thread only.
 */
#ifndef BB_EMULATOR_BUS_BUS_QUEUE_H
#define BB_EMULATOR_BUS_BUS_QUEUE_H

#include <stddef.h>
#include <stdint.h>

struct bus;
struct bus_queue;
struct bus_rule;
struct bus_target;

enum bus_delivery_state {
    BUS_DELIVERY_PENDING = 0,
    BUS_DELIVERY_INFLIGHT = 1,
};

/** One delivery row. Strings owned; free with bus_delivery_cleanup. */
struct bus_delivery {
    int64_t id;
    uint64_t seq;
    char *bus;
    char *rule;
    char *target;
    char *arn;
    int attempts;
    int64_t first_ms;
};

void bus_delivery_cleanup(struct bus_delivery *d);

struct bus_queue *bus_queue_new(struct bus *b);
void bus_queue_free(struct bus_queue *q);

/** Puts INFLIGHT rows back to PENDING, due now at the latest (at start:
 * no consumer holds anything any more). */
int bus_queue_recover(struct bus_queue *q);

/** Queues a delivery of event @seq to @t of @r, due now. Inside the
 * publishing transaction. */
int bus_queue_enqueue(struct bus_queue *q, uint64_t seq, const struct bus_rule *r,
                      const struct bus_target *t, int64_t now_ms);

/**
 * Takes up to @max due PENDING deliveries whose ARN is not a queue (webhook,
 * command, unknown) and marks them INFLIGHT. Returns how many were written
 * to @out (each to be cleaned up), or BB_EDB.
 */
int bus_queue_take_due(struct bus_queue *q, int64_t now_ms, struct bus_delivery *out, int max);

/** Earliest next_ms of a PENDING non-queue delivery, or -1 when none. */
int64_t bus_queue_next_due(struct bus_queue *q);

/** A delivery succeeded: the row goes. */
int bus_queue_ack(struct bus_queue *q, int64_t id);

/**
 * A delivery attempt failed with @code / @message (AWS ERROR_CODE names:
 * "ERROR_FROM_TARGET", "CONNECTION_FAILURE", "TIMEOUT", "NO_RESOURCE",
 * "INVALID_JSON"...). Retryable failures are due again after a backoff
 * (at least @retry_after_ms when >= 0) until the target's
 * MaximumRetryAttempts or MaximumEventAgeInSeconds is spent; then, or at
 * once for a non-retryable failure, the event goes to the target's
 * dead-letter queue with the attributes of the reference (5.3), or is
 * dropped when it has none. Returns 1 when the event left the queue (DLQ or
 * dropped), 0 when it will be retried, or BB_EDB.
 */
int bus_queue_fail(struct bus_queue *q, int64_t id, const char *code, const char *message,
                   int retryable, int64_t retry_after_ms);

/** Moves PENDING queue-target deliveries older than their target's
 * MaximumEventAgeInSeconds to the DLQ (or drops them). */
int bus_queue_expire(struct bus_queue *q, int64_t now_ms);

/** Backoff before attempt @attempts+1 (ms), before time scaling: 1 s
 * doubling per attempt, capped at 300 s, with jitter in [d/2, d]. */
int64_t bus_queue_backoff_ms(int attempts, double jitter01);

/*
 * Consumer groups: deliveries whose target is arn:aws:sqs:...:<group>.
 */

/** Takes up to @max due PENDING deliveries of @group for @holder (a member
 * token), INFLIGHT until @visible_until_ms. Returns the count or BB_EDB. */
int bus_queue_group_take(struct bus_queue *q, const char *group, int64_t now_ms,
                         int64_t visible_until_ms, const char *holder, struct bus_delivery *out,
                         int max);
/** 1 when delivery @id is INFLIGHT and held by @holder. */
int bus_queue_group_held(struct bus_queue *q, int64_t id, const char *holder);
/** Puts @holder's INFLIGHT deliveries back to PENDING, due now, without
 * counting an attempt (the member went away). Returns how many. */
int bus_queue_group_release(struct bus_queue *q, const char *holder);
/** INFLIGHT group deliveries whose visibility timeout passed (copied to
 * @out, at most @max). */
int bus_queue_group_expired(struct bus_queue *q, int64_t now_ms, struct bus_delivery *out, int max);
/** Earliest next_ms of @group's PENDING deliveries, or -1. */
int64_t bus_queue_group_next_due(struct bus_queue *q, const char *group);
/** PENDING and INFLIGHT counts of @group. */
void bus_queue_group_depth(struct bus_queue *q, const char *group, int64_t *pending,
                           int64_t *inflight);
/** The holder of delivery @id (new string) or NULL. */
char *bus_queue_holder(struct bus_queue *q, int64_t id);

/** Delivery counters since start. */
struct bus_queue_stats {
    uint64_t delivered;
    uint64_t failed_attempts;
    uint64_t dead_lettered;
    uint64_t dropped;
};
void bus_queue_stats(const struct bus_queue *q, struct bus_queue_stats *out);

/** Targets with their own delivery counters; the ARNs seen after this many
 * are counted together under the name "other". */
#define BUS_QUEUE_MAX_TARGETS 128
typedef void bus_queue_target_cb(void *arg, const char *arn, const struct bus_queue_stats *st);
/** Calls @cb with each target ARN's counters since start, in the order the
 * targets were first counted. The strings belong to the queue. */
void bus_queue_each_target(const struct bus_queue *q, bus_queue_target_cb *cb, void *arg);

/** Dead-letter messages of queue @arn after id @after (JSON array text,
 * new string), at most @limit. */
char *bus_queue_dlq_list(struct bus_queue *q, const char *arn, int64_t after, int limit);
/** Re-queues every dead-lettered event of @arn to its original rule and
 * target (attempts reset); returns the number redriven or BB_EDB. */
int bus_queue_dlq_redrive(struct bus_queue *q, const char *arn);

#endif
