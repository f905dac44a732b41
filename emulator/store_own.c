/* SPDX-License-Identifier: MIT */
/* store_own: the store's own recent renames (store_own.h). */
#include "store_own.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

#define OWN_SLOTS 1024
#define OWN_TTL_MS 3000

struct own {
    uint64_t name_hash;
    uint64_t ino;
    int64_t at_ms;
};

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static struct own g_own[OWN_SLOTS]; /* guarded by g_mu */
static unsigned g_next;             /* guarded by g_mu */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* FNV-1a of the last path component: the watcher and the store may spell
 * the directory differently, never the name. */
static uint64_t name_hash(const char *path)
{
    const char *slash = strrchr(path, '/');
    uint64_t h = 1469598103934665603ull;
    for (const unsigned char *p = (const unsigned char *)(slash ? slash + 1 : path); *p; p++) {
        h ^= *p;
        h *= 1099511628211ull;
    }
    return h | 1; /* 0 marks a free slot */
}

void store_own_note(const char *path, uint64_t ino)
{
    uint64_t h = name_hash(path);
    int64_t t = now_ms();
    pthread_mutex_lock(&g_mu);
    g_own[g_next % OWN_SLOTS] = (struct own){h, ino, t};
    g_next++;
    pthread_mutex_unlock(&g_mu);
}

int store_own_claim(const char *path, uint64_t ino)
{
    uint64_t h = name_hash(path);
    int64_t t = now_ms();
    int found = 0;
    pthread_mutex_lock(&g_mu);
    /* newest first: the entry is most likely among the last few */
    for (unsigned i = 0; i < OWN_SLOTS && i < g_next; i++) {
        struct own *o = &g_own[(g_next - 1 - i) % OWN_SLOTS];
        if (o->name_hash == h && o->ino == ino) {
            found = t - o->at_ms <= OWN_TTL_MS;
            o->name_hash = 0;
            break;
        }
    }
    pthread_mutex_unlock(&g_mu);
    return found;
}

void store_own_clear(void)
{
    pthread_mutex_lock(&g_mu);
    memset(g_own, 0, sizeof(g_own));
    pthread_mutex_unlock(&g_mu);
}
