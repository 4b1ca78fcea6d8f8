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
 *
 * Several hosts, several instances: a listener connects to every instance's
 * publisher of each kind it hears (`<kind>.events_connect`). With
 * events.key_file (one CURVE secret key shared by every instance) every PUB
 * is a CURVE server with that key, every SUB a CURVE client with the same
 * keypair and the same server key, and the process's ZAP handler admits
 * that one public key on the domain MC_EVENTS_ZAP_DOMAIN, nothing else.
 * Without it the bus is plain text and mc_cfg keeps it on this host.
 */
#ifndef MC_EVENTS_H
#define MC_EVENTS_H

#include <stddef.h>

#include "mc_cfg.h"
#include "mc_curve.h"
#include "mc_err.h"

#define MC_EVENTS_MAX_BYTES 4096 /* a PipelineEvent is tiny; larger frames drop the peer */
#define MC_EVENTS_ZAP_DOMAIN "motcua-events" /* ZAP domain of every events PUB */

/* which kinds of publisher a listener hears (mc_events_listen) */
typedef enum mc_events_from {
    MC_EVENTS_FROM_INTAKE    = 1, /* intake.events_connect */
    MC_EVENTS_FROM_ROUTER    = 2, /* router.events_connect */
    MC_EVENTS_FROM_LIENTHONG = 4, /* lienthong.events_connect */
} mc_events_from_t;

/*
 * mc_events_pub - the daemon's PUB bound on endpoint, or NULL after one
 * `events_unavailable` warning (publishing to NULL does nothing). key_file
 * "" (or NULL): plain text. Else a CURVE server with that key, whose public
 * key alone is admitted; when no ZAP handler runs in this process one is
 * started into *zap (the caller stops it with mc_zap_stop after closing
 * the PUB; *zap is left alone when a handler already runs).
 */
void *mc_events_pub(const char *endpoint, const char *key_file, mc_zap_t **zap);

/* mc_events_sub - one SUB taking every event of the n publishers (a bind
 * address's wildcard host becomes 127.0.0.1), a CURVE client with the keys
 * of key_file when it is not "" or NULL; NULL with err when the socket
 * cannot be made. A publisher that is not up yet is fine: ZeroMQ retries. */
void *mc_events_sub(const char *const *endpoints, size_t n, const char *key_file,
                    mc_err_t *err);

/* mc_events_listen - mc_events_sub on every publisher of the kinds in from
 * (mc_events_from_t bits), with cfg's events.key_file */
void *mc_events_listen(const mc_cfg_t *cfg, unsigned from, mc_err_t *err);

/* mc_events_publish - one PipelineEvent of kind (Motcua__Internal__V1__PipelineEvent__Kind)
 * about code (and agency, may be NULL), without blocking */
void mc_events_publish(void *pub, int kind, const char *code, const char *agency);

/* mc_events_send - an event already packed (a worker's, a hub's), without blocking */
void mc_events_send(void *pub, const void *bytes, size_t len);

/* mc_events_drain - read every waiting event; returns how many came */
int mc_events_drain(void *sub);

#endif
