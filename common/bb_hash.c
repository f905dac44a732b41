/* SPDX-License-Identifier: MIT */
/* bb_hash: thin wrappers over libcrypto's EVP digests and HMAC. */
#include "bb_hash.h"
#include "bb_err.h"
#include "bb_mem.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct bb_hash {
    EVP_MD_CTX *ctx;
    const EVP_MD *md;
};

/* OpenSSL 3 looks a digest up in its provider tables on every implicit use
 * (EVP_sha256() in an init, HMAC()): a few microseconds each, several times
 * per request. The digests and the HMAC are fetched once, and one HMAC
 * context per digest is kept (under a lock: the loop signs, other threads
 * may too). They live until exit, reachable. */
static EVP_MD *g_md[3];
static EVP_MAC *g_hmac;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t g_hmac_mu = PTHREAD_MUTEX_INITIALIZER;
static EVP_MAC_CTX *g_hmac_ctx[3]; /* guarded by g_hmac_mu */

static void fetch_all(void)
{
    g_md[BB_HASH_MD5] = EVP_MD_fetch(NULL, "MD5", NULL);
    g_md[BB_HASH_SHA1] = EVP_MD_fetch(NULL, "SHA1", NULL);
    g_md[BB_HASH_SHA256] = EVP_MD_fetch(NULL, "SHA256", NULL);
    g_hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
}

void bb_hash_preload(void)
{
    pthread_once(&g_once, fetch_all);
}

static const EVP_MD *md_for(enum bb_hash_alg alg)
{
    pthread_once(&g_once, fetch_all);
    switch (alg) {
    case BB_HASH_MD5:
        return g_md[BB_HASH_MD5] ? g_md[BB_HASH_MD5] : EVP_md5();
    case BB_HASH_SHA1:
        return g_md[BB_HASH_SHA1] ? g_md[BB_HASH_SHA1] : EVP_sha1();
    case BB_HASH_SHA256:
    default:
        return g_md[BB_HASH_SHA256] ? g_md[BB_HASH_SHA256] : EVP_sha256();
    }
}

/* HMAC with the cached context of @alg; 0 when unavailable (the caller
 * falls back to HMAC()). */
static int hmac_cached(enum bb_hash_alg alg, const char *digest, const void *key, size_t keylen,
                       const void *p, size_t n, unsigned char *out, size_t outsz)
{
    size_t len = 0;
    int ok = 0;

    pthread_once(&g_once, fetch_all);
    if (g_hmac == NULL)
        return 0;
    pthread_mutex_lock(&g_hmac_mu);
    if (g_hmac_ctx[alg] == NULL) {
        OSSL_PARAM params[2] = {
            OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)digest, 0),
            OSSL_PARAM_construct_end()};
        g_hmac_ctx[alg] = EVP_MAC_CTX_new(g_hmac);
        if (g_hmac_ctx[alg] != NULL && !EVP_MAC_CTX_set_params(g_hmac_ctx[alg], params)) {
            EVP_MAC_CTX_free(g_hmac_ctx[alg]);
            g_hmac_ctx[alg] = NULL;
        }
    }
    if (g_hmac_ctx[alg] != NULL)
        ok = EVP_MAC_init(g_hmac_ctx[alg], key, keylen, NULL) &&
             EVP_MAC_update(g_hmac_ctx[alg], p, n) &&
             EVP_MAC_final(g_hmac_ctx[alg], out, &len, outsz) && len == outsz;
    pthread_mutex_unlock(&g_hmac_mu);
    return ok;
}

struct bb_hash *bb_hash_new(enum bb_hash_alg alg)
{
    struct bb_hash *h = bb_xcalloc(1, sizeof(*h));
    h->md = md_for(alg);
    h->ctx = EVP_MD_CTX_new();
    if (h->ctx == NULL)
        abort();
    EVP_DigestInit_ex(h->ctx, h->md, NULL);
    return h;
}

