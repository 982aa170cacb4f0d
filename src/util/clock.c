// SPDX-License-Identifier: GPL-2.0
/* Clock reads (see clock.h). */
#include <time.h>

#include "util/clock.h"

static uint64_t read_clock(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

uint64_t clock__monotonic_ns(void)
{
	return read_clock(CLOCK_MONOTONIC);
}

uint64_t clock__realtime_ns(void)
{
	return read_clock(CLOCK_REALTIME);
}
