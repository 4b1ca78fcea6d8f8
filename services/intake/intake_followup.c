/*
 * intake_followup - the applicant's follow-ups on a dossier already
 * received: SupplementDossier (bổ sung hồ sơ), WithdrawDossier (rút hồ
 * sơ) and RateService (đánh giá mức độ hài lòng). Contract in
 * proto/motcua/v1/intake.proto; rules in docs/pipeline.md.
 *
 * Same guarantees as a submission: the Acknowledgement is packed while the
 * dossier's row is locked, stored with the idempotency key in the same
 * transaction as the change, and sent only after the commit. A retry with
 * the same submission_id and the same request gets those bytes again; the
 * same id with another request is REASON_DUPLICATE_SUBMISSION. Refusals
 * (wrong state, too many documents, wrong token, already rated) store
 * nothing, so a request refused today can succeed once the state allows it.
 * A rating's token and comment never reach a log line: the token is the
 * secret of the applicant's link, the comment is the applicant's own words.
 */
#include "intake.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "mc_code.h"
#include "mc_event.h"
#include "mc_daemon.h"
#include "mc_log.h"
#include "mc_store_followup.h"
#include "mc_time.h"
#include "mc_validate.h"
#include "motcua/internal/v1/pipeline.pb-c.h"

#define FU_MAX_NOTE     2000      /* bytes in note / reason / comment */
#define FU_TOKEN_LEN    INTAKE_SECRET_LEN /* a rating token is the dossier's secret */


/* why a RETURNED dossier takes no follow-up (issue 12: one supplement, then return) */
#define RETURNED_TEXT "Hồ sơ đã được trả lại do không bổ sung trong thời hạn."

/* intake_note_event - remember one event; the worker hands it to the broker */
void intake_note_event(intake_ctx_t *ctx, int kind, const char *code)
{
    ctx->event_kind = kind;
    snprintf(ctx->event_code, sizeof ctx->event_code, "%s", code);
}

/* text_ok - optional UTF-8 text within max bytes */
static int text_ok(const char *text, const char *field, size_t max, mc_problem_t *problem)
{
    size_t n = text ? strlen(text) : 0;
    if (n > max)
        return mc_problem_set(problem, MOTCUA__V1__REASON__REASON_TOO_LARGE, field,
                              "Trường %s dài quá %zu byte.", field, max);
    if (n && !mc_valid_utf8(text, n))
        return mc_problem_set(problem, MOTCUA__V1__REASON__REASON_INVALID_UTF8, field,
                              "Trường %s không phải văn bản UTF-8 hợp lệ.", field);
    return 0;
}

/* check_common - submission_id and dossier_code; *ward is the unit's ward */
static int check_common(const mc_cfg_t *cfg, const char *submission_id, const char *code,
                        const mc_ward_t **ward, mc_problem_t *problem)
{
    if (!submission_id || !*submission_id)
        return mc_problem_set(problem, MOTCUA__V1__REASON__REASON_MISSING_FIELD, "submission_id",
                              "Thiếu mã lần gửi (submission_id).");
    if (!mc_valid_submission_id(submission_id))
        return mc_problem_set(problem, MOTCUA__V1__REASON__REASON_INVALID_FORMAT, "submission_id",
                              "Mã lần gửi phải dài 8–64 ký tự gồm chữ, số và . _ : -");
    size_t n = code ? strlen(code) : 0;
    if (n == 0)
        return mc_problem_set(problem, MOTCUA__V1__REASON__REASON_MISSING_FIELD, "dossier_code",
                              "Thiếu mã hồ sơ.");
    if (n >= MC_CODE_MAX)
        return mc_problem_set(problem, MOTCUA__V1__REASON__REASON_TOO_LARGE, "dossier_code",
                              "Mã hồ sơ quá dài.");
    char unit[MC_CODE_MAX];
    mc_date_t day;
    int seq;
    if (mc_code_parse(code, unit, sizeof unit, &day, &seq) != 0)
        return mc_problem_set(problem, MOTCUA__V1__REASON__REASON_INVALID_FORMAT, "dossier_code",
                              "Mã hồ sơ không đúng định dạng <mã đơn vị>-<YYMMDD>-<số thứ tự>.");
    /* the code names its receiving unit: that ward's key space holds the id;
     * a unit not served here is the caller's REASON_FORBIDDEN (intake_forbidden) */
    *ward = intake_ward_of_unit(cfg, unit);
    return 0;
}

