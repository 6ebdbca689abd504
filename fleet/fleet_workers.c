/* fleet_workers.c — the fleet spread over forked worker processes (each with its own open-files limit), driven over a socket pair per child. */
#include "fleet_workers.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "crun.h"

/* Protocol, one line per message:
 *   parent → child: "cut <fraction>", "heads <n> <h0> <h1> …",
 *                   "publog <ch> <gen_ts> <n> <ts>:<seq> …" (one per channel,
 *                   after heads: the publisher's stamps, see fl_pub_floor),
 *                   "publog <ch> none", "publog end", "stop"
 *   child → parent: "status <connected> <delivered> <anomalies> <reconnects>
 *                    <errors> <caught_up> <heads_seen> [<bucket>:<count> …]",
 *                   "live <v0> <v1> …" (after each status: fleet_live's figures,
 *                    live_vec order, for the metrics endpoint),
 *                   "cut <n>", "report <compact JSON>", "fail <message>" */

/* fleet_live's figures as one flat vector: every group's fleet_live_group
 * (all uint64_t) in order, then the totals below. */
#define LIVE_GROUP_WORDS (sizeof(fleet_live_group) / sizeof(uint64_t))
#define LIVE_TOTAL_WORDS (9 + 2 * FLEET_TRANSPORTS)
#define LIVE_VEC_MAX (FLEET_GROUPS_MAX * LIVE_GROUP_WORDS + LIVE_TOTAL_WORDS)
_Static_assert(sizeof(fleet_live_group) % sizeof(uint64_t) == 0, "fleet_live_group must hold only uint64_t");

typedef struct fl_worker {
    pid_t pid;
    int fd;
    char *in;
    size_t in_len, in_cap;
    int eof, failed, reaped;
    fleet_status st;
    uint32_t *lat;            /* last status's cumulative coarse latency */
    uint64_t lv[LIVE_VEC_MAX]; /* last "live" line (live_vec order) */
    uint64_t caught_up, heads_seen;
    uint64_t cut_gen, cut_n;
    json_t *report;
    char fail_msg[256];
    uint64_t eof_at;          /* clock_mono_us() when its pipe closed, 0 while open */
} fl_worker;

struct fl_workers {
    fl_worker *w;
    unsigned n;
    pthread_t reader;
    int reader_running, reader_stop;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    uint64_t lost_workers;
    json_t *lost;             /* [{worker, pid, why}] for the report, NULL while none */
};


static size_t live_vec(const fleet_live *o, uint64_t *v)
{
    size_t n = 0;
    for (size_t g = 0; g < o->n_groups; g++) {
        memcpy(v + n, &o->g[g], sizeof o->g[g]);
        n += LIVE_GROUP_WORDS;
    }
    const uint64_t t[9] = {o->missing_now, o->snapshots, o->gaps, o->errors, o->connects_failed,
                           o->gave_up, o->stalls, o->stall_max_us, o->lat_sum_us};
    memcpy(v + n, t, sizeof t);
    n += 9;
    memcpy(v + n, o->rx_bytes, sizeof o->rx_bytes);
    n += FLEET_TRANSPORTS;
    memcpy(v + n, o->tx_bytes, sizeof o->tx_bytes);
    return n + FLEET_TRANSPORTS;
}

/* Adds a vector made by live_vec (of the same fleet) into o. */
static void live_vec_add(fleet_live *o, const uint64_t *v)
{
    size_t n = 0;
    for (size_t g = 0; g < o->n_groups; g++) {
        uint64_t *d = (uint64_t *)(void *)&o->g[g];
        for (size_t k = 0; k < LIVE_GROUP_WORDS; k++)
            d[k] += v[n++];
    }
    o->missing_now += v[n++];
    o->snapshots += v[n++];
    o->gaps += v[n++];
    o->errors += v[n++];
    o->connects_failed += v[n++];
    o->gave_up += v[n++];
    o->stalls += v[n++];
    if (v[n] > o->stall_max_us)
        o->stall_max_us = v[n];
    n++;
    o->lat_sum_us += v[n++];
    for (int k = 0; k < FLEET_TRANSPORTS; k++)
        o->rx_bytes[k] += v[n++];
    for (int k = 0; k < FLEET_TRANSPORTS; k++)
        o->tx_bytes[k] += v[n++];
}

