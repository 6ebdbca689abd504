/* faultplan.c — unrolls the fault timeline (windows, flapping) into timed actions. */
#include "faultplan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct vec {
    fplan_action *v;
    size_t n, cap;
    int oom;
} vec;

static void push(vec *a, uint64_t t, fplan_kind k, size_t fault, unsigned cycle)
{
    if (a->oom)
        return;
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 16;
        fplan_action *nv = realloc(a->v, cap * sizeof *nv);
        if (!nv) {
            a->oom = 1;
            return;
        }
        a->v = nv;
        a->cap = cap;
    }
    a->v[a->n++] = (fplan_action){.t_us = t, .kind = k, .fault = fault, .cycle = cycle};
}

/* Adds on/off pairs for a window [from, to) that flaps on_us on, off_us off. */
static void flap(vec *a, uint64_t from, uint64_t to, uint64_t on_us, uint64_t off_us, fplan_kind on,
                 fplan_kind off, size_t fault)
{
    unsigned cycle = 0;
    for (uint64_t t = from; t < to; t += on_us + off_us, cycle++) {
        push(a, t, on, fault, cycle);
        uint64_t end = t + on_us < to ? t + on_us : to;
        push(a, end, off, fault, cycle);
        if (cycle > 100000)
            break;
    }
}

static int by_time(const void *x, const void *y)
{
    const fplan_action *a = x, *b = y;
    if (a->t_us != b->t_us)
        return a->t_us < b->t_us ? -1 : 1;
    /* Ends before starts at the same instant, then declaration order. */
    int ea = a->kind == FPLAN_TOXIC_REMOVE || a->kind == FPLAN_SERVER_CONT || a->kind == FPLAN_SERVER_START ||
             a->kind == FPLAN_NET_LIFT;
    int eb = b->kind == FPLAN_TOXIC_REMOVE || b->kind == FPLAN_SERVER_CONT || b->kind == FPLAN_SERVER_START ||
             b->kind == FPLAN_NET_LIFT;
    if (ea != eb)
        return ea ? -1 : 1;
    if (a->fault != b->fault)
        return a->fault < b->fault ? -1 : 1;
    return a->cycle < b->cycle ? -1 : a->cycle > b->cycle;
}

int faultplan_build(const scenario *s, fplan_action **out, size_t *n, char *err, size_t errlen)
{
    vec a = {0};
    for (size_t i = 0; i < s->nfaults; i++) {
        const scn_fault *f = &s->faults[i];
        uint64_t end = f->has_for ? f->at_us + f->for_us : s->duration_us;
        switch (f->kind) {
        case SCN_FAULT_TOXIC:
            if (f->flap_on_us)
                flap(&a, f->at_us, end, f->flap_on_us, f->flap_off_us, FPLAN_TOXIC_ADD, FPLAN_TOXIC_REMOVE, i);
            else {
                push(&a, f->at_us, FPLAN_TOXIC_ADD, i, 0);
                if (f->has_for)
                    push(&a, end, FPLAN_TOXIC_REMOVE, i, 0);
            }
            break;
        case SCN_FAULT_NETWORK:
            if (f->flap_on_us)
                flap(&a, f->at_us, end, f->flap_on_us, f->flap_off_us, FPLAN_NET_APPLY, FPLAN_NET_LIFT, i);
            else {
                push(&a, f->at_us, FPLAN_NET_APPLY, i, 0);
                if (f->has_for)
                    push(&a, end, FPLAN_NET_LIFT, i, 0);
            }
            break;
        case SCN_FAULT_DISCONNECT:
            push(&a, f->at_us, FPLAN_DISCONNECT, i, 0);
            break;
        case SCN_FAULT_SERVER_KILL:
            push(&a, f->at_us, FPLAN_SERVER_KILL, i, 0);
            if (f->has_for)
                push(&a, end, FPLAN_SERVER_START, i, 0);
            break;
        case SCN_FAULT_SERVER_PAUSE:
            if (f->flap_on_us)
                flap(&a, f->at_us, end, f->flap_on_us, f->flap_off_us, FPLAN_SERVER_STOP, FPLAN_SERVER_CONT, i);
            else {
                push(&a, f->at_us, FPLAN_SERVER_STOP, i, 0);
                push(&a, end, FPLAN_SERVER_CONT, i, 0);
            }
            break;
        case SCN_FAULT_SERVER_RESTART:
            push(&a, f->at_us, FPLAN_SERVER_RESTART, i, 0);
            break;
        }
    }
    if (a.oom) {
        free(a.v);
        snprintf(err, errlen, "out of memory expanding the fault timeline");
        return -1;
    }
    if (a.n)
        qsort(a.v, a.n, sizeof *a.v, by_time);
    *out = a.v;
    *n = a.n;
    return 0;
}

const char *faultplan_kind_str(fplan_kind k)
{
    static const char *const names[] = {"toxic_add", "toxic_remove", "disconnect", "server_kill",
                                        "server_start", "server_pause", "server_resume", "server_restart",
                                        "kernel_fault_apply", "kernel_fault_lift"};
    return (unsigned)k < sizeof names / sizeof *names ? names[k] : "?";
}
