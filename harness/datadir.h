/* datadir.h — where an installed rtchaos finds its shipped scenarios and
 * suites, so `rtchaos run smoke` and `rtchaos run suites/rfp` work from any
 * folder as well as `rtchaos run path/to/file.yaml`. */
#ifndef RTCHAOS_DATADIR_H
#define RTCHAOS_DATADIR_H
#include <stddef.h>

/* Folders searched for a scenario given by name, in order (each holds the
 * shipped scenarios/ tree as the source tree has it):
 *   $RTCHAOS_DATADIR/scenarios          when the variable is set
 *   EXE_DIR/../share/rtchaos/scenarios  an installed copy (make install, the .deb)
 *   EXE_DIR/../scenarios                the source tree (bin/rtchaos)
 * exe_dir is the folder of the running rtchaos. Writes the ones that exist
 * (at most cap, resolved to absolute paths) into dirs and returns how many. */
size_t datadir_scenario_dirs(const char *exe_dir, char dirs[][4096], size_t cap);

/* Resolves what the user typed into a readable file: the argument itself
 * (with ".yaml" added when it has no extension), then NAME and NAME.yaml in
 * every folder above. An absolute path, or one starting with ./ or ../, is
 * taken as it is (the loader reports a missing file). Returns 0 with the path
 * in out, or -1 with err listing every place it looked. */
int datadir_find(const char *arg, const char *exe_dir, char *out, size_t outlen, char *err, size_t errlen);

#endif
