/* SPDX-License-Identifier: MIT */
/*
 * bus_s3: turns committed S3 changes into events: the EventBridge event on
 * the default bus when the bucket has EventBridge on, and the classic
 * Records[] notifications of the bucket's queue/topic/lambda
 * configurations. Installed as the store's change hook, so each event
 * commits in the same transaction as the object's index row. Loop thread.
 */
#ifndef BB_EMULATOR_BUS_BUS_S3_H
#define BB_EMULATOR_BUS_BUS_S3_H

struct bus;
struct store;

/** Installs the hook on @st; @b must outlive the store's use of it. */
void bus_s3_attach(struct bus *b, struct store *st);

/** A fresh sequencer: 18 uppercase hex digits, strictly increasing. */
void bus_s3_sequencer(char out[19]);

#endif
