/* flags.c — feature flags per channel pattern and priority shedding. */
#include "flags.h"

#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

static const char *const prio_names[] = {"low", "normal", "critical"};

void flags_init(flags *f, sendq_policy default_policy)
{
    memset(f, 0, sizeof(*f));
    f->shed_below = PRIO_LOW;
    f->default_policy = default_policy;
    f->default_priority = PRIO_NORMAL;
}

int flags_priority_parse(const char *s, flags_priority *out)
{
    for (int i = 0; i < 3; i++)
        if (strcmp(s, prio_names[i]) == 0) {
            *out = (flags_priority)i;
            return 0;
        }
    return -1;
}

const char *flags_priority_name(flags_priority p)
{
    return (unsigned)p < 3 ? prio_names[p] : "?";
}

void flags_evaluate(const flags *f, const char *ch, flags_eval *out)
{
    out->enabled = 1;
    out->priority = f->default_priority;
    out->policy = f->default_policy;
    for (size_t i = 0; i < f->n; i++) {
        const flags_rule *r = &f->rules[i];
        if (fnmatch(r->pattern, ch, 0) != 0)
            continue;
        if (r->has_enabled)
            out->enabled = r->enabled;
        if (r->has_priority)
            out->priority = r->priority;
        if (r->has_policy)
            out->policy = r->policy;
    }
    if (out->priority < f->shed_below)
        out->enabled = 0;
}

/* Parses one rule object into r (and *del). */
static int parse_rule(const json_t *o, flags_rule *r, int *del, char *err, size_t errlen)
{
    memset(r, 0, sizeof(*r));
    *del = 0;
    const char *key;
    json_t *v;
    int has_pattern = 0;
    json_object_foreach((json_t *)o, key, v) {
        if (strcmp(key, "pattern") == 0) {
            const char *p = json_string_value(v);
            if (!p || !*p || strlen(p) > ENV_CH_MAX) {
                snprintf(err, errlen, "\"pattern\" must be a string of 1..%d bytes", ENV_CH_MAX);
                return -1;
            }
            snprintf(r->pattern, sizeof(r->pattern), "%s", p);
            has_pattern = 1;
        } else if (strcmp(key, "enabled") == 0) {
            if (!json_is_boolean(v)) {
                snprintf(err, errlen, "\"enabled\" must be true or false");
                return -1;
            }
            r->has_enabled = 1;
            r->enabled = json_is_true(v);
        } else if (strcmp(key, "priority") == 0) {
            const char *p = json_string_value(v);
            if (!p || flags_priority_parse(p, &r->priority)) {
                snprintf(err, errlen, "\"priority\" must be \"critical\", \"normal\" or \"low\"");
                return -1;
            }
            r->has_priority = 1;
        } else if (strcmp(key, "policy") == 0) {
            const char *p = json_string_value(v);
            if (!p || sendq_policy_parse(p, &r->policy)) {
                snprintf(err, errlen,
                         "\"policy\" must be \"drop\", \"coalesce\", \"snapshot\" or \"disconnect\"");
                return -1;
            }
            r->has_policy = 1;
        } else if (strcmp(key, "delete") == 0) {
            if (!json_is_boolean(v)) {
                snprintf(err, errlen, "\"delete\" must be true or false");
                return -1;
            }
            *del = json_is_true(v);
        } else {
            snprintf(err, errlen, "unknown key \"%s\" in a flag rule", key);
            return -1;
        }
    }
    if (!has_pattern) {
        snprintf(err, errlen, "a flag rule needs a \"pattern\"");
        return -1;
    }
    return 0;
}

/* Validates (apply = 0) or applies (apply = 1) one change object. */
static int one_change(flags *f, const json_t *o, int apply, char *err, size_t errlen)
{
    if (!json_is_object(o)) {
        snprintf(err, errlen, "a flags change must be a JSON object");
        return -1;
    }
    json_t *shed = json_object_get(o, "shed_below");
    if (shed) {
        flags_priority p;
        if (json_object_size(o) != 1 || !json_is_string(shed) ||
            flags_priority_parse(json_string_value(shed), &p)) {
            snprintf(err, errlen,
                     "{\"shed_below\": \"low\"|\"normal\"|\"critical\"} takes no other keys");
            return -1;
        }
        if (apply)
            f->shed_below = p;
        return 0;
    }
    flags_rule r;
    int del;
    if (parse_rule(o, &r, &del, err, errlen))
        return -1;
    size_t i = 0;
    while (i < f->n && strcmp(f->rules[i].pattern, r.pattern) != 0)
        i++;
    if (!apply) {
        if (!del && i == f->n && f->n >= FLAGS_MAX_RULES) {
            snprintf(err, errlen, "too many flag rules (at most %d)", FLAGS_MAX_RULES);
            return -1;
        }
        return 0;
    }
    if (del) {
        if (i < f->n) {
            memmove(&f->rules[i], &f->rules[i + 1], (f->n - i - 1) * sizeof(f->rules[0]));
            f->n--;
        }
        return 0;
    }
    if (i == f->n)
        f->n++;
    f->rules[i] = r;
    return 0;
}

int flags_apply_json(flags *f, const json_t *j, char *err, size_t errlen)
{
    if (json_is_array(j)) {
        size_t idx;
        json_t *v;
        /* Validate against a scratch copy so rule-count limits account for
         * the earlier items of the same batch. */
        static flags scratch;
        scratch = *f;
        json_array_foreach((json_t *)j, idx, v) {
            if (one_change(&scratch, v, 0, err, errlen) || one_change(&scratch, v, 1, err, errlen)) {
                char tmp[256];
                snprintf(tmp, sizeof(tmp), "item %zu: %s", idx, err);
                snprintf(err, errlen, "%s", tmp);
                return -1;
            }
        }
        *f = scratch;
        return 0;
    }
    if (one_change(f, j, 0, err, errlen))
        return -1;
    return one_change(f, j, 1, err, errlen);
}

json_t *flags_to_json(const flags *f)
{
    json_t *rules = json_array();
    for (size_t i = 0; i < f->n; i++) {
        const flags_rule *r = &f->rules[i];
        json_t *o = json_pack("{s:s}", "pattern", r->pattern);
        if (r->has_enabled)
            json_object_set_new(o, "enabled", json_boolean(r->enabled));
        if (r->has_priority)
            json_object_set_new(o, "priority", json_string(flags_priority_name(r->priority)));
        if (r->has_policy)
            json_object_set_new(o, "policy", json_string(sendq_policy_name(r->policy)));
        json_array_append_new(rules, o);
    }
    return json_pack("{s:s,s:s,s:s,s:o}", "shed_below", flags_priority_name(f->shed_below),
                     "default_policy", sendq_policy_name(f->default_policy), "default_priority",
                     flags_priority_name(f->default_priority), "rules", rules);
}
