/*
 * test_decide - the daemons' decide functions that the store only writes:
 * notify's retry policy (services/notify/notify_decide.c) and lienthong's
 * resend delays (services/lienthong/lienthong_decide.c). Pure functions:
 * no store, no sockets.
 */
#include <stdint.h>

#include "lienthong.h"
#include "mc_test.h"
#include "notify.h"

/* notify_cfg - the notify section with the three retry keys */
static mc_cfg_notify_t notify_cfg(int initial_ms, int max_ms, int max_attempts)
{
    mc_cfg_notify_t c = {0};
    c.retry_initial_ms = initial_ms;
    c.retry_max_ms = max_ms;
    c.max_attempts = max_attempts;
    return c;
}

MC_TEST(test_notify_backoff_doubles_and_caps)
{
    mc_cfg_notify_t c = notify_cfg(1000, 60000, 10);
    CHECK_INT(notify_backoff_ms(&c, 1), 1000);
    CHECK_INT(notify_backoff_ms(&c, 2), 2000);
    CHECK_INT(notify_backoff_ms(&c, 3), 4000);
    CHECK_INT(notify_backoff_ms(&c, 6), 32000);
    CHECK_INT(notify_backoff_ms(&c, 7), 60000); /* 64000 capped */
    CHECK_INT(notify_backoff_ms(&c, 1000), 60000); /* no overflow however many */
    mc_cfg_notify_t odd = notify_cfg(0, 5, 3);   /* initial <= 0 counts as 1 */
    CHECK_INT(notify_backoff_ms(&odd, 1), 1);
    CHECK_INT(notify_backoff_ms(&odd, 3), 4);
    CHECK_INT(notify_backoff_ms(&odd, 4), 5);
    mc_cfg_notify_t low = notify_cfg(500, 200, 3); /* ceiling below the first */
    CHECK_INT(notify_backoff_ms(&low, 1), 200);
}

MC_TEST(test_notify_decide_retry_gives_up_at_max_attempts)
{
    mc_cfg_notify_t c = notify_cfg(1000, 60000, 3);
    mc_notice_retry_t v = notify_decide_retry(&c, 1);
    CHECK(!v.give_up);
    CHECK_INT(v.delay_ms, 1000);
    v = notify_decide_retry(&c, 2);
    CHECK(!v.give_up);
    CHECK_INT(v.delay_ms, 2000);
    v = notify_decide_retry(&c, 3);
    CHECK(v.give_up);
    v = notify_decide_retry(&c, 4); /* a lost attempt past the limit */
    CHECK(v.give_up);
    /* asked at claim with the attempts so far: 0 never gives up */
    v = notify_decide_retry(&c, 0);
    CHECK(!v.give_up);
}

MC_TEST(test_lienthong_resend_delay_doubles_to_64x)
{
    CHECK_INT(lienthong_resend_delay_ms(250, 1), 250);
    CHECK_INT(lienthong_resend_delay_ms(250, 2), 500);
    CHECK_INT(lienthong_resend_delay_ms(250, 7), 250 * 64);
    CHECK_INT(lienthong_resend_delay_ms(250, 8), 250 * 64);
    CHECK_INT(lienthong_resend_delay_ms(250, 1000), 250 * 64);
    CHECK_INT(lienthong_resend_delay_ms(250, 0), 250);
    /* a large timeout does not overflow: 64-bit */
    CHECK_INT(lienthong_resend_delay_ms(INT32_MAX, 7), (int64_t)INT32_MAX * 64);
}

MC_TEST(test_lienthong_resend_table_matches_the_rule)
{
    int64_t table[LIENTHONG_RESEND_STEPS];
    lienthong_resend_delays(1000, table);
    /* what the store binds: entry i for the (i+1)-th send, the last for any later one
     * (the former SQL: ack_timeout_ms << least(attempts before the send, 6)) */
    for (int attempt = 1; attempt <= 20; attempt++) {
        int i = attempt - 1 < LIENTHONG_RESEND_STEPS ? attempt - 1 : LIENTHONG_RESEND_STEPS - 1;
        int before = attempt - 1;
        CHECK_INT(table[i], (int64_t)1000 << (before < 6 ? before : 6));
        CHECK_INT(table[i], lienthong_resend_delay_ms(1000, attempt));
    }
}

int main(void)
{
    mc_test_run(test_notify_backoff_doubles_and_caps);
    mc_test_run(test_notify_decide_retry_gives_up_at_max_attempts);
    mc_test_run(test_lienthong_resend_delay_doubles_to_64x);
    mc_test_run(test_lienthong_resend_table_matches_the_rule);
    return mc_test_done("test_decide");
}
