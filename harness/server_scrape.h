/* server_scrape.h — what the server says while the clients measure: a
 * thread that scrapes the server's Prometheus /metrics during a run, and
 * the report part that sets those figures beside the clients' and flags a
 * server that says "delivered" while the clients say "lost". */
#ifndef RTCHAOS_SERVER_SCRAPE_H
#define RTCHAOS_SERVER_SCRAPE_H
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

typedef struct sscrape sscrape;

/* Parses the Prometheus text page text into the figures the report uses
 * (rtchaos-server's metric names, docs/server.md): a new object
 * {connections:{ws,sse,poll}, subscriptions, sendq_messages,
 * sendq_max_messages, sendq_bytes, written_live, written_replay,
 * published, dropped, coalesced, shed, gaps_sent, snapshots_sent,
 * rejections, heartbeats, "lat_le":[[le_s, cumulative], …],
 * "backpressure":{"POLICY/ACTION": n}, broker_lag_le, broker_lag_count},
 * and for
 * rtchaos-proxy's page {proxy_connections, proxy_connections_total,
 * proxy_bytes_downstream, proxy_bytes_upstream, toxic_actions:{action: n}};
 * members the
 * page lacks are absent. NULL when the page has no rtchaos_ series at all
 * (not an rtchaos-compatible server) or when out of memory. */
json_t *sscrape_parse(const char *text);

/* Starts scraping http://host:port<path> every interval_ms from a thread
 * of its own (t_s in samples is seconds since t0_mono_us). Each request has
 * a deadline of interval_ms (a paused or killed server costs the thread,
 * never the run). Returns NULL with a message in err when the thread
 * cannot start. */
sscrape *sscrape_start(const char *host, uint16_t port, const char *path, uint64_t t0_mono_us,
                       unsigned interval_ms, char *err, size_t errlen);

/* Takes one last sample, stops the thread and frees s; returns the
 * report's "server" object: {"url", "interval_ms", "samples":[{t_s, …figures}
 * | {t_s, "error"}], "scrape_errors", "final": the last good sample}.
 * New reference (NULL when out of memory). NULL s gives NULL. */
json_t *sscrape_finish(sscrape *s);

/* Completes the report's "server" object (report.server) against the
 * clients' figures already in report: "compare" rows (server figure, client
 * figure; with report.proxy_metrics also the proxy's dropped messages)
 * and "flag": null, or a sentence when clients lost events the
 * server reports neither dropping nor announcing as gaps/snapshots
 * ("server_says_delivered") or when the server wrote fewer events than the
 * clients received. Returns 0, or -1 when out of memory. */
int sscrape_compare(json_t *report);

#endif
