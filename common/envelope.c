/* envelope.c — wire contract v1 envelope: zero-copy scanner and formatters.
 *
 * The scanner is a small validating JSON reader written by hand (see the
 * contract in envelope.h for why not jansson): it decodes only the top-level
 * keys the contract defines and skips everything else without allocating. */
#include "envelope.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define SCAN_MAX_DEPTH 64

typedef struct scanner {
    const char *p, *end;
    char *err;
    size_t errlen;
} scanner;

static int fail(scanner *s, const char *what)
{
    if (s->errlen)
        snprintf(s->err, s->errlen, "%s", what);
    return -1;
}

static void skip_ws(scanner *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int read_hex4(scanner *s, unsigned *out)
{
    if (s->end - s->p < 4)
        return fail(s, "truncated \\u escape");
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(s->p[i]);
        if (h < 0)
            return fail(s, "bad \\u escape");
        v = (v << 4) | (unsigned)h;
    }
    s->p += 4;
    *out = v;
    return 0;
}

/* Appends byte c to out[*n] when there is room; counts it either way so the
 * caller can tell the decoded string was too long. */
static inline void put(char *out, size_t cap, size_t *n, char c)
{
    if (out && *n < cap)
        out[*n] = c;
    (*n)++;
}

/* Reads a JSON string at s->p (which must be '"'). Decodes it into out (cap
 * bytes, NUL-terminated when it fits) if out is non-NULL; *len gets the decoded
 * length (possibly > cap: the caller decides whether that is an error). */
static int read_string(scanner *s, char *out, size_t cap, size_t *len)
{
    size_t n = 0;
    if (s->p >= s->end || *s->p != '"')
        return fail(s, "expected a string");
    s->p++;
    for (;;) {
        if (s->p >= s->end)
            return fail(s, "unterminated string");
        unsigned char c = (unsigned char)*s->p++;
        if (c == '"')
            break;
        if (c < 0x20)
            return fail(s, "control character in string");
        if (c != '\\') {
            put(out, cap, &n, (char)c);
            continue;
        }
        if (s->p >= s->end)
            return fail(s, "unterminated string");
        char e = *s->p++;
        switch (e) {
        case '"': case '\\': case '/': put(out, cap, &n, e); break;
        case 'b': put(out, cap, &n, '\b'); break;
        case 'f': put(out, cap, &n, '\f'); break;
        case 'n': put(out, cap, &n, '\n'); break;
        case 'r': put(out, cap, &n, '\r'); break;
        case 't': put(out, cap, &n, '\t'); break;
        case 'u': {
            unsigned cp;
            if (read_hex4(s, &cp))
                return -1;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                unsigned lo;
                if (s->end - s->p < 2 || s->p[0] != '\\' || s->p[1] != 'u')
                    return fail(s, "unpaired surrogate in \\u escape");
                s->p += 2;
                if (read_hex4(s, &lo))
                    return -1;
                if (lo < 0xDC00 || lo > 0xDFFF)
                    return fail(s, "unpaired surrogate in \\u escape");
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                return fail(s, "unpaired surrogate in \\u escape");
            }
            if (cp == 0)
                return fail(s, "\\u0000 in string");
            if (cp < 0x80) {
                put(out, cap, &n, (char)cp);
            } else if (cp < 0x800) {
                put(out, cap, &n, (char)(0xC0 | (cp >> 6)));
                put(out, cap, &n, (char)(0x80 | (cp & 0x3F)));
            } else if (cp < 0x10000) {
                put(out, cap, &n, (char)(0xE0 | (cp >> 12)));
                put(out, cap, &n, (char)(0x80 | ((cp >> 6) & 0x3F)));
                put(out, cap, &n, (char)(0x80 | (cp & 0x3F)));
            } else {
                put(out, cap, &n, (char)(0xF0 | (cp >> 18)));
                put(out, cap, &n, (char)(0x80 | ((cp >> 12) & 0x3F)));
                put(out, cap, &n, (char)(0x80 | ((cp >> 6) & 0x3F)));
                put(out, cap, &n, (char)(0x80 | (cp & 0x3F)));
            }
            break;
        }
        default:
            return fail(s, "bad escape in string");
        }
    }
    if (out && n < cap)
        out[n] = '\0';
    else if (out && cap)
        out[cap - 1] = '\0';
    if (len)
        *len = n;
    return 0;
}

