/*
 * lienthong_decide - the hub's rules (contract in lienthong.h); the store
 * writes what they decide and decides nothing. No I/O here but logs.
 *   * Resending a case: how long the hub waits for an agency's ack of a
 *     send before the case is due again. The same rule sets the in-flight
 *     timeout of the hub's window (lienthong_hub.c dispatch) and, as a
 *     table bound by the hub, next_attempt_at in the store
 *     (mc_store_cases_claim).
 *   * An agency's result (lienthong_decide_result, the mc_result_decide_fn
 *     of mc_store_cases_result): the dossier's and the cases' next states,
 *     the due dates with the calendar, the supplement deadline, the one
 *     supplement request, the events' texts (mc_event) and the notices with
 *     their JSON data (mc_json), all from the claim the store read under its
 *     lock.
 */
#include "lienthong.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "mc_calendar.h"
#include "mc_catalog.h"
#include "mc_event.h"
#include "mc_json.h"
#include "mc_log.h"
#include "mc_states.h"

/* lienthong_resend_delay_ms - ack_timeout_ms doubled per earlier send, at most 2^6 times */
int64_t lienthong_resend_delay_ms(int ack_timeout_ms, int attempt)
{
    int shift = attempt - 1;
    if (shift < 0)
        shift = 0; /* not a send number: treated as the first */
    if (shift > LIENTHONG_RESEND_STEPS - 1)
        shift = LIENTHONG_RESEND_STEPS - 1;
    return (int64_t)ack_timeout_ms << shift;
}

/* lienthong_resend_delays - the rule as a table, one entry per send number */
void lienthong_resend_delays(int ack_timeout_ms, int64_t table[LIENTHONG_RESEND_STEPS])
{
    for (int i = 0; i < LIENTHONG_RESEND_STEPS; i++)
        table[i] = lienthong_resend_delay_ms(ack_timeout_ms, i + 1);
}

/* json_string - append text as a JSON string literal to buf (bounded, always valid JSON:
 * a text too long is cut at a character by mc_json_string) */
static void json_string(char *buf, size_t size, size_t *used, const char *text)
{
    if (*used + 3 <= size)
        *used += mc_json_string(buf + *used, size - *used, text, NULL);
}

/* json_append - append raw text, or nothing when it does not fit */
static void json_append(char *buf, size_t size, size_t *used, const char *text)
{
    size_t n = strlen(text);
    if (*used + n + 1 < size) {
        memcpy(buf + *used, text, n + 1);
        *used += n;
    }
}

/* notice_agency - {"agency":...} and, when reason is not NULL, ,"reason":... */
static const char *notice_agency(lienthong_result_ctx_t *x, const char *agency,
                                 const char *reason)
{
    size_t used = 0;
    x->data[0] = '\0';
    json_append(x->data, sizeof x->data, &used, "{\"agency\":");
    json_string(x->data, sizeof x->data, &used, agency);
    if (reason) {
        json_append(x->data, sizeof x->data, &used, ",\"reason\":");
        json_string(x->data, sizeof x->data, &used, reason);
    }
    json_append(x->data, sizeof x->data, &used, "}");
    return x->data;
}

/* notice_missing - the supplement request's data: its deadline, the agency and
 * one line per missing document; a list too long to keep whole is replaced by
 * a pointer to the form rather than stored as broken JSON */
