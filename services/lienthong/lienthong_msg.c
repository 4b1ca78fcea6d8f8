/*
 * lienthong_msg - the frames motcua-lienthong sends, and the checks on the
 * results it receives (agency.proto is the contract).
 *
 * Everything here is pure: no sockets, no store. A Case carries the dossier
 * exactly as stored (supplements applied) and the earlier steps' results,
 * so an agency needs nothing but the frame to do its step.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lienthong.h"
#include "mc_validate.h"
#include "mc_wire.h"
#include "motcua/internal/v1/pipeline.pb-c.h"

/* lienthong_frame_clear - free and zero */
void lienthong_frame_clear(lienthong_frame_t *frame)
{
    free(frame->bytes);
    frame->bytes = NULL;
    frame->length = 0;
}

/* pack_hub - serialize a HubToAgency */
static int pack_hub(const Motcua__V1__HubToAgency *m, lienthong_frame_t *frame)
{
    size_t n = motcua__v1__hub_to_agency__get_packed_size(m);
    frame->bytes = malloc(n ? n : 1);
    if (!frame->bytes)
        return -1;
    frame->length = motcua__v1__hub_to_agency__pack(m, frame->bytes);
    return 0;
}

/* lienthong_pack_case - build the Case with its dossier and earlier results */
int lienthong_pack_case(const mc_cfg_t *cfg, const mc_case_t *c, lienthong_frame_t *frame)
{
    const mc_procedure_t *proc = mc_catalog_find(cfg->catalog, c->procedure_code);
    Motcua__V1__Case k = MOTCUA__V1__CASE__INIT;
    k.case_id = (char *)c->case_id;
    k.attempt = (uint32_t)c->attempt;
    k.revision = (uint32_t)c->revision;
    k.dossier_code = (char *)c->dossier_code;
    k.step = (uint32_t)c->step;
    k.steps_total = (uint32_t)c->steps_total;
    k.procedure_code = (char *)c->procedure_code;
    k.procedure_name = proc ? proc->name : (char *)"";
    k.task = c->task ? c->task : (char *)"";
    /* step 0 is the desk's acceptance of an online dossier (agency.proto CaseKind) */
    k.kind = c->step == 0 ? MOTCUA__V1__CASE_KIND__CASE_KIND_ACCEPTANCE
                          : MOTCUA__V1__CASE_KIND__CASE_KIND_PROCESS;
    k.due_at = c->due_at;
    k.dossier = motcua__v1__dossier__unpack(NULL, c->payload_len, c->payload);
    if (!k.dossier)
        return -1; /* the store only holds what intake accepted: never expected */
    /* dossiers stored before intake decoded strictly may carry fields we do
     * not know: they are not forwarded to agencies */
    mc_wire_strip_unknown(&k.dossier->base);

    Motcua__V1__CaseResult **results = calloc(c->n_previous + 1, sizeof *results);
    Motcua__V1__StepResult *steps = calloc(c->n_previous + 1, sizeof *steps);
    Motcua__V1__StepResult **step_ptrs = calloc(c->n_previous + 1, sizeof *step_ptrs);
    int rc = -1;
    if (!results || !steps || !step_ptrs)
        goto done;
    for (size_t i = 0; i < c->n_previous; i++) {
        const mc_case_prev_t *p = &c->previous[i];
        Motcua__V1__StepResult s = MOTCUA__V1__STEP_RESULT__INIT;
        s.step = (uint32_t)p->step;
        s.agency = (char *)p->agency;
        s.outcome = (Motcua__V1__Outcome)p->outcome;
        if (p->result)
            results[i] = motcua__v1__case_result__unpack(NULL, p->result_len, p->result);
        if (results[i]) {
            mc_wire_strip_unknown(&results[i]->base);
            s.n_documents = results[i]->n_result_documents;
            s.documents = results[i]->result_documents;
        }
        steps[i] = s;
        step_ptrs[i] = &steps[i];
    }
    k.n_previous = c->n_previous;
    k.previous = step_ptrs;
    Motcua__V1__HubToAgency m = MOTCUA__V1__HUB_TO_AGENCY__INIT;
    m.body_case = MOTCUA__V1__HUB_TO_AGENCY__BODY_CASE;
    m.case_ = &k;
    rc = pack_hub(&m, frame);
done:
    for (size_t i = 0; results && i < c->n_previous; i++)
        if (results[i])
            motcua__v1__case_result__free_unpacked(results[i], NULL);
    free(results);
    free(steps);
    free(step_ptrs);
    motcua__v1__dossier__free_unpacked(k.dossier, NULL);
    return rc;
}

/* lienthong_pack_heartbeat - "still here", with the hub's epoch */
int lienthong_pack_heartbeat(uint64_t epoch, lienthong_frame_t *frame)
{
    Motcua__V1__Heartbeat hb = MOTCUA__V1__HEARTBEAT__INIT;
    hb.at = (int64_t)time(NULL);
    hb.epoch = epoch;
    Motcua__V1__HubToAgency m = MOTCUA__V1__HUB_TO_AGENCY__INIT;
    m.body_case = MOTCUA__V1__HUB_TO_AGENCY__BODY_HEARTBEAT;
    m.heartbeat = &hb;
    return pack_hub(&m, frame);
}

