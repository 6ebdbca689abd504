/* orch.c — runs one scenario end to end: children, fleet, fault timeline, drain, exit code; its
 * report.json is built by orch_report.c from what the run hands it. */
#include "orch.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "clock.h"
#include "faultplan.h"
#include "fleet.h"
#include "fleet_tls.h"
#include "httpc.h"
#include "live_metrics.h"
#include "server_scrape.h"
#include "startat.h"
#include "series_rec.h"
#include "netfault.h"
#include "netns.h"
#include "nodes_report.h"
#include "orch_report.h"
#include "prng.h"
#include "proxyctl.h"
#include "reports.h"

#define PROXY_NAME "rtchaos"
#define API_TIMEOUT_MS 3000
/* Beyond every phase's own deadline: if the run is still going this long
 * after its planned end, the watchdog kills the children and exits 3.
 * RTCHAOS_WATCHDOG_SLACK_MS replaces it (so a test can see the watchdog fire
 * without waiting 90 s). */
#define WATCHDOG_SLACK_MS 90000

static uint64_t watchdog_slack_ms(void)
{
    const char *e = getenv("RTCHAOS_WATCHDOG_SLACK_MS");
    char *end;
    if (!e || !*e)
        return WATCHDOG_SLACK_MS;
    errno = 0;
    unsigned long long v = strtoull(e, &end, 10);
    if (errno || *end || e[0] == '-') {
        fprintf(stderr, "rtchaos: RTCHAOS_WATCHDOG_SLACK_MS=%s is not a number of ms; using %d\n", e,
                WATCHDOG_SLACK_MS);
        return WATCHDOG_SLACK_MS;
    }
    return v;
}

/* snprintf that may truncate by design (paths and messages are bounded; a
 * cut message is better than none). Returns what snprintf returns. */
static int sfmt(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int sfmt(char *buf, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
    return n;
}

/* ---- signals ------------------------------------------------------------------ */

static volatile sig_atomic_t g_signal;      /* first SIGINT/SIGTERM received */
static volatile pid_t g_pgids[2];           /* child process groups, for the second signal */

static void on_signal(int sig)
{
    if (g_signal) {
        /* Second signal: the user wants out now. Only async-signal-safe calls. */
        for (int i = 0; i < 2; i++)
            if (g_pgids[i] > 0)
                kill(-g_pgids[i], SIGKILL);
        _exit(ORCH_EXIT_BROKEN);
    }
    g_signal = sig;
}

/* ---- the run's state ----------------------------------------------------------- */

typedef struct run {
    const scenario *s;
    const orch_opts *o;
    uint64_t seed;
    char dir[PATH_MAX];
    char target_url[512];
    char up_host[256];        /* the server: started or --target */
    char prefix[FLEET_PREFIX_MAX + 1]; /* --target's path prefix ("" = none) */
    uint16_t up_port;
    int tls;                  /* --target https:// or wss://: the fleet speaks TLS (fleet_tls.h) */
    int have_server;          /* we run rtchaos-server */
    child server;
    int server_down;          /* killed on purpose (kill window) */
    int server_paused;
    unsigned nnodes;          /* server: {nodes: N}: node 0 is `server`, 1..N-1 here (0: one plain server) */
    child xnode[SCN_NODES_MAX];
    uint16_t node_port[SCN_NODES_MAX];
    int node_down[SCN_NODES_MAX];
    int have_redis;           /* redis: auto — our own redis-server */
    child redis;
    uint16_t redis_port;
    int redis_down;
    json_t *nodes_report;     /* report.json "nodes" (server: {nodes: N}), or NULL */
    sscrape *node_ss[SCN_NODES_MAX]; /* every node's /metrics over the run (NULL: not scraped) */
    int have_proxy;
    child proxy;
    proxyctl api;
    uint16_t proxy_port;
    fleet *fl;
    livem *lm;                /* the live metrics endpoint (NULL: none) */
    sscrape *ss;              /* scraping the server's /metrics (NULL: not) */
    json_t *server_metrics;   /* what it gathered (report.json "server"), or NULL */
    sscrape *ps;              /* scraping rtchaos-proxy's /metrics (NULL: not) */
    json_t *proxy_metrics;    /* report.json "proxy_metrics", or NULL */
    srec *sr;                 /* harness.record_series: every page every second (NULL: not) */
    char lm_bound[300];       /* where the live endpoint listens ("" = nowhere) */
    uint64_t t0_us;           /* fleet_start, monotonic */
    int64_t t0_wall_us;       /* the same instant on the wall clock */
    int64_t start_late_us;    /* --start-at: how late the clients started after it */
    uint64_t warmup_us;
    json_t *events;           /* harness events (events.jsonl), unsorted */
    json_t *windows;          /* per fault: {"from_us","to_us"} actual, mono since t0 */
    char error[1024];         /* why the run broke ("" when it did not) */
    json_t *children;         /* report.json "children": how each started child ended */
    int partial;
    char started[40];
    double elapsed_s;
    pthread_t watchdog;
    int watchdog_on;
    pthread_mutex_t wd_lock;
    pthread_cond_t wd_cond;
    int wd_done;
    uint64_t wd_deadline_us;
    /* network: {namespaces: true} (docs/network.md) */
    int have_netns;
    netns ns;
    unsigned char *net_active;   /* per fault: the kernel fault is applied now */
    netfault_count *net_counts;  /* per fault: nftables counters, summed over its windows */
    json_t *net_samples;         /* TCP figures of both namespaces over the run */
    json_t *tcp_first[2];        /* [0] server side, [1] clients: at the timeline's start */
    json_t *tcp_last[2];         /* after the drain */
    uint64_t next_sample_us;
} run;

static double t_s(const run *r)
{
    return r->t0_us ? (double)(clock_mono_us() - r->t0_us) / 1e6 : 0.0;
}

/* Records one harness event for events.jsonl. detail is stolen (may be NULL). */
static void event(run *r, const char *action, json_t *detail)
{
    json_t *e = json_pack("{s:I, s:f, s:s, s:s}", "t_us", (json_int_t)clock_wall_us(), "t_s", t_s(r), "source",
                          "harness", "action", action);
    if (detail) {
        json_object_update_missing(e, detail);
        json_decref(detail);
    }
    json_array_append_new(r->events, e);
}

static void fail(run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(run *r, const char *fmt, ...)
{
    if (r->error[0])
        return; /* the first cause is the one that matters */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->error, sizeof r->error, fmt, ap);
    va_end(ap);
    event(r, "run_broken", json_pack("{s:s}", "error", r->error));
}

/* Records in r->children.<name> how one stop of a child the harness
 * started ended (child_stop returned how): "exit" says how, "clean" stays
 * true only while every stop was clean, "problems" lists the others.
 * A server restarted by a fault is judged at each stop (SIGTERM); one
 * killed on purpose (a kill fault) is not. */
static void judge_stop(run *r, const char *name, const child *c, int how, uint64_t grace_ms)
{
    char why[160], desc[96];
    json_t *o = json_object_get(r->children, name);
    if (!o) {
        o = json_pack("{s:b, s:[]}", "clean", 1, "problems");
        json_object_set_new(r->children, name, o);
    }
    child_describe_exit(c, desc, sizeof desc);
    json_object_set_new(o, "exit", json_string(desc));
    if (!child_judge_stop(c, how, grace_ms, why, sizeof why)) {
        json_object_set_new(o, "clean", json_false());
        json_array_append_new(json_object_get(o, "problems"), json_string(why));
    }
}

/* At the end of the run: every started child's logs are searched for a
 * sanitizer's report, and a child that did not end cleanly breaks the run
 * (exit 3): a crash, a leak or a UBSan report during the run or its drain
 * must not pass because the harness only logged it. */
static void judge_children(run *r)
{
    struct { const char *name, *bin, *log; const child *c; int have; } who[SCN_NODES_MAX + 2] = {
        {"server", "rtchaos-server", "server.log", &r->server, r->have_server},
        {"proxy", "rtchaos-proxy", "proxy.log", &r->proxy, r->have_proxy}};
    size_t nwho = 2;
    char names[SCN_NODES_MAX][2][16];
    for (unsigned i = 1; i < r->nnodes; i++, nwho++) {
        sfmt(names[i][0], sizeof names[i][0], "node%u", i);
        sfmt(names[i][1], sizeof names[i][1], "node%u.log", i);
        who[nwho].name = names[i][0];
        who[nwho].bin = "rtchaos-server";
        who[nwho].log = names[i][1];
        who[nwho].c = &r->xnode[i];
        who[nwho].have = 1;
    }
    for (size_t i = 0; i < nwho; i++) {
        const child *c = who[i].c;
        if (!who[i].have || !c->err_path[0])
            continue;
        json_t *o = json_object_get(r->children, who[i].name);
        if (!o) {
            o = json_pack("{s:b, s:[]}", "clean", 1, "problems");
            json_object_set_new(r->children, who[i].name, o);
        }
        char line[400];
        if (child_sanitizer_report(c, line, sizeof line)) {
            char why[512];
            sfmt(why, sizeof why, "sanitizer report: %s", line);
            json_object_set_new(o, "sanitizer", json_string(line));
            json_object_set_new(o, "clean", json_false());
            json_array_append_new(json_object_get(o, "problems"), json_string(why));
        }
        json_object_set_new(o, "log", json_string(who[i].log));
        if (json_is_true(json_object_get(o, "clean")))
            continue;
        char msg[700];
        sfmt(msg, sizeof msg, "%s %s (see %s/%s)", who[i].bin,
             json_string_value(json_array_get(json_object_get(o, "problems"), 0)), r->dir, who[i].log);
        if (!r->error[0]) {
            fail(r, "%s", msg);
        } else {
            /* the run broke already: the child's end is named too */
            size_t len = strlen(r->error);
            sfmt(r->error + len, sizeof r->error - len, "; also %s", msg);
        }
    }
}

static int mkdirs(const char *path, char *err, size_t errlen)
{
    char buf[PATH_MAX];
    sfmt(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) < 0 && errno != EEXIST) {
            sfmt(err, errlen, "cannot create %s: %s", buf, strerror(errno));
            return -1;
        }
        *p = '/';
    }
    if (mkdir(buf, 0755) < 0 && errno != EEXIST) {
        sfmt(err, errlen, "cannot create %s: %s", buf, strerror(errno));
        return -1;
    }
    return 0;
}

