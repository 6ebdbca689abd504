/* proxy.c — the proxies: listeners and accepting (refuse toxics decide
 * there), each proxy's upstream or pool with health probes, the API's
 * changes (proxies, toxics, reset) and the metrics. The bytes of each
 * connection are relay.c's. */
#include "relay.h"
#include "clock.h"
#include "hist.h"
#include "log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/listener.h>

/* ---- addresses ------------------------------------------------------------ */

static int split_hostport(const char *addr, char *host, size_t hcap, char *port, size_t pcap)
{
    const char *colon = strrchr(addr, ':');
    if (!colon || colon[1] == '\0')
        return -1;
    size_t hl = (size_t)(colon - addr);
    const char *h = addr;
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    if (hl >= hcap || strlen(colon + 1) >= pcap)
        return -1;
    memcpy(host, h, hl);
    host[hl] = '\0';
    strcpy(port, colon + 1);
    for (const char *q = port; *q; q++)
        if (*q < '0' || *q > '9')
            return -1;
    return atoi(port) <= 65535 ? 0 : -1;
}

/* Resolves "host:port" (blocking getaddrinfo: done once per proxy change,
 * and names are normally "localhost" or literals). */
static int resolve(const char *addr, int passive, struct sockaddr_storage *ss, socklen_t *len,
                   char *err, size_t errlen)
{
    char host[PROXY_ADDR_MAX], port[16];
    if (split_hostport(addr, host, sizeof host, port, sizeof port) < 0) {
        snprintf(err, errlen, "address %s is not host:port", addr);
        return -1;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    if (passive)
        hints.ai_flags = AI_PASSIVE;
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
    if (rc != 0 || !res) {
        snprintf(err, errlen, "cannot resolve %s: %s", addr, gai_strerror(rc));
        return -1;
    }
    /* Prefer IPv4 (localhost resolves to ::1 first on some systems, while
     * servers under test mostly listen on 127.0.0.1). */
    struct addrinfo *pick = res;
    for (struct addrinfo *a = res; a; a = a->ai_next)
        if (a->ai_family == AF_INET) {
            pick = a;
            break;
        }
    memcpy(ss, pick->ai_addr, pick->ai_addrlen);
    *len = pick->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

static void format_addr(const struct sockaddr *sa, char *buf, size_t cap, int with_port)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *s4 = (const void *)sa;
        inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof ip);
        port = ntohs(s4->sin_port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const void *)sa;
        inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof ip);
        port = ntohs(s6->sin6_port);
    }
    if (!with_port)
        snprintf(buf, cap, "%s", ip);
    else if (sa->sa_family == AF_INET6)
        snprintf(buf, cap, "[%s]:%d", ip, port);
    else
        snprintf(buf, cap, "%s:%d", ip, port);
}

/* Connection-level toxics (refuse) decide at accept time, with a generator
 * derived from the connection's seed so the decision is reproducible. */
static int accept_verdict(proxy *p, conn *c, toxic **by)
{
    uint64_t now = clock_mono_us();
    for (int i = 0; i < p->ntx; i++) {
        toxic *t = p->tx[i];
        if (!t->type->accept)
            continue;
        prng r;
        uint64_t root = t->common.has_seed ? t->common.seed : p->s->seed;
        prng_seed(&r, prng_derive(prng_derive(prng_derive(root, p->name_hash), c->id),
                                  prng_hash_str(t->name)));
        int drawn = prng_chance(&r, t->toxicity);
        if (!drawn || toxic_target_client_match(t->common.target_client, c->client_addr) != 1 ||
            !toxic_schedule_active(&t->common, t->created_us, now, NULL))
            continue;
        *by = t;
        t->n_applied++;
        return t->type->accept(t->attrs);
    }
    return TX_ACCEPT_PASS;
}