static const char *notice_missing(lienthong_result_ctx_t *x, const mc_result_claim_t *c,
                                  int64_t due)
{
    char due_text[24];
    size_t used = 0, size = sizeof x->data;
    snprintf(due_text, sizeof due_text, "%" PRId64, due);
    x->data[0] = '\0';
    json_append(x->data, size, &used, "{\"supplement_due\":");
    json_append(x->data, size, &used, due_text);
    json_append(x->data, size, &used, ",\"agency\":");
    json_string(x->data, size, &used, c->agency);
    json_append(x->data, size, &used, ",\"missing\":[");
    for (size_t i = 0; i < c->n_missing; i++) {
        char line[1200];
        const mc_case_missing_t *m = &c->missing[i];
        snprintf(line, sizeof line, "%s%s%s", m->name ? m->name : "",
                 m->reason && *m->reason ? ": " : "", m->reason ? m->reason : "");
        if (i)
            json_append(x->data, size, &used, ",");
        json_string(x->data, size, &used, line);
    }
    json_append(x->data, size, &used, "]}");
    if (used + 1 >= size || x->data[used - 1] != '}') {
        used = 0;
        json_append(x->data, size, &used, "{\"supplement_due\":");
        json_append(x->data, size, &used, due_text);
        json_append(x->data, size, &used, ",\"missing\":\"xem phiếu yêu cầu bổ sung\"}");
    }
    return x->data;
}

/* due - mc_calendar_due from `at`, logged on failure as what=... */
static int due(const mc_cfg_t *cfg, const mc_result_claim_t *c, const char *what, int64_t at,
               int amount, mc_time_unit_t unit, int cutoff, int64_t *counted, int64_t *due_at)
{
    mc_err_t err;
    mc_err_clear(&err);
    if (mc_calendar_due(cfg->calendar, at, amount, unit, cutoff, counted, due_at, &err) == 0)
        return 0;
    mc_log_error(MC_LOG_ERR, "result_undecided", &err, "code=%s what=%s reason=calendar",
           c->dossier_code, what);
    return -1;
}

/* plan_notice - the notice of kind ("<code>/<kind>") with its data */
static void plan_notice(lienthong_result_ctx_t *x, const mc_result_claim_t *c,
                        mc_result_plan_t *plan, const char *kind, const char *data)
{
    snprintf(x->dedupe, sizeof x->dedupe, "%s/%s", c->dossier_code, kind);
    plan->notice_kind = kind;
    plan->notice_dedupe = x->dedupe;
    plan->notice_data = data;
}

/* decide_accepted - the desk accepted an online dossier (Nghị định 118/2025 Điều
 * 17 khoản 3): the procedure's processing time counts from now, by the same
 * rule as a counter receipt; the receipt notice follows */
static int decide_accepted(lienthong_result_ctx_t *x, const mc_result_claim_t *c,
                           mc_result_plan_t *plan)
{
    const mc_procedure_t *proc = mc_catalog_find(x->cfg->catalog, c->procedure_code);
    if (!proc) {
        mc_log(MC_LOG_ERR, "accept_failed", "procedure=%s reason=unknown_procedure",
               c->procedure_code);
        return -1;
    }
    plan->accepted_at = c->now;
    if (due(x->cfg, c, "accept", c->now, proc->processing_time, proc->time_unit,
            proc->cutoff_minutes, &plan->counted_from, &plan->due_at) != 0)
        return -1;
    plan->dossier_state = MC_DOSSIER_RECEIVED;
    plan->event.kind = mc_event_kind_name(MC_EVENT_ACCEPTED);
    plan->event.detail = mc_event_accepted(x->detail, sizeof x->detail, c->agency, plan->due_at);
    plan_notice(x, c, plan, "received", "{}");
    return 0;
}

/* decide_approved - a processing step done: the next one is queued with its
 * own limit counted from now, or the last one makes the result ready */
static int decide_approved(lienthong_result_ctx_t *x, const mc_result_claim_t *c,
                           mc_result_plan_t *plan)
{
    plan->before.kind = mc_event_kind_name(MC_EVENT_STEP_DONE);
    plan->before.detail =
        mc_event_step_done(x->before, sizeof x->before, c->step, c->steps_total, c->agency);
    if (c->step < c->steps_total) {
        int64_t counted = 0;
        plan->queue_next = true;
        return due(x->cfg, c, "next_step", c->now, c->next_time_limit,
                   c->next_time_unit ? MC_TIME_WORKING_HOURS : MC_TIME_WORKING_DAYS, -1, &counted,
                   &plan->next_due_at);
    }
    plan->dossier_state = MC_DOSSIER_RESULT_READY;
    plan->event.kind = mc_event_kind_name(MC_EVENT_RESULT_READY);
    plan->event.detail =
        mc_event_result_ready(x->detail, sizeof x->detail, c->step, c->steps_total, c->agency);
    plan_notice(x, c, plan, "result_ready", notice_agency(x, c->agency, NULL));
    return 0;
}

