/* SPDX-License-Identifier: MIT */
/*
 * bus_eventbus: the event buses (CreateEventBus .. DeleteEventBus): the
 * default bus, which always exists, and custom buses created through the
 * API or named by a configured rule, kept in memory in name order and
 * mirrored in the event_buses table. The internal bus of classic
 * notifications (BUS_NOTIFY_BUS) is not one of them. What a bus owns (its
 * rules, their targets and deliveries) is the caller's to remove.
 * Loop thread only.
 */
#ifndef BB_EMULATOR_BUS_BUS_EVENTBUS_H
#define BB_EMULATOR_BUS_BUS_EVENTBUS_H

#include <stddef.h>
#include <stdint.h>

struct db;
struct bus_eventbuses;

#define BUS_EVENTBUS_NAME_MAX 256
#define BUS_EVENTBUS_DESCRIPTION_MAX 512
#define BUS_EVENTBUS_MAX 100 /* buses, the default one included (AWS's quota) */

struct bus_eventbus {
    char *name;
    char *description; /* NULL: none */
    char *origin;      /* "default", "api" or "config" */
    int64_t created_ms;
    int64_t modified_ms;
};

/** Loads the buses from @db (borrowed; outlives the registry), adding the
 * default bus's row on first use (its creation time is then @now_ms).
 * Returns 0 and *out (free with bus_eventbuses_free), or BB_EDB. */
int bus_eventbuses_load(struct db *db, int64_t now_ms, struct bus_eventbuses **out);
void bus_eventbuses_free(struct bus_eventbuses *bs);

/** The bus named @name (a name, not an ARN), or NULL. Valid until the bus
 * is deleted. */
const struct bus_eventbus *bus_eventbuses_find(const struct bus_eventbuses *bs, const char *name);
/** The buses in name order: @i from 0; NULL past the end. */
const struct bus_eventbus *bus_eventbuses_at(const struct bus_eventbuses *bs, size_t i);
size_t bus_eventbuses_count(const struct bus_eventbuses *bs);

/**
 * Checks @name as CreateEventBus does for a custom bus (1-256 characters
 * of [/.-_A-Za-z0-9], no '/', not "default", no "aws." prefix). Returns 0,
 * or BB_EINVAL with the AWS error type in *code and its message in @err.
 */
int bus_eventbus_check_name(const char *name, const char **code, char *err, size_t errlen);

/**
 * Adds bus @name (checked by the caller) with @description (may be NULL)
 * and @origin ("api" or "config"), inside the caller's transaction.
 * Returns 0, BB_ECONFLICT when it exists, or BB_EDB.
 */
int bus_eventbuses_create(struct bus_eventbuses *bs, const char *name, const char *description,
                          const char *origin, int64_t now_ms);
/** Removes bus @name from the registry and the table (inside the caller's
 * transaction). BB_EINVAL for the default bus, BB_ENOTFOUND when absent,
 * BB_EDB. */
int bus_eventbuses_delete(struct bus_eventbuses *bs, const char *name);

/** "arn:aws:events:<region>:<account>:event-bus/<name>". New string. */
char *bus_eventbus_make_arn(const char *region, const char *account, const char *name);
/** The bus name in @name_or_arn: what follows ":event-bus/" in an ARN, or
 * the argument itself. Borrowed from the argument. */
const char *bus_eventbus_name_of(const char *name_or_arn);

#endif
