/* proxy_int.h — internal to fault-injector/: the proxy's structs, shared by
 * proxy.c (listeners, proxies, the API's changes) and relay.c (each
 * connection's bytes: toxic stages, relay and splice, its life; relay.h).
 * Everything runs on the loop's thread. */
#ifndef RTCHAOS_PROXY_INT_H
#define RTCHAOS_PROXY_INT_H

#include "proxy.h"
#include "dheap.h"
#include "prng.h"
#include "track.h"
#include "upool.h"

#include <sys/socket.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>

typedef struct conn conn;
typedef struct dlink dlink;

/* One toxic running on one direction of one connection. Owned by its link;
 * freed when the toxic is removed or the connection closes. */
typedef struct stage {
    toxic *tx;
    dlink *l;
    int idx;           /* position in l->st */
    int decided;       /* toxicity and targeting drawn */
    int applies;
    int active;        /* schedule phase at the last look */
    int proto;         /* TX_PROTO_*: message-aware stages read this protocol */
    int pending;       /* added mid-stream: waits for the tracker's next boundary */
    int retiring;      /* removed: runs inactive until its reader is at a boundary */
    double drawn_toxicity;
    uint64_t base_us;  /* schedule origin */
    uint64_t msg_base; /* the link's message count when the stage started */
    tx_sched sched;    /* after_messages: whether they passed, and when */
    int msg_noted;     /* the "no messages" event was recorded */
    uint64_t next_us;  /* earliest deadline (timer or schedule edge) at the last run */
    prng rng;
    tx_env env;
    unsigned char state[];
} stage;

/* One direction: bytes read from src go through the stages to dst. */
struct dlink {
    conn *c;
    int dir;                 /* TX_UPSTREAM: client → server */
    struct bufferevent *src, *dst;
    stage **st;
    int n, cap;
    int src_eof;             /* the source sent FIN (or failed) */
    int out_eof;             /* FIN reached the end of the chain */
    int out_shut;            /* shutdown(SHUT_WR) done on dst */
    uint64_t bytes;
    track trk;               /* WS/SSE framing from the first byte */
    int trk_on;
    uint64_t msgs;           /* whole messages pushed through the stages so far */
    /* Splice mode: while a direction has no toxic and no protocol to
     * follow, its bytes go socket → pipe → socket inside the kernel
     * (splice(2)), as haproxy's splice option does: no copy to user space.
     * sp: 0 off, 1 on, 2 leaving (the pipe drains, then bufferevents again). */
    int sp;
    int sp_pipe[2];
    size_t sp_bytes;         /* bytes in the pipe */
    size_t sp_cap;           /* the pipe's capacity */
    int bulk_reads;          /* relay reads in a row of SPLICE_BULK_BYTES or more */
    /* Relay mode: what is read from src goes straight to dst (see
     * RELAY_BYTES); rl_rd replaces the bufferevent's reading. */
    int rl;
    struct event *rl_rd;
    int small_reads;         /* splice reads in a row under SPLICE_SMALL_BYTES */
    struct event *sp_rd, *sp_wr;
};

/* One accepted client and its upstream connection. Owned by its proxy;
 * freed by conn_free once closed, never from inside its own callbacks
 * (busy counts the nesting; the free happens when the outermost returns). */
struct conn {
    proxy *p;
    uint64_t id;
    uint64_t seed;
    uint64_t start_us;
    struct bufferevent *cli, *srv;
    dlink up, down;
    dheap_node deadline;     /* in the server's deadline heap while it has one */
    int connected;
    int rst;                 /* abort with RST when freed */
    int busy;
    int closing;             /* 1: FIN requested, draining; 2: free now */
    uint64_t close_deadline_us;
    ws_pmd pmd;              /* permessage-deflate, from the 101 response */
    char client_addr[64];
    int up_idx;              /* the pool's upstream it went to, or -1 (upool.h) */
    uint64_t src_hash;       /* client IP, for balance source */
    char path[256];
    int path_state;          /* 0 unknown, 1 known, 2 not HTTP */
    size_t sniffed;
    conn *prev, *next;
};

struct proxy {
    proxy_server *s;
    char name[PROXY_NAME_MAX];
    char listen[PROXY_ADDR_MAX];
    char upstream[PROXY_ADDR_MAX];
    int enabled;
    struct evconnlistener *lev;
    struct event *accept_pause;  /* re-enables the listener after an accept error */
    struct sockaddr_storage up_addr;
    socklen_t up_len;
    /* the upstream pool ("upstreams", "balance"); pool.n == 0: none, every
     * connection goes to upstream */
    upool pool;
    char pool_name[UPOOL_MAX][PROXY_ADDR_MAX];
    struct sockaddr_storage pool_addr[UPOOL_MAX];
    socklen_t pool_len[UPOOL_MAX];
    /* active health: a TCP connect to each upstream every POOL_PROBE_MS */
    struct event *probe_tick;
    struct pool_probe *probe[UPOOL_MAX];
    toxic **tx;
    int ntx, captx;
    conn *conns;
    uint64_t next_conn_id;
    uint64_t name_hash;
    /* counters */
    uint64_t n_conns, n_active, n_refused, n_upstream_fail, bytes_up, bytes_down, bytes_spliced;
    uint64_t n_splice_enter, n_splice_leave;
    proxy *next;
};

struct proxy_server {
    struct event_base *base;
    uint64_t seed;
    int no_splice;
    evlog *log;
    proxy *head;
    size_t n;
    /* Every connection deadline (toxic timers, drain deadlines), behind
     * one timerfd (dheap.h says why not libevent's timers). */
    dheap deadlines;
    struct event *tev;       /* reads the heap's timerfd */
    size_t conns_open;       /* over every proxy: the heap has room for each */
};

#endif
