/* SPDX-License-Identifier: MIT */
/*
 * bus_ruleset: many compiled patterns matched against one event.
 *
 * Every sub-rule of every pattern is filed under one "key" field, chosen
 * when the pattern is added: a field whose matchers can all be looked up
 * (exact values, equals-ignore-case, prefix and suffix in both cases,
 * wildcards by their literal head or tail, numeric ranges and CIDR blocks as
 * intervals), preferring the field whose entries are least crowded. Fields
 * that cannot be looked up (exists, anything-but) are filed by path presence;
 * sub-rules whose every field may match an absent path go to a list checked
 * for every event. Matching flattens the event once, probes the index with
 * each leaf and evaluates only the candidates, with bus_pattern_eval: the
 * very evaluator bus_pattern_match uses. The index only narrows; it never
 * decides. Adding and removing are not thread-safe; matching a set that is
 * not being changed is safe from any number of threads.
 */
#include "bus_pattern.h"
#include "bus_pattern_int.h"

#include "bb_err.h"
#include "bb_mem.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX
#define KEY_BYTES 17 /* interval keys: family byte, then 16 sortable bytes */

enum rs_kind {
    K_STR = 1,
    K_IP,
    K_NUM,
    K_NUMTEXT,
    K_TRUE,
    K_FALSE,
    K_NULL,
    K_EQCI,
    K_PREFIX,
    K_SUFFIX,
    K_PREFIX_CI,
    K_SUFFIX_CI,
    K_COUNT,
};

/* the kinds looked up once per distinct length at a path */
enum rs_lenkind { L_PREFIX, L_SUFFIX, L_PREFIX_CI, L_SUFFIX_CI, L_COUNT, L_NONE = 255 };

struct rs_ref {
    uint32_t slot;
    uint32_t sub;
};

struct rs_vec {
    struct rs_ref *v;
    uint32_t n;
    uint32_t cap;
};

struct rs_bucket {
    uint64_t hash;
    uint32_t path;
    uint8_t kind;
    void *key; /* bytes, or code points for the case-insensitive kinds */
    size_t klen;
    struct rs_vec refs;
};

struct rs_len {
    uint32_t len;
    uint32_t count;
};

struct rs_lens {
    struct rs_len *v; /* ascending */
    uint32_t n;
    uint32_t cap;
};

struct rs_iv {
    unsigned char lo[KEY_BYTES];
    unsigned char hi[KEY_BYTES];
    struct rs_ref ref;
};

struct rs_pathinfo {
    uint32_t nkind[K_COUNT]; /* index entries per kind at this path */
    struct rs_lens lens[L_COUNT];
    struct rs_vec presence;
    struct rs_iv *iv; /* sorted by lo once built */
    uint32_t niv;
    uint32_t capiv;
    unsigned char (*maxhi)[KEY_BYTES]; /* segment tree of the largest hi */
    uint32_t treesize;
    int dirty;
};

enum rs_where { E_BUCKET, E_PRESENCE, E_INTERVAL, E_ALWAYS };

struct rs_entry { /* one reference a rule put in the index */
    uint8_t where;
    uint8_t lenkind;
    uint32_t path;
    uint32_t len;
    uint32_t sub;
    struct rs_bucket *b;
};

struct rs_rule {
    uint64_t id;
    const struct bus_pattern *p;
    uint32_t *pmap; /* pattern path id -> set path id */
    struct rs_entry *ent;
    uint32_t nent;
    uint32_t capent;
    int live;
};

struct bus_ruleset {
    struct bus_ptab pt;
    struct rs_rule *rule;
    uint32_t nrule;
    uint32_t caprule;
    uint32_t nlive;
    uint64_t *idkey; /* id -> slot, open addressing */
    uint32_t *idval; /* slot + 1; 0 = empty */
    uint32_t capid;
    struct rs_bucket **bk; /* value index, open addressing */
    uint32_t nbk;
    uint32_t capbk;
    struct rs_pathinfo *pi; /* by set path id */
    uint32_t npi;
    uint32_t *dirty; /* paths whose intervals need rebuilding */
    uint32_t ndirty;
    uint32_t capdirty;
    uint32_t *freeslot;
    uint32_t nfree;
    uint32_t capfree;
    struct rs_vec always;
};

/* ---- small vectors ---- */

static void vec_push(struct rs_vec *v, uint32_t slot, uint32_t sub)
{
    if (v->n == v->cap) {
        v->cap = v->cap ? 2 * v->cap : 4;
        v->v = bb_xrealloc(v->v, (size_t)v->cap * sizeof(*v->v));
    }
    v->v[v->n].slot = slot;
    v->v[v->n].sub = sub;
    v->n++;
}

static void vec_drop(struct rs_vec *v, uint32_t slot, uint32_t sub)
{
    uint32_t i;

    for (i = 0; i < v->n; i++) {
        if (v->v[i].slot == slot && v->v[i].sub == sub) {
            v->v[i] = v->v[--v->n];
            return;
        }
    }
}

