/* SPDX-License-Identifier: MIT */
/*
 * bus_pattern_int: what bus_pattern.c shares with bus_ruleset.c and nothing
 * else: the compiled form of a pattern, the path table, the flattened event
 * and the sub-rule evaluator. The rule set indexes the compiled form and
 * calls the same evaluator, so both give the same answers by construction.
 * docs/internals/bus_pattern.md describes the design.
 */
#ifndef BB_EMULATOR_BUS_BUS_PATTERN_INT_H
#define BB_EMULATOR_BUS_BUS_PATTERN_INT_H

#include <stddef.h>
#include <stdint.h>

struct cJSON;

#define BUS_PATTERN_MAX_SUBRULES 1000         /* $or combinations (reference 3.6) */
#define BUS_PATTERN_MAX_DEPTH 128             /* nesting of the pattern JSON */
#define BUS_PATTERN_MAX_EVENT_DEPTH 1000      /* PutEvents nesting limit (3.6) */
#define BUS_PATTERN_MAX_EVENT_TEXT (1u << 20) /* bus_pattern_match_text input */
#define BUS_PATTERN_MAX_WILDCARD_STARS 5      /* more is "Rule is too complex" */
#define BUS_PATTERN_MAX_STEPS 100000          /* array-consistency search, per sub-rule and event */
#define BUS_PATTERN_MAX_LEAVES (1u << 20)     /* leaves and array elements kept per event */

#define BUS_FNV_BASIS 0xcbf29ce484222325ULL
#define BUS_FNV_PRIME 0x100000001b3ULL
#define BUS_CP_BAD 0x110000u /* bus_pattern_utf8_next: invalid byte b gives BUS_CP_BAD + b */

static inline uint64_t bus_pattern_fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *u = p;
    size_t i;

    for (i = 0; i < n; i++)
        h = (h ^ u[i]) * BUS_FNV_PRIME;
    return h;
}

/* Path hashing, one byte at a time so that a joined path can be hashed
 * while it is walked; bus_pattern_mix spreads it before use. */
static inline uint64_t bus_pattern_path_step(uint64_t h, unsigned char c)
{
    return h * 33 ^ c;
}

static inline uint64_t bus_pattern_mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

/* ---- path table: dotted field paths and their dot-prefixes ---- */

struct bus_path {
    char *s;
    uint32_t len;
    uint32_t nfull;   /* references as a field path: leaves there are recorded */
    uint32_t nprefix; /* references as a proper dot-prefix: objects there are entered */
    uint32_t parent;  /* the path up to its last dot; UINT32_MAX at the top */
    uint32_t seg;     /* offset of the last dot-separated segment in s */
    uint32_t *kid;    /* paths one segment longer */
    uint32_t nkid;
    uint32_t capkid;
    uint64_t hash; /* bus_pattern_path_step over the path bytes, from BUS_FNV_BASIS */
};

/* A trie of dot-separated segments (the event walk compares keys with the
 * few segments that can follow) with a hash index on the whole path (for
 * the walk where many can). */
struct bus_ptab {
    struct bus_path *e; /* id = index; an entry with no references is free */
    uint32_t n;
    uint32_t cap;
    uint32_t *slot; /* open addressing, entry id + 1; 0 = empty */
    uint32_t nslot; /* power of two */
    uint32_t nlive;
    uint32_t maxlen;   /* longest live path */
    uint32_t *rootkid; /* one-segment paths */
    uint32_t nrootkid;
    uint32_t caprootkid;
};

void bus_pattern_ptab_init(struct bus_ptab *t);
void bus_pattern_ptab_cleanup(struct bus_ptab *t);
/** Adds a reference to field path @s (and prefix references to its dot-prefixes);
 * returns its id, stable until the last reference goes. */
uint32_t bus_pattern_ptab_ref(struct bus_ptab *t, const char *s, size_t len);
/** Drops what bus_pattern_ptab_ref(@id) added. */
void bus_pattern_ptab_unref(struct bus_ptab *t, uint32_t id);

/* ---- compiled pattern ---- */

enum bus_mt {
    BUS_MT_STR = 1, /* exact string (also "exactly") */
    BUS_MT_IP,      /* exact string that is an IP literal: compared as an address */
    BUS_MT_NUM,     /* exact number in canonical form, compared as a double */
    BUS_MT_NUMTEXT, /* exact number not representable: by text (d: its nearest double) */
    BUS_MT_TRUE,
    BUS_MT_FALSE,
    BUS_MT_NULL,
    BUS_MT_PREFIX,
    BUS_MT_SUFFIX,
    BUS_MT_PREFIX_CI,
    BUS_MT_SUFFIX_CI,
    BUS_MT_EQ_CI,
    BUS_MT_WILDCARD,
    BUS_MT_NUMERIC,
    BUS_MT_CIDR,
    BUS_MT_EXISTS, /* exists:true */
    BUS_MT_ANYBUT, /* matches when none of sub[] matches */
};

struct bus_wc {
    const char **seg; /* nstar + 1 literal pieces, escapes resolved */
    const size_t *seglen;
    uint32_t nstar;
};

