/* netns_check_main.c — bin/rtchaos-netns-check: a test-only driver that makes a scenario's network namespaces
 * and switches its kernel faults on and off on command, so tests can check each fault at the packet level. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netfault.h"
#include "netns.h"
#include "scenario.h"

/* Protocol (one line each way; stdout is flushed after every answer):
 *   start  → "ready srv=NS cli=NS srv_if=IF cli_if=IF server=ADDR GROUP=ADDR…" (or "error MSG", exit 2/3)
 *   on NAME / off NAME → "ok" | "error MSG"      apply / lift the scenario's fault NAME
 *   counters           → "counters NAME SEEN ACTED …" for every fault, then "ok"
 *   quit or EOF        → removes everything, "bye" (exit 0), or "error MSG" (exit 3)
 * Stale namespaces of dead rtchaos processes are removed at start, as the
 * harness does; the line "stale N" says how many. */
int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: rtchaos-netns-check SCENARIO.yaml\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    scenario s;
    scn_diag d;
    scn_diag_init(&d);
    scn_load_opts lo = {0};
    if (scenario_load(argv[1], &lo, &s, &d) < 0) {
        for (size_t i = 0; i < d.n; i++)
            printf("error %s\n", d.msgs[i]);
        scn_diag_free(&d);
        return 2;
    }
    scn_diag_free(&d);
    char err[1024];
    netns_support sup;
    if (netns_privileged(err, sizeof err) < 0 || netns_probe(&sup, err, sizeof err) < 0 ||
        netfault_supported(&s, &sup, err, sizeof err) < 0) {
        printf("error %s\n", err);
        scenario_free(&s);
        return 2;
    }
    unsigned removed = 0;
    if (netns_clean_stale(&removed, err, sizeof err) < 0)
        printf("error %s\n", err);
    printf("stale %u\n", removed);
    netns n = {.srv_fd = -1, .cli_fd = -1, .orig_fd = -1};
    int rc = 0;
    unsigned char *active = calloc(s.nfaults ? s.nfaults : 1, 1);
    netfault_count *counts = calloc(s.nfaults ? s.nfaults : 1, sizeof *counts);
    if (!active || !counts || netns_create(&n, (unsigned)s.nclients, err, sizeof err) < 0) {
        printf("error %s\n", active && counts ? err : "out of memory");
        rc = 3;
        goto out;
    }
    printf("ready srv=%s cli=%s srv_if=%s cli_if=%s server=%s", n.srv, n.cli, n.srv_if, n.cli_if, NETNS_SERVER_ADDR);
    for (size_t g = 0; g < s.nclients; g++) {
        char a[32];
        netns_group_addr((unsigned)g, a, sizeof a);
        printf(" %s=%s", s.clients[g].name, a);
    }
    printf("\n");
    fflush(stdout);
    char line[512];
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!strcmp(line, "quit"))
            break;
        if (!strcmp(line, "counters")) {
            memset(counts, 0, s.nfaults * sizeof *counts);
            if (netfault_read_counters(&n, s.nfaults, counts, err, sizeof err) < 0)
                printf("error %s\n", err);
            else {
                printf("counters");
                for (size_t i = 0; i < s.nfaults; i++)
                    printf(" %s %llu %llu", s.faults[i].name, counts[i].seen, counts[i].acted);
                printf("\nok\n");
            }
            fflush(stdout);
            continue;
        }
        int on = !strncmp(line, "on ", 3), off = !strncmp(line, "off ", 4);
        const char *name = on ? line + 3 : off ? line + 4 : NULL;
        size_t i = 0;
        while (name && i < s.nfaults && strcmp(s.faults[i].name, name))
            i++;
        if (!name || i == s.nfaults || s.faults[i].kind != SCN_FAULT_NETWORK) {
            printf("error unknown command or kernel fault: %s\n", line);
            fflush(stdout);
            continue;
        }
        active[i] = (unsigned char)on;
        /* counters are not accumulated here: "counters" reads the live rules */
        if (netfault_apply(&n, &s, active, i, NULL, err, sizeof err) < 0)
            printf("error %s\n", err);
        else
            printf("ok\n");
        fflush(stdout);
    }
out:
    if (netns_destroy(&n, err, sizeof err) < 0) {
        printf("error %s\n", err);
        rc = 3;
    } else if (rc == 0)
        printf("bye\n");
    fflush(stdout);
    free(active);
    free(counts);
    scenario_free(&s);
    return rc;
}
