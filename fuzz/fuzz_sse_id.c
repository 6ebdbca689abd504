/* fuzz_sse_id.c — libFuzzer target for the server's SSE id codec
 * (reference-server/sse_id.h), which decodes the Last-Event-ID a client
 * sends: never a crash or over-read, never more positions than asked for,
 * and whatever decodes re-encodes to the same text (the id is canonical), so
 * that two different ids never name the same position. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sse_id.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sse_pos pos[SSE_ID_MAX_CHANNELS];
    size_t n = 0;
    char err[256];
    size_t max = size ? 1 + data[0] % SSE_ID_MAX_CHANNELS : SSE_ID_MAX_CHANNELS;
    if (sse_id_decode((const char *)data, size, pos, max, &n, err, sizeof err) != 0)
        return 0;
    if (n > max)
        abort();
    char out[SSE_ID_MAX_LEN + 1];
    int len = sse_id_encode(pos, n, out, sizeof out);
    if (len < 0)
        abort(); /* a decoded id must fit again */
    if ((size_t)len != size || memcmp(out, data, size) != 0)
        abort(); /* two spellings of one position */
    return 0;
}
