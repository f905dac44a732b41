/* SPDX-License-Identifier: MIT */
/*
 * tls: certificate generation (libcrypto's X509 API: the one place besides
 * bb_hash.c that includes OpenSSL headers) and the TLS vhost.
 */
#include "tls.h"
#include "bb_err.h"
#include "bb_log.h"
#include "bb_mem.h"
#include "config.h"
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <libwebsockets.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TLS_CERT_DAYS 825 /* the longest validity browsers accept for a leaf */

static int add_ext(X509 *x, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509_EXTENSION *ext;
    int ok;

    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (ext == NULL)
        return BB_EINVAL;
    ok = X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    return ok ? BB_OK : BB_EINVAL;
}

/* Writes a PEM file via a temporary name and rename. */
static int write_pem(const char *path, int mode, EVP_PKEY *key, X509 *cert)
{
    char *tmp = bb_xasprintf("%s.tmp.%d", path, (int)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    int rc = BB_OK;

    if (f == NULL) {
        rc = -errno;
        if (fd >= 0)
            close(fd);
        goto out;
    }
    if (key != NULL ? !PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL)
                    : !PEM_write_X509(f, cert))
        rc = BB_EINVAL;
    if (fclose(f) != 0 && rc == BB_OK)
        rc = -errno;
    if (rc == BB_OK && rename(tmp, path) < 0)
        rc = -errno;
out:
    if (rc < 0)
        unlink(tmp);
    free(tmp);
    return rc;
}

static int generate(const char *cert_path, const char *key_path, const char *const *domains,
                    unsigned long ndomains)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    BIGNUM *serial = BN_new();
    X509_NAME *name;
    char san[2048];
    size_t off;
    int rc = BB_EINVAL;

    if (key == NULL || x == NULL || serial == NULL)
        goto out;
    if (!BN_rand(serial, 64, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) ||
        !BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x)) || !X509_set_version(x, 2) ||
        !X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
        !X509_gmtime_adj(X509_getm_notAfter(x), (long)TLS_CERT_DAYS * 86400) ||
        !X509_set_pubkey(x, key))
        goto out;
    name = X509_get_subject_name(x);
    if (!X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                    (const unsigned char *)"bucketbridge local development", -1, -1,
                                    0) ||
        !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"localhost",
                                    -1, -1, 0) ||
        !X509_set_issuer_name(x, name))
        goto out;
    /* "*.localhost" has too few labels for clients to honour a wildcard;
     * "*.s3.localhost" (virtual-host style) works */
    off = (size_t)snprintf(san, sizeof(san), "DNS:localhost,IP:127.0.0.1,IP:::1");
    for (unsigned long i = 0; i < ndomains && off < sizeof(san); i++) {
        if (strcmp(domains[i], "localhost") == 0)
            continue;
        off += (size_t)snprintf(san + off, sizeof(san) - off, ",DNS:%s,DNS:*.%s", domains[i],
                                domains[i]);
    }
    if (off >= sizeof(san))
        goto out;
    /* a self-signed certificate that is its own trust anchor: users point
     * AWS_CA_BUNDLE / NODE_EXTRA_CA_CERTS / SSL_CERT_FILE at it */
    if (add_ext(x, NID_basic_constraints, "critical,CA:TRUE") < 0 ||
        add_ext(x, NID_key_usage, "critical,digitalSignature,keyCertSign") < 0 ||
        add_ext(x, NID_ext_key_usage, "serverAuth") < 0 ||
        add_ext(x, NID_subject_key_identifier, "hash") < 0 ||
        add_ext(x, NID_authority_key_identifier, "keyid:always") < 0 ||
        add_ext(x, NID_subject_alt_name, san) < 0)
        goto out;
    if (!X509_sign(x, key, EVP_sha256()))
        goto out;
    rc = write_pem(key_path, 0600, key, NULL);
    if (rc == BB_OK)
        rc = write_pem(cert_path, 0644, NULL, x);
out:
    BN_free(serial);
    X509_free(x);
    EVP_PKEY_free(key);
    return rc;
}

int tls_cert_ensure(const char *dir, const char *const *domains, unsigned long ndomains,
                    char **cert_path, char **key_path)
{
    char *cert = bb_xasprintf("%s/cert.pem", dir);
    char *key = bb_xasprintf("%s/key.pem", dir);
    int rc = BB_OK;

    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        rc = -errno;
        goto out;
    }
    if (access(cert, R_OK) != 0 || access(key, R_OK) != 0) {
        rc = generate(cert, key, domains, ndomains);
        if (rc < 0)
            goto out;
        BB_LOG_INFO("tls", "generated a self-signed certificate", "path=\"%s\"", cert);
    }
out:
    if (rc < 0) {
        free(cert);
        free(key);
        cert = NULL;
        key = NULL;
    }
    *cert_path = cert;
    *key_path = key;
    return rc;
}

int tls_start(struct server *srv, const struct lws_protocols *protocols)
{
    const struct config *cfg = srv->cfg;
    struct lws_context_creation_info info;
    struct lws_vhost *vh;
    char *dir = NULL;
    char *cert = NULL;
    char *key = NULL;
    /* with a kernel-picked S3 port (tests, --ephemeral) the default https
     * port is kernel-picked too, so parallel daemons do not collide */
    int port = cfg->listen_port == 0 && !cfg->https_explicit ? 0 : cfg->https_port;
    int rc;

    if (!cfg->https_enabled)
        return BB_OK;
    dir = bb_xasprintf("%s/.bucketbridge/tls", cfg->data_dir);
    rc = tls_cert_ensure(dir, (const char *const *)cfg->vhost_domains, cfg->nvhost_domains, &cert,
                         &key);
    if (rc < 0) {
        BB_LOG_WARN("tls", "cannot create the TLS certificate", "dir=\"%s\" error=\"%s\"", dir,
                    bb_strerror(rc));
        goto out;
    }
    memset(&info, 0, sizeof(info));
    info.port = port;
    info.iface = cfg->https_host;
    info.protocols = protocols;
    info.vhost_name = "s3-tls";
    info.options = LWS_SERVER_OPTION_ADOPT_APPLY_LISTEN_ACCEPT_CONFIG |
                   LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND |
                   LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.listen_accept_role = "raw-skt";
    info.listen_accept_protocol = "bb-http";
    info.ssl_cert_filepath = cert;
    info.ssl_private_key_filepath = key;
    info.alpn = "http/1.1";
    vh = lws_create_vhost(srv->lws, &info);
    if (vh == NULL) {
        rc = BB_EINVAL;
        BB_LOG_WARN("tls", "cannot listen for https", "host=%s port=%d", cfg->https_host, port);
        goto out;
    }
    srv->tls_vhost = vh;
    srv->tls_port = lws_get_vhost_listen_port(vh);
    srv->tls_cert_path = cert;
    cert = NULL;
    BB_LOG_INFO("tls", "https listening", "url=https://%s:%d cert=\"%s\"", cfg->https_host,
                srv->tls_port, srv->tls_cert_path);
out:
    free(dir);
    free(cert);
    free(key);
    if (rc < 0 && !cfg->https_explicit)
        return BB_OK; /* on by default only where it works */
    return rc;
}
