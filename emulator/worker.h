/* SPDX-License-Identifier: MIT */
/*
 * worker: one background thread for work that can block for long (hashing
 * a large dropped file). A job's run function runs on the worker thread;
 * its done function runs later on the loop thread (the result comes back
 * through a bb_queue and lws_cancel_service). Jobs are done in order.
 */
#ifndef BB_EMULATOR_WORKER_H
#define BB_EMULATOR_WORKER_H

struct lws_context;
struct worker;

typedef void worker_fn(void *arg);

/** Starts the thread. Returns a new worker (free with worker_free) or NULL. */
struct worker *worker_new(struct lws_context *lws);
/** Stops the thread after the current job; pending jobs are dropped with
 * their done function called with @cancelled = 1 on the calling thread. */
void worker_free(struct worker *w);

/** Queues @run (worker thread) then @done (loop thread). Loop thread. */
void worker_submit(struct worker *w, worker_fn *run, void (*done)(void *arg, int cancelled),
                   void *arg);

/** Runs the done functions of finished jobs. Loop thread (from
 * LWS_CALLBACK_EVENT_WAIT_CANCELLED). */
void worker_drain(struct worker *w);

#endif
