/* sec_file.h — reading the security configuration files (key files, the
 * policy, the revocation list) whole, bounded in size. */
#ifndef RTCHAOS_SEC_FILE_H
#define RTCHAOS_SEC_FILE_H
#include <stddef.h>

/* Reads the file at path into a malloc'd buffer, NUL-terminated (the NUL is
 * not counted in *len). A file over max_bytes is an error ("PATH: larger
 * than 16 KiB"), as are an unreadable file and no memory; err names the
 * path. The buffer is wiped before it is freed on an error, and the reads
 * grow it without leaving copies behind for files up to 64 KiB (key files),
 * so a secret is never left in freed memory by this function. The caller
 * frees the result (wiping it first when it holds a secret). */
char *sec_file_read(const char *path, size_t max_bytes, size_t *len, char *err, size_t errlen);

#endif
