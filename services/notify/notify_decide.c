/*
 * notify_decide - the notification retry policy (contract in notify.h):
 * when a notification not sent by every channel it wants is tried again,
 * and when it is failed for good. The store (mc_store_notify) writes the
 * verdict it is given and decides nothing; no I/O here.
 */
#include <stdint.h>

#include "mc_daemon.h"
#include "notify.h"

/* notify_backoff_ms - retry_initial_ms doubled per earlier attempt, capped at retry_max_ms */
int notify_backoff_ms(const mc_cfg_notify_t *cfg, int attempts)
{
    return mc_daemon_backoff_ms(cfg->retry_initial_ms, cfg->retry_max_ms, attempts);
}

/* notify_decide_retry - give up at max_attempts, else retry after the backoff */
mc_notice_retry_t notify_decide_retry(const mc_cfg_notify_t *cfg, int attempts)
{
    if (attempts >= cfg->max_attempts)
        return (mc_notice_retry_t){.give_up = true, .delay_ms = 0};
    return (mc_notice_retry_t){.give_up = false, .delay_ms = notify_backoff_ms(cfg, attempts)};
}
