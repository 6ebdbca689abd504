/* test_netfault.c — kernel faults turned into nftables rulesets, tc batches
 * and MTUs (pure functions: no namespace is touched), and the kernel-support
 * check; the kernel timeline in faultplan. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../harness/faultplan.h"
#include "../../harness/netfault.h"

static const char *const Y =
    "duration: 30s\n"
    "network: {namespaces: true}\n"
    "clients: [{name: a}, {name: b}]\n"
    "faults:\n"
    "  - {name: loss, at: 1s, for: 2s, packet_loss: {percent: 2.5}, group: b, direction: upstream}\n" /* f0 */
    "  - {name: part, at: 1s, for: 2s, partition: true}\n"                                          /* f1 */
    "  - {name: rst, at: 1s, tcp_reset: true, direction: downstream}\n"                              /* f2 */
    "  - {name: rate, at: 1s, rate: {kbit_per_s: 512}, direction: downstream}\n"                     /* f3 */
    "  - {name: m1, at: 1s, mtu: {bytes: 1200}}\n"                                                   /* f4 */
    "  - {name: m2, at: 1s, mtu: {bytes: 1000}}\n"                                                   /* f5 */
    "  - {name: slow, at: 1s, delay: {delay: 50ms, jitter: 5ms}, group: a}\n"                        /* f6 */
    "  - {name: flap, at: 10s, for: 4s, partition: true, flap: {on: 1s, off: 1s}}\n";                /* f7 */

static void load(scenario *s)
{
    scn_diag d;
    scn_diag_init(&d);
    int rc = scenario_load_string("t.yaml", Y, strlen(Y), NULL, s, &d);
    for (size_t i = 0; i < d.n; i++)
        fprintf(stderr, "%s\n", d.msgs[i]);
    assert_int_equal(rc, 0);
    scn_diag_free(&d);
}

static void test_netfault_nft_rules_by_direction_and_group(void **state)
{
    (void)state;
    scenario s;
    load(&s);
    unsigned char active[8] = {1, 1, 1, 0, 0, 0, 0, 0};
    char *up = netfault_nft_ruleset(&s, active, "rtx1s", SCN_DIR_UPSTREAM);
    char *down = netfault_nft_ruleset(&s, active, "rtx1c", SCN_DIR_DOWNSTREAM);
    assert_non_null(up);
    assert_non_null(down);
    /* atomic replacement, input hook of the receiving side */
    assert_non_null(strstr(up, "table inet rtchaos\ndelete table inet rtchaos\ntable inet rtchaos {"));
    assert_non_null(strstr(up, "chain upstream {\n  type filter hook input priority 0; policy accept;"));
    assert_null(strstr(up, "hook output"));
    /* loss: upstream only, group b's source address, 2.5% = 250 of 10000, counted first */
    assert_non_null(strstr(up, "iifname \"rtx1s\" ip saddr 198.18.0.11 counter comment \"f0s\""));
    assert_non_null(strstr(up, "iifname \"rtx1s\" ip saddr 198.18.0.11 numgen random mod 10000 < 250 counter drop "
                               "comment \"f0\""));
    assert_null(strstr(down, "\"f0\""));
    /* partition: both ways, a silent drop */
    assert_non_null(strstr(up, "iifname \"rtx1s\" counter drop comment \"f1\""));
    assert_non_null(strstr(down, "iifname \"rtx1c\" counter drop comment \"f1\""));
    assert_null(strstr(up, "reject with tcp reset comment \"f1\""));
    /* tcp_reset: downstream only */
    assert_non_null(strstr(down, "meta l4proto tcp counter reject with tcp reset comment \"f2\""));
    assert_null(strstr(up, "\"f2\""));
    free(up);
    free(down);
    /* nothing active: empty chains */
    unsigned char none[8] = {0};
    up = netfault_nft_ruleset(&s, none, "rtx1s", SCN_DIR_UPSTREAM);
    assert_null(strstr(up, "comment"));
    free(up);
    scenario_free(&s);
}