/* Checks the JSON number grammar at s->p and advances past it. *is_int is set
 * when it has no fraction and no exponent. */
static int skip_number(scanner *s, int *is_int)
{
    const char *p = s->p;
    *is_int = 1;
    if (p < s->end && *p == '-')
        p++;
    if (p >= s->end)
        return fail(s, "bad number");
    if (*p == '0') {
        p++;
    } else if (*p >= '1' && *p <= '9') {
        while (p < s->end && *p >= '0' && *p <= '9')
            p++;
    } else {
        return fail(s, "bad number");
    }
    if (p < s->end && *p == '.') {
        *is_int = 0;
        p++;
        if (p >= s->end || *p < '0' || *p > '9')
            return fail(s, "bad number");
        while (p < s->end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < s->end && (*p == 'e' || *p == 'E')) {
        *is_int = 0;
        p++;
        if (p < s->end && (*p == '+' || *p == '-'))
            p++;
        if (p >= s->end || *p < '0' || *p > '9')
            return fail(s, "bad number");
        while (p < s->end && *p >= '0' && *p <= '9')
            p++;
    }
    s->p = p;
    return 0;
}

static int match_lit(scanner *s, const char *lit)
{
    size_t n = strlen(lit);
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, lit, n) != 0)
        return fail(s, "bad literal");
    s->p += n;
    return 0;
}

static int skip_value(scanner *s, int depth)
{
    skip_ws(s);
    if (s->p >= s->end)
        return fail(s, "unexpected end of input");
    if (depth > SCAN_MAX_DEPTH)
        return fail(s, "nesting too deep");
    char c = *s->p;
    if (c == '"')
        return read_string(s, NULL, 0, NULL);
    if (c == '{' || c == '[') {
        char close = c == '{' ? '}' : ']';
        s->p++;
        skip_ws(s);
        if (s->p < s->end && *s->p == close) {
            s->p++;
            return 0;
        }
        for (;;) {
            if (c == '{') {
                skip_ws(s);
                if (read_string(s, NULL, 0, NULL))
                    return -1;
                skip_ws(s);
                if (s->p >= s->end || *s->p != ':')
                    return fail(s, "expected ':' after object key");
                s->p++;
            }
            if (skip_value(s, depth + 1))
                return -1;
            skip_ws(s);
            if (s->p >= s->end)
                return fail(s, "unexpected end of input");
            if (*s->p == ',') {
                s->p++;
                continue;
            }
            if (*s->p == close) {
                s->p++;
                return 0;
            }
            return fail(s, c == '{' ? "expected ',' or '}' in object" : "expected ',' or ']' in array");
        }
    }
    if (c == 't')
        return match_lit(s, "true");
    if (c == 'f')
        return match_lit(s, "false");
    if (c == 'n')
        return match_lit(s, "null");
    int is_int;
    return skip_number(s, &is_int);
}

static int is_null(scanner *s)
{
    if (s->end - s->p >= 4 && memcmp(s->p, "null", 4) == 0) {
        s->p += 4;
        return 1;
    }
    return 0;
}

