/* SPDX-License-Identifier: MIT */
/*
 * bb_queue: a mutex-protected multi-producer, single-consumer hand-off of
 * pointers, with an optional wake-up callback run by the producer after
 * each push (the loop uses lws_cancel_service). Items are owned by the
 * queue between push and pop. bb_queue_push: any thread; pop: one thread.
 */
#ifndef BB_COMMON_BB_QUEUE_H
#define BB_COMMON_BB_QUEUE_H

#include <pthread.h>
#include <stddef.h>

typedef void bb_queue_wake_cb(void *arg);

struct bb_queue_item;

struct bb_queue {
    pthread_mutex_t lock;
    struct bb_queue_item *head, *tail;
    size_t count;
    bb_queue_wake_cb *wake;
    void *wake_arg;
};

void bb_queue_init(struct bb_queue *q, bb_queue_wake_cb *wake, void *wake_arg);
/** Frees what is left with @free_fn (may be NULL) and the lock. */
void bb_queue_cleanup(struct bb_queue *q, void (*free_fn)(void *));
/** Appends @p (ownership moves to the queue) and calls the wake-up. Any thread. */
void bb_queue_push(struct bb_queue *q, void *p);
/** Removes and returns the oldest item (ownership to the caller), or NULL. */
void *bb_queue_pop(struct bb_queue *q);
/** Items waiting. Any thread. */
size_t bb_queue_count(struct bb_queue *q);

#endif
