/* api.c — the Toxiproxy-2.x-compatible control API on evhttp, plus
 * GET /events and GET /metrics. */
#include "api.h"
#include "clock.h"
#include "upool.h"
#include "version.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <sys/queue.h>
#include <event2/keyvalq_struct.h>

/* GET /version keeps Toxiproxy's shape, {"version": API level}, so its
 * clients read it unchanged; "rtchaos" adds the project's own version. */
#define API_VERSION "2.12.0-rtchaos"
#define API_BODY_MAX (1024 * 1024)
#define EVENTS_PAGE_MAX 10000

struct api {
    struct evhttp *http;
    proxy_server *ps;
    evlog *log;
    int port;
};

static const char *reason(int code)
{
    switch (code) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    default: return "Internal Server Error";
    }
}

static void reply_json(struct evhttp_request *req, int code, json_t *j)
{
    struct evbuffer *b = evbuffer_new();
    char *text = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
    json_decref(j);
    if (text) {
        evbuffer_add(b, text, strlen(text));
        free(text);
    }
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/json");
    evhttp_send_reply(req, code, reason(code), b);
    evbuffer_free(b);
}

/* Toxiproxy's error shape: {"error":"…","status":N}. */
static void reply_error(struct evhttp_request *req, int code, const char *msg)
{
    reply_json(req, code, json_pack("{s:s,s:i}", "error", msg, "status", code));
}

static void reply_empty(struct evhttp_request *req, int code)
{
    evhttp_send_reply(req, code, reason(code), NULL);
}

/* Parses the request body as JSON; NULL (after answering 400) when it is
 * not valid JSON. */
static json_t *body_json(struct evhttp_request *req)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t n = evbuffer_get_length(in);
    const char *p = (const char *)evbuffer_pullup(in, -1);
    json_error_t je;
    json_t *j = json_loadb(p ? p : "", n, JSON_DECODE_ANY, &je);
    if (!j) {
        char msg[300];
        snprintf(msg, sizeof msg, "bad request body: %s (line %d, column %d)", je.text, je.line, je.column);
        reply_error(req, 400, msg);
    }
    return j;
}

/* Reads an optional string field; -1 (after answering 400) on a wrong type. */
static int field_str(struct evhttp_request *req, json_t *o, const char *key, const char **out)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v)) {
        char msg[128];
        snprintf(msg, sizeof msg, "bad request body: %s must be a string", key);
        reply_error(req, 400, msg);
        return -1;
    }
    *out = json_string_value(v);
    return 0;
}

static int field_bool(struct evhttp_request *req, json_t *o, const char *key, int *out)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_boolean(v)) {
        char msg[128];
        snprintf(msg, sizeof msg, "bad request body: %s must be a boolean", key);
        reply_error(req, 400, msg);
        return -1;
    }
    *out = json_is_true(v);
    return 0;
}

static void add_to_map(proxy *p, void *arg)
{
    json_object_set_new(arg, proxy_name(p), proxy_to_json(p));
}

static void proxies_index(api *a, struct evhttp_request *req)
{
    json_t *m = json_object();
    proxy_foreach(a->ps, add_to_map, m);
    reply_json(req, 200, m);
}

/* "upstreams": [addr…] and "balance" (rtchaos extension: the upstream
 * pool, upool.h). Fills ups/nups (has_pool when "upstreams" was given) and
 * balance (NULL when absent). Returns 0, or -1 with err. */
static int pool_fields(json_t *o, const char **ups, size_t *nups, int *has_pool, const char **balance,
                       char *err, size_t errlen)
{
    json_t *u = json_object_get(o, "upstreams"), *b = json_object_get(o, "balance");
    *nups = 0;
    *has_pool = 0;
    *balance = NULL;
    if (b && !json_is_null(b)) {
        if (!json_is_string(b)) {
            snprintf(err, errlen, "bad request body: balance must be a string");
            return -1;
        }
        *balance = json_string_value(b);
    }
    if (!u || json_is_null(u))
        return 0;
    if (!json_is_array(u) || json_array_size(u) > UPOOL_MAX) {
        snprintf(err, errlen, "bad request body: upstreams must be an array of at most %d addresses", UPOOL_MAX);
        return -1;
    }
    size_t i;
    json_t *e;
    json_array_foreach(u, i, e) {
        if (!json_is_string(e) || !json_string_length(e)) {
            snprintf(err, errlen, "bad request body: upstreams[%zu] must be a HOST:PORT string", i);
            return -1;
        }
        ups[i] = json_string_value(e);
    }
    *nups = json_array_size(u);
    *has_pool = 1;
    return 0;
}