struct bus_matcher {
    uint8_t type;    /* enum bus_mt */
    uint8_t lo_open; /* NUMERIC */
    uint8_t hi_open;
    uint8_t fam;   /* IP, CIDR: 4 or 6 */
    const char *s; /* STR, NUMTEXT, PREFIX, SUFFIX */
    size_t len;
    const uint32_t *cp; /* *_CI: case-folded code points */
    size_t ncp;
    double d;                /* NUM */
    double lo;               /* NUMERIC: -inf when unbounded */
    double hi;               /* NUMERIC: +inf when unbounded */
    unsigned char ip_lo[16]; /* IP, CIDR (IPv4 uses the first 4 bytes) */
    unsigned char ip_hi[16]; /* CIDR */
    struct bus_wc wc;
    struct bus_matcher *sub; /* ANYBUT */
    uint32_t nsub;
};

struct bus_cond {
    uint32_t path;
    uint32_t nm;
    struct bus_matcher *m;
    uint8_t absent_ok; /* the list holds {"exists":false} */
};

struct bus_field {
    uint32_t path; /* id in the pattern's path table */
    uint32_t cond;
};

struct bus_subrule {
    struct bus_field *f; /* sorted by path text, as event-ruler walks them */
    uint32_t n;
};

struct bus_arena;

struct bus_pattern {
    struct bus_arena *arena;
    struct bus_ptab pt;
    struct bus_cond *cond;
    uint32_t ncond;
    struct bus_subrule *sub;
    uint32_t nsub;
};

/* ---- flattened event ---- */

enum bus_lv {
    BUS_LV_STR = 1,
    BUS_LV_NUM,     /* canonical number: d */
    BUS_LV_NUMTEXT, /* number without a canonical double: s/len is its text */
    BUS_LV_TRUE,
    BUS_LV_FALSE,
    BUS_LV_NULL,
};

struct bus_leaf {
    const char *s;
    size_t len;
    double d;
    uint32_t path;
    uint32_t node;    /* innermost array element holding the leaf; 0: none */
    uint32_t seq;     /* document order */
    uint8_t type;     /* enum bus_lv */
    uint8_t textless; /* a cJSON number: only its double is known */
    int8_t ip;        /* -1 not parsed yet, 0 not an IP, 4 or 6 */
    unsigned char ipb[16];
};

struct bus_anode {
    uint32_t parent;
    uint32_t arr; /* array id */
    uint32_t idx; /* element index */
};

#define BUS_FLAT_INLINE_LEAVES 48
#define BUS_FLAT_INLINE_NODES 48
#define BUS_FLAT_INLINE_PATH 256
#define BUS_FLAT_INLINE_SCRATCH 2048

struct bus_flat {
    const struct bus_ptab *pt;
    struct bus_leaf *leaf; /* sorted by (path, seq) once flattened */
    uint32_t nleaf;
    uint32_t capleaf;
    struct bus_anode *node; /* node[0] is the root */
    uint32_t nnode;
    uint32_t capnode;
    uint32_t narr;
    int truncated;
    char *path;
    size_t cappath;
    uint32_t *memb; /* array id -> chosen element + 1, 0 = free (evaluation) */
    uint32_t capmemb;
    unsigned char *scratch; /* bump space for one evaluation */
    size_t capscratch;
    size_t usedscratch;
    struct bus_leaf leaf_in[BUS_FLAT_INLINE_LEAVES];
    struct bus_anode node_in[BUS_FLAT_INLINE_NODES];
    char path_in[BUS_FLAT_INLINE_PATH];
    uint64_t scratch_in[BUS_FLAT_INLINE_SCRATCH / 8];
};

/** Prepares @f for events against the paths in @pt (borrowed for @f's life). */
void bus_pattern_flat_init(struct bus_flat *f, const struct bus_ptab *pt);
/** Records the leaves of object @ev at the table's paths, sorted by path. */
void bus_pattern_flat_cjson(struct bus_flat *f, const struct cJSON *ev);
void bus_pattern_flat_cleanup(struct bus_flat *f);
/** First leaf at @path in *first; returns how many there are. */
uint32_t bus_pattern_flat_range(const struct bus_flat *f, uint32_t path, uint32_t *first);

/** 1 when sub-rule @si of @p matches @f; @pmap maps @p's path ids to @f's (NULL: same). */
int bus_pattern_eval(const struct bus_pattern *p, uint32_t si, struct bus_flat *f,
                     const uint32_t *pmap);

/* ---- helpers the rule set's index shares ---- */

/** Decodes one code point at s[*i] and advances *i (invalid bytes: BUS_CP_BAD + byte). */
uint32_t bus_pattern_utf8_next(const char *s, size_t len, size_t *i);
/** Simple case folding (Java's toLowerCase(toUpperCase(c))). */
uint32_t bus_pattern_fold(uint32_t c);
/** 4 or 6 when @l is a string holding an IP literal (address in l->ipb), else 0. */
int bus_pattern_leaf_ip(struct bus_leaf *l);
/** Sortable bytes for a double (equal doubles give equal bytes; -0 is 0). */
void bus_pattern_num_key(double d, unsigned char out[8]);

#endif
