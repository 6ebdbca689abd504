/* httpc.h — a blocking HTTP/1.1 request on loopback with a deadline, for the
 * harness's control calls (the proxy's API, a suite drill's admin calls). Built on libevent's evhttp
 * client with a private event base per call. */
#ifndef RTCHAOS_HTTPC_H
#define RTCHAOS_HTTPC_H
#include <stddef.h>
#include <stdint.h>

/* Sends method (GET, POST, DELETE, PATCH) to host:port path with an optional
 * JSON body (NULL = none) and waits at most timeout_ms for the whole reply.
 * On success returns 0, sets *status and, if body_out is not NULL, a
 * NUL-terminated copy of the reply body the caller frees (replies over
 * 16 MiB are an error). Returns -1 with a message in err when the request
 * could not be made or no reply came in time (a reply with any status code,
 * 4xx/5xx included, is a success here: the caller judges it). Thread-safe
 * (no shared state). */
int httpc_request(const char *host, uint16_t port, const char *method, const char *path,
                  const char *body, uint64_t timeout_ms, int *status, char **body_out, char *err,
                  size_t errlen);

/* The same with an "Authorization: Bearer <token>" header when token is not
 * NULL (a suite drill's admin actions on the server under test). */
int httpc_request_bearer(const char *host, uint16_t port, const char *method, const char *path,
                         const char *body, const char *token, uint64_t timeout_ms, int *status,
                         char **body_out, char *err, size_t errlen);

#endif
