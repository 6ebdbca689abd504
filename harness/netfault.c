/* netfault.c — kernel faults on the veth link: nftables rules, htb/netem qdiscs and MTUs built from the active set. */
#include "netfault.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct sbuf {
    char *p;
    size_t n, cap;
    int oom;
} sbuf;

static void sb_add(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_add(sbuf *b, const char *fmt, ...)
{
    if (b->oom)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int w = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? b->cap - b->n : 0, fmt, ap);
        va_end(ap);
        if (w < 0) {
            b->oom = 1;
            return;
        }
        if (b->p && b->n + (size_t)w < b->cap) {
            b->n += (size_t)w;
            return;
        }
        size_t cap = b->cap ? b->cap * 2 : 1024;
        while (cap <= b->n + (size_t)w)
            cap *= 2;
        char *np = realloc(b->p, cap);
        if (!np) {
            b->oom = 1;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
}

static char *sb_take(sbuf *b)
{
    if (b->oom) {
        free(b->p);
        return NULL;
    }
    if (!b->p)
        return strdup("");
    return b->p;
}

static int is_nft(scn_net_kind k)
{
    return k == SCN_NET_LOSS || k == SCN_NET_PARTITION || k == SCN_NET_PARTITION_ONEWAY || k == SCN_NET_RESET;
}

static int is_tc(scn_net_kind k)
{
    return k == SCN_NET_RATE || k == SCN_NET_DELAY || k == SCN_NET_REORDER;
}

const char *netfault_mechanism(const scn_fault *f)
{
    if (f->kind != SCN_FAULT_NETWORK)
        return NULL;
    switch (f->net.kind) {
    case SCN_NET_RATE: return "tc-htb";
    case SCN_NET_DELAY:
    case SCN_NET_REORDER: return "tc-netem";
    case SCN_NET_MTU: return "ip-link-mtu";
    default: return "nftables";
    }
}

int netfault_supported(const scenario *s, const netns_support *sup, char *err, size_t errlen)
{
    for (size_t i = 0; i < s->nfaults; i++) {
        const scn_fault *f = &s->faults[i];
        if (f->kind != SCN_FAULT_NETWORK)
            continue;
        const char *k = scenario_net_kind_str(f->net.kind);
        if (is_nft(f->net.kind) && !sup->nft) {
            snprintf(err, errlen, "fault '%s' (%s) needs nftables, which this kernel does not offer", f->name, k);
            return -1;
        }
        if (f->net.kind == SCN_NET_RATE && !sup->htb) {
            snprintf(err, errlen, "fault '%s' (rate) needs the htb qdisc, which this kernel does not offer; "
                     "the proxy's bandwidth toxic caps the rate in user space", f->name);
            return -1;
        }
        if ((f->net.kind == SCN_NET_DELAY || f->net.kind == SCN_NET_REORDER) && (!sup->netem || !sup->htb)) {
            snprintf(err, errlen,
                     "fault '%s' (%s) needs the netem qdisc, which this kernel does not offer "
                     "(CONFIG_NET_SCH_NETEM is not set); use the proxy's %s toxic instead",
                     f->name, k, f->net.kind == SCN_NET_DELAY ? "latency" : "ws_reorder");
            return -1;
        }
    }
    return 0;
}

/* The nftables match of fault f in one direction: packets arriving over
 * the link (dev: the receiving veth end), and the group's address (its
 * source going up, its destination coming down). */
static void nft_sel(sbuf *b, const scenario *s, const scn_fault *f, scn_direction d, const char *dev)
{
    sb_add(b, "iifname \"%s\"", dev);
    if (f->group)
        for (size_t g = 0; g < s->nclients; g++)
            if (!strcmp(s->clients[g].name, f->group)) {
                char a[32];
                netns_group_addr((unsigned)g, a, sizeof a);
                sb_add(b, " ip %s %s", d == SCN_DIR_UPSTREAM ? "saddr" : "daddr", a);
            }
}

static void nft_rules(sbuf *b, const scenario *s, const unsigned char *active, const char *dev, scn_direction d)
{
    for (size_t i = 0; i < s->nfaults; i++) {
        const scn_fault *f = &s->faults[i];
        if (!active[i] || f->kind != SCN_FAULT_NETWORK || !is_nft(f->net.kind))
            continue;
        if (f->net.direction != SCN_DIR_BOTH && f->net.direction != d)
            continue;
        /* Every packet the fault could act on is counted first ("f<i>s"),
         * then the ones it acts on ("f<i>"): the report gives both, so a
         * loss rate is measured, not assumed. */
        sb_add(b, "  ");
        nft_sel(b, s, f, d, dev);
        sb_add(b, " counter comment \"f%zus\"\n  ", i);
        nft_sel(b, s, f, d, dev);
        switch (f->net.kind) {
        case SCN_NET_LOSS:
            /* numgen random draws from the kernel's prandom per packet: it
             * cannot be seeded, so the report carries the measured rate. */
            sb_add(b, " numgen random mod 10000 < %u counter drop", (unsigned)(f->net.percent * 100 + 0.5));
            break;
        case SCN_NET_PARTITION:
        case SCN_NET_PARTITION_ONEWAY:
            /* drop, not reject: the peer learns nothing (no FIN, no RST, no ICMP) */
            sb_add(b, " counter drop");
            break;
        case SCN_NET_RESET:
            sb_add(b, " meta l4proto tcp counter reject with tcp reset");
            break;
        default:
            break;
        }
        sb_add(b, " comment \"f%zu\"\n", i);
    }
}

char *netfault_nft_ruleset(const scenario *s, const unsigned char *active, const char *dev, scn_direction d)
{
    sbuf b = {0};
    /* "table …; delete table …; table … {…}" in one `nft -f` transaction
     * replaces the table atomically whether or not it existed.
     * Packets are met where they arrive, on the input hook of the
     * receiving namespace, never on the sender's output: a drop there
     * would be reported to the sending socket (EPERM for UDP, a send error
     * TCP retries at once without counting a retransmission), which is not
     * what a lossy or partitioned network does. */
    sb_add(&b, "table inet rtchaos\ndelete table inet rtchaos\ntable inet rtchaos {\n");
    sb_add(&b, " chain %s {\n  type filter hook input priority 0; policy accept;\n",
           d == SCN_DIR_UPSTREAM ? "upstream" : "downstream");
    nft_rules(&b, s, active, dev, d);
    sb_add(&b, " }\n}\n");
    return sb_take(&b);
}

char *netfault_tc_batch(const scenario *s, const unsigned char *active, const char *dev, scn_direction egress)
{
    sbuf b = {0};
    int root = 0;
    for (size_t i = 0; i < s->nfaults; i++) {
        const scn_fault *f = &s->faults[i];
        if (!active[i] || f->kind != SCN_FAULT_NETWORK || !is_tc(f->net.kind))
            continue;
        if (f->net.direction != SCN_DIR_BOTH && f->net.direction != egress)
            continue;
        if (!root) {
            /* htb's unclassified traffic goes out unshaped (no default class) */
            sb_add(&b, "qdisc add dev %s root handle 1: htb\n", dev);
            root = 1;
        }
        unsigned minor = 0x10 + (unsigned)i; /* tc class ids are hex */
        if (f->net.kind == SCN_NET_RATE)
            sb_add(&b, "class add dev %s parent 1: classid 1:%x htb rate %llukbit ceil %llukbit\n", dev, minor,
                   (unsigned long long)f->net.rate_kbit_per_s, (unsigned long long)f->net.rate_kbit_per_s);
        else {
            sb_add(&b, "class add dev %s parent 1: classid 1:%x htb rate 10gbit\n", dev, minor);
            if (f->net.kind == SCN_NET_DELAY)
                sb_add(&b, "qdisc add dev %s parent 1:%x handle %x: netem delay %lluus %lluus\n", dev, minor, minor,
                       (unsigned long long)f->net.delay_us, (unsigned long long)f->net.jitter_us);
            else
                sb_add(&b, "qdisc add dev %s parent 1:%x handle %x: netem delay %lluus reorder %.3f%%\n", dev, minor,
                       minor, (unsigned long long)f->net.delay_us, f->net.percent);
        }
        /* The group's address: its destination going down, its source going up. */
        char a[40] = NETNS_SUBNET;
        if (f->group)
            for (size_t g = 0; g < s->nclients; g++)
                if (!strcmp(s->clients[g].name, f->group)) {
                    netns_group_addr((unsigned)g, a, sizeof a - 3);
                    strcat(a, "/32");
                }
        sb_add(&b, "filter add dev %s parent 1: protocol ip prio %zu u32 match ip %s %s flowid 1:%x\n", dev, i + 1,
               egress == SCN_DIR_DOWNSTREAM ? "dst" : "src", a, minor);
    }
    return sb_take(&b);
}

unsigned netfault_mtu(const scenario *s, const unsigned char *active)
{
    unsigned m = 1500;
    for (size_t i = 0; i < s->nfaults; i++)
        if (active[i] && s->faults[i].kind == SCN_FAULT_NETWORK && s->faults[i].net.kind == SCN_NET_MTU &&
            s->faults[i].net.mtu_bytes < m)
            m = s->faults[i].net.mtu_bytes;
    return m;
}

/* Adds the counters of the table in namespace ns. */
static int read_table(const char *ns, size_t nfaults, netfault_count *counts, char *err, size_t errlen)
{
    char *out = NULL;
    if (netns_exec(ns, (char *const[]){"nft", "-j", "list", "table", "inet", "rtchaos", NULL}, NULL, &out, err,
                   errlen) < 0) {
        free(out);
        /* No table yet: nothing was counted. */
        return strstr(err, "No such file") ? 0 : -1;
    }
    json_error_t je;
    json_t *j = json_loads(out, 0, &je);
    free(out);
    if (!j) {
        snprintf(err, errlen, "nft -j: unreadable JSON: %s", je.text);
        return -1;
    }
    size_t k, m;
    json_t *item, *ex;
    json_array_foreach(json_object_get(j, "nftables"), k, item) {
        json_t *rule = json_object_get(item, "rule");
        const char *c = json_string_value(json_object_get(rule, "comment"));
        if (!c || c[0] != 'f')
            continue;
        char *end;
        unsigned long idx = strtoul(c + 1, &end, 10);
        if (idx >= nfaults || (*end && strcmp(end, "s")))
            continue;
        json_array_foreach(json_object_get(rule, "expr"), m, ex) {
            json_t *ctr = json_object_get(ex, "counter");
            if (!ctr)
                continue;
            unsigned long long p = (unsigned long long)json_integer_value(json_object_get(ctr, "packets"));
            if (*end)
                counts[idx].seen += p;
            else
                counts[idx].acted += p;
        }
    }
    json_decref(j);
    return 0;
}

int netfault_read_counters(const netns *n, size_t nfaults, netfault_count *counts, char *err, size_t errlen)
{
    if (read_table(n->srv, nfaults, counts, err, errlen) < 0 || read_table(n->cli, nfaults, counts, err, errlen) < 0)
        return -1;
    return 0;
}

int netfault_apply(const netns *n, const scenario *s, const unsigned char *active, size_t changed,
                   netfault_count *counts, char *err, size_t errlen)
{
    const scn_fault *f = &s->faults[changed];
    if (is_nft(f->net.kind)) {
        if (counts && netfault_read_counters(n, s->nfaults, counts, err, errlen) < 0)
            return -1;
        /* upstream rules where clients' packets arrive (the server side),
         * downstream rules where the server's arrive (the clients' side) */
        const struct {
            const char *ns, *dev;
            scn_direction d;
        } at[2] = {{n->srv, n->srv_if, SCN_DIR_UPSTREAM}, {n->cli, n->cli_if, SCN_DIR_DOWNSTREAM}};
        for (int k = 0; k < 2; k++) {
            char *rs = netfault_nft_ruleset(s, active, at[k].dev, at[k].d);
            if (!rs) {
                snprintf(err, errlen, "out of memory");
                return -1;
            }
            int rc = netns_exec(at[k].ns, (char *const[]){"nft", "-f", "-", NULL}, rs, NULL, err, errlen);
            free(rs);
            if (rc < 0)
                return -1;
        }
        return 0;
    }
    if (is_tc(f->net.kind)) {
        const struct {
            const char *ns, *dev;
            scn_direction egress;
        } ends[2] = {{n->srv, n->srv_if, SCN_DIR_DOWNSTREAM}, {n->cli, n->cli_if, SCN_DIR_UPSTREAM}};
        for (int e = 0; e < 2; e++) {
            char e2[256];
            /* fails when there is no root qdisc yet: nothing to remove */
            netns_exec(ends[e].ns, (char *const[]){"tc", "qdisc", "del", "dev", (char *)ends[e].dev, "root", NULL},
                       NULL, NULL, e2, sizeof e2);
            char *batch = netfault_tc_batch(s, active, ends[e].dev, ends[e].egress);
            if (!batch) {
                snprintf(err, errlen, "out of memory");
                return -1;
            }
            int rc = batch[0] ? netns_exec(ends[e].ns, (char *const[]){"tc", "-batch", "-", NULL}, batch, NULL, err,
                                           errlen)
                              : 0;
            free(batch);
            if (rc < 0)
                return -1;
        }
        return 0;
    }
    char mtu[16];
    snprintf(mtu, sizeof mtu, "%u", netfault_mtu(s, active));
    if (netns_exec(n->srv, (char *const[]){"ip", "link", "set", "dev", (char *)n->srv_if, "mtu", mtu, NULL}, NULL,
                   NULL, err, errlen) < 0 ||
        netns_exec(n->cli, (char *const[]){"ip", "link", "set", "dev", (char *)n->cli_if, "mtu", mtu, NULL}, NULL,
                   NULL, err, errlen) < 0)
        return -1;
    return 0;
}
