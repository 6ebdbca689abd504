/* netns.c — the run's network namespaces and veth pair, made and removed with iproute2, and their TCP figures. */
#include "netns.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "crun.h"

#define EXEC_DEADLINE_MS 10000
#define NETNS_DIR "/run/netns"

/* ---- privileges --------------------------------------------------------------- */

int netns_privileged(char *err, size_t errlen)
{
    FILE *f = fopen("/proc/self/status", "r");
    unsigned long long eff = 0;
    int found = 0;
    char line[256];
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "CapEff: %llx", &eff) == 1) {
            found = 1;
            break;
        }
    if (f)
        fclose(f);
    const unsigned long long net_admin = 1ULL << 12, sys_admin = 1ULL << 21;
    if (found && (eff & net_admin) && (eff & sys_admin))
        return 0;
    snprintf(err, errlen,
             "network.namespaces needs root (CAP_NET_ADMIN to make the veth link, nftables rules and qdiscs, "
             "CAP_SYS_ADMIN to make and enter network namespaces); this process has %s%s%s. Run it as root, "
             "or drop 'network: {namespaces: true}' and the kernel faults (the proxy's toxics need no privilege)",
             !found ? "no readable capability set" : !(eff & net_admin) ? "no CAP_NET_ADMIN" : "",
             found && !(eff & net_admin) && !(eff & sys_admin) ? " and " : "",
             found && !(eff & sys_admin) ? "no CAP_SYS_ADMIN" : "");
    return -1;
}

/* ---- running ip / nft / tc ---------------------------------------------------- */

/* The command line as one string, for messages. */
static void argv_str(char *const argv[], char *s, size_t cap)
{
    size_t off = 0;
    s[0] = '\0';
    for (size_t i = 0; argv[i] && off + 1 < cap; i++) {
        int w = snprintf(s + off, cap - off, "%s%s", i ? " " : "", argv[i]);
        if (w < 0)
            break;
        off += (size_t)w;
    }
}

