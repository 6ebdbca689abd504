/* test_toxic.c — toxic objects: JSON in/out, defaults, errors, the schedule
 * (with an injected clock) and client targeting. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include "toxic.h"
#include "toxic_names.h"
#include "proxy_testenv.h"

static toxic *mk(const char *json, char *err)
{
    json_t *j = json_loads(json, 0, NULL);
    toxic *t = toxic_new_json(j, 0, err, 256);
    json_decref(j);
    return t;
}

static void test_toxic_defaults_name_stream_toxicity(void **state)
{
    (void)state;
    char err[256];
    toxic *t = mk("{\"type\":\"latency\",\"attributes\":{\"latency\":5}}", err);
    assert_non_null(t);
    assert_string_equal(t->name, "latency_downstream");
    assert_int_equal(t->stream, TX_DOWNSTREAM);
    assert_true(t->toxicity == 1.0);
    json_t *j = toxic_to_json(t);
    char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    assert_string_equal(s, "{\"attributes\":{\"latency\":5,\"jitter\":0},\"name\":\"latency_downstream\","
                           "\"type\":\"latency\",\"stream\":\"downstream\",\"toxicity\":1.0}");
    free(s);
    json_decref(j);
    toxic_free(t);
    t = mk("{\"type\":\"bandwidth\",\"stream\":\"UpStream\",\"toxicity\":0.5}", err);
    assert_string_equal(t->name, "bandwidth_upstream");
    toxic_free(t);
}

static void test_toxic_rejects_bad_input(void **state)
{
    (void)state;
    char err[256];
    assert_null(mk("{\"type\":\"nope\"}", err));
    assert_non_null(strstr(err, "invalid toxic type"));
    assert_null(mk("{\"attributes\":{}}", err));
    assert_null(mk("{\"type\":\"latency\",\"stream\":\"sideways\"}", err));
    assert_null(mk("{\"type\":\"latency\",\"stream\":\"\"}", err));
    assert_non_null(strstr(err, "stream"));
    assert_null(mk("{\"type\":\"latency\",\"toxicity\":2}", err));
    assert_null(mk("{\"type\":\"latency\",\"attributes\":[1]}", err));
    assert_null(mk("{\"type\":\"latency\",\"attributes\":{\"bogus\":1}}", err));
    assert_non_null(strstr(err, "bogus"));
    assert_null(mk("{\"type\":\"latency\",\"attributes\":{\"target_client\":\"not-an-ip\"}}", err));
    assert_null(mk("{\"type\":\"latency\",\"attributes\":{\"flap_on_ms\":10}}", err));
    assert_null(mk("{\"type\":\"latency\",\"name\":\"a/b\"}", err));
}

static void test_toxic_update_is_atomic(void **state)
{
    (void)state;
    char err[256];
    toxic *t = mk("{\"type\":\"latency\",\"attributes\":{\"latency\":5,\"jitter\":1}}", err);
    json_t *bad = json_loads("{\"attributes\":{\"latency\":7,\"jitter\":-1}}", 0, NULL);
    assert_int_equal(toxic_update_json(t, bad, err, sizeof err), -1);
    json_t *j = toxic_to_json(t);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "attributes"), "latency")), 5);
    json_decref(j);
    json_t *good = json_loads("{\"attributes\":{\"latency\":7},\"toxicity\":0.25}", 0, NULL);
    assert_int_equal(toxic_update_json(t, good, err, sizeof err), 0);
    j = toxic_to_json(t);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "attributes"), "latency")), 7);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "attributes"), "jitter")), 1);
    assert_true(t->toxicity == 0.25);
    json_decref(j);
    json_decref(bad);
    json_decref(good);
    toxic_free(t);
}

static void test_toxic_schedule_window_and_flapping(void **state)
{
    (void)state;
    tx_common c = {.after_ms = 100, .for_ms = 1000, .flap_on_ms = 200, .flap_off_ms = 100};
    uint64_t base = 5000000, next;
    assert_int_equal(toxic_schedule_active(&c, base, base + 50000, &next), 0);
    assert_int_equal(next, base + 100000);
    assert_int_equal(toxic_schedule_active(&c, base, base + 100000, &next), 1);
    assert_int_equal(next, base + 300000);
    assert_int_equal(toxic_schedule_active(&c, base, base + 350000, &next), 0);
    assert_int_equal(next, base + 400000);
    assert_int_equal(toxic_schedule_active(&c, base, base + 400000, NULL), 1);
    assert_int_equal(toxic_schedule_active(&c, base, base + 1100000, &next), 0);
    assert_int_equal(next, 0);
    tx_common always = {0};
    assert_int_equal(toxic_schedule_active(&always, base, base, &next), 1);
    assert_int_equal(next, 0);
}

/* after_messages: off until the count is reached (no time edge meanwhile),
 * then the time schedule runs from the moment it was. */
