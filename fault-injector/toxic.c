/* toxic.c — toxic objects: JSON in and out, common targeting/scheduling
 * attributes, attribute helpers. */
#include "toxic.h"
#include "hist.h"

#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const COMMON_KEYS[] = {
    "seed", "target_client", "target_path", "after_messages", "after_ms", "for_ms",
    "flap_on_ms", "flap_off_ms", "schedule_from", NULL,
};

int tx_attr_unknown(const char *type, const char *key, char *err, size_t errlen)
{
    snprintf(err, errlen, "unknown attribute %s for toxic %s", key, type);
    return -1;
}

int tx_attr_num(json_t *v, const char *key, double min, double max, double *out,
                char *err, size_t errlen)
{
    if (!json_is_number(v)) {
        snprintf(err, errlen, "attribute %s: must be a number", key);
        return -1;
    }
    double d = json_number_value(v);
    if (!isfinite(d) || d < min || d > max) {
        snprintf(err, errlen, "attribute %s: %g is out of range [%g, %g]", key, d, min, max);
        return -1;
    }
    *out = d;
    return 0;
}

int tx_attr_int(json_t *v, const char *key, int64_t min, int64_t max, int64_t *out,
                char *err, size_t errlen)
{
    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        if (i < min || i > max) {
            snprintf(err, errlen, "attribute %s: %lld is out of range [%lld, %lld]", key,
                     (long long)i, (long long)min, (long long)max);
            return -1;
        }
        *out = i;
        return 0;
    }
    if (json_is_real(v)) { /* some clients send 100.0; accept integral reals */
        double d = json_real_value(v);
        if (isfinite(d) && d == floor(d) && d >= (double)min && d <= (double)max) {
            *out = (int64_t)d;
            return 0;
        }
    }
    snprintf(err, errlen, "attribute %s: must be an integer in [%lld, %lld]", key,
             (long long)min, (long long)max);
    return -1;
}

int tx_attr_enum(json_t *v, const char *key, const char *const *names, int *out,
                 char *err, size_t errlen)
{
    if (json_is_string(v)) {
        for (int i = 0; names[i]; i++)
            if (strcmp(json_string_value(v), names[i]) == 0) {
                *out = i;
                return 0;
            }
    }
    int n = snprintf(err, errlen, "attribute %s: must be one of", key);
    for (int i = 0; names[i] && n > 0 && (size_t)n < errlen; i++)
        n += snprintf(err + n, errlen - n, "%s%s", i ? ", " : " ", names[i]);
    return -1;
}

static int is_common_key(const char *k)
{
    for (int i = 0; COMMON_KEYS[i]; i++)
        if (strcmp(k, COMMON_KEYS[i]) == 0)
            return 1;
    return 0;
}

static int str_attr(json_t *v, const char *key, char *dst, size_t cap, char *err, size_t errlen)
{
    if (!json_is_string(v) || json_string_length(v) >= cap) {
        snprintf(err, errlen, "attribute %s: must be a string shorter than %zu bytes", key, cap);
        return -1;
    }
    memcpy(dst, json_string_value(v), json_string_length(v) + 1);
    return 0;
}

