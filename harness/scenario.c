/* scenario.c — the scenario model: diagnostics list, durations, addresses,
 * headers, names of its enums, freeing and its JSON form. Loading is
 * scenario_load.c. */
#include "scenario.h"
#include "proto.h"
#include "toxic_names.h"
#include "verdict.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <yaml.h>

#define US_PER_MS 1000ULL
#define US_PER_S  1000000ULL
#define MAX_DURATION_US (24ULL * 3600 * US_PER_S)

/* ---- diagnostics ------------------------------------------------------------ */

void scn_diag_init(scn_diag *d) { memset(d, 0, sizeof *d); }

void scn_diag_free(scn_diag *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->msgs[i]);
    free(d->msgs);
    memset(d, 0, sizeof *d);
}

static void diag_vadd(scn_diag *d, const char *fmt, va_list ap)
{
    char *m = NULL;
    if (vasprintf(&m, fmt, ap) < 0)
        return;
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 8;
        char **p = realloc(d->msgs, cap * sizeof *p);
        if (!p) {
            free(m);
            return;
        }
        d->msgs = p;
        d->cap = cap;
    }
    d->msgs[d->n++] = m;
}

void scn_diag_add(scn_diag *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_vadd(d, fmt, ap);
    va_end(ap);
}

/* ---- durations --------------------------------------------------------------- */

int scenario_parse_duration(const char *s, uint64_t *out_us, char *err, size_t errlen)
{
    const char *p = s;
    if (!*p) {
        snprintf(err, errlen, "expected a duration like 500ms, 5s or 2m, got an empty string");
        return -1;
    }
    if (strcmp(p, "0") == 0) {
        *out_us = 0;
        return 0;
    }
    if (!isdigit((unsigned char)*p) && *p != '.')
        goto bad;
    errno = 0;
    char *end;
    double v = strtod(p, &end);
    if (end == p || errno || v < 0 || !isfinite(v))
        goto bad;
    double mult;
    if (strcmp(end, "us") == 0)
        mult = 1;
    else if (strcmp(end, "ms") == 0)
        mult = US_PER_MS;
    else if (strcmp(end, "s") == 0)
        mult = US_PER_S;
    else if (strcmp(end, "m") == 0)
        mult = 60.0 * US_PER_S;
    else if (strcmp(end, "h") == 0)
        mult = 3600.0 * US_PER_S;
    else if (*end == '\0') {
        snprintf(err, errlen, "expected a duration with a unit (us, ms, s, m, h), like %ss, got '%s'", s, s);
        return -1;
    } else
        goto bad;
    double us = v * mult;
    if (us > (double)MAX_DURATION_US) {
        snprintf(err, errlen, "duration '%s' is out of range (at most 24h)", s);
        return -1;
    }
    if (fabs(us - llround(us)) > 1e-6) {
        snprintf(err, errlen, "duration '%s' is finer than a microsecond", s);
        return -1;
    }
    *out_us = (uint64_t)llround(us);
    return 0;
bad:
    snprintf(err, errlen, "expected a duration like 500ms, 5s or 2m, got '%s'", s);
    return -1;
}

char *scenario_format_duration(uint64_t us, char *buf, size_t cap)
{
    if (us == 0)
        snprintf(buf, cap, "0s");
    else if (us % (3600 * US_PER_S) == 0)
        snprintf(buf, cap, "%lluh", (unsigned long long)(us / (3600 * US_PER_S)));
    else if (us % (60 * US_PER_S) == 0)
        snprintf(buf, cap, "%llum", (unsigned long long)(us / (60 * US_PER_S)));
    else if (us % US_PER_S == 0)
        snprintf(buf, cap, "%llus", (unsigned long long)(us / US_PER_S));
    else if (us % US_PER_MS == 0)
        snprintf(buf, cap, "%llums", (unsigned long long)(us / US_PER_MS));
    else
        snprintf(buf, cap, "%lluus", (unsigned long long)us);
    return buf;
}

int scenario_parse_hostport(const char *addr, char *host, size_t hostcap, uint16_t *port, char *err, size_t errlen)
{
    const char *colon;
    size_t hl;
    const char *h = addr;
    if (addr[0] == '[') {
        const char *rb = strchr(addr, ']');
        if (!rb || rb[1] != ':') {
            snprintf(err, errlen, "metrics address '%s': expected [IPV6]:PORT", addr);
            return -1;
        }
        h = addr + 1;
        hl = (size_t)(rb - h);
        colon = rb + 1;
    } else {
        colon = strrchr(addr, ':');
        if (!colon) {
            snprintf(err, errlen, "metrics address '%s': expected HOST:PORT (e.g. 127.0.0.1:9464)", addr);
            return -1;
        }
        hl = (size_t)(colon - addr);
    }
    if (hl == 0 || hl >= hostcap) {
        snprintf(err, errlen, "metrics address '%s': expected HOST:PORT (e.g. 127.0.0.1:9464)", addr);
        return -1;
    }
    char *end;
    long v = strtol(colon + 1, &end, 10);
    if (!colon[1] || *end || v < 0 || v > 65535) {
        snprintf(err, errlen, "metrics address '%s': port must be 0..65535", addr);
        return -1;
    }
    memcpy(host, h, hl);
    host[hl] = '\0';
    *port = (uint16_t)v;
    return 0;
}

