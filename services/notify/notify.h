/*
 * notify - the motcua-notify daemon's internal interfaces.
 *
 * Shape: one thread, plus a fixed pool of NOTIFY_SEND_THREADS (8) while a
 * batch's SMS and e-mail transfers run. For a batch of up to notify.batch
 * notifications (default 64) at a time it
 *   1. claims them in ONE short transaction (mc_store_notify: FOR UPDATE SKIP
 *      LOCKED, so any number of instances may run), renders each kind's
 *      template (config/notifications.yaml) with the dossier's values,
 *      picks the channels still to do (spool always; SMS and e-mail when
 *      configured and the applicant has an address; minus those that
 *      succeeded before), writes their attempts "in progress" and leases the
 *      batch for notify.send_lease_ms (however many it holds: a transfer
 *      that cannot start in time is retried by the next claim), and commits;
 *   2. sends on those channels with NO transaction open, all within the
 *      first three quarters of the lease: the spool files written together,
 *      fsynced, renamed, the directory fsynced once; the network transfers
 *      on the pool, each outcome its own notification's;
 *   3. records every outcome and decision of the batch (sent, retry with
 *      doubling backoff, failed for good at max_attempts: notify_decide_retry,
 *      the store only writes its verdict) in a second short
 *      transaction. If the store is down then, it keeps the outcomes and
 *      records them when the store is back, before claiming anything else.
 * It wakes on any PipelineEvent from intake, router or lienthong, or every
 * notify.poll_ms; PostgreSQL being down (at start too) is waited out.
 *
 * Delivery guarantees. A crash of notify or PostgreSQL between 1 and 3
 * leaves the outcome unknown: once the lease has run out the notification
 * is claimed again and those channels are sent again, every time under the
 * same stable message id, notify_message_ref(): "motcua-<notification id>".
 * A channel whose success was committed is never sent again.
 *   * spool: exactly once, as a file: <spool_dir>/<notification id>.txt,
 *     written to a temporary name and renamed, so a resend replaces it.
 *   * SMS: at-least-once to the gateway; exactly once delivered by a gateway
 *     that dedupes on the reference. Each POST to notify.sms_url carries
 *       header  Idempotency-Key: motcua-<id>
 *       body    {"to":"<phone>","text":"<sms text>","ref":"motcua-<id>"}
 *     (Content-Type: application/json; charset=utf-8, Authorization:
 *     Bearer <token> when a token file is set); any 2xx means taken.
 *   * e-mail: at-least-once; every copy has the header
 *       Message-ID: <motcua-<id>@<domain of notify.smtp_from>>
 *     so mail clients and MTAs that dedupe on Message-ID show one.
 * Personal data (phone, e-mail, name) and the rating link's token go to the
 * channels and the spool files only, never to logs or to stored error text.
 */
#ifndef NOTIFY_H
#define NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mc_cfg.h"
#include "mc_daemon.h"
#include "mc_err.h"
#include "mc_store_notify.h"

/* --- templates (notify_templates.c) -------------------------------------- */

typedef struct notify_templates notify_templates_t;

/* the values a template may use; NULL counts as "" */
typedef struct notify_values {
    const char *code;      /* dossier code */
    const char *procedure; /* procedure name */
    const char *due;       /* DD/MM/YYYY */
    const char *name;      /* applicant */
    const char *ward;      /* ward name */
    const char *unit;      /* one-stop unit name */
    const char *address;   /* where results are returned */
    const char *missing;   /* supplement_requested */
    const char *reason;    /* late, refused */
    const char *new_due;   /* late, apology */
    const char *old_due;   /* apology: the appointment replaced */
    const char *supplement_due; /* supplement_requested, returned: DD/MM/YYYY, the last day to supplement */
    const char *rating_link; /* result_ready, refused: the satisfaction survey link (holds the dossier's secret token) */
    const char *secret;    /* received, submitted: the dossier's secret (Receipt.secret); never logged */
    const char *accept_due; /* submitted: the acceptance deadline, "HH giờ MM phút, ngày DD/MM/YYYY" */
} notify_values_t;

