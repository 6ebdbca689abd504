/* toxic.h — the fault ("toxic") interface: toxic types in a registry, toxic
 * objects created through the API, and the environment a toxic's
 * per-connection state runs in (one direction of one proxied connection). */
#ifndef RTCHAOS_TOXIC_H
#define RTCHAOS_TOXIC_H
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "prng.h"

struct ws_pmd;

#define TOXIC_NAME_MAX 128
#define TOXIC_TARGET_MAX 256

enum { TX_UPSTREAM = 0, TX_DOWNSTREAM = 1 };

typedef enum tx_close {
    TX_CLOSE_FIN = 0, /* drain what is buffered toward both peers, then close */
    TX_CLOSE_RST = 1, /* abort both sockets at once (SO_LINGER 0: TCP RST) */
} tx_close;

/* What a toxic's state may do to the link it runs on. The link (or a unit
 * test) supplies it; `now_us` is the injected monotonic clock and `rng` the
 * stage's own seeded generator, so every decision is reproducible. */
typedef struct tx_env {
    uint64_t now_us;
    prng *rng;
    /* Message-aware toxics are fed even while their schedule or targeting
     * keeps them off (so their parser stays in step); they act only while
     * active is 1. Byte-stream toxics are only called when active. */
    int active;
    void *u;
    /* Passes bytes on to the next stage (or the destination socket). */
    void (*emit)(void *u, const unsigned char *data, size_t len);
    /* Passes the source's end of stream (FIN) on. */
    void (*emit_eof)(void *u);
    /* Ends the whole connection (both directions). */
    void (*close)(void *u, tx_close how);
    /* Records an action in the event log; detail (may be NULL) is a JSON
     * object whose fields are added to the event line; the call steals it. */
    void (*record)(void *u, const char *action, json_t *detail);
    /* Reports how late (µs) held data went out after its due time: the
     * proxy's own timing error, kept per toxic for /metrics. May be NULL. */
    void (*lateness)(void *u, uint64_t late_us);
    /* The connection's permessage-deflate parameters (ws_deflate.h), known
     * once the 101 response has passed; NULL when not followed. */
    const struct ws_pmd *pmd;
} tx_env;

/* A toxic type: what the registry maps a name to. Attributes live in a
 * type-specific struct of attrs_size bytes, per-connection state in one of
 * state_size bytes (zeroed before start). Every hook except parse/to_json
 * runs on the event loop for one stage; none may block. */
typedef struct toxic_type {
    const char *name;
    size_t attrs_size;
    size_t state_size;
    /* Fills attrs with the defaults. */
    void (*defaults)(void *attrs);
    /* Applies the JSON object obj onto attrs: keys absent keep their value.
     * An unknown key or a bad value → -1 with a message in err (attrs may be
     * partly changed: callers parse into a copy). */
    int (*parse)(void *attrs, json_t *obj, char *err, size_t errlen);
    /* New JSON object of the attributes (caller owns the reference). */
    json_t *(*to_json)(const void *attrs);
    /* Per-connection hooks; NULL ones mean pass-through. */
    void (*start)(void *st, const void *attrs, tx_env *env);
    void (*data)(void *st, const void *attrs, tx_env *env, const unsigned char *d, size_t n);
    void (*eof)(void *st, const void *attrs, tx_env *env);
    /* Releases what is due at env->now_us; returns the next deadline in µs
     * (monotonic) or 0 when nothing is pending. */
    uint64_t (*tick)(void *st, const void *attrs, tx_env *env);
    /* The toxic is being removed or switched off: pass on everything held
     * (data and a held end of stream) at once, so no byte is lost. */
    void (*flush)(void *st, const void *attrs, tx_env *env);
    /* Frees what the state owns (not the state itself). */
    void (*stop)(void *st);
    /* Bytes the state holds (for back-pressure); NULL means none. */
    size_t (*held)(const void *st);
    /* Connection-level toxics (refuse): decides at accept time. Returns
     * TX_ACCEPT_* ; NULL for stream toxics. */
    int (*accept)(const void *attrs);
    /* Message-aware types: the protocol they read with these attributes
     * (TX_PROTO_WS / TX_PROTO_SSE), or 0 for a plain byte stream. NULL:
     * always 0. Such a toxic runs ahead of the byte-stream toxics of its
     * direction, so it sees the bytes exactly as the peer sent them. */
    int (*protocol)(const void *attrs);
    /* Starts the state of a message-aware toxic added to a connection that
     * is already past its first byte, at a boundary of the link's tracker
     * (struct track *). NULL: start() from scratch. */
    void (*resume)(void *st, const void *attrs, tx_env *env, const void *track);
    /* Message-aware types whose removal must wait until their reader stands
     * between messages (so the rest of the stream can go on raw). NULL:
     * can be removed any time. */
    int (*at_boundary)(const void *st);
    /* Per-action names (ws_drop …, built by the registry): the value its
     * "action" attribute starts with. NULL for the types themselves. */
    const char *preset_action;
} toxic_type;

enum { TX_PROTO_NONE = 0, TX_PROTO_WS = 1, TX_PROTO_SSE = 2 };

enum { TX_ACCEPT_PASS = 0, TX_ACCEPT_CLOSE = 1, TX_ACCEPT_RESET = 2 };