static void on_accept(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa,
                      int salen, void *arg)
{
    (void)lev;
    (void)salen;
    proxy *p = arg;
    conn *c = calloc(1, sizeof *c);
    if (!c) {
        evutil_closesocket(fd);
        return;
    }
    c->p = p;
    c->id = ++p->next_conn_id;
    c->seed = prng_derive(prng_derive(p->s->seed, p->name_hash), c->id);
    c->start_us = clock_mono_us();
    format_addr(sa, c->client_addr, sizeof c->client_addr, 0);
    c->up_idx = -1;
    {
        char ip[INET6_ADDRSTRLEN] = "";
        if (sa->sa_family == AF_INET)
            inet_ntop(AF_INET, &((struct sockaddr_in *)sa)->sin_addr, ip, sizeof ip);
        else if (sa->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((struct sockaddr_in6 *)sa)->sin6_addr, ip, sizeof ip);
        c->src_hash = prng_hash_str(ip);
    }
    p->n_conns++;

    toxic *by = NULL;
    int verdict = accept_verdict(p, c, &by);
    if (verdict != TX_ACCEPT_PASS) {
        p->n_refused++;
        relay_record(p, c->id, by, verdict == TX_ACCEPT_RESET ? "refuse_reset" : "refuse_close",
               json_pack("{s:s}", "client", c->client_addr));
        if (verdict == TX_ACCEPT_RESET) {
            struct linger lg = {1, 0};
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        }
        evutil_closesocket(fd);
        free(c);
        return;
    }
    relay_conn_start(c, fd);
}

static void on_accept_resume(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    proxy *p = arg;
    if (p->lev)
        evconnlistener_enable(p->lev);
}

/* accept() failed (out of descriptors, most likely): the pending connection
 * stays in the backlog and the listener would fire again at once, so pause
 * it for 100 ms instead of spinning. */
static void on_accept_error(struct evconnlistener *lev, void *arg)
{
    proxy *p = arg;
    int e = EVUTIL_SOCKET_ERROR();
    log_warn("proxy=%s accept failed: %s (pausing 100 ms)", p->name, evutil_socket_error_to_string(e));
    evconnlistener_disable(lev);
    struct timeval tv = {0, 100000};
    if (!p->accept_pause)
        p->accept_pause = evtimer_new(p->s->base, on_accept_resume, p);
    if (p->accept_pause)
        evtimer_add(p->accept_pause, &tv);
}

/* ---- proxies ------------------------------------------------------------------ */

void proxy_server_set_splice(proxy_server *s, int on)
{
    s->no_splice = !on;
}

proxy_server *proxy_server_new(struct event_base *base, uint64_t seed, evlog *log)
{
    proxy_server *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->base = base;
    s->seed = seed;
    s->log = log;
    char err[128];
    if (dheap_init(&s->deadlines, err, sizeof err) != 0) {
        free(s);
        return NULL;
    }
    s->tev = event_new(base, s->deadlines.tfd, EV_READ | EV_PERSIST, relay_on_timers, s);
    if (!s->tev || event_add(s->tev, NULL) < 0) {
        if (s->tev)
            event_free(s->tev);
        dheap_free(&s->deadlines);
        free(s);
        return NULL;
    }
    return s;
}

static void proxy_close_conns(proxy *p)
{
    while (p->conns) {
        conn *c = p->conns;
        c->closing = 2;
        relay_conn_free(c);
    }
}

static void proxy_stop(proxy *p)
{
    if (p->lev) {
        evconnlistener_free(p->lev);
        p->lev = NULL;
    }
    if (p->accept_pause) {
        event_free(p->accept_pause);
        p->accept_pause = NULL;
    }
    proxy_close_conns(p);
}

