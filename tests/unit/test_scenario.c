/* test_scenario.c — the scenario parser: defaults, every section, invalid
 * files and their exact messages (file:line:col), --set, durations. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../harness/scenario.h"

static const char *MIN = "duration: 5s\nclients:\n  - count: 3\n";

/* Loads yaml as "t.yaml"; returns the rc and keeps the diagnostics. */
static int load(const char *yaml, const char *const *sets, size_t nsets, int target, scenario *s,
                scn_diag *d)
{
    scn_load_opts o = {.sets = sets, .nsets = nsets, .has_target = target};
    scn_diag_init(d);
    return scenario_load_string("t.yaml", yaml, strlen(yaml), &o, s, d);
}

/* Asserts that loading fails with exactly the messages given, in order. */
static void expect_errors(const char *yaml, const char *const *sets, size_t nsets, int target,
                          const char *const *want, size_t nwant)
{
    scenario s;
    scn_diag d;
    int rc = load(yaml, sets, nsets, target, &s, &d);
    if (d.n != nwant) {
        for (size_t i = 0; i < d.n; i++)
            fprintf(stderr, "got: %s\n", d.msgs[i]);
    }
    assert_int_equal(rc, -1);
    assert_int_equal(d.n, nwant);
    for (size_t i = 0; i < nwant; i++)
        assert_string_equal(d.msgs[i], want[i]);
    scn_diag_free(&d);
}

#define EXPECT(yaml, ...)                                                                    \
    do {                                                                                     \
        const char *const want_[] = {__VA_ARGS__};                                            \
        expect_errors(yaml, NULL, 0, 0, want_, sizeof want_ / sizeof *want_);                  \
    } while (0)

static void test_scenario_minimal_defaults(void **state)
{
    (void)state;
    scenario s;
    scn_diag d;
    assert_int_equal(load(MIN, NULL, 0, 0, &s, &d), 0);
    assert_string_equal(s.name, "t");
    assert_int_equal(s.duration_us, 5000000);
    assert_int_equal(s.warmup_us, 2000000);
    assert_int_equal(s.drain_us, 5000000);
    assert_int_equal(s.seed, 1);
    assert_int_equal(s.channels.count, 1);
    assert_string_equal(s.channels.pattern, "ch{i}");
    assert_int_equal(s.nclients, 1);
    assert_string_equal(s.clients[0].name, "group0");
    assert_int_equal(s.clients[0].count, 3);
    assert_int_equal(s.clients[0].transport, SCN_CL_WS);
    assert_int_equal(s.clients[0].resume, 1);
    assert_int_equal(s.clients[0].reconnect.enabled, 1);
    assert_int_equal(s.clients[0].reconnect.initial_us, 100000);
    assert_int_equal(s.publishers.batch, 1);
    assert_int_equal(s.publishers.payload_bytes, 64);
    assert_int_equal(s.proxy.enabled, -1);
    assert_int_equal(scenario_needs_proxy(&s), 0);
    assert_int_equal(scenario_has_server_faults(&s), 0);
    assert_int_equal(s.harness.threads, 2);
    assert_int_equal(d.n, 0);
    scenario_free(&s);
    scn_diag_free(&d);
}