/* a rendered message: malloc'd texts */
typedef struct notify_message {
    char *sms;     /* SMS text */
    char *subject; /* e-mail subject */
    char *body;    /* e-mail / spool body */
} notify_message_t;

/*
 * notify_templates_load - read notifications.yaml strictly: every kind
 * present, no other kind, exactly the keys sms, email_subject, email_body,
 * no unknown or unavailable placeholder. Every problem is reported.
 */
int notify_templates_load(const char *path, notify_templates_t **out, mc_err_t *err);

/* notify_templates_destroy - free and NULL */
void notify_templates_destroy(notify_templates_t **templates);

/* notify_render - the kind's message with values; -1 for an unknown kind or out of memory */
int notify_render(const notify_templates_t *templates, const char *kind,
                  const notify_values_t *values, notify_message_t *msg);

/* notify_templates_set_sms_ascii - notify.sms_ascii: SMS rendered without diacritics */
void notify_templates_set_sms_ascii(notify_templates_t *templates, bool on);

/* notify_sms_unaccent - text in place without diacritics (không dấu): each precomposed
 * Vietnamese letter to its base letter (đ->d, Đ->D), combining marks U+0300..U+036F
 * dropped, everything else kept; returns the new length (never longer) */
size_t notify_sms_unaccent(char *text);

/* notify_sms_parts - SMS parts text takes: GSM-7 (160 a part, 153 when concatenated)
 * when every character is in the GSM 03.38 alphabet, else UCS-2 (70, 67) */
int notify_sms_parts(const char *text);

/* notify_message_clear - free the texts, zero */
void notify_message_clear(notify_message_t *msg);

/*
 * notify_rating_link - "<base>?ma=<code>&t=<token>" into buf (with '&'
 * instead of '?' when base already has a query), code and token
 * percent-encoded (RFC 3986: all but unreserved characters). Returns buf,
 * or NULL when it does not fit (the caller then leaves the link out).
 */
const char *notify_rating_link(const char *base, const char *code, const char *token, char *buf,
                               size_t size);

/* --- channels (notify_channels.c) ---------------------------------------- */

typedef struct notify_channels notify_channels_t;

/* who to tell: personal data, never logged */
typedef struct notify_recipient {
    const char *phone; /* "" = none */
    const char *email; /* "" = none */
    const char *name;  /* for the e-mail's To display name */
} notify_recipient_t;

#define NOTIFY_REF_MAX 32              /* bytes for "motcua-<id>" and its NUL */
#define NOTIFY_TRANSFER_MAX_MS 20000L /* one SMS or e-mail transfer, connecting included */

/* notify_message_ref - the stable message id of notification id,
 * "motcua-<id>", the same on every resend; returns buf */
const char *notify_message_ref(int64_t id, char *buf, size_t size);

/* notify_channels_new - read secrets (token, password), make the spool dir; NULL with err */
notify_channels_t *notify_channels_new(const mc_cfg_notify_t *cfg, mc_err_t *err);

/* notify_channels_destroy - free and NULL (secrets are wiped) */
void notify_channels_destroy(notify_channels_t **channels);

/* notify_spool_enabled / notify_sms_enabled / notify_email_enabled - is the
 * channel configured? (notify.spool_dir "" turns the spool off) */
bool notify_spool_enabled(const notify_channels_t *channels);
bool notify_sms_enabled(const notify_channels_t *channels);
bool notify_email_enabled(const notify_channels_t *channels);

/*
 * Each sender returns 0 when the channel took the message, else -1 with a
 * short reason in error (no personal data: "http 500", "timeout").
 * timeout_ms bounds a network send (capped at NOTIFY_TRANSFER_MAX_MS).
 */

/* notify_spool_write - <spool_dir>/<id>.txt via a temporary file and rename:
 * writing the same id again replaces the file, so a resend stays one file */
int notify_spool_write(notify_channels_t *channels, int64_t id, const char *kind,
                       const char *code, const notify_recipient_t *to,
                       const notify_message_t *msg, char *error, size_t size);