/* Reads a JSON integer (no fraction/exponent) into *out. */
static int read_int(scanner *s, const char *key, int allow_negative, int64_t *out)
{
    char msg[96];
    const char *start = s->p;
    int is_int;
    if (skip_number(s, &is_int) || !is_int || (!allow_negative && *start == '-')) {
        snprintf(msg, sizeof msg, "\"%s\": expected %s integer", key,
                 allow_negative ? "an" : "a non-negative");
        return fail(s, msg);
    }
    int neg = *start == '-';
    uint64_t v = 0;
    for (const char *p = start + neg; p < s->p; p++) {
        uint64_t d = (uint64_t)(*p - '0');
        if (v > (UINT64_MAX - d) / 10 || v * 10 + d > (uint64_t)INT64_MAX + (uint64_t)neg) {
            snprintf(msg, sizeof msg, "\"%s\": integer out of range", key);
            return fail(s, msg);
        }
        v = v * 10 + d;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

static int read_str_field(scanner *s, const char *key, char *out, size_t cap)
{
    char msg[96];
    size_t len;
    if (s->p >= s->end || *s->p != '"') {
        snprintf(msg, sizeof msg, "\"%s\": expected a string", key);
        return fail(s, msg);
    }
    if (read_string(s, out, cap + 1, &len))
        return -1;
    if (len > cap) {
        snprintf(msg, sizeof msg, "\"%s\": longer than %zu bytes", key, cap);
        return fail(s, msg);
    }
    return 0;
}

/* Iterates the members of the object at s->p, calling member() with each
 * decoded key (keys longer than 15 bytes are passed as ""). */
typedef int (*member_fn)(scanner *s, const char *key, void *ctx);

static int scan_object(scanner *s, member_fn member, void *ctx)
{
    skip_ws(s);
    if (s->p >= s->end || *s->p != '{')
        return fail(s, "expected a JSON object");
    s->p++;
    skip_ws(s);
    if (s->p < s->end && *s->p == '}') {
        s->p++;
        return 0;
    }
    for (;;) {
        char key[16];
        size_t klen;
        skip_ws(s);
        if (read_string(s, key, sizeof key, &klen))
            return -1;
        if (klen >= sizeof key)
            key[0] = '\0';
        skip_ws(s);
        if (s->p >= s->end || *s->p != ':')
            return fail(s, "expected ':' after object key");
        s->p++;
        skip_ws(s);
        if (s->p >= s->end)
            return fail(s, "unexpected end of input");
        if (member(s, key, ctx))
            return -1;
        skip_ws(s);
        if (s->p >= s->end)
            return fail(s, "unexpected end of input");
        if (*s->p == ',') {
            s->p++;
            continue;
        }
        if (*s->p == '}') {
            s->p++;
            return 0;
        }
        return fail(s, "expected ',' or '}' in object");
    }
}

static int envelope_member(scanner *s, const char *key, void *ctx)
{
    envelope *e = ctx;
    int64_t v;
    if (strcmp(key, "data") == 0) {
        const char *start = s->p;
        if (skip_value(s, 1))
            return -1;
        e->data = start;
        e->data_len = (size_t)(s->p - start);
        return 0;
    }
    if (is_null(s))
        return 0;
    if (strcmp(key, "type") == 0) {
        size_t len;
        if (*s->p != '"')
            return fail(s, "\"type\": expected a string");
        if (read_string(s, e->type_str, sizeof e->type_str, &len))
            return -1;
        e->type = len < sizeof e->type_str ? envelope_type_from_str(e->type_str, len) : ENV_T_UNKNOWN;
        return 0;
    }
    if (strcmp(key, "ch") == 0)
        return read_str_field(s, "ch", e->ch, ENV_CH_MAX);
    if (strcmp(key, "epoch") == 0)
        return read_str_field(s, "epoch", e->epoch, ENV_EPOCH_MAX);
    if (strcmp(key, "code") == 0)
        return read_str_field(s, "code", e->code, ENV_CODE_MAX);
    if (strcmp(key, "seq") == 0) {
        if (read_int(s, "seq", 0, &v))
            return -1;
        e->seq = (uint64_t)v;
        e->has_seq = 1;
        return 0;
    }
    if (strcmp(key, "ts") == 0) {
        if (read_int(s, "ts", 1, &v))
            return -1;
        e->ts_us = v;
        return 0;
    }
    if (strcmp(key, "recovered") == 0) {
        if (*s->p == 't' && match_lit(s, "true") == 0) {
            e->recovered = 1;
            return 0;
        }
        if (*s->p == 'f' && match_lit(s, "false") == 0) {
            e->recovered = 0;
            return 0;
        }
        return fail(s, "\"recovered\": expected true or false");
    }
    if (strcmp(key, "delta") == 0) {
        /* "merge-patch" (1); any other value is a delta form this scanner
         * does not know (2): the caller cannot rebuild from it */
        char d[16];
        size_t len;
        e->delta = 2;
        if (*s->p != '"')
            return skip_value(s, 1);
        if (read_string(s, d, sizeof d, &len))
            return -1;
        if (len == 11 && memcmp(d, "merge-patch", 11) == 0)
            e->delta = 1;
        return 0;
    }
    if (strcmp(key, "msg") == 0) {
        const char *start = s->p;
        if (read_string(s, NULL, 0, NULL))
            return fail(s, "\"msg\": expected a string");
        e->msg = start;
        e->msg_len = (size_t)(s->p - start);
        return 0;
    }
    return skip_value(s, 1);
}

typedef struct gap_ctx {
    int64_t from, to;
    int has_from, has_to;
} gap_ctx;

static int gap_member(scanner *s, const char *key, void *ctx)
{
    gap_ctx *g = ctx;
    if (strcmp(key, "from") == 0) {
        g->has_from = 1;
        return read_int(s, "data.from", 0, &g->from);
    }
    if (strcmp(key, "to") == 0) {
        g->has_to = 1;
        return read_int(s, "data.to", 0, &g->to);
    }
    return skip_value(s, 2);
}

int envelope_scan(const char *buf, size_t len, envelope *out, char *err, size_t errlen)
{
    scanner s = {buf, buf + len, err, errlen};
    memset(out, 0, sizeof *out);
    out->recovered = -1;
    if (scan_object(&s, envelope_member, out))
        return -1;
    skip_ws(&s);
    if (s.p != s.end)
        return fail(&s, "trailing data after the JSON object");
    if (out->type == ENV_T_GAP) {
        gap_ctx g = {0};
        /* checked before the scanner is set up: NULL + 0 is undefined behaviour */
        if (!out->data)
            return fail(&s, "gap: data.from and data.to are required");
        scanner d = {out->data, out->data + out->data_len, err, errlen};
        if (scan_object(&d, gap_member, &g))
            return -1;
        if (!g.has_from || !g.has_to)
            return fail(&s, "gap: data.from and data.to are required");
        if (g.from > g.to)
            return fail(&s, "gap: data.from is after data.to");
        out->gap_from = (uint64_t)g.from;
        out->gap_to = (uint64_t)g.to;
    }
    return 0;
}

static const char *const type_names[] = {
    [ENV_T_UNKNOWN] = "unknown", [ENV_T_EVENT] = "event",           [ENV_T_SNAPSHOT] = "snapshot",
    [ENV_T_GAP] = "gap",         [ENV_T_SUBSCRIBED] = "subscribed", [ENV_T_ERROR] = "error",
    [ENV_T_PONG] = "pong",
};

env_type envelope_type_from_str(const char *str, size_t len)
{
    for (int t = ENV_T_EVENT; t <= ENV_T_PONG; t++) {
        if (strlen(type_names[t]) == len && memcmp(type_names[t], str, len) == 0)
            return (env_type)t;
    }
    return ENV_T_UNKNOWN;
}

const char *envelope_type_str(env_type t)
{
    if ((unsigned)t > ENV_T_PONG)
        return "unknown";
    return type_names[t];
}

/* ---- formatting ----------------------------------------------------------- */

typedef struct writer {
    char *buf;
    size_t cap, n;
    int overflow;
} writer;

static void w_raw(writer *w, const char *s, size_t len)
{
    if (w->overflow || w->n + len >= w->cap) {
        w->overflow = 1;
        return;
    }
    memcpy(w->buf + w->n, s, len);
    w->n += len;
    w->buf[w->n] = '\0';
}

static void w_str(writer *w, const char *s)
{
    w_raw(w, s, strlen(s));
}

static void w_json_str(writer *w, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    w_raw(w, "\"", 1);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            w_raw(w, esc, 2);
        } else if (c < 0x20) {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            w_raw(w, esc, 6);
        } else {
            w_raw(w, (const char *)&s[i], 1);
        }
    }
    w_raw(w, "\"", 1);
}