/* decide_rejected - the dossier ends here: the later steps are cancelled */
static int decide_rejected(lienthong_result_ctx_t *x, const mc_result_claim_t *c,
                           mc_result_plan_t *plan)
{
    plan->cancel_later = true;
    plan->dossier_state = MC_DOSSIER_REFUSED;
    plan->event.kind = mc_event_kind_name(MC_EVENT_REFUSED);
    plan->event.detail =
        mc_event_refused(x->detail, sizeof x->detail, c->step, c->steps_total, c->agency);
    plan_notice(x, c, plan, "refused", notice_agency(x, c->agency, c->reason ? c->reason : ""));
    return 0;
}

/* decide_needs_documents - the one request: the clock stops until the
 * applicant supplements, who has rules.supplement_days working days to do it */
static int decide_needs_documents(lienthong_result_ctx_t *x, const mc_result_claim_t *c,
                                  mc_result_plan_t *plan)
{
    int days = x->cfg->rules.supplement_days > 0 ? x->cfg->rules.supplement_days : 15;
    int64_t counted = 0;
    if (due(x->cfg, c, "supplement", c->now, days, MC_TIME_WORKING_DAYS, -1, &counted,
            &plan->supplement_due_at) != 0)
        return -1;
    plan->case_state = MC_CASE_PAUSED;
    plan->dossier_state = MC_DOSSIER_WAITING_SUPPLEMENT;
    plan->event.kind = mc_event_kind_name(MC_EVENT_SUPPLEMENT_REQUESTED);
    plan->event.detail = mc_event_supplement_requested(x->detail, sizeof x->detail, c->step,
                                                       c->steps_total, c->agency, c->n_missing);
    /* one notice per request (before 0015 a dossier could be asked more than once) */
    snprintf(x->dedupe, sizeof x->dedupe, "%s/supplement_requested/%ld", c->dossier_code,
             c->supplement_events + 1);
    plan->notice_kind = "supplement_requested";
    plan->notice_dedupe = x->dedupe;
    plan->notice_data = notice_missing(x, c, plan->supplement_due_at);
    return 0;
}

/* lienthong_decide_result - what an agency's accepted result does */
int lienthong_decide_result(void *arg, const mc_result_claim_t *claim, mc_result_plan_t *plan)
{
    lienthong_result_ctx_t *x = arg;
    memset(plan, 0, sizeof *plan);
    if (claim->outcome == MC_OUTCOME_NEEDS_DOCUMENTS && claim->supplement_requests >= 1) {
        /* one request per dossier (Nghị định 118/2025): refused, reported */
        plan->refuse = true;
        plan->event.kind = mc_event_kind_name(MC_EVENT_SUPPLEMENT_REFUSED);
        plan->event.detail =
            mc_event_supplement_refused(x->detail, sizeof x->detail, claim->step,
                                        claim->steps_total, claim->revision, claim->agency);
        return 0;
    }
    plan->case_state = MC_CASE_DONE;
    switch (claim->outcome) {
    case MC_OUTCOME_APPROVED:
        return claim->step == 0 ? decide_accepted(x, claim, plan)
                                : decide_approved(x, claim, plan);
    case MC_OUTCOME_REJECTED:
        return decide_rejected(x, claim, plan);
    case MC_OUTCOME_NEEDS_DOCUMENTS:
        return decide_needs_documents(x, claim, plan);
    }
    mc_log(MC_LOG_ERR, "result_undecided", "code=%s reason=outcome outcome=%d",
           claim->dossier_code, claim->outcome);
    return -1;
}