/* refuse_problem - log and answer a validation problem */
static void refuse_problem(intake_ctx_t *ctx, const char *what, const mc_problem_t *p,
                           intake_reply_t *reply)
{
    mc_daemon_count(MC_COUNT_ERRORS, 1); /* per request: debug, in the summary */
    mc_log(MC_LOG_DEBUG, "rejected", "worker=%d request=%s reason=%s field=%s", ctx->worker, what,
           protobuf_c_enum_descriptor_get_value(&motcua__v1__reason__descriptor, p->reason)->name,
           p->field);
    intake_reply_rejection(reply, p->reason, p->field, p->message, 0);
}

/* what a decide callback needs and leaves behind */
typedef struct fu_ctx {
    intake_ctx_t   *ctx;           /* the worker */
    const char     *submission_id; /* echoed in the ack */
    const Motcua__V1__SupplementDossier *supplement; /* supplement only */
    const Motcua__V1__WithdrawDossier   *withdraw;   /* withdraw only */
    const Motcua__V1__RateService       *rate;       /* rate only */
    intake_reply_t  ack;           /* the packed Acknowledgement (stored and sent) */
    intake_reply_t  refusal;       /* a packed Rejection when decide refused */
    uint8_t        *payload;       /* supplement: the new serialized Dossier */
    int64_t         due_at;        /* the ack's due date */
    char            detail[200];   /* event detail */
    const char     *actor;         /* the client, recorded as the event's actor */
} fu_ctx_t;

/* pack_ack - the Acknowledgement for row in state, due_at (0 = none) */
static int pack_ack(fu_ctx_t *fu, const char *code, int state, int64_t due_at, const char *msg)
{
    char due_text[80] = "";
    if (due_at > 0)
        mc_format_local(due_at, due_text, sizeof due_text);
    Motcua__V1__Acknowledgement ack = MOTCUA__V1__ACKNOWLEDGEMENT__INIT;
    ack.dossier_code = (char *)code;
    ack.state = state;
    ack.due_at = due_at;
    ack.message = (char *)msg;
    ack.submission_id = (char *)fu->submission_id;
    ack.due_text = due_text;
    Motcua__V1__IntakeReply msg_reply = MOTCUA__V1__INTAKE_REPLY__INIT;
    msg_reply.body_case = MOTCUA__V1__INTAKE_REPLY__BODY_ACK;
    msg_reply.ack = &ack;
    return intake_reply_pack(&fu->ack, &msg_reply);
}

/* refuse_state - decide's refusal: nothing stored, the caller sends this */
static int refuse_state(fu_ctx_t *fu, const mc_followup_row_t *row, const char *what,
                        Motcua__V1__Reason reason, const char *field, const char *message)
{
    mc_daemon_count(MC_COUNT_ERRORS, 1); /* per request: debug, in the summary */
    mc_log(MC_LOG_DEBUG, "rejected", "worker=%d request=%s code=%s state=%d reason=%s",
           fu->ctx->worker, what, row->code, row->state,
           protobuf_c_enum_descriptor_get_value(&motcua__v1__reason__descriptor, reason)->name);
    if (intake_reply_rejection(&fu->refusal, reason, field, message, 0) != 0)
        return -1;
    return 1;
}

/* refuse_ward - the row's own ward must be one the client acts for: the
 * code's unit was checked before the store was asked, this checks the row
 * itself (a unit moved to another ward), with the very answer a code of
 * another ward gets, so neither tells whether the dossier exists */
static int refuse_ward(fu_ctx_t *fu, const mc_followup_row_t *row)
{
    if (intake_acts_for_dossier(fu->ctx, row->ward_code, row->receiving_ward))
        return 0;
    return intake_forbidden(fu->ctx, NULL, "dossier_code", &fu->refusal);
}

/* refuse_secret - 0 when the ward's counter client asks, or the dossier's
 * secret is given; a refusal (1) otherwise, and for a wrong secret from anyone.
 * First in every decide: without the secret nobody learns the dossier's state. */
