/* fuzz_proto.c — libFuzzer target for what the fleet reads from a foreign
 * server through the protocol adapters: a ws+meta.nchan message
 * (fleet/proto_nchan.c), a contract v1 batch message split into its
 * envelopes (fleet/proto_v1.c), a Pusher message and publish answer
 * (fleet/proto_pusher.c), a payload's publisher record at a dot path with
 * the server's offset (fleet/record.c), and the template renderers. Never
 * crashes or over-reads (the input is copied to an exact-size buffer, so
 * ASan sees any read past it); a payload or id it returns lies inside the
 * input; a record it accepts has a seq >= 1 and a non-empty channel. The
 * first input byte picks the payload path. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const paths[] = {"", "data", "push.pub.data", "a.b.c.d.e"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const char *path = paths[data[0] % 4];
    data++, size--;
    char *b = malloc(size ? size : 1);
    if (!b)
        return 0;
    memcpy(b, data, size);

    proto_frame f;
    if (proto_nchan.ws_message(b, size, &f) == 0) {
        if (f.id && (f.id < b || f.id + f.id_len > b + size))
            abort();
        if (f.payload && (f.payload < b || f.payload + f.payload_len > b + size))
            abort();
    }

    /* v1 batch messages: every element lies inside the input, begins with
     * '{' and ends with '}', and the walk ends */
    if (v1_is_batch(b, size)) {
        size_t boff = 0, el_len, n = 0;
        const char *el;
        int r;
        while ((r = v1_batch_next(b, size, &boff, &el, &el_len)) == 1) {
            if (el < b || el + el_len > b + size || el_len < 2 || el[0] != '{' || el[el_len - 1] != '}' ||
                ++n > size)
                abort();
        }
        if (r != 0 && r != -1)
            abort();
    }

    memset(&f, 0, sizeof f);
    if (proto_pusher.ws_message(b, size, &f) == 0) {
        if (f.payload && (f.payload < b || f.payload + f.payload_len > b + size))
            abort();
        if (f.session && (f.session < b || f.session + f.session_len > b + size))
            abort();
        if (memchr(f.reply, '\0', sizeof f.reply) == NULL || memchr(f.error, '\0', sizeof f.error) == NULL)
            abort();
    }
    char why[160];
    (void)proto_pusher.pub_ack(200, b, size, why, sizeof why);
    /* a server's message against ping patterns, and the pong made from it
     * (exact-size input: the parser must not read past it) */
    char pong[256];
    if (proto_ping_matches("{\"type\":\"ping\"}", b, size) || proto_ping_matches("{}", b, size))
        (void)proto_render_pong("{\"type\":\"pong\",\"id\":{ping.id},\"all\":{ping},\"x\":{ping.a.0.b}}", b, size,
                                pong, sizeof pong);
    (void)proto_render_pong("{ping.data.1}", b, size, pong, sizeof pong);

    record r;
    uint64_t off;
    int has = 0;
    char err[160];
    if (record_scan_offset(b, size, path, "seq", &r, &off, &has, err, sizeof err) == 0 &&
        (r.seq < 1 || r.ch[0] == '\0'))
        abort();

    /* the renderers with the input as a template (NUL-terminated copy) */
    char *t = malloc(size + 1);
    if (t) {
        memcpy(t, data, size);
        t[size] = '\0';
        char out[1024];
        (void)proto_render_body(t, "{\"run\":\"r\"}", 11, "ch.1", out, sizeof out);
        (void)proto_render_sub(t, "ch.1", 42, out, sizeof out);
        static const char *const fields[] = {"payload", "ch"}, *const need[] = {"payload"};
        (void)proto_check_template("t", t, fields, 2, need, 1, err, sizeof err);
        (void)proto_check_path("p", t, err, sizeof err);
        (void)proto_check_pong("p", t, err, sizeof err);
        (void)proto_check_ping("p", t, err, sizeof err);
        (void)proto_check_ping_match("p", t, err, sizeof err);
        if (proto_render_pong(t, "{\"id\":7,\"a\":[{\"b\":1}]}", 22, out, sizeof out) >= (int)sizeof out ||
            proto_render_ping(t, 3, out, sizeof out) >= (int)sizeof out)
            abort();
        char exp[512];
        (void)proto_expand_path(t, "ch.1", exp, sizeof exp);
        free(t);
    }
    free(b);
    return 0;
}