static void test_toxic_schedule_after_messages(void **state)
{
    (void)state;
    tx_common c = {.after_messages = 3, .for_ms = 100, .flap_on_ms = 20, .flap_off_ms = 10};
    tx_sched st = {0};
    uint64_t base = 1000000, next = 7;
    assert_int_equal(toxic_schedule_step(&c, &st, base, 0, base + 5000000, &next), 0);
    assert_int_equal(next, 0);
    assert_int_equal(toxic_schedule_step(&c, &st, base, 2, base + 6000000, &next), 0);
    uint64_t t3 = base + 7000000; /* the third message: on, flapping from here */
    assert_int_equal(toxic_schedule_step(&c, &st, base, 3, t3, &next), 1);
    assert_int_equal(next, t3 + 20000);
    assert_int_equal(toxic_schedule_step(&c, &st, base, 4, t3 + 25000, &next), 0);
    assert_int_equal(next, t3 + 30000);
    assert_int_equal(toxic_schedule_step(&c, &st, base, 9, t3 + 31000, NULL), 1);
    assert_int_equal(toxic_schedule_step(&c, &st, base, 9, t3 + 100000, &next), 0); /* for_ms over */
    assert_int_equal(next, 0);
    /* with after_ms too: that long after the count */
    tx_common d = {.after_messages = 1, .after_ms = 50};
    tx_sched sd = {0};
    assert_int_equal(toxic_schedule_step(&d, &sd, base, 1, base + 10, &next), 0);
    assert_int_equal(next, base + 10 + 50000);
    assert_int_equal(toxic_schedule_step(&d, &sd, base, 1, base + 10 + 50000, NULL), 1);
    /* without after_messages the count does not matter */
    tx_common e = {.after_ms = 50};
    tx_sched se = {0};
    assert_int_equal(toxic_schedule_step(&e, &se, base, 0, base + 50000, NULL), 1);
}

/* after_messages is a common attribute of every stream toxic; refused
 * where no message can ever be counted. */
static void test_toxic_after_messages_where_counted(void **state)
{
    (void)state;
    char err[256];
    toxic *t = mk("{\"type\":\"latency\",\"attributes\":{\"latency\":5,\"after_messages\":4}}", err);
    assert_non_null(t);
    assert_int_equal(t->common.after_messages, 4);
    json_t *j = toxic_to_json(t);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "attributes"), "after_messages")), 4);
    json_decref(j);
    toxic_free(t);
    assert_null(mk("{\"type\":\"refuse\",\"attributes\":{\"after_messages\":1}}", err));
    assert_non_null(strstr(err, "after_messages"));
    assert_null(mk("{\"type\":\"sse_drop\",\"stream\":\"upstream\",\"attributes\":{\"after_messages\":1}}", err));
    assert_non_null(strstr(err, "downstream"));
    assert_null(mk("{\"type\":\"slicer\",\"attributes\":{\"after_messages\":-1}}", err));
    t = mk("{\"type\":\"ws_drop\",\"stream\":\"upstream\",\"attributes\":{\"after_messages\":2}}", err);
    assert_non_null(t);
    toxic_free(t);
    t = mk("{\"type\":\"refuse\"}", err);
    json_t *u = json_loads("{\"attributes\":{\"after_messages\":2}}", 0, NULL);
    assert_int_equal(toxic_update_json(t, u, err, sizeof err), -1); /* PATCH too */
    assert_int_equal(t->common.after_messages, 0);
    json_decref(u);
    toxic_free(t);
}

