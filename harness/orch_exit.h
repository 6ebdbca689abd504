/* orch_exit.h — the exit codes of `rtchaos run` (and of a suite), also
 * report.json's "exit_code": decided by the report (orch_report.c), returned
 * by orch_run, documented in README and man/rtchaos.1. */
#ifndef RTCHAOS_ORCH_EXIT_H
#define RTCHAOS_ORCH_EXIT_H

#define ORCH_EXIT_PASS   0  /* every verdict passed */
#define ORCH_EXIT_FAILED 1  /* a verdict failed */
#define ORCH_EXIT_USAGE  2  /* invalid scenario or command line */
#define ORCH_EXIT_BROKEN 3  /* the run itself broke (a process died, a port was taken, interrupted) */

#endif