static void test_scenario_full_file(void **state)
{
    (void)state;
    const char *y =
        "name: full\n"
        "seed: 42\n"
        "duration: 30s\n"
        "warmup: 500ms\n"
        "drain: 3s\n"
        "server:\n"
        "  args: [--heartbeat-ms, '500']\n"
        "  ready_timeout: 20s\n"
        "proxy:\n"
        "  enabled: true\n"
        "  toxics:\n"
        "    - {type: latency, attributes: {latency: 5, jitter: 1}}\n"
        "channels: {count: 8, pattern: 'orders.{i}', history: 500}\n"
        "publishers:\n"
        "  rate_per_s: 50\n"
        "  schedule: bursts\n"
        "  burst_size: 20\n"
        "  burst_every: 250ms\n"
        "  payload_bytes: 128\n"
        "  transport: ws\n"
        "  batch: 5\n"
        "  idempotency_retries: 2\n"
        "clients:\n"
        "  - name: fast\n"
        "    count: 100\n"
        "    transport: sse\n"
        "    channels_per_client: 4\n"
        "    ramp_up: 2s\n"
        "    reconnect: {initial: 50ms, max: 2s, jitter: 0.2, max_attempts: 9, honour_retry: false}\n"
        "    resume: false\n"
        "    token: abc\n"
        "  - name: slow\n"
        "    count: 5\n"
        "    transport: poll\n"
        "    read_rate_bytes_per_s: 1024\n"
        "faults:\n"
        "  - {name: spike, at: 10s, for: 5s, toxic: latency, stream: upstream, toxicity: 0.5,\n"
        "     attributes: {latency: 200, jitter: 20, distribution: pareto, on: yes}}\n"
        "  - {at: 12s, disconnect: 0.5, group: fast}\n"
        "  - {at: 20s, for: 2s, server: pause}\n"
        "  - {at: 25s, server: restart}\n"
        "  - {at: 1s, for: 8s, toxic: blackhole, flap: {on: 1s, off: 2s}}\n"
        "budgets:\n"
        "  - p95_live_ms <= 50\n"
        "  - 'delivered_ratio >= 0.999'\n"
        "  - lost == 0\n"
        "harness: {threads: 4, workers: 2, source_addrs: [127.0.0.2, 127.0.0.3]}\n";
    scenario s;
    scn_diag d;
    int rc = load(y, NULL, 0, 0, &s, &d);
    for (size_t i = 0; i < d.n; i++)
        fprintf(stderr, "%s\n", d.msgs[i]);
    assert_int_equal(rc, 0);
    assert_string_equal(s.name, "full");
    assert_int_equal(s.seed, 42);
    assert_int_equal(s.warmup_us, 500000);
    assert_int_equal(s.server.nargs, 2);
    assert_string_equal(s.server.args[1], "500");
    assert_int_equal(s.server.ready_timeout_us, 20000000);
    assert_int_equal(s.proxy.enabled, 1);
    assert_int_equal(s.proxy.ntoxics, 1);
    assert_string_equal(s.proxy.toxics[0].type, "latency");
    assert_int_equal(json_integer_value(json_object_get(s.proxy.toxics[0].attributes, "latency")), 5);
    assert_int_equal(s.channels.count, 8);
    assert_int_equal(s.channels.history, 500);
    assert_int_equal(s.publishers.schedule, SCN_SCHED_BURSTS);
    assert_int_equal(s.publishers.burst_every_us, 250000);
    assert_int_equal(s.publishers.transport, SCN_PUB_WS);
    assert_int_equal(s.publishers.batch, 5);
    assert_int_equal(s.nclients, 2);
    assert_int_equal(s.clients[0].transport, SCN_CL_SSE);
    assert_int_equal(s.clients[0].reconnect.max_attempts, 9);
    assert_int_equal(s.clients[0].reconnect.honour_retry, 0);
    assert_true(s.clients[0].reconnect.jitter == 0.2);
    assert_int_equal(s.clients[0].resume, 0);
    assert_string_equal(s.clients[0].token, "abc");
    assert_int_equal(s.clients[1].read_rate_bytes_per_s, 1024);
    assert_int_equal(s.nfaults, 5);
    assert_int_equal(s.faults[0].kind, SCN_FAULT_TOXIC);
    assert_string_equal(s.faults[0].toxic.type, "latency");
    assert_string_equal(s.faults[0].toxic.stream, "upstream");
    assert_string_equal(s.faults[0].toxic.name, "spike");
    assert_true(s.faults[0].toxic.toxicity == 0.5);
    const json_t *a = s.faults[0].toxic.attributes;
    assert_int_equal(json_integer_value(json_object_get(a, "latency")), 200);
    assert_string_equal(json_string_value(json_object_get(a, "distribution")), "pareto");
    assert_true(json_is_true(json_object_get(a, "on")));
    assert_int_equal(s.faults[1].kind, SCN_FAULT_DISCONNECT);
    assert_true(s.faults[1].fraction == 0.5);
    assert_string_equal(s.faults[1].group, "fast");
    assert_string_equal(s.faults[1].name, "disconnect@12s");
    assert_int_equal(s.faults[2].kind, SCN_FAULT_SERVER_PAUSE);
    assert_int_equal(s.faults[3].kind, SCN_FAULT_SERVER_RESTART);
    assert_int_equal(s.faults[4].flap_on_us, 1000000);
    assert_int_equal(s.faults[4].flap_off_us, 2000000);
    assert_int_equal(s.faults[4].line, 42);
    assert_int_equal(s.faults[4].col, 5);
    assert_int_equal(s.nbudgets, 3);
    assert_string_equal(s.budgets[0].metric, "p95_live_ms");
    assert_int_equal(s.budgets[0].op, SCN_OP_LE);
    assert_true(s.budgets[0].value == 50);
    assert_string_equal(s.budgets[1].metric, "delivered_ratio");
    assert_int_equal(s.budgets[1].op, SCN_OP_GE);
    assert_int_equal(s.budgets[2].op, SCN_OP_EQ);
    assert_int_equal(s.harness.workers, 2);
    assert_int_equal(s.harness.nsource_addrs, 2);
    assert_int_equal(scenario_needs_proxy(&s), 1);
    assert_int_equal(scenario_has_server_faults(&s), 1);
    assert_int_equal(scenario_total_clients(&s), 105);
    json_t *j = scenario_to_json(&s);
    assert_non_null(j);
    assert_int_equal(json_array_size(json_object_get(j, "faults")), 5);
    json_decref(j);
    scenario_free(&s);
    scn_diag_free(&d);
}

static void test_scenario_unknown_keys_did_you_mean(void **state)
{
    (void)state;
    EXPECT("duration: 5s\nchanels: {count: 2}\nclients:\n  - count: 1\n    ramp: 1s\n    colour: red\n",
           "t.yaml:2:1: unknown key 'chanels' in the scenario (did you mean 'channels'?)",
           "t.yaml:5:5: unknown key 'ramp' in clients[0] (did you mean 'ramp_up'?)",
           "t.yaml:6:5: unknown key 'colour' in clients[0]; expected one of: name, count, transport, "
           "channels_per_client, ramp_up, read_rate_bytes_per_s, reconnect, resume, token, idle_timeout, "
           "poll_timeout, read_rate_msgs_per_s, connect_timeout, behavior, attack, fallback, deflate, batch, delta");
}

static void test_scenario_wrong_types_and_ranges(void **state)
{
    (void)state;
    EXPECT("duration: [1, 2]\nseed: -3\nchannels: {count: 0}\npublishers: {rate_per_s: fast, payload_bytes: 8}\n"
           "clients: {count: 1}\n",
           "t.yaml:1:11: expected a duration like 500ms, 5s or 2m, got a list",
           "t.yaml:2:7: expected an integer from 0 to 18446744073709551615, got '-3'",
           "t.yaml:3:19: 0 is out of range: expected an integer from 1 to 100000",
           "t.yaml:4:26: expected a number from 0 to 1000000, got 'fast'",
           "t.yaml:4:47: 8 is out of range: expected an integer from 16 to 1048576",
           "t.yaml:5:10: clients: expected a list, got a mapping");
}

static void test_scenario_missing_required(void **state)
{
    (void)state;
    EXPECT("name: x\n", "t.yaml:1:1: missing key 'duration' (how long the measured run lasts, e.g. 30s)",
           "t.yaml:1:1: missing key 'clients' (a list of client groups, e.g. - {count: 100, transport: ws})");
    EXPECT("", "t.yaml:1:1: empty scenario: expected a mapping with at least 'duration' and 'clients'");
    EXPECT("- a\n- b\n", "t.yaml:1:1: expected the scenario to be a mapping (name:, duration:, clients: …)");
}

static void test_scenario_yaml_syntax_error(void **state)
{
    (void)state;
    EXPECT("duration: 5s\nclients:\n  - count: [1\n",
           "t.yaml:4:1: invalid YAML: did not find expected ',' or ']' while parsing a flow sequence");
}

