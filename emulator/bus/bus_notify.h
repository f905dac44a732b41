/* SPDX-License-Identifier: MIT */
/*
 * bus_notify: S3's classic notification configurations (queue, topic and
 * lambda configurations with prefix/suffix filters). Each configuration is
 * kept as a managed rule (ManagedBy "s3.amazonaws.com") on the internal bus
 * "s3-notifications" whose pattern matches the Records[] message of that
 * bucket's events; its target is the configuration's ARN (a queue is a
 * consumer group, a function a configured command, a topic a configured
 * webhook). So classic notifications get the same journal, retries and
 * dead-letter handling as EventBridge targets. Loop thread.
 */
#ifndef BB_EMULATOR_BUS_BUS_NOTIFY_H
#define BB_EMULATOR_BUS_BUS_NOTIFY_H

struct bus;
struct store;
struct cJSON;
struct bus_s3_event;
struct bus_event_env;

#define BUS_NOTIFY_BUS "s3-notifications"

/** Publishes the Records[] message of @e on the internal bus when @e's
 * bucket has classic configurations. Inside the change's transaction. */
int bus_notify_publish(struct bus *b, struct store *st, const struct bus_s3_event *e,
                       const struct bus_event_env *env);

/**
 * Replaces @bucket's classic configurations with @configs (a JSON array of
 * {"Kind": "Queue"|"Topic"|"CloudFunction", "Id", "Arn", "Events": [..],
 * "Prefix", "Suffix"}), stores them, and sends s3:TestEvent to each
 * destination (unless @skip_test). Returns 0, or BB_EINVAL with @err (an
 * unparsable ARN, an unknown event name, overlapping filters).
 */
int bus_notify_set(struct bus *b, const char *bucket, const struct cJSON *configs, int skip_test,
                   const char *request_id, char *err, unsigned long errlen);

/** The stored configurations of @bucket (JSON array, new object; empty
 * array when none). */
struct cJSON *bus_notify_get(struct bus *b, const char *bucket);

#endif
