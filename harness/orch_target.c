/* orch_target.c — the --target URL (scheme, host, port, path prefix) and whether a host:port accepts connections. */
#include "orch_int.h"

#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int orch_target_tls(const char *url)
{
    return strncmp(url, "https://", 8) == 0 || strncmp(url, "wss://", 6) == 0;
}

int orch_parse_target(const char *url, char *host, size_t hostcap, uint16_t *port, char *prefix, size_t prefixcap,
                      char *err, size_t errlen)
{
    const char *p = url;
    /* ws:// / wss:// name the same server as http:// / https:// (the fleet
     * picks WS, SSE or poll per group) */
    if (strncmp(p, "http://", 7) == 0)
        p += 7;
    else if (strncmp(p, "https://", 8) == 0)
        p += 8;
    else if (strncmp(p, "ws://", 5) == 0)
        p += 5;
    else if (strncmp(p, "wss://", 6) == 0)
        p += 6;
    else {
        orch_sfmt(err, errlen, "--target %s: expected http://HOST:PORT[/PREFIX] or https://HOST:PORT[/PREFIX]", url);
        return -1;
    }
    const char *slash = strchr(p, '/');
    size_t hl = slash ? (size_t)(slash - p) : strlen(p);
    /* a path is a prefix every request goes under (a service behind a
     * reverse proxy at /rt/…): kept without its trailing slashes */
    size_t pl = slash ? strlen(slash) : 0;
    while (pl > 0 && slash[pl - 1] == '/')
        pl--;
    for (size_t i = 0; i < pl; i++) {
        unsigned char ch = (unsigned char)slash[i];
        if (!(isalnum(ch) || strchr("/-._~%!$&'()*+,;=:@", ch))) {
            orch_sfmt(err, errlen, "--target %s: the path prefix may not contain '%c' (no query or fragment; "
                 "percent-encode other bytes)", url, ch >= 0x20 && ch < 0x7f ? ch : '?');
            return -1;
        }
        if (ch == '/' && i + 1 < pl && slash[i + 1] == '/') {
            orch_sfmt(err, errlen, "--target %s: empty segment ('//') in the path prefix", url);
            return -1;
        }
        /* a dot segment would be resolved by some servers and refused by
         * others (wire contract §1): the prefix names the path as sent */
        size_t seg = i + 1, dots = 0;
        while (ch == '/' && seg + dots < pl && slash[seg + dots] == '.')
            dots++;
        if (ch == '/' && (dots == 1 || dots == 2) && (seg + dots == pl || slash[seg + dots] == '/')) {
            orch_sfmt(err, errlen, "--target %s: dot segment ('.' or '..') in the path prefix", url);
            return -1;
        }
    }
    if (pl + 1 > prefixcap || pl > FLEET_PREFIX_MAX) {
        orch_sfmt(err, errlen, "--target %s: the path prefix is longer than %d bytes", url, FLEET_PREFIX_MAX);
        return -1;
    }
    memcpy(prefix, slash ? slash : "", pl);
    prefix[pl] = '\0';
    char hp[300];
    if (hl == 0 || hl >= sizeof hp) {
        orch_sfmt(err, errlen, "--target %s: expected http://HOST:PORT", url);
        return -1;
    }
    memcpy(hp, p, hl);
    hp[hl] = '\0';
    char *colon = strrchr(hp, ':');
    if (!colon || colon == hp) {
        orch_sfmt(err, errlen, "--target %s: expected a port (http://HOST:PORT)", url);
        return -1;
    }
    *colon = '\0';
    char *end;
    long v = strtol(colon + 1, &end, 10);
    if (*end || v <= 0 || v > 65535) {
        orch_sfmt(err, errlen, "--target %s: port must be 1..65535", url);
        return -1;
    }
    if (strlen(hp) >= hostcap || strlen(hp) > FLEET_HOST_MAX) {
        orch_sfmt(err, errlen, "--target %s: host name too long", url);
        return -1;
    }
    orch_sfmt(host, hostcap, "%s", hp);
    *port = (uint16_t)v;
    return 0;
}

/* Whether host:port accepts a TCP connection within timeout_ms (a --target
 * that is down is a broken run, not a failed verdict). */
int orch_tcp_reachable(const char *host, uint16_t port, unsigned timeout_ms, char *err, size_t errlen)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    char ps[8];
    orch_sfmt(ps, sizeof ps, "%u", port);
    int gai = getaddrinfo(host, ps, &hints, &res);
    if (gai != 0) {
        orch_sfmt(err, errlen, "cannot resolve %s: %s", host, gai_strerror(gai));
        return -1;
    }
    int ok = 0, last = 0;
    for (struct addrinfo *a = res; a && !ok; a = a->ai_next) {
        int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) {
            last = errno;
            continue;
        }
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
            ok = 1;
        else if (errno == EINPROGRESS) {
            struct pollfd pfd = {.fd = fd, .events = POLLOUT};
            int pr;
            do
                pr = poll(&pfd, 1, (int)timeout_ms);
            while (pr < 0 && errno == EINTR && !orch_sig);
            int soerr = 0;
            socklen_t sl = sizeof soerr;
            if (pr == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0)
                ok = 1;
            else
                last = pr == 0 ? ETIMEDOUT : soerr ? soerr : errno;
        } else
            last = errno;
        close(fd);
    }
    freeaddrinfo(res);
    if (!ok)
        orch_sfmt(err, errlen, "%s:%u does not accept connections: %s", host, port, strerror(last));
    return ok ? 0 : -1;
}