static void test_scenario_enums(void **state)
{
    (void)state;
    EXPECT("duration: 5s\npublishers: {schedule: poison, transport: grpc}\nclients:\n  - {transport: websocket}\n",
           "t.yaml:2:24: unknown value 'poison' (did you mean 'poisson'?); expected one of constant, poisson, bursts",
           "t.yaml:2:43: unknown value 'grpc'; expected one of http, ws",
           "t.yaml:4:17: unknown value 'websocket'; expected one of ws, sse, poll");
}

static void test_scenario_fault_checks(void **state)
{
    (void)state;
    EXPECT("duration: 10s\nclients:\n  - {name: a}\nfaults:\n"
           "  - {at: 12s, toxic: latency}\n"            /* 5 */
           "  - {at: 5s, for: 6s, toxic: latency}\n"    /* 6 */
           "  - {at: 1s, toxic: latncy}\n"              /* 7 */
           "  - {at: 1s, disconnect: 0.5, for: 1s}\n"   /* 8 */
           "  - {at: 1s, disconnect: 1.5}\n"            /* 9 */
           "  - {at: 1s, disconnect: 0.5, group: b}\n"  /* 10 */
           "  - {at: 1s, server: pause}\n"              /* 11 */
           "  - {at: 1s, toxic: latency, server: kill}\n" /* 12 */
           "  - {for: 1s, server: kill}\n"              /* 13 */
           "  - {at: 1s, server: reboot}\n",            /* 14 */
           "t.yaml:5:10: faults[0]: starts at 12.000s, beyond the duration (10.000s): expected at < duration",
           "t.yaml:6:19: faults[1]: ends at 11.000s, beyond the duration (10.000s): expected at + for <= duration",
           "t.yaml:7:21: unknown value 'latncy' (did you mean 'latency'?)",
           "t.yaml:8:31: faults[3]: a disconnect is instantaneous: it takes no 'for'",
           "t.yaml:9:26: 1.5 is out of range: expected a number from 0 to 1",
           "t.yaml:10:38: faults[5]: no client group named 'b'; groups: a",
           "t.yaml:11:5: faults[6]: a pause needs 'for' (how long the server stays stopped)",
           "t.yaml:12:5: faults[7]: expected exactly one action: 'toxic: TYPE', 'disconnect: FRACTION', "
           "'server: kill|pause|restart' or a kernel fault (packet_loss, partition, partition_oneway, tcp_reset, "
           "rate, mtu, delay, reorder) (found several)",
           "t.yaml:13:5: faults[8]: missing key 'at' (when the fault starts, e.g. 10s)",
           "t.yaml:14:22: unknown value 'reboot'; expected one of kill, pause, restart, kill-node, pause-node, "
           "restart-node, redis-kill, redis-pause, redis-restart");
}

static void test_scenario_network_faults(void **state)
{
    (void)state;
    scenario s;
    scn_diag d;
    const char *y = "duration: 10s\nnetwork: {namespaces: true}\nclients:\n  - {name: a}\n  - {name: b}\nfaults:\n"
                    "  - {at: 1s, for: 2s, packet_loss: {percent: 2.5}, group: b, direction: upstream}\n"
                    "  - {at: 1s, for: 2s, partition: true}\n"
                    "  - {at: 1s, for: 2s, partition_oneway: {}, direction: downstream}\n"
                    "  - {at: 1s, tcp_reset: true, flap: {on: 1s, off: 1s}}\n"
                    "  - {at: 1s, rate: {kbit_per_s: 512}}\n"
                    "  - {at: 1s, mtu: {bytes: 1000}}\n"
                    "  - {at: 1s, delay: {delay: 50ms, jitter: 5ms}}\n";
    assert_int_equal(load(y, NULL, 0, 0, &s, &d), 0);
    assert_true(s.network.namespaces);
    assert_int_equal(s.nfaults, 7);
    assert_int_equal(s.faults[0].kind, SCN_FAULT_NETWORK);
    assert_int_equal(s.faults[0].net.kind, SCN_NET_LOSS);
    assert_true(s.faults[0].net.percent == 2.5);
    assert_int_equal(s.faults[0].net.direction, SCN_DIR_UPSTREAM);
    assert_string_equal(s.faults[0].group, "b");
    assert_string_equal(s.faults[0].name, "packet_loss@1s");
    assert_int_equal(s.faults[1].net.kind, SCN_NET_PARTITION);
    assert_int_equal(s.faults[1].net.direction, SCN_DIR_BOTH);
    assert_int_equal(s.faults[2].net.direction, SCN_DIR_DOWNSTREAM);
    assert_int_equal(s.faults[3].flap_on_us, 1000000);
    assert_int_equal(s.faults[4].net.rate_kbit_per_s, 512);
    assert_int_equal(s.faults[5].net.mtu_bytes, 1000);
    assert_int_equal(s.faults[6].net.delay_us, 50000);
    assert_int_equal(s.faults[6].net.jitter_us, 5000);
    assert_int_equal(scenario_has_net_faults(&s), 1);
    scenario_free(&s);
    scn_diag_free(&d);

    EXPECT("duration: 10s\nnetwork: {namespaces: true}\nclients:\n  - {name: a}\nfaults:\n"
           "  - {at: 1s, packet_loss: {percent: 0}}\n"                      /* 6 */
           "  - {at: 1s, partition_oneway: true}\n"                         /* 7 */
           "  - {at: 1s, mtu: {bytes: 9000}}\n"                             /* 8 */
           "  - {at: 1s, rate: {percent: 3}}\n"                             /* 9 */
           "  - {at: 1s, toxic: latency, direction: upstream}\n"            /* 10 */
           "  - {at: 1s, partition: true, group: zz}\n"                     /* 11 */
           "  - {at: 1s, mtu: {bytes: 1000}, group: a}\n",                  /* 12 */
           "t.yaml:6:37: percent must be above 0",
           "t.yaml:7:14: faults[1]: partition_oneway needs 'direction: upstream' or 'direction: downstream' (use "
           "partition for both ways)",
           "t.yaml:8:27: 9000 is out of range: expected an integer from 576 to 1500",
           "t.yaml:9:20: rate: expected {kbit_per_s: N}",
           "t.yaml:9:21: rate takes no 'percent'",
           "t.yaml:10:30: faults[4]: 'direction' only applies to a kernel fault (a toxic has 'stream')",
           "t.yaml:11:38: faults[5]: no client group named 'zz'; groups: a",
           "t.yaml:12:14: faults[6]: mtu applies to the whole link (both ways, every group): remove 'direction' and "
           "'group'");
    EXPECT("duration: 10s\nclients:\n  - {name: a}\nfaults:\n  - {at: 1s, packet_loss: {percent: 2}}\n",
           "t.yaml:5:14: faults[0]: 'packet_loss' is a kernel fault: it needs 'network: {namespaces: true}' (the "
           "harness then runs the server and the clients in network namespaces)");
    /* --target cannot be placed in the namespaces */
    const char *t = "duration: 10s\nnetwork: {namespaces: true}\nclients:\n  - {count: 1}\n";
    const char *const want[] = {"t.yaml:2:10: network.namespaces: the harness puts the server it starts in a network "
                                "namespace; a --target outside the namespaces cannot be placed there (run without "
                                "--target)"};
    expect_errors(t, NULL, 0, 1, want, 1);
}

