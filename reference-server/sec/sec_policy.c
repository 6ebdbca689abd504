/* sec_policy.c — channel authorization rules loaded from a JSON policy file. */
#include "sec_policy.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sec_channel.h"
#include "sec_file.h"

#define PATTERN_SEGS_MAX 16
#define ROLES_PER_LIST_MAX 32
#define POLICY_FILE_MAX (1 << 20)

typedef enum seg_kind { SEG_LITERAL, SEG_ONE, SEG_REST, SEG_CLAIM } seg_kind;

typedef struct pat_seg {
    seg_kind kind;
    char *text; /* literal text, or the claim name */
    size_t len;
} pat_seg;

typedef struct role_list {
    int anyone;        /* @anyone */
    int authenticated; /* @authenticated */
    char **roles;
    int nroles;
} role_list;

typedef struct rule {
    pat_seg segs[PATTERN_SEGS_MAX];
    int nsegs;
    role_list sub, pub;
    int sensitive;
} rule;

struct sec_policy {
    rule *rules;
    int nrules;
    role_list admin;
};

const char *sec_policy_reason_str(sec_policy_reason r)
{
    switch (r) {
    case SEC_POLICY_ALLOW: return "allow";
    case SEC_POLICY_BAD_CHANNEL: return "bad_channel";
    case SEC_POLICY_NO_RULE: return "no_rule";
    case SEC_POLICY_NO_ROLE: return "no_role";
    case SEC_POLICY_ANONYMOUS: return "anonymous";
    }
    return "unknown";
}

static void role_list_free(role_list *l)
{
    for (int i = 0; i < l->nroles; i++)
        free(l->roles[i]);
    free(l->roles);
    memset(l, 0, sizeof *l);
}

void sec_policy_free(sec_policy *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->nrules; i++) {
        rule *r = &p->rules[i];
        for (int k = 0; k < r->nsegs; k++)
            free(r->segs[k].text);
        role_list_free(&r->sub);
        role_list_free(&r->pub);
    }
    free(p->rules);
    role_list_free(&p->admin);
    free(p);
}

int sec_policy_nrules(const sec_policy *p)
{
    return p ? p->nrules : 0;
}

int sec_policy_anyone(const sec_policy *p)
{
    for (int i = 0; p && i < p->nrules; i++)
        if (p->rules[i].sub.anyone || p->rules[i].pub.anyone)
            return 1;
    return 0;
}

static int seg_chars_ok(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == ':' || c == '-'))
            return 0;
    }
    return 1;
}

static int parse_pattern(rule *r, const char *pat, size_t len, const char *where, char *err,
                         size_t errlen)
{
    if (len == 0 || len > 256) {
        snprintf(err, errlen, "%s: pattern must be 1..256 bytes", where);
        return -1;
    }
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && pat[i] != '.')
            continue;
        const char *s = pat + start;
        size_t n = i - start;
        start = i + 1;
        if (r->nsegs == PATTERN_SEGS_MAX) {
            snprintf(err, errlen, "%s: more than %d segments", where, PATTERN_SEGS_MAX);
            return -1;
        }
        pat_seg *g = &r->segs[r->nsegs];
        if (r->nsegs > 0 && r->segs[r->nsegs - 1].kind == SEG_REST) {
            snprintf(err, errlen, "%s: '**' must be the last segment", where);
            return -1;
        }
        if (n == 0) {
            snprintf(err, errlen, "%s: empty segment", where);
            return -1;
        } else if (n == 1 && s[0] == '*') {
            g->kind = SEG_ONE;
        } else if (n == 2 && s[0] == '*' && s[1] == '*') {
            g->kind = SEG_REST;
        } else if (s[0] == '{' && s[n - 1] == '}') {
            g->kind = SEG_CLAIM;
            s++;
            n -= 2;
            if (!((n == 3 && memcmp(s, "sub", 3) == 0) || (n == 6 && memcmp(s, "tenant", 6) == 0))) {
                snprintf(err, errlen, "%s: unknown placeholder '{%.*s}' (known: {sub}, {tenant})",
                         where, (int)n, s);
                return -1;
            }
        } else {
            g->kind = SEG_LITERAL;
            if (n > SEC_CHANNEL_SEGMENT_MAX || !seg_chars_ok(s, n)) {
                snprintf(err, errlen,
                         "%s: segment '%.*s' is not '*', '**', '{claim}' or 1..%d of "
                         "[A-Za-z0-9_:-]",
                         where, (int)(n > 64 ? 64 : n), s, SEC_CHANNEL_SEGMENT_MAX);
                return -1;
            }
        }
        if (g->kind == SEG_LITERAL || g->kind == SEG_CLAIM) {
            if (!(g->text = strndup(s, n))) {
                snprintf(err, errlen, "out of memory");
                return -1;
            }
            g->len = n;
        }
        r->nsegs++;
    }
    return 0;
}

