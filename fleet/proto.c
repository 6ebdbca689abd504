/* proto.c — the protocol adapters' registry and the helpers they share (paths with {ch}, percent-encoding, resume promises). */
#include "proto.h"
#include "tmpl.h"

#include <stdio.h>
#include <string.h>

static const proto *const registry[] = {&proto_v1, &proto_nchan, &proto_sse, &proto_ws_json, &proto_socketio,
                                      &proto_pusher};
const char *const proto_name_list[] = {"v1", "nchan", "sse", "ws-json", "socketio", "pusher"};
const size_t proto_count = sizeof registry / sizeof *registry;

const proto *proto_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < sizeof registry / sizeof *registry; i++)
        if (strcmp(registry[i]->name, name) == 0)
            return registry[i];
    return NULL;
}

const char *proto_names(void)
{
    return "v1, nchan, sse, ws-json, socketio, pusher";
}

const char *proto_resume_str(proto_resume r)
{
    switch (r) {
    case PROTO_RESUME_SEQ_EPOCH: return "seq_epoch";
    case PROTO_RESUME_BUFFER: return "within_buffer";
    case PROTO_RESUME_OFFSET: return "offset";
    case PROTO_RESUME_NONE: return "none";
    }
    return "?";
}

int proto_pct_encode(const char *s, char *buf, size_t cap)
{
    return tmpl_pct_encode(s, strlen(s), buf, cap);
}

int proto_expand_path(const char *path, const char *ch, char *buf, size_t cap)
{
    if (strstr(path, "{ch}")) {
        const tmpl_var v = {"ch", ch, TMPL_STRLEN, TMPL_PCT, 1};
        return tmpl_expand(path, &v, 1, buf, cap);
    }
    /* no {ch}: the channel is appended as the last path segment */
    int k = snprintf(buf, cap, "%s%s", path, path[0] && path[strlen(path) - 1] == '/' ? "" : "/");
    if (k < 0 || (size_t)k >= cap)
        return -1;
    int w = tmpl_pct_encode(ch, strlen(ch), buf + k, cap - (size_t)k);
    return w < 0 ? -1 : k + w;
}

int proto_check_path(const char *what, const char *path, char *err, size_t errlen)
{
    if (path[0] != '/') {
        snprintf(err, errlen, "%s '%s': expected a path starting with '/', like /sub/{ch}", what, path);
        return -1;
    }
    if (strlen(path) >= PROTO_PATH_MAX) {
        snprintf(err, errlen, "%s: at most %d bytes", what, PROTO_PATH_MAX - 1);
        return -1;
    }
    for (const char *q = path; *q; q++)
        if ((unsigned char)*q <= ' ' || *q == 127) {
            snprintf(err, errlen, "%s '%s': no spaces or control characters allowed", what, path);
            return -1;
        }
    const char *p = strstr(path, "{ch}");
    if (!p) {
        snprintf(err, errlen, "%s '%s': expected '{ch}' where the channel name goes, like /sub/{ch}", what, path);
        return -1;
    }
    if (strstr(p + 4, "{ch}")) {
        snprintf(err, errlen, "%s '%s': '{ch}' may appear once", what, path);
        return -1;
    }
    const char *brace = strchr(path, '{');
    while (brace) {
        if (strncmp(brace, "{ch}", 4) != 0) {
            snprintf(err, errlen, "%s '%s': unknown field '%.*s' (only {ch} is known)", what, path,
                     (int)(strcspn(brace, "}") + (strchr(brace, '}') ? 1 : 0)), brace);
            return -1;
        }
        brace = strchr(brace + 4, '{');
    }
    return 0;
}

int proto_render_body(const char *tmpl, const char *payload, size_t payload_len, const char *ch, char *buf,
                      size_t cap)
{
    const tmpl_var v[] = {{"payload", payload, payload_len, TMPL_RAW, 0}, {"ch", ch, TMPL_STRLEN, TMPL_RAW, 0}};
    return tmpl_expand(tmpl[0] ? tmpl : "{payload}", v, 2, buf, cap);
}

/* Levenshtein distance of two short strings (for did-you-mean). */
size_t proto_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 31 || lb > 31)
        return 99;
    size_t d[32][32];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            size_t del = d[i - 1][j] + 1, ins = d[i][j - 1] + 1;
            d[i][j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
    return d[la][lb];
}

typedef struct tmpl_check {
    const char *what;
    const char *const *allowed;
    size_t nallowed;
    char *err;
    size_t errlen;
} tmpl_check;

/* One field of a template: one of the allowed names, else an error with
 * a did-you-mean. */
static int check_field(const char *name, size_t len, void *ud)
{
    tmpl_check *c = ud;
    char nm[32];
    memcpy(nm, name, len);
    nm[len] = '\0';
    size_t best = 0, bestd = 99;
    for (size_t i = 0; i < c->nallowed; i++) {
        if (!strcmp(nm, c->allowed[i]))
            return 0;
        size_t d = proto_edit_distance(nm, c->allowed[i]);
        if (d < bestd)
            bestd = d, best = i;
    }
    if (bestd <= 2)
        snprintf(c->err, c->errlen, "%s: unknown field '{%s}' (did you mean '{%s}'?)", c->what, nm, c->allowed[best]);
    else
        snprintf(c->err, c->errlen, "%s: unknown field '{%s}'", c->what, nm);
    return -1;
}

int proto_check_template(const char *what, const char *tmpl, const char *const *allowed, size_t nallowed,
                         const char *const *required, size_t nrequired, char *err, size_t errlen)
{
    tmpl_check c = {what, allowed, nallowed, err, errlen};
    if (tmpl_each_field(tmpl, 31, check_field, &c))
        return -1;
    for (size_t k = 0; k < nrequired; k++) {
        char f[40];
        snprintf(f, sizeof f, "{%s}", required[k]);
        const char *p = strstr(tmpl, f);
        if (!p) {
            snprintf(err, errlen, "%s: expected '%s' where it goes", what, f);
            return -1;
        }
        if (strstr(p + strlen(f), f)) {
            snprintf(err, errlen, "%s: '%s' may appear once", what, f);
            return -1;
        }
    }
    return 0;
}

int proto_render_sub(const char *tmpl, const char *ch, uint64_t offset, char *buf, size_t cap)
{
    char off[24];
    snprintf(off, sizeof off, "%llu", (unsigned long long)offset);
    const tmpl_var v[] = {{"ch", ch, TMPL_STRLEN, TMPL_RAW, 0}, {"offset", off, TMPL_STRLEN, TMPL_RAW, 0}};
    return tmpl_expand(tmpl, v, 2, buf, cap);
}

int proto_check_plain_path(const char *what, const char *path, char *err, size_t errlen)
{
    if (path[0] != '/' || strlen(path) >= PROTO_PATH_MAX) {
        snprintf(err, errlen, "%s '%s': expected a path starting with '/' (at most %d bytes), like /connection/websocket",
                 what, path, PROTO_PATH_MAX - 1);
        return -1;
    }
    for (const char *q = path; *q; q++)
        if ((unsigned char)*q <= ' ' || *q == 127 || *q == '{' || *q == '}') {
            snprintf(err, errlen, "%s '%s': one location for every channel: no fields, spaces or control characters",
                     what, path);
            return -1;
        }
    return 0;
}
