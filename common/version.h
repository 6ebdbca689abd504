/* version.h — the one version of every rtchaos binary and report.
 *
 * The text comes from the VERSION file at the top of the tree; in a git
 * checkout the build adds `git describe` (commit, -dirty) after a '+', so two
 * builds of different commits never print the same version. The Makefile
 * writes it, and version_print, into $(BUILD)/gen/version.c (mk/version.mk):
 * generated, so no object of common/ needs a build-time define. */
#ifndef RTCHAOS_VERSION_H
#define RTCHAOS_VERSION_H

#include <stdio.h>

/* e.g. "0.9.0" (a release tarball) or "0.9.0+436f20f-dirty" (a checkout) */
extern const char rtchaos_version[];

/* Prints "NAME VERSION\n" to f: what every binary's --version answers. */
void version_print(FILE *f, const char *name);

#endif