void bb_hash_update(struct bb_hash *h, const void *p, size_t n)
{
    EVP_DigestUpdate(h->ctx, p, n);
}

size_t bb_hash_final(struct bb_hash *h, unsigned char *out)
{
    unsigned int len = 0;
    EVP_DigestFinal_ex(h->ctx, out, &len);
    return len;
}

void bb_hash_reset(struct bb_hash *h)
{
    EVP_DigestInit_ex(h->ctx, h->md, NULL);
}

void bb_hash_free(struct bb_hash *h)
{
    if (h == NULL)
        return;
    EVP_MD_CTX_free(h->ctx);
    free(h);
}

static void oneshot(const EVP_MD *md, const void *p, size_t n, unsigned char *out)
{
    unsigned int len = 0;
    EVP_Digest(p, n, out, &len, md, NULL);
}

void bb_md5(const void *p, size_t n, unsigned char out[BB_MD5_LEN])
{
    oneshot(md_for(BB_HASH_MD5), p, n, out);
}

void bb_sha1(const void *p, size_t n, unsigned char out[BB_SHA1_LEN])
{
    oneshot(md_for(BB_HASH_SHA1), p, n, out);
}

void bb_sha256(const void *p, size_t n, unsigned char out[BB_SHA256_LEN])
{
    oneshot(md_for(BB_HASH_SHA256), p, n, out);
}

void bb_sha256_hex(const void *p, size_t n, char hex[65])
{
    unsigned char d[BB_SHA256_LEN];
    bb_sha256(p, n, d);
    bb_hex(d, sizeof(d), hex);
}

void bb_hmac_sha256(const void *key, size_t keylen, const void *p, size_t n,
                    unsigned char out[BB_SHA256_LEN])
{
    unsigned int len = 0;
    if (!hmac_cached(BB_HASH_SHA256, "SHA256", key, keylen, p, n, out, BB_SHA256_LEN))
        HMAC(EVP_sha256(), key, (int)keylen, p, n, out, &len);
}

void bb_hmac_sha1(const void *key, size_t keylen, const void *p, size_t n,
                  unsigned char out[BB_SHA1_LEN])
{
    unsigned int len = 0;
    if (!hmac_cached(BB_HASH_SHA1, "SHA1", key, keylen, p, n, out, BB_SHA1_LEN))
        HMAC(EVP_sha1(), key, (int)keylen, p, n, out, &len);
}

char *bb_hex(const unsigned char *p, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
    return out;
}

char *bb_base64(const unsigned char *p, size_t n, char *out)
{
    EVP_EncodeBlock((unsigned char *)out, p, (int)n);
    return out;
}

int bb_base64_decode(const char *s, size_t n, unsigned char *out, size_t cap)
{
    unsigned char *tmp;
    int len;
    size_t pad = 0;

    if (n == 0)
        return 0;
    if (n % 4 != 0 || n > (size_t)INT_MAX)
        return BB_EINVAL;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == '+' || c == '/' ||
                 (c == '=' && (i == n - 1 || (i == n - 2 && s[n - 1] == '=')));
        if (!ok)
            return BB_EINVAL;
    }
    if (s[n - 1] == '=')
        pad++;
    if (s[n - 2] == '=')
        pad++;
    if (n / 4 * 3 - pad > cap)
        return BB_ETOOBIG;
    tmp = bb_xmalloc(n / 4 * 3 + 1);
    len = EVP_DecodeBlock(tmp, (const unsigned char *)s, (int)n);
    if (len < 0 || (size_t)len < pad) {
        free(tmp);
        return BB_EINVAL;
    }
    len -= (int)pad;
    memcpy(out, tmp, (size_t)len);
    free(tmp);
    return len;
}

int bb_ct_equal(const void *a, const void *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}

void bb_random_bytes(unsigned char *out, size_t n)
{
    if (RAND_bytes(out, (int)n) != 1)
        abort();
}
