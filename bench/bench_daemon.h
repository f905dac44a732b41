/* SPDX-License-Identifier: MIT */
/*
 * bench_daemon: starts a bucketbridge daemon for a benchmark and samples its
 * process from /proc.
 *
 * The daemon runs as
 *   BIN --ephemeral --listen 127.0.0.1:0 --ready-file DIR/ready.json
 *       --no-consumers --log-level warn [--config CONFIG]
 * with its stderr in DIR/daemon.log, DIR being a fresh mkdtemp directory
 * under $TMPDIR (or /tmp). Only the pid this module forked is ever
 * signalled. Not thread-safe: start and stop from one thread; the sampling
 * functions may run on any thread.
 */
#ifndef BB_BENCH_BENCH_DAEMON_H
#define BB_BENCH_BENCH_DAEMON_H

#include <stdint.h>
#include <sys/types.h>

struct bench_daemon {
    pid_t pid;            /* 0 when not running */
    int port;             /* the S3 / EventBridge / WebSocket port */
    char token[128];      /* the WebSocket token from the ready file */
    char access_key[128]; /* credentials from the ready file */
    char secret_key[128];
    char data_dir[512]; /* the ephemeral data directory */
    char dir[256];      /* our temp dir: ready file and daemon.log */
};

/**
 * Starts @bin (with --config @config when not NULL) and waits up to 60 s for
 * its ready file. Returns 0 with @d filled, or a negative bb_err / -errno
 * (the daemon, if it started, is stopped again and its log named on stderr).
 */
int bench_daemon_start(const char *bin, const char *config, struct bench_daemon *d);

/**
 * SIGTERM to d->pid, then SIGKILL after 30 s; waits for it and removes
 * d->dir. When the daemon did not exit with status 0 (a crash, a sanitizer
 * report, the SIGKILL), the end of its log is copied to stderr first and
 * the count bench_daemon_bad_exits() returns grows. NULL-safe and
 * idempotent.
 */
void bench_daemon_stop(struct bench_daemon *d);

/** How many daemons stopped by bench_daemon_stop() exited badly. */
int bench_daemon_bad_exits(void);

/**
 * Installs SIGINT/SIGTERM/SIGHUP handlers that send SIGTERM to the daemon
 * running at that moment (the one bench_daemon_start started last and
 * bench_daemon_stop has not stopped) and exit with 130. Call once, early.
 */
void bench_daemon_on_signals(void);

/** One /proc sample of a process. */
struct bench_proc_sample {
    double cpu_s;     /* utime + stime so far, seconds */
    uint64_t rss_kib; /* VmRSS */
    uint64_t hwm_kib; /* VmHWM (peak RSS since start) */
    double run_s;     /* all threads: time on a CPU (schedstat) */
    double wait_s;    /* all threads: time runnable but waiting for a CPU */
};

/** Reads /proc/@pid/stat, /proc/@pid/status and every
 * /proc/@pid/task/TID/schedstat. Returns 0 or -errno. */
int bench_proc_sample(pid_t pid, struct bench_proc_sample *out);

/**
 * A thread that samples @pid every @interval_ms and keeps the largest VmRSS
 * seen. Start with bench_rss_watch_start, read and stop with
 * bench_rss_watch_stop (which joins it). The struct is the caller's.
 */
struct bench_rss_watch {
    pid_t pid;
    int interval_ms;
    _Atomic int stop;
    uint64_t max_rss_kib; /* valid after stop */
    uint64_t samples;
    unsigned long thread; /* pthread_t */
};
int bench_rss_watch_start(struct bench_rss_watch *w, pid_t pid, int interval_ms);
void bench_rss_watch_stop(struct bench_rss_watch *w);

/** CLOCK_MONOTONIC in nanoseconds. */
int64_t bench_now_ns(void);

#endif
