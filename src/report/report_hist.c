// SPDX-License-Identifier: GPL-2.0
/* The text report's log2 wait histogram, laid out like libbpf-tools' print_log2_hist: one row per
 * power-of-two bucket with its range, its count and a bar scaled to the largest bucket. */
#include <string.h>

#include "report/render.h"
#include "util/units.h"

#define BAR_WIDTH 40

static void bucket_range(int slot, char *buf, size_t len)
{
	char lo[32], hi[32];

	/* Bucket i holds [2^i, 2^(i+1)) ns; bucket 0 also holds 0 ns, the last everything above. */
	units__duration(slot ? 1ULL << slot : 0, lo, sizeof(lo));
	if (slot == LP_HIST_SLOTS - 1)
		snprintf(buf, len, "%s and more", lo);
	else
		snprintf(buf, len, "%s -> %s", lo,
			 units__duration(1ULL << (slot + 1), hi, sizeof(hi)));
}

void report_hist__write(FILE *f, const uint64_t hist[LP_HIST_SLOTS], const char *indent)
{
	int first = -1, last = -1, range_w = (int)strlen("wait"), count_w = (int)strlen("count");
	uint64_t max = 0;
	char range[80], count[32], bar[BAR_WIDTH + 1];

	for (int i = 0; i < LP_HIST_SLOTS; i++) {
		if (!hist[i])
			continue;
		if (first < 0)
			first = i;
		last = i;
		if (hist[i] > max)
			max = hist[i];
	}
	if (first < 0) {
		fprintf(f, "%s(no waits)\n", indent);
		return;
	}
	for (int i = first; i <= last; i++) {
		int n;

		bucket_range(i, range, sizeof(range));
		n = (int)strlen(range);
		range_w = n > range_w ? n : range_w;
		n = (int)strlen(units__count(hist[i], count, sizeof(count)));
		count_w = n > count_w ? n : count_w;
	}
	fprintf(f, "%s%*s : %-*s  distribution\n", indent, range_w, "wait", count_w, "count");
	for (int i = first; i <= last; i++) {
		/* At least one star for a non-empty bucket, so no count looks like zero. */
		uint64_t stars = hist[i] * BAR_WIDTH / max;

		if (hist[i] && !stars)
			stars = 1;
		memset(bar, '*', stars);
		bar[stars] = '\0';
		bucket_range(i, range, sizeof(range));
		fprintf(f, "%s%*s : %-*s  |%-*s|\n", indent, range_w, range, count_w,
			units__count(hist[i], count, sizeof(count)), BAR_WIDTH, bar);
	}
}