static void test_scenario_server_faults_refused_with_target(void **state)
{
    (void)state;
    const char *y = "duration: 10s\nclients:\n  - {count: 1}\nfaults:\n  - {at: 1s, for: 2s, server: kill}\n"
                    "  - {at: 1s, toxic: latency}\n";
    const char *const want[] = {
        "t.yaml:5:23: faults[0]: 'server: kill' acts on the server's process, which the harness does not "
        "run with --target; remove this fault or run without --target"};
    expect_errors(y, NULL, 0, 1, want, 1);
    scenario s;
    scn_diag d;
    assert_int_equal(load(y, NULL, 0, 0, &s, &d), 0);
    scenario_free(&s);
    scn_diag_free(&d);
}

static void test_scenario_server_faults_overlap(void **state)
{
    (void)state;
    EXPECT("duration: 20s\nclients: [{count: 1}]\nfaults:\n"
           "  - {name: k, at: 2s, for: 5s, server: kill}\n"
           "  - {name: p, at: 6s, for: 1s, server: pause}\n"
           "  - {name: r, at: 10s, server: restart}\n",
           "t.yaml:5:5: faults[1]: overlaps faults[0] ('k'): server faults act on one process and must not "
           "overlap in time");
}

static void test_scenario_budgets(void **state)
{
    (void)state;
    EXPECT("duration: 5s\nclients: [{count: 1}]\nbudgets:\n"
           "  - p95_lve_ms <= 50\n"
           "  - lost = 0\n"
           "  - 'delivered_ratio >= 2'\n"
           "  - p95_live_ms <= fast\n"
           "  - bogus_metric_name < 1\n"
           "  - {lost: 0}\n",
           "t.yaml:4:5: unknown budget metric 'p95_lve_ms' (did you mean 'p95_live_ms'?)",
           "t.yaml:5:10: expected a comparison (<=, <, >=, >, ==, !=) after 'lost', got '= 0'",
           "t.yaml:6:25: delivered_ratio is a ratio: expected a value from 0 to 1, got 2",
           "t.yaml:7:20: expected a number after 'p95_live_ms <=', got 'fast'",
           "t.yaml:8:5: unknown budget metric 'bogus_metric_name'; expected pNN_KIND_ms or max_KIND_ms (NN: "
           "50, 95, 99, 999; KIND: live, replay, connect, resync, reconnect, live_outside_faults, "
           "live_during_faults) or one of: clients, published, delivered, expected, lost, duplicated, "
           "reordered, resync_ok, resync_failed, snapshots, gaps, reconnects, errors, epoch_changed, delta_mismatch, corrupted, misrouted, ts_altered, fallbacks, resync_signalled, missed_by_design, "
           "delivered_ratio, rx_bytes_per_event, tx_bytes_per_event, rx_bytes_per_client_min, server_idle_close_s, server_retrans_pct, client_retrans_pct, server_loop_busy_mean, server_loop_busy_peak, broker_lag_p50_ms, broker_lag_p95_ms, broker_lag_p99_ms; or for attackers attack_NAME (NAME: attempts, rejected, unexpected, not_rejected, in_flight, connect_failed, sent, accepted, accepted_per_attempt, rejected_ratio, cut_p50_ms, cut_p95_ms, cut_p99_ms, cut_max_ms)",
           "t.yaml:9:5: expected a budget like 'p95_live_ms <= 50', got a mapping");
}

static void test_scenario_group_budgets(void **state)
{
    (void)state;
    EXPECT("duration: 5s\nclients: [{name: fast}, {name: slow-ones}]\nbudgets:\n"
           "  - fast.p95_live_ms <= 100\n"
           "  - slow-ones.lost == 0\n"
           "  - fats.lost == 0\n"
           "  - slow-ones.gapz == 0\n",
           "t.yaml:6:5: budget 'fats.lost': no client group named 'fats'; groups: fast, slow-ones",
           "t.yaml:7:15: unknown group budget metric 'gapz'; expected one of: p50_live_ms, live_p50_ms, "
           "p95_live_ms, live_p95_ms, p99_live_ms, live_p99_ms, clients, delivered, lost, duplicated, reordered, "
           "resync_ok, resync_failed, epoch_changed, delta_mismatch, corrupted, misrouted, ts_altered, fallbacks, resync_signalled, missed_by_design; or for attackers attack_NAME (NAME: attempts, rejected, unexpected, not_rejected, in_flight, connect_failed, sent, accepted, accepted_per_attempt, rejected_ratio, cut_p50_ms, cut_p95_ms, cut_p99_ms, cut_max_ms)");
}