static int refuse_secret(fu_ctx_t *fu, const mc_followup_row_t *row, const char *what,
                         const char *given, const char *field)
{
    bool has = given && *given;
    if (has ? intake_secret_equal(given, row->rating_token)
            : fu->ctx->client->role == MC_CLIENT_COUNTER)
        return 0;
    return refuse_state(fu, row, what, MOTCUA__V1__REASON__REASON_FORBIDDEN, field,
                        has ? "Mã bí mật của hồ sơ không đúng; vui lòng dùng mã in trên giấy "
                              "tiếp nhận hoặc đường liên kết trong thông báo."
                            : "Cần mã bí mật của hồ sơ (in trên giấy tiếp nhận), hoặc người "
                              "nộp đến Bộ phận Một cửa.");
}

/* supplement_unaccepted - the desk asked for more before accepting an online
 * dossier: it goes back to the desk (PENDING_ACCEPTANCE) with a new
 * acceptance deadline from now, and still no due date */
static int supplement_unaccepted(fu_ctx_t *fu, const mc_followup_row_t *row,
                                 mc_followup_change_t *ch, int64_t now, size_t payload_len)
{
    int64_t accept_due = 0;
    mc_err_t err;
    mc_err_clear(&err);
    if (intake_accept_due(fu->ctx->cfg, now, &accept_due, &err) != 0) {
        mc_log_error(MC_LOG_ERR, "calendar_error", &err, "worker=%d code=%s", fu->ctx->worker,
               row->code);
        return -1;
    }
    char due_text[80], msg[300];
    mc_format_local(accept_due, due_text, sizeof due_text);
    snprintf(msg, sizeof msg,
             "Đã nhận hồ sơ bổ sung; hồ sơ chờ tiếp nhận, Bộ phận Một cửa kiểm tra lại trước %s. "
             "Thời hạn giải quyết tính từ khi hồ sơ được tiếp nhận.", due_text);
    if (pack_ack(fu, row->code, MOTCUA__V1__DOSSIER_STATE__DOSSIER_STATE_PENDING_ACCEPTANCE, 0,
                 msg))
        return -1;
    mc_event_supplemented_pending(fu->detail, sizeof fu->detail, fu->supplement->n_documents,
                                  accept_due);
    fu->due_at = 0;
    ch->response = fu->ack.bytes;
    ch->response_len = fu->ack.length;
    ch->payload = fu->payload;
    ch->payload_len = payload_len;
    ch->accept_due_at = accept_due;
    ch->detail = fu->detail;
    ch->actor = fu->actor;
    return 0;
}