static int proxy_start(proxy *p, char *err, size_t errlen)
{
    if (p->lev)
        return 0;
    struct sockaddr_storage ss;
    socklen_t len;
    if (resolve(p->listen, 1, &ss, &len, err, errlen) < 0)
        return -1;
    p->lev = evconnlistener_new_bind(p->s->base, on_accept, p,
                                     LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
                                     4096, (struct sockaddr *)&ss, (int)len);
    if (!p->lev) {
        snprintf(err, errlen, "cannot listen on %s: %s", p->listen,
                 evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
        return -1;
    }
    evconnlistener_set_error_cb(p->lev, on_accept_error);
    /* Echo the port the kernel chose for port 0, as Toxiproxy does. */
    struct sockaddr_storage bound;
    socklen_t blen = sizeof bound;
    if (getsockname(evconnlistener_get_fd(p->lev), (struct sockaddr *)&bound, &blen) == 0)
        format_addr((struct sockaddr *)&bound, p->listen, sizeof p->listen, 1);
    return 0;
}

static int set_upstream(proxy *p, const char *upstream, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    socklen_t len;
    if (resolve(upstream, 0, &ss, &len, err, errlen) < 0)
        return -1;
    if (upstream != p->upstream)
        snprintf(p->upstream, sizeof p->upstream, "%s", upstream);
    p->up_addr = ss;
    p->up_len = len;
    return 0;
}

int proxy_create(proxy_server *s, const char *name, const char *listen, const char *upstream,
                 int enabled, proxy **out, int *status, char *err, size_t errlen)
{
    *status = 400;
    if (!name[0] || strlen(name) >= PROXY_NAME_MAX || strchr(name, '/')) {
        snprintf(err, errlen, "missing required field: name (1..%d bytes, no '/')", PROXY_NAME_MAX - 1);
        return -1;
    }
    if (!upstream[0]) {
        snprintf(err, errlen, "missing required field: upstream");
        return -1;
    }
    if (strlen(listen) >= PROXY_ADDR_MAX || strlen(upstream) >= PROXY_ADDR_MAX) {
        snprintf(err, errlen, "address too long");
        return -1;
    }
    if (proxy_find(s, name)) {
        *status = 409;
        snprintf(err, errlen, "proxy already exists");
        return -1;
    }
    proxy *p = calloc(1, sizeof *p);
    if (!p) {
        *status = 500;
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    p->s = s;
    snprintf(p->name, sizeof p->name, "%s", name);
    snprintf(p->listen, sizeof p->listen, "%s", listen[0] ? listen : "127.0.0.1:0");
    p->name_hash = prng_hash_str(p->name);
    if (set_upstream(p, upstream, err, errlen) < 0) {
        free(p);
        return -1;
    }
    p->enabled = enabled;
    if (enabled && proxy_start(p, err, errlen) < 0) {
        *status = 500;
        free(p);
        return -1;
    }
    proxy **pp = &s->head;
    while (*pp)
        pp = &(*pp)->next;
    *pp = p;
    s->n++;
    evlog_add(s->log, p->name, 0, NULL, "proxy_create",
              json_pack("{s:s,s:s,s:b}", "listen", p->listen, "upstream", p->upstream, "enabled", enabled));
    *out = p;
    return 0;
}

proxy *proxy_find(proxy_server *s, const char *name)
{
    for (proxy *p = s->head; p; p = p->next)
        if (strcmp(p->name, name) == 0)
            return p;
    return NULL;
}

void proxy_foreach(proxy_server *s, void (*fn)(proxy *p, void *arg), void *arg)
{
    for (proxy *p = s->head; p; p = p->next)
        fn(p, arg);
}

size_t proxy_count(const proxy_server *s)
{
    return s->n;
}

const char *proxy_name(const proxy *p) { return p->name; }
const char *proxy_listen(const proxy *p) { return p->listen; }
const char *proxy_upstream(const proxy *p) { return p->upstream; }
int proxy_enabled(const proxy *p) { return p->enabled; }

int proxy_update(proxy *p, const char *listen, const char *upstream, int enabled,
                 int *status, char *err, size_t errlen)
{
    *status = 400;
    int restart = 0;
    if (listen && strcmp(listen, p->listen) != 0) {
        if (strlen(listen) >= PROXY_ADDR_MAX) {
            snprintf(err, errlen, "address too long");
            return -1;
        }
        restart = 1;
    }
    if (upstream && strcmp(upstream, p->upstream) != 0) {
        struct sockaddr_storage ss;
        socklen_t len;
        if (strlen(upstream) >= PROXY_ADDR_MAX || resolve(upstream, 0, &ss, &len, err, errlen) < 0) {
            if (strlen(upstream) >= PROXY_ADDR_MAX)
                snprintf(err, errlen, "address too long");
            return -1;
        }
        restart = 1;
    }
    if (restart || !enabled)
        proxy_stop(p);
    if (listen)
        snprintf(p->listen, sizeof p->listen, "%s", listen);
    if (upstream && strcmp(upstream, p->upstream) != 0 && set_upstream(p, upstream, err, errlen) < 0)
        return -1;
    p->enabled = enabled;
    if (enabled && proxy_start(p, err, errlen) < 0) {
        *status = 500;
        p->enabled = 0;
        return -1;
    }
    evlog_add(p->s->log, p->name, 0, NULL, "proxy_update",
              json_pack("{s:s,s:s,s:b}", "listen", p->listen, "upstream", p->upstream, "enabled", enabled));
    return 0;
}

int proxy_populate_one(proxy_server *s, const char *name, const char *listen, const char *upstream,
                       int enabled, proxy **out, int *status, char *err, size_t errlen)
{
    proxy *old = proxy_find(s, name);
    if (old) {
        char norm[PROXY_ADDR_MAX];
        struct sockaddr_storage ss;
        socklen_t len;
        const char *want = listen[0] ? listen : "127.0.0.1:0";
        if (resolve(want, 1, &ss, &len, err, errlen) < 0) {
            *status = 400;
            return -1;
        }
        format_addr((struct sockaddr *)&ss, norm, sizeof norm, 1);
        if (strcmp(norm, old->listen) == 0 && strcmp(upstream, old->upstream) == 0) {
            *out = old; /* same addresses: left as it is, toxics and all */
            return 0;
        }
        proxy_delete(old);
    }
    return proxy_create(s, name, listen, upstream, enabled, out, status, err, errlen);
}

static void pool_probes_stop(proxy *p);

void proxy_delete(proxy *p)
{
    proxy_server *s = p->s;
    proxy_stop(p);
    pool_probes_stop(p);
    for (int i = 0; i < p->ntx; i++)
        toxic_free(p->tx[i]);
    free(p->tx);
    proxy **pp = &s->head;
    while (*pp != p)
        pp = &(*pp)->next;
    *pp = p->next;
    s->n--;
    evlog_add(s->log, p->name, 0, NULL, "proxy_delete", NULL);
    free(p);
}

void proxy_server_free(proxy_server *s)
{
    if (!s)
        return;
    while (s->head)
        proxy_delete(s->head);
    event_free(s->tev);
    dheap_free(&s->deadlines);
    free(s);
}

json_t *proxy_toxics_json(const proxy *p)
{
    json_t *a = json_array();
    /* Toxiproxy lists upstream toxics first, then downstream. */
    for (int dir = 0; dir < 2; dir++)
        for (int i = 0; i < p->ntx; i++)
            if (p->tx[i]->stream == dir)
                json_array_append_new(a, toxic_to_json(p->tx[i]));
    return a;
}

/* Active health check of the pool: a TCP connect to each upstream every
 * POOL_PROBE_MS; a refused or failed one marks it down (upool_mark_down), a
 * completed one marks it up again. */
#define POOL_PROBE_MS 500

typedef struct pool_probe {
    proxy *p;
    size_t i;
    struct bufferevent *bev;
} pool_probe;

static void probe_free(proxy *p, size_t i)
{
    if (!p->probe[i])
        return;
    bufferevent_free(p->probe[i]->bev);
    free(p->probe[i]);
    p->probe[i] = NULL;
}

static void on_probe_event(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    pool_probe *pr = arg;
    proxy *p = pr->p;
    size_t i = pr->i;
    if (what & BEV_EVENT_CONNECTED) {
        if (!upool_is_up(&p->pool, i, clock_mono_us()))
            relay_record(p, 0, NULL, "upstream_up", json_pack("{s:s}", "upstream", p->pool_name[i]));
        p->pool.down_until_us[i] = 0;
    } else {
        if (upool_is_up(&p->pool, i, clock_mono_us()))
            relay_record(p, 0, NULL, "upstream_down", json_pack("{s:s}", "upstream", p->pool_name[i]));
        upool_mark_down(&p->pool, i, clock_mono_us());
    }
    probe_free(p, i);
}

static void on_probe_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    proxy *p = arg;
    for (size_t i = 0; i < p->pool.n; i++) {
        if (p->probe[i]) /* no answer within a tick: down, try again */
            on_probe_event(p->probe[i]->bev, BEV_EVENT_ERROR, p->probe[i]);
        pool_probe *pr = calloc(1, sizeof *pr);
        if (!pr)
            continue;
        pr->p = p;
        pr->i = i;
        pr->bev = bufferevent_socket_new(p->s->base, -1, BEV_OPT_CLOSE_ON_FREE);
        if (!pr->bev) {
            free(pr);
            continue;
        }
        p->probe[i] = pr;
        bufferevent_setcb(pr->bev, NULL, NULL, on_probe_event, pr);
        if (bufferevent_socket_connect(pr->bev, (struct sockaddr *)&p->pool_addr[i], (int)p->pool_len[i]) < 0) {
            upool_mark_down(&p->pool, i, clock_mono_us());
            probe_free(p, i);
        }
    }
}

static void pool_probes_stop(proxy *p)
{
    for (size_t i = 0; i < UPOOL_MAX; i++)
        probe_free(p, i);
    if (p->probe_tick) {
        event_free(p->probe_tick);
        p->probe_tick = NULL;
    }
}

int proxy_set_pool(proxy *p, const char *const *addrs, size_t n, const char *balance, char *err,
                   size_t errlen)
{
    upool_balance b = p->pool.balance;
    if (balance && upool_balance_parse(balance, &b) < 0) {
        snprintf(err, errlen, "balance must be roundrobin, leastconn or source, not \"%s\"", balance);
        return -1;
    }
    if (!addrs) { /* balance only */
        p->pool.balance = b;
        return 0;
    }
    if (n > UPOOL_MAX) {
        snprintf(err, errlen, "upstreams holds at most %d addresses", UPOOL_MAX);
        return -1;
    }
    struct sockaddr_storage ss[UPOOL_MAX];
    socklen_t len[UPOOL_MAX];
    for (size_t i = 0; i < n; i++) {
        char e2[200];
        if (strlen(addrs[i]) >= PROXY_ADDR_MAX || resolve(addrs[i], 0, &ss[i], &len[i], e2, sizeof e2) < 0) {
            snprintf(err, errlen, "upstreams[%zu]: %s", i, strlen(addrs[i]) >= PROXY_ADDR_MAX ? "too long" : e2);
            return -1;
        }
    }
    /* connections already open keep their upstream; their release must not
     * touch the new pool's counts */
    for (conn *c = p->conns; c; c = c->next)
        c->up_idx = -1;
    pool_probes_stop(p);
    upool_init(&p->pool, n, b);
    for (size_t i = 0; i < n; i++) {
        snprintf(p->pool_name[i], sizeof p->pool_name[i], "%s", addrs[i]);
        p->pool_addr[i] = ss[i];
        p->pool_len[i] = len[i];
    }
    if (n && set_upstream(p, addrs[0], err, errlen) < 0)
        return -1;
    if (n) {
        struct timeval tv = {POOL_PROBE_MS / 1000, (POOL_PROBE_MS % 1000) * 1000};
        p->probe_tick = event_new(p->s->base, -1, EV_PERSIST, on_probe_tick, p);
        if (p->probe_tick)
            event_add(p->probe_tick, &tv);
    }
    return 0;
}

json_t *proxy_to_json(const proxy *p)
{
    json_t *o = json_pack("{s:s,s:s,s:s,s:b,s:o}", "name", p->name, "listen", p->listen, "upstream",
                          p->upstream, "enabled", p->enabled, "toxics", proxy_toxics_json(p));
    if (p->pool.n) {
        /* rtchaos extension; a Toxiproxy client reads "upstream" (the first) */
        json_t *ups = json_array(), *st = json_array();
        uint64_t now = clock_mono_us();
        for (size_t i = 0; i < p->pool.n; i++) {
            json_array_append_new(ups, json_string(p->pool_name[i]));
            json_array_append_new(st, json_pack("{s:s,s:b,s:I,s:I}", "upstream", p->pool_name[i], "up",
                                                upool_is_up(&p->pool, i, now), "active",
                                                (json_int_t)p->pool.active[i], "connections",
                                                (json_int_t)p->pool.picks[i]));
        }
        json_object_set_new(o, "upstreams", ups);
        json_object_set_new(o, "balance", json_string(upool_balance_name(p->pool.balance)));
        json_object_set_new(o, "pool", st);
    }
    return o;
}

toxic *proxy_toxic_find(proxy *p, const char *name)
{
    for (int i = 0; i < p->ntx; i++)
        if (strcmp(p->tx[i]->name, name) == 0)
            return p->tx[i];
    return NULL;
}

int proxy_toxic_add(proxy *p, toxic *t, char *err, size_t errlen)
{
    if (proxy_toxic_find(p, t->name)) {
        snprintf(err, errlen, "toxic already exists");
        return -1;
    }
    if (p->ntx == p->captx) {
        int cap = p->captx ? p->captx * 2 : 8;
        toxic **tx = realloc(p->tx, (size_t)cap * sizeof *tx);
        if (!tx) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        p->tx = tx;
        p->captx = cap;
    }
    p->tx[p->ntx++] = t;
    evlog_add(p->s->log, p->name, 0, t->name, "toxic_add", json_pack("{s:o}", "config", toxic_to_json(t)));
    if (t->type->accept)
        return 0;
    /* Same loop iteration as the API request: no connection, old or new,
     * can see the proxy without the toxic once this returns. */
    for (conn *c = p->conns, *next; c; c = next) {
        next = c->next;
        if (c->closing)
            continue;
        relay_conn_enter(c);
        dlink *l = t->stream == TX_UPSTREAM ? &c->up : &c->down;
        if (relay_add_stage(l, t) < 0)
            relay_conn_close(c, TX_CLOSE_RST);
        relay_conn_leave(c); /* runs the new stage at once (timeout starts counting) */
    }
    return 0;
}

int proxy_toxic_update(proxy *p, toxic *t, json_t *body, char *err, size_t errlen)
{
    int proto = t->type->protocol ? t->type->protocol(t->attrs) : TX_PROTO_NONE;
    void *old = malloc(t->type->attrs_size ? t->type->attrs_size : 1);
    if (!old) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    memcpy(old, t->attrs, t->type->attrs_size);
    tx_common old_common = t->common;
    double old_toxicity = t->toxicity;
    if (toxic_update_json(t, body, err, errlen) < 0) {
        free(old);
        return -1;
    }
    /* Running stages read one protocol from the first byte: switching it
     * under them would feed frames to the wrong parser. */
    if ((t->type->protocol ? t->type->protocol(t->attrs) : TX_PROTO_NONE) != proto) {
        memcpy(t->attrs, old, t->type->attrs_size);
        t->common = old_common;
        t->toxicity = old_toxicity;
        free(old);
        snprintf(err, errlen, "attribute protocol cannot change on a toxic in place: delete it and add it again");
        return -1;
    }
    free(old);
    evlog_add(p->s->log, p->name, 0, t->name, "toxic_update", json_pack("{s:o}", "config", toxic_to_json(t)));
    for (conn *c = p->conns, *next; c; c = next) {
        next = c->next;
        relay_conn_enter(c);
        relay_conn_leave(c); /* re-runs the stages with the new attributes */
    }
    return 0;
}

void proxy_toxic_remove(proxy *p, toxic *t)
{
    for (conn *c = p->conns, *next; c; c = next) {
        next = c->next;
        relay_conn_enter(c);
        relay_remove_toxic(t->stream == TX_UPSTREAM ? &c->up : &c->down, t);
        relay_conn_leave(c);
    }
    for (int i = 0; i < p->ntx; i++)
        if (p->tx[i] == t) {
            memmove(&p->tx[i], &p->tx[i + 1], (size_t)(p->ntx - i - 1) * sizeof *p->tx);
            p->ntx--;
            break;
        }
    evlog_add(p->s->log, p->name, 0, t->name, "toxic_remove", NULL);
    if (t->refs == 0)
        toxic_free(t);
    else
        t->removed = 1; /* freed with its last retiring stage */
}

int proxy_reset_all(proxy_server *s, char *err, size_t errlen)
{
    int rc = 0;
    for (proxy *p = s->head; p; p = p->next) {
        while (p->ntx > 0)
            proxy_toxic_remove(p, p->tx[p->ntx - 1]);
        if (!p->enabled) {
            if (proxy_start(p, err, errlen) < 0)
                rc = -1;
            else
                p->enabled = 1;
        }
    }
    evlog_add(s->log, NULL, 0, NULL, "reset", NULL);
    return rc;
}

static void prom_label(struct evbuffer *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            evbuffer_add_printf(out, "\\%c", *s);
        else if (*s == '\n')
            evbuffer_add(out, "\\n", 2);
        else
            evbuffer_add(out, s, 1);
    }
}