static void proxies_create(api *a, struct evhttp_request *req)
{
    json_t *b = body_json(req);
    if (!b)
        return;
    const char *name = "", *listen = "", *upstream = "";
    int enabled = 1;
    if (!json_is_object(b)) {
        reply_error(req, 400, "bad request body: must be a JSON object");
    } else if (field_str(req, b, "name", &name) == 0 && field_str(req, b, "listen", &listen) == 0 &&
               field_str(req, b, "upstream", &upstream) == 0 &&
               field_bool(req, b, "enabled", &enabled) == 0) {
        char err[256];
        int status;
        proxy *p;
        const char *ups[UPOOL_MAX], *balance;
        size_t nups;
        int has_pool;
        if (pool_fields(b, ups, &nups, &has_pool, &balance, err, sizeof err) < 0) {
            reply_error(req, 400, err);
        } else {
            if (has_pool && nups && !upstream[0])
                upstream = ups[0];
            if (proxy_create(a->ps, name, listen, upstream, enabled, &p, &status, err, sizeof err) < 0) {
                reply_error(req, status, err);
            } else if ((has_pool || balance) &&
                       proxy_set_pool(p, has_pool ? ups : NULL, nups, balance, err, sizeof err) < 0) {
                proxy_delete(p);
                reply_error(req, 400, err);
            } else {
                reply_json(req, 201, proxy_to_json(p));
            }
        }
    }
    json_decref(b);
}

/* Applies one array of proxies (Toxiproxy's populate). Returns the JSON of
 * the proxies made or kept; on failure *status/err say why (what was done
 * before the failing entry stays done, as in Toxiproxy). Entries may carry
 * "toxics": [...] (an rtchaos extension used by --config). */
json_t *api_populate(api *a, json_t *arr, int *status, char *err, size_t errlen)
{
    json_t *out = json_array();
    *status = 201;
    if (!json_is_array(arr)) {
        *status = 400;
        snprintf(err, errlen, "bad request body: populate takes a JSON array of proxies");
        return out;
    }
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e) {
        json_t *n = json_object_get(e, "name"), *u = json_object_get(e, "upstream");
        json_t *l = json_object_get(e, "listen"), *en = json_object_get(e, "enabled");
        if (!json_is_object(e) || !json_is_string(n) || json_string_length(n) == 0) {
            *status = 400;
            snprintf(err, errlen, "missing required field: name at proxy %zu", i + 1);
            return out;
        }
        if (!json_is_string(u) || json_string_length(u) == 0) {
            *status = 400;
            snprintf(err, errlen, "missing required field: upstream at proxy %zu", i + 1);
            return out;
        }
        if ((l && !json_is_null(l) && !json_is_string(l)) || (en && !json_is_null(en) && !json_is_boolean(en))) {
            *status = 400;
            snprintf(err, errlen, "bad request body: listen must be a string, enabled a boolean (proxy %zu)", i + 1);
            return out;
        }
    }
    json_array_foreach(arr, i, e) {
        json_t *l = json_object_get(e, "listen"), *en = json_object_get(e, "enabled");
        proxy *p;
        if (proxy_populate_one(a->ps, json_string_value(json_object_get(e, "name")),
                               json_is_string(l) ? json_string_value(l) : "",
                               json_string_value(json_object_get(e, "upstream")),
                               en && json_is_boolean(en) ? json_is_true(en) : 1, &p, status, err,
                               errlen) < 0)
            return out;
        const char *ups[UPOOL_MAX], *balance;
        size_t nups;
        int has_pool;
        if (pool_fields(e, ups, &nups, &has_pool, &balance, err, errlen) < 0 ||
            ((has_pool || balance) && proxy_set_pool(p, has_pool ? ups : NULL, nups, balance, err, errlen) < 0)) {
            *status = 400;
            return out;
        }
        json_t *toxics = json_object_get(e, "toxics");
        if (json_is_array(toxics)) {
            size_t k;
            json_t *tj;
            json_array_foreach(toxics, k, tj) {
                toxic *t = toxic_new_json(tj, clock_mono_us(), err, errlen);
                if (!t) {
                    *status = 400;
                    return out;
                }
                if (proxy_toxic_find(p, t->name)) {
                    toxic_free(t); /* kept proxy: its toxic is there already */
                    continue;
                }
                if (proxy_toxic_add(p, t, err, errlen) < 0) {
                    toxic_free(t);
                    *status = 409;
                    return out;
                }
            }
        }
        json_array_append_new(out, proxy_to_json(p));
    }
    *status = 201;
    return out;
}

static void populate(api *a, struct evhttp_request *req)
{
    json_t *b = body_json(req);
    if (!b)
        return;
    char err[256];
    int status;
    json_t *made = api_populate(a, b, &status, err, sizeof err);
    json_decref(b);
    if (status == 201)
        reply_json(req, 201, json_pack("{s:o}", "proxies", made));
    else
        reply_json(req, status, json_pack("{s:s,s:i,s:o}", "error", err, "status", status, "proxies", made));
}

