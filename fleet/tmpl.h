/* tmpl.h — text templates with {name} placeholders, expanded from a table of
 * name → value: the protocol adapters' paths and messages ({ch}, {offset},
 * {payload}, {n}), channel name patterns ({i}) and suites' drill arguments
 * ({suite_dir}, {run_dir}). */
#ifndef RTCHAOS_TMPL_H
#define RTCHAOS_TMPL_H

#include <stddef.h>

/* How a value is written into the text. */
typedef enum tmpl_esc {
    TMPL_RAW = 0, /* as it is: JSON text, a number, a name, a path */
    TMPL_PCT,     /* percent-encoded, all but unreserved bytes and ':' kept (a URL path or query) */
} tmpl_esc;

/* One placeholder: "{name}" in the template stands for value. */
typedef struct tmpl_var {
    const char *name;  /* without the braces: "ch" stands for "{ch}" */
    const char *value; /* not NUL-terminated when len is given */
    size_t len;        /* bytes of value; TMPL_STRLEN: up to its NUL */
    tmpl_esc esc;
    int once;          /* only the first "{name}" is replaced; later ones stay as written */
} tmpl_var;

#define TMPL_STRLEN ((size_t)-1)

/* Writes tmpl into buf (NUL-terminated) with each "{name}" of vars[0..nvars)
 * replaced by its value (nvars <= 32). Everything else is copied as it is:
 * an unknown "{x}", a "{" without its "}" and the braces of JSON text, and a
 * value is never expanded again. Returns the length, or -1 when the result
 * and its NUL do not fit in cap (buf then holds no meaningful text).
 * Thread-safe; writes only into buf. */
int tmpl_expand(const char *tmpl, const tmpl_var *vars, size_t nvars, char *buf, size_t cap);

/* Percent-encodes s[0..len) into buf (unreserved bytes and ':' kept, the
 * rest as %XX, upper-case hex). Returns the length, or -1 when it does not
 * fit with its NUL. */
int tmpl_pct_encode(const char *s, size_t len, char *buf, size_t cap);

/* Calls fn for each field of a template that also holds JSON: a "{"
 * followed by 1..max_len name bytes (none of `" {}:,[]`) and a "}" is a
 * field; any other "{" is JSON's. Stops at fn's first nonzero return and
 * returns it; 0 when every field was seen. */
int tmpl_each_field(const char *tmpl, size_t max_len, int (*fn)(const char *name, size_t len, void *ud), void *ud);

#endif