static void w_fmt(writer *w, const char *fmt, uint64_t v, int is_signed)
{
    /* Room for the longest literal prefix used with it (",\"type\":\"gap\",
     * \"data\":{\"from\":", 29 bytes) plus 20 digits; never copy past what
     * snprintf wrote. */
    char tmp[96];
    int n = is_signed ? snprintf(tmp, sizeof tmp, fmt, (int64_t)v) : snprintf(tmp, sizeof tmp, fmt, v);
    if (n < 0 || (size_t)n >= sizeof tmp) {
        w->overflow = 1;
        return;
    }
    w_raw(w, tmp, (size_t)n);
}

static int w_done(writer *w)
{
    return w->overflow ? -1 : (int)w->n;
}

int envelope_json_str(char *buf, size_t cap, const char *s, size_t len)
{
    writer w = {buf, cap, 0, cap == 0};
    w_json_str(&w, s, len);
    return w_done(&w);
}

int envelope_format(char *buf, size_t cap, env_type type, const char *ch, uint64_t seq,
                    int64_t ts_us, const char *epoch, const char *data, size_t data_len)
{
    writer w = {buf, cap, 0, cap == 0};
    w_str(&w, "{\"ch\":");
    w_json_str(&w, ch, strlen(ch));
    w_fmt(&w, ",\"seq\":%" PRIu64, seq, 0);
    w_fmt(&w, ",\"ts\":%" PRId64, (uint64_t)ts_us, 1);
    w_str(&w, ",\"type\":\"");
    w_str(&w, envelope_type_str(type));
    w_str(&w, "\"");
    if (epoch) {
        w_str(&w, ",\"epoch\":");
        w_json_str(&w, epoch, strlen(epoch));
    }
    w_str(&w, ",\"data\":");
    if (data)
        w_raw(&w, data, data_len);
    else
        w_str(&w, "null");
    w_str(&w, "}");
    return w_done(&w);
}