/* decide_supplement - only while waiting for documents; the clock starts again */
static int decide_supplement(void *arg, const mc_followup_row_t *row, mc_followup_change_t *ch)
{
    fu_ctx_t *fu = arg;
    if (refuse_ward(fu, row) || refuse_secret(fu, row, "supplement", fu->supplement->secret,
                                               "secret"))
        return 1;
    const mc_cfg_t *cfg = fu->ctx->cfg;
    if (row->state == MOTCUA__V1__DOSSIER_STATE__DOSSIER_STATE_RETURNED) /* final: too late */
        return refuse_state(fu, row, "supplement", MOTCUA__V1__REASON__REASON_WRONG_STATE,
                            "dossier_code", RETURNED_TEXT " Không thể bổ sung; đề nghị nộp hồ sơ mới.");
    if (row->state != MOTCUA__V1__DOSSIER_STATE__DOSSIER_STATE_WAITING_SUPPLEMENT)
        return refuse_state(fu, row, "supplement", MOTCUA__V1__REASON__REASON_WRONG_STATE,
                            "dossier_code",
                            "Hồ sơ không ở trạng thái chờ bổ sung; không cần hoặc không thể "
                            "bổ sung lúc này.");
    const mc_procedure_t *proc = mc_catalog_find(cfg->catalog, row->procedure_code);
    if (!proc)
        return -1; /* a dossier of a procedure no longer in the catalog: an operator's problem */
    Motcua__V1__Dossier *d =
        motcua__v1__dossier__unpack(NULL, row->payload_len, row->payload);
    if (!d)
        return -1;
    const Motcua__V1__SupplementDossier *s = fu->supplement;
    size_t total = d->n_documents + s->n_documents;
    if (total > (size_t)cfg->intake.max_documents || total > MC_MAX_DOCUMENTS_HARD) {
        motcua__v1__dossier__free_unpacked(d, NULL);
        return refuse_state(fu, row, "supplement", MOTCUA__V1__REASON__REASON_TOO_LARGE,
                            "documents", "Tổng số giấy tờ của hồ sơ vượt quá giới hạn.");
    }
    /* the stored payload gains the new documents after the old ones */
    Motcua__V1__DocumentRef **docs = calloc(total, sizeof *docs);
    if (!docs) {
        motcua__v1__dossier__free_unpacked(d, NULL);
        return -1;
    }
    for (size_t i = 0; i < d->n_documents; i++)
        docs[i] = d->documents[i];
    for (size_t i = 0; i < s->n_documents; i++)
        docs[d->n_documents + i] = s->documents[i];
    Motcua__V1__Dossier extended = *d;
    extended.documents = docs;
    extended.n_documents = total;
    size_t len = motcua__v1__dossier__get_packed_size(&extended);
    fu->payload = malloc(len ? len : 1);
    if (fu->payload)
        motcua__v1__dossier__pack(&extended, fu->payload);
    free(docs);
    motcua__v1__dossier__free_unpacked(d, NULL);
    if (!fu->payload)
        return -1;

    int64_t now = (int64_t)time(NULL), counted = 0, due = 0;
    mc_err_t err;
    mc_err_clear(&err);
    if (row->unaccepted)
        return supplement_unaccepted(fu, row, ch, now, len);
    if (mc_calendar_due(cfg->calendar, now, proc->processing_time, proc->time_unit,
                        proc->cutoff_minutes, &counted, &due, &err) != 0) {
        mc_log_error(MC_LOG_ERR, "calendar_error", &err, "worker=%d code=%s", fu->ctx->worker,
               row->code);
        return -1;
    }
    char due_text[80], msg[300];
    snprintf(msg, sizeof msg,
             "Đã nhận hồ sơ bổ sung; thời hạn giải quyết tính lại từ khi nhận đủ hồ sơ. "
             "Hẹn trả kết quả: %s.", mc_format_local(due, due_text, sizeof due_text));
    if (pack_ack(fu, row->code, MOTCUA__V1__DOSSIER_STATE__DOSSIER_STATE_IN_PROGRESS, due, msg))
        return -1;
    mc_event_supplemented(fu->detail, sizeof fu->detail, s->n_documents, due);
    fu->due_at = due;
    ch->response = fu->ack.bytes;
    ch->response_len = fu->ack.length;
    ch->payload = fu->payload;
    ch->payload_len = len;
    ch->counted_from = counted;
    ch->due_at = due;
    ch->detail = fu->detail;
    ch->actor = fu->actor;
    return 0;
}

/* decide_withdraw - any open state; refused once the result is ready or the dossier returned */
static int decide_withdraw(void *arg, const mc_followup_row_t *row, mc_followup_change_t *ch)
{
    fu_ctx_t *fu = arg;
    if (refuse_ward(fu, row) || refuse_secret(fu, row, "withdraw", fu->withdraw->secret, "secret"))
        return 1;
    switch (row->state) {
    case MOTCUA__V1__DOSSIER_STATE__DOSSIER_STATE_RESULT_READY:
    case MOTCUA__V1__DOSSIER_STATE__DOSSIER_STATE_DELIVERED:
        return refuse_state(fu, row, "withdraw", MOTCUA__V1__REASON__REASON_WRONG_STATE,
                            "dossier_code", "Hồ sơ đã có kết quả; không thể rút hồ sơ.");
    case MOTCUA__V1__DOSSIER_STATE__DOSSIER_STATE_WITHDRAWN:
        return refuse_state(fu, row, "withdraw", MOTCUA__V1__REASON__REASON_WRONG_STATE,
                            "dossier_code", "Hồ sơ đã được rút trước đó.");
    case MOTCUA__V1__DOSSIER_STATE__DOSSIER_STATE_REFUSED:
        return refuse_state(fu, row, "withdraw", MOTCUA__V1__REASON__REASON_WRONG_STATE,
                            "dossier_code", "Hồ sơ đã bị từ chối giải quyết; không thể rút.");
    case MOTCUA__V1__DOSSIER_STATE__DOSSIER_STATE_RETURNED:
        return refuse_state(fu, row, "withdraw", MOTCUA__V1__REASON__REASON_WRONG_STATE,
                            "dossier_code", RETURNED_TEXT " Không thể rút hồ sơ.");
    default:
        break;
    }
    if (pack_ack(fu, row->code, MOTCUA__V1__DOSSIER_STATE__DOSSIER_STATE_WITHDRAWN, 0,
                 "Đã rút hồ sơ theo yêu cầu; hồ sơ không được giải quyết tiếp."))
        return -1;
    mc_event_withdrawn(fu->detail, sizeof fu->detail);
    ch->response = fu->ack.bytes;
    ch->response_len = fu->ack.length;
    ch->detail = fu->detail;
    ch->actor = fu->actor;
    ch->reason = fu->withdraw->reason ? fu->withdraw->reason : "";
    return 0;
}