static void test_scenario_attackers(void **state)
{
    (void)state;
    scenario s;
    scn_diag d;
    const char *y = "duration: 5s\nclients:\n"
                    "  - {name: legit, count: 4}\n"
                    "  - {name: flood, behavior: flood, attack: {rate_per_s: 500, messages: 900, patience: 2s}}\n"
                    "  - {name: big, behavior: oversized, transport: poll, attack: {bytes: 70000, via: http, "
                    "expect: [413, closed]}}\n"
                    "  - {name: loris, behavior: slowloris, transport: sse, attack: {byte_every: 50ms, attempts: 3}}\n"
                    "budgets:\n  - attack_rejected_ratio >= 1\n  - loris.attack_cut_p99_ms <= 4000\n"
                    "  - flood.attack_accepted_per_attempt <= 100\n";
    int rc = load(y, NULL, 0, 0, &s, &d);
    for (size_t i = 0; i < d.n; i++)
        fprintf(stderr, "got: %s\n", d.msgs[i]);
    assert_int_equal(rc, 0);
    assert_int_equal(s.clients[0].behavior, SCN_BH_SUBSCRIBER);
    assert_int_equal(s.clients[1].behavior, SCN_BH_FLOOD);
    assert_int_equal(s.clients[1].attack.rate_per_s, 500);
    assert_int_equal(s.clients[1].attack.messages, 900);
    assert_int_equal(s.clients[1].attack.patience_us, 2000000);
    assert_int_equal(s.clients[1].attack.pause_us, 100000); /* default */
    assert_int_equal(s.clients[2].behavior, SCN_BH_OVERSIZED);
    assert_int_equal(s.clients[2].attack.bytes, 70000);
    assert_true(s.clients[2].attack.via_http);
    assert_int_equal(s.clients[2].attack.n_expect, 2);
    assert_int_equal(s.clients[2].attack.expect[0], 413);
    assert_int_equal(s.clients[2].attack.expect[1], SCN_OUTCOME_CLOSED);
    assert_int_equal(s.clients[3].attack.byte_every_us, 50000);
    assert_int_equal(s.clients[3].attack.attempts, 3);
    assert_string_equal(scenario_behavior_str(s.clients[3].behavior), "slowloris");
    json_t *j = scenario_to_json(&s);
    json_t *g = json_array_get(json_object_get(j, "clients"), 2);
    assert_string_equal(json_string_value(json_object_get(g, "behavior")), "oversized");
    assert_string_equal(json_string_value(json_object_get(json_object_get(g, "attack"), "via")), "http");
    assert_null(json_object_get(json_array_get(json_object_get(j, "clients"), 0), "attack"));
    json_decref(j);
    scenario_free(&s);
    scn_diag_free(&d);
}

static void test_scenario_attacker_errors(void **state)
{
    (void)state;
    EXPECT("duration: 5s\nclients:\n"
           "  - {name: a, attack: {rate_per_s: 5}}\n"
           "  - {name: b, behavior: flud}\n"
           "  - {name: c, behavior: flood, transport: sse, attack: {bytes: 10}}\n"
           "  - {name: d, behavior: slowloris, attack: {byte_every: 0, expect: [200, 7000, nope], mesages: 3}}\n"
           "  - {name: e, behavior: oversized, attack: {via: smoke}}\n"
           "  - {name: f, behavior: oversized, count: 2000, attack: {bytes: 1048576}}\n",
           "t.yaml:3:23: clients[0]: 'attack' applies only to attacker groups (behavior: flood, oversized or "
           "slowloris)",
           "t.yaml:4:25: unknown value 'flud'; expected one of subscriber, flood, oversized, slowloris",
           "t.yaml:5:5: clients[2]: behavior flood sends WebSocket messages: it needs transport ws, not sse",
           "t.yaml:5:57: clients[2]: attack.bytes applies to behavior oversized, not flood",
           "t.yaml:6:57: byte_every must be at least 1ms",
           "t.yaml:6:74: expect: expected a WebSocket close code (1000..4999), an HTTP status (100..599) or "
           "'closed', got '7000'",
           "t.yaml:6:80: expect: expected a WebSocket close code (1000..4999), an HTTP status (100..599) or "
           "'closed', got 'nope'",
           "t.yaml:6:87: unknown key 'mesages' in attack (did you mean 'messages'?)",
           "t.yaml:7:50: unknown value 'smoke'; expected one of ws, http",
           "t.yaml:8:5: clients[5]: 2000 clients x attack.bytes 1048576 is over 1 GiB of oversized messages at "
           "once; use fewer clients or smaller messages");
}

static void test_scenario_target_protocol(void **state)
{
    (void)state;
    scenario s;
    scn_diag d;
    const char *y = "duration: 5s\ntarget: {protocol: nchan, sub_path: \"/s/{ch}\", pub_path: \"/p/{ch}\"}\n"
                    "clients:\n  - {transport: sse}\n";
    assert_int_equal(load(y, NULL, 0, 1, &s, &d), 0);
    assert_string_equal(s.target.protocol, "nchan");
    assert_string_equal(s.target.sub_path, "/s/{ch}");
    assert_string_equal(s.target.pub_path, "/p/{ch}");
    scenario_free(&s);
    scn_diag_free(&d);
    /* --protocol is target.protocol */
    const char *const sets[] = {"target.protocol=nchan"};
    assert_int_equal(load(MIN, sets, 1, 1, &s, &d), 0);
    assert_string_equal(s.target.protocol, "nchan");
    scenario_free(&s);
    scn_diag_free(&d);
    assert_int_equal(load(MIN, NULL, 0, 0, &s, &d), 0);
    assert_null(s.target.protocol); /* contract v1 */
    scenario_free(&s);
    scn_diag_free(&d);
    EXPECT("duration: 5s\ntarget: {protocol: nchn}\nclients:\n  - count: 1\n",
           "t.yaml:2:20: unknown value 'nchn' (did you mean 'nchan'?); expected one of v1, nchan, sse, ws-json, socketio, pusher");
    EXPECT("duration: 5s\ntarget: {protocl: nchan}\nclients:\n  - count: 1\n",
           "t.yaml:2:10: unknown key 'protocl' in target (did you mean 'protocol'?)");
    EXPECT("duration: 5s\ntarget: {protocol: nchan, sub_path: /sub/x, pub_path: \"/pub/{ch}/{app}\"}\n"
           "clients:\n  - count: 1\n",
           "t.yaml:2:37: target.sub_path '/sub/x': expected '{ch}' where the channel name goes, like /sub/{ch}",
           "t.yaml:2:55: target.pub_path '/pub/{ch}/{app}': unknown field '{app}' (only {ch} is known)");
    EXPECT("duration: 5s\ntarget: {sub_path: \"/sub/{ch}\"}\nclients:\n  - count: 1\n",
           "t.yaml:2:20: target.sub_path: protocol v1 has fixed locations (docs/wire-contract.md)");
    EXPECT("duration: 5s\npublishers: {transport: ws, batch: 4}\ntarget: {protocol: nchan}\nchannels: {count: 2}\n"
           "clients:\n"
           "  - {transport: ws, channels_per_client: 2}\n"
           "  - {name: f, behavior: flood}\n",
           "t.yaml:3:20: clients[1] (f): behavior flood speaks contract v1 only, not protocol nchan",
           "t.yaml:3:20: publishers.transport ws: protocol nchan publishes over http only",
           "t.yaml:3:20: publishers.batch 4: protocol nchan takes one event per publish request",
           "t.yaml:6:42: clients[0]: protocol nchan subscribes 1 channel per connection, not 2");
}

