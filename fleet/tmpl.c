/* tmpl.c — text templates with {name} placeholders: one expander driven by a table of name → value (tmpl.h). */
#include "tmpl.h"

#include <stdint.h>
#include <string.h>

/* Written by hand: the templates are a few hundred bytes of JSON or a URL
 * with single-word fields, and the libraries at hand (jansson, libyaml)
 * have no text substitution; a general engine would also expand what JSON
 * text holds. */

static int unreserved(unsigned char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ||
           ch == '.' || ch == '_' || ch == '~' || ch == ':';
}

int tmpl_pct_encode(const char *s, size_t len, char *buf, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        int keep = unreserved(ch);
        if (n + (keep ? 1 : 3) >= cap)
            return -1;
        if (keep) {
            buf[n++] = (char)ch;
        } else {
            buf[n++] = '%';
            buf[n++] = hex[ch >> 4];
            buf[n++] = hex[ch & 15];
        }
    }
    if (n >= cap)
        return -1;
    buf[n] = '\0';
    return (int)n;
}

/* The var whose "{name}" starts at p (p[0] == '{'), or -1. */
static int var_at(const char *p, const tmpl_var *vars, size_t nvars, uint32_t used)
{
    for (size_t i = 0; i < nvars; i++) {
        size_t nl = strlen(vars[i].name);
        if (!strncmp(p + 1, vars[i].name, nl) && p[1 + nl] == '}' && !(vars[i].once && (used >> i & 1u)))
            return (int)i;
    }
    return -1;
}

int tmpl_expand(const char *tmpl, const tmpl_var *vars, size_t nvars, char *buf, size_t cap)
{
    if (nvars > 32 || cap == 0)
        return -1;
    uint32_t used = 0; /* bit i: vars[i] was replaced once */
    size_t n = 0;
    for (const char *p = tmpl; *p;) {
        int v = *p == '{' ? var_at(p, vars, nvars, used) : -1;
        if (v < 0) {
            if (n + 1 >= cap)
                return -1;
            buf[n++] = *p++;
            continue;
        }
        const tmpl_var *x = &vars[v];
        size_t vl = x->len == TMPL_STRLEN ? strlen(x->value) : x->len;
        if (x->esc == TMPL_PCT) {
            int w = tmpl_pct_encode(x->value, vl, buf + n, cap - n);
            if (w < 0)
                return -1;
            n += (size_t)w;
        } else {
            if (n + vl >= cap)
                return -1;
            memcpy(buf + n, x->value, vl);
            n += vl;
        }
        used |= 1u << v;
        p += strlen(x->name) + 2;
    }
    buf[n] = '\0';
    return (int)n;
}

int tmpl_each_field(const char *tmpl, size_t max_len, int (*fn)(const char *name, size_t len, void *ud), void *ud)
{
    for (const char *p = strchr(tmpl, '{'); p; p = strchr(p + 1, '{')) {
        const char *e = strchr(p, '}');
        size_t len = e ? (size_t)(e - p - 1) : 0;
        /* a "{" that opens JSON (followed by a quote, a space, a brace) is
         * not a field */
        if (!e || len == 0 || len > max_len || strcspn(p + 1, "\" {}:,[]") != len)
            continue;
        int r = fn(p + 1, len, ud);
        if (r)
            return r;
    }
    return 0;
}
