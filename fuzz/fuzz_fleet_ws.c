/* fuzz_fleet_ws.c — libFuzzer target for the harness's WebSocket client
 * reader (fleet/fleet_ws.h, on wslay), which reads whatever the server
 * under test sends: never a crash, over-read or leak of a lent frame
 * context, and the same messages (and the same verdict) however the bytes
 * are cut into reads. First input byte picks the cut size. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fleet_ws.h"
#include "splitlog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static splitlog A, B;

static int on_msg(void *ud, int opcode, const char *d, size_t n)
{
    unsigned char op = (unsigned char)opcode;
    splitlog_put(ud, 'o', &op, 1, 0);
    splitlog_put(ud, 'm', d, n, 0);
    return 0;
}

static void run(ws_pool *pool, const unsigned char *d, size_t n, size_t cut, splitlog *l)
{
    splitlog_reset(l);
    ws_conn_rx c = { 0 };
    char err[256];
    int failed = 0;
    size_t off = 0;
    while (off < n && !failed) {
        size_t piece = cut ? (n - off < cut ? n - off : cut) : n - off;
        unsigned char *p = splitlog_exact(d + off, piece);
        failed = ws_feed(pool, &c, p, piece, on_msg, l, 1 << 16, err, sizeof err) < 0;
        free(p);
        off += piece;
    }
    splitlog_put(l, 'f', &failed, sizeof failed, 0);
    ws_conn_release(pool, &c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ws_pool *pool;
    if (!pool)
        pool = ws_pool_new(1);
    if (size < 1)
        return 0;
    size_t cut = 1 + data[0] % 32;
    run(pool, data + 1, size - 1, 0, &A);
    run(pool, data + 1, size - 1, cut, &B);
    if (ws_pool_lent(pool) != 0)
        abort(); /* a frame context was not given back */
    if (!splitlog_same(&A, &B))
        abort();
    return 0;
}