/* pusher: credentials from target or the environment (checked now, each
 * error at its key), fixed locations, WebSocket only, channel names */
static void test_scenario_target_pusher(void **state)
{
    (void)state;
    scenario s;
    scn_diag d;
    unsetenv("PUSHER_APP_ID");
    unsetenv("PUSHER_KEY");
    unsetenv("PUSHER_SECRET");
    unsetenv("RT_TEST_PUSHER_SECRET");
    EXPECT("duration: 5s\ntarget: {protocol: pusher}\nclients:\n  - count: 1\n",
           "t.yaml:2:20: protocol pusher needs target.app_id or the environment variable PUSHER_APP_ID",
           "t.yaml:2:20: protocol pusher needs target.key or the environment variable PUSHER_KEY",
           "t.yaml:2:20: protocol pusher needs target.secret or the environment variable PUSHER_SECRET");
    EXPECT("duration: 5s\ntarget: {protocol: pusher, app_id: a, key: k, secret: \"${RT_TEST_PUSHER_SECRET}\"}\n"
           "clients:\n  - count: 1\n",
           "t.yaml:2:55: target.secret: environment variable RT_TEST_PUSHER_SECRET is not set");
    setenv("RT_TEST_PUSHER_SECRET", "s3cret", 1);
    const char *ok = "duration: 5s\ntarget: {protocol: pusher, app_id: a, key: k, secret: \"${RT_TEST_PUSHER_SECRET}\"}\n"
                     "channels: {count: 2, pattern: \"p.{i}\"}\nclients:\n  - {count: 1, channels_per_client: 2}\n";
    assert_int_equal(load(ok, NULL, 0, 1, &s, &d), 0);
    assert_string_equal(s.target.secret, "${RT_TEST_PUSHER_SECRET}"); /* kept as written */
    char id[64], key[128], sec[128], err[256];
    assert_int_equal(scenario_pusher_credentials(&s, id, sizeof id, key, sizeof key, sec, sizeof sec, err, sizeof err),
                     0);
    assert_string_equal(id, "a");
    assert_string_equal(key, "k");
    assert_string_equal(sec, "s3cret");
    scenario_free(&s);
    scn_diag_free(&d);
    setenv("PUSHER_APP_ID", "env-app", 1);
    setenv("PUSHER_KEY", "env-key", 1);
    setenv("PUSHER_SECRET", "env-secret", 1);
    const char *const sets[] = {"target.protocol=pusher"};
    assert_int_equal(load(MIN, sets, 1, 1, &s, &d), 0);
    assert_int_equal(scenario_pusher_credentials(&s, id, sizeof id, key, sizeof key, sec, sizeof sec, err, sizeof err),
                     0);
    assert_string_equal(id, "env-app");
    assert_string_equal(sec, "env-secret");
    scenario_free(&s);
    scn_diag_free(&d);
    EXPECT("duration: 5s\ntarget: {protocol: pusher, sub_path: \"/x\", app_id: \"a b\"}\nchannels: {pattern: \"a:{i}\"}\n"
           "clients:\n  - {transport: sse}\n  - {transport: poll}\n",
           "t.yaml:2:20: channels.pattern 'a:{i}': Pusher channel names may not contain ':' (letters, digits and "
           "_-=@,.; only)",
           "t.yaml:2:38: target.sub_path: protocol pusher has fixed locations (/app/{key}?protocol=7)",
           "t.yaml:2:52: target.app_id: expected 1 to 63 letters, digits, '-', '_' or '.', or ${NAME} to read it from "
           "the environment",
           "t.yaml:5:17: clients[0]: protocol pusher has no sse transport",
           "t.yaml:6:17: clients[1]: protocol pusher has no poll transport");
    EXPECT("duration: 5s\ntarget: {protocol: nchan, secret: x}\nclients:\n  - count: 1\n",
           "t.yaml:2:35: target.secret: only for protocol pusher, not nchan");
    unsetenv("PUSHER_APP_ID");
    unsetenv("PUSHER_KEY");
    unsetenv("PUSHER_SECRET");
    unsetenv("RT_TEST_PUSHER_SECRET");
}

/* batch (WS subscribers) and delta (WS/SSE subscribers, with the fields payload) */
static void test_scenario_batch_delta(void **state)
{
    (void)state;
    scenario s;
    scn_diag d;
    const char *ok = "duration: 1s\npublishers: {payload: fields}\nclients:\n"
                     "  - {name: a, batch: true, delta: true}\n"
                     "  - {name: b, transport: sse, delta: true}\n"
                     "  - {name: c}\n";
    assert_int_equal(load(ok, NULL, 0, 0, &s, &d), 0);
    scn_diag_free(&d);
    assert_true(s.publishers.payload_fields);
    assert_int_equal(s.clients[0].batch, 1);
    assert_int_equal(s.clients[0].delta, 1);
    assert_int_equal(s.clients[1].delta, 1);
    assert_int_equal(s.clients[2].batch, 0);
    assert_int_equal(s.clients[2].delta, 0);
    scenario_free(&s);
    EXPECT("duration: 1s\npublishers: {payload: json}\nclients:\n"
           "  - {name: a, transport: sse, batch: true}\n"
           "  - {name: b, transport: poll, delta: true}\n",
           "t.yaml:2:23: unknown value 'json'; expected one of string, fields",
           "t.yaml:4:38: clients[0]: batch applies only to WebSocket subscriber groups (transport: ws); SSE needs no "
           "option: a server's batching window writes several events in one chunk",
           "t.yaml:5:39: clients[1]: delta applies only to WebSocket and SSE subscriber groups");
    EXPECT("duration: 1s\nclients:\n  - {name: a, delta: true}\n",
           "t.yaml:3:22: clients[0]: delta needs publishers.payload: fields (values the checker can rebuild)");
}

