/* orch_children.c — the processes one run starts: rtchaos-server (every node), redis-server and rtchaos-proxy with the run's proxy set up through its API, and how each ended (exit, signal, sanitizer report). */
#include "orch_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "prng.h"

/* Records in r->children.<name> how one stop of a child the harness
 * started ended (child_stop returned how): "exit" says how, "clean" stays
 * true only while every stop was clean, "problems" lists the others.
 * A server restarted by a fault is judged at each stop (SIGTERM); one
 * killed on purpose (a kill fault) is not. */
void orch_children_judge_stop(run *r, const char *name, const child *c, int how, uint64_t grace_ms)
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
void orch_children_judge(run *r)
{
    struct { const char *name, *bin, *log; const child *c; int have; } who[SCN_NODES_MAX + 2] = {
        {"server", "rtchaos-server", "server.log", &r->server, r->have_server},
        {"proxy", "rtchaos-proxy", "proxy.log", &r->proxy, r->have_proxy}};
    size_t nwho = 2;
    char names[SCN_NODES_MAX][2][16];
    for (unsigned i = 1; i < r->nnodes; i++, nwho++) {
        orch_sfmt(names[i][0], sizeof names[i][0], "node%u", i);
        orch_sfmt(names[i][1], sizeof names[i][1], "node%u.log", i);
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
            orch_sfmt(why, sizeof why, "sanitizer report: %s", line);
            json_object_set_new(o, "sanitizer", json_string(line));
            json_object_set_new(o, "clean", json_false());
            json_array_append_new(json_object_get(o, "problems"), json_string(why));
        }
        json_object_set_new(o, "log", json_string(who[i].log));
        if (json_is_true(json_object_get(o, "clean")))
            continue;
        char msg[700];
        orch_sfmt(msg, sizeof msg, "%s %s (see %s/%s)", who[i].bin,
             json_string_value(json_array_get(json_object_get(o, "problems"), 0)), r->dir, who[i].log);
        if (!r->error[0]) {
            orch_fail(r, "%s", msg);
        } else {
            /* the run broke already: the child's end is named too */
            size_t len = strlen(r->error);
            orch_sfmt(r->error + len, sizeof r->error - len, "; also %s", msg);
        }
    }
}

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
        orch_sfmt(buf, sizeof buf, "%s/rtchaos-server", r->o->bin_dir);
        v[n++] = strdup(buf);
    }
    v[n++] = strdup("--host");
    v[n++] = strdup(r->have_netns ? NETNS_SERVER_ADDR : "127.0.0.1");
    v[n++] = strdup("--port");
    orch_sfmt(buf, sizeof buf, "%u", port);
    v[n++] = strdup(buf);
    if (s->channels.history) {
        v[n++] = strdup("--history-max");
        orch_sfmt(buf, sizeof buf, "%u", s->channels.history);
        v[n++] = strdup(buf);
    }
    if (s->server.config) {
        v[n++] = strdup("--config");
        if (s->server.config[0] == '/')
            v[n++] = strdup(s->server.config);
        else {
            orch_sfmt(buf, sizeof buf, "%s/%s", s->dir, s->server.config);
            v[n++] = strdup(buf);
        }
    }
    if (r->have_redis) {
        v[n++] = strdup("--redis");
        orch_sfmt(buf, sizeof buf, "redis://127.0.0.1:%u", r->redis_port);
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

child *orch_children_node(run *r, unsigned i) { return i ? &r->xnode[i] : &r->server; }

/* Starts (or restarts, port != 0) the server — node i of server: {nodes: N}
 * (node 0 is the plain server's place) — and waits for its readiness line. */
int orch_children_server_start(run *r, unsigned i, uint16_t port, char *err, size_t errlen)
{
    char out[PATH_MAX], errp[PATH_MAX];
    child *c = orch_children_node(r, i);
    if (i) {
        orch_sfmt(out, sizeof out, "%s/node%u.stdout.log", r->dir, i);
        orch_sfmt(errp, sizeof errp, "%s/node%u.log", r->dir, i);
    } else {
        orch_sfmt(out, sizeof out, "%s/server.stdout.log", r->dir);
        orch_sfmt(errp, sizeof errp, "%s/server.log", r->dir);
    }
    char **argv = server_argv(r, port);
    json_t *d = json_pack("{s:o}", "argv", argv_json(argv));
    if (r->nnodes)
        json_object_set_new(d, "node", json_integer(i));
    orch_event(r, port ? "server_starting_again" : "server_starting", d);
    int rc = child_start(c, "rtchaos-server", argv, out, errp, err, errlen);
    free_argv(argv);
    if (rc < 0)
        return -1;
    if (!i)
        orch_pgids[0] = r->server.pid;
    char rest[128];
    if (child_wait_line(c, "listening ", rest, sizeof rest, r->s->server.ready_timeout_us / 1000, err,
                        errlen) < 0) {
        child_stop(c, 1000);
        return -1;
    }
    char *colon = strrchr(rest, ':');
    long p = colon ? strtol(colon + 1, NULL, 10) : 0;
    if (p <= 0 || p > 65535 || (port && p != port)) {
        orch_sfmt(err, errlen, "rtchaos-server printed 'listening %s', expected 127.0.0.1:%s", rest,
                 port ? "the same port" : "PORT");
        child_stop(c, 1000);
        return -1;
    }
    r->node_port[i] = (uint16_t)p;
    if (!i) {
        orch_sfmt(r->up_host, sizeof r->up_host, "%s", r->have_netns ? NETNS_SERVER_ADDR : "127.0.0.1");
        r->up_port = (uint16_t)p;
    }
    d = json_pack("{s:i, s:i}", "pid", (int)c->pid, "port", (int)p);
    if (r->nnodes)
        json_object_set_new(d, "node", json_integer(i));
    orch_event(r, "server_ready", d);
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
        orch_sfmt(err, errlen, "no free loopback port: %s", strerror(errno));
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
    orch_sfmt(dirs, sizeof dirs, "%s", path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
    char *save = NULL;
    for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        orch_sfmt(out, cap, "%s/redis-server", d);
        if (access(out, X_OK) == 0)
            return 0;
    }
    orch_sfmt(err, errlen, "redis: auto needs redis-server in PATH (Debian package redis-server)");
    return -1;
}

/* Starts our redis-server (port 0: a fresh one) — empty every time: no RDB,
 * no AOF, its own directory in the run's — and waits until it accepts. */
int orch_children_redis_start(run *r, uint16_t port, char *err, size_t errlen)
{
    char bin[PATH_MAX], dir[PATH_MAX], out[PATH_MAX], errp[PATH_MAX], p[16];
    if (redis_bin(bin, sizeof bin, err, errlen) < 0)
        return -1;
    if (!port && free_port(&port, err, errlen) < 0)
        return -1;
    orch_sfmt(dir, sizeof dir, "%s/redis", r->dir);
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        orch_sfmt(err, errlen, "mkdir %s: %s", dir, strerror(errno));
        return -1;
    }
    orch_sfmt(out, sizeof out, "%s/redis.stdout.log", r->dir);
    orch_sfmt(errp, sizeof errp, "%s/redis.log", r->dir);
    orch_sfmt(p, sizeof p, "%u", port);
    char *argv[] = {bin, "--port", p, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir,
                    "--daemonize", "no", NULL};
    orch_event(r, "redis_starting", json_pack("{s:o}", "argv", argv_json(argv)));
    if (child_start(&r->redis, "redis-server", argv, out, errp, err, errlen) < 0)
        return -1;
    uint64_t end = clock_mono_us() + r->s->server.ready_timeout_us;
    for (;;) {
        if (child_poll(&r->redis)) {
            char how[96];
            child_describe_exit(&r->redis, how, sizeof how);
            orch_sfmt(err, errlen, "redis-server %s before accepting connections (see %s)", how, out);
            return -1;
        }
        char e2[256];
        if (orch_tcp_reachable("127.0.0.1", port, 200, e2, sizeof e2) == 0)
            break;
        if (clock_mono_us() >= end || orch_sig) {
            orch_sfmt(err, errlen, "redis-server did not accept connections on 127.0.0.1:%u in time: %s", port, e2);
            child_stop(&r->redis, 1000);
            return -1;
        }
        clock_nap_ms(50);
    }
    r->redis_port = port;
    orch_event(r, "redis_ready", json_pack("{s:i, s:i}", "pid", (int)r->redis.pid, "port", (int)port));
    return 0;
}

