/* SPDX-License-Identifier: MIT */
/*
 * ready: tells a test harness the daemon is ready without polling: one
 * JSON line with the endpoints, credentials, data dir and pid, written to a
 * file (atomically: temp file + rename) and/or a file descriptor. Also the
 * tree removal --ephemeral needs at exit.
 */
#ifndef BB_EMULATOR_READY_H
#define BB_EMULATOR_READY_H

struct server;

/** Writes the ready line. Returns 0 or -errno (logged). */
int ready_announce(struct server *srv, const char *path, int fd);
/** Removes @dir and everything under it (no symlink is followed). */
void ready_remove_tree(const char *dir);

#endif