static void lens_add(struct rs_lens *l, uint32_t len, int delta)
{
    uint32_t i;

    for (i = 0; i < l->n && l->v[i].len < len; i++)
        ;
    if (i < l->n && l->v[i].len == len) {
        l->v[i].count += (uint32_t)delta;
        if (l->v[i].count == 0) {
            memmove(&l->v[i], &l->v[i + 1], (l->n - i - 1) * sizeof(*l->v));
            l->n--;
        }
        return;
    }
    if (delta < 0)
        return;
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 4;
        l->v = bb_xrealloc(l->v, (size_t)l->cap * sizeof(*l->v));
    }
    memmove(&l->v[i + 1], &l->v[i], (l->n - i) * sizeof(*l->v));
    l->v[i].len = len;
    l->v[i].count = (uint32_t)delta;
    l->n++;
}

/* ---- hashing of index keys ---- */

static uint64_t key_final(uint64_t h, uint8_t kind, uint32_t path)
{
    return bus_pattern_mix(h ^ ((uint64_t)kind << 56) ^ ((uint64_t)path * 0x9e3779b97f4a7c15ULL));
}

static uint64_t step_cp(uint64_t h, uint32_t cp)
{
    return (h ^ cp) * BUS_FNV_PRIME;
}

static int kind_is_ci(uint8_t kind)
{
    return kind == K_EQCI || kind == K_PREFIX_CI || kind == K_SUFFIX_CI;
}

/* Hash of a stored key: suffix kinds are hashed from their end so that the
 * probe can extend one running hash from the end of the event value. */
static uint64_t key_hash(uint8_t kind, uint32_t path, const void *key, size_t klen)
{
    uint64_t h = BUS_FNV_BASIS;
    size_t i;

    if (kind_is_ci(kind)) {
        const uint32_t *cp = key;

        for (i = 0; i < klen; i++)
            h = step_cp(h, kind == K_SUFFIX_CI ? cp[klen - 1 - i] : cp[i]);
    } else if (kind == K_SUFFIX) {
        const unsigned char *u = key;

        for (i = klen; i > 0; i--)
            h = (h ^ u[i - 1]) * BUS_FNV_PRIME;
    } else {
        h = bus_pattern_fnv(h, key, klen);
    }
    return key_final(h, kind, path);
}

/* ---- the value index ---- */

static struct rs_bucket *bk_find(const struct bus_ruleset *rs, uint64_t h, uint8_t kind,
                                 uint32_t path, const void *key, size_t klen)
{
    size_t unit = kind_is_ci(kind) ? sizeof(uint32_t) : 1;
    uint32_t mask;
    uint32_t i;

    if (rs->capbk == 0)
        return NULL;
    mask = rs->capbk - 1;
    for (i = (uint32_t)h & mask; rs->bk[i] != NULL; i = (i + 1) & mask) {
        const struct rs_bucket *b = rs->bk[i];

        if (b->hash == h && b->kind == kind && b->path == path && b->klen == klen &&
            (klen == 0 || memcmp(b->key, key, klen * unit) == 0))
            return rs->bk[i];
    }
    return NULL;
}

static void bk_place(struct rs_bucket **tab, uint32_t cap, struct rs_bucket *b)
{
    uint32_t i;

    for (i = (uint32_t)b->hash & (cap - 1); tab[i] != NULL; i = (i + 1) & (cap - 1))
        ;
    tab[i] = b;
}

static struct rs_bucket *bk_get(struct bus_ruleset *rs, uint8_t kind, uint32_t path,
                                const void *key, size_t klen)
{
    uint64_t h = key_hash(kind, path, key, klen);
    struct rs_bucket *b = bk_find(rs, h, kind, path, key, klen);
    size_t bytes = klen * (kind_is_ci(kind) ? sizeof(uint32_t) : 1);

    if (b != NULL)
        return b;
    if (2 * (rs->nbk + 1) > rs->capbk) {
        uint32_t cap = rs->capbk ? 2 * rs->capbk : 64;
        struct rs_bucket **tab = bb_xcalloc(cap, sizeof(*tab));
        uint32_t i;

        for (i = 0; i < rs->capbk; i++) {
            if (rs->bk[i] != NULL)
                bk_place(tab, cap, rs->bk[i]);
        }
        free(rs->bk);
        rs->bk = tab;
        rs->capbk = cap;
    }
    b = bb_xcalloc(1, sizeof(*b));
    b->hash = h;
    b->kind = kind;
    b->path = path;
    b->klen = klen;
    b->key = bb_xmalloc(bytes ? bytes : 1);
    if (bytes > 0)
        memcpy(b->key, key, bytes);
    bk_place(rs->bk, rs->capbk, b);
    rs->nbk++;
    return b;
}

static void bk_remove(struct bus_ruleset *rs, struct rs_bucket *b)
{
    uint32_t mask = rs->capbk - 1;
    uint32_t i;
    uint32_t j;

    for (i = (uint32_t)b->hash & mask; rs->bk[i] != b; i = (i + 1) & mask)
        ;
    rs->bk[i] = NULL;
    /* backward-shift deletion keeps probe chains unbroken */
    for (j = (i + 1) & mask; rs->bk[j] != NULL; j = (j + 1) & mask) {
        uint32_t k = (uint32_t)rs->bk[j]->hash & mask;

        if ((j > i && (k <= i || k > j)) || (j < i && (k <= i && k > j))) {
            rs->bk[i] = rs->bk[j];
            rs->bk[j] = NULL;
            i = j;
        }
    }
    rs->nbk--;
    free(b->key);
    free(b->refs.v);
    free(b);
}

/* ---- id -> slot ---- */

