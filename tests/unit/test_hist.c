// SPDX-License-Identifier: GPL-2.0
/* log2 histogram bucketing shared with BPF: bucket i holds [2^i, 2^(i+1)) ns. */
#include "lockprof/hist.h"
#include "testing.h"

static __u32 reference_slot(__u64 ns)
{
	__u32 slot = 0;

	while (ns >>= 1)
		slot++;
	return slot < LP_HIST_SLOTS ? slot : LP_HIST_SLOTS - 1;
}

int main(void)
{
	CHECK_EQ_INT(lp_hist_slot(0), 0, "0 ns");
	CHECK_EQ_INT(lp_hist_slot(1), 0, "1 ns");
	CHECK_EQ_INT(lp_hist_slot(2), 1, "2 ns");
	CHECK_EQ_INT(lp_hist_slot(3), 1, "3 ns");
	CHECK_EQ_INT(lp_hist_slot(1023), 9, "1023 ns");
	CHECK_EQ_INT(lp_hist_slot(1024), 10, "1024 ns");
	CHECK_EQ_INT(lp_hist_slot(20000000), 24, "20 ms");
	CHECK_EQ_INT(lp_hist_slot(~0ULL), LP_HIST_SLOTS - 1, "largest value clamps");
	/* every power of two and its neighbours agree with a plain shift loop */
	for (int i = 0; i < 64; i++) {
		__u64 v = 1ULL << i;

		CHECK(lp_hist_slot(v) == reference_slot(v), "2^%d", i);
		CHECK(lp_hist_slot(v - 1) == reference_slot(v - 1), "2^%d - 1", i);
		CHECK(lp_hist_slot(v + 1) == reference_slot(v + 1), "2^%d + 1", i);
	}
	return testing_summary("hist");
}
