/* Time. Monotonic clocks for deadlines and rates; wall clock only for
 * what a person reads. */
#ifndef DM_BASE_CLOCK_H
#define DM_BASE_CLOCK_H

#include <stdatomic.h>
#include <stdint.h>

/* CLOCK_MONOTONIC in nanoseconds / milliseconds. */
int64_t dm_clock_mono_ns(void);
int64_t dm_clock_mono_ms(void);
/* Wall clock, milliseconds since the epoch. */
int64_t dm_clock_wall_ms(void);
/* Sleeps ms milliseconds, resuming after signals. */
void dm_clock_sleep_ms(int64_t ms);
/* Sleeps up to ms milliseconds, returning early (within 100 ms) once
 * *stop is set: the backoff of loops that must stay cancellable. */
void dm_clock_sleep_unless(int64_t ms, const atomic_bool *stop);

#endif