/* Targeting and scheduling attributes every toxic accepts (in "attributes"
 * next to its own). Times are ms; 0 means "not set". */
typedef struct tx_common {
    int has_seed;
    uint64_t seed;
    char target_client[TOXIC_TARGET_MAX]; /* "" any; exact address or IPv4 CIDR */
    char target_path[TOXIC_TARGET_MAX];   /* "" any; request path prefix */
    int64_t after_messages; /* inactive until this many whole messages passed
                             * (per connection, in the toxic's direction); the
                             * times below then count from that moment */
    int64_t after_ms;     /* inactive for this long from the base time */
    int64_t for_ms;       /* then active for this long (0: for ever) */
    int64_t flap_on_ms;   /* while active: on for flap_on_ms, off for flap_off_ms, … */
    int64_t flap_off_ms;
    int per_connection;   /* base time: 1 connection start, 0 toxic creation */
} tx_common;

/* A toxic as the API sees it: owned by its proxy. */
typedef struct toxic {
    char name[TOXIC_NAME_MAX];
    const toxic_type *type;
    int stream;                /* TX_UPSTREAM or TX_DOWNSTREAM */
    double toxicity;           /* probability a connection gets it, drawn once */
    tx_common common;
    uint64_t created_us;       /* monotonic */
    void *attrs;               /* type->attrs_size bytes, owned */
    /* counters for /metrics */
    int refs;                  /* stages running it (a removed toxic lives on while > 0) */
    struct hist *late;         /* release lateness, µs (NULL until first use) */
    int removed;
    uint64_t n_applied;        /* connections the toxic applies to */
    uint64_t n_skipped;        /* connections it was drawn or targeted away from */
#define TOXIC_ACTIONS_MAX 16
    struct { const char *action; uint64_t n; } actions[TOXIC_ACTIONS_MAX];
} toxic;

/* Looks a toxic type up by name; NULL when unknown. */
const toxic_type *toxic_registry_find(const char *name);
/* The registered types, NULL-terminated (for docs and tests). */
const toxic_type *const *toxic_registry_all(void);

/* Fills attrs (ty->attrs_size bytes) with ty's defaults, its preset action
 * included. */
void toxic_type_defaults(const toxic_type *ty, void *attrs);

/* Builds a new toxic from the API's JSON body
 * {"name","type","stream","toxicity","attributes"} (defaults: stream
 * downstream, toxicity 1, name <type>_<stream>). Returns NULL with a message
 * in err (the API answers 400). Caller frees with toxic_free. */
toxic *toxic_new_json(json_t *body, uint64_t now_us, char *err, size_t errlen);
/* Applies an update body ({"attributes":{…},"toxicity":…}) atomically: on
 * error nothing changes. Returns 0 or -1 with err. */
int toxic_update_json(toxic *t, json_t *body, char *err, size_t errlen);
/* The API's JSON for t: {"attributes","name","type","stream","toxicity"}. */
json_t *toxic_to_json(const toxic *t);
void toxic_free(toxic *t);

/* Counts one action for /metrics (the string must be static). */
void toxic_count_action(toxic *t, const char *action);

/* Whether the schedule of c is in its active phase at now_us, counted from
 * base_us. Pure function, so it is unit-tested with an injected clock. When
 * next_us is not NULL it receives the next time the answer may change (0:
 * never). */
int toxic_schedule_active(const tx_common *c, uint64_t base_us, uint64_t now_us,
                          uint64_t *next_us);
/* Per-connection state of a schedule that counts messages. */
typedef struct tx_sched {
    int armed;           /* after_messages have passed */
    uint64_t origin_us;  /* when they had: the origin of the times then */
} tx_sched;
/* Whether the schedule of c is active at now_us on one connection, where
 * msgs whole messages have passed in the toxic's direction since the toxic
 * started there. Without after_messages this is toxic_schedule_active from
 * base_us; with it, the schedule is off until msgs reaches after_messages,
 * and its times (after_ms, for_ms, flapping) count from the first call that
 * sees it reached. Pure but for *st, so it is unit-tested with an injected
 * clock. *next_us as for toxic_schedule_active (0 while waiting for
 * messages: only a message can change the answer). */
int toxic_schedule_step(const tx_common *c, tx_sched *st, uint64_t base_us, uint64_t msgs,
                        uint64_t now_us, uint64_t *next_us);
/* Whether client address addr (text form) matches target (exact, or IPv4
 * CIDR a.b.c.d/n). An empty target matches everything. */
int toxic_target_client_match(const char *target, const char *addr);

/* Attribute helpers for the types' parse functions: read an integer / a
 * number / one of a fixed set of strings from v, checking bounds. Return 0,
 * or -1 with "attribute KEY: …" in err. */
int tx_attr_int(json_t *v, const char *key, int64_t min, int64_t max, int64_t *out,
                char *err, size_t errlen);
int tx_attr_num(json_t *v, const char *key, double min, double max, double *out,
                char *err, size_t errlen);
int tx_attr_enum(json_t *v, const char *key, const char *const *names, int *out,
                 char *err, size_t errlen);
/* "unknown attribute KEY for toxic TYPE" into err; returns -1. */
int tx_attr_unknown(const char *type, const char *key, char *err, size_t errlen);

#endif