static int write_json_file(const char *path, const json_t *j, size_t flags, char *err, size_t errlen)
{
    char tmp[PATH_MAX + 8];
    sfmt(tmp, sizeof tmp, "%s.tmp", path);
    if (json_dump_file(j, tmp, flags) != 0 || rename(tmp, path) != 0) {
        sfmt(err, errlen, "cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

int orch_target_tls(const char *url)
{
    return strncmp(url, "https://", 8) == 0 || strncmp(url, "wss://", 6) == 0;
}

int orch_parse_target(const char *url, char *host, size_t hostcap, uint16_t *port, char *prefix, size_t prefixcap,
                      char *err, size_t errlen)
{
    const char *p = url;
    /* ws:// / wss:// name the same server as http:// / https:// (the fleet
     * picks WS, SSE or poll per group) */
    if (strncmp(p, "http://", 7) == 0)
        p += 7;
    else if (strncmp(p, "https://", 8) == 0)
        p += 8;
    else if (strncmp(p, "ws://", 5) == 0)
        p += 5;
    else if (strncmp(p, "wss://", 6) == 0)
        p += 6;
    else {
        sfmt(err, errlen, "--target %s: expected http://HOST:PORT[/PREFIX] or https://HOST:PORT[/PREFIX]", url);
        return -1;
    }
    const char *slash = strchr(p, '/');
    size_t hl = slash ? (size_t)(slash - p) : strlen(p);
    /* a path is a prefix every request goes under (a service behind a
     * reverse proxy at /rt/…): kept without its trailing slashes */
    size_t pl = slash ? strlen(slash) : 0;
    while (pl > 0 && slash[pl - 1] == '/')
        pl--;
    for (size_t i = 0; i < pl; i++) {
        unsigned char ch = (unsigned char)slash[i];
        if (!(isalnum(ch) || strchr("/-._~%!$&'()*+,;=:@", ch))) {
            sfmt(err, errlen, "--target %s: the path prefix may not contain '%c' (no query or fragment; "
                 "percent-encode other bytes)", url, ch >= 0x20 && ch < 0x7f ? ch : '?');
            return -1;
        }
        if (ch == '/' && i + 1 < pl && slash[i + 1] == '/') {
            sfmt(err, errlen, "--target %s: empty segment ('//') in the path prefix", url);
            return -1;
        }
        /* a dot segment would be resolved by some servers and refused by
         * others (wire contract §1): the prefix names the path as sent */
        size_t seg = i + 1, dots = 0;
        while (ch == '/' && seg + dots < pl && slash[seg + dots] == '.')
            dots++;
        if (ch == '/' && (dots == 1 || dots == 2) && (seg + dots == pl || slash[seg + dots] == '/')) {
            sfmt(err, errlen, "--target %s: dot segment ('.' or '..') in the path prefix", url);
            return -1;
        }
    }
    if (pl + 1 > prefixcap || pl > FLEET_PREFIX_MAX) {
        sfmt(err, errlen, "--target %s: the path prefix is longer than %d bytes", url, FLEET_PREFIX_MAX);
        return -1;
    }
    memcpy(prefix, slash ? slash : "", pl);
    prefix[pl] = '\0';
    char hp[300];
    if (hl == 0 || hl >= sizeof hp) {
        sfmt(err, errlen, "--target %s: expected http://HOST:PORT", url);
        return -1;
    }
    memcpy(hp, p, hl);
    hp[hl] = '\0';
    char *colon = strrchr(hp, ':');
    if (!colon || colon == hp) {
        sfmt(err, errlen, "--target %s: expected a port (http://HOST:PORT)", url);
        return -1;
    }
    *colon = '\0';
    char *end;
    long v = strtol(colon + 1, &end, 10);
    if (*end || v <= 0 || v > 65535) {
        sfmt(err, errlen, "--target %s: port must be 1..65535", url);
        return -1;
    }
    if (strlen(hp) >= hostcap || strlen(hp) > FLEET_HOST_MAX) {
        sfmt(err, errlen, "--target %s: host name too long", url);
        return -1;
    }
    sfmt(host, hostcap, "%s", hp);
    *port = (uint16_t)v;
    return 0;
}

/* Whether host:port accepts a TCP connection within timeout_ms (a --target
 * that is down is a broken run, not a failed verdict). */
static int tcp_reachable(const char *host, uint16_t port, unsigned timeout_ms, char *err, size_t errlen)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    char ps[8];
    sfmt(ps, sizeof ps, "%u", port);
    int gai = getaddrinfo(host, ps, &hints, &res);
    if (gai != 0) {
        sfmt(err, errlen, "cannot resolve %s: %s", host, gai_strerror(gai));
        return -1;
    }
    int ok = 0, last = 0;
    for (struct addrinfo *a = res; a && !ok; a = a->ai_next) {
        int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) {
            last = errno;
            continue;
        }
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
            ok = 1;
        else if (errno == EINPROGRESS) {
            struct pollfd pfd = {.fd = fd, .events = POLLOUT};
            int pr;
            do
                pr = poll(&pfd, 1, (int)timeout_ms);
            while (pr < 0 && errno == EINTR && !g_signal);
            int soerr = 0;
            socklen_t sl = sizeof soerr;
            if (pr == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0)
                ok = 1;
            else
                last = pr == 0 ? ETIMEDOUT : soerr ? soerr : errno;
        } else
            last = errno;
        close(fd);
    }
    freeaddrinfo(res);
    if (!ok)
        sfmt(err, errlen, "%s:%u does not accept connections: %s", host, port, strerror(last));
    return ok ? 0 : -1;
}

/* ---- children --------------------------------------------------------------------- */

/* argv for rtchaos-server on port (0 = ephemeral). */
static char **server_argv(run *r, uint16_t port)
{
    const scenario *s = r->s;
    size_t n = 0, cap = 18 + s->server.nargs;
    char **v = calloc(cap, sizeof *v);
    char buf[PATH_MAX];
    if (s->server.bin)
        v[n++] = strdup(s->server.bin);
    else {
        sfmt(buf, sizeof buf, "%s/rtchaos-server", r->o->bin_dir);
        v[n++] = strdup(buf);
    }
    v[n++] = strdup("--host");
    v[n++] = strdup(r->have_netns ? NETNS_SERVER_ADDR : "127.0.0.1");
    v[n++] = strdup("--port");
    sfmt(buf, sizeof buf, "%u", port);
    v[n++] = strdup(buf);
    if (s->channels.history) {
        v[n++] = strdup("--history-max");
        sfmt(buf, sizeof buf, "%u", s->channels.history);
        v[n++] = strdup(buf);
    }
    if (s->server.config) {
        v[n++] = strdup("--config");
        if (s->server.config[0] == '/')
            v[n++] = strdup(s->server.config);
        else {
            sfmt(buf, sizeof buf, "%s/%s", s->dir, s->server.config);
            v[n++] = strdup(buf);
        }
    }
    if (r->have_redis) {
        v[n++] = strdup("--redis");
        sfmt(buf, sizeof buf, "redis://127.0.0.1:%u", r->redis_port);
        v[n++] = strdup(buf);
    }
    for (size_t i = 0; i < s->server.nargs; i++)
        v[n++] = strdup(s->server.args[i]);
    v[n] = NULL;
    return v;
}

static void free_argv(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

static json_t *argv_json(char **v)
{
    json_t *a = json_array();
    for (size_t i = 0; v[i]; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

static child *node_child(run *r, unsigned i) { return i ? &r->xnode[i] : &r->server; }

/* Starts (or restarts, port != 0) the server — node i of server: {nodes: N}
 * (node 0 is the plain server's place) — and waits for its readiness line. */
static int server_start(run *r, unsigned i, uint16_t port, char *err, size_t errlen)
{
    char out[PATH_MAX], errp[PATH_MAX];
    child *c = node_child(r, i);
    if (i) {
        sfmt(out, sizeof out, "%s/node%u.stdout.log", r->dir, i);
        sfmt(errp, sizeof errp, "%s/node%u.log", r->dir, i);
    } else {
        sfmt(out, sizeof out, "%s/server.stdout.log", r->dir);
        sfmt(errp, sizeof errp, "%s/server.log", r->dir);
    }
    char **argv = server_argv(r, port);
    json_t *d = json_pack("{s:o}", "argv", argv_json(argv));
    if (r->nnodes)
        json_object_set_new(d, "node", json_integer(i));
    event(r, port ? "server_starting_again" : "server_starting", d);
    int rc = child_start(c, "rtchaos-server", argv, out, errp, err, errlen);
    free_argv(argv);
    if (rc < 0)
        return -1;
    if (!i)
        g_pgids[0] = r->server.pid;
    char rest[128];
    if (child_wait_line(c, "listening ", rest, sizeof rest, r->s->server.ready_timeout_us / 1000, err,
                        errlen) < 0) {
        child_stop(c, 1000);
        return -1;
    }
    char *colon = strrchr(rest, ':');
    long p = colon ? strtol(colon + 1, NULL, 10) : 0;
    if (p <= 0 || p > 65535 || (port && p != port)) {
        sfmt(err, errlen, "rtchaos-server printed 'listening %s', expected 127.0.0.1:%s", rest,
                 port ? "the same port" : "PORT");
        child_stop(c, 1000);
        return -1;
    }
    r->node_port[i] = (uint16_t)p;
    if (!i) {
        sfmt(r->up_host, sizeof r->up_host, "%s", r->have_netns ? NETNS_SERVER_ADDR : "127.0.0.1");
        r->up_port = (uint16_t)p;
    }
    d = json_pack("{s:i, s:i}", "pid", (int)c->pid, "port", (int)p);
    if (r->nnodes)
        json_object_set_new(d, "node", json_integer(i));
    event(r, "server_ready", d);
    return 0;
}

/* A free loopback port for redis-server, which cannot pick its own and
 * tell us (--port 0 turns TCP off). The bind-and-release race with another
 * process is caught by the readiness check failing. */
static int free_port(uint16_t *port, char *err, size_t errlen)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
        sfmt(err, errlen, "no free loopback port: %s", strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    *port = ntohs(a.sin_port);
    return 0;
}

/* redis-server from PATH (child_start execs a path). */
static int redis_bin(char *out, size_t cap, char *err, size_t errlen)
{
    const char *path = getenv("PATH");
    char dirs[4096];
    sfmt(dirs, sizeof dirs, "%s", path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
    char *save = NULL;
    for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        sfmt(out, cap, "%s/redis-server", d);
        if (access(out, X_OK) == 0)
            return 0;
    }
    sfmt(err, errlen, "redis: auto needs redis-server in PATH (Debian package redis-server)");
    return -1;
}

/* Starts our redis-server (port 0: a fresh one) — empty every time: no RDB,
 * no AOF, its own directory in the run's — and waits until it accepts. */
static int redis_start(run *r, uint16_t port, char *err, size_t errlen)
{
    char bin[PATH_MAX], dir[PATH_MAX], out[PATH_MAX], errp[PATH_MAX], p[16];
    if (redis_bin(bin, sizeof bin, err, errlen) < 0)
        return -1;
    if (!port && free_port(&port, err, errlen) < 0)
        return -1;
    sfmt(dir, sizeof dir, "%s/redis", r->dir);
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        sfmt(err, errlen, "mkdir %s: %s", dir, strerror(errno));
        return -1;
    }
    sfmt(out, sizeof out, "%s/redis.stdout.log", r->dir);
    sfmt(errp, sizeof errp, "%s/redis.log", r->dir);
    sfmt(p, sizeof p, "%u", port);
    char *argv[] = {bin, "--port", p, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir,
                    "--daemonize", "no", NULL};
    event(r, "redis_starting", json_pack("{s:o}", "argv", argv_json(argv)));
    if (child_start(&r->redis, "redis-server", argv, out, errp, err, errlen) < 0)
        return -1;
    uint64_t end = clock_mono_us() + r->s->server.ready_timeout_us;
    for (;;) {
        if (child_poll(&r->redis)) {
            char how[96];
            child_describe_exit(&r->redis, how, sizeof how);
            sfmt(err, errlen, "redis-server %s before accepting connections (see %s)", how, out);
            return -1;
        }
        char e2[256];
        if (tcp_reachable("127.0.0.1", port, 200, e2, sizeof e2) == 0)
            break;
        if (clock_mono_us() >= end || g_signal) {
            sfmt(err, errlen, "redis-server did not accept connections on 127.0.0.1:%u in time: %s", port, e2);
            child_stop(&r->redis, 1000);
            return -1;
        }
        clock_nap_ms(50);
    }
    r->redis_port = port;
    event(r, "redis_ready", json_pack("{s:i, s:i}", "pid", (int)r->redis.pid, "port", (int)port));
    return 0;
}

static int proxy_start(run *r, char *err, size_t errlen)
{
    const scenario *s = r->s;
    char out[PATH_MAX], errp[PATH_MAX], bin[PATH_MAX], seed[32], evlog[PATH_MAX];
    sfmt(out, sizeof out, "%s/proxy.stdout.log", r->dir);
    sfmt(errp, sizeof errp, "%s/proxy.log", r->dir);
    sfmt(evlog, sizeof evlog, "%s/proxy-events.jsonl", r->dir);
    if (s->proxy.bin)
        sfmt(bin, sizeof bin, "%s", s->proxy.bin);
    else
        sfmt(bin, sizeof bin, "%s/rtchaos-proxy", r->o->bin_dir);
    sfmt(seed, sizeof seed, "%llu", (unsigned long long)prng_derive(r->seed, prng_hash_str("proxy")));
    size_t n = 0;
    char **argv = calloc(12 + s->proxy.nargs, sizeof *argv);
    argv[n++] = strdup(bin);
    argv[n++] = strdup("--host");
    argv[n++] = strdup("127.0.0.1");
    argv[n++] = strdup("--api-port");
    argv[n++] = strdup("0");
    argv[n++] = strdup("--seed");
    argv[n++] = strdup(seed);
    argv[n++] = strdup("--events");
    argv[n++] = strdup(evlog);
    for (size_t i = 0; i < s->proxy.nargs; i++)
        argv[n++] = strdup(s->proxy.args[i]);
    argv[n] = NULL;
    event(r, "proxy_starting", json_pack("{s:o}", "argv", argv_json(argv)));
    int rc = child_start(&r->proxy, "rtchaos-proxy", argv, out, errp, err, errlen);
    free_argv(argv);
    if (rc < 0)
        return -1;
    g_pgids[1] = r->proxy.pid;
    char rest[128];
    if (child_wait_line(&r->proxy, "api ", rest, sizeof rest, s->proxy.ready_timeout_us / 1000, err, errlen) < 0)
        return -1;
    char *colon = strrchr(rest, ':');
    long p = colon ? strtol(colon + 1, NULL, 10) : 0;
    if (p <= 0 || p > 65535) {
        sfmt(err, errlen, "rtchaos-proxy printed 'api %s', expected 127.0.0.1:PORT", rest);
        return -1;
    }
    sfmt(r->api.host, sizeof r->api.host, "127.0.0.1");
    r->api.port = (uint16_t)p;
    r->api.timeout_ms = API_TIMEOUT_MS;
    char upstream[300];
    sfmt(upstream, sizeof upstream, "%s:%u", r->up_host, r->up_port);
    /* In namespaces the proxy's API stays on the server side's loopback
     * (this thread lives there) and its listener on the veth address. */
    if (proxyctl_create(&r->api, PROXY_NAME, r->have_netns ? NETNS_SERVER_ADDR : "127.0.0.1", upstream,
                        &r->proxy_port, err, errlen) < 0)
        return -1;
    if (r->nnodes > 1) {
        /* The nodes behind the proxy's upstream pool (upool.h). */
        json_t *ups = json_array();
        for (unsigned i = 0; i < r->nnodes; i++) {
            char a[300];
            sfmt(a, sizeof a, "%s:%u", r->up_host, r->node_port[i]);
            json_array_append_new(ups, json_string(a));
        }
        const char *bal = s->server.balance ? s->server.balance : "roundrobin";
        int prc = proxyctl_set_pool(&r->api, PROXY_NAME, ups, bal, err, errlen);
        event(r, "proxy_pool", json_pack("{s:O, s:s}", "upstreams", ups, "balance", bal));
        json_decref(ups);
        if (prc < 0)
            return -1;
    }
    for (size_t i = 0; i < s->proxy.ntoxics; i++)
        if (proxyctl_add_toxic(&r->api, PROXY_NAME, &s->proxy.toxics[i], err, errlen) < 0)
            return -1;
    event(r, "proxy_ready", json_pack("{s:i, s:i, s:i, s:s}", "pid", (int)r->proxy.pid, "api_port", (int)p,
                                      "listen_port", (int)r->proxy_port, "upstream", upstream));
    return 0;
}

/* ---- the fleet ------------------------------------------------------------------- */

static int fleet_setup(run *r, char *err, size_t errlen)
{
    const scenario *s = r->s;
    fleet_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    if (r->have_proxy) {
        sfmt(cfg.client_addr.host, sizeof cfg.client_addr.host, "%s", r->have_netns ? NETNS_SERVER_ADDR : "127.0.0.1");
        cfg.client_addr.port = r->proxy_port;
    } else {
        sfmt(cfg.client_addr.host, sizeof cfg.client_addr.host, "%s", r->up_host);
        cfg.client_addr.port = r->up_port;
        /* nodes without the proxy (proxy: false; a run bigger than one
         * proxy process holds): the clients spread over the nodes themselves */
        for (unsigned i = 0; r->nnodes > 1 && i < r->nnodes && i < FLEET_CLIENT_ADDRS_MAX; i++) {
            fleet_endpoint *e = &cfg.client_addrs[cfg.n_client_addrs++];
            sfmt(e->host, sizeof e->host, "%s", r->up_host);
            e->port = r->node_port[i];
        }
    }
    sfmt(cfg.path_prefix, sizeof cfg.path_prefix, "%s", r->prefix);
    sfmt(cfg.publish_addr.host, sizeof cfg.publish_addr.host, "%s", r->up_host);
    cfg.publish_addr.port = r->up_port;
    if (s->server.redis_none) {
        /* nodes that share nothing: the publisher posts every event to
         * every node (how a deployment without a broker feeds its nodes) */
        for (unsigned i = 1; i < r->nnodes && cfg.n_publish_mirrors < FLEET_MIRRORS_MAX; i++) {
            fleet_endpoint *m = &cfg.publish_mirrors[cfg.n_publish_mirrors++];
            sfmt(m->host, sizeof m->host, "%s", r->up_host);
            m->port = r->node_port[i];
        }
    }
    if (r->tls) {
        cfg.tls = 1;
        cfg.tls_insecure = s->target.insecure;
        sfmt(cfg.tls_host, sizeof cfg.tls_host, "%s", r->up_host);
        if (s->target.ca)
            sfmt(cfg.tls_ca, sizeof cfg.tls_ca, "%s", s->target.ca);
    }
    if (s->target.protocol)
        sfmt(cfg.protocol, sizeof cfg.protocol, "%s", s->target.protocol);
    /* the adapter's settings from target: (NULL = the adapter's default) */
    proto_opts *po = &cfg.proto_opts;
    const struct {
        const char *from;
        char *to;
        size_t cap;
    } opts[] = {
        {s->target.sub_path, po->sub_path, sizeof po->sub_path},
        {s->target.pub_path, po->pub_path, sizeof po->pub_path},
        {s->target.resume_header, po->resume_header, sizeof po->resume_header},
        {s->target.resume_query, po->resume_query, sizeof po->resume_query},
        {s->target.payload, po->payload_path, sizeof po->payload_path},
        {s->target.pub_method, po->pub_method, sizeof po->pub_method},
        {s->target.pub_body, po->pub_body, sizeof po->pub_body},
        {s->target.sub_message, po->sub_message, sizeof po->sub_message},
        {s->target.resume_message, po->resume_message, sizeof po->resume_message},
        {s->target.offset, po->offset_path, sizeof po->offset_path},
        {s->target.ch_join, po->ch_join, sizeof po->ch_join},
        {s->target.pub_message, po->pub_message, sizeof po->pub_message},
        {s->target.ping_match, po->ping_match, sizeof po->ping_match},
        {s->target.pong_message, po->pong_message, sizeof po->pong_message},
        {s->target.ping_message, po->ping_message, sizeof po->ping_message},
    };
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
        if (opts[i].from)
            sfmt(opts[i].to, opts[i].cap, "%s", opts[i].from);
    po->ping_interval_ms = (uint32_t)(s->target.ping_interval_us / 1000);
    if (scenario_expand_headers(s, cfg.proto_opts.headers, sizeof cfg.proto_opts.headers, err, errlen) < 0)
        return -1;
    if (s->target.protocol && strcmp(s->target.protocol, "pusher") == 0 &&
        scenario_pusher_credentials(s, po->app_id, sizeof po->app_id, po->key, sizeof po->key, po->secret,
                                    sizeof po->secret, err, errlen) < 0)
        return -1;
    cfg.channels.count = s->channels.count;
    sfmt(cfg.channels.pattern, sizeof cfg.channels.pattern, "%s", s->channels.pattern);
    const scn_publishers *p = &s->publishers;
    cfg.pub.rate_per_s = p->rate_per_s;
    cfg.pub.schedule = p->schedule == SCN_SCHED_POISSON  ? FLEET_SCHED_POISSON
                       : p->schedule == SCN_SCHED_BURSTS ? FLEET_SCHED_BURSTS
                                                         : FLEET_SCHED_CONSTANT;
    cfg.pub.burst_size = p->burst_size;
    cfg.pub.burst_interval_ms = (uint32_t)(p->burst_every_us / 1000);
    cfg.pub.payload_bytes = p->payload_bytes;
    cfg.pub.payload = p->payload_fields ? FLEET_PAYLOAD_FIELDS : FLEET_PAYLOAD_STRING;
    cfg.pub.transport = p->transport == SCN_PUB_WS ? FLEET_PUB_WS : FLEET_PUB_HTTP;
    cfg.pub.batch_size = p->batch;
    cfg.pub.retries = p->idempotency_retries;
    cfg.pub.ack_timeout_ms = (uint32_t)(p->timeout_us / 1000);
    cfg.pub.connections = p->connections;
    cfg.pub.start_us = p->start_us;
    cfg.pub.until_us = r->warmup_us + r->s->duration_us;
    if (p->token) {
        if (strlen(p->token) >= sizeof cfg.pub.token) {
            sfmt(err, errlen, "publishers.token is too long (at most %zu bytes)", sizeof cfg.pub.token - 1);
            return -1;
        }
        sfmt(cfg.pub.token, sizeof cfg.pub.token, "%s", p->token);
    }
    if (s->nclients > FLEET_GROUPS_MAX) {
        sfmt(err, errlen, "at most %d client groups", FLEET_GROUPS_MAX);
        return -1;
    }
    fleet_group_cfg groups[FLEET_GROUPS_MAX];
    memset(groups, 0, sizeof groups);
    for (size_t i = 0; i < s->nclients; i++) {
        const scn_client_group *g = &s->clients[i];
        fleet_group_cfg *fg = &groups[i];
        sfmt(fg->name, sizeof fg->name, "%s", g->name);
        fg->count = g->count;
        fg->transport = g->transport == SCN_CL_SSE ? FLEET_SSE : g->transport == SCN_CL_POLL ? FLEET_POLL : FLEET_WS;
        for (unsigned k = 0; k < g->nfallback && k < 2; k++)
            fg->fallback[k] = g->fallback[k] == SCN_CL_SSE    ? FLEET_SSE
                              : g->fallback[k] == SCN_CL_POLL ? FLEET_POLL
                                                              : FLEET_WS;
        fg->n_fallback = g->nfallback < 2 ? g->nfallback : 2;
        fg->channels_per_client = g->channels_per_client;
        fg->ramp_up_ms = (uint32_t)(g->ramp_up_us / 1000);
        fg->read_rate_bytes_per_s = g->read_rate_bytes_per_s;
        fg->read_rate_msgs_per_s = g->read_rate_msgs_per_s;
        fg->reconnect.enabled = g->reconnect.enabled;
        fg->reconnect.initial_backoff_ms = (uint32_t)(g->reconnect.initial_us / 1000);
        fg->reconnect.max_backoff_ms = (uint32_t)(g->reconnect.max_us / 1000);
        fg->reconnect.jitter = g->reconnect.jitter;
        fg->reconnect.max_attempts = g->reconnect.max_attempts;
        fg->reconnect.honour_sse_retry = g->reconnect.honour_retry;
        fg->resume = g->resume;
        if (g->token) {
            if (strlen(g->token) >= sizeof fg->token) {
                sfmt(err, errlen, "clients[%zu].token is too long (at most %zu bytes)", i, sizeof fg->token - 1);
                return -1;
            }
            sfmt(fg->token, sizeof fg->token, "%s", g->token);
        }
        fg->connect_timeout_ms = (uint32_t)(g->connect_timeout_us / 1000);
        fg->idle_timeout_ms = (uint32_t)(g->idle_timeout_us / 1000);
        fg->poll_timeout_ms = (uint32_t)(g->poll_timeout_us / 1000);
        fg->deflate = (fleet_deflate)g->deflate;
        fg->batch = g->batch;
        fg->delta = g->delta;
        fg->behavior = g->behavior == SCN_BH_FLOOD       ? FLEET_FLOOD
                       : g->behavior == SCN_BH_OVERSIZED ? FLEET_OVERSIZED
                       : g->behavior == SCN_BH_SLOWLORIS ? FLEET_SLOWLORIS
                                                         : FLEET_SUBSCRIBER;
        const scn_attack *a = &g->attack;
        fg->attack.rate_per_s = a->rate_per_s;
        fg->attack.messages = a->messages;
        fg->attack.bytes = a->bytes;
        fg->attack.via_http = a->via_http;
        fg->attack.byte_every_ms = (uint32_t)(a->byte_every_us / 1000);
        fg->attack.patience_ms = (uint32_t)(a->patience_us / 1000);
        fg->attack.pause_ms = (uint32_t)(a->pause_us / 1000 ? a->pause_us / 1000 : 1);
        fg->attack.attempts = a->attempts;
        for (unsigned k = 0; k < a->n_expect && k < FLEET_EXPECT_MAX; k++)
            fg->attack.expect[k] = a->expect[k] == SCN_OUTCOME_CLOSED ? FLEET_OUTCOME_CLOSED : a->expect[k];
        fg->attack.n_expect = a->n_expect;
        if (r->have_netns)
            netns_group_addr((unsigned)i, fg->source_addr, sizeof fg->source_addr);
    }
    if (r->have_netns)
        sfmt(cfg.client_netns, sizeof cfg.client_netns, "/run/netns/%s", r->ns.cli);
    cfg.groups = groups;
    cfg.n_groups = s->nclients;
    cfg.source_addrs = (const char *const *)s->harness.source_addrs;
    cfg.n_source_addrs = s->harness.nsource_addrs;
    cfg.threads = s->harness.threads;
    cfg.workers = r->o->workers ? r->o->workers : s->harness.workers;
    cfg.seed = prng_derive(r->seed, prng_hash_str("fleet"));
    cfg.shard_index = r->o->shard_index;
    cfg.shard_count = r->o->shard_count;
    cfg.anomalies_per_kind = s->harness.anomalies_per_kind;
    cfg.fresh_grace_ms = s->harness.fresh_grace_ms;
    return fleet_create(&cfg, &r->fl, err, errlen);
}

/* ---- network namespaces -------------------------------------------------------------- */

/* How the parts sit with network: {namespaces: true} (docs/network.md):
 * this (the controlling) thread moves into the server side's namespace
 * before anything starts, so rtchaos-server and rtchaos-proxy, forked from
 * it, are born there, the publisher thread (created from it) publishes over
 * that namespace's own loopback path, and the proxy's API is reached on its
 * 127.0.0.1. Only the fleet's event-loop threads are created inside the
 * clients' namespace (fleet_cfg.client_netns), so every client connection
 * crosses the veth link where the kernel faults act, and publishing never
 * does. ip/nft/tc run as short children that setns() themselves. */

/* TCP figures of both namespaces now, appended to the run's samples; also
 * returned in *srv and *cli (new references) when those are not NULL. */
static void net_sample(run *r, const char *why, json_t **srv, json_t **cli)
{
    char err[256];
    json_t *a = netns_tcp_sample(r->ns.srv, err, sizeof err);
    json_t *b = a ? netns_tcp_sample(r->ns.cli, err, sizeof err) : NULL;
    if (!a || !b) {
        json_decref(a);
        event(r, "tcp_sample_failed", json_pack("{s:s}", "error", err));
        return;
    }
    json_array_append_new(r->net_samples, json_pack("{s:f, s:s, s:O, s:O}", "t_s", t_s(r), "at", why, "server", a,
                                                    "client", b));
    if (srv)
        *srv = json_incref(a);
    if (cli)
        *cli = json_incref(b);
    json_decref(a);
    json_decref(b);
}

/* Makes the namespaces and moves this thread to the server side. */
static int net_setup(run *r, char *err, size_t errlen)
{
    unsigned removed = 0;
    char e2[512];
    if (netns_clean_stale(&removed, e2, sizeof e2) < 0)
        event(r, "netns_stale_cleanup_failed", json_pack("{s:s}", "error", e2));
    if (removed)
        event(r, "netns_stale_removed", json_pack("{s:i}", "count", (int)removed));
    r->net_active = calloc(r->s->nfaults ? r->s->nfaults : 1, 1);
    r->net_counts = calloc(r->s->nfaults ? r->s->nfaults : 1, sizeof *r->net_counts);
    r->net_samples = json_array();
    if (!r->net_active || !r->net_counts) {
        sfmt(err, errlen, "out of memory");
        return -1;
    }
    r->have_netns = 1;
    if (netns_create(&r->ns, (unsigned)r->s->nclients, err, errlen) < 0 || netns_enter_server(&r->ns, err, errlen) < 0)
        return -1;
    event(r, "netns_created", json_pack("{s:s, s:s, s:s, s:s, s:s}", "server_ns", r->ns.srv, "client_ns", r->ns.cli,
                                        "server_if", r->ns.srv_if, "client_if", r->ns.cli_if, "server_addr",
                                        NETNS_SERVER_ADDR));
    return 0;
}

static void net_teardown(run *r)
{
    char err[512];
    if (!r->have_netns)
        return;
    if (r->ns.created) {
        if (netfault_read_counters(&r->ns, r->s->nfaults, r->net_counts, err, sizeof err) < 0)
            event(r, "nft_counters_unavailable", json_pack("{s:s}", "error", err));
        if (r->tcp_first[0] && !r->tcp_last[0])
            net_sample(r, "end", &r->tcp_last[0], &r->tcp_last[1]);
    }
    if (netns_destroy(&r->ns, err, sizeof err) < 0) {
        fprintf(stderr, "rtchaos: network namespaces: %s\n", err);
        event(r, "netns_remove_failed", json_pack("{s:s}", "error", err));
    } else
        event(r, "netns_removed", json_pack("{s:s, s:s}", "server_ns", r->ns.srv, "client_ns", r->ns.cli));
}

/* ---- the fault timeline --------------------------------------------------------- */

static json_t *window_of(run *r, size_t fault)
{
    return json_array_get(r->windows, fault);
}

static void window_mark(run *r, size_t fault, const char *key)
{
    json_t *w = window_of(r, fault);
    double now = t_s(r);
    livem_fault_set(r->lm, fault, !strcmp(key, "from_s"));
    if (!strcmp(key, "from_s")) {
        if (!json_object_get(w, "from_s"))
            json_object_set_new(w, "from_s", json_real(now));
        json_t *on = json_object_get(w, "on");
        if (!on) {
            on = json_array();
            json_object_set_new(w, "on", on);
        }
        json_array_append_new(on, json_pack("[f]", now));
    } else {
        json_object_set_new(w, "to_s", json_real(now));
        json_t *on = json_object_get(w, "on");
        json_t *last = on ? json_array_get(on, json_array_size(on) - 1) : NULL;
        if (last && json_array_size(last) == 1)
            json_array_append_new(last, json_real(now));
    }
}

static int restart_server(run *r, unsigned i, int hard, char *err, size_t errlen)
{
    uint16_t port = r->node_port[i];
    child *c = node_child(r, i);
    if (!c->exited) {
        if (hard)
            child_signal(c, SIGKILL, err, errlen);
        int how = child_stop(c, r->s->server.stop_timeout_us / 1000);
        char nm[16];
        sfmt(nm, sizeof nm, i ? "node%u" : "server", i);
        if (!hard)
            judge_stop(r, nm, c, how, r->s->server.stop_timeout_us / 1000);
    }
    /* The port was ours a moment ago; a start that loses it to TIME_WAIT or
     * a racing process is retried until the readiness deadline. */
    uint64_t end = clock_mono_us() + r->s->server.ready_timeout_us;
    for (;;) {
        if (server_start(r, i, port, err, errlen) == 0)
            return 0;
        if (clock_mono_us() >= end || g_signal)
            return -1;
        clock_nap_ms(200);
    }
}

/* Before the clients go: every node's /metrics scrape ends (a last sample
 * with the clients still connected) and becomes report.json "nodes": the
 * clients of each node over the run, broker lag per node and summed (the
 * budget's broker_lag_p*_ms), and where a killed node's clients landed. */
static unsigned fault_node(run *r, const scn_fault *f);

static void nodes_scrape(run *r)
{
    json_t *scr[SCN_NODES_MAX] = {0};
    for (unsigned i = 0; i < r->nnodes; i++) {
        scr[i] = r->node_ss[i] ? sscrape_finish(r->node_ss[i]) : NULL;
        r->node_ss[i] = NULL;
    }
    nodes_fault *nf = calloc(r->s->nfaults + 1, sizeof *nf);
    size_t n = 0;
    for (size_t i = 0; nf && i < r->s->nfaults; i++) {
        const scn_fault *f = &r->s->faults[i];
        if (f->target != SCN_TGT_NODE || (f->kind != SCN_FAULT_SERVER_KILL && f->kind != SCN_FAULT_SERVER_RESTART))
            continue;
        json_t *w = window_of(r, i);
        if (!json_is_number(json_object_get(w, "from_s")))
            continue; /* the run ended before it */
        nf[n] = (nodes_fault){.name = f->name, .kind = f->kind == SCN_FAULT_SERVER_KILL ? "kill" : "restart",
                              .node = fault_node(r, f), .from_s = json_number_value(json_object_get(w, "from_s")),
                              .to_s = f->kind == SCN_FAULT_SERVER_KILL && json_is_number(json_object_get(w, "to_s"))
                                          ? json_number_value(json_object_get(w, "to_s"))
                                          : NAN};
        n++;
    }
    r->nodes_report = nodes_report_build(r->nnodes, r->s->server.balance, scr, nf, n, t_s(r));
    if (r->nodes_report) {
        json_object_set_new(r->nodes_report, "broker", json_string(r->s->server.redis_none ? "none" : "redis"));
        if (r->s->server.redis_none && r->fl) {
            uint64_t acked, failed;
            fleet_pub_mirror_outcomes(r->fl, &acked, &failed);
            json_object_set_new(r->nodes_report, "publish_mirrors",
                                json_pack("{s:I, s:I}", "acked", (json_int_t)acked, "failed", (json_int_t)failed));
        }
    }
    free(nf);
    for (unsigned i = 0; i < r->nnodes; i++)
        json_decref(scr[i]);
}

/* Which node a node fault hits: its own index, or (node: random) one drawn
 * from the run's seed and the fault's name, the same at its start and end. */
static unsigned fault_node(run *r, const scn_fault *f)
{
    if (f->node >= 0)
        return (unsigned)f->node % r->nnodes;
    return (unsigned)(prng_derive(r->seed, prng_hash_str(f->name)) % r->nnodes);
}

/* A process fault on the plain server, one node (server: kill-node…) or
 * our redis-server (server: redis-kill…; it comes back empty). */
static int apply_process(run *r, const fplan_action *a, json_t *d, char *err, size_t errlen)
{
    const scn_fault *f = &r->s->faults[a->fault];
    int is_redis = f->target == SCN_TGT_REDIS;
    unsigned ni = f->target == SCN_TGT_NODE ? fault_node(r, f) : 0;
    child *c = is_redis ? &r->redis : node_child(r, ni);
    int *down = is_redis ? &r->redis_down : ni ? &r->node_down[ni] : &r->server_down;
    int rc = 0;
    if (f->target != SCN_TGT_SERVER)
        json_object_set_new(d, "target", json_string(is_redis ? "redis" : "node"));
    if (f->target == SCN_TGT_NODE)
        json_object_set_new(d, "node", json_integer(ni));
    switch (a->kind) {
    case FPLAN_SERVER_KILL:
        *down = 1;
        rc = child_signal(c, SIGKILL, err, errlen);
        if (rc == 0) {
            /* the fault starts with the signal: a node holding 14,000
             * sockets took 3 s to be reaped on the loaded box (scale-100k) */
            window_mark(r, a->fault, "from_s");
            child_stop(c, 1000); /* reaps it */
        }
        break;
    case FPLAN_SERVER_START:
        rc = is_redis ? redis_start(r, r->redis_port, err, errlen) : restart_server(r, ni, 0, err, errlen);
        if (rc == 0) {
            *down = 0;
            window_mark(r, a->fault, "to_s");
        }
        break;
    case FPLAN_SERVER_STOP:
        rc = child_signal(c, SIGSTOP, err, errlen);
        if (rc == 0) {
            if (!is_redis && !ni)
                r->server_paused = 1;
            window_mark(r, a->fault, "from_s");
        }
        break;
    case FPLAN_SERVER_CONT:
        rc = child_signal(c, SIGCONT, err, errlen);
        if (rc == 0) {
            if (!is_redis && !ni)
                r->server_paused = 0;
            window_mark(r, a->fault, "to_s");
        }
        break;
    default: /* FPLAN_SERVER_RESTART */
        *down = 1;
        window_mark(r, a->fault, "from_s");
        if (is_redis) {
            uint64_t grace_ms = r->s->server.stop_timeout_us / 1000;
            judge_stop(r, "redis", c, child_stop(c, grace_ms), grace_ms);
            /* The port was ours a moment ago: retried like a node's. */
            uint64_t end = clock_mono_us() + r->s->server.ready_timeout_us;
            while ((rc = redis_start(r, r->redis_port, err, errlen)) < 0 && clock_mono_us() < end && !g_signal)
                clock_nap_ms(200);
        } else
            rc = restart_server(r, ni, 0, err, errlen);
        if (rc == 0) {
            *down = 0;
            window_mark(r, a->fault, "to_s");
        }
        break;
    }
    return rc;
}

/* Applies one action; a failure breaks the run (the harness cannot claim a
 * verdict under a fault it did not apply). */
static int apply(run *r, const fplan_action *a)
{
    const scn_fault *f = &r->s->faults[a->fault];
    char err[512] = "";
    int rc = 0;
    json_t *d = json_pack("{s:s, s:f}", "fault", f->name, "planned_t_s", (r->warmup_us + a->t_us) / 1e6);
    if (a->cycle)
        json_object_set_new(d, "cycle", json_integer(a->cycle));
    switch (a->kind) {
    case FPLAN_TOXIC_ADD:
        rc = proxyctl_add_toxic(&r->api, PROXY_NAME, &f->toxic, err, sizeof err);
        if (rc == 0)
            window_mark(r, a->fault, "from_s");
        break;
    case FPLAN_TOXIC_REMOVE:
        rc = proxyctl_remove_toxic(&r->api, PROXY_NAME, f->toxic.name, err, sizeof err);
        if (rc == 0)
            window_mark(r, a->fault, "to_s");
        break;
    case FPLAN_DISCONNECT: {
        uint64_t n = fleet_disconnect_fraction(r->fl, f->fraction);
        json_object_set_new(d, "clients", json_integer((json_int_t)n));
        window_mark(r, a->fault, "from_s");
        window_mark(r, a->fault, "to_s");
        break;
    }
    case FPLAN_SERVER_KILL:
    case FPLAN_SERVER_START:
    case FPLAN_SERVER_STOP:
    case FPLAN_SERVER_CONT:
    case FPLAN_SERVER_RESTART:
        rc = apply_process(r, a, d, err, sizeof err);
        break;
    case FPLAN_NET_APPLY:
    case FPLAN_NET_LIFT: {
        int on = a->kind == FPLAN_NET_APPLY;
        uint64_t t_us = clock_mono_us();
        r->net_active[a->fault] = (unsigned char)on;
        rc = netfault_apply(&r->ns, r->s, r->net_active, a->fault, r->net_counts, err, sizeof err);
        json_object_set_new(d, "mechanism", json_string(netfault_mechanism(f)));
        json_object_set_new(d, "type", json_string(scenario_net_kind_str(f->net.kind)));
        json_object_set_new(d, "direction", json_string(scenario_direction_str(f->net.direction)));
        if (f->group)
            json_object_set_new(d, "group", json_string(f->group));
        json_object_set_new(d, "took_ms", json_real((double)(clock_mono_us() - t_us) / 1e3));
        if (rc == 0) {
            window_mark(r, a->fault, on ? "from_s" : "to_s");
            char at[160];
            sfmt(at, sizeof at, "%s:%s", on ? "apply" : "lift", f->name);
            net_sample(r, at, NULL, NULL);
        }
        break;
    }
    }
    if (rc < 0) {
        json_object_set_new(d, "error", json_string(err));
        event(r, faultplan_kind_str(a->kind), d);
        fail(r, "fault '%s' (%s) could not be applied: %s", f->name, faultplan_kind_str(a->kind), err);
        return -1;
    }
    event(r, faultplan_kind_str(a->kind), d);
    return 0;
}

/* At the end of the run every fault still active is cleared, so that the
 * drain measures catching up, not the fault. */
static void clear_faults(run *r, const fplan_action *plan, size_t n)
{
    for (size_t i = 0; i < r->s->nfaults; i++) {
        const scn_fault *f = &r->s->faults[i];
        json_t *w = window_of(r, i);
        int active = json_object_get(w, "from_s") && !json_object_get(w, "to_s");
        json_t *on = json_object_get(w, "on");
        json_t *last = on ? json_array_get(on, json_array_size(on) - 1) : NULL;
        if (last && json_array_size(last) == 1)
            active = 1;
        if (!active)
            continue;
        fplan_action a = {.t_us = r->s->duration_us, .fault = i};
        if (f->kind == SCN_FAULT_TOXIC)
            a.kind = FPLAN_TOXIC_REMOVE;
        else if (f->kind == SCN_FAULT_SERVER_KILL)
            a.kind = FPLAN_SERVER_START;
        else if (f->kind == SCN_FAULT_SERVER_PAUSE)
            a.kind = FPLAN_SERVER_CONT;
        else if (f->kind == SCN_FAULT_NETWORK)
            a.kind = FPLAN_NET_LIFT;
        else
            continue;
        apply(r, &a);
    }
    (void)plan;
    (void)n;
}

/* ---- watchdog ------------------------------------------------------------------ */

static void *watchdog_main(void *arg)
{
    run *r = arg;
    pthread_mutex_lock(&r->wd_lock);
    while (!r->wd_done) {
        uint64_t now = clock_mono_us();
        if (now >= r->wd_deadline_us)
            break;
        clock_cond_wait_us(&r->wd_cond, &r->wd_lock, r->wd_deadline_us - now);
    }
    int done = r->wd_done;
    pthread_mutex_unlock(&r->wd_lock);
    if (done)
        return NULL;
    /* Something blocked past every deadline: end it rather than hang CI. */
    static const char msg[] = "rtchaos: the run overran its deadline by far; killing its children (exit 3)\n";
    ssize_t w = write(2, msg, sizeof msg - 1);
    (void)w;
    for (int i = 0; i < 2; i++)
        if (g_pgids[i] > 0)
            kill(-g_pgids[i], SIGKILL);
    _exit(ORCH_EXIT_BROKEN);
}

static void watchdog_start(run *r, uint64_t budget_us)
{
    pthread_mutex_init(&r->wd_lock, NULL);
    pthread_cond_init(&r->wd_cond, NULL);
    r->wd_deadline_us = clock_mono_us() + budget_us;
    r->watchdog_on = pthread_create(&r->watchdog, NULL, watchdog_main, r) == 0;
}

static void watchdog_stop(run *r)
{
    if (!r->watchdog_on)
        return;
    pthread_mutex_lock(&r->wd_lock);
    r->wd_done = 1;
    pthread_cond_signal(&r->wd_cond);
    pthread_mutex_unlock(&r->wd_lock);
    pthread_join(r->watchdog, NULL);
    r->watchdog_on = 0;
}

/* ---- live metrics ------------------------------------------------------------------ */

/* Starts the Prometheus endpoint when asked (after fleet_start: it runs a
 * thread, and the fleet may fork). Returns 0, or -1 with a message in err. */
static int metrics_start(run *r, char *err, size_t errlen)
{
    const char *addr = r->o->metrics_addr ? r->o->metrics_addr : r->s->harness.metrics_addr;
    /* recording the run's series needs the harness's own page: served on
     * any free loopback port when nobody asked for an endpoint */
    if (!addr && r->s->harness.record_series && !r->have_netns)
        addr = "127.0.0.1:0";
    if (!addr)
        return 0;
    size_t nf = r->s->nfaults;
    const char **names = calloc(nf + 1, sizeof *names), **kinds = calloc(nf + 1, sizeof *kinds);
    if (!names || !kinds) {
        free(names);
        free(kinds);
        sfmt(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < nf; i++) {
        const scn_fault *f = &r->s->faults[i];
        names[i] = f->name;
        kinds[i] = f->kind == SCN_FAULT_TOXIC && f->toxic.type ? f->toxic.type : scenario_fault_kind_str(f->kind);
    }
    livem_info info = {.scenario = r->s->name, .target = r->target_url, .seed = r->seed, .n_faults = nf,
                       .fault_names = names, .fault_kinds = kinds};
    char bound[300], e[512];
    /* With namespaces this thread lives on the server side; the endpoint
     * is for scrapers on the host, so it is made (socket and thread) back
     * in the harness's own namespace. */
    int prev_ns = -1;
    if (r->have_netns && netns_enter(r->ns.orig_fd, &prev_ns, e, sizeof e) < 0) {
        free(names);
        free(kinds);
        sfmt(err, errlen, "--metrics-addr: %s", e);
        return -1;
    }
    r->lm = livem_start(addr, r->fl, &info, bound, sizeof bound, e, sizeof e);
    if (prev_ns >= 0 && netns_leave(prev_ns, e, sizeof e) < 0) {
        free(names);
        free(kinds);
        sfmt(err, errlen, "network namespaces: %s", e);
        return -1; /* this thread is on the wrong side now: the run cannot go on */
    }
    free(names);
    free(kinds);
    if (!r->lm) {
        sfmt(err, errlen, "--metrics-addr: %s", e);
        return -1;
    }
    sfmt(r->lm_bound, sizeof r->lm_bound, "%s", bound);
    event(r, "metrics_listening", json_pack("{s:s}", "addr", bound));
    if (r->o->output == ORCH_OUT_NORMAL)
        fprintf(stderr, "rtchaos: live metrics at http://%s/metrics\n", bound);
    return 0;
}

/* Starts scraping the server's /metrics: our own rtchaos-server unless
 * harness.server_metrics is "off", or the URL harness.server_metrics names
 * (a foreign server's exporter). Returns 0, or -1 with a message in err. */
static int server_scrape_start(run *r, char *err, size_t errlen)
{
    const char *want = r->s->harness.server_metrics;
    char host[256], path[256] = "/metrics";
    uint16_t port = 0;
    char e[256];
    if (want && !strcmp(want, "off")) {
        host[0] = '\0';
    } else if (!want || !strcmp(want, "auto")) {
        if (r->have_server)
            sfmt(host, sizeof host, "%s", r->up_host);
        else
            host[0] = '\0';
        port = r->up_port;
    } else if (scenario_parse_url(want, host, sizeof host, &port, path, sizeof path, err, errlen) < 0) {
        return -1;
    }
    if (host[0] && !(r->ss = sscrape_start(host, port, path, r->t0_us, 1000, e, sizeof e))) {
        sfmt(err, errlen, "server metrics: %s", e);
        return -1;
    }
    /* server: {nodes: N}: every node over the run (report.json "nodes") */
    for (unsigned i = 0; r->have_server && (!want || !strcmp(want, "auto")) && i < r->nnodes; i++)
        if (!(r->node_ss[i] = sscrape_start(r->up_host, r->node_port[i], "/metrics", r->t0_us, 1000, e, sizeof e))) {
            sfmt(err, errlen, "node %u metrics: %s", i, e);
            return -1;
        }
    /* the proxy we run: its own count of what its toxics did */
    if (host[0] && r->have_proxy &&
        !(r->ps = sscrape_start(r->api.host, r->api.port, "/metrics", r->t0_us, 1000, e, sizeof e))) {
        sfmt(err, errlen, "proxy metrics: %s", e);
        return -1;
    }
    if (!r->s->harness.record_series)
        return 0;
    /* every page as time series (series.yml), for alert rules evaluated
     * afterwards; the harness's own page only without namespaces (this
     * thread is on the server's side then, the endpoint on the host's) */
    srec_source src[3];
    size_t n = 0;
    char lmhost[256] = "";
    uint16_t lmport = 0;
    if (host[0])
        src[n++] = (srec_source){.job = "rtchaos-server", .host = host, .port = port, .path = path};
    if (host[0] && r->have_proxy)
        src[n++] = (srec_source){.job = "rtchaos-proxy", .host = r->api.host, .port = r->api.port};
    if (r->lm_bound[0] && scenario_parse_hostport(r->lm_bound, lmhost, sizeof lmhost, &lmport, e, sizeof e) == 0)
        src[n++] = (srec_source){.job = "rtchaos-harness", .host = lmhost, .port = lmport};
    if (!(r->sr = srec_start(src, n, r->t0_us, 1000, e, sizeof e))) {
        sfmt(err, errlen, "record_series: %s", e);
        return -1;
    }
    return 0;
}

/* Pushes the final figures (the live endpoint's page, exit code included)
 * to a Prometheus Pushgateway: POST URL/metrics/job/rtchaos/scenario/<name>,
 * so CI systems keep a history of runs. A failed push is reported on stderr
 * and in events.jsonl; it does not change the exit code (report.json is the
 * canonical result). */
static void metrics_push(run *r, int code)
{
    const char *url = r->o->push_url ? r->o->push_url : r->s->harness.push_url;
    if (!url || !r->fl)
        return;
    char host[256], base[256], path[1024], err[512] = "";
    uint16_t port;
    if (scenario_parse_url(url, host, sizeof host, &port, base, sizeof base, err, sizeof err) < 0) {
        fprintf(stderr, "rtchaos: --push-url: %s\n", err);
        return;
    }
    /* the scenario name as one path segment (percent-encoded) */
    char seg[512];
    size_t k = 0;
    for (const unsigned char *p = (const unsigned char *)r->s->name; *p && k + 4 < sizeof seg; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
            *p == '_' || *p == '.')
            seg[k++] = (char)*p;
        else
            k += (size_t)snprintf(seg + k, sizeof seg - k, "%%%02X", *p);
    }
    seg[k] = '\0';
    size_t bl = strlen(base);
    sfmt(path, sizeof path, "%.*s/metrics/job/rtchaos/scenario/%s", (int)(bl && base[bl - 1] == '/' ? bl - 1 : bl),
         strcmp(base, "/metrics") == 0 ? "" : base, seg);
    fleet_live *fl = malloc(sizeof *fl);
    char *text = NULL;
    size_t len = 0;
    livem_info info = {.scenario = r->s->name, .target = r->target_url, .seed = r->seed};
    int status = 0;
    if (!fl) {
        sfmt(err, sizeof err, "out of memory");
    } else {
        fleet_live_get(r->fl, fl);
        if (livem_render(fl, &info, NULL, code, &text, &len) < 0)
            sfmt(err, sizeof err, "out of memory");
        else if (httpc_request(host, port, "POST", path, text, 10000, &status, NULL, err, sizeof err) == 0 &&
                 (status < 200 || status > 299))
            sfmt(err, sizeof err, "the Pushgateway answered HTTP %d", status);
    }
    free(fl);
    free(text);
    if (err[0]) {
        fprintf(stderr, "rtchaos: pushing the final figures to %s failed: %s\n", url, err);
        event(r, "push_failed", json_pack("{s:s, s:s}", "url", url, "error", err));
    } else {
        event(r, "pushed", json_pack("{s:s, s:s}", "url", url, "path", path));
    }
}

/* After the report: exposes the exit code, keeps serving the final figures
 * for the linger time (so a scraper's last sample holds them; a signal
 * ends it early), then stops the endpoint. Before fleet_free: it reads the
 * fleet. */
static void metrics_finish(run *r, int code)
{
    if (!r->lm)
        return;
    livem_set_exit_code(r->lm, code);
    uint64_t linger_us = r->o->has_metrics_linger ? r->o->metrics_linger_us : r->s->harness.metrics_linger_us;
    uint64_t end = clock_mono_us() + linger_us;
    while (!g_signal && clock_mono_us() < end)
        clock_nap_ms(20);
    livem_stop(r->lm);
    r->lm = NULL;
}

/* ---- status line ------------------------------------------------------------------ */

static void status_line(run *r, int final)
{
    fleet_status st;
    fleet_status_get(r->fl, &st);
    double total = (r->warmup_us + r->s->duration_us) / 1e6;
    /* The faults active right now, so a latency jump reads next to its cause. */
    char active[160] = "";
    size_t off = 0;
    for (size_t i = 0; i < r->s->nfaults && off < sizeof active - 1; i++) {
        json_t *on = json_object_get(window_of(r, i), "on");
        json_t *last = on ? json_array_get(on, json_array_size(on) - 1) : NULL;
        if (last && json_array_size(last) == 1 && r->s->faults[i].kind != SCN_FAULT_DISCONNECT) {
            int w = sfmt(active + off, sizeof active - off, "%s%s", off ? "," : "  [fault ", r->s->faults[i].name);
            if (w > 0)
                off += (size_t)w;
        }
    }
    if (off && off < sizeof active - 1)
        sfmt(active + off, sizeof active - off, "]");
    fprintf(stderr, "\r%6.1fs/%.0fs  connected %llu/%llu  msgs/s %.0f  p95 %.1fms  anomalies %llu  reconnects %llu%s\033[K",
            st.elapsed_s, total, (unsigned long long)st.connected, (unsigned long long)st.clients,
            st.delivered_per_s, st.p95_live_us / 1000.0, (unsigned long long)st.anomalies,
            (unsigned long long)st.reconnects, active);
    if (final)
        fputc('\n', stderr);
    fflush(stderr);
}

/* ---- the run ------------------------------------------------------------------------ */

/* What the report reads of the run (orch_report.c). */
static orch_report_in report_in(run *r)
{
    orch_report_in in = {
        .s = r->s, .command = r->o->command, .start_at_us = r->o->start_at_us, .shard_index = r->o->shard_index,
        .shard_count = r->o->shard_count, .net_support = r->o->net_support, .seed = r->seed, .dir = r->dir, .target_url = r->target_url,
        .started = r->started, .elapsed_s = r->elapsed_s, .warmup_us = r->warmup_us,
        .t0_wall_us = r->t0_wall_us, .start_late_us = r->start_late_us, .fl = r->fl, .windows = r->windows,
        .events = r->events, .proxy_metrics = r->proxy_metrics, .nodes_report = r->nodes_report,
        .server_metrics = r->server_metrics, .children = r->children, .have_proxy = r->have_proxy,
        .partial = r->partial, .error = r->error, .error_cap = sizeof r->error, .have_netns = r->have_netns,
        .ns = &r->ns, .net_samples = r->net_samples, .net_counts = r->net_counts,
    };
    for (int i = 0; i < 2; i++) {
        in.tcp_first[i] = r->tcp_first[i];
        in.tcp_last[i] = r->tcp_last[i];
    }
    return in;
}

static void default_dir(const scenario *s, const orch_opts *o, char *buf, size_t cap)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    if (o->shard_count > 1)
        sfmt(buf, cap, "runs/%s-%s-shard%u", stamp, s->name, o->shard_index);
    else
        sfmt(buf, cap, "runs/%s-%s", stamp, s->name);
}

static void print_result(run *r, const json_t *rep, int code)
{
    const orch_opts *o = r->o;
    char path[PATH_MAX + 16];
    sfmt(path, sizeof path, "%s/report.json", r->dir);
    if (o->output == ORCH_OUT_JSON) {
        json_t *j = json_pack("{s:s, s:s, s:O, s:i, s:O}", "report", path, "scenario", r->s->name, "pass",
                              json_object_get(rep, "pass"), "exit_code", code, "verdicts",
                              json_object_get(rep, "verdicts"));
        if (r->error[0])
            json_object_set_new(j, "error", json_string(r->error));
        json_object_set(j, "totals", json_object_get(rep, "totals") ? json_object_get(rep, "totals") : json_null());
        char *text = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
        printf("%s\n", text ? text : "{}");
        free(text);
        json_decref(j);
        fflush(stdout);
        return;
    }
    size_t nv = json_array_size(json_object_get(rep, "verdicts")), npass = 0, i;
    json_t *v;
    json_array_foreach(json_object_get(rep, "verdicts"), i, v) npass += json_is_true(json_object_get(v, "pass"));
    const char *word = code == ORCH_EXIT_PASS ? "PASS" : code == ORCH_EXIT_FAILED ? "FAIL" : "BROKEN";
    if (o->output == ORCH_OUT_NORMAL) {
        char err[256];
        if (reports_print_summary(r->dir, stdout, err, sizeof err) < 0)
            fprintf(stderr, "rtchaos: summary: %s\n", err);
    }
    printf("%s %s: %zu/%zu verdicts passed%s%s; report %s\n", word, r->s->name, npass, nv,
           r->error[0] ? "; " : "", r->error, path);
    fflush(stdout);
}

int orch_run(const scenario *s, const orch_opts *o)
{
    run R;
    memset(&R, 0, sizeof R);
    run *r = &R;
    r->s = s;
    r->o = o;
    r->seed = o->has_seed ? o->seed : s->seed;
    r->warmup_us = s->warmup_us;
    r->events = json_array();
    r->windows = json_array();
    r->children = json_object();
    for (size_t i = 0; i < s->nfaults; i++)
        json_array_append_new(r->windows, json_object());
    clock_format_utc(clock_wall_us(), r->started, sizeof r->started);
    char err[1024];

    g_signal = 0;
    g_pgids[0] = g_pgids[1] = 0;
    struct sigaction sa, old_int, old_term, old_pipe;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, &old_pipe);

    if (o->out_dir)
        sfmt(r->dir, sizeof r->dir, "%s", o->out_dir);
    else
        default_dir(s, o, r->dir, sizeof r->dir);
    if (mkdirs(r->dir, err, sizeof err) < 0) {
        fprintf(stderr, "rtchaos: %s\n", err);
        json_decref(r->events);
        json_decref(r->windows);
        json_decref(r->children);
        return ORCH_EXIT_BROKEN;
    }
    {
        char p[PATH_MAX + 32];
        json_t *sj = scenario_to_json(s);
        json_object_set_new(sj, "seed", json_integer((json_int_t)r->seed));
        sfmt(p, sizeof p, "%s/scenario.json", r->dir);
        if (write_json_file(p, sj, JSON_INDENT(2) | JSON_PRESERVE_ORDER, err, sizeof err) < 0)
            fprintf(stderr, "rtchaos: %s\n", err);
        json_decref(sj);
    }
    event(r, "run_start", json_pack("{s:s, s:I, s:s}", "scenario", s->name, "seed", (json_int_t)r->seed, "dir", r->dir));
    if (o->output == ORCH_OUT_NORMAL)
        fprintf(stderr, "rtchaos: %s (seed %llu) → %s\n", s->name, (unsigned long long)r->seed, r->dir);

    /* The whole run's deadline, far beyond the sum of its phases. */
    uint64_t budget_us = s->server.ready_timeout_us * 2 + s->proxy.ready_timeout_us + s->warmup_us + s->duration_us +
                         s->drain_us + 2 * s->server.stop_timeout_us + watchdog_slack_ms() * 1000ULL;
    for (size_t i = 0; i < s->nfaults; i++)
        budget_us += s->server.ready_timeout_us + s->server.stop_timeout_us;
    if (o->start_at_us > clock_wall_us()) /* --start-at: the wait is part of the run */
        budget_us += (uint64_t)(o->start_at_us - clock_wall_us());
    /* from here: the budget counts the children's start-up too, and a start
     * that hangs is ended like any other phase */
    watchdog_start(r, budget_us);

    fplan_action *plan = NULL;
    size_t nplan = 0, next = 0;
    json_t *proxy_events = NULL;

    if (faultplan_build(s, &plan, &nplan, err, sizeof err) < 0) {
        fail(r, "%s", err);
        goto finish;
    }

    /* Phase 0: the network namespaces (network: {namespaces: true}). */
    if (s->network.namespaces && net_setup(r, err, sizeof err) < 0) {
        fail(r, "the network namespaces could not be made: %s", err);
        goto finish;
    }

    /* Phase 1: the server under test. */
    if (o->target) {
        if (orch_parse_target(o->target, r->up_host, sizeof r->up_host, &r->up_port, r->prefix, sizeof r->prefix, err,
                              sizeof err) < 0) {
            fail(r, "%s", err);
            goto finish;
        }
        r->tls = orch_target_tls(o->target);
        sfmt(r->target_url, sizeof r->target_url, "%s://%s:%u%s", r->tls ? "https" : "http", r->up_host, r->up_port,
             r->prefix);
        if (tcp_reachable(r->up_host, r->up_port, 3000, err, sizeof err) < 0) {
            fail(r, "--target %s: %s", o->target, err);
            goto finish;
        }
        if (r->tls) {
            /* one handshake first: a certificate the run cannot trust stops
             * it here with the verifier's reason (exit 3), never a pass */
            SSL_CTX *ctx = NULL;
            if (fl_tls_ctx_new(s->target.ca, s->target.insecure, &ctx, err, sizeof err) < 0 ||
                fl_tls_probe(ctx, r->up_host, r->up_port, 5000, err, sizeof err) < 0) {
                fl_tls_ctx_free(ctx);
                fail(r, "--target %s: %s%s", o->target, err,
                     strstr(err, "verify failed") ? " (give the CA with --ca FILE or target.ca, or set "
                                                    "target.insecure: true to skip verification)"
                                                  : "");
                goto finish;
            }
            fl_tls_ctx_free(ctx);
        }
    } else {
        r->have_server = 1;
        if (s->server.redis_auto) {
            r->have_redis = 1;
            if (redis_start(r, 0, err, sizeof err) < 0) {
                fail(r, "redis-server could not start: %s", err);
                goto finish;
            }
        }
        r->nnodes = s->server.nodes;
        for (unsigned i = 0; i < (r->nnodes ? r->nnodes : 1); i++)
            if (server_start(r, i, 0, err, sizeof err) < 0) {
                fail(r, r->nnodes ? "node %u could not start: %s" : "the server could not start%.0u: %s", i, err);
                goto finish;
            }
        sfmt(r->target_url, sizeof r->target_url, "http://127.0.0.1:%u", r->up_port);
    }
    if (g_signal)
        goto interrupted;

    /* Phase 2: the proxy, when the scenario has network faults. */
    if (scenario_needs_proxy(s)) {
        r->have_proxy = 1;
        if (proxy_start(r, err, sizeof err) < 0) {
            fail(r, "the proxy could not start: %s", err);
            goto finish;
        }
    }
    if (g_signal)
        goto interrupted;

    /* Phase 3: the fleet. fleet_start may fork workers: no thread of ours yet. */
    if (fleet_setup(r, err, sizeof err) < 0) {
        fail(r, "the client fleet could not be set up: %s", err);
        goto finish;
    }
    if (o->start_at_us) {
        /* --start-at: every shard's clients start at one wall-clock
         * instant. A shard whose setup ended after it would publish and
         * fault out of step with the others: that run is broken. */
        int64_t late_us = clock_wall_us() - o->start_at_us;
        char when[40];
        clock_format_utc(o->start_at_us, when, sizeof when);
        if (late_us > STARTAT_MAX_LATE_US) {
            fail(r, "--start-at %s passed %.1f s before the server, proxy and fleet were ready "
                    "(more than the %.1f s allowed): give the shards more lead time",
                 when, (double)late_us / 1e6, (double)STARTAT_MAX_LATE_US / 1e6);
            goto finish;
        }
        event(r, "start_at_wait", json_pack("{s:s, s:f}", "at", when, "wait_s", late_us < 0 ? -late_us / 1e6 : 0.0));
        if (o->output == ORCH_OUT_NORMAL && late_us < 0)
            fprintf(stderr, "rtchaos: waiting %.1f s for --start-at %s\n", -late_us / 1e6, when);
        if (startat_wait(o->start_at_us, &g_signal) < 0)
            goto interrupted;
        r->start_late_us = clock_wall_us() - o->start_at_us;
    }
    if (fleet_start(r->fl, err, sizeof err) < 0) {
        fail(r, "the client fleet could not start: %s", err);
        goto finish;
    }
    r->t0_us = clock_mono_us();
    r->t0_wall_us = clock_wall_us();
    event(r, "fleet_started", json_pack("{s:I}", "clients", (json_int_t)scenario_total_clients(s)));
    if (metrics_start(r, err, sizeof err) < 0 || server_scrape_start(r, err, sizeof err) < 0) {
        fail(r, "%s", err);
        goto teardown;
    }

    /* Phase 4: warm-up, then the fault timeline until the duration is over. */
    int tty = o->output == ORCH_OUT_NORMAL && isatty(STDERR_FILENO);
    uint64_t end_us = r->t0_us + r->warmup_us + s->duration_us;
    uint64_t next_status = r->t0_us;
    int timeline_started = 0;
    while (!g_signal && !r->error[0]) {
        uint64_t now = clock_mono_us();
        if (now >= end_us)
            break;
        if (!timeline_started && now >= r->t0_us + r->warmup_us) {
            timeline_started = 1;
            event(r, "timeline_start", NULL);
            if (r->have_netns) {
                net_sample(r, "timeline_start", &r->tcp_first[0], &r->tcp_first[1]);
                r->next_sample_us = now + 2000000;
            }
        }
        if (r->have_netns && timeline_started && now >= r->next_sample_us) {
            /* every 500 ms while a kernel fault acts (how fast connections
             * die is the figure: its resolution), every 2 s otherwise */
            int any = 0;
            for (size_t i = 0; i < s->nfaults; i++)
                any |= r->net_active[i];
            net_sample(r, "periodic", NULL, NULL);
            r->next_sample_us = clock_mono_us() + (any ? 500000 : 2000000);
        }
        while (timeline_started && next < nplan && now >= r->t0_us + r->warmup_us + plan[next].t_us) {
            if (apply(r, &plan[next++]) < 0)
                break;
            now = clock_mono_us();
        }
        if (r->have_server && !r->server_down && child_poll(&r->server)) {
            char how[96];
            child_describe_exit(&r->server, how, sizeof how);
            fail(r, "rtchaos-server %s during the run (see %s/server.log)", how, r->dir);
            break;
        }
        int gone = 0;
        for (unsigned i = 1; i < r->nnodes && !gone; i++)
            if (!r->node_down[i] && child_poll(&r->xnode[i])) {
                char how[96];
                child_describe_exit(&r->xnode[i], how, sizeof how);
                fail(r, "rtchaos-server node %u %s during the run (see %s/node%u.log)", i, how, r->dir, i);
                gone = 1;
            }
        if (!gone && r->have_redis && !r->redis_down && child_poll(&r->redis)) {
            char how[96];
            child_describe_exit(&r->redis, how, sizeof how);
            fail(r, "redis-server %s during the run (see %s/redis.stdout.log)", how, r->dir);
            gone = 1;
        }
        if (gone)
            break;
        if (r->have_proxy && child_poll(&r->proxy)) {
            char how[96];
            child_describe_exit(&r->proxy, how, sizeof how);
            fail(r, "rtchaos-proxy %s during the run (see %s/proxy.log)", how, r->dir);
            break;
        }
        if (tty && now >= next_status) {
            status_line(r, 0);
            next_status = now + 1000000;
        }
        clock_nap_ms(10);
    }
    if (tty)
        status_line(r, 1);
    if (g_signal)
        goto interrupted;

    /* Phase 5: stop publishing, clear what is still active, drain. */
    fleet_stop_publishing(r->fl);
    event(r, "publishing_stopped", NULL);
    r->elapsed_s = t_s(r);
    if (!r->error[0]) {
        clear_faults(r, plan, nplan);
        int caught_up = fleet_drain(r->fl, (uint32_t)(s->drain_us / 1000));
        event(r, "drained", json_pack("{s:b}", "all_caught_up", caught_up));
        if (r->have_netns && r->tcp_first[0])
            net_sample(r, "drained", &r->tcp_last[0], &r->tcp_last[1]);
    }
    if (g_signal)
        goto interrupted;
    goto teardown;

interrupted:
    r->partial = 1;
    if (!r->error[0])
        sfmt(r->error, sizeof r->error, "interrupted by %s: partial report", g_signal == SIGINT ? "SIGINT" : "SIGTERM");
    event(r, "interrupted", json_pack("{s:i}", "signal", (int)g_signal));
    if (r->fl)
        fleet_stop_publishing(r->fl);
    if (r->t0_us && r->elapsed_s == 0)
        r->elapsed_s = t_s(r);

teardown:
    if (r->nnodes && r->t0_us) /* before the clients go: each node's connections */
        nodes_scrape(r);
    if (r->fl) {
        fleet_stop(r->fl);
        event(r, "fleet_stopped", NULL);
    }

finish:
    for (unsigned i = 0; i < SCN_NODES_MAX; i++)
        if (r->node_ss[i]) { /* nodes_scrape did not run (the run broke before the clients started) */
            json_decref(sscrape_finish(r->node_ss[i]));
            r->node_ss[i] = NULL;
        }
    if (r->ss) { /* after the drain, before the server stops: its final figures */
        r->server_metrics = sscrape_finish(r->ss);
        r->ss = NULL;
    }
    if (r->ps) {
        r->proxy_metrics = sscrape_finish(r->ps);
        r->ps = NULL;
    }
    if (r->sr) { /* before the live endpoint stops: its last page too */
        char spath[4200], e[256] = "", what[64];
        sfmt(spath, sizeof spath, "%s/series.yml", r->dir);
        sfmt(what, sizeof what, "warmup_s %.3f", r->warmup_us / 1e6);
        long n = srec_finish(r->sr, spath, what, e, sizeof e);
        r->sr = NULL;
        if (n < 0) {
            fprintf(stderr, "rtchaos: record_series: %s\n", e);
            event(r, "series_failed", json_pack("{s:s}", "error", e));
        } else {
            event(r, "series_recorded", json_pack("{s:s, s:I}", "file", "series.yml", "series", (json_int_t)n));
        }
    }
    if (r->have_proxy && r->proxy.pid && !r->proxy.exited) {
        if (proxyctl_events(&r->api, &proxy_events, err, sizeof err) < 0) {
            fprintf(stderr, "rtchaos: the proxy's action log could not be read: %s\n", err);
            event(r, "proxy_events_unavailable", json_pack("{s:s}", "error", err));
        }
    }
    if (r->have_proxy && r->proxy.pid) {
        int how = child_stop(&r->proxy, 5000);
        char desc[96];
        child_describe_exit(&r->proxy, desc, sizeof desc);
        event(r, "proxy_stopped",
              json_pack("{s:s, s:s}", "how", how == 0 ? "exited" : how == 1 ? "killed" : "already exited", "exit", desc));
        judge_stop(r, "proxy", &r->proxy, how, 5000);
    }
    if (r->have_server && r->server.pid) {
        int how = child_stop(&r->server, s->server.stop_timeout_us / 1000);
        char desc[96];
        child_describe_exit(&r->server, desc, sizeof desc);
        event(r, "server_stopped",
              json_pack("{s:s, s:s}", "how", how == 0 ? "exited" : how == 1 ? "killed" : "already exited", "exit", desc));
        judge_stop(r, "server", &r->server, how, s->server.stop_timeout_us / 1000);
    }
    for (unsigned i = 1; i < r->nnodes; i++)
        if (r->xnode[i].pid) {
            int how = child_stop(&r->xnode[i], s->server.stop_timeout_us / 1000);
            char desc[96];
            child_describe_exit(&r->xnode[i], desc, sizeof desc);
            event(r, "server_stopped", json_pack("{s:i, s:s, s:s}", "node", (int)i, "how",
                                                 how == 0 ? "exited" : how == 1 ? "killed" : "already exited",
                                                 "exit", desc));
            char nm[16];
            sfmt(nm, sizeof nm, "node%u", i);
            judge_stop(r, nm, &r->xnode[i], how, s->server.stop_timeout_us / 1000);
        }
    if (r->have_redis && r->redis.pid) { /* after the nodes: they would log its going */
        int how = child_stop(&r->redis, 5000);
        event(r, "redis_stopped", json_pack("{s:s}", "how", how == 0 ? "exited" : how == 1 ? "killed" : "already exited"));
        judge_stop(r, "redis", &r->redis, how, 5000);
    }
    judge_children(r);
    g_pgids[0] = g_pgids[1] = 0;
    net_teardown(r);
    watchdog_stop(r);
    if (r->t0_us && r->elapsed_s == 0)
        r->elapsed_s = t_s(r);

    int broken_before = r->error[0] != 0;
    orch_report_in in = report_in(r);
    json_t *rep = orch_report_build(&in, proxy_events);
    if (r->error[0] && !broken_before) /* the report found why (events.jsonl says so) */
        event(r, "run_broken", json_pack("{s:s}", "error", r->error));
    int code = (int)json_integer_value(json_object_get(rep, "exit_code"));
    char path[PATH_MAX + 32];
    sfmt(path, sizeof path, "%s/report.json", r->dir);
    if (write_json_file(path, rep, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12), err, sizeof err) < 0) {
        fprintf(stderr, "rtchaos: %s\n", err);
        code = ORCH_EXIT_BROKEN;
    }
    if (reports_junit_write(rep, r->dir, err, sizeof err) < 0) {
        fprintf(stderr, "rtchaos: %s\n", err);
        code = ORCH_EXIT_BROKEN;
    }
    metrics_push(r, code); /* before events.jsonl: it records the push */
    if (orch_report_write_events(&in, proxy_events, err, sizeof err) < 0)
        fprintf(stderr, "rtchaos: %s\n", err);
    if (reports_render(r->dir, err, sizeof err) < 0)
        fprintf(stderr, "rtchaos: report.md/html could not be rendered: %s\n", err);
    if (r->error[0] && o->output != ORCH_OUT_JSON)
        fprintf(stderr, "rtchaos: %s\n", r->error);
    print_result(r, rep, code);
    metrics_finish(r, code);

    json_decref(rep);
    json_decref(proxy_events);
    if (r->fl)
        fleet_free(r->fl);
    free(plan);
    json_decref(r->events);
    json_decref(r->windows);
    json_decref(r->server_metrics);
    json_decref(r->nodes_report);
    json_decref(r->proxy_metrics);
    json_decref(r->net_samples);
    for (int i = 0; i < 2; i++) {
        json_decref(r->tcp_first[i]);
        json_decref(r->tcp_last[i]);
    }
    free(r->net_active);
    free(r->net_counts);
    json_decref(r->children);
    /* After an interruption keep our handlers: a second SIGINT arriving
     * between here and the process's exit must still end it with 3, not
     * kill it with the default action. */
    if (!g_signal) {
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
    }
    sigaction(SIGPIPE, &old_pipe, NULL);
    return code;
}