int netns_exec(const char *ns, char *const argv[], const char *input, char **out, char *err, size_t errlen)
{
    if (out)
        *out = NULL;
    char cmd[256];
    argv_str(argv, cmd, sizeof cmd);
    char nspath[256] = "";
    if (ns)
        snprintf(nspath, sizeof nspath, NETNS_DIR "/%s", ns);
    crun_spec sp = {.search_path = 1, .netns = ns ? nspath : NULL};
    crun_result res;
    char e[512];
    if (crun_run(argv, &sp, input, EXEC_DEADLINE_MS, &res, e, sizeof e) < 0) {
        snprintf(err, errlen, "%s: %s%s", cmd, e,
                 strstr(e, "cannot run") ? " (is the package installed? scripts/deps.sh)" : "");
        return -1;
    }
    int st = res.status;
    int ok = !res.timed_out && WIFEXITED(st) && WEXITSTATUS(st) == 0;
    if (!ok) {
        /* stderr's first line says why; keep it short */
        const char *m = res.errout ? res.errout : "";
        size_t el = strcspn(m, "\n");
        if (res.timed_out)
            snprintf(err, errlen, "%s: no answer within %d s", cmd, EXEC_DEADLINE_MS / 1000);
        else if (WIFEXITED(st))
            snprintf(err, errlen, "%s: exit %d: %.*s", cmd, WEXITSTATUS(st), (int)(el < 400 ? el : 400), m);
        else
            snprintf(err, errlen, "%s: killed by signal %d", cmd, WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    }
    if (out) {
        *out = res.out;
        res.out = NULL;
    }
    crun_result_free(&res);
    return ok ? 0 : -1;
}

/* Runs a command given as a NULL-terminated list of strings. */
#define RUN(ns, err, errlen, ...) netns_exec((ns), (char *const[]){__VA_ARGS__, NULL}, NULL, NULL, (err), (errlen))

/* ---- stale namespaces ------------------------------------------------------------ */

/* Whether pid is a running rtchaos (the harness or its test driver). */
static int rtchaos_alive(long pid)
{
    char path[64], comm[32] = "";
    snprintf(path, sizeof path, "/proc/%ld/comm", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    int ok = fgets(comm, sizeof comm, f) != NULL;
    fclose(f);
    return ok && !strncmp(comm, "rtchaos", 7);
}

int netns_clean_stale(unsigned *removed, char *err, size_t errlen)
{
    *removed = 0;
    DIR *d = opendir(NETNS_DIR);
    if (!d)
        return 0; /* no namespace was ever named on this box */
    int rc = 0;
    struct dirent *e;
    char names[64][256];
    size_t n = 0;
    while ((e = readdir(d)) && n < 64) {
        if (strncmp(e->d_name, NETNS_PREFIX, strlen(NETNS_PREFIX)))
            continue;
        char *end;
        long pid = strtol(e->d_name + strlen(NETNS_PREFIX), &end, 10);
        if (pid <= 0 || *end != '-' || pid == (long)getpid() || rtchaos_alive(pid))
            continue;
        snprintf(names[n++], sizeof names[0], "%s", e->d_name);
    }
    closedir(d);
    for (size_t i = 0; i < n; i++) {
        char e2[512];
        if (RUN(NULL, e2, sizeof e2, "ip", "netns", "delete", names[i]) < 0) {
            snprintf(err, errlen, "stale namespace %s could not be removed: %s", names[i], e2);
            rc = -1;
        } else
            (*removed)++;
    }
    return rc;
}

/* ---- probe ------------------------------------------------------------------------- */

int netns_probe(netns_support *sup, char *err, size_t errlen)
{
    memset(sup, 0, sizeof *sup);
    char name[64], e2[512];
    snprintf(name, sizeof name, NETNS_PREFIX "%ld-probe", (long)getpid());
    RUN(NULL, e2, sizeof e2, "ip", "netns", "delete", name);
    if (RUN(NULL, err, errlen, "ip", "netns", "add", name) < 0)
        return -1;
    if (RUN(name, err, errlen, "ip", "link", "set", "lo", "up") < 0) {
        RUN(NULL, e2, sizeof e2, "ip", "netns", "delete", name);
        return -1;
    }
    int rc = 0;
    /* Everything the fault rules use, in one transaction. */
    static const char nft_probe[] =
        "table inet rtchaos_probe {\n"
        " chain c { type filter hook output priority 0; policy accept;\n"
        "  oifname \"lo\" ip daddr 192.0.2.1 numgen random mod 10000 < 1 counter drop\n"
        "  oifname \"lo\" ip daddr 192.0.2.1 meta l4proto tcp counter reject with tcp reset\n"
        " }\n"
        "}\n";
    char nft_err[512] = "";
    int r = netns_exec(name, (char *const[]){"nft", "-f", "-", NULL}, nft_probe, NULL, nft_err, sizeof nft_err);
    sup->nft = r == 0;
    sup->htb = RUN(name, e2, sizeof e2, "tc", "qdisc", "add", "dev", "lo", "root", "handle", "1:", "htb") == 0;
    if (sup->htb)
        RUN(name, e2, sizeof e2, "tc", "qdisc", "del", "dev", "lo", "root");
    char tc_err[512] = "";
    sup->tbf = RUN(name, tc_err, sizeof tc_err, "tc", "qdisc", "add", "dev", "lo", "root", "tbf", "rate", "1mbit",
                   "burst", "32kbit", "latency", "50ms") == 0;
    if (sup->tbf)
        RUN(name, e2, sizeof e2, "tc", "qdisc", "del", "dev", "lo", "root");
    sup->netem = RUN(name, e2, sizeof e2, "tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms") == 0;
    if (RUN(NULL, e2, sizeof e2, "ip", "netns", "delete", name) < 0) {
        snprintf(err, errlen, "the probe namespace %s could not be removed: %s", name, e2);
        rc = -1;
    }
    if (!sup->nft && rc == 0) {
        snprintf(err, errlen, "nftables does not work here: %s", nft_err);
        rc = -1;
    } else if (!sup->tbf && !sup->htb && rc == 0) {
        snprintf(err, errlen, "tc qdiscs do not work here: %s", tc_err);
        rc = -1;
    }
    return rc;
}

/* ---- create / enter / destroy ----------------------------------------------------- */

void netns_group_addr(unsigned g, char *b, size_t cap)
{
    snprintf(b, cap, "198.18.0.%u", NETNS_GROUP_BASE + g);
}

static int open_ns(const char *name, char *err, size_t errlen)
{
    char path[128];
    snprintf(path, sizeof path, NETNS_DIR "/%s", name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
    return fd;
}

int netns_create(netns *n, unsigned ngroups, char *err, size_t errlen)
{
    memset(n, 0, sizeof *n);
    n->srv_fd = n->cli_fd = n->orig_fd = -1;
    if (ngroups > NETNS_GROUPS_MAX) {
        snprintf(err, errlen, "at most %d client groups in namespaces", NETNS_GROUPS_MAX);
        return -1;
    }
    n->ngroups = ngroups;
    long pid = (long)getpid();
    snprintf(n->srv, sizeof n->srv, NETNS_PREFIX "%ld-srv", pid);
    snprintf(n->cli, sizeof n->cli, NETNS_PREFIX "%ld-cli", pid);
    snprintf(n->srv_if, sizeof n->srv_if, "rtx%lds", pid);
    snprintf(n->cli_if, sizeof n->cli_if, "rtx%ldc", pid);
    char e2[512];
    /* Left by an earlier process that had our pid. */
    RUN(NULL, e2, sizeof e2, "ip", "netns", "delete", n->srv);
    RUN(NULL, e2, sizeof e2, "ip", "netns", "delete", n->cli);
    n->created = 1;
    if (RUN(NULL, err, errlen, "ip", "netns", "add", n->srv) < 0 ||
        RUN(NULL, err, errlen, "ip", "netns", "add", n->cli) < 0)
        return -1;
    /* One batch per namespace: a few exec()s instead of one per address. */
    char cli_batch[16384], srv_batch[1024];
    size_t off = (size_t)snprintf(cli_batch, sizeof cli_batch,
                                  "link add %s type veth peer name %s netns %s\n"
                                  "addr add " NETNS_CLIENT_ADDR "/24 dev %s\n",
                                  n->cli_if, n->srv_if, n->srv, n->cli_if);
    for (unsigned g = 0; g < ngroups && off < sizeof cli_batch; g++) {
        char a[32];
        netns_group_addr(g, a, sizeof a);
        off += (size_t)snprintf(cli_batch + off, sizeof cli_batch - off, "addr add %s/32 dev %s\n", a, n->cli_if);
    }
    if (off < sizeof cli_batch)
        snprintf(cli_batch + off, sizeof cli_batch - off, "link set lo up\nlink set %s up\n", n->cli_if);
    snprintf(srv_batch, sizeof srv_batch, "addr add " NETNS_SERVER_ADDR "/24 dev %s\nlink set lo up\nlink set %s up\n",
             n->srv_if, n->srv_if);
    if (netns_exec(n->cli, (char *const[]){"ip", "-batch", "-", NULL}, cli_batch, NULL, err, errlen) < 0 ||
        netns_exec(n->srv, (char *const[]){"ip", "-batch", "-", NULL}, srv_batch, NULL, err, errlen) < 0)
        return -1;
    if ((n->srv_fd = open_ns(n->srv, err, errlen)) < 0 || (n->cli_fd = open_ns(n->cli, err, errlen)) < 0)
        return -1;
    return 0;
}

int netns_enter(int ns_fd, int *prev_fd, char *err, size_t errlen)
{
    *prev_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (*prev_fd < 0) {
        snprintf(err, errlen, "cannot open this thread's network namespace: %s", strerror(errno));
        return -1;
    }
    if (setns(ns_fd, CLONE_NEWNET) < 0) {
        snprintf(err, errlen, "setns: %s", strerror(errno));
        close(*prev_fd);
        *prev_fd = -1;
        return -1;
    }
    return 0;
}

int netns_leave(int prev_fd, char *err, size_t errlen)
{
    if (prev_fd < 0)
        return 0;
    int rc = setns(prev_fd, CLONE_NEWNET);
    if (rc < 0)
        snprintf(err, errlen, "setns back: %s", strerror(errno));
    close(prev_fd);
    return rc < 0 ? -1 : 0;
}

int netns_enter_server(netns *n, char *err, size_t errlen)
{
    if (n->entered)
        return 0;
    if (netns_enter(n->srv_fd, &n->orig_fd, err, errlen) < 0)
        return -1;
    n->entered = 1;
    return 0;
}

int netns_destroy(netns *n, char *err, size_t errlen)
{
    int rc = 0;
    if (n->entered) {
        if (netns_leave(n->orig_fd, err, errlen) < 0)
            rc = -1;
        n->orig_fd = -1;
        n->entered = 0;
    }
    if (n->srv_fd >= 0)
        close(n->srv_fd);
    if (n->cli_fd >= 0)
        close(n->cli_fd);
    n->srv_fd = n->cli_fd = -1;
    if (!n->created)
        return rc;
    char e2[512];
    struct stat st;
    char path[128];
    /* The veth pair goes with either namespace; delete it first anyway, so
     * that nothing is left even while a straggling socket still pins a
     * namespace for a moment. */
    snprintf(path, sizeof path, NETNS_DIR "/%s", n->cli);
    if (stat(path, &st) == 0) {
        RUN(n->cli, e2, sizeof e2, "ip", "link", "delete", n->cli_if);
        if (RUN(NULL, e2, sizeof e2, "ip", "netns", "delete", n->cli) < 0 && rc == 0) {
            snprintf(err, errlen, "%s", e2);
            rc = -1;
        }
    }
    snprintf(path, sizeof path, NETNS_DIR "/%s", n->srv);
    if (stat(path, &st) == 0 && RUN(NULL, e2, sizeof e2, "ip", "netns", "delete", n->srv) < 0 && rc == 0) {
        snprintf(err, errlen, "%s", e2);
        rc = -1;
    }
    n->created = 0;
    return rc;
}

/* ---- TCP figures -------------------------------------------------------------------- */

/* Finds "<prefix> name…\n<prefix> value…" line pairs (the /proc/net/snmp
 * and netstat layout) and copies the value of `field` in section `prefix`. */
static int proc_field(const char *text, const char *prefix, const char *field, long long *out)
{
    size_t pl = strlen(prefix);
    const char *p = text;
    while ((p = strstr(p, prefix))) {
        if (p != text && p[-1] != '\n') {
            p += pl;
            continue;
        }
        const char *hdr_end = strchr(p, '\n');
        if (!hdr_end || strncmp(hdr_end + 1, prefix, pl)) {
            p += pl;
            continue;
        }
        const char *h = p + pl, *v = hdr_end + 1 + pl;
        const char *v_end = strchr(v, '\n');
        if (!v_end)
            v_end = v + strlen(v);
        while (h < hdr_end && v < v_end) {
            while (*h == ' ')
                h++;
            while (*v == ' ')
                v++;
            size_t hl = strcspn(h, " \n"), vl = strcspn(v, " \n");
            if (hl == strlen(field) && !strncmp(h, field, hl)) {
                *out = strtoll(v, NULL, 10);
                return 0;
            }
            h += hl;
            v += vl;
        }
        p = v_end;
    }
    return -1;
}

json_t *netns_tcp_sample(const char *ns, char *err, size_t errlen)
{
    char *text = NULL;
    if (netns_exec(ns, (char *const[]){"cat", "/proc/net/snmp", "/proc/net/netstat", "/proc/net/tcp", NULL}, NULL,
                   &text, err, errlen) < 0) {
        free(text);
        return NULL;
    }
    static const struct {
        const char *key, *section, *field;
    } figs[] = {
        {"retrans_segs", "Tcp:", "RetransSegs"},   {"out_segs", "Tcp:", "OutSegs"},
        {"in_segs", "Tcp:", "InSegs"},             {"active_opens", "Tcp:", "ActiveOpens"},
        {"passive_opens", "Tcp:", "PassiveOpens"}, {"estab_resets", "Tcp:", "EstabResets"},
        {"attempt_fails", "Tcp:", "AttemptFails"}, {"out_rsts", "Tcp:", "OutRsts"},
        {"timeouts", "TcpExt:", "TCPTimeouts"},    {"lost_retransmits", "TcpExt:", "TCPLostRetransmit"},
        {"syn_retrans", "TcpExt:", "TCPSynRetrans"},
    };
    json_t *o = json_object();
    for (size_t i = 0; i < sizeof figs / sizeof *figs; i++) {
        long long v = 0;
        if (proc_field(text, figs[i].section, figs[i].field, &v) == 0)
            json_object_set_new(o, figs[i].key, json_integer(v));
    }
    static const char *const state_names[] = {"?",         "ESTABLISHED", "SYN_SENT",   "SYN_RECV",
                                              "FIN_WAIT1", "FIN_WAIT2",   "TIME_WAIT",  "CLOSE",
                                              "CLOSE_WAIT", "LAST_ACK",   "LISTEN",     "CLOSING"};
    long long counts[12] = {0}, link[12] = {0}, retransmitting = 0;
    /* /proc/net/tcp: "sl local rem st tx:rx tr:when retrnsmt …" after its header line. */
    const char *p = strstr(text, "  sl  local_address");
    if (p)
        p = strchr(p, '\n');
    while (p && *++p) {
        unsigned st = 0, retr = 0, loc = 0, rem = 0;
        char tr[32], txq[32];
        if (sscanf(p, " %*[0-9]: %x:%*[0-9A-F] %x:%*[0-9A-F] %x %31s %31s %x", &loc, &rem, &st, txq, tr, &retr) >= 3 &&
            st < 12) {
            counts[st]++;
            /* A connection across the veth link: its peer is another
             * address of the run's subnet. The kernel prints an address
             * as the numeric value of its in_addr.s_addr, so it compares
             * with s_addr values directly. The server side's own loopback
             * connections (the publisher's) have peer == local. */
            struct in_addr net, mask;
            inet_pton(AF_INET, "198.18.0.0", &net);
            inet_pton(AF_INET, "255.255.255.0", &mask);
            if ((rem & mask.s_addr) == net.s_addr && rem != loc)
                link[st]++;
        }
        retransmitting += retr > 0;
        p = strchr(p, '\n');
    }
    json_t *states = json_object();
    for (unsigned s = 1; s < 12; s++)
        if (counts[s])
            json_object_set_new(states, state_names[s], json_integer(counts[s]));
    json_object_set_new(o, "states", states);
    json_t *ls = json_object();
    for (unsigned s = 1; s < 12; s++)
        if (link[s])
            json_object_set_new(ls, state_names[s], json_integer(link[s]));
    json_object_set_new(o, "link_states", ls);
    json_object_set_new(o, "sockets_retransmitting", json_integer(retransmitting));
    free(text);
    return o;
}