int orch_children_proxy_start(run *r, char *err, size_t errlen)
{
    const scenario *s = r->s;
    char out[PATH_MAX], errp[PATH_MAX], bin[PATH_MAX], seed[32], evlog[PATH_MAX];
    orch_sfmt(out, sizeof out, "%s/proxy.stdout.log", r->dir);
    orch_sfmt(errp, sizeof errp, "%s/proxy.log", r->dir);
    orch_sfmt(evlog, sizeof evlog, "%s/proxy-events.jsonl", r->dir);
    if (s->proxy.bin)
        orch_sfmt(bin, sizeof bin, "%s", s->proxy.bin);
    else
        orch_sfmt(bin, sizeof bin, "%s/rtchaos-proxy", r->o->bin_dir);
    orch_sfmt(seed, sizeof seed, "%llu", (unsigned long long)prng_derive(r->seed, prng_hash_str("proxy")));
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
    orch_event(r, "proxy_starting", json_pack("{s:o}", "argv", argv_json(argv)));
    int rc = child_start(&r->proxy, "rtchaos-proxy", argv, out, errp, err, errlen);
    free_argv(argv);
    if (rc < 0)
        return -1;
    orch_pgids[1] = r->proxy.pid;
    char rest[128];
    if (child_wait_line(&r->proxy, "api ", rest, sizeof rest, s->proxy.ready_timeout_us / 1000, err, errlen) < 0)
        return -1;
    char *colon = strrchr(rest, ':');
    long p = colon ? strtol(colon + 1, NULL, 10) : 0;
    if (p <= 0 || p > 65535) {
        orch_sfmt(err, errlen, "rtchaos-proxy printed 'api %s', expected 127.0.0.1:PORT", rest);
        return -1;
    }
    orch_sfmt(r->api.host, sizeof r->api.host, "127.0.0.1");
    r->api.port = (uint16_t)p;
    r->api.timeout_ms = API_TIMEOUT_MS;
    char upstream[300];
    orch_sfmt(upstream, sizeof upstream, "%s:%u", r->up_host, r->up_port);
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
            orch_sfmt(a, sizeof a, "%s:%u", r->up_host, r->node_port[i]);
            json_array_append_new(ups, json_string(a));
        }
        const char *bal = s->server.balance ? s->server.balance : "roundrobin";
        int prc = proxyctl_set_pool(&r->api, PROXY_NAME, ups, bal, err, errlen);
        orch_event(r, "proxy_pool", json_pack("{s:O, s:s}", "upstreams", ups, "balance", bal));
        json_decref(ups);
        if (prc < 0)
            return -1;
    }
    for (size_t i = 0; i < s->proxy.ntoxics; i++)
        if (proxyctl_add_toxic(&r->api, PROXY_NAME, &s->proxy.toxics[i], err, errlen) < 0)
            return -1;
    orch_event(r, "proxy_ready", json_pack("{s:i, s:i, s:i, s:s}", "pid", (int)r->proxy.pid, "api_port", (int)p,
                                      "listen_port", (int)r->proxy_port, "upstream", upstream));
    return 0;
}
