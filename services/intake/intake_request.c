/*
 * intake_request - answer one IntakeRequest: submit or status here; the
 * follow-ups (supplement, withdraw, rate) are dispatched to intake_followup.c.
 *
 * The rule that matters: a Receipt is packed inside the receiving transaction
 * once the ward's number is known (receipt_pack; it must be stored for
 * replays) but only SENT after the committer's transaction committed
 * (intake_commit_submit, mc_store_create_dossiers). Any doubt becomes a
 * retryable rejection, and the client's retry with the same submission_id
 * then finds either the committed dossier (same receipt) or nothing.
 */
#include "intake.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <sodium.h>

#include "mc_code.h"
#include "mc_daemon.h"
#include "mc_log.h"
#include "mc_time.h"
#include "mc_validate.h"
#include "mc_wire.h"
#include "motcua/internal/v1/pipeline.pb-c.h"

/* intake_store_ready - connected, or try now unless we tried very recently */
int intake_store_ready(intake_ctx_t *ctx)
{
    if (mc_store_connected(ctx->store))
        return 0;
    int64_t now = mc_time_mono_ms();
    if (now < ctx->next_connect)
        return -1; /* answer "unavailable" at once instead of stalling on connect */
    mc_err_t err;
    mc_err_clear(&err);
    if (mc_store_connect(ctx->store, &err) == MC_STORE_OK) {
        mc_log(MC_LOG_NOTICE, "store_connected", "worker=%d", ctx->worker);
        mc_daemon_store_down(false);
        return 0;
    }
    mc_log_error(MC_LOG_WARNING, "store_unavailable", &err, "worker=%d", ctx->worker);
    mc_daemon_store_down(true);
    ctx->next_connect = now + ctx->cfg->intake.reconnect_ms;
    return -1;
}

/* unavailable - the retryable answer when the store cannot be reached */
static void unavailable(intake_ctx_t *ctx, intake_reply_t *reply)
{
    intake_reply_rejection(reply, MOTCUA__V1__REASON__REASON_UNAVAILABLE, "",
                           "Hệ thống tạm thời không lưu được hồ sơ; hồ sơ chưa được tiếp nhận. "
                           "Vui lòng gửi lại sau ít phút.",
                           ctx->cfg->intake.retry_after_ms);
}

/* store_failed - log a store error and answer retryable or unavailable */
static void store_failed(intake_ctx_t *ctx, mc_store_rc_t rc, const mc_err_t *err,
                         intake_reply_t *reply)
{
    mc_log_error(rc == MC_STORE_UNAVAILABLE ? MC_LOG_WARNING : MC_LOG_ERR, "store_error", err,
                 "worker=%d rc=%d", ctx->worker, (int)rc);
    if (rc == MC_STORE_UNAVAILABLE) {
        ctx->next_connect = mc_time_mono_ms() + ctx->cfg->intake.reconnect_ms;
        unavailable(ctx, reply);
    } else {
        intake_reply_rejection(reply, MOTCUA__V1__REASON__REASON_INTERNAL, "",
                               "Lỗi hệ thống; hồ sơ chưa được tiếp nhận. Vui lòng gửi lại.",
                               ctx->cfg->intake.retry_after_ms);
    }
}

/* replay - answer a repeated submission_id: same dossier → same bytes */
static void replay(intake_ctx_t *ctx, const uint8_t sha[32], mc_stored_response_t *existing,
                   const char *ward, intake_reply_t *reply)
{
    if (memcmp(sha, existing->request_sha256, 32) != 0) {
        mc_log(MC_LOG_NOTICE, "submission_conflict", "worker=%d ward=%s", ctx->worker, ward);
        intake_reply_rejection(reply, MOTCUA__V1__REASON__REASON_DUPLICATE_SUBMISSION,
                               "submission_id",
                               "Mã lần nộp này đã được dùng cho một hồ sơ khác; "
                               "hãy dùng mã mới cho hồ sơ mới.",
                               0);
        return;
    }
    intake_reply_clear(reply);
    reply->bytes = existing->bytes; /* take ownership */
    reply->length = existing->length;
    existing->bytes = NULL;
    existing->length = 0;
    mc_log(MC_LOG_DEBUG, "receipt_replayed", "worker=%d ward=%s", ctx->worker, ward);
}

/* intake_secret_equal - compare in constant time, so the answer's timing does
 * not tell how many leading characters of a guess were right */
bool intake_secret_equal(const char *given, const char *stored)
{
    if (!given || strlen(stored) != INTAKE_SECRET_LEN || strlen(given) != INTAKE_SECRET_LEN)
        return false;
    volatile unsigned char diff = 0;
    for (size_t i = 0; i < INTAKE_SECRET_LEN; i++)
        diff |= (unsigned char)(given[i] ^ stored[i]);
    return diff == 0;
}

