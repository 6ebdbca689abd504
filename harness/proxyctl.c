/* proxyctl.c — Toxiproxy-compatible API calls to rtchaos-proxy over loopback. */
#include "proxyctl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpc.h"

/* Makes one call; on a non-2xx reply puts the proxy's {"error"} in err. */
static int call(const proxyctl *p, const char *method, const char *path, json_t *body, json_t **reply,
                char *err, size_t errlen)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    if (body && !text) {
        snprintf(err, errlen, "cannot encode the request body");
        return -1;
    }
    int status = 0;
    char *resp = NULL;
    int rc = httpc_request(p->host, p->port, method, path, text, p->timeout_ms, &status, &resp, err, errlen);
    free(text);
    if (rc < 0)
        return -1;
    json_t *j = resp && *resp ? json_loads(resp, 0, NULL) : NULL;
    if (status < 200 || status > 299) {
        const char *msg = json_string_value(json_object_get(j, "error"));
        snprintf(err, errlen, "%s %s: HTTP %d: %s", method, path, status, msg ? msg : (resp ? resp : ""));
        json_decref(j);
        free(resp);
        return -1;
    }
    free(resp);
    if (reply)
        *reply = j;
    else
        json_decref(j);
    return 0;
}

int proxyctl_create(const proxyctl *p, const char *name, const char *listen_host, const char *upstream,
                    uint16_t *listen_port, char *err, size_t errlen)
{
    char listen_at[300];
    snprintf(listen_at, sizeof listen_at, "%s:0", listen_host);
    json_t *body = json_pack("{s:s, s:s, s:s, s:b}", "name", name, "listen", listen_at, "upstream",
                             upstream, "enabled", 1);
    json_t *reply = NULL;
    int rc = call(p, "POST", "/proxies", body, &reply, err, errlen);
    json_decref(body);
    if (rc < 0)
        return -1;
    const char *listen = json_string_value(json_object_get(reply, "listen"));
    const char *colon = listen ? strrchr(listen, ':') : NULL;
    long port = colon ? strtol(colon + 1, NULL, 10) : 0;
    if (port <= 0 || port > 65535) {
        snprintf(err, errlen, "POST /proxies: the reply has no bound listen address (got %s)",
                 listen ? listen : "none");
        json_decref(reply);
        return -1;
    }
    *listen_port = (uint16_t)port;
    json_decref(reply);
    return 0;
}

int proxyctl_add_toxic(const proxyctl *p, const char *proxy, const scn_toxic *t, char *err, size_t errlen)
{
    json_t *body = json_pack("{s:s, s:s, s:f, s:O}", "type", t->type, "stream", t->stream ? t->stream : "downstream",
                             "toxicity", t->toxicity, "attributes", t->attributes ? t->attributes : json_object());
    if (!body) {
        snprintf(err, errlen, "cannot encode toxic %s", t->type);
        return -1;
    }
    if (t->name)
        json_object_set_new(body, "name", json_string(t->name));
    char path[512];
    snprintf(path, sizeof path, "/proxies/%s/toxics", proxy);
    int rc = call(p, "POST", path, body, NULL, err, errlen);
    json_decref(body);
    return rc;
}

int proxyctl_remove_toxic(const proxyctl *p, const char *proxy, const char *name, char *err, size_t errlen)
{
    char path[512];
    snprintf(path, sizeof path, "/proxies/%s/toxics/%s", proxy, name);
    return call(p, "DELETE", path, NULL, NULL, err, errlen);
}

int proxyctl_events(const proxyctl *p, json_t **out, char *err, size_t errlen)
{
    json_t *all = json_array();
    uint64_t since = 0;
    for (int page = 0; page < 1000; page++) {
        char path[128];
        snprintf(path, sizeof path, "/events?since=%llu", (unsigned long long)since);
        json_t *reply = NULL;
        if (call(p, "GET", path, NULL, &reply, err, errlen) < 0) {
            json_decref(all);
            return -1;
        }
        json_t *ev = json_object_get(reply, "events");
        json_t *next = json_object_get(reply, "next");
        if (!json_is_array(ev) || !json_is_integer(next)) {
            snprintf(err, errlen, "GET /events: unexpected reply (no events/next)");
            json_decref(reply);
            json_decref(all);
            return -1;
        }
        json_array_extend(all, ev);
        uint64_t n = (uint64_t)json_integer_value(next);
        size_t got = json_array_size(ev);
        json_decref(reply);
        if (got == 0 || n <= since)
            break;
        since = n;
    }
    *out = all;
    return 0;
}

int proxyctl_set_pool(const proxyctl *p, const char *name, json_t *upstreams, const char *balance, char *err,
                      size_t errlen)
{
    char path[200];
    snprintf(path, sizeof path, "/proxies/%s", name);
    json_t *body = json_pack("{s:O, s:s}", "upstreams", upstreams, "balance", balance);
    int rc = call(p, "POST", path, body, NULL, err, errlen);
    json_decref(body);
    return rc;
}
