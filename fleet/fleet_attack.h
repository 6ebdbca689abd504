/* fleet_attack.h — the fleet's attackers' tallies: how the server answered each abusive attempt (outcome, time to the refusal, messages it accepted first), in report.json's "attacks" form (merged by reports/report_merge.h's rmerge_attack). */
#ifndef RTCHAOS_FLEET_ATTACK_H
#define RTCHAOS_FLEET_ATTACK_H
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "fleet.h"
#include "hist.h"

/* Outcome codes besides a WS close code (1000..4999) or an HTTP status
 * (100..599) the server answered with. */
#define FLEET_ATTACK_NOT_REJECTED (-1) /* the server let the attempt be for `patience` */
#define FLEET_ATTACK_OUTCOMES 16       /* distinct outcomes kept per tally; the rest count as "other" */

/* One tally per attacker group (per thread while running, summed at stop).
 * An attempt is one connection that was established; it settles with the
 * server's answer or with NOT_REJECTED; one still unsettled when the run
 * ends is only counted in in_flight. */
typedef struct fleet_attack_tally {
    uint64_t attempts;        /* settled attempts = rejected + unexpected + not_rejected */
    uint64_t rejected;        /* answered with an expected outcome */
    uint64_t unexpected;      /* answered otherwise (another code, a 200, …) */
    uint64_t not_rejected;    /* not refused within patience */
    uint64_t in_flight;       /* unsettled when the run ended */
    uint64_t connect_failed;  /* TCP connect refused or timed out (not an attempt) */
    uint64_t sent;            /* FLOOD: messages sent, SLOWLORIS: bytes trickled, OVERSIZED: bytes sent */
    uint64_t accepted;        /* FLOOD: messages the server answered normally (pongs) before refusing */
    struct { int code; uint64_t n; } by[FLEET_ATTACK_OUTCOMES];
    unsigned n_by;
    uint64_t other;           /* outcomes past FLEET_ATTACK_OUTCOMES distinct ones */
    hist *cut;                /* connected → the server's answer, µs (answered attempts only); owned */
} fleet_attack_tally;

/* Allocates the tally's histogram. Returns 0, or -1 (out of memory). */
int fleet_attack_tally_init(fleet_attack_tally *t);
void fleet_attack_tally_free(fleet_attack_tally *t);
/* dst += src (exact). */
void fleet_attack_tally_merge(fleet_attack_tally *dst, const fleet_attack_tally *src);

/* Whether outcome `code` counts as rejected as documented for group g
 * (its expect list, or the behaviour's default). */
int fleet_attack_expected(const fleet_group_cfg *g, int code);

/* Records one settled attempt of group g: its outcome, the time from
 * connecting to the server's answer (ignored for NOT_REJECTED), and the
 * messages/bytes it sent and got accepted. */
void fleet_attack_settle(fleet_attack_tally *t, const fleet_group_cfg *g, int code, uint64_t cut_us,
                         uint64_t sent, uint64_t accepted);

/* The outcome's name in report.json: "ws_4429", "http_413", "closed",
 * "not_rejected". buf must hold 24 bytes. */
const char *fleet_attack_outcome_name(int code, char *buf, size_t cap);
const char *fleet_behavior_str(fleet_behavior b);

/* The tally as report.json's attack object (new reference):
 * {clients, attempts, rejected, unexpected, not_rejected, in_flight,
 *  connect_failed, sent, accepted, by_outcome:{name:n}, cut_us:{summary…,
 *  hist}}; "behavior" and "expect" are added when g is not NULL. */
json_t *fleet_attack_json(const fleet_attack_tally *t, uint64_t clients, const fleet_group_cfg *g);

#endif
