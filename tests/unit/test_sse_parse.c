/* test_sse_parse.c — the SSE field parser under every split of its input, line endings, comments, retry, ids, multi-line data. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sse_parse.h"

typedef struct rec {
    char log[8192];
    size_t n;
} rec;

static void put(rec *r, const char *s, size_t n)
{
    assert_true(r->n + n < sizeof r->log);
    memcpy(r->log + r->n, s, n);
    r->n += n;
    r->log[r->n] = '\0';
}

static void on_event(void *ud, const char *ev, size_t el, const char *d, size_t dl)
{
    rec *r = ud;
    put(r, "E[", 2);
    put(r, ev, el);
    put(r, "|", 1);
    put(r, d, dl);
    put(r, "]", 1);
}
static void on_id(void *ud, const char *id, size_t n)
{
    rec *r = ud;
    put(r, "I[", 2);
    put(r, id, n);
    put(r, "]", 1);
}
static void on_retry(void *ud, uint64_t ms)
{
    char b[32];
    int n = snprintf(b, sizeof b, "R[%llu]", (unsigned long long)ms);
    put(ud, b, (size_t)n);
}
static void on_comment(void *ud) { put(ud, "C", 1); }

static const sse_callbacks cbs = {on_event, on_id, on_retry, on_comment};

/* Feeds s whole, then split at every pair of boundaries (3 pieces), each
 * piece in its own exactly-sized heap buffer (an overread faults under
 * ASan); every run must log `want`. */
static void check_all_splits(const char *s, const char *want)
{
    size_t n = strlen(s);
    for (size_t i = 0; i <= n; i++) {
        for (size_t j = i; j <= n; j++) {
            rec r = {.n = 0};
            sse_parser p;
            memset(&p, 0, sizeof p);
            size_t cuts[4] = {0, i, j, n};
            for (int k = 0; k < 3; k++) {
                size_t len = cuts[k + 1] - cuts[k];
                char *piece = malloc(len ? len : 1);
                memcpy(piece, s + cuts[k], len);
                assert_int_equal(sse_feed(&p, piece, len, &cbs, &r, 1 << 20), 0);
                free(piece);
            }
            if (strcmp(r.log, want) != 0)
                fail_msg("split %zu/%zu: got %s want %s", i, j, r.log, want);
            sse_reset(&p);
        }
    }
}

static void test_sse_parse_basic_event(void **state)
{
    (void)state;
    check_all_splits("id: 7\ndata: {\"seq\":1}\n\n", "I[7]E[message|{\"seq\":1}]");
}

static void test_sse_parse_crlf_and_cr(void **state)
{
    (void)state;
    check_all_splits("data: a\r\n\r\ndata: b\r\rdata:c\n\n", "E[message|a]E[message|b]E[message|c]");
}

static void test_sse_parse_comments_retry_event_type(void **state)
{
    (void)state;
    check_all_splits(": hb\n\nretry: 1500\nretry: x1\nevent: x\ndata\ndata: two\n\n",
                     "CR[1500]E[x|\ntwo]");
}

static void test_sse_parse_multiline_data_and_space(void **state)
{
    (void)state;
    check_all_splits("data:  a\ndata:b\nid\n\n", "I[]E[message| a\nb]");
}

static void test_sse_parse_no_data_no_event(void **state)
{
    (void)state;
    check_all_splits("id: 5\n\nevent: y\n\n", "I[5]");
}

static void test_sse_parse_incomplete_kept(void **state)
{
    (void)state;
    rec r = {.n = 0};
    sse_parser p;
    memset(&p, 0, sizeof p);
    assert_int_equal(sse_feed(&p, "data: x\n", 8, &cbs, &r, 1 << 20), 0);
    assert_int_equal(r.n, 0);
    assert_non_null(p.pend);
    assert_int_equal(sse_feed(&p, "\n", 1, &cbs, &r, 1 << 20), 0);
    assert_string_equal(r.log, "E[message|x]");
    assert_null(p.pend); /* idle parsers hold no buffer */
    sse_reset(&p);
}

static void test_sse_parse_event_too_big(void **state)
{
    (void)state;
    rec r = {.n = 0};
    sse_parser p;
    memset(&p, 0, sizeof p);
    char big[300];
    memset(big, 'a', sizeof big);
    memcpy(big, "data: ", 6);
    assert_int_equal(sse_feed(&p, big, 100, &cbs, &r, 256), 0);
    assert_int_equal(sse_feed(&p, big + 100, 200, &cbs, &r, 256), -1);
    sse_reset(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sse_parse_basic_event),
        cmocka_unit_test(test_sse_parse_crlf_and_cr),
        cmocka_unit_test(test_sse_parse_comments_retry_event_type),
        cmocka_unit_test(test_sse_parse_multiline_data_and_space),
        cmocka_unit_test(test_sse_parse_no_data_no_event),
        cmocka_unit_test(test_sse_parse_incomplete_kept),
        cmocka_unit_test(test_sse_parse_event_too_big),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
