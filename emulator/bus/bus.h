/* SPDX-License-Identifier: MIT */
/*
 * bus: the event bus. Every event (S3 or PutEvents) is journalled with a
 * sequence number, matched against the rules, and one delivery row is
 * queued per matching target, all in the caller's SQLite transaction; only
 * after the commit does anything leave (bus_kick). Delivery, retries and
 * dead-letter queues live in bus_queue.c; targets in bus_target.c; rules in
 * bus_rule.c; the API in bus_api.c. Loop thread only.
 * docs/internals/bus.md has the data model and the delivery state machine.
 */
#ifndef BB_EMULATOR_BUS_BUS_H
#define BB_EMULATOR_BUS_BUS_H

#include <stddef.h>
#include <stdint.h>

struct config;
struct db;
struct lws_context;
struct bus;
struct bus_rules;
struct bus_queue;
struct bus_eventbuses;

#define BUS_DEFAULT "default"

/**
 * Opens the bus over @db (borrowed; outlives the bus): loads the API rules
 * from the database and the configured ones from @cfg (which replace their
 * previous versions). Returns 0 and *out (free with bus_free), or BB_EINVAL
 * with a message naming the bad key in @err.
 */
int bus_open(struct db *db, const struct config *cfg, struct bus **out, char *err, size_t errlen);
/** Starts delivering (timers on @lws); call once the loop exists. */
void bus_start(struct bus *b, struct lws_context *lws);
void bus_free(struct bus *b);

/**
 * Journals @event_json (an event envelope) on bus @bus_name, routes it to
 * the matching enabled rules' targets and to matching archives. Must run
 * inside the caller's transaction (db_begin); the caller commits, then calls
 * bus_kick. @replay_name marks a replayed event (not archived again; only
 * rules in @filter_rules when given). Returns 0 and *seq, or BB_EDB /
 * BB_EINVAL.
 */
int bus_publish(struct bus *b, const char *bus_name, const char *event_json, size_t len,
                const char *replay_name, const char *filter_rules_json, uint64_t *seq);

/** Wakes the dispatcher after a commit that published events, and the
 * observer (the WebSocket layer). */
void bus_kick(struct bus *b);

/** Called from bus_kick: new events or deliveries may be there. */
typedef void bus_observer_cb(void *arg);
void bus_set_observer(struct bus *b, bus_observer_cb *cb, void *arg);

/**
 * Empties the journal, deliveries, dead-letter queues, archives, replays
 * and notification configurations, and removes the rules and the event
 * buses created through the API (configured rules, and the buses they
 * name, stay). Sequence numbers keep growing. Inside
 * the caller's transaction. Returns 0 or BB_EDB.
 */
int bus_reset(struct bus *b);

/**
 * Deletes custom bus @name as DeleteEventBus does: its rules with their
 * targets, the deliveries queued for them and not yet taken, and the bus.
 * Its archives stay. Inside the caller's transaction. Returns 0,
 * BB_EINVAL for the default bus, BB_ENOTFOUND, or BB_EDB.
 */
int bus_delete_eventbus(struct bus *b, const char *name);

/** Milliseconds since the epoch, through a replaceable clock (tests). */
int64_t bus_now_ms(const struct bus *b);

struct db *bus_db(struct bus *b);
struct bus_rules *bus_get_rules(struct bus *b);
/** The event buses (bus_eventbus.h). */
struct bus_eventbuses *bus_get_eventbuses(struct bus *b);
struct bus_queue *bus_get_queue(struct bus *b);
const struct config *bus_config(const struct bus *b);
/** The last sequence number journalled (0 when none). */
uint64_t bus_last_seq(const struct bus *b);

#endif
