/* Time. Monotonic clocks for deadlines and rates; wall clock only for
 * what a person reads. */
#ifndef DM_BASE_CLOCK_H
#define DM_BASE_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC in nanoseconds / milliseconds. */
int64_t dm_clock_mono_ns(void);
int64_t dm_clock_mono_ms(void);
/* Wall clock, milliseconds since the epoch. */
int64_t dm_clock_wall_ms(void);
/* Sleeps ms milliseconds, resuming after signals. */
void dm_clock_sleep_ms(int64_t ms);

#endif