static void test_netfault_tc_and_mtu(void **state)
{
    (void)state;
    scenario s;
    load(&s);
    unsigned char active[8] = {0, 0, 0, 1, 1, 1, 1, 0};
    char *down = netfault_tc_batch(&s, active, "rtx1s", SCN_DIR_DOWNSTREAM);
    char *up = netfault_tc_batch(&s, active, "rtx1c", SCN_DIR_UPSTREAM);
    assert_string_equal(down, "qdisc add dev rtx1s root handle 1: htb\n"
                              "class add dev rtx1s parent 1: classid 1:13 htb rate 512kbit ceil 512kbit\n"
                              "filter add dev rtx1s parent 1: protocol ip prio 4 u32 match ip dst 198.18.0.0/24 "
                              "flowid 1:13\n"
                              "class add dev rtx1s parent 1: classid 1:16 htb rate 10gbit\n"
                              "qdisc add dev rtx1s parent 1:16 handle 16: netem delay 50000us 5000us\n"
                              "filter add dev rtx1s parent 1: protocol ip prio 7 u32 match ip dst 198.18.0.10/32 "
                              "flowid 1:16\n");
    /* upstream: only the delay (both directions), by group a's source */
    assert_non_null(strstr(up, "match ip src 198.18.0.10/32 flowid 1:16"));
    assert_null(strstr(up, "512kbit"));
    free(down);
    free(up);
    assert_int_equal(netfault_mtu(&s, active), 1000);
    unsigned char none[8] = {0};
    assert_int_equal(netfault_mtu(&s, none), 1500);
    down = netfault_tc_batch(&s, none, "rtx1s", SCN_DIR_DOWNSTREAM);
    assert_string_equal(down, "");
    free(down);
    scenario_free(&s);
}

static void test_netfault_support_and_mechanism(void **state)
{
    (void)state;
    scenario s;
    load(&s);
    char err[512];
    netns_support all = {1, 1, 1, 1}, no_netem = {1, 1, 1, 0}, no_nft = {0, 1, 1, 1};
    assert_int_equal(netfault_supported(&s, &all, err, sizeof err), 0);
    assert_int_equal(netfault_supported(&s, &no_netem, err, sizeof err), -1);
    assert_string_equal(err, "fault 'slow' (delay) needs the netem qdisc, which this kernel does not offer "
                             "(CONFIG_NET_SCH_NETEM is not set); use the proxy's latency toxic instead");
    assert_int_equal(netfault_supported(&s, &no_nft, err, sizeof err), -1);
    assert_string_equal(err, "fault 'loss' (packet_loss) needs nftables, which this kernel does not offer");
    assert_string_equal(netfault_mechanism(&s.faults[0]), "nftables");
    assert_string_equal(netfault_mechanism(&s.faults[3]), "tc-htb");
    assert_string_equal(netfault_mechanism(&s.faults[4]), "ip-link-mtu");
    assert_string_equal(netfault_mechanism(&s.faults[6]), "tc-netem");
    scenario_free(&s);
}

static void test_netfault_timeline(void **state)
{
    (void)state;
    scenario s;
    load(&s);
    fplan_action *p;
    size_t n;
    char err[128];
    assert_int_equal(faultplan_build(&s, &p, &n, err, sizeof err), 0);
    /* the flapping partition (f7): on at 10 s, 12 s; off at 11 s, 13 s */
    unsigned on = 0, off = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i].fault != 7)
            continue;
        if (p[i].kind == FPLAN_NET_APPLY)
            assert_int_equal(p[i].t_us, (10 + 2 * on++) * 1000000ULL);
        else {
            assert_int_equal(p[i].kind, FPLAN_NET_LIFT);
            assert_int_equal(p[i].t_us, (11 + 2 * off++) * 1000000ULL);
        }
    }
    assert_int_equal(on, 2);
    assert_int_equal(off, 2);
    assert_string_equal(faultplan_kind_str(FPLAN_NET_APPLY), "kernel_fault_apply");
    assert_string_equal(faultplan_kind_str(FPLAN_NET_LIFT), "kernel_fault_lift");
    free(p);
    scenario_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_netfault_nft_rules_by_direction_and_group),
        cmocka_unit_test(test_netfault_tc_and_mtu),
        cmocka_unit_test(test_netfault_support_and_mechanism),
        cmocka_unit_test(test_netfault_timeline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
