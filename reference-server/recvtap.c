/* recvtap.c — hands the bytes libwebsockets reads from a connection to
 * rawtarget.c before lws parses them.
 *
 * Why a recv() of our own. lws 4.1 decodes and rewrites each request path as
 * it parses it and keeps no raw copy (rawtarget.h), and it offers no hook
 * between its read(2)-level input and its parser. It reads every plain
 * (non-TLS) socket with recv(fd, buf, len, 0) (lws_ssl_capable_read_no_ssl).
 * A function of that name defined in the executable comes first in the
 * dynamic linker's lookup, so lws's calls land here; this one reads with
 * recvfrom(2), which is what glibc's recv does, and shows what was read to
 * the watch of that descriptor. Peeks (MSG_PEEK) are not reads and pass
 * through unshown. The server links this file in; a library user of lws
 * elsewhere would not see it. The server checks at start that the tap is the
 * one lws calls (recvtap_active) and refuses to serve without it. */
#undef _FORTIFY_SOURCE /* glibc's fortified recv is an inline wrapper of the same name */
#include <dlfcn.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "rawtarget.h"
#include "recvtap.h"

ssize_t recv(int fd, void *buf, size_t len, int flags)
{
    ssize_t n = recvfrom(fd, buf, len, flags, NULL, NULL);
    if (n > 0 && !(flags & MSG_PEEK))
        rawtarget_feed(fd, buf, (size_t)n);
    return n;
}

int recvtap_active(void)
{
    /* the global lookup lws's own reference to recv goes through */
    void *found = dlsym(RTLD_DEFAULT, "recv");
    ssize_t (*ours)(int, void *, size_t, int) = recv;
    return found && memcmp(&found, &ours, sizeof(found)) == 0;
}