/* one spool file of a batch */
typedef struct notify_spool_item {
    int64_t                   id;    /* notification id: the file is <id>.txt */
    const char               *kind;  /* notification kind */
    const char               *code;  /* dossier code */
    const notify_recipient_t *to;    /* contacts written into the file */
    const notify_message_t   *msg;   /* rendered texts */
    char                     *error; /* out: why not (no personal data) */
    size_t                    size;  /* bytes at error */
    int                       rc;    /* out: 0 written and durable, -1 not (error says why) */
} notify_spool_item_t;

/* notify_spool_write_batch - notify_spool_write for items[0..n), with the disk
 * flushes shared: every file written, then each fsynced and renamed, then the
 * directory fsynced ONCE; an item is rc 0 only once all that is done. Returns
 * the number written */
int notify_spool_write_batch(notify_channels_t *channels, notify_spool_item_t *items, size_t n);

/* notify_sms_send - POST {"to": phone, "text": sms, "ref": "motcua-<id>"} with
 * the header Idempotency-Key: motcua-<id> to sms_url; 2xx = taken */
int notify_sms_send(notify_channels_t *channels, int64_t id, const notify_recipient_t *to,
                    const notify_message_t *msg, int timeout_ms, char *error, size_t size);

/* notify_email_send - one MIME UTF-8 message (built by curl_mime: multipart/mixed,
 * one base64 text/plain part) through smtp_url, Message-ID
 * <motcua-<id>@domain> */
int notify_email_send(notify_channels_t *channels, int64_t id, const notify_recipient_t *to,
                      const notify_message_t *msg, int timeout_ms, char *error, size_t size);

/* notify_mime_subject - RFC 2047 "=?UTF-8?B?...?=" words, folded; malloc'd */
char *notify_mime_subject(const char *subject);

/* --- the retry policy (notify_decide.c) ------------------------------------ */

/* notify_backoff_ms - the delay after the attempts-th failed attempt (attempts >= 1):
 * retry_initial_ms * 2^(attempts-1), at most retry_max_ms (an initial <= 0 counts as 1) */
int notify_backoff_ms(const mc_cfg_notify_t *cfg, int attempts);

/* notify_decide_retry - the verdict for a notification not sent by every wanted
 * channel after its attempts-th attempt: failed for good once attempts reach
 * max_attempts, else pending again after notify_backoff_ms; also asked, with the
 * attempts counted at claim, whether a lost last attempt ends it (mc_store_notify_start) */
mc_notice_retry_t notify_decide_retry(const mc_cfg_notify_t *cfg, int attempts);

/* --- the loop (notify_loop.c) --------------------------------------------- */

typedef struct notify notify_t;

/* notify_new - connect the event subscriptions; the store connects lazily */
notify_t *notify_new(const mc_cfg_t *cfg, const notify_templates_t *templates,
                     notify_channels_t *channels, mc_err_t *err);

/* notify_start - on d's loop: work at once and every notify.poll_ms, and at
 * once when an event comes; a stop (mc_daemon_stopping) is seen between two
 * batches (SIGTERM waits for at most the batch in hand). 0, or -1 with err */
int notify_start(notify_t *notify, mc_daemon_t *d, mc_err_t *err);

/* notify_finish - after the loop: outcomes that cannot be recorded because
 * the store is down are left to the lease (resent after it); 0 */
int notify_finish(notify_t *notify);

/* notify_reload - render with templates and read cfg (catalog, wards, retry
 * figures, rating_url) from now on; the channels read cfg->notify (their
 * URLs, files and spool stay as they started: the skeleton keeps those keys).
 * Call between two loop handlers; the old ones are not read afterwards. */
void notify_reload(notify_t *notify, const mc_cfg_t *cfg, const notify_templates_t *templates);

/* notify_channels_reload - read cfg from now on (notify_reload) */
void notify_channels_reload(notify_channels_t *channels, const mc_cfg_notify_t *cfg);

/* notify_destroy - close sockets and the store, free, NULL */
void notify_destroy(notify_t **notify);

#endif
