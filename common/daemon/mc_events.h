/*
 * mc_events - the pipeline's event bus, wired one way for every daemon:
 * each publisher binds one PUB on its `<daemon>.events_endpoint`, each
 * listener holds one SUB connected to the publishers it cares about, and a
 * message is one packed PipelineEvent (proto/motcua/internal/v1/pipeline.proto).
 *
 * Contract: events are best effort and only mean "look now": every
 * consumer polls the store anyway. So a PUB that cannot bind is a warning
 * (`events_unavailable`, the daemon serves without it), a publish never
 * blocks and never fails the caller, and a publish is made only after the
 * commit it announces. Sockets are made by mc_transport.
 */
#ifndef MC_EVENTS_H
#define MC_EVENTS_H

#include <stddef.h>

#include "mc_err.h"

#define MC_EVENTS_MAX_BYTES 4096 /* a PipelineEvent is tiny; larger frames drop the peer */

/* mc_events_pub - the daemon's PUB bound on endpoint, or NULL after one
 * `events_unavailable` warning (publishing to NULL does nothing) */
void *mc_events_pub(const char *endpoint);

/* mc_events_sub - one SUB taking every event of the n publishers (a bind
 * address's wildcard host becomes 127.0.0.1); NULL with err when the socket
 * cannot be made. A publisher that is not up yet is fine: ZeroMQ retries. */
void *mc_events_sub(const char *const *endpoints, size_t n, mc_err_t *err);

/* mc_events_publish - one PipelineEvent of kind (Motcua__Internal__V1__PipelineEvent__Kind)
 * about code (and agency, may be NULL), without blocking */
void mc_events_publish(void *pub, int kind, const char *code, const char *agency);

/* mc_events_send - an event already packed (a worker's, a hub's), without blocking */
void mc_events_send(void *pub, const void *bytes, size_t len);

/* mc_events_drain - read every waiting event; returns how many came */
int mc_events_drain(void *sub);

#endif