int scenario_parse_url(const char *url, char *host, size_t hostcap, uint16_t *port, char *path, size_t pathcap,
                       char *err, size_t errlen)
{
    if (strncmp(url, "http://", 7) != 0) {
        snprintf(err, errlen, "'%s': expected http://HOST:PORT[/PATH]", url);
        return -1;
    }
    const char *hp = url + 7, *slash = strchr(hp, '/');
    char addr[300];
    size_t n = slash ? (size_t)(slash - hp) : strlen(hp);
    if (n >= sizeof addr) {
        snprintf(err, errlen, "'%s': host too long", url);
        return -1;
    }
    memcpy(addr, hp, n);
    addr[n] = '\0';
    if (scenario_parse_hostport(addr, host, hostcap, port, err, errlen) < 0)
        return -1;
    if (*port == 0) {
        snprintf(err, errlen, "'%s': port must be 1..65535", url);
        return -1;
    }
    if (snprintf(path, pathcap, "%s", slash ? slash : "/metrics") >= (int)pathcap) {
        snprintf(err, errlen, "'%s': path too long", url);
        return -1;
    }
    return 0;
}

static void toxic_free(scn_toxic *t)
{
    free(t->name);
    free(t->type);
    free(t->stream);
    json_decref(t->attributes);
}

void scenario_free(scenario *s)
{
    free(s->path);
    free(s->dir);
    free(s->name);
    free(s->server.bin);
    for (size_t i = 0; i < s->server.nargs; i++)
        free(s->server.args[i]);
    free(s->server.args);
    free(s->server.config);
    free(s->server.balance);
    free(s->proxy.bin);
    for (size_t i = 0; i < s->proxy.nargs; i++)
        free(s->proxy.args[i]);
    free(s->proxy.args);
    for (size_t i = 0; i < s->proxy.ntoxics; i++)
        toxic_free(&s->proxy.toxics[i]);
    free(s->proxy.toxics);
    free(s->channels.pattern);
    free(s->publishers.token);
    for (size_t i = 0; i < s->nclients; i++) {
        free(s->clients[i].name);
        free(s->clients[i].token);
    }
    free(s->clients);
    for (size_t i = 0; i < s->nfaults; i++) {
        free(s->faults[i].name);
        free(s->faults[i].group);
        toxic_free(&s->faults[i].toxic);
    }
    free(s->faults);
    for (size_t i = 0; i < s->nbudgets; i++) {
        free(s->budgets[i].metric);
        free(s->budgets[i].text);
    }
    free(s->budgets);
    free(s->harness.metrics_addr);
    free(s->harness.server_metrics);
    free(s->harness.push_url);
    for (size_t i = 0; i < s->harness.nsource_addrs; i++)
        free(s->harness.source_addrs[i]);
    free(s->harness.source_addrs);
    free(s->target.protocol);
    free(s->target.sub_path);
    free(s->target.pub_path);
    free(s->target.resume_header);
    free(s->target.resume_query);
    free(s->target.payload);
    free(s->target.pub_method);
    free(s->target.pub_body);
    free(s->target.sub_message);
    free(s->target.resume_message);
    free(s->target.offset);
    for (size_t i = 0; i < s->target.nheaders; i++)
        free(s->target.headers[i]);
    free(s->target.headers);
    free(s->target.ca);
    free(s->target.app_id);
    free(s->target.key);
    free(s->target.secret);
    free(s->target.ch_join);
    free(s->target.pub_message);
    free(s->target.ping_match);
    free(s->target.pong_message);
    free(s->target.ping_message);
    memset(s, 0, sizeof *s);
}

int scenario_has_server_faults(const scenario *s)
{
    for (size_t i = 0; i < s->nfaults; i++)
        if (s->faults[i].kind >= SCN_FAULT_SERVER_KILL)
            return 1;
    return 0;
}

int scenario_needs_proxy(const scenario *s)
{
    if (s->proxy.enabled >= 0)
        return s->proxy.enabled;
    if (s->proxy.ntoxics)
        return 1;
    if (s->server.nodes > 1) /* the proxy's upstream pool spreads the clients over the nodes */
        return 1;
    for (size_t i = 0; i < s->nfaults; i++)
        if (s->faults[i].kind == SCN_FAULT_TOXIC)
            return 1;
    return 0;
}

uint64_t scenario_total_clients(const scenario *s)
{
    uint64_t n = 0;
    for (size_t i = 0; i < s->nclients; i++)
        n += s->clients[i].count;
    return n;
}

const char *scenario_op_str(scn_op op)
{
    static const char *const s[] = {"<=", "<", ">=", ">", "==", "!="};
    return (unsigned)op < 6 ? s[op] : "?";
}

int scenario_has_net_faults(const scenario *s)
{
    for (size_t i = 0; i < s->nfaults; i++)
        if (s->faults[i].kind == SCN_FAULT_NETWORK)
            return 1;
    return 0;
}

