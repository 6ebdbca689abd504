/* fuzz_toxic.c — libFuzzer target for the JSON bodies the proxy's HTTP API
 * turns into toxics (fault-injector/toxic.h: toxic_new_json and
 * toxic_update_json, which run every toxic's attribute parser): never a
 * crash or leak; an update that fails leaves the toxic as it was. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "toxic.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* input: a create body, optionally a NUL and an update body */
    const uint8_t *nul = memchr(data, 0, size);
    size_t create_len = nul ? (size_t)(nul - data) : size;
    json_t *body = json_loadb((const char *)data, create_len, 0, NULL);
    if (!body)
        return 0;
    char err[256];
    toxic *t = toxic_new_json(body, 1000000, err, sizeof err);
    json_decref(body);
    if (!t)
        return 0;
    json_t *before = toxic_to_json(t);
    if (nul) {
        json_t *upd = json_loadb((const char *)nul + 1, size - create_len - 1, 0, NULL);
        if (upd) {
            if (toxic_update_json(t, upd, err, sizeof err) < 0) {
                json_t *after = toxic_to_json(t);
                if (!json_equal(before, after))
                    abort(); /* a refused update changed the toxic */
                json_decref(after);
            }
            json_decref(upd);
        }
    }
    json_decref(before);
    toxic_free(t);
    return 0;
}
