/*
 * intake_reply - building the one reply frame (see intake.h).
 */
#include "intake.h"

#include <stdlib.h>
#include <string.h>

/* intake_reply_pack - serialize an IntakeReply into reply */
int intake_reply_pack(intake_reply_t *reply, const Motcua__V1__IntakeReply *message)
{
    size_t n = motcua__v1__intake_reply__get_packed_size(message);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf)
        return -1;
    motcua__v1__intake_reply__pack(message, buf);
    intake_reply_clear(reply);
    reply->bytes = buf;
    reply->length = n;
    return 0;
}

/* intake_reason_retryable - temporary conditions only */
int intake_reason_retryable(Motcua__V1__Reason reason)
{
    return reason == MOTCUA__V1__REASON__REASON_UNAVAILABLE ||
           reason == MOTCUA__V1__REASON__REASON_SHUTTING_DOWN ||
           reason == MOTCUA__V1__REASON__REASON_INTERNAL;
}

/* intake_reply_rejection - pack a Rejection */
int intake_reply_rejection(intake_reply_t *reply, Motcua__V1__Reason reason, const char *field,
                           const char *message, int retry_after_ms)
{
    Motcua__V1__Rejection rej = MOTCUA__V1__REJECTION__INIT;
    rej.reason = reason;
    rej.field = (char *)(field ? field : "");
    rej.message = (char *)(message ? message : "");
    rej.retryable = intake_reason_retryable(reason) ? 1 : 0;
    rej.retry_after_ms = rej.retryable && retry_after_ms > 0 ? (uint32_t)retry_after_ms : 0;
    Motcua__V1__IntakeReply msg = MOTCUA__V1__INTAKE_REPLY__INIT;
    msg.body_case = MOTCUA__V1__INTAKE_REPLY__BODY_REJECTION;
    msg.rejection = &rej;
    return intake_reply_pack(reply, &msg);
}

/* intake_reply_missing - pack a problem's Rejection with every missing document
 * (REASON_MISSING_DOCUMENT: the counter's one written guidance, Mẫu 02) */
int intake_reply_missing(intake_reply_t *reply, const mc_problem_t *problem)
{
    Motcua__V1__MissingDocument items[MC_PROBLEM_MAX_MISSING];
    Motcua__V1__MissingDocument *ptrs[MC_PROBLEM_MAX_MISSING];
    size_t n = problem->n_missing < MC_PROBLEM_MAX_MISSING ? problem->n_missing
                                                          : MC_PROBLEM_MAX_MISSING;
    for (size_t i = 0; i < n; i++) {
        motcua__v1__missing_document__init(&items[i]);
        items[i].document_type = problem->missing[i]->code;
        items[i].name = problem->missing[i]->name;
        items[i].reason = (char *)"chưa có trong hồ sơ (giấy tờ bắt buộc)";
        ptrs[i] = &items[i];
    }
    Motcua__V1__Rejection rej = MOTCUA__V1__REJECTION__INIT;
    rej.reason = problem->reason;
    rej.field = (char *)problem->field;
    rej.message = (char *)problem->message;
    rej.n_missing = n;
    rej.missing = n ? ptrs : NULL;
    Motcua__V1__IntakeReply msg = MOTCUA__V1__INTAKE_REPLY__INIT;
    msg.body_case = MOTCUA__V1__INTAKE_REPLY__BODY_REJECTION;
    msg.rejection = &rej;
    return intake_reply_pack(reply, &msg);
}

/* intake_reply_clear - free */
void intake_reply_clear(intake_reply_t *reply)
{
    free(reply->bytes);
    reply->bytes = NULL;
    reply->length = 0;
}
