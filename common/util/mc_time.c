/*
 * mc_time - monotonic and wall-clock milliseconds (see mc_time.h).
 */
#include "mc_time.h"

#include <time.h>

/* ms_of - milliseconds of one clock */
static int64_t ms_of(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* mc_time_mono_ms - CLOCK_MONOTONIC ms */
int64_t mc_time_mono_ms(void)
{
    return ms_of(CLOCK_MONOTONIC);
}

/* mc_time_real_ms - CLOCK_REALTIME ms */
int64_t mc_time_real_ms(void)
{
    return ms_of(CLOCK_REALTIME);
}
