/*
 * agency - motcua-agency, the reference partner-agency client and
 * simulator: what a police station, social-insurance office or the ward's
 * own desk runs to take its cases from motcua-lienthong.
 *
 * Behaviour (proto/motcua/v1/agency.proto is the contract it follows):
 * connects a DEALER as a CURVE client with its own keypair and opens every
 * connection with a resync Ready{session, resync, credit, holding}: the
 * session is 32 random hex digits new at each start, credit is --credit
 * minus the cases it holds, holding lists every case acked and not
 * answered. It acks a case (CaseAck{case_id, revision}) only once the case
 * is in its journal on disk (fdatasync), "processes" it for delay_ms,
 * sends the result and resends it (at least once a second) until a
 * ResultAck or Refusal for that case_id arrives, gives one credit back per
 * answered case, heartbeats when idle, and reconnects (a new connection, so
 * a new resync Ready) when the hub has been silent for 3 heartbeats: to the
 * next hub of its list (--endpoint E, repeatable, else lienthong.connect),
 * round robin, so a dead hub is left for another instance over the same
 * store, with the same session (new only at each start): the resync Ready
 * keeps its acked cases there and its unanswered results are resent, the
 * same bytes, which the new hub accepts or answers as duplicates. It
 * follows the hub's epoch (Heartbeat.epoch, Hello.epoch): a Hello asking
 * for a resync, or an epoch other than the last one seen, makes it send a
 * resync Ready at once and resend every unanswered result.
 *
 * Idempotency: (case_id, revision) is the key. A case offered again is
 * acked again and never done twice; if it was answered already, the same
 * result is sent again, byte for byte (the result frame is a function of
 * case_id, revision, outcome and --agency). A new revision is new work.
 * The outcome of a case is decided by a hash of its case_id (and revision
 * when > 1) against the --outcomes percentages, so a test can predict it;
 * once taken, the journal's outcome wins (a restart with other --outcomes
 * does not change an answer).
 *
 * Durability (--state-dir DIR; without it everything is in memory and a
 * warning is logged at start): DIR/lock is held with flock() for the life
 * of the process (a second agency on the same DIR exits 78), DIR/journal
 * is an append-only text file, one record per line:
 *
 *   T <case_id> <revision> <outcome> <crc>      taken: acked after this line was fdatasync'ed
 *   A <case_id> <revision> <accepted> <crc>     answered: ResultAck accepted (1) or refused (0)
 *   R <case_id> <revision> <outcome> <crc>      re-decided: the hub refused our NEEDS_DOCUMENTS
 *                                               (ResultAck.code REASON_SUPPLEMENT_ALREADY_REQUESTED,
 *                                               one supplement request per dossier); the case is
 *                                               answered again with this outcome (1 or 2). Written
 *                                               and fdatasync'ed BEFORE that result leaves; on
 *                                               replay an R replaces its T's outcome. Not a take.
 *   E <case_id> <revision> <new_due_at> <crc>   extension proposed (--extend-days): the exact
 *                                               ExtensionRequest.new_due_at, epoch seconds
 *
 * fields separated by one space; case_id is 1..95 printable ASCII bytes
 * without spaces; revision is decimal >= 1; outcome is the
 * motcua.v1.Outcome number (1 approved, 2 rejected, 3 needs documents);
 * <crc> is the CRC-32 (IEEE 802.3, as zlib's crc32) of every byte of the
 * line before the space that precedes it, as 8 lowercase hex digits; the
 * line ends with '\n'. A line that is incomplete or whose CRC does not
 * match is ignored; garbage after the last good line (a write torn by
 * kill -9) is truncated away at start. A records are not fdatasync'ed:
 * losing one only means the result is sent again after a restart, and the
 * hub answers a repeated identical result as a duplicate. On start the
 * journal is replayed: T without A is held again (processed afresh: due =
 * now + delay_ms, then its result is sent); T with A is remembered, so a
 * re-offer is acked and answered with the same result. When the file
 * holds many more lines than the live state it is compacted (the live
 * records written to DIR/journal.tmp, fsync, rename, fsync DIR). At most
 * AGENCY_MAX_CASES cases are remembered: the oldest answered ones are
 * forgotten first; when every remembered case is still held, new cases
 * are not acked (the hub keeps them).
 *
 * Extension (--extend-days N, agency.proto rule 8): on a DueSoon for a
 * case held and not answered, the agency proposes ExtensionRequest{case_id,
 * revision, new_due_at = DueSoon.dossier_due_at + N days, reason (a fixed
 * Vietnamese text)}, once per (case_id, revision): the E line is
 * fdatasync'ed BEFORE the request leaves, and a later DueSoon never changes
 * it, so every resend and every restart sends the same bytes and the hub's
 * idempotency answers with the same ExtensionAck. It is resent (at least
 * once a second, and after every resync) until an ExtensionAck (accepted or
 * not) or a Refusal for that case_id arrives; that answer is not journaled
 * (after a restart the proposal goes again and gets the same answer). A
 * DueSoon that comes again (the hub resends it after every resync and
 * every few heartbeats until the proposal is answered) gets the same
 * proposal: one per (case_id, revision).
 *
 * Hold (--extend-days): so that a demo sees the extension before the
 * result, a case is held (its result not sent) while
 *   - its proposal is journaled and not answered yet (the hub answers
 *     each one, ExtensionAck or Refusal, once the case is acked), or
 *   - nothing was proposed and --extend-hold-ms (default 30000) have not
 *     passed since the case was taken (or, after a restart, replayed).
 * So a case whose DueSoon never comes (never warned, warned long after, or
 * its due date passed) is answered once the hold ran out, and a case whose
 * proposal was answered (accepted or refused) is answered at once: no case
 * is held forever. The hold is not journaled: a restart starts it again.
 *
 * The journal is also the evidence a fault test reads: one T line per
 * (case_id, revision) the agency ever took, whatever was killed when, and
 * an R line when its outcome was re-decided.
 *
 * Re-decision (agency.proto ResultAck rule): a ResultAck{accepted=false,
 * code=REASON_SUPPLEMENT_ALREADY_REQUESTED} for a NEEDS_DOCUMENTS result
 * makes the agency decide the same case and revision again between
 * APPROVED and REJECTED only (agency_outcome_decided: the --outcomes split
 * without needs_documents, same hash), journal it (R), and send that
 * result at once; the hub accepts it as the case's first answer.
 */
