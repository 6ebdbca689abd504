/* evlog.h — the proxy's action log: one JSON line per action (µs wall time,
 * proxy, connection id, toxic, action, details), kept in a bounded ring for
 * GET /events and appended to a file when one is given. */
#ifndef RTCHAOS_EVLOG_H
#define RTCHAOS_EVLOG_H
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <event2/buffer.h>

typedef struct evlog evlog;

/* Opens the log; path may be NULL (ring only). ring_cap lines are kept in
 * memory (older ones are dropped from the ring, never from the file).
 * Returns NULL with err. Not thread-safe (one event loop). */
evlog *evlog_new(const char *path, size_t ring_cap, char *err, size_t errlen);
void evlog_free(evlog *l);

/* Appends one event. proxy/toxic may be NULL; conn 0 means "no connection".
 * detail (may be NULL) is a JSON object whose fields are added to the line;
 * the call steals the reference. action is copied. */
void evlog_add(evlog *l, const char *proxy, uint64_t conn, const char *toxic,
               const char *action, json_t *detail);

/* Writes {"next":N,"first":F,"events":[…]} into out: the events whose index
 * is >= since (when since < 10^12) or whose t_us is >= since (otherwise),
 * at most max of them. `next` is the index to ask for next time; `first`
 * the oldest index still in the ring. */
void evlog_write_since(evlog *l, uint64_t since, size_t max, struct evbuffer *out);

/* Number of events logged so far (the next index). */
uint64_t evlog_count(const evlog *l);

#endif
