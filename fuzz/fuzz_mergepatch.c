/* fuzz_mergepatch.c — libFuzzer target for common/mergepatch.c: the input
 * is two JSON texts separated by a NUL byte. Whenever both are objects and
 * mergepatch_diff makes a patch, applying it to the first must give the
 * second (what the server's deltas and the fleet's rebuild rely on); any
 * value applied as a patch must not crash. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mergepatch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *z = memchr(data, 0, size);
    if (!z)
        return 0;
    size_t n1 = (size_t)(z - data);
    json_t *a = json_loadb((const char *)data, n1, JSON_DECODE_ANY, NULL);
    json_t *b = json_loadb((const char *)z + 1, size - n1 - 1, JSON_DECODE_ANY, NULL);
    if (a && b) {
        json_t *p = mergepatch_diff(a, b);
        if (p) {
            json_t *r = mergepatch_apply(a, p);
            if (!r || !json_equal(r, b))
                abort(); /* the delta would rebuild a wrong value */
            json_decref(r);
            json_decref(p);
        }
        json_decref(mergepatch_apply(a, b));
    }
    json_decref(a);
    json_decref(b);
    return 0;
}
