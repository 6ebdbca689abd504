/* api.h — the control API (Toxiproxy 2.x endpoints, /events, /metrics). */
#ifndef RTCHAOS_API_H
#define RTCHAOS_API_H
#include <event2/event.h>
#include <jansson.h>
#include "evlog.h"
#include "proxy.h"

typedef struct api api;

/* Binds the API on host:port (port 0: ephemeral) on base. ps and log are
 * the caller's and must outlive the API. Returns NULL with err. */
api *api_new(struct event_base *base, proxy_server *ps, evlog *log, const char *host, int port,
             char *err, size_t errlen);
/* The port actually bound. */
int api_port(const api *a);
void api_free(api *a);

/* Creates or keeps the proxies of a Toxiproxy populate array (entries may
 * also carry "toxics"). Returns a new JSON array of the proxies done; sets
 * *status to 201 on success, else to the HTTP error with a message in err. */
json_t *api_populate(api *a, json_t *arr, int *status, char *err, size_t errlen);

#endif
