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
#include <netdb.h>
#include <netinet/in.h>
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
#include <sys/socket.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define TLS_CERT_DAYS 825                     /* the longest validity browsers accept for a leaf */
#define TLS_CERT_WAIT_US (50 * LWS_US_PER_MS) /* the child is collected this long after start */

/* one daemon per process: the timer that collects the certificate child */
static lws_sorted_usec_list_t cert_sul;
static struct server *cert_srv;

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

/* The certificate is made by a child process while the daemon starts:
 * key generation and signing would leave ~0.7 MiB of libcrypto pages and a
 * malloc arena resident in the daemon for good, for a step that runs once
 * per data directory. The fork happens before any thread exists. */
static void certjob_child(const struct config *cfg)
{
    char *dir = bb_xasprintf("%s/.bucketbridge", cfg->data_dir);
    char *tls = bb_xasprintf("%s/tls", dir);
    char *cert = NULL;
    char *key = NULL;
    int rc;

    (void)mkdir(cfg->data_dir, 0755);
    (void)mkdir(dir, 0755);
    rc = tls_cert_ensure(tls, (const char *const *)cfg->vhost_domains, cfg->nvhost_domains, &cert,
                         &key);
    if (rc < 0)
        BB_LOG_WARN("tls", "cannot create the TLS certificate", "dir=\"%s\" error=\"%s\"", tls,
                    bb_strerror(rc));
    _exit(rc < 0 ? 1 : 0);
}

void tls_cert_begin(struct server *srv)
{
    char *cert;
    char *key;
    int have;
    pid_t pid;

    if (!srv->cfg->https_enabled || srv->tls_job != 0)
        return;
    cert = bb_xasprintf("%s/.bucketbridge/tls/cert.pem", srv->cfg->data_dir);
    key = bb_xasprintf("%s/.bucketbridge/tls/key.pem", srv->cfg->data_dir);
    have = access(cert, R_OK) == 0 && access(key, R_OK) == 0;
    free(cert);
    free(key);
    if (have) {
        srv->tls_job = -1; /* nothing to make: tls_start finds them */
        return;
    }
    pid = fork();
    if (pid == 0)
        certjob_child(srv->cfg);
    srv->tls_job = pid > 0 ? pid : -1; /* -1: made in tls_start instead */
}

/* Waits for the certificate child (or makes the certificate here when
 * there was none) and sets srv's paths. Returns 0 or a negative code. */
static int cert_end(struct server *srv)
{
    char *dir = bb_xasprintf("%s/.bucketbridge/tls", srv->cfg->data_dir);
    int status = 0;
    int rc;

    if (srv->tls_job > 0) {
        while (waitpid(srv->tls_job, &status, 0) < 0 && errno == EINTR)
            ;
        srv->tls_job = 0;
        /* the child reported its error; this finds the files it made */
        rc = WIFEXITED(status) && WEXITSTATUS(status) == 0 ? BB_OK : BB_EINVAL;
        if (rc == BB_OK)
            rc = tls_cert_ensure(dir, NULL, 0, &srv->tls_cert_path, &srv->tls_key_path);
    } else {
        srv->tls_job = 0;
        rc = tls_cert_ensure(dir, (const char *const *)srv->cfg->vhost_domains,
                             srv->cfg->nvhost_domains, &srv->tls_cert_path, &srv->tls_key_path);
        if (rc < 0)
            BB_LOG_WARN("tls", "cannot create the TLS certificate", "dir=\"%s\" error=\"%s\"", dir,
                        bb_strerror(rc));
    }
    free(dir);
    return rc;
}

int tls_cert_wait(struct server *srv)
{
    int rc;

    if (srv->tls_port == 0 || srv->tls_failed)
        return srv->tls_failed ? BB_EINVAL : BB_OK;
    if (srv->tls_cert_path != NULL && srv->tls_job == 0)
        return BB_OK;
    rc = cert_end(srv);
    if (rc < 0) {
        srv->tls_failed = 1;
        srv->tls_port = 0; /* not announced; connections to it are closed */
        BB_LOG_WARN("tls", "no TLS certificate; https connections are closed", "error=\"%s\"",
                    bb_strerror(rc));
        return rc;
    }
    BB_LOG_INFO("tls", "certificate ready", "cert=\"%s\"", srv->tls_cert_path);
    return BB_OK;
}

static void cert_sul_cb(lws_sorted_usec_list_t *sul)
{
    (void)sul;
    if (cert_srv != NULL)
        (void)tls_cert_wait(cert_srv);
}

void tls_cleanup(struct server *srv)
{
    if (srv->tls_job > 0) {
        kill(srv->tls_job, SIGKILL);
        (void)cert_end(srv);
    }
    free(srv->tls_cert_path);
    srv->tls_cert_path = NULL;
    free(srv->tls_key_path);
    srv->tls_key_path = NULL;
}

/* the listening socket, bound at start without OpenSSL: making the TLS
 * vhost (SSL_CTX, certificate load) costs ~5 ms and ~1 MiB, paid at the
 * first https connection instead */