/* new_secret - the applicant's secret for a new dossier: a random (version 4)
 * UUID, the form dossier.rating_token stores; 0, or -1 without randomness */
static int new_secret(char out[37])
{
    uint8_t r[16];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
        return -1;
    r[6] = (uint8_t)((r[6] & 0x0f) | 0x40); /* version 4 */
    r[8] = (uint8_t)((r[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[r[i] >> 4];
        out[o++] = hex[r[i] & 15];
    }
    out[o] = '\0';
    return 0;
}

/* applicant_name - the name printed on the receipt */
static const char *applicant_name(const Motcua__V1__Applicant *a)
{
    if (a->kind_case == MOTCUA__V1__APPLICANT__KIND_ORGANIZATION)
        return a->organization->name;
    return a->person->full_name;
}

static const char *const channel_text[] = {"", "trực tiếp", "trực tuyến", "bưu chính"};

/* dossier_fee - the fee of the receipt, from the dossier (mc_catalog_fee). A
 * per-page procedure (chứng thực) charges each document that states the pages
 * of its original and is not the original itself, copies x fee(pages): the
 * cap max_vnd is per copy (Thông tư 226/2016/TT-BTC Điều 4). When no document
 * states pages, the minimum: one page, one copy (DocumentRef.pages). Bounds:
 * 50 documents x 100 copies x 1e9 VND stays far inside 64 bits. */
static int dossier_fee(const mc_procedure_t *proc, const Motcua__V1__Dossier *d, uint64_t *fee,
                       mc_err_t *err)
{
    int channel = (int)d->channel;
    if (proc->fee_rule.kind != MC_FEE_PER_PAGE)
        return mc_catalog_fee(proc, channel, 0, fee, err);
    uint64_t total = 0;
    bool charged = false;
    for (size_t i = 0; i < d->n_documents; i++) {
        const Motcua__V1__DocumentRef *doc = d->documents[i];
        if (doc->pages == 0 || doc->form == MOTCUA__V1__DOCUMENT_FORM__DOCUMENT_FORM_ORIGINAL)
            continue;
        uint64_t one = 0;
        if (mc_catalog_fee(proc, channel, (int)doc->pages, &one, err) != 0)
            return -1;
        total += one * (doc->copies ? doc->copies : 1);
        charged = true;
    }
    if (!charged)
        return mc_catalog_fee(proc, channel, 1, fee, err);
    *fee = total;
    return 0;
}

/* a receipt waiting for its dossier's number (receipt_pack) */
typedef struct receipt_pack {
    Motcua__V1__Receipt *receipt;          /* every field but dossier_code */
    const char          *unit_id;          /* the competent unit: the code's first part */
    mc_date_t            day;              /* the receipt day: the code's second part */
    char                 code[MC_CODE_MAX]; /* the dossier code, once numbered */
    intake_reply_t       packed;           /* the IntakeReply with the receipt, to store and send */
} receipt_pack_t;

/* receipt_pack - mc_new_dossier_pack_fn: the code of number seq and the
 * packed receipt carrying it (on the committer's thread, inside its
 * transaction; again with a new number if the batch is retried) */
static int receipt_pack(void *arg, int seq, mc_new_dossier_t *d, mc_err_t *err)
{
    receipt_pack_t *p = arg;
    intake_reply_clear(&p->packed);
    if (mc_code_format(p->code, sizeof p->code, p->unit_id, p->day, seq) != 0) {
        mc_err_add(err, "cannot format a dossier code for unit %s", p->unit_id);
        return -1;
    }
    p->receipt->dossier_code = p->code;
    Motcua__V1__IntakeReply msg = MOTCUA__V1__INTAKE_REPLY__INIT;
    msg.body_case = MOTCUA__V1__INTAKE_REPLY__BODY_RECEIPT;
    msg.receipt = p->receipt;
    if (intake_reply_pack(&p->packed, &msg) != 0) {
        mc_err_add(err, "out of memory packing a receipt");
        return -1;
    }
    d->code = p->code;
    d->response = p->packed.bytes;
    d->response_len = p->packed.length;
    return 0;
}

/* intake_submit - validate, hand the dossier to the committer, answer after its commit */
void intake_submit(intake_ctx_t *ctx, const Motcua__V1__SubmitDossier *submit,
                   intake_reply_t *reply)
{
    const mc_cfg_t *cfg = ctx->cfg;
    int64_t started = mc_time_mono_ms();
    const mc_procedure_t *proc = NULL;
    const mc_ward_t *ward = NULL;
    mc_problem_t problem;
    if (mc_validate_submit(submit, cfg, &proc, &ward, &problem) != 0) {
        mc_daemon_count(MC_COUNT_ERRORS, 1); /* per request: debug, in the summary */
        mc_log(MC_LOG_DEBUG, "rejected", "worker=%d reason=%s field=%s", ctx->worker,
               protobuf_c_enum_descriptor_get_value(&motcua__v1__reason__descriptor,
                                                    problem.reason)->name,
               problem.field);
        intake_reply_missing(reply, &problem); /* missing is empty but for MISSING_DOCUMENT */
        return;
    }
    const Motcua__V1__Dossier *d = submit->dossier;
    /* ward is the COMPETENT ward; the client acts for the receiving one */
    const mc_ward_t *receiving = intake_receiving_ward(ctx, submit, ward, reply);
    if (!receiving)
        return;
    uint64_t fee = 0;
    mc_err_t fee_err;
    mc_err_clear(&fee_err);
    if (dossier_fee(proc, d, &fee, &fee_err) != 0) { /* validation admitted the channel */
        mc_log_error(MC_LOG_ERR, "fee_error", &fee_err, "worker=%d", ctx->worker);
        intake_reply_rejection(reply, MOTCUA__V1__REASON__REASON_INTERNAL, "",
                               "Không tính được lệ phí của hồ sơ.", 0);
        return;
    }

    /* the payload as stored, and its fingerprint for idempotency */
    size_t payload_len = motcua__v1__dossier__get_packed_size(d);
    uint8_t *payload = malloc(payload_len ? payload_len : 1);
    if (!payload) {
        intake_reply_rejection(reply, MOTCUA__V1__REASON__REASON_INTERNAL, "", "Hết bộ nhớ.",
                               cfg->intake.retry_after_ms);
        return;
    }
    motcua__v1__dossier__pack(d, payload);
    uint8_t sha[32];
    crypto_hash_sha256(sha, payload, payload_len);

    int64_t received_at = (int64_t)time(NULL);
    mc_date_t day = mc_date_of(received_at, NULL);
    int64_t counted_from = 0, due_at = 0, accept_due_at = 0;
    mc_err_t err;
    mc_err_clear(&err);
    /* online: stored and coded now, accepted by the desk later (Nghị định
     * 118/2025 Điều 17): no due date until then, only the acceptance deadline */
    bool pending = d->channel == MOTCUA__V1__CHANNEL__CHANNEL_ONLINE;
    int cal_rc = pending ? intake_accept_due(cfg, received_at, &accept_due_at, &err)
                         : mc_calendar_due(cfg->calendar, received_at, proc->processing_time,
                                           proc->time_unit, proc->cutoff_minutes, &counted_from,
                                           &due_at, &err);
    if (cal_rc != 0) {
        mc_log_error(MC_LOG_ERR, "calendar_error", &err, "worker=%d", ctx->worker);
        intake_reply_rejection(reply, MOTCUA__V1__REASON__REASON_INTERNAL, "",
                               "Lịch làm việc chưa có ngày hẹn trả cho hồ sơ này; "
                               "đơn vị cần cập nhật lịch.",
                               cfg->intake.retry_after_ms);
        free(payload);
        return;
    }

    /* boundary-free reception: the deadline to reach the competent unit */
    int64_t forward_due_at = 0;
    if (receiving != ward &&
        intake_forward_due(ctx, received_at, proc->cutoff_minutes, &forward_due_at) != 0) {
        intake_reply_rejection(reply, MOTCUA__V1__REASON__REASON_INTERNAL, "",
                               "Lịch làm việc chưa có hạn chuyển hồ sơ; đơn vị cần cập nhật lịch.",
                               cfg->intake.retry_after_ms);
        free(payload);
        return;
    }

    /* per competent ward: the dossier's row (ward_code, submission_id) is unique there */
    char scope[64];
    snprintf(scope, sizeof scope, "submit:%s", ward->code);
    if (intake_store_ready(ctx) != 0) {
        unavailable(ctx, reply);
        free(payload);
        return;
    }
    char time_text[64], due_text[80] = "", accept_due_text[80] = "";
    mc_procedure_time_text(proc, time_text, sizeof time_text);
    if (due_at)
        mc_format_local(due_at, due_text, sizeof due_text);
    if (accept_due_at)
        mc_format_local(accept_due_at, accept_due_text, sizeof accept_due_text);

    /* the receipt: the fields of Mẫu số 01 */
    Motcua__V1__Receipt rcpt = MOTCUA__V1__RECEIPT__INIT;
    rcpt.dossier_code = ""; /* receipt_pack writes it once the ward's number is taken */
    rcpt.submission_id = submit->submission_id;
    rcpt.receiving_unit_code = receiving->unit_id;
    rcpt.receiving_unit_name = receiving->unit_name;
    rcpt.competent_unit_code = ward->unit_id;
    rcpt.forward_due_at = forward_due_at;
    rcpt.ward_code = ward->code;
    rcpt.procedure_code = proc->code;
    rcpt.procedure_name = proc->name;
    rcpt.applicant_name = (char *)applicant_name(d->applicant);
    rcpt.applicant_address = d->applicant->address;
    rcpt.channel = d->channel;
    Motcua__V1__ReceivedDocument docs_storage[MC_MAX_DOCUMENTS_HARD];
    Motcua__V1__ReceivedDocument *docs[MC_MAX_DOCUMENTS_HARD];
    uint32_t count = 0;
    for (size_t i = 0; i < d->n_documents; i++) {
        Motcua__V1__ReceivedDocument rd = MOTCUA__V1__RECEIVED_DOCUMENT__INIT;
        rd.name = d->documents[i]->name;
        rd.form = d->documents[i]->form;
        rd.copies = d->documents[i]->copies ? d->documents[i]->copies : 1;
        count += rd.copies;
        docs_storage[i] = rd;
        docs[i] = &docs_storage[i];
    }
    rcpt.n_documents = d->n_documents;
    rcpt.documents = docs;
    rcpt.document_count = count;
    rcpt.processing_time = time_text;
    rcpt.received_at = received_at;
    rcpt.counted_from = counted_from;
    rcpt.due_at = due_at;
    rcpt.due_text = due_text;
    rcpt.state = pending ? MOTCUA__V1__DOSSIER_STATE__DOSSIER_STATE_PENDING_ACCEPTANCE
                         : MOTCUA__V1__DOSSIER_STATE__DOSSIER_STATE_RECEIVED;
    rcpt.accept_due_at = accept_due_at;
    rcpt.accept_due_text = accept_due_text;
    char delivery[256];
    if (d->delivery && *d->delivery)
        snprintf(delivery, sizeof delivery, "%s", d->delivery);
    else
        snprintf(delivery, sizeof delivery, "%s", ward->unit_name);
    rcpt.delivery = delivery;
    if (receiving != ward && !(d->delivery && *d->delivery)) /* the result comes back from the competent unit */
        snprintf(delivery, sizeof delivery, "%s (%s)", ward->unit_name, ward->address);
    rcpt.received_by = (submit->received_by && *submit->received_by)
                           ? submit->received_by
                           : (char *)"Hệ thống tiếp nhận trực tuyến";
    rcpt.fee_vnd = fee; /* from the dossier: channel, pages of the original */
    rcpt.handling_department = proc->department_name ? proc->department_name : proc->department;
    /* drawn here, not by the store after the commit: the receipt stored for
     * replays then carries it, and no second read of the dossier is needed */
    char secret[37];
    if (new_secret(secret) != 0) {
        mc_err_add(&err, "no randomness for the applicant's secret");
        store_failed(ctx, MC_STORE_FAILED, &err, reply);
        free(payload);
        return;
    }
    rcpt.secret = secret;
    receipt_pack_t packing = {.receipt = &rcpt, .unit_id = ward->unit_id, .day = day};

    /* the history names the client (actor) and the clerk who received it */
    char detail[400];
    if (pending)
        snprintf(detail, sizeof detail, "Nộp hồ sơ trực tuyến, chờ tiếp nhận đến %s",
                 accept_due_text);
    else if (submit->received_by && *submit->received_by)
        snprintf(detail, sizeof detail, "Tiếp nhận hồ sơ qua kênh %s; người tiếp nhận: %s",
                 channel_text[d->channel], submit->received_by);
    else
        snprintf(detail, sizeof detail, "Tiếp nhận hồ sơ qua kênh %s", channel_text[d->channel]);
    mc_new_dossier_t item = {
        .scope = scope, .key = submit->submission_id, .request_sha256 = sha,
        .ward_code = ward->code, .unit_id = ward->unit_id, .day = day,
        .procedure_code = proc->code, .channel = d->channel, .received_at = received_at,
        .counted_from = counted_from, .due_at = due_at, .payload = payload,
        .payload_len = payload_len, .pack = receipt_pack, .pack_arg = &packing,
        .event_actor = ctx->client->code, .event_detail = detail, .secret = secret,
        .state = rcpt.state, .accept_due_at = accept_due_at,
    };
    char forward_detail[400], forward_text[80];
    if (receiving != ward) {
        snprintf(forward_detail, sizeof forward_detail,
                 "Tiếp nhận tại %s; chuyển đến %s (đơn vị có thẩm quyền) trước %s",
                 receiving->name, ward->name,
                 mc_format_local(forward_due_at, forward_text, sizeof forward_text));
        item.receiving_ward = receiving->code;
        item.forward_due_at = forward_due_at;
        item.forward_detail = forward_detail;
    }
    mc_new_dossier_result_t result;
    intake_commit_submit(ctx->committer, &item, &result); /* returns after the commit */
    free(payload);
    if (result.rc == MC_STORE_EXISTS) { /* a repeated submission_id: its first answer */
        intake_reply_clear(&packing.packed);
        replay(ctx, sha, &result.existing, ward->code, reply);
        mc_stored_response_clear(&result.existing);
        return;
    }
    if (result.rc != MC_STORE_OK) {
        intake_reply_clear(&packing.packed);
        mc_err_add(&err, "the dossier was not received (see batch_error)");
        store_failed(ctx, result.rc, &err, reply);
        return;
    }
    /* committed: only now may the receipt leave */
    intake_reply_clear(reply);
    *reply = packing.packed;
    intake_note_event(ctx, MOTCUA__INTERNAL__V1__PIPELINE_EVENT__KIND__KIND_DOSSIER_RECEIVED, packing.code);
    mc_daemon_count(MC_COUNT_RECEIVED, 1); /* per dossier: debug, counted in the summary */
    mc_log(MC_LOG_DEBUG, "receipt",
           "worker=%d code=%s procedure=%s ward=%s receiving=%s channel=%d ms=%lld",
           ctx->worker, packing.code, proc->code, ward->code, receiving->code, (int)d->channel,
           (long long)(mc_time_mono_ms() - started));
}

/* intake_accept_due - the acceptance deadline of an online dossier that
 * arrives (or is supplemented) at: rules.acceptance_hours working hours later */
int intake_accept_due(const mc_cfg_t *cfg, int64_t at, int64_t *accept_due_at, mc_err_t *err)
{
    int64_t from = 0;
    return mc_calendar_due(cfg->calendar, at, cfg->rules.acceptance_hours, MC_TIME_WORKING_HOURS,
                           -1, &from, accept_due_at, err);
}

/* intake_status - a dossier's state and history */
void intake_status(intake_ctx_t *ctx, const Motcua__V1__StatusQuery *query,
                   intake_reply_t *reply)
{
    const char *code = query->dossier_code ? query->dossier_code : "";
    size_t n = strlen(code);
    if (n == 0) {
        intake_reply_rejection(reply, MOTCUA__V1__REASON__REASON_MISSING_FIELD, "dossier_code",
                               "Thiếu mã hồ sơ.", 0);
        return;
    }
    if (n >= MC_CODE_MAX) {
        intake_reply_rejection(reply, MOTCUA__V1__REASON__REASON_TOO_LARGE, "dossier_code",
                               "Mã hồ sơ quá dài.", 0);
        return;
    }
    char unit[MC_CODE_MAX];
    mc_date_t day;
    int seq;
    if (mc_code_parse(code, unit, sizeof unit, &day, &seq) != 0) {
        intake_reply_rejection(reply, MOTCUA__V1__REASON__REASON_INVALID_FORMAT, "dossier_code",
                               "Mã hồ sơ không đúng định dạng <mã đơn vị>-<YYMMDD>-<số thứ tự>.",
                               0);
        return;
    }
    if (intake_forbidden_code(ctx, intake_ward_of_unit(ctx->cfg, unit), code, reply))
        return;
    if (intake_store_ready(ctx) != 0) {
        unavailable(ctx, reply);
        return;
    }
    mc_err_t err;
    mc_err_clear(&err);
    mc_dossier_status_t *st = NULL;
    mc_store_rc_t rc = mc_store_dossier_status(ctx->store, code, 200, &st, &err);
    if (rc == MC_STORE_NOT_FOUND) {
        intake_reply_rejection(reply, MOTCUA__V1__REASON__REASON_NOT_FOUND, "dossier_code",
                               "Không tìm thấy hồ sơ có mã này.", 0);
        return;
    }
    if (rc != MC_STORE_OK) {
        store_failed(ctx, rc, &err, reply);
        return;
    }
    /* the row's own wards, not only the code's unit: the answer of another ward */
    if (!intake_acts_for_dossier(ctx, st->ward_code, st->receiving_ward)) {
        mc_dossier_status_destroy(&st);
        intake_forbidden(ctx, NULL, "dossier_code", reply);
        return;
    }
    /* the history (who did what) only for the ward's counter or the secret's holder;
     * a secret that is given must be right */
    bool has_secret = query->secret && *query->secret;
    if (has_secret && !intake_secret_equal(query->secret, st->secret)) {
        mc_dossier_status_destroy(&st);
        mc_log(MC_LOG_NOTICE, "forbidden", "worker=%d client=%s request=status field=secret",
               ctx->worker, ctx->client->code);
        intake_reply_rejection(reply, MOTCUA__V1__REASON__REASON_FORBIDDEN, "secret",
                               "Mã bí mật của hồ sơ không đúng.", 0);
        return;
    }
    if (!has_secret && ctx->client->role != MC_CLIENT_COUNTER)
        st->n_events = 0;
    const mc_procedure_t *proc = mc_catalog_find(ctx->cfg->catalog, st->procedure_code);
    Motcua__V1__DossierStatus out = MOTCUA__V1__DOSSIER_STATUS__INIT;
    out.dossier_code = st->code;
    out.state = st->state;
    out.procedure_code = st->procedure_code;
    out.procedure_name = proc ? proc->name : (char *)"";
    out.channel = st->channel;
    out.received_at = st->received_at;
    out.due_at = st->due_at;
    out.ward_code = st->ward_code;
    out.receiving_ward_code = st->receiving_ward;
    Motcua__V1__StatusEvent *events = calloc(st->n_events ? st->n_events : 1, sizeof *events);
    Motcua__V1__StatusEvent **ptrs = calloc(st->n_events ? st->n_events : 1, sizeof *ptrs);
    if (!events || !ptrs) {
        free(events);
        free(ptrs);
        mc_dossier_status_destroy(&st);
        intake_reply_rejection(reply, MOTCUA__V1__REASON__REASON_INTERNAL, "", "Hết bộ nhớ.",
                               ctx->cfg->intake.retry_after_ms);
        return;
    }
    for (size_t i = 0; i < st->n_events; i++) {
        Motcua__V1__StatusEvent e = MOTCUA__V1__STATUS_EVENT__INIT;
        e.at = st->events[i].at;
        e.actor = st->events[i].actor;
        e.kind = st->events[i].kind;
        e.detail = st->events[i].detail;
        events[i] = e;
        ptrs[i] = &events[i];
    }
    out.n_history = st->n_events;
    out.history = ptrs;
    Motcua__V1__IntakeReply msg = MOTCUA__V1__INTAKE_REPLY__INIT;
    msg.body_case = MOTCUA__V1__INTAKE_REPLY__BODY_STATUS;
    msg.status = &out;
    if (intake_reply_pack(reply, &msg) != 0)
        intake_reply_rejection(reply, MOTCUA__V1__REASON__REASON_INTERNAL, "", "Hết bộ nhớ.",
                               ctx->cfg->intake.retry_after_ms);
    free(events);
    free(ptrs);
    mc_dossier_status_destroy(&st);
}

/* intake_ward_of_unit - the served ward whose one-stop unit is unit_id, or NULL */
const mc_ward_t *intake_ward_of_unit(const mc_cfg_t *cfg, const char *unit_id)
{
    for (size_t i = 0; i < cfg->n_wards; i++)
        if (strcmp(cfg->wards[i].unit_id, unit_id) == 0)
            return &cfg->wards[i];
    return NULL;
}

/* intake_forbidden - refuse (1) unless the client acts for ward; a ward not
 * served here (NULL) is refused the same way, so codes of other wards tell
 * nothing about whether they exist */
int intake_forbidden(intake_ctx_t *ctx, const mc_ward_t *ward, const char *field,
                     intake_reply_t *reply)
{
    if (ward && mc_client_acts_for(ctx->client, ward->code))
        return 0;
    mc_log(MC_LOG_NOTICE, "forbidden", "worker=%d client=%s ward=%s field=%s", ctx->worker,
           ctx->client->code, ward ? ward->code : "-", field);
    intake_reply_rejection(reply, MOTCUA__V1__REASON__REASON_FORBIDDEN, field,
                           "Máy khách này không được phép thực hiện yêu cầu cho đơn vị này.", 0);
    return 1;
}

/* intake_receiving_ward - the ward receiving submit (receiving_ward_code, or
 * the competent ward when empty), or NULL with a REASON_FORBIDDEN in reply:
 * the client must act for it, and a competent ward other than it must be in
 * the same province (boundary-free reception, Nghị định 118/2025 Điều 14
 * khoản 2); another province gets the very bytes of any other forbidden ward */
const mc_ward_t *intake_receiving_ward(intake_ctx_t *ctx, const Motcua__V1__SubmitDossier *submit,
                                       const mc_ward_t *competent, intake_reply_t *reply)
{
    const char *code = submit->receiving_ward_code;
    if (!code || !*code || strcmp(code, competent->code) == 0)
        return intake_forbidden(ctx, competent, "dossier.ward_code", reply) ? NULL : competent;
    const mc_ward_t *receiving = mc_cfg_ward(ctx->cfg, code);
    if (intake_forbidden(ctx, receiving, "receiving_ward_code", reply))
        return NULL;
    if (!mc_cfg_same_province(receiving, competent)) {
        intake_forbidden(ctx, NULL, "dossier.ward_code", reply);
        return NULL;
    }
    return receiving;
}

/* intake_forward_due - the end of the rules.forward_days-th working day after
 * the deemed receipt (mc_calendar_due's rule, the procedure's cutoff) */
int intake_forward_due(intake_ctx_t *ctx, int64_t received_at, int cutoff_minutes,
                       int64_t *forward_due_at)
{
    int64_t counted = 0;
    mc_err_t err;
    mc_err_clear(&err);
    if (mc_calendar_due(ctx->cfg->calendar, received_at, ctx->cfg->rules.forward_days,
                        MC_TIME_WORKING_DAYS, cutoff_minutes, &counted, forward_due_at,
                        &err) == 0)
        return 0;
    mc_log_error(MC_LOG_ERR, "calendar_error", &err, "worker=%d what=forward_due", ctx->worker);
    return -1;
}

/* intake_acts_for_dossier - the client acts for the dossier's competent ward
 * or for the ward that received it (receiving_ward "" = none) */
bool intake_acts_for_dossier(const intake_ctx_t *ctx, const char *ward_code,
                             const char *receiving_ward)
{
    return mc_client_acts_for(ctx->client, ward_code) ||
           (receiving_ward && *receiving_ward && mc_client_acts_for(ctx->client, receiving_ward));
}

/* province_client - the client acts for another ward of ward's province */
static bool province_client(const intake_ctx_t *ctx, const mc_ward_t *ward)
{
    for (size_t i = 0; i < ctx->cfg->n_wards; i++)
        if (mc_cfg_same_province(&ctx->cfg->wards[i], ward) &&
            mc_client_acts_for(ctx->client, ctx->cfg->wards[i].code))
            return true;
    return false;
}

/* intake_forbidden_code - before anything is done with a code whose unit is
 * ward's: 0 when the client acts for that ward, or when it acts for another
 * ward of the province AND the dossier exists and was received at one of its
 * wards (boundary-free reception; looked up now, so that neither a stored
 * follow-up key nor a "not found" answers such a client). Every other case is
 * the one REASON_FORBIDDEN of intake_forbidden, whether the code exists or
 * not; a store that cannot answer gets the retryable rejection (1). */
int intake_forbidden_code(intake_ctx_t *ctx, const mc_ward_t *ward, const char *code,
                          intake_reply_t *reply)
{
    if (!ward || mc_client_acts_for(ctx->client, ward->code) || !province_client(ctx, ward))
        return intake_forbidden(ctx, ward, "dossier_code", reply);
    if (intake_store_ready(ctx) != 0) {
        unavailable(ctx, reply);
        return 1;
    }
    mc_err_t err;
    mc_err_clear(&err);
    mc_dossier_status_t *st = NULL;
    mc_store_rc_t rc = mc_store_dossier_status(ctx->store, code, 1, &st, &err);
    if (rc != MC_STORE_OK && rc != MC_STORE_NOT_FOUND) {
        store_failed(ctx, rc, &err, reply);
        return 1;
    }
    bool ok = st && intake_acts_for_dossier(ctx, st->ward_code, st->receiving_ward);
    mc_dossier_status_destroy(&st);
    return ok ? 0 : intake_forbidden(ctx, NULL, "dossier_code", reply);
}

/* wire_reason - the Reason for mc_wire's problem (the text after "<path>: ") */
static Motcua__V1__Reason wire_reason(const char *problem)
{
    if (strncmp(problem, "not valid UTF-8", 15) == 0)
        return MOTCUA__V1__REASON__REASON_INVALID_UTF8;
    if (strcmp(problem, "unknown enum value") == 0) /* e.g. a Satisfaction level beyond 3 */
        return MOTCUA__V1__REASON__REASON_INVALID_FORMAT;
    return MOTCUA__V1__REASON__REASON_MALFORMED;
}

/* wire_field - the Rejection's field from mc_wire's path: relative to the
 * request's body, as every other rejection names it ("IntakeRequest.submit.
 * dossier.applicant.person.citizen_id" is "dossier.applicant.person.citizen_id";
 * the body itself, or the top level, is "") */
static void wire_field(const char *path, size_t path_len, char *field, size_t size)
{
    const char *p = path;
    const char *end = path + path_len;
    for (int skip = 0; skip < 2 && p < end; skip++) { /* "IntakeRequest." then "<body>." */
        const char *dot = memchr(p, '.', (size_t)(end - p));
        p = dot ? dot + 1 : end;
    }
    snprintf(field, size, "%.*s", (int)(end - p), p);
}

/* refuse_wire - the strict decoding refused the frame: nothing was unpacked,
 * so nothing of it is logged, stored or echoed but mc_wire's path and problem
 * (which never hold the value) */
static void refuse_wire(intake_ctx_t *ctx, const char *why, size_t length,
                        intake_reply_t *reply)
{
    const char *sep = strstr(why, ": ");
    const char *problem = sep ? sep + 2 : why;
    char field[256], message[512], quoted[600];
    wire_field(why, sep ? (size_t)(sep - why) : 0, field, sizeof field);
    Motcua__V1__Reason reason = sep ? wire_reason(problem) : MOTCUA__V1__REASON__REASON_MALFORMED;
    snprintf(message, sizeof message,
             "Yêu cầu không đúng định dạng IntakeRequest (protobuf) nên không được tiếp nhận: %s.",
             why);
    intake_reply_rejection(reply, reason, field, message, 0);
    mc_daemon_count(MC_COUNT_ERRORS, 1); /* per request: debug, in the summary */
    mc_log(MC_LOG_DEBUG, "rejected", "worker=%d reason=%s bytes=%zu why=%s", ctx->worker,
           protobuf_c_enum_descriptor_get_value(&motcua__v1__reason__descriptor, reason)->name,
           length, mc_log_quote(why, quoted, sizeof quoted));
}

/* delegate - IntakeRequest.on_behalf_of (intake.proto, "Delegation"): 0 with
 * ctx->client the client the request is handled as, or 1 with a
 * REASON_FORBIDDEN (field "on_behalf_of") in reply. Logs the gateway's and
 * the named client's codes only. */
static int delegate(intake_ctx_t *ctx, const Motcua__V1__IntakeRequest *req,
                    intake_reply_t *reply)
{
    const mc_client_t *gateway = ctx->client;
    const char *code = req->on_behalf_of ? req->on_behalf_of : "";
    const char *why = NULL;
    const mc_client_t *client = NULL;
    if (!*code) {
        if (gateway->role != MC_CLIENT_GATEWAY ||
            req->body_case == MOTCUA__V1__INTAKE_REQUEST__BODY_CATALOG)
            return 0;
        why = "no_client";
    } else if (gateway->role != MC_CLIENT_GATEWAY) {
        why = "not_gateway";
    } else if (!(client = mc_clients_find(ctx->clients, code)) ||
               client->role == MC_CLIENT_GATEWAY) {
        why = "unknown_client"; /* the code was checked against the registry: safe to log */
    }
    if (!why) {
        mc_log(MC_LOG_DEBUG, "delegated", "worker=%d gateway=%s client=%s", ctx->worker,
               gateway->code, client->code);
        ctx->client = client;
        return 0;
    }
    mc_log(MC_LOG_NOTICE, "forbidden", "worker=%d client=%s field=on_behalf_of why=%s%s%s",
           ctx->worker, gateway->code, why, client ? " on_behalf_of=" : "",
           client ? client->code : "");
    intake_reply_rejection(
        reply, MOTCUA__V1__REASON__REASON_FORBIDDEN, "on_behalf_of",
        gateway->role != MC_CLIENT_GATEWAY
            ? "Máy khách này không được phép gửi yêu cầu thay cho máy khách khác."
        : *code ? "Máy khách được ủy quyền (on_behalf_of) không có trong danh sách máy khách."
                : "Cổng phải ghi rõ máy khách được ủy quyền (on_behalf_of).",
        0);
    return 1;
}

/* intake_handle - decode one frame strictly (mc_wire: no unknown field, no
 * NUL byte, UTF-8 strings, named enum values, at any depth) and dispatch;
 * always leaves a reply */
void intake_handle(intake_ctx_t *ctx, const uint8_t *frame, size_t length, intake_reply_t *reply)
{
    ProtobufCMessage *msg = NULL;
    char why[300];
    if (mc_wire_unpack(&motcua__v1__intake_request__descriptor, frame, length, &msg, why,
                       sizeof why) != 0) {
        refuse_wire(ctx, why, length, reply);
        return;
    }
    Motcua__V1__IntakeRequest *req = (Motcua__V1__IntakeRequest *)msg;
    const mc_client_t *sender = ctx->client;
    if (delegate(ctx, req, reply) != 0) {
        motcua__v1__intake_request__free_unpacked(req, NULL);
        return;
    }
    switch (req->body_case) {
    case MOTCUA__V1__INTAKE_REQUEST__BODY_SUBMIT:
        intake_submit(ctx, req->submit, reply);
        break;
    case MOTCUA__V1__INTAKE_REQUEST__BODY_STATUS:
        intake_status(ctx, req->status, reply);
        break;
    case MOTCUA__V1__INTAKE_REQUEST__BODY_SUPPLEMENT:
        intake_supplement(ctx, req->supplement, reply);
        break;
    case MOTCUA__V1__INTAKE_REQUEST__BODY_WITHDRAW:
        intake_withdraw(ctx, req->withdraw, reply);
        break;
    case MOTCUA__V1__INTAKE_REQUEST__BODY_RATE:
        intake_rate(ctx, req->rate, reply);
        break;
    case MOTCUA__V1__INTAKE_REQUEST__BODY_CATALOG:
        intake_catalog(ctx, req->catalog, reply);
        break;
    default:
        intake_reply_rejection(reply, MOTCUA__V1__REASON__REASON_MALFORMED, "body",
                               "Yêu cầu không có nội dung (submit, status, supplement, withdraw, "
                               "rate hoặc catalog).", 0);
        break;
    }
    ctx->client = sender; /* the delegation lasts one request */
    motcua__v1__intake_request__free_unpacked(req, NULL);
}
