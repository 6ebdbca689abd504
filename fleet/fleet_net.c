/* fleet_net.c — the fleet's sockets: a client's non-blocking connect (source address, small receive window) and sends that never block; shared by the subscribers (fleet_client.c) and the attackers (fleet_attack.c), so neither calls into the other. */
#include "fleet_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

int fl_socket_connect(fleet *f, uint32_t id, unsigned attempt, int small_rcvbuf, const char **why)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        *why = "socket";
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (small_rcvbuf) {
        int rcv = 4096; /* a small window so the server feels the slow reader soon */
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
    }
    /* The group's own address, else the round-robin list. Client ids run
     * over the groups in order (place_clients), so the group is found by
     * the cumulative counts. */
    struct in_addr gsrc = {0};
    uint64_t upto = 0;
    for (size_t g = 0; g < f->cfg.n_groups; g++) {
        upto += f->groups[g].count;
        if (id < upto) {
            if (f->groups[g].source_addr[0])
                inet_pton(AF_INET, f->groups[g].source_addr, &gsrc);
            break;
        }
    }
    if (f->n_src || gsrc.s_addr) {
        struct sockaddr_in sa = {0};
        sa.sin_family = AF_INET;
        sa.sin_addr = gsrc.s_addr ? gsrc : f->src[id % f->n_src];
#ifdef IP_BIND_ADDRESS_NO_PORT
        /* pick the port at connect time, by the whole 4-tuple: the same
         * local port can then serve connections to different servers */
        setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
#endif
        if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
            close(fd);
            *why = "bind";
            return -1;
        }
    }
    /* Several servers and no proxy: client id's own server first (id mod
     * n); a reconnect (attempt k) steps by 1 + (id / n) mod (n - 1), so the
     * clients of a server that died spread over all the others instead of
     * landing together on the next one. */
    const struct sockaddr_in *to = &f->client_sa;
    if (f->n_client_sas) {
        uint64_t n = f->n_client_sas, step = n > 1 ? 1 + ((uint64_t)id / n) % (n - 1) : 0;
        to = &f->client_sas[((uint64_t)id + (uint64_t)attempt * step) % n];
    }
    int r = connect(fd, (const struct sockaddr *)to, sizeof *to);
    if (r < 0 && errno != EINPROGRESS) {
        close(fd);
        *why = "connect";
        return -1;
    }
    return fd;
}

ssize_t fl_send_some(int fd, const char *data, size_t len)
{
    size_t off = 0;
    while (off < len) {
        ssize_t w = send(fd, data + off, len - off, MSG_NOSIGNAL);
        if (w > 0) {
            off += (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        return -1;
    }
    return (ssize_t)off;
}

ssize_t fl_conn_send_some(int fd, SSL *ssl, const char *data, size_t len)
{
    if (!ssl)
        return fl_send_some(fd, data, len);
    size_t off = 0;
    while (off < len) {
        ssize_t w = fl_tls_send(ssl, data + off, len - off);
        if (w > 0) {
            off += (size_t)w;
            continue;
        }
        if (w < 0 && errno == EAGAIN)
            break;
        return -1;
    }
    return (ssize_t)off;
}

ssize_t fl_conn_recv(int fd, SSL *ssl, void *buf, size_t cap)
{
    return ssl ? fl_tls_recv(ssl, buf, cap) : recv(fd, buf, cap, 0);
}
