/* toxic_limit_data.c — Toxiproxy's limit_data: pass `bytes` bytes in this
 * direction, then close the connection. */
#include "toxic.h"

#include <string.h>

typedef struct limit_data_attrs {
    int64_t bytes;
} limit_data_attrs;

typedef struct limit_data_state {
    uint64_t sent;
    int closed;
} limit_data_state;

static void defaults(void *a)
{
    memset(a, 0, sizeof(limit_data_attrs));
}

static int parse(void *a, json_t *obj, char *err, size_t errlen)
{
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v) {
        if (strcmp(k, "bytes") == 0) {
            if (tx_attr_int(v, k, 0, INT64_MAX, &((limit_data_attrs *)a)->bytes, err, errlen) < 0)
                return -1;
        } else
            return tx_attr_unknown("limit_data", k, err, errlen);
    }
    return 0;
}

static json_t *to_json(const void *a)
{
    return json_pack("{s:I}", "bytes", (json_int_t)((const limit_data_attrs *)a)->bytes);
}

static void data(void *s, const void *a, tx_env *env, const unsigned char *d, size_t n)
{
    limit_data_state *st = s;
    uint64_t limit = (uint64_t)((const limit_data_attrs *)a)->bytes;
    if (st->closed)
        return;
    size_t k = st->sent >= limit ? 0 : (limit - st->sent < n ? (size_t)(limit - st->sent) : n);
    if (k) {
        st->sent += k;
        env->emit(env->u, d, k);
    }
    if (st->sent >= limit) {
        st->closed = 1;
        env->record(env->u, "limit_close", json_pack("{s:I}", "bytes", (json_int_t)st->sent));
        env->close(env->u, TX_CLOSE_FIN);
    }
}

static void eof(void *s, const void *a, tx_env *env)
{
    (void)s;
    (void)a;
    env->emit_eof(env->u);
}

const toxic_type toxic_limit_data_type = {
    .name = "limit_data",
    .attrs_size = sizeof(limit_data_attrs),
    .state_size = sizeof(limit_data_state),
    .defaults = defaults,
    .parse = parse,
    .to_json = to_json,
    .data = data,
    .eof = eof,
};
