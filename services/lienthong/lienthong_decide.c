/*
 * lienthong_decide - the hub's rule for resending a case (contract in
 * lienthong.h): how long the hub waits for an agency's ack of a send
 * before the case is due again. The same rule sets the in-flight timeout
 * of the hub's window (lienthong_hub.c dispatch) and, as a table bound by
 * the hub, next_attempt_at in the store (mc_store_cases_claim); the store
 * writes it and decides nothing. No I/O here.
 */
#include "lienthong.h"

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