static void test_scenario_fallback(void **state)
{
    (void)state;
    scenario s;
    scn_diag d;
    const char *y = "duration: 5s\nclients:\n"
                    "  - {name: a, transport: ws, fallback: [sse, poll]}\n"
                    "  - {name: b, transport: sse, fallback: poll}\n"
                    "  - {name: c}\n";
    assert_int_equal(load(y, NULL, 0, 0, &s, &d), 0);
    assert_int_equal(s.clients[0].nfallback, 2);
    assert_int_equal(s.clients[0].fallback[0], SCN_CL_SSE);
    assert_int_equal(s.clients[0].fallback[1], SCN_CL_POLL);
    assert_int_equal(s.clients[1].nfallback, 1);
    assert_int_equal(s.clients[1].fallback[0], SCN_CL_POLL);
    assert_int_equal(s.clients[2].nfallback, 0);
    scenario_free(&s);
    scn_diag_free(&d);
    EXPECT("duration: 5s\nclients:\n"
           "  - {name: a, fallback: [ws]}\n"
           "  - {name: b, transport: sse, fallback: [poll, poll]}\n"
           "  - {name: c, fallback: [sse, poll, ws]}\n"
           "  - {name: d, fallback: [smoke]}\n"
           "  - {name: e, behavior: flood, fallback: sse}\n"
           "  - {name: f, fallback: sse, reconnect: {enabled: false}}\n",
           "t.yaml:3:25: clients[0]: fallback lists ws, the group's own transport",
           "t.yaml:4:41: clients[1]: fallback lists poll twice",
           "t.yaml:5:25: fallback: at most 2 transports (e.g. [sse, poll])",
           "t.yaml:6:26: unknown value 'smoke'; expected one of ws, sse, poll",
           "t.yaml:7:42: clients[4]: fallback applies only to subscriber groups",
           "t.yaml:8:25: clients[5]: fallback needs reconnect enabled (the next transport is a new attempt)");
    /* deflate: off | offer | require, WebSocket subscribers only */
    y = "duration: 5s\nclients:\n"
        "  - {name: a, deflate: require}\n"
        "  - {name: b, deflate: offer}\n"
        "  - {name: c}\n";
    assert_int_equal(load(y, NULL, 0, 0, &s, &d), 0);
    assert_int_equal(s.clients[0].deflate, 2);
    assert_int_equal(s.clients[1].deflate, 1);
    assert_int_equal(s.clients[2].deflate, 0);
    scenario_free(&s);
    scn_diag_free(&d);
    EXPECT("duration: 5s\nclients:\n"
           "  - {name: a, deflate: maybe}\n"
           "  - {name: b, transport: sse, deflate: offer}\n",
           "t.yaml:3:24: unknown value 'maybe'; expected one of off, offer, require",
           "t.yaml:4:40: clients[1]: deflate applies only to WebSocket subscriber groups (transport: ws)");
}

static void test_scenario_channel_pattern(void **state)
{
    (void)state;
    EXPECT("duration: 5s\nchannels: {count: 3, pattern: same}\nclients: [{count: 1}]\n",
           "t.yaml:2:11: channels.pattern 'same' gives every channel the same name: put {i} in it");
    EXPECT("duration: 5s\nchannels: {count: 3, pattern: 'a b{i}'}\nclients: [{count: 1}]\n",
           "t.yaml:2:11: channels.pattern 'a b{i}' makes invalid channel names: expected [A-Za-z0-9._:-], at "
           "most 128 bytes, no leading/trailing '.' or '..'");
    EXPECT("duration: 5s\nchannels: {count: 2}\nclients: [{count: 1, channels_per_client: 3}]\n",
           "t.yaml:3:11: clients[0]: channels_per_client 3 is more than channels.count 2");
}

static void test_scenario_duplicate_key(void **state)
{
    (void)state;
    EXPECT("duration: 5s\nduration: 6s\nclients: [{count: 1}]\n",
           "t.yaml:2:1: duplicate key 'duration' in the scenario");
}

static void test_scenario_set_overrides(void **state)
{
    (void)state;
    const char *y = "duration: 30s\nclients:\n  - {count: 100}\n  - {count: 5, transport: sse}\n";
    const char *const sets[] = {"clients.0.count=10", "duration=5s", "proxy.enabled=true",
                                "channels.count=4", "budgets=[lost == 0, 'p95_live_ms <= 9']"};
    scenario s;
    scn_diag d;
    int rc = load(y, sets, 5, 0, &s, &d);
    for (size_t i = 0; i < d.n; i++)
        fprintf(stderr, "%s\n", d.msgs[i]);
    assert_int_equal(rc, 0);
    assert_int_equal(s.clients[0].count, 10);
    assert_int_equal(s.clients[1].count, 5);
    assert_int_equal(s.duration_us, 5000000);
    assert_int_equal(s.proxy.enabled, 1);
    assert_int_equal(s.channels.count, 4);
    assert_int_equal(s.nbudgets, 2);
    assert_string_equal(s.budgets[1].metric, "p95_live_ms");
    assert_true(s.budgets[1].value == 9);
    scenario_free(&s);
    scn_diag_free(&d);
}