/* lienthong_pack_hello - "who are you? resync with me" */
int lienthong_pack_hello(uint64_t epoch, int heartbeat_ms, int lease_ms, lienthong_frame_t *frame)
{
    Motcua__V1__Hello h = MOTCUA__V1__HELLO__INIT;
    h.epoch = epoch;
    h.resync_requested = 1;
    h.heartbeat_ms = (uint32_t)heartbeat_ms;
    h.lease_ms = (uint32_t)lease_ms;
    Motcua__V1__HubToAgency m = MOTCUA__V1__HUB_TO_AGENCY__INIT;
    m.body_case = MOTCUA__V1__HUB_TO_AGENCY__BODY_HELLO;
    m.hello = &h;
    return pack_hub(&m, frame);
}

/* lienthong_pack_result_ack - stored or refused */
int lienthong_pack_result_ack(const char *case_id, int accepted, const char *reason,
                              lienthong_frame_t *frame)
{
    return lienthong_pack_result_ack_code(case_id, accepted, reason,
                                          MOTCUA__V1__REASON__REASON_UNSPECIFIED, frame);
}

/* lienthong_pack_result_ack_code - stored or refused, with the machine reason of a refusal */
int lienthong_pack_result_ack_code(const char *case_id, int accepted, const char *reason,
                                   Motcua__V1__Reason code, lienthong_frame_t *frame)
{
    Motcua__V1__ResultAck a = MOTCUA__V1__RESULT_ACK__INIT;
    a.case_id = (char *)case_id;
    a.accepted = accepted ? 1 : 0;
    a.reason = (char *)(reason ? reason : "");
    a.code = code;
    Motcua__V1__HubToAgency m = MOTCUA__V1__HUB_TO_AGENCY__INIT;
    m.body_case = MOTCUA__V1__HUB_TO_AGENCY__BODY_RESULT_ACK;
    m.result_ack = &a;
    return pack_hub(&m, frame);
}

/* lienthong_pack_refusal - the frame could not be used; nothing changed */
int lienthong_pack_refusal(const char *case_id, Motcua__V1__Reason reason, const char *message,
                           lienthong_frame_t *frame)
{
    Motcua__V1__Refusal r = MOTCUA__V1__REFUSAL__INIT;
    r.case_id = (char *)(case_id ? case_id : "");
    r.reason = reason;
    r.message = (char *)message;
    Motcua__V1__HubToAgency m = MOTCUA__V1__HUB_TO_AGENCY__INIT;
    m.body_case = MOTCUA__V1__HUB_TO_AGENCY__BODY_REFUSAL;
    m.refusal = &r;
    return pack_hub(&m, frame);
}

/* lienthong_pack_due_soon - the warning before lateness for the case's holder */
int lienthong_pack_due_soon(const char *case_id, int revision, int64_t due_at,
                            int64_t dossier_due_at, const char *message, lienthong_frame_t *frame)
{
    Motcua__V1__DueSoon d = MOTCUA__V1__DUE_SOON__INIT;
    d.case_id = (char *)case_id;
    d.revision = revision > 0 ? (uint32_t)revision : 1;
    d.due_at = due_at;
    d.dossier_due_at = dossier_due_at;
    d.message = (char *)(message ? message : "");
    Motcua__V1__HubToAgency m = MOTCUA__V1__HUB_TO_AGENCY__INIT;
    m.body_case = MOTCUA__V1__HUB_TO_AGENCY__BODY_DUE_SOON;
    m.due_soon = &d;
    return pack_hub(&m, frame);
}

/* lienthong_pack_extension_ack - the answer to an ExtensionRequest */
int lienthong_pack_extension_ack(const char *case_id, bool accepted, int64_t new_due_at,
                                 Motcua__V1__Reason code, const char *reason,
                                 lienthong_frame_t *frame)
{
    Motcua__V1__ExtensionAck a = MOTCUA__V1__EXTENSION_ACK__INIT;
    a.case_id = (char *)case_id;
    a.accepted = accepted ? 1 : 0;
    a.new_due_at = accepted ? new_due_at : 0;
    a.code = accepted ? MOTCUA__V1__REASON__REASON_UNSPECIFIED : code;
    a.reason = (char *)(reason ? reason : "");
    Motcua__V1__HubToAgency m = MOTCUA__V1__HUB_TO_AGENCY__INIT;
    m.body_case = MOTCUA__V1__HUB_TO_AGENCY__BODY_EXTENSION_ACK;
    m.extension_ack = &a;
    return pack_hub(&m, frame);
}

