/* fuzz_ws_frame.c — libFuzzer target for the proxy's WebSocket framing
 * reader (fault-injector/ws_frame.h), which reads whatever clients and
 * servers send through the proxy: never a crash or over-read, and the units
 * (and whether the stream failed) are the same however the bytes are cut
 * into reads, as its contract says. First input byte: bit 0 feeds an HTTP
 * upgrade head first (ws_head_feed); the rest picks the cut size. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "splitlog.h"
#include "ws_frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static splitlog A, B;

static void on_unit(void *arg, const ws_unit *u)
{
    splitlog *l = arg;
    unsigned char meta[4] = { (unsigned char)u->control, u->opcode, u->rsv, (unsigned char)u->masked };
    splitlog_put(l, 'u', meta, sizeof meta, 0);
    splitlog_put(l, 'p', u->payload, u->payload_len, 0);
    splitlog_put(l, 'w', u->raw, u->raw_len, 0);
}

static void run(const unsigned char *d, size_t n, int with_head, size_t cut, splitlog *l)
{
    splitlog_reset(l);
    ws_head h = { 0 };
    ws_reader r = { 0 };
    r.max_message_bytes = 1 << 16;
    char err[256];
    int head_done = !with_head, failed = 0;
    size_t off = 0;
    while (off < n) {
        size_t piece = cut ? (n - off < cut ? n - off : cut) : n - off;
        unsigned char *p = splitlog_exact(d + off, piece);
        size_t used = 0;
        if (!head_done) {
            used = ws_head_feed(&h, p, piece);
            if (h.done) {
                head_done = 1;
                splitlog_put(l, 'h', &h.is_ws, sizeof h.is_ws, 0);
            }
        }
        if (head_done && !failed && used < piece &&
            ws_reader_feed(&r, p + used, piece - used, on_unit, l, err, sizeof err) < 0)
            failed = 1;
        free(p);
        off += piece;
    }
    splitlog_put(l, 'f', &failed, sizeof failed, 0);
    ws_head_free(&h);
    ws_reader_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int with_head = data[0] & 1;
    size_t cut = 1 + (data[0] >> 1) % 32;
    run(data + 1, size - 1, with_head, 0, &A);
    run(data + 1, size - 1, with_head, cut, &B);
    if (!splitlog_same(&A, &B))
        abort();
    return 0;
}