int scenario_check_header(const char *h, char *err, size_t errlen)
{
    const char *colon = strchr(h, ':');
    if (!colon || colon == h) {
        snprintf(err, errlen, "'%s': expected 'Name: value'", h);
        return -1;
    }
    for (const char *q = h; q < colon; q++)
        if (!isalnum((unsigned char)*q) && *q != '-' && *q != '_') {
            snprintf(err, errlen, "'%.*s': a header name is letters, digits, '-' and '_'", (int)(colon - h), h);
            return -1;
        }
    for (const char *q = colon + 1; *q; q++)
        if ((unsigned char)*q < ' ' || *q == 127) {
            snprintf(err, errlen, "header '%.*s': no control characters in the value", (int)(colon - h), h);
            return -1;
        }
    /* every ${VAR} must be set now, so a run never starts with half a header */
    for (const char *q = strstr(colon, "${"); q; q = strstr(q + 2, "${")) {
        const char *e = strchr(q, '}');
        char var[128];
        size_t n = e ? (size_t)(e - q - 2) : 0;
        if (!e || n == 0 || n >= sizeof var) {
            snprintf(err, errlen, "header '%.*s': expected ${NAME}", (int)(colon - h), h);
            return -1;
        }
        memcpy(var, q + 2, n);
        var[n] = '\0';
        if (!getenv(var)) {
            snprintf(err, errlen, "header '%.*s': environment variable %s is not set", (int)(colon - h), h, var);
            return -1;
        }
    }
    return 0;
}

int scenario_pusher_cred(const char *what, const char *v, const char *env, char *buf, size_t cap, char *err,
                         size_t errlen)
{
    const char *val = v, *from = NULL;
    char var[128];
    if (!v) {
        val = getenv(env);
        from = env;
        if (!val || !val[0]) {
            snprintf(err, errlen, "protocol pusher needs target.%s or the environment variable %s", what, env);
            return -1;
        }
    } else if (v[0] == '$' && v[1] == '{') {
        size_t n = strlen(v);
        if (n < 4 || n - 3 >= sizeof var || v[n - 1] != '}') {
            snprintf(err, errlen, "target.%s: expected ${NAME}", what);
            return -1;
        }
        memcpy(var, v + 2, n - 3);
        var[n - 3] = '\0';
        val = getenv(var);
        from = var;
        if (!val || !val[0]) {
            snprintf(err, errlen, "target.%s: environment variable %s is not set", what, var);
            return -1;
        }
    }
    size_t n = strlen(val);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)val[i] < ' ' || val[i] == 127) {
            snprintf(err, errlen, "target.%s%s%s: holds a control character", what, from ? " from " : "",
                     from ? from : "");
            return -1;
        }
    if (n >= cap || n > 63) {
        snprintf(err, errlen, "target.%s%s%s: longer than 63 bytes", what, from ? " from " : "", from ? from : "");
        return -1;
    }
    memcpy(buf, val, n + 1);
    return 0;
}

int scenario_pusher_credentials(const scenario *s, char *app_id, size_t idcap, char *key, size_t keycap,
                                char *secret, size_t seccap, char *err, size_t errlen)
{
    if (scenario_pusher_cred("app_id", s->target.app_id, "PUSHER_APP_ID", app_id, idcap, err, errlen) < 0 ||
        scenario_pusher_cred("key", s->target.key, "PUSHER_KEY", key, keycap, err, errlen) < 0 ||
        scenario_pusher_cred("secret", s->target.secret, "PUSHER_SECRET", secret, seccap, err, errlen) < 0)
        return -1;
    return 0;
}

int scenario_expand_headers(const scenario *s, char *buf, size_t cap, char *err, size_t errlen)
{
    size_t n = 0;
    if (cap)
        buf[0] = '\0';
    for (size_t i = 0; i < s->target.nheaders; i++) {
        for (const char *q = s->target.headers[i]; *q;) {
            const char *val = q;
            size_t vl = 1, skip = 1;
            if (q[0] == '$' && q[1] == '{' && strchr(q, '}')) {
                const char *e = strchr(q, '}');
                char var[128];
                size_t k = (size_t)(e - q - 2);
                if (k == 0 || k >= sizeof var) {
                    snprintf(err, errlen, "target.headers[%zu]: expected ${NAME}", i);
                    return -1;
                }
                memcpy(var, q + 2, k);
                var[k] = '\0';
                val = getenv(var);
                if (!val) {
                    snprintf(err, errlen, "target.headers[%zu]: environment variable %s is not set", i, var);
                    return -1;
                }
                for (const char *v = val; *v; v++)
                    if ((unsigned char)*v < ' ' || *v == 127) {
                        snprintf(err, errlen, "target.headers[%zu]: environment variable %s holds a control character",
                                 i, var);
                        return -1;
                    }
                vl = strlen(val);
                skip = k + 3;
            }
            if (n + vl + 3 > cap) {
                snprintf(err, errlen, "target.headers: longer than %zu bytes once expanded", cap - 1);
                return -1;
            }
            memcpy(buf + n, val, vl);
            n += vl;
            q += skip;
        }
        memcpy(buf + n, "\r\n", 3);
        n += 2;
    }
    return 0;
}