#ifndef AGENCY_H
#define AGENCY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mc_cfg.h"
#include "mc_err.h"

#define AGENCY_MAX_CASES   100000 /* cases remembered (held + recently answered) */
#define AGENCY_CASE_ID_MAX 96     /* case_id bytes, with the NUL */

/* what the command line asked for */
typedef struct agency_opts {
    const char *agency;          /* code, for logs only: the key is the identity */
    char        endpoints[MC_CFG_CONNECT_MAX][300]; /* the hubs (lienthong instances), tried in turn */
    size_t      n_endpoints;     /* entries in endpoints (>= 1) */
    char        public_key[41];  /* ours, derived from the secret */
    char        secret_key[41];  /* ours */
    char        server_key[41];  /* the hub's public key */
    int         heartbeat_ms;    /* lienthong.heartbeat_ms (a Hello may change it) */
    int         delay_ms;        /* "processing" time per case */
    int         pct_approved;    /* outcome split, sums to 100 */
    int         pct_rejected;    /* ... */
    int         pct_needs;       /* ... */
    uint32_t    credit;          /* cases held at once: the resync Ready's credit */
    long        count;           /* exit 0 after this many answered results; 0 = never */
    bool        drop_first_ack;  /* ignore the first delivery of each case (tests resends) */
    int         extend_days;     /* --extend-days: 0 off, else days added to DueSoon.dossier_due_at */
    int         extend_hold_ms;  /* --extend-hold-ms: longest wait for a DueSoon before answering */
} agency_opts_t;

#define AGENCY_EXTEND_DAYS_MAX     30       /* --extend-days bound */
#define AGENCY_EXTEND_HOLD_MS      30000    /* --extend-hold-ms default */
#define AGENCY_EXTEND_HOLD_MS_MAX  86400000 /* --extend-hold-ms bound (one day) */

/* --- the command line (agency_args.c) ------------------------------------ */

#define AGENCY_ARGS_CONTINUE -1 /* agency_args_parse, agency_args_load: go on starting */

/* the command line as given, before the files it names are read */
typedef struct agency_args {
    const char   *config;          /* -c/--config, or mc_cfg_default_path() */
    const char   *key_file;        /* --key: our CURVE secret key */
    const char   *server_key_file; /* --server-key: the hub's public key */
    const char   *endpoints[MC_CFG_CONNECT_MAX]; /* --endpoint E (repeatable); none: lienthong.connect */
    size_t        n_endpoints;     /* entries in endpoints */
    const char   *state_dir;       /* --state-dir, NULL: memory only */
    agency_opts_t opts;            /* the rest; endpoint and keys filled by agency_args_load */
} agency_args_t;

