/* fleet_tls.c — OpenSSL over the fleet's non-blocking fds (see fleet_tls.h). */
#include "fleet_tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "clock.h"

int fl_tls_ctx_new(const char *ca_file, int insecure, SSL_CTX **out, char *err, size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        snprintf(err, errlen, "TLS: cannot create a context");
        return -1;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    /* the fleet's write queues are realloc'd between retries and written in parts */
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (insecure) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    } else {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        int ok = ca_file && *ca_file ? SSL_CTX_load_verify_locations(ctx, ca_file, NULL)
                                     : SSL_CTX_set_default_verify_paths(ctx);
        if (ok != 1) {
            unsigned long e = ERR_get_error();
            snprintf(err, errlen, "TLS: cannot load the CA file %s: %s", ca_file && *ca_file ? ca_file : "(default)",
                     e ? ERR_reason_error_string(e) : "unknown error");
            ERR_clear_error();
            SSL_CTX_free(ctx);
            return -1;
        }
    }
    *out = ctx;
    return 0;
}

void fl_tls_ctx_free(SSL_CTX *ctx)
{
    SSL_CTX_free(ctx);
}

SSL *fl_tls_new(SSL_CTX *ctx, int fd, const char *host)
{
    SSL *ssl = SSL_new(ctx);
    if (!ssl)
        return NULL;
    SSL_set_fd(ssl, fd);
    unsigned char ip[16];
    int is_ip = inet_pton(AF_INET, host, ip) == 1 || inet_pton(AF_INET6, host, ip) == 1;
    if (is_ip) {
        /* no SNI for an address (RFC 6066); the certificate must name the IP */
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host);
    } else {
        SSL_set_tlsext_host_name(ssl, host);
        SSL_set1_host(ssl, host);
    }
    SSL_set_connect_state(ssl);
    return ssl;
}

void fl_tls_free(SSL *ssl)
{
    SSL_free(ssl);
}

int fl_tls_ready(SSL *ssl)
{
    return SSL_is_init_finished(ssl);
}

int fl_tls_handshake(SSL *ssl, char *why, size_t whylen)
{
    int r = SSL_do_handshake(ssl);
    if (r == 1)
        return 1;
    int e = SSL_get_error(ssl, r);
    if (e == SSL_ERROR_WANT_READ)
        return 0;
    if (e == SSL_ERROR_WANT_WRITE)
        return 2;
    long v = SSL_get_verify_result(ssl);
    if (v != X509_V_OK)
        snprintf(why, whylen, "TLS certificate verify failed: %s", X509_verify_cert_error_string(v));
    else {
        unsigned long q = ERR_peek_last_error();
        snprintf(why, whylen, "TLS handshake failed: %s",
                 q ? ERR_reason_error_string(q) : e == SSL_ERROR_SYSCALL ? "connection closed" : "protocol error");
    }
    ERR_clear_error();
    return -1;
}

ssize_t fl_tls_recv(SSL *ssl, void *buf, size_t cap)
{
    size_t got = 0;
    int r = SSL_read_ex(ssl, buf, cap, &got);
    if (r == 1)
        return (ssize_t)got;
    int e = SSL_get_error(ssl, r);
    ERR_clear_error();
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        errno = EAGAIN;
        return -1;
    }
    if (e == SSL_ERROR_ZERO_RETURN)
        return 0;
    errno = EIO;
    return -1;
}

ssize_t fl_tls_send(SSL *ssl, const void *buf, size_t len)
{
    if (len == 0)
        return 0;
    size_t put = 0;
    int r = SSL_write_ex(ssl, buf, len, &put);
    if (r == 1)
        return (ssize_t)put;
    int e = SSL_get_error(ssl, r);
    ERR_clear_error();
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        errno = EAGAIN;
        return -1;
    }
    errno = EIO;
    return -1;
}

int fl_tls_pending(SSL *ssl)
{
    return SSL_pending(ssl);
}

static int64_t now_ms(void)
{
    return (int64_t)(clock_mono_us() / 1000);
}

int fl_tls_probe(SSL_CTX *ctx, const char *host, unsigned port, unsigned timeout_ms, char *err, size_t errlen)
{
    char ps[8];
    snprintf(ps, sizeof ps, "%u", port);
    struct addrinfo hints = {0}, *ai = NULL;
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, ps, &hints, &ai) != 0 || !ai) {
        snprintf(err, errlen, "TLS to %s:%u: cannot resolve the host", host, port);
        return -1;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int rc = -1;
    SSL *ssl = NULL;
    int64_t deadline = now_ms() + timeout_ms;
    if (fd < 0 || (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS)) {
        snprintf(err, errlen, "TLS to %s:%u: cannot connect: %s", host, port, strerror(errno));
        goto out;
    }
    struct pollfd pf = {.fd = fd, .events = POLLOUT};
    if (poll(&pf, 1, (int)timeout_ms) != 1) {
        snprintf(err, errlen, "TLS to %s:%u: no connection within %ums", host, port, timeout_ms);
        goto out;
    }
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr) {
        snprintf(err, errlen, "TLS to %s:%u: cannot connect: %s", host, port, strerror(soerr ? soerr : errno));
        goto out;
    }
    ssl = fl_tls_new(ctx, fd, host);
    if (!ssl) {
        snprintf(err, errlen, "TLS to %s:%u: out of memory", host, port);
        goto out;
    }
    for (;;) {
        char why[256];
        int h = fl_tls_handshake(ssl, why, sizeof why);
        if (h == 1) {
            rc = 0;
            break;
        }
        if (h < 0) {
            snprintf(err, errlen, "TLS to %s:%u: %s", host, port, why);
            break;
        }
        int64_t left = deadline - now_ms();
        pf.events = h == 0 ? POLLIN : POLLOUT;
        if (left <= 0 || poll(&pf, 1, (int)left) != 1) {
            snprintf(err, errlen, "TLS to %s:%u: no TLS handshake within %ums (is it a TLS port?)", host, port,
                     timeout_ms);
            break;
        }
    }
out:
    if (ssl)
        SSL_free(ssl);
    if (fd >= 0)
        close(fd);
    freeaddrinfo(ai);
    return rc;
}
