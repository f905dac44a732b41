/* SPDX-License-Identifier: MIT */
/*
 * reset: POST /_bucketbridge/reset empties the daemon back to its
 * configuration between tests: buckets emptied (and ones not configured
 * removed, configured ones recreated), journal, deliveries, dead-letter
 * queues, archives, replays and API-created rules cleared. Sequence numbers
 * keep growing so resuming clients never see a number twice. Loop thread.
 */
#ifndef BB_EMULATOR_RESET_H
#define BB_EMULATOR_RESET_H

struct server;

/** Resets; returns 0 or a negative code (the state may be partly reset,
 * logged). @objects gets how many objects were removed. */
int reset_all(struct server *srv, long *objects);
/** Removes what a reset moved aside and could not remove before the daemon
 * stopped (<data>/.bucketbridge/trash). Start-up, before the watcher. */
void reset_sweep_trash(const char *data_dir);

#endif