/* agency_args_parse - the options (getopt_long) into a, with their defaults;
 * AGENCY_ARGS_CONTINUE, or the exit status: 0 (--help) or 64 (usage, on stderr) */
int agency_args_parse(int argc, char **argv, agency_args_t *a);

/* agency_args_load - the configuration (lienthong.connect, heartbeat_ms) and the
 * keys into a->opts; AGENCY_ARGS_CONTINUE, or 78 after saying why on stderr */
int agency_args_load(agency_args_t *a);

/* --- the journal (agency_journal.c) ------------------------------------- */

/* what one journal line says */
typedef enum agency_record_kind {
    AGENCY_RECORD_TAKEN    = 'T', /* acked: case_id, revision, outcome */
    AGENCY_RECORD_ANSWERED = 'A', /* the hub answered our result: accepted or refused */
    AGENCY_RECORD_REDECIDED = 'R', /* a refused second supplement request: the new outcome (1 or 2) */
    AGENCY_RECORD_EXTENSION = 'E', /* an extension was proposed: case_id, revision, new_due_at */
} agency_record_kind_t;

/* one journal record */
typedef struct agency_record {
    agency_record_kind_t kind;                        /* T or A */
    char                 case_id[AGENCY_CASE_ID_MAX]; /* the hub's case id */
    uint32_t             revision;                    /* Case.revision, >= 1 */
    int                  value;                       /* T, R: motcua.v1.Outcome; A: 1 accepted, 0 refused */
    int64_t              new_due_at;                  /* E: the proposed date (epoch s, > 0) */
} agency_record_t;

/* how opening a state directory ended */
typedef enum agency_journal_status {
    AGENCY_JOURNAL_OK    = 0,  /* locked and open */
    AGENCY_JOURNAL_ERROR = -1, /* cannot create, open or read: err says why */
    AGENCY_JOURNAL_BUSY  = -2, /* another process holds DIR/lock */
} agency_journal_status_t;

typedef struct agency_journal agency_journal_t;

/* agency_case_id_ok - can this case id be journaled (1..95 printable ASCII bytes, no space)? */
bool agency_case_id_ok(const char *case_id);

/* agency_journal_open - create DIR if needed, lock DIR/lock, open DIR/journal */
agency_journal_status_t agency_journal_open(const char *dir, agency_journal_t **out, mc_err_t *err);

/*
 * agency_journal_replay - call apply for every good record in file order;
 * truncate a torn tail away. *dropped receives the bad lines seen. 0, or
 * -1 with err (apply returning non-zero stops the replay with -1).
 */
int agency_journal_replay(agency_journal_t *j, int (*apply)(void *ctx, const agency_record_t *r),
                          void *ctx, long *dropped, mc_err_t *err);

/* agency_journal_append - one record; with sync, fdatasync before returning 0 */
int agency_journal_append(agency_journal_t *j, const agency_record_t *r, bool sync, mc_err_t *err);

/* agency_journal_lines - records in the file now (replayed + appended since the last rewrite) */
long agency_journal_lines(const agency_journal_t *j);

/*
 * agency_journal_rewrite - replace the journal by the records next yields
 * (next returns 1 with *r filled, 0 at the end): temp file, fsync, rename,
 * fsync of the directory. On failure the old journal stays in use.
 */
int agency_journal_rewrite(agency_journal_t *j, int (*next)(void *ctx, agency_record_t *r),
                           void *ctx, mc_err_t *err);

/* agency_journal_close - close the file, release the lock, free, NULL the pointer */
void agency_journal_close(agency_journal_t **j);

/* --- the client (agency_client.c) --------------------------------------- */

/* agency_outcome - the deterministic outcome (motcua.v1.Outcome) for a case id */
int agency_outcome(const agency_opts_t *opts, const char *case_id);

/* agency_outcome_decided - APPROVED or REJECTED for a case id: the split without
 * needs_documents (for a re-decision after REASON_SUPPLEMENT_ALREADY_REQUESTED;
 * APPROVED when the split has neither) */
int agency_outcome_decided(const agency_opts_t *opts, const char *case_id);

/* agency_run - serve on an mc_loop until SIGTERM/SIGINT come on signal_fd
 * (mc_daemon_signal_fd; SIGHUP is logged and ignored) or count is reached;
 * journal (may be NULL: memory only) is replayed first; 0 ok, -1 error */
int agency_run(const agency_opts_t *opts, agency_journal_t *journal, int signal_fd);

#endif