/* the Vietnamese name of each motcua.v1.Satisfaction level (1..3) */
static const char *const level_text[] = {"", "Rất hài lòng", "Hài lòng", "Không hài lòng"};

/* decide_rate - once the dossier is decided, with its token, once */
static int decide_rate(void *arg, const mc_followup_row_t *row, mc_followup_change_t *ch)
{
    fu_ctx_t *fu = arg;
    if (refuse_ward(fu, row))
        return 1;
    switch (row->state) {
    case MOTCUA__V1__DOSSIER_STATE__DOSSIER_STATE_RESULT_READY:
    case MOTCUA__V1__DOSSIER_STATE__DOSSIER_STATE_DELIVERED:
    case MOTCUA__V1__DOSSIER_STATE__DOSSIER_STATE_REFUSED:
        break;
    case MOTCUA__V1__DOSSIER_STATE__DOSSIER_STATE_WITHDRAWN:
        return refuse_state(fu, row, "rate", MOTCUA__V1__REASON__REASON_WRONG_STATE,
                            "dossier_code", "Hồ sơ đã được rút; không thể đánh giá.");
    case MOTCUA__V1__DOSSIER_STATE__DOSSIER_STATE_RETURNED: /* never decided: nothing to rate */
        return refuse_state(fu, row, "rate", MOTCUA__V1__REASON__REASON_WRONG_STATE,
                            "dossier_code", RETURNED_TEXT " Không có kết quả giải quyết để đánh giá.");
    default:
        return refuse_state(fu, row, "rate", MOTCUA__V1__REASON__REASON_WRONG_STATE,
                            "dossier_code",
                            "Hồ sơ chưa có kết quả giải quyết; Ông/Bà có thể đánh giá sau "
                            "khi nhận thông báo kết quả.");
    }
    /* the token before "already rated": without it nobody learns whether a rating exists */
    if (refuse_secret(fu, row, "rate", fu->rate->token, "token"))
        return 1;
    if (row->rated)
        return refuse_state(fu, row, "rate", MOTCUA__V1__REASON__REASON_ALREADY_RATED,
                            "dossier_code",
                            "Hồ sơ này đã được đánh giá; mỗi hồ sơ chỉ được đánh giá một lần.");
    int level = (int)fu->rate->level; /* 1..3: checked before the store was called */
    char msg[300];
    snprintf(msg, sizeof msg,
             "Cảm ơn Ông/Bà đã đánh giá mức độ hài lòng (%s). Ý kiến của Ông/Bà đã được ghi "
             "nhận để chúng tôi phục vụ tốt hơn.", level_text[level]);
    if (pack_ack(fu, row->code, row->state, 0, msg))
        return -1;
    /* the level only: the comment stays in the rating row, out of the history */
    mc_event_rated(fu->detail, sizeof fu->detail, level_text[level]);
    ch->response = fu->ack.bytes;
    ch->response_len = fu->ack.length;
    ch->detail = fu->detail;
    ch->actor = fu->actor;
    ch->level = level;
    ch->comment = fu->rate->comment ? fu->rate->comment : "";
    return 0;
}