static uint32_t id_find(const struct bus_ruleset *rs, uint64_t id)
{
    uint32_t mask;
    uint32_t i;

    if (rs->capid == 0)
        return NONE;
    mask = rs->capid - 1;
    for (i = (uint32_t)bus_pattern_mix(id) & mask; rs->idval[i] != 0; i = (i + 1) & mask) {
        if (rs->idkey[i] == id)
            return i;
    }
    return NONE;
}

static void id_place(uint64_t *keys, uint32_t *vals, uint32_t cap, uint64_t id, uint32_t v)
{
    uint32_t i;

    for (i = (uint32_t)bus_pattern_mix(id) & (cap - 1); vals[i] != 0; i = (i + 1) & (cap - 1))
        ;
    keys[i] = id;
    vals[i] = v;
}

static void id_insert(struct bus_ruleset *rs, uint64_t id, uint32_t slot)
{
    if (2 * (rs->nlive + 1) > rs->capid) {
        uint32_t cap = rs->capid ? 2 * rs->capid : 64;
        uint64_t *keys = bb_xcalloc(cap, sizeof(*keys));
        uint32_t *vals = bb_xcalloc(cap, sizeof(*vals));
        uint32_t i;

        for (i = 0; i < rs->capid; i++) {
            if (rs->idval[i] != 0)
                id_place(keys, vals, cap, rs->idkey[i], rs->idval[i]);
        }
        free(rs->idkey);
        free(rs->idval);
        rs->idkey = keys;
        rs->idval = vals;
        rs->capid = cap;
    }
    id_place(rs->idkey, rs->idval, rs->capid, id, slot + 1);
}

static void id_remove(struct bus_ruleset *rs, uint32_t i)
{
    uint32_t mask = rs->capid - 1;
    uint32_t j;

    rs->idval[i] = 0;
    for (j = (i + 1) & mask; rs->idval[j] != 0; j = (j + 1) & mask) {
        uint32_t k = (uint32_t)bus_pattern_mix(rs->idkey[j]) & mask;

        if ((j > i && (k <= i || k > j)) || (j < i && (k <= i && k > j))) {
            rs->idkey[i] = rs->idkey[j];
            rs->idval[i] = rs->idval[j];
            rs->idval[j] = 0;
            i = j;
        }
    }
}

/* ---- intervals: numeric ranges and CIDR blocks ---- */

struct probe;
static void cand_push(struct probe *pr, const struct rs_ref *r);

static void num_ikey(double d, unsigned char out[KEY_BYTES])
{
    memset(out, 0, KEY_BYTES);
    bus_pattern_num_key(d, out + 1);
}

static void ip_ikey(int fam, const unsigned char ip[16], unsigned char out[KEY_BYTES])
{
    out[0] = (unsigned char)fam;
    memcpy(out + 1, ip, 16);
}

static int iv_cmp(const void *a, const void *b)
{
    const struct rs_iv *x = a;
    const struct rs_iv *y = b;
    int r = memcmp(x->lo, y->lo, KEY_BYTES);

    if (r != 0)
        return r;
    return x->ref.slot < y->ref.slot ? -1 : x->ref.slot > y->ref.slot;
}

static void iv_build(struct rs_pathinfo *pi)
{
    uint32_t size = 1;
    uint32_t i;

    pi->dirty = 0;
    free(pi->maxhi);
    pi->maxhi = NULL;
    pi->treesize = 0;
    if (pi->niv == 0)
        return;
    qsort(pi->iv, pi->niv, sizeof(*pi->iv), iv_cmp);
    while (size < pi->niv)
        size *= 2;
    pi->treesize = size;
    pi->maxhi = bb_xcalloc(2 * (size_t)size, KEY_BYTES);
    for (i = 0; i < pi->niv; i++)
        memcpy(pi->maxhi[size + i], pi->iv[i].hi, KEY_BYTES);
    for (i = size - 1; i >= 1; i--) {
        const unsigned char *a = pi->maxhi[2 * i];
        const unsigned char *b = pi->maxhi[2 * i + 1];

        memcpy(pi->maxhi[i], memcmp(a, b, KEY_BYTES) >= 0 ? a : b, KEY_BYTES);
    }
}

static void mark_dirty(struct bus_ruleset *rs, uint32_t path)
{
    if (rs->pi[path].dirty)
        return;
    rs->pi[path].dirty = 1;
    if (rs->ndirty == rs->capdirty) {
        rs->capdirty = rs->capdirty ? 2 * rs->capdirty : 8;
        rs->dirty = bb_xrealloc(rs->dirty, (size_t)rs->capdirty * sizeof(*rs->dirty));
    }
    rs->dirty[rs->ndirty++] = path;
}

static void iv_add(struct rs_pathinfo *pi, const unsigned char *lo, const unsigned char *hi,
                   uint32_t slot, uint32_t sub)
{
    struct rs_iv *v;

    if (pi->niv == pi->capiv) {
        pi->capiv = pi->capiv ? 2 * pi->capiv : 4;
        pi->iv = bb_xrealloc(pi->iv, (size_t)pi->capiv * sizeof(*pi->iv));
    }
    v = &pi->iv[pi->niv++];
    memcpy(v->lo, lo, KEY_BYTES);
    memcpy(v->hi, hi, KEY_BYTES);
    v->ref.slot = slot;
    v->ref.sub = sub;
}

