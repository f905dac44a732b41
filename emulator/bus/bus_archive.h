/* SPDX-License-Identifier: MIT */
/*
 * bus_archive: archives (events captured at publish time when they match
 * the archive's pattern; replayed events are never captured) and replays
 * (archived events whose time falls in [start, end) republished on the bus
 * with a "replay-name" field, optionally to some rules only), as
 * shared/reference/eventbridge.md section 7 describes. Replays advance in
 * batches from the bus housekeeping timer. Loop thread only.
 */
#ifndef BB_EMULATOR_BUS_BUS_ARCHIVE_H
#define BB_EMULATOR_BUS_BUS_ARCHIVE_H

#include <stddef.h>
#include <stdint.h>

struct bus;
struct bus_archives;
struct cJSON;

int bus_archives_open(struct bus *b, struct bus_archives **out);
void bus_archives_free(struct bus_archives *a);
struct bus_archives *bus_get_archives(struct bus *b);

/** Records @seq in every archive of @bus whose pattern matches @ev. Inside
 * the publishing transaction. */
int bus_archives_capture(struct bus_archives *a, const char *bus, const struct cJSON *ev,
                         uint64_t seq, size_t size);
/** Advances running replays. */
void bus_archives_tick(struct bus_archives *a, int64_t now_ms);

/*
 * API operations. Each takes the request object and returns 0 with *resp (a
 * new cJSON object, the response), or BB_EINVAL / BB_ENOTFOUND /
 * BB_ECONFLICT with *code and @err set to the AWS error.
 */
int bus_archive_api(struct bus_archives *a, const char *op, const struct cJSON *req,
                    struct cJSON **resp, const char **code, char *err, size_t errlen);

#endif