static int listen_socket(const char *host, int port, int *bound_port)
{
    struct addrinfo hints;
    struct addrinfo *ai = NULL;
    union {
        struct sockaddr sa;
        struct sockaddr_in in4;
        struct sockaddr_in6 in6;
    } addr;
    socklen_t alen = sizeof(addr);
    char ports[16];
    int fd = -1;
    int one = 1;
    int rc;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE;
    snprintf(ports, sizeof(ports), "%d", port);
    rc = getaddrinfo(host, ports, &hints, &ai);
    if (rc != 0 || ai == NULL) {
        rc = BB_EINVAL;
        goto out;
    }
    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        rc = -errno;
        goto out;
    }
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, SOMAXCONN) < 0 ||
        getsockname(fd, &addr.sa, &alen) < 0) {
        rc = -errno;
        goto out;
    }
    *bound_port = ntohs(addr.sa.sa_family == AF_INET6 ? addr.in6.sin6_port : addr.in4.sin_port);
    rc = fd;
    fd = -1;
out:
    if (fd >= 0)
        close(fd);
    if (ai != NULL)
        freeaddrinfo(ai);
    return rc;
}

/* the TLS vhost, made once: adopted sockets get the TLS handshake and then
 * the same raw-socket HTTP as the plain port */
static struct lws_vhost *tls_vhost(struct server *srv)
{
    struct lws_context_creation_info info;
    struct lws_vhost *vh;

    if (srv->tls_vhost != NULL || srv->tls_failed)
        return srv->tls_vhost;
    if (tls_cert_wait(srv) < 0)
        return NULL;
    memset(&info, 0, sizeof(info));
    info.port = CONTEXT_PORT_NO_LISTEN_SERVER; /* tls_accept_callback accepts */
    info.protocols = srv->tls_protocols;
    info.vhost_name = "s3-tls";
    info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.ssl_cert_filepath = srv->tls_cert_path;
    info.ssl_private_key_filepath = srv->tls_key_path;
    info.alpn = "http/1.1";
    vh = lws_create_vhost(srv->lws, &info);
    if (vh == NULL) {
        srv->tls_failed = 1;
        BB_LOG_WARN("tls", "cannot set up TLS; https connections are closed", "cert=\"%s\"",
                    srv->tls_cert_path);
        return NULL;
    }
    srv->tls_vhost = vh;
    BB_LOG_DEBUG("tls", "TLS set up at the first https connection", NULL);
    return vh;
}

int tls_accept_callback(struct lws *wsi, int reason, void *user, void *in, size_t len)
{
    struct server *srv = lws_context_user(lws_get_context(wsi));
    lws_sock_file_fd_type fd;
    int lfd;
    int n;

    (void)user;
    (void)in;
    (void)len;
    if (reason != LWS_CALLBACK_RAW_RX_FILE)
        return 0;
    lfd = lws_get_socket_fd(wsi);
    /* a bounded batch per turn, so a flood of connects cannot hold the loop */
    for (n = 0; n < 64; n++) {
        struct lws_vhost *vh;
        int cfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ECONNABORTED)
                BB_LOG_WARN("tls", "accept failed", "error=\"%s\"", strerror(errno));
            break;
        }
        vh = tls_vhost(srv);
        fd.sockfd = cfd;
        if (vh == NULL || lws_adopt_descriptor_vhost(vh, LWS_ADOPT_SOCKET | LWS_ADOPT_ALLOW_SSL, fd,
                                                     "bb-http", NULL) == NULL) {
            /* lws closes the descriptor when its adoption fails */
            if (vh == NULL)
                close(cfd);
        }
    }
    return 0;
}

int tls_start(struct server *srv, const struct lws_protocols *protocols)
{
    const struct config *cfg = srv->cfg;
    lws_sock_file_fd_type fd;
    /* with a kernel-picked S3 port (tests, --ephemeral) the default https
     * port is kernel-picked too, so parallel daemons do not collide */
    int port = cfg->listen_port == 0 && !cfg->https_explicit ? 0 : cfg->https_port;
    int lfd = -1;
    int rc = BB_OK;

    if (!cfg->https_enabled)
        return BB_OK;
    /* the certificate is made by a child while the daemon goes on (its
     * files are slow to create on some file systems); tls_cert_wait()
     * collects it: before a ready file names it, at the first https
     * connection, or from a timer shortly after start */
    tls_cert_begin(srv);
    lfd = listen_socket(cfg->https_host, port, &srv->tls_port);
    if (lfd < 0) {
        rc = lfd;
        BB_LOG_WARN("tls", "cannot listen for https", "host=%s port=%d error=\"%s\"",
                    cfg->https_host, port, bb_strerror(rc));
        goto out;
    }
    srv->tls_protocols = protocols;
    fd.filefd = lfd;
    if (lws_adopt_descriptor_vhost(srv->s3_vhost, LWS_ADOPT_RAW_FILE_DESC, fd, "bb-tls-accept",
                                   NULL) == NULL) {
        lfd = -1; /* closed by lws */
        rc = BB_EINVAL;
        BB_LOG_WARN("tls", "cannot poll the https socket", NULL);
        goto out;
    }
    lfd = -1;
    cert_srv = srv;
    lws_sul_schedule(srv->lws, 0, &cert_sul, cert_sul_cb, TLS_CERT_WAIT_US);
    if (cfg->https_explicit && (rc = tls_cert_wait(srv)) < 0)
        goto out; /* configured: no certificate is an error now, not later */
    BB_LOG_INFO("tls", "https listening", "url=https://%s:%d", cfg->https_host, srv->tls_port);
out:
    if (lfd >= 0)
        close(lfd);
    if (rc < 0) {
        srv->tls_port = 0;
        free(srv->tls_cert_path);
        free(srv->tls_key_path);
        srv->tls_cert_path = NULL;
        srv->tls_key_path = NULL;
    }
    if (rc < 0 && !cfg->https_explicit)
        return BB_OK; /* on by default only where it works */
    return rc;
}