static void iv_drop(struct rs_pathinfo *pi, uint32_t slot, uint32_t sub)
{
    uint32_t i;

    for (i = 0; i < pi->niv; i++) {
        if (pi->iv[i].ref.slot == slot && pi->iv[i].ref.sub == sub) {
            pi->iv[i] = pi->iv[--pi->niv];
            return;
        }
    }
}

/* Pushes every interval of @pi holding @q; intervals [0, cut) have lo <= q. */
static void iv_stab(const struct rs_pathinfo *pi, const unsigned char *q, uint32_t node,
                    uint32_t nl, uint32_t nr, uint32_t cut, struct probe *out)
{
    if (nl >= cut || memcmp(pi->maxhi[node], q, KEY_BYTES) < 0)
        return;
    if (nr - nl == 1) {
        cand_push(out, &pi->iv[nl].ref);
        return;
    }
    iv_stab(pi, q, 2 * node, nl, (nl + nr) / 2, cut, out);
    iv_stab(pi, q, 2 * node + 1, (nl + nr) / 2, nr, cut, out);
}

static void iv_query(const struct rs_pathinfo *pi, const unsigned char *q, struct probe *out)
{
    uint32_t lo = 0;
    uint32_t hi = pi->niv;

    if (pi->niv == 0)
        return;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;

        if (memcmp(pi->iv[mid].lo, q, KEY_BYTES) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    iv_stab(pi, q, 1, 0, pi->treesize, lo, out);
}

/* ---- what a matcher is filed under ---- */

struct rs_key {
    uint8_t kind; /* 0: an interval */
    uint8_t lenkind;
    const void *key;
    size_t klen;
    uint32_t len; /* for the length lists */
    unsigned char buf[KEY_BYTES];
    unsigned char lo[KEY_BYTES];
    unsigned char hi[KEY_BYTES];
    int empty; /* an interval no value can fall in */
};

/* Fills @k for matcher @m; returns 0 when @m cannot be looked up. */
static int matcher_key(const struct bus_matcher *m, struct rs_key *k)
{
    memset(k, 0, sizeof(*k));
    k->lenkind = L_NONE;
    switch (m->type) {
    case BUS_MT_STR:
        k->kind = K_STR;
        k->key = m->s;
        k->klen = m->len;
        return 1;
    case BUS_MT_IP:
        k->kind = K_IP;
        ip_ikey(m->fam, m->ip_lo, k->buf);
        k->key = k->buf;
        k->klen = KEY_BYTES;
        return 1;
    case BUS_MT_NUM:
        k->kind = K_NUM;
        bus_pattern_num_key(m->d, k->buf);
        k->key = k->buf;
        k->klen = 8;
        return 1;
    case BUS_MT_NUMTEXT:
        k->kind = K_NUMTEXT;
        k->key = m->s;
        k->klen = m->len;
        return 1;
    case BUS_MT_TRUE:
        k->kind = K_TRUE;
        return 1;
    case BUS_MT_FALSE:
        k->kind = K_FALSE;
        return 1;
    case BUS_MT_NULL:
        k->kind = K_NULL;
        return 1;
    case BUS_MT_EQ_CI:
        k->kind = K_EQCI;
        k->key = m->cp;
        k->klen = m->ncp;
        return 1;
    case BUS_MT_PREFIX:
    case BUS_MT_SUFFIX:
        k->kind = m->type == BUS_MT_PREFIX ? K_PREFIX : K_SUFFIX;
        k->lenkind = m->type == BUS_MT_PREFIX ? L_PREFIX : L_SUFFIX;
        k->key = m->s;
        k->klen = m->len;
        k->len = (uint32_t)m->len;
        return 1;
    case BUS_MT_PREFIX_CI:
    case BUS_MT_SUFFIX_CI:
        k->kind = m->type == BUS_MT_PREFIX_CI ? K_PREFIX_CI : K_SUFFIX_CI;
        k->lenkind = m->type == BUS_MT_PREFIX_CI ? L_PREFIX_CI : L_SUFFIX_CI;
        k->key = m->cp;
        k->klen = m->ncp;
        k->len = (uint32_t)m->ncp;
        return 1;
    case BUS_MT_WILDCARD: {
        const struct bus_wc *wc = &m->wc;

        if (wc->nstar == 0) {
            k->kind = K_STR;
        } else if (wc->seglen[0] > 0 || wc->seglen[wc->nstar] == 0) {
            k->kind = K_PREFIX; /* by the literal head (possibly empty: any string) */
            k->lenkind = L_PREFIX;
        } else {
            k->kind = K_SUFFIX;
            k->lenkind = L_SUFFIX;
        }
        if (k->kind == K_SUFFIX) {
            k->key = wc->seg[wc->nstar];
            k->klen = wc->seglen[wc->nstar];
        } else {
            k->key = wc->seg[0];
            k->klen = wc->seglen[0];
        }
        k->len = (uint32_t)k->klen;
        return 1;
    }
    case BUS_MT_NUMERIC: {
        double lo = m->lo;
        double hi = m->hi;

        if (m->lo_open)
            lo = nextafter(lo, INFINITY);
        if (m->hi_open)
            hi = nextafter(hi, -INFINITY);
        if (lo == 0)
            lo = 0;
        if (hi == 0)
            hi = 0;
        k->empty = lo > hi;
        num_ikey(lo, k->lo);
        num_ikey(hi, k->hi);
        return 1;
    }
    case BUS_MT_CIDR:
        ip_ikey(m->fam, m->ip_lo, k->lo);
        ip_ikey(m->fam, m->ip_hi, k->hi);
        return 1;
    default:
        return 0; /* exists, anything-but */
    }
}

/* ---- adding and removing ---- */

struct bus_ruleset *bus_ruleset_new(void)
{
    struct bus_ruleset *rs = bb_xcalloc(1, sizeof(*rs));

    bus_pattern_ptab_init(&rs->pt);
    return rs;
}

static void pathinfo_reserve(struct bus_ruleset *rs)
{
    if (rs->npi >= rs->pt.n)
        return;
    rs->pi = bb_xrealloc(rs->pi, (size_t)rs->pt.n * sizeof(*rs->pi));
    memset(&rs->pi[rs->npi], 0, (size_t)(rs->pt.n - rs->npi) * sizeof(*rs->pi));
    rs->npi = rs->pt.n;
}

static void rule_entry(struct rs_rule *r, uint8_t where, uint32_t path, uint32_t sub,
                       struct rs_bucket *b, uint8_t lenkind, uint32_t len)
{
    struct rs_entry *e;

    if (r->nent == r->capent) {
        r->capent = r->capent ? 2 * r->capent : 4;
        r->ent = bb_xrealloc(r->ent, (size_t)r->capent * sizeof(*r->ent));
    }
    e = &r->ent[r->nent++];
    e->where = where;
    e->path = path;
    e->sub = sub;
    e->b = b;
    e->lenkind = lenkind;
    e->len = len;
}

/* How crowded filing field @c under its matchers would be. */
static uint64_t field_cost(const struct bus_ruleset *rs, const struct bus_cond *c, uint32_t path)
{
    const struct rs_pathinfo *pi = &rs->pi[path];
    uint64_t cost = 0;
    uint32_t i;

    for (i = 0; i < c->nm; i++) {
        struct rs_key k;

        if (!matcher_key(&c->m[i], &k))
            return UINT64_MAX;
        if (k.kind == 0) {
            cost += 2 + pi->niv / 4;
        } else {
            const struct rs_bucket *b =
                bk_find(rs, key_hash(k.kind, path, k.key, k.klen), k.kind, path, k.key, k.klen);

            cost += 1 + (b != NULL ? b->refs.n : 0);
            if (k.lenkind != L_NONE && k.len == 0)
                cost += 64; /* an empty head matches every string */
        }
    }
    return cost;
}

static void file_subrule(struct bus_ruleset *rs, uint32_t slot, uint32_t si)
{
    struct rs_rule *r = &rs->rule[slot];
    const struct bus_pattern *p = r->p;
    const struct bus_subrule *sr = &p->sub[si];
    uint64_t best = UINT64_MAX;
    uint64_t bestpres = UINT64_MAX;
    int bi = -1;
    int pres = -1;
    uint32_t i;

    for (i = 0; i < sr->n; i++) {
        const struct bus_cond *c = &p->cond[sr->f[i].cond];
        uint32_t path = r->pmap[sr->f[i].path];
        uint64_t cost;

        if (c->absent_ok || c->nm == 0)
            continue;
        cost = field_cost(rs, c, path);
        /* on a tie the longer path: deeper fields tend to be the selective ones
         * ("source" and "detail-type" are shared by whole families of rules) */
        if (cost < best || (cost == best && cost != UINT64_MAX &&
                            rs->pt.e[path].len > rs->pt.e[r->pmap[sr->f[bi].path]].len)) {
            best = cost;
            bi = (int)i;
        }
        if (rs->pi[path].presence.n < bestpres) {
            bestpres = rs->pi[path].presence.n;
            pres = (int)i;
        }
    }
    if (bi >= 0) {
        const struct bus_cond *c = &p->cond[sr->f[bi].cond];
        uint32_t path = r->pmap[sr->f[bi].path];
        struct rs_pathinfo *pi = &rs->pi[path];

        for (i = 0; i < c->nm; i++) {
            struct rs_key k;
            struct rs_bucket *b;

            matcher_key(&c->m[i], &k);
            if (k.kind == 0) {
                if (!k.empty) {
                    iv_add(pi, k.lo, k.hi, slot, si);
                    mark_dirty(rs, path);
                    rule_entry(r, E_INTERVAL, path, si, NULL, L_NONE, 0);
                }
                continue;
            }
            b = bk_get(rs, k.kind, path, k.key, k.klen);
            vec_push(&b->refs, slot, si);
            pi->nkind[k.kind]++;
            if (k.lenkind != L_NONE)
                lens_add(&pi->lens[k.lenkind], k.len, 1);
            rule_entry(r, E_BUCKET, path, si, b, k.lenkind, k.len);
            if (c->m[i].type == BUS_MT_NUMTEXT && isfinite(c->m[i].d)) {
                /* a cJSON event number has no text: it may match by its double */
                bus_pattern_num_key(c->m[i].d, k.buf);
                b = bk_get(rs, K_NUM, path, k.buf, 8);
                vec_push(&b->refs, slot, si);
                pi->nkind[K_NUM]++;
                rule_entry(r, E_BUCKET, path, si, b, L_NONE, 0);
            }
        }
        return;
    }
    if (pres >= 0) {
        uint32_t path = r->pmap[sr->f[pres].path];

        vec_push(&rs->pi[path].presence, slot, si);
        rule_entry(r, E_PRESENCE, path, si, NULL, L_NONE, 0);
        return;
    }
    vec_push(&rs->always, slot, si);
    rule_entry(r, E_ALWAYS, 0, si, NULL, L_NONE, 0);
}

static void rebuild_dirty(struct bus_ruleset *rs)
{
    uint32_t i;

    for (i = 0; i < rs->ndirty; i++)
        iv_build(&rs->pi[rs->dirty[i]]);
    rs->ndirty = 0;
}

int bus_ruleset_add(struct bus_ruleset *rs, uint64_t id, const struct bus_pattern *p)
{
    struct rs_rule *r;
    uint32_t slot;
    uint32_t i;

    if (rs == NULL || p == NULL)
        return BB_EINVAL;
    if (id_find(rs, id) != NONE)
        return BB_ECONFLICT;
    if (rs->nfree > 0) {
        slot = rs->freeslot[--rs->nfree];
    } else {
        slot = rs->nrule;
        if (rs->nrule == rs->caprule) {
            rs->caprule = rs->caprule ? 2 * rs->caprule : 16;
            rs->rule = bb_xrealloc(rs->rule, (size_t)rs->caprule * sizeof(*rs->rule));
        }
        rs->nrule++;
    }
    r = &rs->rule[slot];
    memset(r, 0, sizeof(*r));
    r->id = id;
    r->p = p;
    r->live = 1;
    r->pmap = bb_xmalloc(((size_t)p->pt.n + 1) * sizeof(*r->pmap));
    for (i = 0; i < p->pt.n; i++) {
        const struct bus_path *e = &p->pt.e[i];

        r->pmap[i] = NONE;
        if (e->s != NULL && e->nfull > 0)
            r->pmap[i] = bus_pattern_ptab_ref(&rs->pt, e->s, e->len);
    }
    pathinfo_reserve(rs);
    for (i = 0; i < p->nsub; i++)
        file_subrule(rs, slot, i);
    rebuild_dirty(rs);
    id_insert(rs, id, slot);
    rs->nlive++;
    return 0;
}

int bus_ruleset_remove(struct bus_ruleset *rs, uint64_t id)
{
    uint32_t at = rs != NULL ? id_find(rs, id) : NONE;
    struct rs_rule *r;
    uint32_t slot;
    uint32_t i;

    if (at == NONE)
        return BB_ENOTFOUND;
    slot = rs->idval[at] - 1;
    r = &rs->rule[slot];
    for (i = 0; i < r->nent; i++) {
        const struct rs_entry *e = &r->ent[i];
        struct rs_pathinfo *pi = &rs->pi[e->path];

        switch (e->where) {
        case E_BUCKET:
            vec_drop(&e->b->refs, slot, e->sub);
            pi->nkind[e->b->kind]--;
            if (e->lenkind != L_NONE)
                lens_add(&pi->lens[e->lenkind], e->len, -1);
            if (e->b->refs.n == 0)
                bk_remove(rs, e->b);
            break;
        case E_PRESENCE:
            vec_drop(&pi->presence, slot, e->sub);
            break;
        case E_INTERVAL:
            iv_drop(pi, slot, e->sub);
            mark_dirty(rs, e->path);
            break;
        default:
            vec_drop(&rs->always, slot, e->sub);
            break;
        }
    }
    rebuild_dirty(rs);
    for (i = 0; i < r->p->pt.n; i++) {
        if (r->pmap[i] != NONE)
            bus_pattern_ptab_unref(&rs->pt, r->pmap[i]);
    }
    free(r->pmap);
    free(r->ent);
    memset(r, 0, sizeof(*r));
    if (rs->nfree == rs->capfree) {
        rs->capfree = rs->capfree ? 2 * rs->capfree : 16;
        rs->freeslot = bb_xrealloc(rs->freeslot, (size_t)rs->capfree * sizeof(*rs->freeslot));
    }
    rs->freeslot[rs->nfree++] = slot;
    id_remove(rs, at);
    rs->nlive--;
    return 0;
}

void bus_ruleset_free(struct bus_ruleset *rs)
{
    uint32_t i;

    if (rs == NULL)
        return;
    for (i = 0; i < rs->nrule; i++) {
        free(rs->rule[i].pmap);
        free(rs->rule[i].ent);
    }
    for (i = 0; i < rs->capbk; i++) {
        struct rs_bucket *b = rs->bk[i];

        if (b != NULL) {
            free(b->key);
            free(b->refs.v);
            free(b);
        }
    }
    for (i = 0; i < rs->npi; i++) {
        int k;

        for (k = 0; k < L_COUNT; k++)
            free(rs->pi[i].lens[k].v);
        free(rs->pi[i].presence.v);
        free(rs->pi[i].iv);
        free(rs->pi[i].maxhi);
    }
    free(rs->pi);
    free(rs->bk);
    free(rs->rule);
    free(rs->idkey);
    free(rs->idval);
    free(rs->always.v);
    free(rs->dirty);
    free(rs->freeslot);
    bus_pattern_ptab_cleanup(&rs->pt);
    free(rs);
}

/* ---- matching ---- */

#define CAND_INLINE 256
#define CP_INLINE 256

struct probe {
    const struct bus_ruleset *rs;
    struct rs_vec cand;
    uint32_t *cp; /* folded code points of the current value */
    uint32_t ncp;
    uint32_t capcp;
    struct rs_ref cand_in[CAND_INLINE];
    uint32_t cp_in[CP_INLINE];
};

static void cand_reserve(struct probe *pr, uint32_t more)
{
    if (pr->cand.n + more > pr->cand.cap) {
        uint32_t cap = pr->cand.cap;
        struct rs_ref *n;

        while (cap < pr->cand.n + more)
            cap *= 2;
        if (pr->cand.v == pr->cand_in) {
            n = bb_xmalloc((size_t)cap * sizeof(*n));
            memcpy(n, pr->cand.v, (size_t)pr->cand.n * sizeof(*n));
        } else {
            n = bb_xrealloc(pr->cand.v, (size_t)cap * sizeof(*n));
        }
        pr->cand.v = n;
        pr->cand.cap = cap;
    }
}

static void cand_push(struct probe *pr, const struct rs_ref *r)
{
    cand_reserve(pr, 1);
    pr->cand.v[pr->cand.n++] = *r;
}

static void cand_push_all(struct probe *pr, const struct rs_vec *v)
{
    uint32_t i;

    cand_reserve(pr, v->n);
    for (i = 0; i < v->n; i++)
        pr->cand.v[pr->cand.n++] = v->v[i];
}

static void probe_hit(struct probe *pr, uint64_t h, uint8_t kind, uint32_t path, const void *key,
                      size_t klen)
{
    const struct rs_bucket *b = bk_find(pr->rs, key_final(h, kind, path), kind, path, key, klen);

    if (b != NULL)
        cand_push_all(pr, &b->refs);
}

static void probe_fold(struct probe *pr, const struct bus_leaf *l)
{
    size_t i = 0;

    pr->ncp = 0;
    while (i < l->len) {
        if (pr->ncp == pr->capcp) {
            uint32_t cap = 2 * pr->capcp;

            if (pr->cp == pr->cp_in) {
                pr->cp = bb_xmalloc((size_t)cap * sizeof(*pr->cp));
                memcpy(pr->cp, pr->cp_in, sizeof(pr->cp_in));
            } else {
                pr->cp = bb_xrealloc(pr->cp, (size_t)cap * sizeof(*pr->cp));
            }
            pr->capcp = cap;
        }
        pr->cp[pr->ncp++] = bus_pattern_fold(bus_pattern_utf8_next(l->s, l->len, &i));
    }
}

static void probe_string(struct probe *pr, const struct rs_pathinfo *pi, struct bus_leaf *l)
{
    const unsigned char *s = (const unsigned char *)l->s;
    uint32_t path = l->path;
    uint32_t j;

    if (pi->nkind[K_STR] > 0)
        probe_hit(pr, bus_pattern_fnv(BUS_FNV_BASIS, s, l->len), K_STR, path, s, l->len);
    if (pi->lens[L_PREFIX].n > 0) {
        uint64_t h = BUS_FNV_BASIS;
        size_t at = 0;

        for (j = 0; j < pi->lens[L_PREFIX].n; j++) {
            size_t want = pi->lens[L_PREFIX].v[j].len;

            if (want > l->len)
                break;
            h = bus_pattern_fnv(h, s + at, want - at);
            at = want;
            probe_hit(pr, h, K_PREFIX, path, s, want);
        }
    }
    if (pi->lens[L_SUFFIX].n > 0) {
        uint64_t h = BUS_FNV_BASIS;
        size_t at = 0;

        for (j = 0; j < pi->lens[L_SUFFIX].n; j++) {
            size_t want = pi->lens[L_SUFFIX].v[j].len;

            if (want > l->len)
                break;
            for (; at < want; at++)
                h = (h ^ s[l->len - 1 - at]) * BUS_FNV_PRIME;
            probe_hit(pr, h, K_SUFFIX, path, s + l->len - want, want);
        }
    }
    if (pi->nkind[K_EQCI] > 0 || pi->lens[L_PREFIX_CI].n > 0 || pi->lens[L_SUFFIX_CI].n > 0) {
        probe_fold(pr, l);
        if (pi->nkind[K_EQCI] > 0) {
            uint64_t h = BUS_FNV_BASIS;

            for (j = 0; j < pr->ncp; j++)
                h = step_cp(h, pr->cp[j]);
            probe_hit(pr, h, K_EQCI, path, pr->cp, pr->ncp);
        }
        if (pi->lens[L_PREFIX_CI].n > 0) {
            uint64_t h = BUS_FNV_BASIS;
            uint32_t at = 0;

            for (j = 0; j < pi->lens[L_PREFIX_CI].n; j++) {
                uint32_t want = pi->lens[L_PREFIX_CI].v[j].len;

                if (want > pr->ncp)
                    break;
                for (; at < want; at++)
                    h = step_cp(h, pr->cp[at]);
                probe_hit(pr, h, K_PREFIX_CI, path, pr->cp, want);
            }
        }
        if (pi->lens[L_SUFFIX_CI].n > 0) {
            uint64_t h = BUS_FNV_BASIS;
            uint32_t at = 0;

            for (j = 0; j < pi->lens[L_SUFFIX_CI].n; j++) {
                uint32_t want = pi->lens[L_SUFFIX_CI].v[j].len;

                if (want > pr->ncp)
                    break;
                for (; at < want; at++)
                    h = step_cp(h, pr->cp[pr->ncp - 1 - at]);
                probe_hit(pr, h, K_SUFFIX_CI, path, pr->cp + pr->ncp - want, want);
            }
        }
    }
    if (pi->nkind[K_IP] > 0 || pi->niv > 0) {
        int fam = bus_pattern_leaf_ip(l);

        if (fam > 0) {
            unsigned char key[KEY_BYTES];

            ip_ikey(fam, l->ipb, key);
            if (pi->nkind[K_IP] > 0)
                probe_hit(pr, bus_pattern_fnv(BUS_FNV_BASIS, key, KEY_BYTES), K_IP, path, key,
                          KEY_BYTES);
            iv_query(pi, key, pr);
        }
    }
}

static void probe_leaf(struct probe *pr, struct bus_leaf *l)
{
    const struct rs_pathinfo *pi = &pr->rs->pi[l->path];
    unsigned char key[KEY_BYTES];

    switch (l->type) {
    case BUS_LV_STR:
        probe_string(pr, pi, l);
        break;
    case BUS_LV_NUM:
        if (pi->nkind[K_NUM] > 0) {
            bus_pattern_num_key(l->d, key);
            probe_hit(pr, bus_pattern_fnv(BUS_FNV_BASIS, key, 8), K_NUM, l->path, key, 8);
        }
        if (pi->niv > 0) {
            num_ikey(l->d, key);
            iv_query(pi, key, pr);
        }
        break;
    case BUS_LV_NUMTEXT:
        if (pi->nkind[K_NUMTEXT] > 0)
            probe_hit(pr, bus_pattern_fnv(BUS_FNV_BASIS, l->s, l->len), K_NUMTEXT, l->path, l->s,
                      l->len);
        break;
    case BUS_LV_TRUE:
        if (pi->nkind[K_TRUE] > 0)
            probe_hit(pr, BUS_FNV_BASIS, K_TRUE, l->path, NULL, 0);
        break;
    case BUS_LV_FALSE:
        if (pi->nkind[K_FALSE] > 0)
            probe_hit(pr, BUS_FNV_BASIS, K_FALSE, l->path, NULL, 0);
        break;
    case BUS_LV_NULL:
        if (pi->nkind[K_NULL] > 0)
            probe_hit(pr, BUS_FNV_BASIS, K_NULL, l->path, NULL, 0);
        break;
    default:
        break;
    }
}

static int ref_before(const struct rs_ref *a, const struct rs_ref *b)
{
    return a->slot < b->slot || (a->slot == b->slot && a->sub < b->sub);
}

static int ref_cmp(const void *a, const void *b)
{
    const struct rs_ref *x = a;
    const struct rs_ref *y = b;

    return ref_before(x, y) ? -1 : ref_before(y, x);
}

int bus_ruleset_match(const struct bus_ruleset *rs, const cJSON *event, bus_ruleset_match_cb *cb,
                      void *arg)
{
    struct bus_flat f;
    struct probe pr;
    uint32_t i;
    uint32_t done = NONE;
    int rc = 0;

    if (rs == NULL || event == NULL || (event->type & 0xff) != cJSON_Object || rs->nlive == 0)
        return 0;
    bus_pattern_flat_init(&f, &rs->pt);
    bus_pattern_flat_cjson(&f, event);
    pr.rs = rs;
    pr.cand.v = pr.cand_in;
    pr.cand.n = 0;
    pr.cand.cap = CAND_INLINE;
    pr.cp = pr.cp_in;
    pr.ncp = 0;
    pr.capcp = CP_INLINE;
    for (i = 0; i < f.nleaf; i++) {
        if (i == 0 || f.leaf[i].path != f.leaf[i - 1].path)
            cand_push_all(&pr, &rs->pi[f.leaf[i].path].presence);
        probe_leaf(&pr, &f.leaf[i]);
    }
    cand_push_all(&pr, &rs->always);
    if (pr.cand.n > 32) {
        qsort(pr.cand.v, pr.cand.n, sizeof(*pr.cand.v), ref_cmp);
    } else {
        for (i = 1; i < pr.cand.n; i++) {
            struct rs_ref x = pr.cand.v[i];
            uint32_t j = i;

            while (j > 0 && ref_before(&x, &pr.cand.v[j - 1])) {
                pr.cand.v[j] = pr.cand.v[j - 1];
                j--;
            }
            pr.cand.v[j] = x;
        }
    }
    for (i = 0; i < pr.cand.n && rc == 0; i++) {
        const struct rs_ref *c = &pr.cand.v[i];
        const struct rs_rule *r = &rs->rule[c->slot];

        if (c->slot == done || (i > 0 && c->slot == c[-1].slot && c->sub == c[-1].sub))
            continue;
        if (bus_pattern_eval(r->p, c->sub, &f, r->pmap)) {
            done = c->slot;
            rc = cb(arg, r->id);
        }
    }
    if (pr.cand.v != pr.cand_in)
        free(pr.cand.v);
    if (pr.cp != pr.cp_in)
        free(pr.cp);
    bus_pattern_flat_cleanup(&f);
    return rc;
}