/* run_followup - hash, store, and turn the outcome into the reply */
static void run_followup(intake_ctx_t *ctx, fu_ctx_t *fu, mc_followup_kind_t kind,
                         const mc_ward_t *ward, const char *code, const uint8_t *request,
                         size_t request_len, intake_reply_t *reply)
{
    const char *what = kind == MC_FOLLOWUP_SUPPLEMENT ? "supplement"
                       : kind == MC_FOLLOWUP_WITHDRAW ? "withdraw" : "rate";
    mc_followup_decide_fn decide = kind == MC_FOLLOWUP_SUPPLEMENT ? decide_supplement
                                   : kind == MC_FOLLOWUP_WITHDRAW ? decide_withdraw : decide_rate;
    if (intake_forbidden_code(ctx, ward, code, reply))
        return;
    int64_t started = mc_time_mono_ms();
    uint8_t sha[32];
    crypto_hash_sha256(sha, request, request_len);
    char scope[64];
    snprintf(scope, sizeof scope, "%s:%s", what, ward->code);
    fu->actor = ctx->client->code;
    if (intake_store_ready(ctx) != 0) {
        intake_reply_rejection(reply, MOTCUA__V1__REASON__REASON_UNAVAILABLE, "",
                               "Hệ thống tạm thời không lưu được yêu cầu; yêu cầu chưa được "
                               "ghi nhận. Vui lòng gửi lại sau ít phút.",
                               ctx->cfg->intake.retry_after_ms);
        return;
    }
    mc_followup_t req = {
        .kind = kind, .scope = scope, .key = fu->submission_id, .request_sha256 = sha,
        .code = code, .decide = decide, .arg = fu,
    };
    mc_stored_response_t existing = {0};
    bool refused = false;
    mc_err_t err;
    mc_err_clear(&err);
    mc_store_rc_t rc = mc_store_followup(ctx->store, &req, &existing, &refused, &err);
    if (rc == MC_STORE_EXISTS) {
        if (memcmp(existing.request_sha256, sha, 32) != 0) {
            mc_log(MC_LOG_NOTICE, "submission_conflict", "worker=%d request=%s ward=%s",
                   ctx->worker, what, ward->code);
            intake_reply_rejection(reply, MOTCUA__V1__REASON__REASON_DUPLICATE_SUBMISSION,
                                   "submission_id",
                                   "Mã lần gửi này đã được dùng cho một yêu cầu khác; "
                                   "hãy dùng mã mới.", 0);
        } else {
            intake_reply_clear(reply);
            reply->bytes = existing.bytes; /* take ownership: the same bytes as the first time */
            reply->length = existing.length;
            existing.bytes = NULL;
            mc_log(MC_LOG_INFO, "ack_replayed", "worker=%d request=%s ward=%s", ctx->worker,
                   what, ward->code);
        }
        mc_stored_response_clear(&existing);
        return;
    }
    if (rc == MC_STORE_NOT_FOUND) {
        intake_reply_rejection(reply, MOTCUA__V1__REASON__REASON_NOT_FOUND, "dossier_code",
                               "Không tìm thấy hồ sơ có mã này.", 0);
        return;
    }
    if (rc != MC_STORE_OK) {
        mc_log_error(rc == MC_STORE_UNAVAILABLE ? MC_LOG_WARNING : MC_LOG_ERR, "store_error", &err,
                     "worker=%d request=%s rc=%d", ctx->worker, what, (int)rc);
        if (rc == MC_STORE_UNAVAILABLE)
            ctx->next_connect = mc_time_mono_ms() + ctx->cfg->intake.reconnect_ms;
        intake_reply_rejection(reply,
                               rc == MC_STORE_UNAVAILABLE ? MOTCUA__V1__REASON__REASON_UNAVAILABLE
                                                          : MOTCUA__V1__REASON__REASON_INTERNAL,
                               "", "Lỗi hệ thống; yêu cầu chưa được ghi nhận. Vui lòng gửi lại.",
                               ctx->cfg->intake.retry_after_ms);
        return;
    }
    intake_reply_clear(reply);
    if (refused) {
        *reply = fu->refusal;
        fu->refusal = (intake_reply_t){0};
        return;
    }
    /* committed: only now may the acknowledgement leave */
    *reply = fu->ack;
    fu->ack = (intake_reply_t){0};
    if (kind == MC_FOLLOWUP_RATE) {
        /* no event: a rating changes no state, so no daemon has anything to do */
        mc_log(MC_LOG_INFO, "rated", "worker=%d code=%s ward=%s ms=%lld", ctx->worker, code,
               ward->code, (long long)(mc_time_mono_ms() - started));
        return;
    }
    intake_note_event(ctx,
                      kind == MC_FOLLOWUP_SUPPLEMENT
                          ? MOTCUA__INTERNAL__V1__PIPELINE_EVENT__KIND__KIND_SUPPLEMENTED
                          : MOTCUA__INTERNAL__V1__PIPELINE_EVENT__KIND__KIND_WITHDRAWN,
                      code);
    mc_log(MC_LOG_INFO, kind == MC_FOLLOWUP_SUPPLEMENT ? "supplemented" : "withdrawn",
           "worker=%d code=%s ward=%s due=%lld ms=%lld", ctx->worker, code, ward->code,
           (long long)fu->due_at, (long long)(mc_time_mono_ms() - started));
}

