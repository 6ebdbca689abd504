/* broker.h — brokered multi-node (--redis): channels shared by several
 * rtchaos-server nodes through Redis. Per channel Redis holds the one seq
 * counter, the history (a Stream trimmed to --history-max), the epoch and
 * the idempotency ids; a Lua script does them atomically and PUBLISHes the
 * event; every node subscribes to the channels it uses and delivers in seq
 * order (brokerseq.h), filling holes from the stream. All calls are hiredis
 * async on the server's libev loop: nothing here blocks. */
#ifndef RTCHAOS_SERVER_BROKER_H
#define RTCHAOS_SERVER_BROKER_H
#include <stddef.h>
#include <stdint.h>

struct ev_loop;
struct srv;
struct channel;
struct session;

/* A publish that has not been answered this long gets 503 (the event may
 * still land: a retry with the same id is answered with its seq). */
#define BROKER_PUBLISH_TIMEOUT_MS 2000
/* Reconnect attempts and the health PING, this often. */
#define BROKER_TICK_MS 250
/* after Redis refused the credentials: wait this long before connecting again */
#define BROKER_AUTH_RETRY_MS 2000

typedef struct broker broker;

/* Parses url (redis://HOST:PORT[/DB]) and starts connecting on loop; S->bk
 * is set. Returns 0, or -1 with err (bad URL, no memory). The link comes up
 * (and back) on its own. */
int broker_start(struct srv *S, struct ev_loop *loop, const char *url, char *err, size_t errlen);
/* Closes the links; pending publishes are dropped unanswered (their
 * sessions are going away). Before channels are freed. */
void broker_stop(struct srv *S);

/* Whether a publish can be accepted now (the command link is up and Redis
 * answers). */
int broker_up(const broker *b);

/* A channel was created on this node: subscribe and load its state. */
void broker_channel_new(struct srv *S, struct channel *ch);

/* Publishes n events (compact JSON data, ts, optional id each) to ch for
 * session s; the answer goes to publish_answer. Returns 0, or -1 with err. */
typedef struct broker_item {
    const char *data;
    size_t data_len;
    int64_t ts_us;
    const char *idem;
} broker_item;
int broker_publish(struct srv *S, struct session *s, struct channel *ch, const broker_item *items,
                   size_t n, int is_batch, int tr, int want_ack, char *err, size_t errlen);

/* The session is going away: its pending publishes will not answer it. */
void broker_session_gone(struct session *s);

/* Appends the broker's Prometheus text to *text (realloc'd). 0 or -1. */
int broker_metrics_append(const broker *b, char **text, size_t *len);

#endif