static int send_line(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

/* ---- child ------------------------------------------------------------------------------------ */

static void child_live(fleet *f, int fd)
{
    fleet_live *o = calloc(1, sizeof *o);
    uint32_t *lat = calloc(CHK_TL_BUCKETS, sizeof *lat);
    uint64_t *v = calloc(LIVE_VEC_MAX, sizeof *v);
    char *line = malloc(LIVE_VEC_MAX * 21 + 16);
    if (o && lat && v && line) {
        o->n_groups = f->cfg.n_groups < FLEET_GROUPS_MAX ? f->cfg.n_groups : FLEET_GROUPS_MAX;
        fleet_local_live(f, o, lat);
        size_t k = live_vec(o, v), n = (size_t)sprintf(line, "live");
        for (size_t i = 0; i < k; i++)
            n += (size_t)sprintf(line + n, " %llu", (unsigned long long)v[i]);
        line[n++] = '\n';
        send_line(fd, line, n);
    }
    free(o);
    free(lat);
    free(v);
    free(line);
}

static void child_status(fleet *f, int fd)
{
    fleet_status st;
    memset(&st, 0, sizeof st);
    uint32_t *lat = calloc(CHK_TL_BUCKETS, sizeof *lat);
    char *line = malloc(CHK_TL_BUCKETS * 24 + 256);
    if (!lat || !line) {
        free(lat);
        free(line);
        return;
    }
    fleet_local_status(f, &st, lat);
    int heads = __atomic_load_n(&f->heads_final, __ATOMIC_ACQUIRE);
    size_t n = (size_t)sprintf(line, "status %llu %llu %llu %llu %llu %d %d", (unsigned long long)st.connected,
                               (unsigned long long)st.delivered, (unsigned long long)st.anomalies,
                               (unsigned long long)st.reconnects, (unsigned long long)st.errors,
                               heads && fleet_local_caught_up(f), heads);
    for (unsigned b = 0; b < CHK_TL_BUCKETS; b++)
        if (lat[b])
            n += (size_t)sprintf(line + n, " %u:%u", b, lat[b]);
    line[n++] = '\n';
    send_line(fd, line, n);
    free(lat);
    free(line);
    child_live(f, fd);
}

/* "publog ..." from the parent: one channel's step function of floors
 * (the stamps' suffix minima where they rise, each with its seq), stored so
 * that fl_pub_floor answers in the child as in the parent. Anything
 * malformed leaves that channel unable to tell (the check is skipped, never
 * wrong). */
static void child_publog(fleet *f, char *p)
{
    if (strcmp(p, "end") == 0) {
        f->publog_ready = 1;
        return;
    }
    char *end;
    unsigned long ch = strtoul(p, &end, 10);
    if (end == p || ch >= f->n_ch)
        return;
    fl_publog *l = &f->publog[ch];
    free(l->seq);
    free(l->ts);
    free(l->sufmin);
    memset(l, 0, sizeof *l);
    l->n = SIZE_MAX;
    p = end;
    long long gen = strtoll(p, &end, 10);
    if (end == p)
        return; /* "none" */
    p = end;
    unsigned long long n = strtoull(p, &end, 10);
    if (end == p || n > (1ull << 32))
        return;
    p = end;
    size_t k = (size_t)n;
    l->seq = malloc((k ? k : 1) * sizeof *l->seq);
    l->sufmin = malloc((k ? k : 1) * sizeof *l->sufmin);
    if (!l->seq || !l->sufmin)
        return;
    for (size_t i = 0; i < k; i++) {
        long long ts = strtoll(p, &end, 10);
        if (end == p || *end != ':')
            return;
        p = end + 1;
        unsigned long long seq = strtoull(p, &end, 10);
        if (end == p || (i && ts < l->sufmin[i - 1]))
            return;
        p = end;
        l->sufmin[i] = ts;
        l->seq[i] = seq;
    }
    l->gen_ts = gen;
    l->n = k;
}

static void child_command(fleet *f, int fd, char *line)
{
    if (strncmp(line, "cut ", 4) == 0) {
        uint64_t n = fleet_local_cut(f, strtod(line + 4, NULL));
        char out[64];
        int k = snprintf(out, sizeof out, "cut %llu\n", (unsigned long long)n);
        send_line(fd, out, (size_t)k);
    } else if (strncmp(line, "heads ", 6) == 0) {
        char *p = line + 6, *end;
        unsigned long n = strtoul(p, &end, 10);
        p = end;
        for (unsigned long i = 0; i < n && i < f->n_ch; i++) {
            f->final_head[i] = strtoull(p, &end, 10);
            p = end;
        }
        f->stopped_pub = 1;
        __atomic_store_n(&f->heads_final, 1, __ATOMIC_RELEASE);
    } else if (strncmp(line, "publog ", 7) == 0) {
        child_publog(f, line + 7);
    } else if (strcmp(line, "stop") == 0) {
        if (!f->stopped) {
            fleet_local_end_publishing(f);
            fleet_local_stop(f);
        }
        json_t *r = json_object();
        char err[256];
        if (fleet_local_report(f, r, err, sizeof err) < 0) {
            char out[300];
            int k = snprintf(out, sizeof out, "fail %s\n", err);
            send_line(fd, out, (size_t)k);
        } else {
            char *s = json_dumps(r, JSON_COMPACT);
            if (s) {
                send_line(fd, "report ", 7);
                send_line(fd, s, strlen(s));
                send_line(fd, "\n", 1);
                free(s);
            }
        }
        json_decref(r);
        shutdown(fd, SHUT_WR);
        _exit(0);
    }
}

static void child_main(fleet *f, int fd)
{
    char err[256];
    if (fleet_start_local(f, err, sizeof err) < 0) {
        char out[300];
        int k = snprintf(out, sizeof out, "fail %s\n", err);
        send_line(fd, out, (size_t)k);
        _exit(1);
    }
    char *buf = NULL;
    size_t len = 0, cap = 0;
    uint64_t next_status = 0;
    for (;;) {
        uint64_t now = clock_mono_us();
        if (now >= next_status) {
            child_status(f, fd);
            next_status = now + 200000u;
        }
        struct pollfd pfd = {fd, POLLIN, 0};
        int r = poll(&pfd, 1, 100);
        if (r < 0 && errno != EINTR)
            _exit(1);
        if (r <= 0)
            continue;
        if (len + 4096 > cap) {
            cap = cap ? cap * 2 : 8192;
            buf = realloc(buf, cap);
            if (!buf)
                _exit(1);
        }
        ssize_t n = read(fd, buf + len, cap - len - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            _exit(1); /* the parent is gone */
        len += (size_t)n;
        char *nl;
        while ((nl = memchr(buf, '\n', len))) {
            *nl = '\0';
            child_command(f, fd, buf);
            size_t used = (size_t)(nl - buf) + 1;
            memmove(buf, buf + used, len - used);
            len -= used;
        }
    }
}

/* ---- parent ----------------------------------------------------------------------------------- */

static void parent_line(struct fl_workers *ws, fl_worker *w, char *line)
{
    if (strncmp(line, "status ", 7) == 0) {
        unsigned long long v[7] = {0};
        char *p = line + 7, *end;
        for (int i = 0; i < 7; i++) {
            v[i] = strtoull(p, &end, 10);
            p = end;
        }
        pthread_mutex_lock(&ws->mu);
        w->st.connected = v[0];
        w->st.delivered = v[1];
        w->st.anomalies = v[2];
        w->st.reconnects = v[3];
        w->st.errors = v[4];
        w->caught_up = v[5];
        w->heads_seen = v[6];
        memset(w->lat, 0, CHK_TL_BUCKETS * sizeof *w->lat);
        while (*p == ' ') {
            unsigned long b = strtoul(p + 1, &end, 10);
            if (*end != ':')
                break;
            unsigned long c = strtoul(end + 1, &end, 10);
            if (b < CHK_TL_BUCKETS)
                w->lat[b] = (uint32_t)c;
            p = end;
        }
        pthread_mutex_unlock(&ws->mu);
    } else if (strncmp(line, "live ", 5) == 0) {
        uint64_t v[LIVE_VEC_MAX];
        size_t k = 0;
        char *p = line + 4, *end;
        while (*p == ' ' && k < LIVE_VEC_MAX) {
            v[k++] = strtoull(p + 1, &end, 10);
            p = end;
        }
        pthread_mutex_lock(&ws->mu);
        memcpy(w->lv, v, k * sizeof *v);
        pthread_mutex_unlock(&ws->mu);
    } else if (strncmp(line, "cut ", 4) == 0) {
        pthread_mutex_lock(&ws->mu);
        w->cut_n = strtoull(line + 4, NULL, 10);
        w->cut_gen++;
        pthread_cond_broadcast(&ws->cond);
        pthread_mutex_unlock(&ws->mu);
    } else if (strncmp(line, "report ", 7) == 0) {
        json_error_t je;
        json_t *r = json_loads(line + 7, 0, &je);
        pthread_mutex_lock(&ws->mu);
        w->report = r;
        if (!r) {
            w->failed = 1;
            snprintf(w->fail_msg, sizeof w->fail_msg, "unreadable report: %s", je.text);
        }
        pthread_cond_broadcast(&ws->cond);
        pthread_mutex_unlock(&ws->mu);
    } else if (strncmp(line, "fail ", 5) == 0) {
        pthread_mutex_lock(&ws->mu);
        w->failed = 1;
        snprintf(w->fail_msg, sizeof w->fail_msg, "%s", line + 5);
        pthread_cond_broadcast(&ws->cond);
        pthread_mutex_unlock(&ws->mu);
    }
}

static void *reader_main(void *arg)
{
    struct fl_workers *ws = arg;
    struct pollfd *pfd = calloc(ws->n, sizeof *pfd);
    if (!pfd)
        return NULL;
    while (!__atomic_load_n(&ws->reader_stop, __ATOMIC_ACQUIRE)) {
        unsigned open = 0;
        for (unsigned i = 0; i < ws->n; i++) {
            pfd[i].fd = ws->w[i].eof ? -1 : ws->w[i].fd;
            pfd[i].events = POLLIN;
            pfd[i].revents = 0;
            open += !ws->w[i].eof;
        }
        if (!open)
            break;
        int r = poll(pfd, ws->n, 100);
        if (r <= 0)
            continue;
        for (unsigned i = 0; i < ws->n; i++) {
            fl_worker *w = &ws->w[i];
            if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            if (w->in_len + 65536 > w->in_cap) {
                size_t cap = w->in_cap ? w->in_cap * 2 : 131072;
                char *b = realloc(w->in, cap);
                if (!b)
                    continue;
                w->in = b;
                w->in_cap = cap;
            }
            ssize_t n = read(w->fd, w->in + w->in_len, w->in_cap - w->in_len - 1);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                pthread_mutex_lock(&ws->mu);
                w->eof = 1;
                w->eof_at = clock_mono_us();
                pthread_cond_broadcast(&ws->cond);
                pthread_mutex_unlock(&ws->mu);
                continue;
            }
            w->in_len += (size_t)n;
            char *nl;
            while ((nl = memchr(w->in, '\n', w->in_len))) {
                *nl = '\0';
                parent_line(ws, w, w->in);
                size_t used = (size_t)(nl - w->in) + 1;
                memmove(w->in, w->in + used, w->in_len - used);
                w->in_len -= used;
            }
        }
    }
    free(pfd);
    return NULL;
}

int fl_workers_start(fleet *f, char *err, size_t errlen)
{
    struct fl_workers *ws = calloc(1, sizeof *ws);
    if (!ws) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    ws->n = f->cfg.workers;
    ws->w = calloc(ws->n, sizeof *ws->w);
    if (!ws->w) {
        free(ws);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    pthread_mutex_init(&ws->mu, NULL);
    pthread_cond_init(&ws->cond, NULL);
    f->w = ws;
    pid_t parent = getpid();
    fflush(NULL);
    for (unsigned i = 0; i < ws->n; i++) {
        fl_worker *w = &ws->w[i];
        w->fd = -1;
        w->lat = calloc(CHK_TL_BUCKETS, sizeof *w->lat);
        int sv[2];
        if (!w->lat || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
            snprintf(err, errlen, "workers: socketpair: %s", strerror(errno));
            return -1;
        }
        pid_t pid = fork();
        if (pid < 0) {
            close(sv[0]);
            close(sv[1]);
            snprintf(err, errlen, "workers: fork: %s", strerror(errno));
            return -1;
        }
        if (pid == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (getppid() != parent)
                _exit(1);
            signal(SIGINT, SIG_IGN); /* the parent decides when its workers stop */
            close(sv[0]);
            for (unsigned j = 0; j < i; j++)
                close(ws->w[j].fd);
            f->w = NULL;
            f->is_child = 1;
            f->worker_idx = i;
            f->n_workers = ws->n;
            child_main(f, sv[1]);
            _exit(0);
        }
        close(sv[1]);
        w->pid = pid;
        w->fd = sv[0];
    }
    if (pthread_create(&ws->reader, NULL, reader_main, ws) != 0) {
        snprintf(err, errlen, "workers: cannot start the reader thread");
        return -1;
    }
    ws->reader_running = 1;
    return 0;
}

uint64_t fl_workers_cut(fleet *f, double fraction)
{
    struct fl_workers *ws = f->w;
    char line[64];
    int k = snprintf(line, sizeof line, "cut %.6f\n", fraction);
    uint64_t *gen = calloc(ws->n, sizeof *gen);
    if (!gen)
        return 0;
    pthread_mutex_lock(&ws->mu);
    for (unsigned i = 0; i < ws->n; i++)
        gen[i] = ws->w[i].cut_gen;
    pthread_mutex_unlock(&ws->mu);
    for (unsigned i = 0; i < ws->n; i++)
        send_line(ws->w[i].fd, line, (size_t)k);
    uint64_t total = 0, end = clock_mono_us() + 3000000u;
    pthread_mutex_lock(&ws->mu);
    for (unsigned i = 0; i < ws->n; i++) {
        fl_worker *w = &ws->w[i];
        while (w->cut_gen == gen[i] && !w->eof && clock_mono_us() < end) {
            clock_cond_wait_us(&ws->cond, &ws->mu, 50000);
        }
        if (w->cut_gen != gen[i])
            total += w->cut_n;
    }
    pthread_mutex_unlock(&ws->mu);
    free(gen);
    return total;
}

void fl_workers_status(fleet *f, fleet_status *o, uint32_t *lat)
{
    struct fl_workers *ws = f->w;
    pthread_mutex_lock(&ws->mu);
    for (unsigned i = 0; i < ws->n; i++) {
        fl_worker *w = &ws->w[i];
        o->connected += w->st.connected;
        o->delivered += w->st.delivered;
        o->anomalies += w->st.anomalies;
        o->reconnects += w->st.reconnects;
        o->errors += w->st.errors;
        for (unsigned b = 0; b < CHK_TL_BUCKETS; b++)
            lat[b] += w->lat[b];
    }
    pthread_mutex_unlock(&ws->mu);
}

void fl_workers_live(fleet *f, fleet_live *o, uint32_t *lat)
{
    struct fl_workers *ws = f->w;
    pthread_mutex_lock(&ws->mu);
    for (unsigned i = 0; i < ws->n; i++) {
        fl_worker *w = &ws->w[i];
        live_vec_add(o, w->lv);
        for (unsigned b = 0; b < CHK_TL_BUCKETS; b++)
            lat[b] += w->lat[b];
    }
    pthread_mutex_unlock(&ws->mu);
}

void fl_workers_final_heads(fleet *f)
{
    struct fl_workers *ws = f->w;
    size_t cap = 32 + (size_t)f->n_ch * 22;
    char *line = malloc(cap);
    if (!line)
        return;
    size_t n = (size_t)snprintf(line, cap, "heads %u", f->n_ch);
    for (uint32_t i = 0; i < f->n_ch; i++)
        n += (size_t)snprintf(line + n, cap - n, " %llu", (unsigned long long)f->final_head[i]);
    line[n++] = '\n';
    pthread_mutex_lock(&ws->mu);
    for (unsigned i = 0; i < ws->n; i++)
        ws->w[i].heads_seen = 0; /* wait for a status sent after these heads */
    pthread_mutex_unlock(&ws->mu);
    for (unsigned i = 0; i < ws->n; i++)
        send_line(ws->w[i].fd, line, n);
    free(line);
    if (!f->publog_ready)
        return; /* children cannot tell floors: their head-less streams go unchecked */
    for (uint32_t c = 0; c < f->n_ch; c++) {
        const fl_publog *l = &f->publog[c];
        size_t k = l->n == SIZE_MAX ? 0 : l->n;
        cap = 64 + k * 42;
        line = malloc(cap);
        if (!line)
            return; /* no "end": children skip the check rather than misjudge */
        if (l->n == SIZE_MAX) {
            n = (size_t)snprintf(line, cap, "publog %u none", c);
        } else {
            /* only where the suffix minimum rises: the first index of a run
             * of equal minima is the one fl_pub_floor would pick */
            size_t m = 0;
            for (size_t i = 0; i < k; i++)
                m += !i || l->sufmin[i] > l->sufmin[i - 1];
            n = (size_t)snprintf(line, cap, "publog %u %lld %zu", c, (long long)l->gen_ts, m);
            for (size_t i = 0; i < k; i++)
                if (!i || l->sufmin[i] > l->sufmin[i - 1])
                    n += (size_t)snprintf(line + n, cap - n, " %lld:%llu", (long long)l->sufmin[i],
                                          (unsigned long long)l->seq[i]);
        }
        line[n++] = '\n';
        for (unsigned i = 0; i < ws->n; i++)
            send_line(ws->w[i].fd, line, n);
        free(line);
    }
    for (unsigned i = 0; i < ws->n; i++)
        send_line(ws->w[i].fd, "publog end\n", 11);
}

int fl_workers_caught_up(fleet *f)
{
    struct fl_workers *ws = f->w;
    int all = 1;
    pthread_mutex_lock(&ws->mu);
    for (unsigned i = 0; i < ws->n; i++) {
        fl_worker *w = &ws->w[i];
        if (w->eof || w->failed)
            continue;
        if (!w->heads_seen || !w->caught_up)
            all = 0;
    }
    pthread_mutex_unlock(&ws->mu);
    return all;
}

/* the worker's stop deadline: time to close its clients and send a report */
#define WORKER_STOP_US 30000000u

/* A worker that sent no report: say why, on stderr now (so a run that
 * breaks this way can be understood from its log) and in the report's
 * totals.workers_lost. */
static void worker_lost(struct fl_workers *ws, unsigned i, int status, int killed, uint64_t stop_at)
{
    fl_worker *w = &ws->w[i];
    char why[400];
    size_t n = 0;
    if (w->fail_msg[0])
        n += (size_t)snprintf(why + n, sizeof why - n, "reported a failure: %s; ", w->fail_msg);
    if (w->eof_at && w->eof_at < stop_at)
        n += (size_t)snprintf(why + n, sizeof why - n, "its pipe closed %.1f s before the stop; ",
                              (double)(stop_at - w->eof_at) / 1e6);
    if (killed)
        snprintf(why + n, sizeof why - n, "did not answer the stop within %u s and was killed",
                 WORKER_STOP_US / 1000000u);
    else if (WIFSIGNALED(status))
        snprintf(why + n, sizeof why - n, "died of signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
    else
        snprintf(why + n, sizeof why - n, "exited with status %d without a report", WEXITSTATUS(status));
    fprintf(stderr, "rtchaos: fleet worker %u (pid %d) sent no results: %s\n", i + 1, (int)w->pid, why);
    ws->lost_workers++;
    if (!ws->lost)
        ws->lost = json_array();
    json_array_append_new(ws->lost, json_pack("{s:i, s:i, s:s}", "worker", (json_int_t)(i + 1), "pid",
                                              (json_int_t)w->pid, "why", why));
}

void fl_workers_stop(fleet *f)
{
    struct fl_workers *ws = f->w;
    if (!ws)
        return;
    for (unsigned i = 0; i < ws->n; i++)
        if (ws->w[i].fd >= 0)
            send_line(ws->w[i].fd, "stop\n", 5);
    uint64_t stop_at = clock_mono_us(), end = stop_at + WORKER_STOP_US;
    pthread_mutex_lock(&ws->mu);
    for (;;) {
        int waiting = 0;
        for (unsigned i = 0; i < ws->n; i++)
            waiting |= !ws->w[i].report && !ws->w[i].failed && !ws->w[i].eof;
        if (!waiting || clock_mono_us() >= end || !ws->reader_running)
            break;
        clock_cond_wait_us(&ws->cond, &ws->mu, 100000);
    }
    pthread_mutex_unlock(&ws->mu);
    for (unsigned i = 0; i < ws->n; i++) {
        fl_worker *w = &ws->w[i];
        if (w->reaped || w->pid <= 0)
            continue;
        int status, killed = 0;
        if (!crun_wait(w->pid, 3000, &status)) {
            kill(w->pid, SIGKILL);
            crun_wait(w->pid, CRUN_FOREVER, &status);
            killed = 1;
        }
        w->reaped = 1;
        if (!w->report)
            worker_lost(ws, i, status, killed, stop_at);
    }
    if (ws->reader_running) {
        __atomic_store_n(&ws->reader_stop, 1, __ATOMIC_RELEASE);
        pthread_join(ws->reader, NULL);
        ws->reader_running = 0;
    }
}

int fl_workers_merge_reports(fleet *f, json_t *report, char *err, size_t errlen)
{
    struct fl_workers *ws = f->w;
    for (unsigned i = 0; i < ws->n; i++) {
        if (!ws->w[i].report)
            continue;
        if (fleet_report_merge(report, ws->w[i].report, f->cfg.anomalies_per_kind, err, errlen) < 0)
            return -1;
    }
    json_t *tot = json_object_get(report, "totals");
    json_object_set_new(tot, "workers", json_integer(ws->n));
    json_object_set_new(tot, "workers_failed", json_integer((json_int_t)ws->lost_workers));
    if (ws->lost)
        json_object_set(tot, "workers_lost", ws->lost);
    if (ws->lost_workers) {
        json_object_set_new(tot, "errors",
                            json_integer(json_integer_value(json_object_get(tot, "errors")) +
                                         (json_int_t)ws->lost_workers));
    }
    return 0;
}

void fl_workers_free(fleet *f)
{
    struct fl_workers *ws = f->w;
    if (!ws)
        return;
    fl_workers_stop(f);
    for (unsigned i = 0; i < ws->n; i++) {
        if (ws->w[i].fd >= 0)
            close(ws->w[i].fd);
        free(ws->w[i].in);
        free(ws->w[i].lat);
        json_decref(ws->w[i].report);
    }
    json_decref(ws->lost);
    free(ws->w);
    pthread_mutex_destroy(&ws->mu);
    pthread_cond_destroy(&ws->cond);
    free(ws);
    f->w = NULL;
}
