/* fleet_tls.h — TLS for the fleet's sockets (https:// and wss:// targets):
 * one OpenSSL context per fleet, one SSL per connection over the fleet's own
 * non-blocking fds (the fleet drives raw fds with libevent events, not
 * bufferevents, so OpenSSL's own non-blocking API is the layer that fits). */
#ifndef RTCHAOS_FLEET_TLS_H
#define RTCHAOS_FLEET_TLS_H

#include <stddef.h>
#include <sys/types.h>

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;

/* A client context: certificates verified against ca_file (NULL/"" = the
 * system's default store) unless insecure. 0/-1 + err. */
int fl_tls_ctx_new(const char *ca_file, int insecure, SSL_CTX **out, char *err, size_t errlen);
void fl_tls_ctx_free(SSL_CTX *ctx);

/* An SSL over fd, SNI and the name (or IP address) checked = host. NULL on error. */
SSL *fl_tls_new(SSL_CTX *ctx, int fd, const char *host);
void fl_tls_free(SSL *ssl);
/* 1 once the handshake is done */
int fl_tls_ready(SSL *ssl);

/* One handshake step: 1 done, 0 wants to read, 2 wants to write, -1 failed
 * (why = a sentence naming the reason, e.g. the certificate's verify error). */
int fl_tls_handshake(SSL *ssl, char *why, size_t whylen);

/* recv/send over the SSL: like recv/send (>0 bytes, 0 closed, -1 with errno
 * EAGAIN when it would block, EIO when TLS failed). */
ssize_t fl_tls_recv(SSL *ssl, void *buf, size_t cap);
ssize_t fl_tls_send(SSL *ssl, const void *buf, size_t len);
/* bytes already decrypted and waiting in the SSL (no socket event will say so) */
int fl_tls_pending(SSL *ssl);

/* A blocking handshake to host:port within timeout_ms, before the run, so a
 * bad certificate stops the run with its reason instead of a storm of
 * failed connects. 0/-1 + err. */
int fl_tls_probe(SSL_CTX *ctx, const char *host, unsigned port, unsigned timeout_ms, char *err, size_t errlen);

#endif
