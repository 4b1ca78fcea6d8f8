/*
 * router_plan - the router's business decisions: which desk and which steps
 * a dossier gets, what a late dossier's notice says, and what the return of
 * a dossier not supplemented in time records (docs/pipeline.md, docs/rules.md
 * "Late results", "One supplement request, then return"). Called by the store while the dossier's
 * row is locked; no I/O here except logs.
 */
#include "router.h"

#include <stdio.h>
#include <string.h>

#include "mc_calendar.h"
#include "mc_catalog.h"
#include "mc_event.h"
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
    mc_event_routed(r->detail, sizeof r->detail, route.department, route.department_name);
    plan->department = route.department;
    plan->detail = r->detail;
    plan->steps = r->steps;
    plan->n_steps = proc->n_steps + 1;
    plan->first_due_at = claim->due_at;
    note(r, claim->code, route.department); /* logged and published after the commit */
    return 0;
}

/* router_decide_late - the notice once per due date, never a new date: the
 * law re-appoints only through the apology before the due date (Điều 19
 * khoản 6, mc_store_extension); the detail says which case this is */
int router_decide_late(void *arg, const mc_late_claim_t *claim, mc_late_decision_t *decision)
{
    router_t *r = arg;
    decision->new_due_at = 0;
    decision->detail = mc_event_late(r->detail, sizeof r->detail, claim->due_at, claim->apologized);
    note(r, claim->code, NULL); /* logged and published after the commit */
    return 0;
}

/* router_decide_unsupplemented - the one supplement request's deadline passed:
 * the dossier is closed and returned (Nghị định 118/2025; docs/rules.md "One
 * supplement request, then return"); every such dossier is returned */
int router_decide_unsupplemented(void *arg, const mc_unsupplemented_claim_t *claim,
                                 mc_unsupplemented_decision_t *decision)
{
    router_t *r = arg;
    decision->detail = mc_event_returned(r->detail, sizeof r->detail, claim->supplement_due_at);
    note(r, claim->code, NULL); /* logged and published after the commit */
    return 0;
}

/* router_due_soon_horizon - counted like a due date with a day ending at
 * midnight, so a scan after working hours still looks N working days ahead */
int64_t router_due_soon_horizon(router_t *r)
{
    int64_t counted = 0, horizon = 0;
    mc_err_t err;
    mc_err_clear(&err);
    if (mc_calendar_due(r->cfg->calendar, r->now, r->cfg->rules.warn_before_days,
                        MC_TIME_WORKING_DAYS, 24 * 60, &counted, &horizon, &err) != 0) {
        mc_log_error(MC_LOG_ERR, "due_soon_skipped", &err, "reason=calendar");
        return -1;
    }
    return horizon;
}

/* router_decide_due_soon - the desk's and agency's warning: the date that comes near */
int router_decide_due_soon(void *arg, const mc_due_soon_claim_t *claim, const char **detail)
{
    router_t *r = arg;
    *detail = mc_event_due_soon(r->detail, sizeof r->detail, claim->due_at, claim->extended);
    note(r, claim->code, NULL);
    return 0;
}

/* router_decide_acceptance_case - an online dossier's acceptance goes to the
 * desk that will handle it (routing.yaml), due at its acceptance deadline */
int router_decide_acceptance_case(void *arg, const mc_route_claim_t *claim, mc_route_plan_t *plan)
{
    router_t *r = arg;
    const mc_procedure_t *proc = mc_catalog_find(r->cfg->catalog, claim->procedure_code);
    if (!proc) {
        mc_log(MC_LOG_ERR, "acceptance_skipped", "code=%s procedure=%s reason=unknown_procedure",
               claim->code, claim->procedure_code);
        return -1;
    }
    mc_route_t route = mc_routing_lookup(r->routing, proc, claim->ward_code);
    r->steps[0] = (mc_plan_step_t){route.department, "Kiểm tra, tiếp nhận hồ sơ trực tuyến",
                                   r->cfg->rules.acceptance_hours, (int)MC_TIME_WORKING_HOURS};
    plan->department = route.department;
    plan->detail = "";
    plan->steps = r->steps;
    plan->n_steps = 1;
    plan->first_due_at = claim->due_at;
    note(r, claim->code, route.department); /* logged and published after the commit */
    return 0;
}

/* router_decide_acceptance - the flag for a dossier not accepted in time */
int router_decide_acceptance(void *arg, const mc_accept_claim_t *claim, const char **detail)
{
    router_t *r = arg;
    *detail = mc_event_acceptance_overdue(r->detail, sizeof r->detail,
                                          r->cfg->rules.acceptance_hours, claim->accept_due_at,
                                          claim->agency);
    note(r, claim->code, claim->agency);
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
    decision->detail = mc_event_forward_overdue(r->detail, sizeof r->detail, claim->receiving_ward,
                                                claim->ward_code, claim->forward_due_at);
    note(r, claim->code, NULL); /* logged after the commit */
    return 0;
}

/* router_decide_step_overdue - an agency's step past its own limit: one event
 * for the desk's staff per due date (the applicant's notice is the dossier's,
 * router_decide_late) */
int router_decide_step_overdue(void *arg, const mc_step_overdue_claim_t *claim,
                               const char **detail)
{
    router_t *r = arg;
    *detail = mc_event_step_overdue(r->detail, sizeof r->detail, claim->step, claim->steps_total,
                                    claim->agency, claim->due_at);
    return 0;
}
