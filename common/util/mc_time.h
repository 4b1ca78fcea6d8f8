/*
 * mc_time - the clocks every program reads, written once.
 *
 * Contract: mc_time_mono_ms() is for durations, deadlines and timers (it
 * never jumps with the wall clock); mc_time_real_ms() is for instants that
 * leave the process (logs, the store, messages). Neither can fail on Linux:
 * clock_gettime() with these clocks only fails for a bad pointer.
 */
#ifndef MC_TIME_H
#define MC_TIME_H

#include <stdint.h>

/* mc_time_mono_ms - CLOCK_MONOTONIC in milliseconds */
int64_t mc_time_mono_ms(void);

/* mc_time_real_ms - CLOCK_REALTIME in milliseconds since the epoch */
int64_t mc_time_real_ms(void);

#endif
