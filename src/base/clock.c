#include "base/clock.h"

#include <errno.h>
#include <time.h>

int64_t dm_clock_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t dm_clock_mono_ms(void)
{
	return dm_clock_mono_ns() / 1000000;
}

int64_t dm_clock_wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void dm_clock_sleep_unless(int64_t ms, const atomic_bool *stop)
{
	for (int64_t slept = 0; slept < ms && !atomic_load(stop); slept += 100)
		dm_clock_sleep_ms(ms - slept < 100 ? ms - slept : 100);
}

void dm_clock_sleep_ms(int64_t ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}
