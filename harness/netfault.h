/* netfault.h — kernel network faults (packet_loss, partition, partition_oneway,
 * tcp_reset, rate, mtu, delay, reorder) on the run's veth link: the set of
 * active faults turned into one nftables ruleset, htb/netem qdiscs and link
 * MTUs, and applied whole each time the set changes. */
#ifndef RTCHAOS_NETFAULT_H
#define RTCHAOS_NETFAULT_H
#include <stddef.h>
#include <jansson.h>
#include "netns.h"
#include "scenario.h"

/* The mechanism that applies f: "nftables", "tc-htb", "tc-netem", "ip-link-mtu". */
const char *netfault_mechanism(const scn_fault *f);

/* 0 when the kernel offers what every kernel fault of s needs; -1 with a
 * message naming the first one it cannot apply (e.g. delay without netem:
 * "use the proxy's latency toxic"). */
int netfault_supported(const scenario *s, const netns_support *sup, char *err, size_t errlen);

/* The nftables ruleset (for `nft -f -`) of the namespace that receives
 * direction d (upstream: the server side, dev its veth end; downstream: the
 * clients', dev theirs) for every fault i of s with active[i] set: it
 * replaces the table `inet rtchaos` atomically. Rules carry counters and
 * the comments "f<i>s" (seen) and "f<i>" (acted). Returns a malloc'd string
 * (caller frees), or NULL when out of memory. Pure: no I/O. */
char *netfault_nft_ruleset(const scenario *s, const unsigned char *active, const char *dev, scn_direction d);

/* The `tc -batch` lines that make the qdiscs of one veth end (its egress:
 * downstream = the server's end, upstream = the clients') for the active
 * rate/delay/reorder faults; "" when none applies there. Malloc'd; NULL when
 * out of memory. Pure. */
char *netfault_tc_batch(const scenario *s, const unsigned char *active, const char *dev, scn_direction egress);

/* The link MTU the active mtu faults ask for (the smallest), or 1500. */
unsigned netfault_mtu(const scenario *s, const unsigned char *active);

/* Packets an nftables fault saw (matched its direction and group) and acted
 * on (dropped or rejected), over all its windows. */
typedef struct netfault_count {
    unsigned long long seen, acted;
} netfault_count;

/* Applies the active set in n's namespaces: only the mechanism of fault
 * `changed` is rebuilt (nftables ruleset, qdiscs of both ends, or MTUs).
 * Before an nftables rebuild the rules' counters are added into counts[i]
 * (may be NULL; s->nfaults entries). Returns 0, or -1 with err (the command
 * and its error). */
int netfault_apply(const netns *n, const scenario *s, const unsigned char *active, size_t changed,
                   netfault_count *counts, char *err, size_t errlen);

/* Adds the counters of the current nftables rules into counts[i] (rules
 * with the comments "f<i>s" (seen) and "f<i>" (acted)). Returns 0, or -1
 * with err. */
int netfault_read_counters(const netns *n, size_t nfaults, netfault_count *counts, char *err, size_t errlen);

#endif
