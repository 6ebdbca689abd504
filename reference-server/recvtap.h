/* recvtap.h — the server's recv(), through which lws's reads reach
 * rawtarget.c (recvtap.c says why and how). */
#ifndef RTCHAOS_SERVER_RECVTAP_H
#define RTCHAOS_SERVER_RECVTAP_H

/* 1 when the dynamic linker resolves recv to the tap (so lws's reads go
 * through it), 0 when not (the tap would see nothing). */
int recvtap_active(void);

#endif
