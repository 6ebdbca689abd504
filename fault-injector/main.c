/* main.c — rtchaos-proxy: command line, signals, the event loop. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sched.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "api.h"
#include "clock.h"
#include "evlog.h"
#include "log.h"
#include "proxy.h"
#include "version.h"

#define EVENTS_RING 100000

static void usage(FILE *f)
{
    fprintf(f,
            "usage: rtchaos-proxy [--host ADDR] [--api-port PORT] [--config FILE.json] [--seed N]\n"
            "                     [--events FILE.jsonl] [--log-level debug|info|warn|error] [--no-splice]\n"
            "       rtchaos-proxy --help | --version\n"
            "  --host       API listen address (default 127.0.0.1)\n"
            "  --api-port   API port (default 8474; 0 picks a free one; --port is an alias)\n"
            "  --config     Toxiproxy populate file: JSON array of {name,listen,upstream[,enabled][,toxics]}\n"
            "  --seed       seed of every random decision (default: from the clock, logged)\n"
            "  --events     append every action as a JSON line to this file\n"
            "  --no-splice  copy through user space even where no toxic is active\n"
            "  --log-level  least severe log line written to stderr (default info)\n"
            "  --help       print this and exit\n"
            "  --version    print the version and exit (GET /version answers it too)\n"
            "Prints \"api HOST:PORT\" then \"proxy NAME HOST:PORT\" per configured proxy on stdout.\n");
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    log_info("signal=%d stopping", (int)sig);
    event_base_loopbreak(arg);
}

/* Raises the soft open-files limit to the hard one: each proxied connection
 * takes two descriptors. */
static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* Asks the scheduler for a short time slice (100 µs, the shortest it
 * grants; no privilege needed). Since Linux 6.12 (EEVDF) a fair task with a
 * shorter slice gets an earlier deadline, so when a timer or a socket wakes
 * the proxy on a busy machine it runs sooner instead of waiting behind the
 * current task's slice: held data is released closer to its due time and
 * relayed bytes wait less. Older kernels ignore the field; a failure only
 * leaves the default slice. Nice value and policy are kept. */
static void request_short_slice(void)
{
    /* glibc has no sched_setattr wrapper, and <linux/sched/types.h> clashes
     * with <sched.h>: the kernel's layout, as sched_setattr(2) shows it. */
    struct {
        uint32_t size, sched_policy;
        uint64_t sched_flags;
        int32_t sched_nice;
        uint32_t sched_priority;
        uint64_t sched_runtime, sched_deadline, sched_period;
        uint32_t sched_util_min, sched_util_max;
    } at;
    memset(&at, 0, sizeof at);
    if (syscall(SYS_sched_getattr, 0, &at, sizeof at, 0) < 0 || at.sched_policy != SCHED_OTHER)
        return;
    at.size = sizeof at;
    at.sched_flags = 0;
    at.sched_runtime = 100 * 1000; /* ns */
    if (syscall(SYS_sched_setattr, 0, &at, 0) < 0)
        log_debug("sched_setattr (short slice) failed: %s", strerror(errno));
}

