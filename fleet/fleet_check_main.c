/* fleet_check_main.c — bin/rtchaos-fleet-check: runs the fleet alone against a server (no scenario file), for the fleet's integration tests and the bench; prints the fleet's report.json parts. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <time.h>

#include "checker.h"
#include "clock.h"
#include "envelope.h"
#include "fleet.h"
#include "log.h"
#include "version.h"

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

/* --bench-check N: the fleet's per-message work on one core, without
 * sockets: scan N event envelopes (as a server sends them, 64-byte data)
 * with envelope_scan, find each one's stream by channel name, and run the
 * checker on it. Prints one JSON line. */
static int bench_check(uint64_t n)
{
    enum { STREAMS = 100, PER = 2000 };
    size_t total = (size_t)STREAMS * PER;
    char **txt = calloc(total, sizeof *txt);
    size_t *len = calloc(total, sizeof *len);
    chk_stream *st = calloc(STREAMS, sizeof *st);
    char names[STREAMS][16];
    char data[70];
    memset(data, 'x', 64);
    data[0] = '"';
    data[63] = '"';
    if (!txt || !len || !st)
        return 3;
    int64_t ts = clock_wall_us();
    for (size_t i = 0; i < STREAMS; i++)
        snprintf(names[i], sizeof names[i], "bench.%zu", i);
    for (size_t i = 0; i < total; i++) {
        char buf[256];
        int k = envelope_format(buf, sizeof buf, ENV_T_EVENT, names[i % STREAMS], i / STREAMS + 1, ts, NULL,
                                data, 64);
        txt[i] = strndup(buf, (size_t)k);
        len[i] = (size_t)k;
    }
    chk_ctx c;
    char err[128];
    if (chk_ctx_init(&c, clock_mono_us(), 200, err, sizeof err) < 0)
        return 3;
    struct timespec a, b;
    double cpu = 0;
    uint64_t done = 0, bad = 0;
    while (done < n) {
        for (size_t i = 0; i < STREAMS; i++) {
            chk_final(&c, &st[i], (uint32_t)i, (uint32_t)i, 0, clock_mono_us());
            chk_on_subscribe(&c, &st[i], 0, 0, ts);
            chk_on_subscribed(&c, &st[i], (uint32_t)i, (uint32_t)i, 0, "", -1, clock_mono_us());
        }
        uint64_t now = clock_mono_us();
        int64_t wall = clock_wall_us();
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
        for (size_t i = 0; i < total && done < n; i++, done++) {
            envelope e;
            if (envelope_scan(txt[i], len[i], &e, err, sizeof err) < 0) {
                bad++;
                continue;
            }
            size_t k = i % STREAMS; /* where a client finds the stream by name */
            while (strcmp(names[k], e.ch) != 0)
                k = (k + 1) % STREAMS;
            chk_on_envelope(&c, &st[k], (uint32_t)k, (uint32_t)k, &e, now, wall);
        }
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
        cpu += (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    }
    uint64_t anomalies = bad;
    for (int k = 0; k < CHK_KINDS; k++)
        anomalies += c.n.kind[k];
    printf("{\"envelopes\":%llu,\"cpu_s\":%.3f,\"per_s_per_core\":%.0f,\"anomalies\":%llu}\n",
           (unsigned long long)done, cpu, (double)done / cpu, (unsigned long long)anomalies);
    for (size_t i = 0; i < total; i++)
        free(txt[i]);
    free(txt);
    free(len);
    for (size_t i = 0; i < STREAMS; i++)
        chk_stream_free(&st[i]);
    free(st);
    chk_ctx_free(&c);
    return anomalies ? 1 : 0;
}

static void usage(FILE *o)
{
    fprintf(o,
            "usage: rtchaos-fleet-check --client HOST:PORT [options]\n"
            "  --client HOST:PORT       where clients connect (server or proxy)\n"
            "  --publish HOST:PORT      where the publisher connects (default: --client)\n"
            "  --channels N             channel count (default 4); --pattern P (default fc{i})\n"
            "  --rate R                 events per channel per second (default 20; 0 = none)\n"
            "  --schedule constant|poisson|bursts  (--burst-size N --burst-ms MS)\n"
            "  --payload BYTES --batch N --retries N --pub-conns N --pub-transport http|ws\n"
            "  --clients N --transport ws|sse|poll --fallback T[,T] --cpc N --ramp-ms MS\n"
            "  --resume 0|1 --reconnect 0|1 --backoff-ms MS --max-backoff-ms MS --idle-timeout-ms MS\n"
            "  --read-rate-bytes N      slow consumers (bytes/s); --poll-timeout-ms MS (poll clients)\n"
            "  --duration-ms MS (default 3000) --drain-ms MS (default 10000)\n"
            "  --cut-at-ms MS --cut-fraction F   a reconnect storm during the run (at MS, or once every\n"
            "                           client is connected, at most half-way from MS to the end)\n"
            "  --threads N --workers N --src A,B,… --seed N --out FILE --token T --quiet\n"
            "  --bench-check N          microbench: scan + check N envelopes on one core, print JSON\n"
            "  --help | --version\n");
}

/* The storm cuts connected clients: on a loaded box some may still be
 * connecting at --cut-at-ms, and a cut that finds none proves nothing. So the
 * cut waits for every client to be connected, at most until half-way from
 * --cut-at-ms to the run's end. */
static int cut_ready(fleet *f, uint64_t elapsed_us, uint32_t cut_at_ms, uint32_t duration_ms)
{
    uint64_t latest_ms = cut_at_ms < duration_ms ? cut_at_ms + (duration_ms - cut_at_ms) / 2 : cut_at_ms;
    if (elapsed_us >= latest_ms * 1000u)
        return 1;
    fleet_status st;
    fleet_status_get(f, &st);
    return st.connected >= st.clients;
}

static int parse_hostport(const char *s, fleet_endpoint *e)
{
    const char *c = strrchr(s, ':');
    if (!c || (size_t)(c - s) > FLEET_HOST_MAX)
        return -1;
    memcpy(e->host, s, (size_t)(c - s));
    e->host[c - s] = '\0';
    long p = strtol(c + 1, NULL, 10);
    if (p <= 0 || p > 65535)
        return -1;
    e->port = (uint16_t)p;
    return 0;
}

int main(int argc, char **argv)
{
    log_init("fleet-check", LOG_WARN);
    signal(SIGPIPE, SIG_IGN);
    fleet_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    static fleet_group_cfg g;
    memset(&g, 0, sizeof g);
    snprintf(g.name, sizeof g.name, "g0");
    g.count = 10;
    g.reconnect.enabled = 1;
    g.reconnect.initial_backoff_ms = 50;
    g.reconnect.max_backoff_ms = 1000;
    g.reconnect.jitter = 0.5;
    g.reconnect.honour_sse_retry = 1;
    g.resume = 1;
    cfg.channels.count = 4;
    snprintf(cfg.channels.pattern, sizeof cfg.channels.pattern, "fc{i}");
    cfg.pub.rate_per_s = 20;
    cfg.pub.payload_bytes = 64;
    cfg.pub.batch_size = 1;
    cfg.pub.retries = 3;
    cfg.pub.burst_size = 10;
    cfg.pub.burst_interval_ms = 1000;
    cfg.seed = 1;
    uint32_t duration_ms = 3000, drain_ms = 10000, cut_at_ms = 0;
    double cut_fraction = 0;
    const char *out = NULL;
    int quiet = 0, have_pub = 0;
    static const char *src[FLEET_SRC_MAX];
    char *src_buf = NULL;
    enum { O_CLIENT = 1000, O_PUBLISH, O_CHANNELS, O_PATTERN, O_RATE, O_SCHEDULE, O_BURST_SIZE, O_BURST_MS,
           O_PAYLOAD, O_BATCH, O_RETRIES, O_PUBCONNS, O_CLIENTS, O_TRANSPORT, O_CPC, O_RAMP, O_RESUME,
           O_RECONNECT, O_BACKOFF, O_MAXBACKOFF, O_IDLE, O_READRATE, O_DURATION, O_DRAIN, O_CUTAT,
           O_CUTFRAC, O_POLLTO, O_PUBTR, O_THREADS, O_WORKERS, O_SRC, O_SEED, O_OUT, O_TOKEN, O_QUIET, O_HELP, O_BENCH, O_FALLBACK, O_VERSION };
    static const struct option opts[] = {
        {"client", 1, 0, O_CLIENT}, {"publish", 1, 0, O_PUBLISH}, {"channels", 1, 0, O_CHANNELS},
        {"pattern", 1, 0, O_PATTERN}, {"rate", 1, 0, O_RATE}, {"schedule", 1, 0, O_SCHEDULE},
        {"burst-size", 1, 0, O_BURST_SIZE}, {"burst-ms", 1, 0, O_BURST_MS}, {"payload", 1, 0, O_PAYLOAD},
        {"batch", 1, 0, O_BATCH}, {"retries", 1, 0, O_RETRIES}, {"pub-conns", 1, 0, O_PUBCONNS},
        {"clients", 1, 0, O_CLIENTS}, {"transport", 1, 0, O_TRANSPORT}, {"cpc", 1, 0, O_CPC},
        {"fallback", 1, 0, O_FALLBACK},
        {"ramp-ms", 1, 0, O_RAMP}, {"resume", 1, 0, O_RESUME}, {"reconnect", 1, 0, O_RECONNECT},
        {"backoff-ms", 1, 0, O_BACKOFF}, {"max-backoff-ms", 1, 0, O_MAXBACKOFF},
        {"idle-timeout-ms", 1, 0, O_IDLE}, {"read-rate-bytes", 1, 0, O_READRATE},
        {"duration-ms", 1, 0, O_DURATION}, {"drain-ms", 1, 0, O_DRAIN}, {"cut-at-ms", 1, 0, O_CUTAT},
        {"cut-fraction", 1, 0, O_CUTFRAC}, {"poll-timeout-ms", 1, 0, O_POLLTO}, {"pub-transport", 1, 0, O_PUBTR}, {"threads", 1, 0, O_THREADS}, {"workers", 1, 0, O_WORKERS},
        {"src", 1, 0, O_SRC}, {"seed", 1, 0, O_SEED}, {"out", 1, 0, O_OUT}, {"token", 1, 0, O_TOKEN},
        {"quiet", 0, 0, O_QUIET}, {"bench-check", 1, 0, O_BENCH}, {"help", 0, 0, O_HELP},
        {"version", 0, 0, O_VERSION}, {0, 0, 0, 0}};
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case O_CLIENT:
            if (parse_hostport(optarg, &cfg.client_addr) < 0) {
                fprintf(stderr, "--client: want HOST:PORT, got '%s'\n", optarg);
                return 2;
            }
            break;
        case O_PUBLISH:
            if (parse_hostport(optarg, &cfg.publish_addr) < 0) {
                fprintf(stderr, "--publish: want HOST:PORT, got '%s'\n", optarg);
                return 2;
            }
            have_pub = 1;
            break;
        case O_CHANNELS: cfg.channels.count = (uint32_t)strtoul(optarg, NULL, 10); break;
        case O_PATTERN: snprintf(cfg.channels.pattern, sizeof cfg.channels.pattern, "%s", optarg); break;
        case O_RATE: cfg.pub.rate_per_s = strtod(optarg, NULL); break;
        case O_SCHEDULE:
            if (strcmp(optarg, "constant") == 0)
                cfg.pub.schedule = FLEET_SCHED_CONSTANT;
            else if (strcmp(optarg, "poisson") == 0)
                cfg.pub.schedule = FLEET_SCHED_POISSON;
            else if (strcmp(optarg, "bursts") == 0)
                cfg.pub.schedule = FLEET_SCHED_BURSTS;
            else {
                fprintf(stderr, "--schedule: constant, poisson or bursts, not '%s'\n", optarg);
                return 2;
            }
            break;
        case O_BURST_SIZE: cfg.pub.burst_size = (uint32_t)strtoul(optarg, NULL, 10); break;
        case O_BURST_MS: cfg.pub.burst_interval_ms = (uint32_t)strtoul(optarg, NULL, 10); break;
        case O_PAYLOAD: cfg.pub.payload_bytes = (uint32_t)strtoul(optarg, NULL, 10); break;
        case O_BATCH: cfg.pub.batch_size = (uint32_t)strtoul(optarg, NULL, 10); break;
        case O_RETRIES: cfg.pub.retries = (uint32_t)strtoul(optarg, NULL, 10); break;
        case O_PUBCONNS: cfg.pub.connections = (uint32_t)strtoul(optarg, NULL, 10); break;
        case O_CLIENTS: g.count = (uint32_t)strtoul(optarg, NULL, 10); break;
        case O_TRANSPORT:
            if (strcmp(optarg, "ws") == 0)
                g.transport = FLEET_WS;
            else if (strcmp(optarg, "sse") == 0)
                g.transport = FLEET_SSE;
            else if (strcmp(optarg, "poll") == 0)
                g.transport = FLEET_POLL;
            else {
                fprintf(stderr, "--transport: ws, sse or poll, not '%s'\n", optarg);
                return 2;
            }
            break;
        case O_FALLBACK: {
            /* "sse" or "sse,poll": the transports tried in turn after --transport */
            char buf[32];
            snprintf(buf, sizeof buf, "%s", optarg);
            g.n_fallback = 0;
            for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                fleet_transport tr = strcmp(tok, "ws") == 0    ? FLEET_WS
                                     : strcmp(tok, "sse") == 0 ? FLEET_SSE
                                     : strcmp(tok, "poll") == 0 ? FLEET_POLL
                                                                : (fleet_transport)99;
                if (tr == (fleet_transport)99 || g.n_fallback == 2) {
                    fprintf(stderr, "--fallback: up to two of ws, sse, poll (e.g. sse,poll), not '%s'\n", optarg);
                    return 2;
                }
                g.fallback[g.n_fallback++] = tr;
            }
            break;
        }
        case O_CPC: g.channels_per_client = (uint32_t)strtoul(optarg, NULL, 10); break;
        case O_RAMP: g.ramp_up_ms = (uint32_t)strtoul(optarg, NULL, 10); break;
        case O_RESUME: g.resume = atoi(optarg); break;
        case O_RECONNECT: g.reconnect.enabled = atoi(optarg); break;
        case O_BACKOFF: g.reconnect.initial_backoff_ms = (uint32_t)strtoul(optarg, NULL, 10); break;
        case O_MAXBACKOFF: g.reconnect.max_backoff_ms = (uint32_t)strtoul(optarg, NULL, 10); break;
        case O_IDLE: g.idle_timeout_ms = (uint32_t)strtoul(optarg, NULL, 10); break;
        case O_READRATE: g.read_rate_bytes_per_s = strtoull(optarg, NULL, 10); break;
        case O_DURATION: duration_ms = (uint32_t)strtoul(optarg, NULL, 10); break;
        case O_DRAIN: drain_ms = (uint32_t)strtoul(optarg, NULL, 10); break;
        case O_CUTAT: cut_at_ms = (uint32_t)strtoul(optarg, NULL, 10); break;
        case O_CUTFRAC: cut_fraction = strtod(optarg, NULL); break;
        case O_PUBTR:
            if (strcmp(optarg, "http") == 0)
                cfg.pub.transport = FLEET_PUB_HTTP;
            else if (strcmp(optarg, "ws") == 0)
                cfg.pub.transport = FLEET_PUB_WS;
            else {
                fprintf(stderr, "--pub-transport: http or ws, not '%s'\n", optarg);
                return 2;
            }
            break;
        case O_POLLTO: g.poll_timeout_ms = (uint32_t)strtoul(optarg, NULL, 10); break;
        case O_THREADS: cfg.threads = (uint32_t)strtoul(optarg, NULL, 10); break;
        case O_WORKERS: cfg.workers = (uint32_t)strtoul(optarg, NULL, 10); break;
        case O_SRC: {
            free(src_buf);
            src_buf = strdup(optarg);
            cfg.n_source_addrs = 0;
            for (char *tok = strtok(src_buf, ","); tok && cfg.n_source_addrs < FLEET_SRC_MAX;
                 tok = strtok(NULL, ","))
                src[cfg.n_source_addrs++] = tok;
            cfg.source_addrs = src;
            break;
        }
        case O_SEED: cfg.seed = strtoull(optarg, NULL, 10); break;
        case O_OUT: out = optarg; break;
        case O_TOKEN:
            snprintf(g.token, sizeof g.token, "%s", optarg);
            snprintf(cfg.pub.token, sizeof cfg.pub.token, "%s", optarg);
            break;
        case O_QUIET: quiet = 1; break;
        case O_HELP: usage(stdout); return 0;
        case O_VERSION: version_print(stdout, "rtchaos-fleet-check"); return 0;
        case O_BENCH: return bench_check(strtoull(optarg, NULL, 10));
        default: usage(stderr); return 2;
        }
    }
    if (cfg.client_addr.port == 0) {
        usage(stderr);
        return 2;
    }
    if (!have_pub)
        cfg.publish_addr = cfg.client_addr;
    cfg.groups = &g;
    cfg.n_groups = 1;

    char err[512];
    fleet *f;
    if (fleet_create(&cfg, &f, err, sizeof err) < 0) {
        fprintf(stderr, "rtchaos-fleet-check: %s\n", err);
        return 2;
    }
    if (fleet_start(f, err, sizeof err) < 0) {
        fprintf(stderr, "rtchaos-fleet-check: %s\n", err);
        fleet_free(f);
        return 3;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    uint64_t t0 = clock_mono_us(), next_status = t0;
    int cut_done = cut_at_ms == 0;
    while (!interrupted && clock_mono_us() - t0 < (uint64_t)duration_ms * 1000u) {
        uint64_t now = clock_mono_us();
        if (!cut_done && now - t0 >= (uint64_t)cut_at_ms * 1000u && cut_ready(f, now - t0, cut_at_ms, duration_ms)) {
            uint64_t n = fleet_disconnect_fraction(f, cut_fraction);
            if (!quiet)
                fprintf(stderr, "cut %llu clients\n", (unsigned long long)n);
            cut_done = 1;
        }
        if (!quiet && now >= next_status) {
            fleet_status st;
            fleet_status_get(f, &st);
            fprintf(stderr, "t=%.1fs connected=%llu/%llu published=%llu delivered=%llu (%.0f/s) p95=%.1fms anomalies=%llu\n",
                    st.elapsed_s, (unsigned long long)st.connected, (unsigned long long)st.clients,
                    (unsigned long long)st.published, (unsigned long long)st.delivered, st.delivered_per_s,
                    st.p95_live_us / 1000.0, (unsigned long long)st.anomalies);
            next_status = now + 1000000u;
        }
        clock_nap_ms(20); /* a signal ends it: the loop looks at `interrupted` */
    }
    int caught = fleet_drain(f, drain_ms);
    fleet_stop(f);
    json_t *r = json_object();
    if (fleet_report(f, r, err, sizeof err) < 0) {
        fprintf(stderr, "rtchaos-fleet-check: %s\n", err);
        json_decref(r);
        fleet_free(f);
        return 3;
    }
    json_object_set_new(r, "caught_up", json_boolean(caught));
    json_object_set_new(r, "seed", json_integer((json_int_t)cfg.seed));
    int rc = 0;
    if (out) {
        if (json_dump_file(r, out, JSON_INDENT(1)) < 0) {
            fprintf(stderr, "rtchaos-fleet-check: cannot write %s\n", out);
            rc = 3;
        }
    } else {
        json_dumpf(r, stdout, JSON_INDENT(1));
        fputc('\n', stdout);
    }
    json_decref(r);
    fleet_free(f);
    free(src_buf);
    return rc;
}