/* lienthong_pack_event - PipelineEvent */
int lienthong_pack_event(int kind, const char *dossier_code, const char *agency,
                         lienthong_frame_t *frame)
{
    Motcua__Internal__V1__PipelineEvent e = MOTCUA__INTERNAL__V1__PIPELINE_EVENT__INIT;
    e.kind = (Motcua__Internal__V1__PipelineEvent__Kind)kind;
    e.dossier_code = (char *)(dossier_code ? dossier_code : "");
    e.agency = (char *)(agency ? agency : "");
    size_t n = motcua__internal__v1__pipeline_event__get_packed_size(&e);
    frame->bytes = malloc(n ? n : 1);
    if (!frame->bytes)
        return -1;
    frame->length = motcua__internal__v1__pipeline_event__pack(&e, frame->bytes);
    return 0;
}

/* text_ok - a string within max bytes and valid UTF-8 (NULL counts as empty) */
static int text_ok(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    return n <= max && (n == 0 || mc_valid_utf8(s, n));
}

/* lienthong_check_result - agency.proto's bounds */
const char *lienthong_check_result(const Motcua__V1__CaseResult *r)
{
    if (!r->case_id || !*r->case_id || !text_ok(r->case_id, 95))
        return "case_id missing or invalid";
    if (r->outcome != MOTCUA__V1__OUTCOME__OUTCOME_APPROVED &&
        r->outcome != MOTCUA__V1__OUTCOME__OUTCOME_REJECTED &&
        r->outcome != MOTCUA__V1__OUTCOME__OUTCOME_NEEDS_DOCUMENTS)
        return "outcome missing or unknown";
    if (!text_ok(r->reason, 2000))
        return "reason too long or not UTF-8";
    if (r->outcome == MOTCUA__V1__OUTCOME__OUTCOME_REJECTED && (!r->reason || !*r->reason))
        return "a rejection needs a reason";
    if (r->n_missing > 50 || r->n_result_documents > 50)
        return "too many missing or result documents";
    if (r->outcome == MOTCUA__V1__OUTCOME__OUTCOME_NEEDS_DOCUMENTS && r->n_missing == 0)
        return "needs_documents needs the missing list";
    for (size_t i = 0; i < r->n_missing; i++) {
        const Motcua__V1__MissingDocument *m = r->missing[i];
        if (!text_ok(m->document_type, 64) || !text_ok(m->name, 255) || !text_ok(m->reason, 500))
            return "missing document text too long or not UTF-8";
        if ((!m->name || !*m->name) && (!m->document_type || !*m->document_type))
            return "missing document without a name";
    }
    for (size_t i = 0; i < r->n_result_documents; i++) {
        const Motcua__V1__DocumentRef *d = r->result_documents[i];
        if (!text_ok(d->document_type, 64) || !text_ok(d->name, 255) ||
            !text_ok(d->media_type, 127) || !text_ok(d->uri, 2048))
            return "result document text too long or not UTF-8";
    }
    if (!text_ok(r->handled_by, 200))
        return "handled_by too long or not UTF-8";
    return NULL;
}

/* lienthong_check_extension - agency.proto rule 8's bounds */
const char *lienthong_check_extension(const Motcua__V1__ExtensionRequest *r)
{
    if (!lienthong_case_id_ok(r->case_id))
        return "case_id missing or invalid";
    if (r->revision > INT32_MAX)
        return "revision out of range";
    if (r->new_due_at <= 0)
        return "new_due_at missing";
    if (!r->reason || !*r->reason || !text_ok(r->reason, 2000))
        return "reason must be 1..2000 bytes of UTF-8";
    return NULL;
}

/* printable - n bytes of printable ASCII (0x20..0x7e) */
static bool printable(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
            return false;
    return true;
}

/* lienthong_case_id_ok - 1..95 printable ASCII bytes */
bool lienthong_case_id_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return n >= 1 && n <= 95 && printable(s, n);
}

/* lienthong_session_ok - 16..64 printable ASCII bytes (agency.proto rule 6) */
bool lienthong_session_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return n >= LIENTHONG_SESSION_MIN && n <= LIENTHONG_SESSION_MAX && printable(s, n);
}

/* lienthong_check_ready - agency.proto's bounds for a Ready */
const char *lienthong_check_ready(const Motcua__V1__Ready *r)
{
    if (r->credit > 1000 || (r->credit < 1 && !r->resync))
        return "credit must be 1..1000 (0 only in a resync Ready)";
    if (!text_ok(r->client_version, 64))
        return "client_version too long or not UTF-8";
    if (r->session && *r->session && !lienthong_session_ok(r->session))
        return "session must be 16..64 printable ASCII bytes";
    if (!r->resync && r->n_holding > 0)
        return "holding is for a resync Ready only";
    if (r->n_holding > LIENTHONG_MAX_HOLDING)
        return "holding lists more than 100000 cases";
    for (size_t i = 0; i < r->n_holding; i++) {
        const Motcua__V1__HeldCase *h = r->holding[i];
        if (!lienthong_case_id_ok(h->case_id))
            return "a held case_id is missing or invalid";
        if (h->revision > INT32_MAX)
            return "a held revision is out of range";
    }
    return NULL;
}