/* Applies the common keys of attrs onto c; the type's keys are left. */
static int common_parse(tx_common *c, json_t *attrs, char *err, size_t errlen)
{
    const char *k;
    json_t *v;
    const int64_t max_ms = 365LL * 24 * 3600 * 1000;
    json_object_foreach(attrs, k, v) {
        int rc = 0;
        if (strcmp(k, "seed") == 0) {
            int64_t s;
            rc = tx_attr_int(v, k, 0, INT64_MAX, &s, err, errlen);
            c->has_seed = 1;
            c->seed = (uint64_t)s;
        } else if (strcmp(k, "target_client") == 0) {
            rc = str_attr(v, k, c->target_client, sizeof c->target_client, err, errlen);
            if (rc == 0 && c->target_client[0] &&
                toxic_target_client_match(c->target_client, "") < 0) {
                snprintf(err, errlen, "attribute target_client: not an address or IPv4 CIDR");
                rc = -1;
            }
        } else if (strcmp(k, "target_path") == 0) {
            rc = str_attr(v, k, c->target_path, sizeof c->target_path, err, errlen);
        } else if (strcmp(k, "after_messages") == 0) {
            rc = tx_attr_int(v, k, 0, INT64_MAX, &c->after_messages, err, errlen);
        } else if (strcmp(k, "after_ms") == 0) {
            rc = tx_attr_int(v, k, 0, max_ms, &c->after_ms, err, errlen);
        } else if (strcmp(k, "for_ms") == 0) {
            rc = tx_attr_int(v, k, 0, max_ms, &c->for_ms, err, errlen);
        } else if (strcmp(k, "flap_on_ms") == 0) {
            rc = tx_attr_int(v, k, 0, max_ms, &c->flap_on_ms, err, errlen);
        } else if (strcmp(k, "flap_off_ms") == 0) {
            rc = tx_attr_int(v, k, 0, max_ms, &c->flap_off_ms, err, errlen);
        } else if (strcmp(k, "schedule_from") == 0) {
            static const char *const from[] = {"toxic", "connection", NULL};
            rc = tx_attr_enum(v, k, from, &c->per_connection, err, errlen);
        }
        if (rc < 0)
            return -1;
    }
    if ((c->flap_on_ms > 0) != (c->flap_off_ms > 0)) {
        snprintf(err, errlen, "attributes flap_on_ms and flap_off_ms go together");
        return -1;
    }
    return 0;
}

static void common_to_json(const tx_common *c, json_t *o)
{
    if (c->has_seed)
        json_object_set_new(o, "seed", json_integer((json_int_t)c->seed));
    if (c->target_client[0])
        json_object_set_new(o, "target_client", json_string(c->target_client));
    if (c->target_path[0])
        json_object_set_new(o, "target_path", json_string(c->target_path));
    if (c->after_messages)
        json_object_set_new(o, "after_messages", json_integer(c->after_messages));
    if (c->after_ms)
        json_object_set_new(o, "after_ms", json_integer(c->after_ms));
    if (c->for_ms)
        json_object_set_new(o, "for_ms", json_integer(c->for_ms));
    if (c->flap_on_ms) {
        json_object_set_new(o, "flap_on_ms", json_integer(c->flap_on_ms));
        json_object_set_new(o, "flap_off_ms", json_integer(c->flap_off_ms));
    }
    if (c->per_connection)
        json_object_set_new(o, "schedule_from", json_string("connection"));
}

/* What the schedule can count on: a toxic acting at accept (refuse) sees no
 * message, and SSE events flow only from the server. */
static int common_check(const toxic_type *ty, int stream, const void *attrs, const tx_common *c,
                        char *err, size_t errlen)
{
    if (c->after_messages <= 0)
        return 0;
    if (ty->accept) {
        snprintf(err, errlen, "attribute after_messages: a %s toxic acts when a connection is "
                 "accepted, before any message", ty->name);
        return -1;
    }
    if (stream == TX_UPSTREAM && ty->protocol && ty->protocol(attrs) == TX_PROTO_SSE) {
        snprintf(err, errlen, "attribute after_messages: SSE events flow downstream only; "
                 "an upstream %s toxic would never start", ty->name);
        return -1;
    }
    return 0;
}

/* Parses the attributes object into a fresh copy of (attrs, common) so that a
 * failure leaves the toxic as it was. */
static int attrs_apply(const toxic_type *ty, void *attrs, tx_common *c, json_t *obj,
                       char *err, size_t errlen)
{
    if (!obj)
        return 0;
    if (!json_is_object(obj)) {
        snprintf(err, errlen, "attributes must be a JSON object");
        return -1;
    }
    if (common_parse(c, obj, err, errlen) < 0)
        return -1;
    json_t *own = json_object();
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v) {
        if (!is_common_key(k))
            json_object_set(own, k, v);
    }
    int rc = ty->parse(attrs, own, err, errlen);
    json_decref(own);
    return rc;
}

