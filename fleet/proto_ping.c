/* proto_ping.c — the templated pings of JSON-over-WebSocket services (ws-json): which inbound message is the server's ping (ping_match), the pong that answers it (values copied from the ping), and the client's own pings; read with jansson, as such services re-encode their JSON freely. */
#include "proto.h"
#include "tmpl.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct chk {
    const char *what;
    char *err;
    size_t errlen;
} chk;

static int dotpath_ok(const char *s, size_t n)
{
    if (n == 0 || s[0] == '.' || s[n - 1] == '.')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '.' && i + 1 < n && s[i + 1] == '.')
            return 0;
    return 1;
}

static int pong_field(const char *name, size_t len, void *ud)
{
    chk *c = ud;
    if ((len == 4 && !memcmp(name, "ping", 4)) || (len > 5 && !memcmp(name, "ping.", 5) && dotpath_ok(name + 5, len - 5)))
        return 0;
    char head[64];
    size_t hl = strcspn(name, ".");
    if (hl > len)
        hl = len;
    memcpy(head, name, hl);
    head[hl] = '\0';
    if (strcmp(head, "ping") != 0 && proto_edit_distance(head, "ping") <= 2)
        snprintf(c->err, c->errlen, "%s: unknown field '{%.*s}' (did you mean '{ping%.*s}'?)", c->what, (int)len, name,
                 (int)(len - hl), name + hl);
    else
        snprintf(c->err, c->errlen,
                 "%s: unknown field '{%.*s}': a pong takes {ping} (the whole ping) or {ping.PATH} (a value of it, "
                 "e.g. {ping.id})",
                 c->what, (int)len, name);
    return -1;
}

static int ping_field(const char *name, size_t len, void *ud)
{
    chk *c = ud;
    if (len == 1 && name[0] == 'n')
        return 0;
    snprintf(c->err, c->errlen, "%s: unknown field '{%.*s}': a ping takes {n} (1, 2, 3, … per connection)", c->what,
             (int)len, name);
    return -1;
}

int proto_check_pong(const char *what, const char *tmpl, char *err, size_t errlen)
{
    chk c = {what, err, errlen};
    return tmpl_each_field(tmpl, 63, pong_field, &c) ? -1 : 0;
}

int proto_check_ping(const char *what, const char *tmpl, char *err, size_t errlen)
{
    chk c = {what, err, errlen};
    return tmpl_each_field(tmpl, 63, ping_field, &c) ? -1 : 0;
}

int proto_check_ping_match(const char *what, const char *match, char *err, size_t errlen)
{
    json_error_t je;
    json_t *j = json_loads(match, 0, &je);
    int ok = json_is_object(j);
    json_decref(j);
    if (!ok)
        snprintf(err, errlen, "%s '%s': expected a JSON object whose members a ping holds, like {\"type\":\"ping\"}",
                 what, match);
    return ok ? 0 : -1;
}

int proto_ping_matches(const char *match, const char *msg, size_t len)
{
    /* cheap refusal first: a message shorter than the pattern cannot hold it */
    if (len + 2 < strlen(match) || len == 0 || msg[0] != '{')
        return 0;
    json_t *m = json_loads(match, 0, NULL), *j = json_loadb(msg, len, 0, NULL);
    int ok = json_is_object(m) && json_is_object(j);
    if (ok && json_object_size(m) == 0)
        ok = json_object_size(j) == 0;
    const char *k;
    json_t *v;
    if (ok)
        json_object_foreach(m, k, v) {
            if (!json_equal(v, json_object_get(j, k))) {
                ok = 0;
                break;
            }
        }
    json_decref(m);
    json_decref(j);
    return ok;
}

/* The value at a dot path (object keys; a decimal segment indexes an array). */
static json_t *at_path(json_t *j, const char *path, size_t n)
{
    while (j && n) {
        size_t k = 0;
        while (k < n && path[k] != '.')
            k++;
        char key[64];
        if (k >= sizeof key)
            return NULL;
        memcpy(key, path, k);
        key[k] = '\0';
        if (json_is_array(j) && k && strspn(key, "0123456789") == k)
            j = json_array_get(j, (size_t)strtoull(key, NULL, 10));
        else
            j = json_object_get(j, key);
        path += k + (k < n);
        n -= k + (k < n);
    }
    return j;
}

int proto_render_pong(const char *tmpl, const char *msg, size_t len, char *buf, size_t cap)
{
    json_t *ping = json_loadb(msg, len, 0, NULL);
    size_t n = 0;
    int rc = 0;
    for (const char *p = tmpl; *p && rc == 0;) {
        const char *e = *p == '{' ? strchr(p, '}') : NULL;
        size_t fl = e ? (size_t)(e - p - 1) : 0;
        int field = e && fl >= 4 && fl <= 63 && strcspn(p + 1, "\" {}:,[]") == fl && !strncmp(p + 1, "ping", 4) &&
                    (fl == 4 || p[5] == '.');
        if (!field) {
            if (n + 1 >= cap)
                rc = -1;
            else
                buf[n++] = *p++;
            continue;
        }
        char *val = NULL;
        if (fl == 4) {
            val = strndup(msg, len);
        } else {
            json_t *v = at_path(ping, p + 6, fl - 5);
            val = json_dumps(v ? v : json_null(), JSON_COMPACT | JSON_ENCODE_ANY);
        }
        size_t vl = val ? strlen(val) : 0;
        if (!val || n + vl >= cap)
            rc = -1;
        else
            memcpy(buf + n, val, vl), n += vl;
        free(val);
        p = e + 1;
    }
    json_decref(ping);
    if (rc < 0 || n >= cap)
        return -1;
    buf[n] = '\0';
    return (int)n;
}

int proto_render_ping(const char *tmpl, uint64_t num, char *buf, size_t cap)
{
    char nb[24];
    snprintf(nb, sizeof nb, "%llu", (unsigned long long)num);
    const tmpl_var v = {"n", nb, TMPL_STRLEN, TMPL_RAW, 0};
    return tmpl_expand(tmpl, &v, 1, buf, cap);
}
