/* SPDX-License-Identifier: MIT */
/* bb_queue: a locked linked list of pointers. */
#include "bb_queue.h"
#include "bb_mem.h"

#include <stdlib.h>

struct bb_queue_item {
    struct bb_queue_item *next;
    void *p;
};

void bb_queue_init(struct bb_queue *q, bb_queue_wake_cb *wake, void *wake_arg)
{
    pthread_mutex_init(&q->lock, NULL);
    q->head = q->tail = NULL;
    q->count = 0;
    q->wake = wake;
    q->wake_arg = wake_arg;
}

void bb_queue_cleanup(struct bb_queue *q, void (*free_fn)(void *))
{
    void *p;
    while ((p = bb_queue_pop(q)) != NULL) {
        if (free_fn != NULL)
            free_fn(p);
    }
    pthread_mutex_destroy(&q->lock);
}

void bb_queue_push(struct bb_queue *q, void *p)
{
    struct bb_queue_item *it = bb_xmalloc(sizeof(*it));
    it->next = NULL;
    it->p = p;
    pthread_mutex_lock(&q->lock);
    if (q->tail != NULL)
        q->tail->next = it;
    else
        q->head = it;
    q->tail = it;
    q->count++;
    pthread_mutex_unlock(&q->lock);
    if (q->wake != NULL)
        q->wake(q->wake_arg);
}

void *bb_queue_pop(struct bb_queue *q)
{
    struct bb_queue_item *it;
    void *p = NULL;
    pthread_mutex_lock(&q->lock);
    it = q->head;
    if (it != NULL) {
        q->head = it->next;
        if (q->head == NULL)
            q->tail = NULL;
        q->count--;
    }
    pthread_mutex_unlock(&q->lock);
    if (it != NULL) {
        p = it->p;
        free(it);
    }
    return p;
}

size_t bb_queue_count(struct bb_queue *q)
{
    size_t n;
    pthread_mutex_lock(&q->lock);
    n = q->count;
    pthread_mutex_unlock(&q->lock);
    return n;
}
