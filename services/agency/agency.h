/*
 * agency - motcua-agency, the reference partner-agency client and
 * simulator: what a police station, social-insurance office or the ward's
 * own desk runs to take its cases from motcua-lienthong.
 *
 * Behaviour (proto/motcua/v1/agency.proto is the contract it follows):
 * connects a DEALER as a CURVE client with its own keypair, says
 * Ready{credit}, acks each case as soon as it has it (case_id is the
 * idempotency key: a case seen again is acked again, never done twice),
 * "processes" it for delay_ms, sends the result and resends it until a
 * ResultAck (or a Refusal) for that case_id arrives, gives one credit back
 * per answered case, heartbeats when idle, and reconnects when the hub has
 * been silent for 3 heartbeat intervals. The outcome of a case is decided
 * by a hash of its case_id against the --outcomes percentages, so a test
 * can predict it.
 */
#ifndef AGENCY_H
#define AGENCY_H

#include <stdbool.h>
#include <stdint.h>

/* what the command line asked for */
typedef struct agency_opts {
    const char *agency;          /* code, for logs only: the key is the identity */
    char        endpoint[300];   /* lienthong endpoint to connect to */
    char        public_key[41];  /* ours, derived from the secret */
    char        secret_key[41];  /* ours */
    char        server_key[41];  /* the hub's public key */
    int         heartbeat_ms;    /* lienthong.heartbeat_ms */
    int         delay_ms;        /* "processing" time per case */
    int         pct_approved;    /* outcome split, sums to 100 */
    int         pct_rejected;
    int         pct_needs;
    uint32_t    credit;          /* initial Ready credit */
    long        count;           /* exit 0 after this many answered results; 0 = never */
    bool        drop_first_ack;  /* ignore the first delivery of each case (tests resends) */
} agency_opts_t;

/* agency_outcome - the deterministic outcome (motcua.v1.Outcome) for a case id */
int agency_outcome(const agency_opts_t *opts, const char *case_id);

/* agency_run - serve until stop_fd (a signalfd) fires or count is reached; 0 ok, -1 error */
int agency_run(const agency_opts_t *opts, int stop_fd);

#endif
