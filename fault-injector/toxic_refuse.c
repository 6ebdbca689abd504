/* toxic_refuse.c — new connections are closed as soon as they are accepted
 * (mode "close": FIN, "reset": RST), before any upstream connection is
 * made. Connections already open are left alone. */
#include "toxic.h"

#include <string.h>

typedef struct refuse_attrs {
    int mode; /* 0 close, 1 reset */
} refuse_attrs;

static const char *const MODES[] = {"close", "reset", NULL};

static void defaults(void *a)
{
    memset(a, 0, sizeof(refuse_attrs));
}

static int parse(void *a, json_t *obj, char *err, size_t errlen)
{
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v) {
        if (strcmp(k, "mode") == 0) {
            if (tx_attr_enum(v, k, MODES, &((refuse_attrs *)a)->mode, err, errlen) < 0)
                return -1;
        } else
            return tx_attr_unknown("refuse", k, err, errlen);
    }
    return 0;
}

static json_t *to_json(const void *a)
{
    return json_pack("{s:s}", "mode", MODES[((const refuse_attrs *)a)->mode]);
}

static int accept_conn(const void *a)
{
    return ((const refuse_attrs *)a)->mode == 1 ? TX_ACCEPT_RESET : TX_ACCEPT_CLOSE;
}

const toxic_type toxic_refuse_type = {
    .name = "refuse",
    .attrs_size = sizeof(refuse_attrs),
    .defaults = defaults,
    .parse = parse,
    .to_json = to_json,
    .accept = accept_conn,
};
