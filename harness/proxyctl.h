/* proxyctl.h — the harness's client of rtchaos-proxy's Toxiproxy-compatible
 * API: create the run's proxy, add and remove toxics, read the action log. */
#ifndef RTCHAOS_PROXYCTL_H
#define RTCHAOS_PROXYCTL_H
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "scenario.h"

typedef struct proxyctl {
    char host[64];            /* the API's address */
    uint16_t port;
    uint64_t timeout_ms;      /* per API call */
} proxyctl;

/* POST /proxies {"name","listen":"<listen_host>:0","upstream","enabled":true}
 * (listen_host: 127.0.0.1, or the server side's address in the run's network
 * namespace); the reply echoes the bound listen address, whose port goes to
 * *listen_port. Returns 0, or -1 with err (status and the proxy's own message). */
int proxyctl_create(const proxyctl *p, const char *name, const char *listen_host, const char *upstream,
                    uint16_t *listen_port, char *err, size_t errlen);

/* POST /proxies/{proxy}/toxics with the toxic (name, type, stream, toxicity,
 * attributes). Returns 0, or -1 with err. */
int proxyctl_add_toxic(const proxyctl *p, const char *proxy, const scn_toxic *t, char *err, size_t errlen);

/* DELETE /proxies/{proxy}/toxics/{name}. Returns 0, or -1 with err. */
int proxyctl_remove_toxic(const proxyctl *p, const char *proxy, const char *name, char *err, size_t errlen);

/* Reads the whole action log (GET /events?since=…, page by page) into a new
 * JSON array (caller decrefs) in *out. Returns 0, or -1 with err. */
int proxyctl_events(const proxyctl *p, json_t **out, char *err, size_t errlen);

/* Puts the proxy's upstreams behind a pool (rtchaos extension: "upstreams",
 * "balance" on POST /proxies/NAME). Returns 0, or -1 with err. */
int proxyctl_set_pool(const proxyctl *p, const char *name, json_t *upstreams, const char *balance, char *err,
                      size_t errlen);

#endif
