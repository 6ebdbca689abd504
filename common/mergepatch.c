/* mergepatch.c — JSON Merge Patch (RFC 7386/7396) diff and apply on jansson
 * values (see mergepatch.h for why it is written here). */
#include "mergepatch.h"

/* Whether v holds a null anywhere (it cannot be sent in a patch: a null
 * member there means "delete"). */
static int holds_null(const json_t *v)
{
    if (json_is_null(v))
        return 1;
    if (json_is_object(v)) {
        const char *k;
        json_t *m;
        json_object_foreach((json_t *)v, k, m)
            if (holds_null(m))
                return 1;
    }
    /* an array is replaced whole: its nulls are values, not deletions */
    return 0;
}

json_t *mergepatch_diff(const json_t *from, const json_t *to)
{
    if (!json_is_object(from) || !json_is_object(to))
        return NULL;
    json_t *p = json_object();
    if (!p)
        return NULL;
    const char *k;
    json_t *v;
    /* members that left: null */
    json_object_foreach((json_t *)from, k, v) {
        if (!json_object_get(to, k) && json_object_set_new(p, k, json_null())) {
            json_decref(p);
            return NULL;
        }
    }
    /* members that are new or changed */
    json_object_foreach((json_t *)to, k, v) {
        json_t *old = json_object_get(from, k);
        if (old && json_equal(old, v))
            continue;
        json_t *d;
        if (old && json_is_object(old) && json_is_object(v)) {
            d = mergepatch_diff(old, v); /* recurse: only what changed inside */
        } else {
            if (holds_null(v)) {
                json_decref(p);
                return NULL;
            }
            d = json_incref(v);
        }
        if (!d || json_object_set_new(p, k, d)) {
            json_decref(p);
            return NULL;
        }
    }
    return p;
}

json_t *mergepatch_apply(const json_t *target, const json_t *patch)
{
    if (!json_is_object(patch))
        return json_deep_copy(patch);
    json_t *r = json_is_object(target) ? json_deep_copy(target) : json_object();
    if (!r)
        return NULL;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)patch, k, v) {
        if (json_is_null(v)) {
            json_object_del(r, k);
            continue;
        }
        json_t *n = mergepatch_apply(json_object_get(r, k), v);
        if (!n || json_object_set_new(r, k, n)) {
            json_decref(r);
            return NULL;
        }
    }
    return r;
}