static void proxy_update_req(api *a, struct evhttp_request *req, proxy *p)
{
    (void)a;
    json_t *b = body_json(req);
    if (!b)
        return;
    const char *listen = proxy_listen(p), *upstream = proxy_upstream(p);
    int enabled = proxy_enabled(p);
    if (!json_is_object(b)) {
        reply_error(req, 400, "bad request body: must be a JSON object");
    } else if (field_str(req, b, "listen", &listen) == 0 && field_str(req, b, "upstream", &upstream) == 0 &&
               field_bool(req, b, "enabled", &enabled) == 0) {
        char err[256];
        int status;
        char l2[PROXY_ADDR_MAX], u2[PROXY_ADDR_MAX];
        snprintf(l2, sizeof l2, "%s", listen);
        snprintf(u2, sizeof u2, "%s", upstream);
        const char *ups[UPOOL_MAX], *balance;
        size_t nups;
        int has_pool;
        if (pool_fields(b, ups, &nups, &has_pool, &balance, err, sizeof err) < 0)
            reply_error(req, 400, err);
        else if (proxy_update(p, l2, u2, enabled, &status, err, sizeof err) < 0)
            reply_error(req, status, err);
        else if ((has_pool || balance) &&
                 proxy_set_pool(p, has_pool ? ups : NULL, nups, balance, err, sizeof err) < 0)
            reply_error(req, 400, err);
        else
            reply_json(req, 200, proxy_to_json(p));
    }
    json_decref(b);
}

static void toxic_create_req(struct evhttp_request *req, proxy *p)
{
    json_t *b = body_json(req);
    if (!b)
        return;
    char err[256];
    toxic *t = toxic_new_json(b, clock_mono_us(), err, sizeof err);
    json_decref(b);
    if (!t) {
        reply_error(req, 400, err);
        return;
    }
    if (proxy_toxic_add(p, t, err, sizeof err) < 0) {
        toxic_free(t);
        reply_error(req, 409, err);
        return;
    }
    reply_json(req, 200, toxic_to_json(t));
}

static void toxic_update_req(struct evhttp_request *req, proxy *p, toxic *t)
{
    json_t *b = body_json(req);
    if (!b)
        return;
    char err[256];
    int rc = proxy_toxic_update(p, t, b, err, sizeof err);
    json_decref(b);
    if (rc < 0)
        reply_error(req, 400, err);
    else
        reply_json(req, 200, toxic_to_json(t));
}

static void events_req(api *a, struct evhttp_request *req, const char *query)
{
    uint64_t since = 0;
    size_t limit = EVENTS_PAGE_MAX;
    struct evkeyvalq q;
    TAILQ_INIT(&q);
    if (query && evhttp_parse_query_str(query, &q) == 0) {
        const char *v = evhttp_find_header(&q, "since");
        char *end;
        if (v) {
            since = strtoull(v, &end, 10);
            if (*end || !*v) {
                evhttp_clear_headers(&q);
                reply_error(req, 400, "since must be an event index or a time in µs since the epoch");
                return;
            }
        }
        v = evhttp_find_header(&q, "limit");
        if (v) {
            limit = strtoul(v, &end, 10);
            if (*end || !*v || limit == 0 || limit > EVENTS_PAGE_MAX) {
                evhttp_clear_headers(&q);
                reply_error(req, 400, "limit must be 1..10000");
                return;
            }
        }
    }
    evhttp_clear_headers(&q);
    struct evbuffer *b = evbuffer_new();
    evlog_write_since(a->log, since, limit, b);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/json");
    evhttp_send_reply(req, 200, "OK", b);
    evbuffer_free(b);
}

static void metrics_req(api *a, struct evhttp_request *req)
{
    struct evbuffer *b = evbuffer_new();
    proxy_metrics_write(a->ps, b);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      "text/plain; version=0.0.4; charset=utf-8");
    evhttp_send_reply(req, 200, "OK", b);
    evbuffer_free(b);
}

/* Splits the path into at most 5 decoded segments; returns the count, or
 * -1 when there are more or one does not decode. Caller frees segs[i]. */
static int split_path(const char *path, char **segs, int max)
{
    int n = 0;
    const char *p = path;
    while (*p == '/')
        p++;
    while (*p) {
        const char *e = strchr(p, '/');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (n == max)
            goto fail;
        char *raw = strndup(p, len);
        segs[n] = raw ? evhttp_uridecode(raw, 0, NULL) : NULL;
        free(raw);
        if (!segs[n])
            goto fail;
        n++;
        p += len;
        while (*p == '/')
            p++;
    }
    return n;
fail:
    while (n > 0)
        free(segs[--n]);
    return -1;
}