static void test_scenario_set_errors(void **state)
{
    (void)state;
    const char *y = "duration: 30s\nclients:\n  - {count: 100}\n";
    const char *const sets[] = {"clients.3.count=1", "clients.x.count=1", "duration.unit=s", "nothing",
                                "clients.0.count=abc", "clients.0.colour=red"};
    const char *const want[] = {
        "--set clients.3.count=1: index 3 is out of range: clients has 1 item",
        "--set clients.x.count=1: 'clients' is a list: expected an index from 0 to 0, got 'x'",
        "--set duration.unit=s: 'duration' is a single value, it has no 'unit'",
        "--set nothing: expected path=value, like clients.0.count=10",
    };
    expect_errors(y, sets, 4, 0, want, 4);
    /* Errors in values given by --set name the --set instead of a line. */
    const char *const want2[] = {
        "--set clients.0.count=abc: expected an integer from 1 to 1000000, got 'abc'",
        "--set clients.0.colour=red: unknown key 'colour' in clients[0]; expected one of: name, count, transport, "
        "channels_per_client, ramp_up, read_rate_bytes_per_s, reconnect, resume, token, idle_timeout, "
        "poll_timeout, read_rate_msgs_per_s, connect_timeout, behavior, attack, fallback, deflate, batch, delta",
    };
    expect_errors(y, sets + 4, 2, 0, want2, 2);
}

static void test_scenario_durations(void **state)
{
    (void)state;
    char err[200];
    uint64_t us;
    assert_int_equal(scenario_parse_duration("500ms", &us, err, sizeof err), 0);
    assert_int_equal(us, 500000);
    assert_int_equal(scenario_parse_duration("5s", &us, err, sizeof err), 0);
    assert_int_equal(us, 5000000);
    assert_int_equal(scenario_parse_duration("2m", &us, err, sizeof err), 0);
    assert_int_equal(us, 120000000);
    assert_int_equal(scenario_parse_duration("1h", &us, err, sizeof err), 0);
    assert_int_equal(us, 3600000000ULL);
    assert_int_equal(scenario_parse_duration("1.5s", &us, err, sizeof err), 0);
    assert_int_equal(us, 1500000);
    assert_int_equal(scenario_parse_duration("250us", &us, err, sizeof err), 0);
    assert_int_equal(us, 250);
    assert_int_equal(scenario_parse_duration("0", &us, err, sizeof err), 0);
    assert_int_equal(us, 0);
    assert_int_equal(scenario_parse_duration("10", &us, err, sizeof err), -1);
    assert_string_equal(err, "expected a duration with a unit (us, ms, s, m, h), like 10s, got '10'");
    assert_int_equal(scenario_parse_duration("5 s", &us, err, sizeof err), -1);
    assert_string_equal(err, "expected a duration like 500ms, 5s or 2m, got '5 s'");
    assert_int_equal(scenario_parse_duration("-1s", &us, err, sizeof err), -1);
    assert_int_equal(scenario_parse_duration("5d", &us, err, sizeof err), -1);
    assert_int_equal(scenario_parse_duration("25h", &us, err, sizeof err), -1);
    assert_string_equal(err, "duration '25h' is out of range (at most 24h)");
    assert_int_equal(scenario_parse_duration("0.5us", &us, err, sizeof err), -1);
    assert_string_equal(err, "duration '0.5us' is finer than a microsecond");
    char buf[32];
    assert_string_equal(scenario_format_duration(500000, buf, sizeof buf), "500ms");
    assert_string_equal(scenario_format_duration(120000000, buf, sizeof buf), "2m");
    assert_string_equal(scenario_format_duration(1500000, buf, sizeof buf), "1500ms");
    assert_string_equal(scenario_format_duration(7, buf, sizeof buf), "7us");
}

static void test_scenario_proxy_off_with_toxic(void **state)
{
    (void)state;
    EXPECT("duration: 5s\nproxy: false\nclients: [{count: 1}]\nfaults:\n  - {at: 1s, toxic: latency}\n",
           "t.yaml:5:5: faults[0]: a toxic fault needs the proxy, but proxy.enabled is false");
}

static void test_scenario_shipped_files_validate(void **state)
{
    (void)state;
    static const char *const files[] = {"scenarios/smoke.yaml", "scenarios/reconnect-storm.yaml",
                                        "scenarios/latency-spike.yaml", "scenarios/slow-consumer.yaml",
                                        "scenarios/half-open.yaml", "scenarios/history-overflow.yaml",
                                        "scenarios/abuse/message-flood.yaml", "scenarios/abuse/oversized.yaml",
                                        "scenarios/abuse/slowloris.yaml"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        scenario s;
        scn_diag d;
        scn_diag_init(&d);
        int rc = scenario_load(files[i], NULL, &s, &d);
        for (size_t k = 0; k < d.n; k++)
            fprintf(stderr, "%s\n", d.msgs[k]);
        assert_int_equal(rc, 0);
        assert_true(s.nbudgets > 0);
        scenario_free(&s);
        scn_diag_free(&d);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scenario_minimal_defaults),
        cmocka_unit_test(test_scenario_full_file),
        cmocka_unit_test(test_scenario_unknown_keys_did_you_mean),
        cmocka_unit_test(test_scenario_wrong_types_and_ranges),
        cmocka_unit_test(test_scenario_missing_required),
        cmocka_unit_test(test_scenario_yaml_syntax_error),
        cmocka_unit_test(test_scenario_enums),
        cmocka_unit_test(test_scenario_fault_checks),
        cmocka_unit_test(test_scenario_network_faults),
        cmocka_unit_test(test_scenario_server_faults_refused_with_target),
        cmocka_unit_test(test_scenario_server_faults_overlap),
        cmocka_unit_test(test_scenario_budgets),
        cmocka_unit_test(test_scenario_group_budgets),
        cmocka_unit_test(test_scenario_attackers),
        cmocka_unit_test(test_scenario_attacker_errors),
        cmocka_unit_test(test_scenario_fallback),
        cmocka_unit_test(test_scenario_batch_delta),
        cmocka_unit_test(test_scenario_channel_pattern),
        cmocka_unit_test(test_scenario_duplicate_key),
        cmocka_unit_test(test_scenario_set_overrides),
        cmocka_unit_test(test_scenario_set_errors),
        cmocka_unit_test(test_scenario_durations),
        cmocka_unit_test(test_scenario_proxy_off_with_toxic),
        cmocka_unit_test(test_scenario_shipped_files_validate),
        cmocka_unit_test(test_scenario_target_protocol),
        cmocka_unit_test(test_scenario_target_pusher),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
