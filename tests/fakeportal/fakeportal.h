/*
 * fakeportal - a local stand-in for the national public-service portal
 * (Cổng Dịch vụ công quốc gia) that motcua-portal pushes to: for the demo,
 * and for operators trying the integration before the real portal is
 * reachable. A test tool, not a daemon: it keeps what it saw in memory and
 * in an events file, and judges it.
 *
 * Contract (docs/portal.md, "A fake portal"): every POST must carry a body
 * of the shape motcua.portal.v1 with an Idempotency-Key equal to its
 * event_id; a good one is appended to the events file (one line, the body
 * as received, first receipt only) and then answered 200, a resend of an
 * event_id already received is answered 200 again and only counted, a bad
 * one is answered 400 with the reason. The summary counts events, dossiers,
 * resends, duplicates (an event_id again with other bytes), events that
 * arrived before their predecessor (out of order), holes in a dossier's
 * seq (with the first few dossiers concerned), and, given the store's list
 * of events, those missing (the first few named) and extra. It names no
 * person: codes, seqs and kinds only.
 */
#ifndef FAKEPORTAL_H
#define FAKEPORTAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* the fields of one body the fake reasons about */
typedef struct fp_body {
    char event_id[128]; /* "<dossier_code>/<seq>" */
    char code[96];      /* dossier_code */
    long seq;           /* 1, 2, 3... per dossier */
    char kind[64];      /* "event": the dossier_event kind */
    char state[48];     /* "state": the DossierState name */
} fp_body_t;

/* fp_check_body - parse body (len bytes) as a motcua.portal.v1 document and
 * fill out; NULL when it is as documented, else a short reason (static text) */
const char *fp_check_body(const char *body, size_t len, fp_body_t *out);

/* what a good request was to the ledger */
typedef enum fp_outcome {
    FP_NEW     = 0, /* an event_id seen for the first time */
    FP_RESENT  = 1, /* the same event_id and the same bytes again */
    FP_CHANGED = 2, /* the same event_id with other bytes: a duplicate */
    FP_EARLY   = 3, /* a new event_id whose dossier's seq before it had not arrived: out of order */
} fp_outcome_t;

typedef struct fp_ledger fp_ledger_t;

/* fp_ledger_new - an empty ledger; NULL on OOM */
fp_ledger_t *fp_ledger_new(void);

/* fp_ledger_destroy - free; NULLs *l */
void fp_ledger_destroy(fp_ledger_t **l);

/* fp_ledger_record - account for one good request (body of len bytes, b
 * its fields); its outcome into *out; -1 on OOM */
int fp_ledger_record(fp_ledger_t *l, const fp_body_t *b, const char *body, size_t len,
                     fp_outcome_t *out);

/* fp_ledger_rejected - account for one request answered 400 */
void fp_ledger_rejected(fp_ledger_t *l);

/* fp_ledger_expect - read the store's events, one "<event_id> <kind>" a
 * line ("-" for an event the outbox does not have); -1 if unreadable */
int fp_ledger_expect(fp_ledger_t *l, const char *path);

/* fp_ledger_summary - write the summary to out, key=value lines prefixed
 * "fakeportal: "; the number of problems found (0 = all well) */
long fp_ledger_summary(fp_ledger_t *l, FILE *out);

#endif