/* fu_clear - free what decide left */
static void fu_clear(fu_ctx_t *fu)
{
    intake_reply_clear(&fu->ack);
    intake_reply_clear(&fu->refusal);
    free(fu->payload);
    fu->payload = NULL;
}

/* pack_request - the request's own bytes, the idempotency fingerprint */
static uint8_t *pack_request(const ProtobufCMessage *m, size_t *len)
{
    *len = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(*len ? *len : 1);
    if (buf)
        protobuf_c_message_pack(m, buf);
    return buf;
}

/* intake_supplement - validate, then supplement in one transaction */
void intake_supplement(intake_ctx_t *ctx, const Motcua__V1__SupplementDossier *supplement,
                       intake_reply_t *reply)
{
    const mc_cfg_t *cfg = ctx->cfg;
    const mc_ward_t *ward = NULL;
    mc_problem_t problem;
    if (check_common(cfg, supplement->submission_id, supplement->dossier_code, &ward, &problem)) {
        refuse_problem(ctx, "supplement", &problem, reply);
        return;
    }
    if (supplement->n_documents == 0) {
        mc_problem_set(&problem, MOTCUA__V1__REASON__REASON_MISSING_FIELD, "documents",
                       "Chưa có giấy tờ bổ sung nào.");
        refuse_problem(ctx, "supplement", &problem, reply);
        return;
    }
    if (supplement->n_documents > (size_t)cfg->intake.max_documents) {
        mc_problem_set(&problem, MOTCUA__V1__REASON__REASON_TOO_LARGE, "documents",
                       "Quá nhiều giấy tờ (tối đa %d).", cfg->intake.max_documents);
        refuse_problem(ctx, "supplement", &problem, reply);
        return;
    }
    for (size_t i = 0; i < supplement->n_documents; i++)
        if (mc_validate_document(supplement->documents[i], "documents", i, &problem)) {
            refuse_problem(ctx, "supplement", &problem, reply);
            return;
        }
    if (text_ok(supplement->note, "note", FU_MAX_NOTE, &problem)) {
        refuse_problem(ctx, "supplement", &problem, reply);
        return;
    }
    size_t len = 0;
    uint8_t *bytes = pack_request(&supplement->base, &len);
    if (!bytes) {
        intake_reply_rejection(reply, MOTCUA__V1__REASON__REASON_INTERNAL, "", "Hết bộ nhớ.",
                               cfg->intake.retry_after_ms);
        return;
    }
    fu_ctx_t fu = {.ctx = ctx, .submission_id = supplement->submission_id,
                   .supplement = supplement};
    run_followup(ctx, &fu, MC_FOLLOWUP_SUPPLEMENT, ward, supplement->dossier_code, bytes, len,
                 reply);
    fu_clear(&fu);
    free(bytes);
}