static int load_config(api *a, const char *path, json_t **made, char *err, size_t errlen)
{
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    if (!j) {
        snprintf(err, errlen, "%s:%d:%d: %s", path, je.line, je.column, je.text);
        return -1;
    }
    int status;
    *made = api_populate(a, j, &status, err, errlen);
    json_decref(j);
    return status == 201 ? 0 : -1;
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1", *config = NULL, *events = NULL;
    int port = 8474;
    uint64_t seed = 0;
    int have_seed = 0;
    int no_splice = 0;
    log_level lvl = LOG_INFO;
    static const struct option opts[] = {
        {"host", required_argument, 0, 'H'},   {"api-port", required_argument, 0, 'p'},
        {"port", required_argument, 0, 'p'},   {"config", required_argument, 0, 'c'},
        {"seed", required_argument, 0, 's'},   {"events", required_argument, 0, 'e'},
        {"log-level", required_argument, 0, 'l'}, {"help", no_argument, 0, 'h'},
        {"no-splice", no_argument, 0, 'S'},    {"version", no_argument, 0, 'V'},
        {0, 0, 0, 0},
    };
    int o;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        char *end;
        switch (o) {
        case 'H': host = optarg; break;
        case 'p':
            port = (int)strtol(optarg, &end, 10);
            if (*end || port < 0 || port > 65535) {
                fprintf(stderr, "rtchaos-proxy: bad --api-port %s\n", optarg);
                return 2;
            }
            break;
        case 'c': config = optarg; break;
        case 's':
            errno = 0;
            seed = strtoull(optarg, &end, 0);
            if (*end || errno || !*optarg) {
                fprintf(stderr, "rtchaos-proxy: bad --seed %s\n", optarg);
                return 2;
            }
            have_seed = 1;
            break;
        case 'e': events = optarg; break;
        case 'S': no_splice = 1; break;
        case 'l':
            if (log_level_parse(optarg, &lvl) < 0) {
                fprintf(stderr, "rtchaos-proxy: bad --log-level %s\n", optarg);
                return 2;
            }
            break;
        case 'h': usage(stdout); return 0;
        case 'V': version_print(stdout, "rtchaos-proxy"); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }
    log_init("proxy", lvl);
    if (!have_seed)
        seed = (uint64_t)clock_wall_us() ^ ((uint64_t)getpid() << 32);
    signal(SIGPIPE, SIG_IGN);
    raise_nofile();
    /* Timers may fire up to the "timer slack" late (50 µs by default); the
     * latency toxic wants them on time. */
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    request_short_slice();

    char err[512];
    /* The default configuration: the connection deadlines that want
     * sub-millisecond accuracy have their own timerfd (dheap.c, run by relay.c), so the
     * loop needs no EVENT_BASE_FLAG_PRECISE_TIMER, which would re-arm a
     * timerfd on every iteration. The epoll changelist folds the
     * enable/disable pairs a bufferevent makes within one loop iteration
     * into one epoll_ctl (a connection's set-up and teardown made ten). */
    struct event_config *cfg = event_config_new();
    if (cfg)
        event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
    struct event_base *base = cfg ? event_base_new_with_config(cfg) : NULL;
    if (cfg)
        event_config_free(cfg);
    if (!base) {
        fprintf(stderr, "rtchaos-proxy: cannot create the event loop\n");
        return 1;
    }
    evlog *log = evlog_new(events, EVENTS_RING, err, sizeof err);
    if (!log) {
        fprintf(stderr, "rtchaos-proxy: %s\n", err);
        return 1;
    }
    proxy_server *ps = proxy_server_new(base, seed, log);
    if (ps)
        proxy_server_set_splice(ps, !no_splice);
    api *a = ps ? api_new(base, ps, log, host, port, err, sizeof err) : NULL;
    if (!a) {
        fprintf(stderr, "rtchaos-proxy: %s\n", ps ? err : "out of memory or descriptors");
        proxy_server_free(ps);
        evlog_free(log);
        event_base_free(base);
        return 1;
    }
    /* The seed is a 64-bit unsigned number: as a string, so no JSON reader
     * rounds or wraps it. */
    char seed_s[24];
    snprintf(seed_s, sizeof seed_s, "%llu", (unsigned long long)seed);
    evlog_add(log, NULL, 0, NULL, "start", json_pack("{s:s,s:i}", "seed", seed_s, "api_port", api_port(a)));
    log_info("seed=%llu api=%s:%d", (unsigned long long)seed, host, api_port(a));
    json_t *made = NULL;
    if (config && load_config(a, config, &made, err, sizeof err) < 0) {
        fprintf(stderr, "rtchaos-proxy: config: %s\n", err);
        json_decref(made);
        api_free(a);
        proxy_server_free(ps);
        evlog_free(log);
        event_base_free(base);
        return 2;
    }
    printf("api %s:%d\n", host, api_port(a));
    fflush(stdout);
    size_t i;
    json_t *pj;
    json_array_foreach(made, i, pj) {
        printf("proxy %s %s\n", json_string_value(json_object_get(pj, "name")),
               json_string_value(json_object_get(pj, "listen")));
        fflush(stdout);
    }
    json_decref(made);

    struct event *sigint = evsignal_new(base, SIGINT, on_signal, base);
    struct event *sigterm = evsignal_new(base, SIGTERM, on_signal, base);
    evsignal_add(sigint, NULL);
    evsignal_add(sigterm, NULL);
    event_base_dispatch(base);

    event_free(sigint);
    event_free(sigterm);
    api_free(a);
    proxy_server_free(ps);
    evlog_free(log);
    event_base_free(base);
    return 0;
}
