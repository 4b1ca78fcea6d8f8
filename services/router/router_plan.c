/*
 * router_plan - the router's business decisions: which desk and which steps
 * a dossier gets, and what a late dossier's notice says (docs/pipeline.md,
 * docs/rules.md "Late results"). Called by the store while the dossier's
 * row is locked; no I/O here except logs.
 */
#include "router.h"

#include <stdio.h>
#include <string.h>

#include "mc_calendar.h"
#include "mc_catalog.h"
#include "mc_log.h"

/* note - remember a dossier whose event goes out after the commit */
static void note(router_t *r, const char *code, const char *agency)
{
    if (r->n_notes >= r->cap_notes)
        return; /* events are hints: the store still has the work */
    router_note_t *n = &r->notes[r->n_notes++];
    snprintf(n->code, sizeof n->code, "%s", code);
    snprintf(n->agency, sizeof n->agency, "%s", agency ? agency : "");
}

/* router_decide_route - desk from routing.yaml, partner steps from the catalog */
int router_decide_route(void *arg, const mc_route_claim_t *claim, mc_route_plan_t *plan)
{
    router_t *r = arg;
    const mc_procedure_t *proc = mc_catalog_find(r->cfg->catalog, claim->procedure_code);
    if (!proc) {
        mc_log(MC_LOG_ERR, "route_skipped", "code=%s procedure=%s reason=unknown_procedure",
               claim->code, claim->procedure_code);
        return -1;
    }
    if (proc->n_steps + 1 > ROUTER_MAX_STEPS) {
        mc_log(MC_LOG_ERR, "route_skipped", "code=%s procedure=%s reason=too_many_steps",
               claim->code, claim->procedure_code);
        return -1;
    }
    mc_route_t route = mc_routing_lookup(r->routing, proc, claim->ward_code);
    /* step 1 is the handling desk with the whole processing time; the
     * partner steps follow in the catalog's order with their own limits */
    r->steps[0] = (mc_plan_step_t){route.department, "Thụ lý, giải quyết hồ sơ",
                                   proc->processing_time, (int)proc->time_unit};
    for (size_t i = 0; i < proc->n_steps; i++)
        r->steps[i + 1] = (mc_plan_step_t){proc->steps[i].agency, proc->steps[i].task,
                                           proc->steps[i].time_limit,
                                           (int)proc->steps[i].time_unit};
    snprintf(r->detail, sizeof r->detail, "%s: %s", route.department, route.department_name);
    plan->department = route.department;
    plan->detail = r->detail;
    plan->steps = r->steps;
    plan->n_steps = proc->n_steps + 1;
    plan->first_due_at = claim->due_at;
    note(r, claim->code, route.department); /* logged and published after the commit */
    return 0;
}

/* router_decide_late - the first time a new appointment, afterwards only the notice */
int router_decide_late(void *arg, const mc_late_claim_t *claim, mc_late_decision_t *decision)
{
    router_t *r = arg;
    char due_text[80];
    decision->new_due_at = 0;
    if (!claim->reappointed) {
        const mc_procedure_t *proc = mc_catalog_find(r->cfg->catalog, claim->procedure_code);
        if (!proc) {
            mc_log(MC_LOG_ERR, "late_skipped", "code=%s procedure=%s reason=unknown_procedure",
                   claim->code, claim->procedure_code);
            return -1;
        }
        /* the new date counts the procedure's time again from the due date
         * that passed, or from now when the scan comes later than that, so
         * the new appointment is never already in the past */
        int64_t base = claim->due_at > r->now ? claim->due_at : r->now;
        int64_t counted = 0, due = 0;
        mc_err_t err;
        mc_err_clear(&err);
        if (mc_calendar_due(r->cfg->calendar, base, proc->processing_time, proc->time_unit,
                            proc->cutoff_minutes, &counted, &due, &err) != 0) {
            char line[300], quoted[340];
            mc_log(MC_LOG_ERR, "late_skipped", "code=%s reason=calendar error=%s", claim->code,
                   mc_log_quote(mc_err_first(&err, line, sizeof line), quoted, sizeof quoted));
            return -1;
        }
        decision->new_due_at = due;
        snprintf(r->detail, sizeof r->detail,
                 "Quá hạn giải quyết; xin lỗi và hẹn lại: %s",
                 mc_format_local(due, due_text, sizeof due_text));
    } else {
        snprintf(r->detail, sizeof r->detail,
                 "Quá hạn giải quyết lần nữa; đã hẹn lại một lần, không hẹn lại lần thứ hai");
    }
    decision->detail = r->detail;
    note(r, claim->code, NULL); /* logged and published after the commit */
    return 0;
}

/* router_decide_forwarding - a dossier received at another ward that did not
 * reach its competent ward by the forwarding deadline (Nghị định 118/2025
 * Điều 20): one event for both wards' staff; forwarding still happens when
 * the competent desk takes the case */
int router_decide_forwarding(void *arg, const mc_forwarding_claim_t *claim,
                             mc_forwarding_decision_t *decision)
{
    router_t *r = arg;
    char due_text[80];
    snprintf(r->detail, sizeof r->detail,
             "Quá hạn chuyển hồ sơ từ phường %s đến phường %s (hạn %s)", claim->receiving_ward,
             claim->ward_code, mc_format_local(claim->forward_due_at, due_text, sizeof due_text));
    decision->detail = r->detail;
    note(r, claim->code, NULL); /* logged after the commit */
    return 0;
}