void proxy_metrics_write(proxy_server *s, struct evbuffer *out)
{
    static const struct { const char *name, *help, *type; } M[] = {
        {"rtchaos_proxy_connections_total", "Connections accepted.", "counter"},
        {"rtchaos_proxy_connections_active", "Connections open now.", "gauge"},
        {"rtchaos_proxy_connections_refused_total", "Connections closed at accept by a refuse toxic.", "counter"},
        {"rtchaos_proxy_upstream_failures_total", "Upstream connects that failed.", "counter"},
        {"rtchaos_proxy_received_bytes_total", "Bytes read, by direction.", "counter"},
        {"rtchaos_proxy_spliced_bytes_total", "Bytes moved by splice(2), never copied to user space.", "counter"},
        {"rtchaos_proxy_splice_entered_total", "Directions switched to splice(2): bulk traffic, reads kept filling the buffer.", "counter"},
        {"rtchaos_proxy_splice_left_total", "Directions switched back from splice(2) to user space: traffic turned small, or a toxic came.", "counter"},
    };
    for (size_t m = 0; m < sizeof M / sizeof M[0]; m++) {
        evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s %s\n", M[m].name, M[m].help, M[m].name, M[m].type);
        for (proxy *p = s->head; p; p = p->next) {
            if (m == 4) {
                for (int d = 0; d < 2; d++) {
                    evbuffer_add_printf(out, "%s{proxy=\"", M[m].name);
                    prom_label(out, p->name);
                    evbuffer_add_printf(out, "\",direction=\"%s\"} %llu\n", d ? "downstream" : "upstream",
                                        (unsigned long long)(d ? p->bytes_down : p->bytes_up));
                }
                continue;
            }
            const uint64_t v_of[] = {p->n_conns, p->n_active, p->n_refused, p->n_upstream_fail, 0,
                                     p->bytes_spliced, p->n_splice_enter, p->n_splice_leave};
            uint64_t v = v_of[m];
            evbuffer_add_printf(out, "%s{proxy=\"", M[m].name);
            prom_label(out, p->name);
            evbuffer_add_printf(out, "\"} %llu\n", (unsigned long long)v);
        }
    }
    evbuffer_add_printf(out, "# HELP rtchaos_toxic_connections_total Connections a toxic applied to (applied=true) or was drawn/targeted away from.\n"
                             "# TYPE rtchaos_toxic_connections_total counter\n");
    for (proxy *p = s->head; p; p = p->next)
        for (int i = 0; i < p->ntx; i++)
            for (int a = 0; a < 2; a++) {
                evbuffer_add_printf(out, "rtchaos_toxic_connections_total{proxy=\"");
                prom_label(out, p->name);
                evbuffer_add_printf(out, "\",toxic=\"");
                prom_label(out, p->tx[i]->name);
                evbuffer_add_printf(out, "\",type=\"%s\",applied=\"%s\"} %llu\n", p->tx[i]->type->name,
                                    a ? "false" : "true",
                                    (unsigned long long)(a ? p->tx[i]->n_skipped : p->tx[i]->n_applied));
            }
    evbuffer_add_printf(out, "# HELP rtchaos_toxic_actions_total Actions a toxic took, by action.\n"
                             "# TYPE rtchaos_toxic_actions_total counter\n");
    for (proxy *p = s->head; p; p = p->next)
        for (int i = 0; i < p->ntx; i++)
            for (int a = 0; a < TOXIC_ACTIONS_MAX && p->tx[i]->actions[a].action; a++) {
                evbuffer_add_printf(out, "rtchaos_toxic_actions_total{proxy=\"");
                prom_label(out, p->name);
                evbuffer_add_printf(out, "\",toxic=\"");
                prom_label(out, p->tx[i]->name);
                evbuffer_add_printf(out, "\",type=\"%s\",action=\"%s\"} %llu\n", p->tx[i]->type->name,
                                    p->tx[i]->actions[a].action,
                                    (unsigned long long)p->tx[i]->actions[a].n);
            }
    /* Seconds, Prometheus's base unit (promtool rejects a unit suffix such
     * as _us); the histogram keeps microseconds. */
    evbuffer_add_printf(out, "# HELP rtchaos_toxic_release_lateness_seconds How late held data left after its due time (the proxy's own timing error).\n"
                             "# TYPE rtchaos_toxic_release_lateness_seconds summary\n");
    for (proxy *p = s->head; p; p = p->next)
        for (int i = 0; i < p->ntx; i++) {
            const struct hist *h = p->tx[i]->late;
            if (!h)
                continue;
            static const double Q[] = {0.5, 0.9, 0.99, 0.999, 1.0};
            for (size_t q = 0; q < sizeof Q / sizeof Q[0]; q++) {
                evbuffer_add_printf(out, "rtchaos_toxic_release_lateness_seconds{proxy=\"");
                prom_label(out, p->name);
                evbuffer_add_printf(out, "\",toxic=\"");
                prom_label(out, p->tx[i]->name);
                evbuffer_add_printf(out, "\",quantile=\"%g\"} %.6f\n", Q[q],
                                    (double)hist_percentile(h, Q[q] * 100.0) / 1e6);
            }
            for (int k = 0; k < 2; k++) {
                evbuffer_add_printf(out, "rtchaos_toxic_release_lateness_seconds_%s{proxy=\"", k ? "count" : "sum");
                prom_label(out, p->name);
                evbuffer_add_printf(out, "\",toxic=\"");
                prom_label(out, p->tx[i]->name);
                if (k)
                    evbuffer_add_printf(out, "\"} %llu\n", (unsigned long long)hist_count(h));
                else
                    evbuffer_add_printf(out, "\"} %.6f\n", hist_mean(h) * (double)hist_count(h) / 1e6);
            }
        }
    evbuffer_add_printf(out, "# HELP rtchaos_events_total Events recorded in the action log.\n"
                             "# TYPE rtchaos_events_total counter\nrtchaos_events_total %llu\n",
                        (unsigned long long)evlog_count(s->log));
}