static int parse_roles(role_list *l, json_t *j, const char *where, char *err, size_t errlen)
{
    if (!json_is_array(j)) {
        snprintf(err, errlen, "%s: must be an array of role names", where);
        return -1;
    }
    if (json_array_size(j) > ROLES_PER_LIST_MAX) {
        snprintf(err, errlen, "%s: more than %d roles", where, ROLES_PER_LIST_MAX);
        return -1;
    }
    if (!(l->roles = calloc(json_array_size(j) + 1, sizeof *l->roles))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    size_t i;
    json_t *v;
    json_array_foreach(j, i, v)
    {
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        if (!s || n == 0 || n > SEC_ROLE_MAX || strlen(s) != n) {
            snprintf(err, errlen, "%s[%zu]: must be a role name of 1..%d bytes", where, i,
                     SEC_ROLE_MAX);
            return -1;
        }
        if (s[0] == '@') {
            if (strcmp(s, "@anyone") == 0)
                l->anyone = 1;
            else if (strcmp(s, "@authenticated") == 0)
                l->authenticated = 1;
            else {
                snprintf(err, errlen, "%s[%zu]: unknown '%s' (known: @anyone, @authenticated)",
                         where, i, s);
                return -1;
            }
            continue;
        }
        if (!(l->roles[l->nroles] = strdup(s))) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        l->nroles++;
    }
    return 0;
}

static int parse_rule(rule *r, json_t *j, size_t idx, const char *name, char *err, size_t errlen)
{
    char where[96];
    if (!json_is_object(j)) {
        snprintf(err, errlen, "%s: rules[%zu]: must be an object", name, idx);
        return -1;
    }
    const char *key;
    json_t *v;
    json_object_foreach(j, key, v)
    {
        snprintf(where, sizeof where, "%s: rules[%zu].%s", name, idx, key);
        if (strcmp(key, "channel") == 0) {
            if (!json_is_string(v)) {
                snprintf(err, errlen, "%s: must be a string", where);
                return -1;
            }
            if (parse_pattern(r, json_string_value(v), json_string_length(v), where, err,
                              errlen) < 0)
                return -1;
        } else if (strcmp(key, "subscribe") == 0) {
            if (parse_roles(&r->sub, v, where, err, errlen) < 0)
                return -1;
        } else if (strcmp(key, "publish") == 0) {
            if (parse_roles(&r->pub, v, where, err, errlen) < 0)
                return -1;
        } else if (strcmp(key, "sensitive") == 0) {
            if (!json_is_boolean(v)) {
                snprintf(err, errlen, "%s: must be true or false", where);
                return -1;
            }
            r->sensitive = json_is_true(v);
        } else if (strcmp(key, "comment") == 0) {
            /* free text for the operator */
        } else {
            snprintf(err, errlen, "%s: unknown key (known: channel, subscribe, publish, "
                     "sensitive, comment)", where);
            return -1;
        }
    }
    if (r->nsegs == 0) {
        snprintf(err, errlen, "%s: rules[%zu]: \"channel\" is required", name, idx);
        return -1;
    }
    return 0;
}

sec_policy *sec_policy_load_mem(const char *buf, size_t len, const char *name, char *err,
                                size_t errlen)
{
    json_error_t je;
    json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        snprintf(err, errlen, "%s:%d:%d: %s", name, je.line, je.column, je.text);
        return NULL;
    }
    sec_policy *p = calloc(1, sizeof *p);
    if (!p) {
        json_decref(root);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (!json_is_object(root)) {
        snprintf(err, errlen, "%s: the policy must be a JSON object", name);
        goto fail;
    }
    json_t *rules = json_object_get(root, "rules");
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v)
    {
        if (strcmp(key, "rules") == 0 || strcmp(key, "comment") == 0)
            continue;
        if (strcmp(key, "admin") == 0) {
            char where[64];
            snprintf(where, sizeof where, "%s: admin", name);
            if (parse_roles(&p->admin, v, where, err, errlen) < 0)
                goto fail;
            continue;
        }
        snprintf(err, errlen, "%s: unknown key '%s' (known: rules, admin, comment)", name, key);
        goto fail;
    }
    if (!json_is_array(rules)) {
        snprintf(err, errlen, "%s: \"rules\" must be an array", name);
        goto fail;
    }
    if (json_array_size(rules) > SEC_POLICY_RULES_MAX) {
        snprintf(err, errlen, "%s: more than %d rules", name, SEC_POLICY_RULES_MAX);
        goto fail;
    }
    if (!(p->rules = calloc(json_array_size(rules) + 1, sizeof *p->rules))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    size_t i;
    json_array_foreach(rules, i, v)
    {
        /* counted before parsing so a half-parsed rule is freed too */
        p->nrules++;
        if (parse_rule(&p->rules[i], v, i, name, err, errlen) < 0)
            goto fail;
    }
    json_decref(root);
    return p;
fail:
    json_decref(root);
    sec_policy_free(p);
    return NULL;
}

sec_policy *sec_policy_load_file(const char *path, char *err, size_t errlen)
{
    size_t n;
    char *buf = sec_file_read(path, POLICY_FILE_MAX, &n, err, errlen);
    if (!buf)
        return NULL;
    sec_policy *p = sec_policy_load_mem(buf, n, path, err, errlen);
    free(buf);
    return p;
}

/* Whether the rule's pattern matches ch with who's claims bound. */
static int rule_matches(const rule *r, const sec_principal *who, const char *ch, size_t len)
{
    size_t pos = 0;
    for (int k = 0; k < r->nsegs; k++) {
        const pat_seg *g = &r->segs[k];
        if (pos > len)
            return 0;
        if (g->kind == SEG_REST)
            return pos < len; /* one or more segments remain */
        size_t end = pos;
        while (end < len && ch[end] != '.')
            end++;
        size_t n = end - pos;
        if (n == 0)
            return 0;
        if (g->kind == SEG_LITERAL) {
            if (n != g->len || memcmp(ch + pos, g->text, n) != 0)
                return 0;
        } else if (g->kind == SEG_CLAIM) {
            const char *val = sec_principal_claim(who, g->text, g->len);
            if (!val || !sec_principal_segment_valid(val, strlen(val), SEC_CHANNEL_SEGMENT_MAX) ||
                strlen(val) != n || memcmp(ch + pos, val, n) != 0)
                return 0;
        }
        pos = end + 1; /* past the '.' (or one past the end) */
    }
    return pos == len + 1; /* every segment of ch consumed, none left over */
}

static int roles_grant(const role_list *l, const sec_principal *who)
{
    if (l->anyone)
        return 1;
    if (!who->authenticated)
        return 0;
    if (l->authenticated)
        return 1;
    for (int i = 0; i < l->nroles; i++)
        if (sec_principal_has_role(who, l->roles[i]))
            return 1;
    return 0;
}

void sec_policy_check(const sec_policy *p, const sec_principal *who, const char *ch, size_t len,
                      sec_action act, sec_policy_decision *out)
{
    char err[160];
    *out = (sec_policy_decision){ .allow = 0, .reason = SEC_POLICY_NO_RULE, .rule = -1 };
    if (sec_channel_check(ch, len, err, sizeof err) < 0) {
        out->reason = SEC_POLICY_BAD_CHANNEL;
        return;
    }
    for (int i = 0; p && i < p->nrules; i++) {
        const rule *r = &p->rules[i];
        if (!rule_matches(r, who, ch, len))
            continue;
        out->rule = i;
        out->sensitive = r->sensitive;
        if (roles_grant(act == SEC_ACT_PUBLISH ? &r->pub : &r->sub, who)) {
            out->allow = 1;
            out->reason = SEC_POLICY_ALLOW;
            return;
        }
        out->reason = SEC_POLICY_NO_ROLE;
        break;
    }
    if (!who->authenticated)
        out->reason = SEC_POLICY_ANONYMOUS;
}

int sec_policy_admin_allowed(const sec_policy *p, const sec_principal *who)
{
    return p && roles_grant(&p->admin, who);
}