void toxic_type_defaults(const toxic_type *ty, void *attrs)
{
    ty->defaults(attrs);
    if (ty->preset_action) {
        json_t *o = json_pack("{s:s}", "action", ty->preset_action);
        char err[128];
        ty->parse(attrs, o, err, sizeof err); /* the registry's own table: always valid */
        json_decref(o);
    }
}

toxic *toxic_new_json(json_t *body, uint64_t now_us, char *err, size_t errlen)
{
    if (!json_is_object(body)) {
        snprintf(err, errlen, "bad request body: a toxic must be a JSON object");
        return NULL;
    }
    json_t *jtype = json_object_get(body, "type");
    if (!json_is_string(jtype)) {
        snprintf(err, errlen, "invalid toxic type");
        return NULL;
    }
    const toxic_type *ty = toxic_registry_find(json_string_value(jtype));
    if (!ty) {
        snprintf(err, errlen, "invalid toxic type: %s", json_string_value(jtype));
        return NULL;
    }
    int stream = TX_DOWNSTREAM;
    json_t *js = json_object_get(body, "stream");
    if (js && !json_is_null(js)) {
        const char *s = json_is_string(js) ? json_string_value(js) : "";
        if (strcasecmp(s, "upstream") == 0) /* case-blind, as Toxiproxy */
            stream = TX_UPSTREAM;
        else if (strcasecmp(s, "downstream") == 0)
            stream = TX_DOWNSTREAM;
        else {
            snprintf(err, errlen, "stream was invalid, can be either upstream or downstream");
            return NULL;
        }
    }
    double toxicity = 1.0;
    json_t *jt = json_object_get(body, "toxicity");
    if (jt && !json_is_null(jt) && tx_attr_num(jt, "toxicity", 0.0, 1.0, &toxicity, err, errlen) < 0)
        return NULL;
    toxic *t = calloc(1, sizeof *t);
    if (!t || !(t->attrs = calloc(1, ty->attrs_size ? ty->attrs_size : 1))) {
        free(t);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    t->type = ty;
    t->stream = stream;
    t->toxicity = toxicity;
    t->created_us = now_us;
    toxic_type_defaults(ty, t->attrs);
    json_t *jn = json_object_get(body, "name");
    if (jn && !json_is_null(jn) && !json_is_string(jn)) {
        snprintf(err, errlen, "bad request body: name must be a string");
        goto fail;
    }
    const char *name = json_is_string(jn) ? json_string_value(jn) : "";
    if (name[0] == '\0')
        snprintf(t->name, sizeof t->name, "%s_%s", ty->name,
                 stream == TX_UPSTREAM ? "upstream" : "downstream");
    else if (strlen(name) >= sizeof t->name || strchr(name, '/')) {
        snprintf(err, errlen, "bad request body: name must be shorter than %zu bytes and have no '/'",
                 sizeof t->name);
        goto fail;
    } else
        snprintf(t->name, sizeof t->name, "%s", name);
    if (attrs_apply(ty, t->attrs, &t->common, json_object_get(body, "attributes"), err, errlen) < 0 ||
        common_check(ty, stream, t->attrs, &t->common, err, errlen) < 0)
        goto fail;
    return t;
fail:
    toxic_free(t);
    return NULL;
}

int toxic_update_json(toxic *t, json_t *body, char *err, size_t errlen)
{
    if (!json_is_object(body)) {
        snprintf(err, errlen, "bad request body: must be a JSON object");
        return -1;
    }
    double toxicity = t->toxicity;
    json_t *jt = json_object_get(body, "toxicity");
    if (jt && !json_is_null(jt) && tx_attr_num(jt, "toxicity", 0.0, 1.0, &toxicity, err, errlen) < 0)
        return -1;
    void *copy = malloc(t->type->attrs_size ? t->type->attrs_size : 1);
    if (!copy) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    memcpy(copy, t->attrs, t->type->attrs_size);
    tx_common c = t->common;
    if (attrs_apply(t->type, copy, &c, json_object_get(body, "attributes"), err, errlen) < 0 ||
        common_check(t->type, t->stream, copy, &c, err, errlen) < 0) {
        free(copy);
        return -1;
    }
    memcpy(t->attrs, copy, t->type->attrs_size);
    free(copy);
    t->common = c;
    t->toxicity = toxicity;
    return 0;
}

json_t *toxic_to_json(const toxic *t)
{
    json_t *attrs = t->type->to_json(t->attrs);
    common_to_json(&t->common, attrs);
    return json_pack("{s:o,s:s,s:s,s:s,s:f}", "attributes", attrs, "name", t->name,
                     "type", t->type->name, "stream",
                     t->stream == TX_UPSTREAM ? "upstream" : "downstream",
                     "toxicity", t->toxicity);
}

void toxic_free(toxic *t)
{
    if (!t)
        return;
    if (t->late)
        hist_free(t->late);
    free(t->attrs);
    free(t);
}

void toxic_count_action(toxic *t, const char *action)
{
    for (int i = 0; i < TOXIC_ACTIONS_MAX; i++) {
        if (t->actions[i].action == NULL)
            t->actions[i].action = action;
        if (t->actions[i].action == action || strcmp(t->actions[i].action, action) == 0) {
            t->actions[i].n++;
            return;
        }
    }
}

int toxic_schedule_active(const tx_common *c, uint64_t base_us, uint64_t now_us,
                          uint64_t *next_us)
{
    uint64_t after_us = (uint64_t)c->after_ms * 1000;
    uint64_t t = now_us > base_us ? now_us - base_us : 0;
    uint64_t nx = 0;
    int on;
    if (t < after_us) {
        on = 0;
        nx = base_us + after_us;
    } else {
        uint64_t t2 = t - after_us;
        uint64_t end_us = (uint64_t)c->for_ms * 1000;
        if (c->for_ms > 0 && t2 >= end_us) {
            on = 0;
        } else {
            on = 1;
            if (c->for_ms > 0)
                nx = base_us + after_us + end_us;
            if (c->flap_on_ms > 0) {
                uint64_t on_us = (uint64_t)c->flap_on_ms * 1000;
                uint64_t period = on_us + (uint64_t)c->flap_off_ms * 1000;
                uint64_t phase = t2 % period;
                uint64_t edge = now_us - phase + (phase < on_us ? on_us : period);
                on = phase < on_us;
                if (nx == 0 || edge < nx)
                    nx = edge;
            }
        }
    }
    if (next_us)
        *next_us = nx;
    return on;
}

int toxic_schedule_step(const tx_common *c, tx_sched *st, uint64_t base_us, uint64_t msgs,
                        uint64_t now_us, uint64_t *next_us)
{
    if (c->after_messages > 0) {
        int armed = msgs >= (uint64_t)c->after_messages;
        if (armed && !st->armed)
            st->origin_us = now_us;
        st->armed = armed;
        if (!armed) {
            if (next_us)
                *next_us = 0;
            return 0;
        }
        base_us = st->origin_us;
    }
    return toxic_schedule_active(c, base_us, now_us, next_us);
}

int toxic_target_client_match(const char *target, const char *addr)
{
    if (!target[0])
        return 1;
    const char *slash = strchr(target, '/');
    if (!slash) {
        struct in6_addr a6;
        struct in_addr a4;
        if (inet_pton(AF_INET, target, &a4) != 1 && inet_pton(AF_INET6, target, &a6) != 1)
            return -1;
        return strcmp(target, addr) == 0;
    }
    char net[64];
    size_t n = (size_t)(slash - target);
    if (n >= sizeof net)
        return -1;
    memcpy(net, target, n);
    net[n] = '\0';
    char *end;
    long bits = strtol(slash + 1, &end, 10);
    struct in_addr tn, ta;
    if (*end || slash[1] == '\0' || bits < 0 || bits > 32 || inet_pton(AF_INET, net, &tn) != 1)
        return -1;
    if (inet_pton(AF_INET, addr, &ta) != 1)
        return 0;
    uint32_t mask = bits == 0 ? 0 : htonl(0xffffffffu << (32 - bits));
    return (tn.s_addr & mask) == (ta.s_addr & mask);
}
