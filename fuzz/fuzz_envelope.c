/* fuzz_envelope.c — libFuzzer target for envelope_scan (common/envelope.h):
 * never crashes or over-reads, and never accepts what is not a JSON object
 * (jansson, the reference, is asked about the same bytes). The scanner does
 * not validate UTF-8 inside strings it skips, by design (speed), so bytes
 * >= 0x80 are mapped to ASCII before jansson sees them; outside strings
 * that mapping still leaves invalid JSON invalid. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    envelope env;
    char err[256];
    /* the buffer libFuzzer hands over is exactly `size` bytes, so ASan
     * reports any read past the end */
    int rc = envelope_scan((const char *)data, size, &env, err, sizeof err);
    if (rc != 0)
        return 0;
    char *ascii = malloc(size ? size : 1);
    for (size_t i = 0; i < size; i++)
        ascii[i] = data[i] >= 0x80 ? 'a' : (char)data[i];
    json_error_t je;
    json_t *j = json_loadb(ascii, size, JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL,
                           &je);
    free(ascii);
    /* numbers the scanner only skips may overflow a double (1e400): jansson
     * refuses those, the scanner need not */
    if (!j && json_error_code(&je) == json_error_numeric_overflow)
        return 0;
    if (!json_is_object(j))
        abort(); /* the scanner accepted something that is not a JSON object */
    /* what the scanner returned must be self-consistent */
    if (env.data && (env.data < (const char *)data || env.data + env.data_len > (const char *)data + size))
        abort();
    if (env.msg && (env.msg < (const char *)data || env.msg + env.msg_len > (const char *)data + size))
        abort();
    if (strlen(env.ch) > ENV_CH_MAX || strlen(env.epoch) > ENV_EPOCH_MAX)
        abort();
    json_decref(j);
    /* and a formatter fed with it must stay within its buffer */
    char out[512];
    envelope_format(out, sizeof out, env.type, env.ch, env.seq, env.ts_us,
                    env.epoch[0] ? env.epoch : NULL, env.data, env.data ? env.data_len : 0);
    envelope_format_error(out, sizeof out, env.code, env.ch, env.ch[0] ? env.ch : NULL);
    return 0;
}
