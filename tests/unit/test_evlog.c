/* test_evlog.c — the action log: indices, the bounded ring, `since` by
 * index and by time, the JSON-lines file. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "evlog.h"

static json_t *page(evlog *l, uint64_t since, size_t max)
{
    struct evbuffer *b = evbuffer_new();
    evlog_write_since(l, since, max, b);
    size_t n = evbuffer_get_length(b);
    json_error_t je;
    json_t *j = json_loadb((const char *)evbuffer_pullup(b, -1), n, 0, &je);
    evbuffer_free(b);
    assert_non_null(j);
    return j;
}

static void test_evlog_ring_and_since(void **state)
{
    (void)state;
    char path[] = "/tmp/test_evlog_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    char err[128];
    evlog *l = evlog_new(path, 4, err, sizeof err);
    assert_non_null(l);
    for (int i = 0; i < 6; i++)
        evlog_add(l, "p", (uint64_t)i + 1, i % 2 ? "t" : NULL, "drop", json_pack("{s:i}", "msg", i));
    assert_int_equal(evlog_count(l), 6);
    json_t *j = page(l, 0, 100);
    assert_int_equal(json_integer_value(json_object_get(j, "first")), 2); /* ring of 4 */
    assert_int_equal(json_integer_value(json_object_get(j, "next")), 6);
    json_t *ev = json_object_get(j, "events");
    assert_int_equal(json_array_size(ev), 4);
    json_t *e0 = json_array_get(ev, 0);
    assert_int_equal(json_integer_value(json_object_get(e0, "i")), 2);
    assert_int_equal(json_integer_value(json_object_get(e0, "msg")), 2);
    assert_string_equal(json_string_value(json_object_get(e0, "action")), "drop");
    assert_null(json_object_get(e0, "toxic"));
    uint64_t t3 = (uint64_t)json_integer_value(json_object_get(json_array_get(ev, 1), "t_us"));
    json_decref(j);
    j = page(l, 4, 1); /* by index, limited */
    assert_int_equal(json_array_size(json_object_get(j, "events")), 1);
    assert_int_equal(json_integer_value(json_object_get(j, "next")), 5);
    json_decref(j);
    j = page(l, t3, 100); /* by time */
    ev = json_object_get(j, "events");
    assert_true(json_array_size(ev) >= 3);
    assert_true((uint64_t)json_integer_value(json_object_get(json_array_get(ev, 0), "t_us")) >= t3);
    json_decref(j);
    j = page(l, 99, 100); /* past the end: nothing, next stays at the end */
    assert_int_equal(json_array_size(json_object_get(j, "events")), 0);
    assert_int_equal(json_integer_value(json_object_get(j, "next")), 6);
    json_decref(j);
    evlog_free(l);
    /* the file has every line, the ring's overflow included */
    FILE *f = fopen(path, "r");
    char line[512];
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        json_t *o = json_loads(line, 0, NULL);
        assert_non_null(o);
        assert_int_equal(json_integer_value(json_object_get(o, "i")), n);
        json_decref(o);
        n++;
    }
    fclose(f);
    unlink(path);
    assert_int_equal(n, 6);
    assert_null(evlog_new("/nonexistent/dir/x.jsonl", 4, err, sizeof err));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_evlog_ring_and_since),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