static void test_toxic_target_client(void **state)
{
    (void)state;
    assert_int_equal(toxic_target_client_match("", "1.2.3.4"), 1);
    assert_int_equal(toxic_target_client_match("127.0.0.1", "127.0.0.1"), 1);
    assert_int_equal(toxic_target_client_match("127.0.0.1", "127.0.0.2"), 0);
    assert_int_equal(toxic_target_client_match("127.0.0.0/8", "127.9.9.9"), 1);
    assert_int_equal(toxic_target_client_match("10.0.0.0/8", "127.9.9.9"), 0);
    assert_int_equal(toxic_target_client_match("0.0.0.0/0", "8.8.8.8"), 1);
    assert_int_equal(toxic_target_client_match("10.0.0.0/33", "10.0.0.1"), -1);
    assert_int_equal(toxic_target_client_match("nonsense", "10.0.0.1"), -1);
}

/* Every registered type, fed garbage and half-valid protocol streams in
 * random pieces with random ticks, then an end of stream and a flush: it
 * must neither crash nor read out of bounds (run under ASan by
 * `make check-asan`), and what it emits is bounded. */
static void test_toxic_every_type_survives_garbage(void **state)
{
    (void)state;
    static const char *const prefixes[] = {
        "",
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n",
        "GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n\r\n",
    };
    prng r;
    prng_seed(&r, 77);
    for (const toxic_type *const *ty = toxic_registry_all(); *ty; ty++) {
        for (size_t pfx = 0; pfx < sizeof prefixes / sizeof prefixes[0]; pfx++) {
            for (int round = 0; round < 20; round++) {
                testenv *t = te_new((*ty)->name, NULL, (uint64_t)round);
                if (!t) { /* needs attributes (none such today) */
                    continue;
                }
                uint64_t now = 0;
                te_data(t, now, prefixes[pfx], strlen(prefixes[pfx]));
                unsigned char buf[700];
                for (int k = 0; k < 8 && !t->closed; k++) {
                    size_t n = (size_t)prng_below(&r, sizeof buf) + 1;
                    for (size_t i = 0; i < n; i++) {
                        uint64_t x = prng_next(&r);
                        /* mostly plausible bytes: frame headers, line ends, hex */
                        buf[i] = (x & 3) == 0 ? (unsigned char)"\r\n:0a\x81\x82\x88\x89"[(x >> 8) % 9]
                                              : (unsigned char)(x >> 16);
                    }
                    te_data(t, now, buf, n);
                    now += prng_below(&r, 3000000);
                    te_tick(t, now);
                }
                te_eof(t, now);
                te_tick(t, now + 10000000);
                te_flush(t, now + 10000001);
                assert_true(t->out_len <= sizeof t->out);
                te_free(t);
            }
        }
    }
}

/* The registry is built from common/toxic_names.h (which the harness checks
 * scenarios against): every name there resolves to a type of that name. */
static void test_toxic_registry_matches_shared_names(void **state)
{
    (void)state;
#define NAME_STR(n) #n,
    static const char *const names[] = {TOXIC_NAMES(NAME_STR)};
    const toxic_type *const *all = toxic_registry_all();
    size_t n = 0;
    while (all[n])
        n++;
    assert_int_equal(n, sizeof names / sizeof *names);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(all[i]->name, names[i]);
        assert_ptr_equal(toxic_registry_find(names[i]), all[i]);
    }
    assert_null(toxic_registry_find("no_such_toxic"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_toxic_registry_matches_shared_names),
        cmocka_unit_test(test_toxic_defaults_name_stream_toxicity),
        cmocka_unit_test(test_toxic_rejects_bad_input),
        cmocka_unit_test(test_toxic_update_is_atomic),
        cmocka_unit_test(test_toxic_schedule_window_and_flapping),
        cmocka_unit_test(test_toxic_schedule_after_messages),
        cmocka_unit_test(test_toxic_after_messages_where_counted),
        cmocka_unit_test(test_toxic_target_client),
        cmocka_unit_test(test_toxic_every_type_survives_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