static void dispatch(struct evhttp_request *req, void *arg)
{
    api *a = arg;
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    const char *query = uri ? evhttp_uri_get_query(uri) : NULL;
    char *seg[5] = {0};
    int n = path ? split_path(path, seg, 5) : -1;
    int get = cmd == EVHTTP_REQ_GET, post = cmd == EVHTTP_REQ_POST;
    int patch = cmd == EVHTTP_REQ_PATCH, del = cmd == EVHTTP_REQ_DELETE;
    proxy *p = NULL;
    toxic *t = NULL;

    if (n < 0) {
        reply_error(req, 404, "not found");
        return;
    }
    if (n >= 2 && strcmp(seg[0], "proxies") == 0) {
        p = proxy_find(a->ps, seg[1]);
        if (!p && n <= 4) {
            reply_error(req, 404, "proxy not found");
            goto out;
        }
    }
    if (n == 1 && strcmp(seg[0], "proxies") == 0) {
        if (get)
            proxies_index(a, req);
        else if (post)
            proxies_create(a, req);
        else
            reply_error(req, 405, "method not allowed");
    } else if (n == 1 && strcmp(seg[0], "populate") == 0 && post) {
        populate(a, req);
    } else if (n == 1 && strcmp(seg[0], "reset") == 0 && post) {
        char err[256];
        if (proxy_reset_all(a->ps, err, sizeof err) < 0)
            reply_error(req, 500, err);
        else
            reply_empty(req, 204);
    } else if (n == 1 && strcmp(seg[0], "version") == 0 && get) {
        reply_json(req, 200, json_pack("{s:s,s:s}", "version", API_VERSION, "rtchaos", rtchaos_version));
    } else if (n == 1 && strcmp(seg[0], "metrics") == 0 && get) {
        metrics_req(a, req);
    } else if (n == 1 && strcmp(seg[0], "events") == 0 && get) {
        events_req(a, req, query);
    } else if (n == 2 && p) {
        if (get) {
            reply_json(req, 200, proxy_to_json(p));
        } else if (post || patch) { /* POST: Toxiproxy's deprecated alias */
            proxy_update_req(a, req, p);
        } else if (del) {
            proxy_delete(p);
            reply_empty(req, 204);
        } else
            reply_error(req, 405, "method not allowed");
    } else if (n == 3 && p && strcmp(seg[2], "toxics") == 0) {
        if (get)
            reply_json(req, 200, proxy_toxics_json(p));
        else if (post)
            toxic_create_req(req, p);
        else
            reply_error(req, 405, "method not allowed");
    } else if (n == 4 && p && strcmp(seg[2], "toxics") == 0) {
        t = proxy_toxic_find(p, seg[3]);
        if (!t)
            reply_error(req, 404, "toxic not found");
        else if (get)
            reply_json(req, 200, toxic_to_json(t));
        else if (post || patch)
            toxic_update_req(req, p, t);
        else if (del) {
            proxy_toxic_remove(p, t);
            reply_empty(req, 204);
        } else
            reply_error(req, 405, "method not allowed");
    } else {
        reply_error(req, 404, "not found");
    }
out:
    for (int i = 0; i < n; i++)
        free(seg[i]);
}

api *api_new(struct event_base *base, proxy_server *ps, evlog *log, const char *host, int port,
             char *err, size_t errlen)
{
    api *a = calloc(1, sizeof *a);
    if (!a) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    a->ps = ps;
    a->log = log;
    a->http = evhttp_new(base);
    if (!a->http) {
        free(a);
        snprintf(err, errlen, "evhttp_new failed");
        return NULL;
    }
    evhttp_set_allowed_methods(a->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PATCH |
                                            EVHTTP_REQ_DELETE | EVHTTP_REQ_PUT | EVHTTP_REQ_HEAD |
                                            EVHTTP_REQ_OPTIONS);
    evhttp_set_max_body_size(a->http, API_BODY_MAX);
    evhttp_set_max_headers_size(a->http, 64 * 1024);
    evhttp_set_timeout(a->http, 30);
    evhttp_set_gencb(a->http, dispatch, a);
    struct evhttp_bound_socket *bs = evhttp_bind_socket_with_handle(a->http, host, (ev_uint16_t)port);
    if (!bs) {
        snprintf(err, errlen, "cannot listen on %s:%d for the API", host, port);
        evhttp_free(a->http);
        free(a);
        return NULL;
    }
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    evutil_socket_t fd = evhttp_bound_socket_get_fd(bs);
    if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0) {
        if (ss.ss_family == AF_INET)
            a->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        else if (ss.ss_family == AF_INET6)
            a->port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    }
    return a;
}

int api_port(const api *a)
{
    return a->port;
}

void api_free(api *a)
{
    if (!a)
        return;
    evhttp_free(a->http);
    free(a);
}
