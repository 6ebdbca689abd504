/* windows.h — live latency inside and outside the fault windows, from report.json's timeline. */
#ifndef RTCHAOS_WINDOWS_H
#define RTCHAOS_WINDOWS_H
#include <jansson.h>
#include <stddef.h>

/* Seconds after a fault window ends that still count as "during" it: events
 * published inside the window arrive after it (a 200 ms latency toxic delays
 * what it held), and clients it cut are still resyncing. */
#define WINDOWS_GRACE_S 0.5

/* Adds latency_us.live_outside_faults and latency_us.live_during_faults to
 * report (which must already hold "timeline" and "faults"): the live latency
 * of every timeline second that does / does not overlap a fault window
 * [from_s, to_s + WINDOWS_GRACE_S] (each on/off pair of a flapping fault; an
 * instantaneous fault such as a disconnect counts as one second long). Each
 * has the form of the other latency_us members ({"count","p50",…,"hist"})
 * plus "resolution_pct":3: it is built from the timeline's coarse buckets
 * (within ~3%), each recorded at its highest value, so its "hist" merges
 * exactly across shards. A run with no faults has everything outside.
 * Returns 0, or -1 with a message in err when the timeline is malformed (the
 * report is then left without the two objects). */
int windows_add_live(json_t *report, char *err, size_t errlen);

#endif
