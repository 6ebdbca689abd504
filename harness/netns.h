/* netns.h — the run's two network namespaces (server side, clients) joined
 * by a veth pair: create, enter, sample TCP figures, remove; stale ones of
 * dead runs removed at start. docs/network.md has the design. */
#ifndef RTCHAOS_NETNS_H
#define RTCHAOS_NETNS_H
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

/* Addresses come from 198.18.0.0/15 (RFC 2544, reserved for benchmarking
 * network devices): no real network uses it, and it only ever exists inside
 * the two namespaces the harness creates, which have no other link. */
#define NETNS_SUBNET       "198.18.0.0/24"
#define NETNS_SERVER_ADDR  "198.18.0.1"   /* server side (rtchaos-server, rtchaos-proxy) */
#define NETNS_CLIENT_ADDR  "198.18.0.2"   /* clients' side, primary */
#define NETNS_GROUP_BASE   10             /* client group g's source address: 198.18.0.(10+g) */
#define NETNS_GROUPS_MAX   200
#define NETNS_PREFIX       "rtchaos-"     /* every namespace the harness makes: rtchaos-<pid>-srv|cli */

/* What the kernel offers (netns_probe). */
typedef struct netns_support {
    int nft;     /* nftables (inet family, numgen, reject with tcp reset) */
    int htb;     /* tc htb qdisc */
    int tbf;     /* tc tbf qdisc */
    int netem;   /* tc netem qdisc (CONFIG_NET_SCH_NETEM) */
} netns_support;

typedef struct netns {
    char srv[64], cli[64];       /* namespace names: rtchaos-<pid>-srv, rtchaos-<pid>-cli */
    char srv_if[16], cli_if[16]; /* the veth pair's ends, one in each namespace */
    int srv_fd, cli_fd;          /* open /run/netns/<name> (-1 when not open) */
    int orig_fd;                 /* the creating thread's namespace before netns_enter_server */
    int entered;                 /* the creating thread is in the server namespace */
    unsigned ngroups;
    int created;                 /* namespaces exist (netns_destroy removes them) */
} netns;

/* 0 when this process may create namespaces and configure them (CAP_NET_ADMIN
 * and CAP_SYS_ADMIN in its effective set, which root has); -1 with a message
 * that says what is missing and how to run it otherwise. */
int netns_privileged(char *err, size_t errlen);

/* Removes every rtchaos-<pid>-* namespace whose <pid> is not a running
 * rtchaos (a run killed with SIGKILL leaves its namespaces; their veth pair
 * and nftables table live inside and go with them). Sets *removed. Returns
 * 0, or -1 with err when one could not be removed. */
int netns_clean_stale(unsigned *removed, char *err, size_t errlen);

/* Probes what the kernel supports in a short-lived namespace of its own
 * (rtchaos-<pid>-probe, removed before returning). Returns 0, or -1 with err
 * when ip/nft/tc are missing or namespaces cannot be made at all. */
int netns_probe(netns_support *sup, char *err, size_t errlen);

/* Creates the run's namespaces: veth pair, NETNS_SERVER_ADDR on the server
 * end, NETNS_CLIENT_ADDR and one address per client group on the clients'
 * end, loopback up in both (the faults' nftables tables are made later, by
 * netfault_apply, inside the namespaces). Returns 0, or -1 with err; call
 * netns_destroy in every case afterwards (it removes what was made). */
int netns_create(netns *n, unsigned ngroups, char *err, size_t errlen);

/* Moves the calling thread into the server namespace (setns affects only
 * the calling thread; processes it forks and threads it creates afterwards
 * are born there). Returns 0, or -1 with err. */
int netns_enter_server(netns *n, char *err, size_t errlen);

/* Moves the calling thread into the clients' namespace and stores its
 * previous namespace (an fd the caller closes with netns_leave). Used around
 * the creation of the fleet's loop threads. Returns 0, or -1 with err. */
int netns_enter(int ns_fd, int *prev_fd, char *err, size_t errlen);
/* Returns the calling thread to prev_fd (from netns_enter) and closes it.
 * Returns 0, or -1 with err. */
int netns_leave(int prev_fd, char *err, size_t errlen);

/* Returns the creating thread to its own namespace and removes both
 * namespaces (and with them the veth pair and the nftables table). Safe to
 * call on a zeroed or half-created netns and twice. Returns 0, or -1 with
 * err when something could not be removed. */
int netns_destroy(netns *n, char *err, size_t errlen);

/* Group g's source address inside the clients' namespace. */
void netns_group_addr(unsigned g, char *buf, size_t cap);

/* Runs argv (argv[0] looked up in PATH) inside namespace ns (NULL = the
 * caller's), stdin from `input` (NULL = nothing), under a deadline of 10 s.
 * When out is not NULL, *out is its stdout (malloc'd, NUL-terminated; the
 * caller frees it, also on failure). Returns 0 when it exited 0; -1 with its
 * stderr (or why it could not run) in err. */
int netns_exec(const char *ns, char *const argv[], const char *input, char **out, char *err, size_t errlen);

/* TCP figures of one namespace from /proc/net/snmp and /proc/net/netstat,
 * and its connections by state from /proc/net/tcp: a JSON object
 * {"retrans_segs","out_segs","in_segs","active_opens","passive_opens",
 *  "estab_resets","attempt_fails","out_rsts","timeouts","lost_retransmits",
 *  "syn_retrans","states":{"ESTABLISHED":n,…},"link_states":{…},
 *  "sockets_retransmitting"} (new reference), or NULL with err.
 * link_states counts only connections across the veth link (peer in the
 * run's subnet and not the local address). */
json_t *netns_tcp_sample(const char *ns, char *err, size_t errlen);

#endif
