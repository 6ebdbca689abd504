/* fuzz_scenario.c — libFuzzer target for the harness's scenario parser
 * (harness/scenario.h): any YAML either loads or yields at least one
 * "file:line:col" diagnostic, never a crash, leak or hang; a loaded scenario
 * serializes to JSON. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    scn_load_opts opts = { 0 };
    scenario s;
    scn_diag diag;
    scn_diag_init(&diag);
    int rc = scenario_load_string("fuzz.yaml", (const char *)data, size, &opts, &s, &diag);
    if (rc == 0) {
        json_t *j = scenario_to_json(&s);
        if (!j)
            abort();
        char *txt = json_dumps(j, JSON_COMPACT);
        free(txt);
        json_decref(j);
        scenario_free(&s);
    } else if (diag.n == 0) {
        abort(); /* refused without saying why */
    }
    scn_diag_free(&diag);
    return 0;
}