int envelope_format_gap(char *buf, size_t cap, const char *ch, uint64_t from, uint64_t to,
                        int64_t ts_us)
{
    writer w = {buf, cap, 0, cap == 0};
    w_str(&w, "{\"ch\":");
    w_json_str(&w, ch, strlen(ch));
    w_fmt(&w, ",\"seq\":%" PRIu64, to, 0);
    w_fmt(&w, ",\"ts\":%" PRId64, (uint64_t)ts_us, 1);
    w_fmt(&w, ",\"type\":\"gap\",\"data\":{\"from\":%" PRIu64, from, 0);
    w_fmt(&w, ",\"to\":%" PRIu64 "}}", to, 0);
    return w_done(&w);
}

int envelope_format_subscribed(char *buf, size_t cap, const char *ch, uint64_t head,
                               const char *epoch, int recovered)
{
    writer w = {buf, cap, 0, cap == 0};
    w_str(&w, "{\"type\":\"subscribed\",\"ch\":");
    w_json_str(&w, ch, strlen(ch));
    w_fmt(&w, ",\"seq\":%" PRIu64, head, 0);
    if (epoch) {
        w_str(&w, ",\"epoch\":");
        w_json_str(&w, epoch, strlen(epoch));
    }
    w_str(&w, recovered ? ",\"recovered\":true}" : ",\"recovered\":false}");
    return w_done(&w);
}

int envelope_format_error(char *buf, size_t cap, const char *code, const char *msg, const char *ch)
{
    writer w = {buf, cap, 0, cap == 0};
    w_str(&w, "{\"type\":\"error\",\"code\":");
    w_json_str(&w, code, strlen(code));
    w_str(&w, ",\"msg\":");
    w_json_str(&w, msg, strlen(msg));
    if (ch) {
        w_str(&w, ",\"ch\":");
        w_json_str(&w, ch, strlen(ch));
    }
    w_str(&w, "}");
    return w_done(&w);
}

int envelope_channel_valid(const char *name, size_t len)
{
    if (len == 0 || len > ENV_CH_MAX || name[0] == '.' || name[len - 1] == '.')
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '_' || c == ':' || c == '-';
        if (!ok)
            return 0;
        if (c == '.' && i + 1 < len && name[i + 1] == '.')
            return 0;
    }
    return 1;
}