/* intake_withdraw - validate, then withdraw in one transaction */
void intake_withdraw(intake_ctx_t *ctx, const Motcua__V1__WithdrawDossier *withdraw,
                     intake_reply_t *reply)
{
    const mc_cfg_t *cfg = ctx->cfg;
    const mc_ward_t *ward = NULL;
    mc_problem_t problem;
    if (check_common(cfg, withdraw->submission_id, withdraw->dossier_code, &ward, &problem) ||
        text_ok(withdraw->reason, "reason", FU_MAX_NOTE, &problem)) {
        refuse_problem(ctx, "withdraw", &problem, reply);
        return;
    }
    size_t len = 0;
    uint8_t *bytes = pack_request(&withdraw->base, &len);
    if (!bytes) {
        intake_reply_rejection(reply, MOTCUA__V1__REASON__REASON_INTERNAL, "", "Hết bộ nhớ.",
                               cfg->intake.retry_after_ms);
        return;
    }
    fu_ctx_t fu = {.ctx = ctx, .submission_id = withdraw->submission_id, .withdraw = withdraw};
    run_followup(ctx, &fu, MC_FOLLOWUP_WITHDRAW, ward, withdraw->dossier_code, bytes, len, reply);
    fu_clear(&fu);
    free(bytes);
}

/* token_format_ok - 8-4-4-4-12 lowercase hex digits, as PostgreSQL prints a uuid */
static bool token_format_ok(const char *t)
{
    if (strlen(t) != FU_TOKEN_LEN)
        return false;
    for (size_t i = 0; i < FU_TOKEN_LEN; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? t[i] != '-' : !((t[i] >= '0' && t[i] <= '9') || (t[i] >= 'a' && t[i] <= 'f')))
            return false;
    }
    return true;
}

/* check_rate - the request's own fields, before the store is asked anything */
static int check_rate(const Motcua__V1__RateService *rate, mc_problem_t *problem)
{
    const char *token = rate->token ? rate->token : "";
    if (*token && !token_format_ok(token)) /* none: the counter client's case (decide_rate) */
        return mc_problem_set(problem, MOTCUA__V1__REASON__REASON_INVALID_FORMAT, "token",
                              "Mã đánh giá không đúng định dạng; vui lòng dùng nguyên đường "
                              "liên kết trong thông báo.");
    if (rate->level == MOTCUA__V1__SATISFACTION__SATISFACTION_UNSPECIFIED)
        return mc_problem_set(problem, MOTCUA__V1__REASON__REASON_MISSING_FIELD, "level",
                              "Chưa chọn mức độ hài lòng.");
    /* proto3 enums are open: any number can arrive on the wire */
    if ((int)rate->level < MOTCUA__V1__SATISFACTION__SATISFACTION_VERY_SATISFIED ||
        (int)rate->level > MOTCUA__V1__SATISFACTION__SATISFACTION_NOT_SATISFIED)
        return mc_problem_set(problem, MOTCUA__V1__REASON__REASON_INVALID_FORMAT, "level",
                              "Mức độ hài lòng phải là rất hài lòng, hài lòng hoặc không hài lòng.");
    return text_ok(rate->comment, "comment", FU_MAX_NOTE, problem);
}

/* intake_rate - validate, then record the rating in one transaction */
void intake_rate(intake_ctx_t *ctx, const Motcua__V1__RateService *rate, intake_reply_t *reply)
{
    const mc_cfg_t *cfg = ctx->cfg;
    const mc_ward_t *ward = NULL;
    mc_problem_t problem;
    if (check_common(cfg, rate->submission_id, rate->dossier_code, &ward, &problem) ||
        check_rate(rate, &problem)) {
        refuse_problem(ctx, "rate", &problem, reply);
        return;
    }
    size_t len = 0;
    uint8_t *bytes = pack_request(&rate->base, &len);
    if (!bytes) {
        intake_reply_rejection(reply, MOTCUA__V1__REASON__REASON_INTERNAL, "", "Hết bộ nhớ.",
                               cfg->intake.retry_after_ms);
        return;
    }
    fu_ctx_t fu = {.ctx = ctx, .submission_id = rate->submission_id, .rate = rate};
    run_followup(ctx, &fu, MC_FOLLOWUP_RATE, ward, rate->dossier_code, bytes, len, reply);
    fu_clear(&fu);
    free(bytes);
}
