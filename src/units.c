// SPDX-License-Identifier: GPL-2.0
/* Formatting of durations and counts for the text report. */
#include <stdio.h>

#include "units.h"

char *units__duration(uint64_t ns, char *buf, size_t len)
{
	static const struct {
		uint64_t scale;
		const char *unit;
	} units[] = { { 1000000000ULL, "s" }, { 1000000ULL, "ms" }, { 1000ULL, "us" } };

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		double v;

		if (ns < units[i].scale)
			continue;
		v = (double)ns / (double)units[i].scale;
		/* Three significant digits. */
		if (v >= 100)
			snprintf(buf, len, "%.0f %s", v, units[i].unit);
		else if (v >= 10)
			snprintf(buf, len, "%.1f %s", v, units[i].unit);
		else
			snprintf(buf, len, "%.2f %s", v, units[i].unit);
		return buf;
	}
	snprintf(buf, len, "%llu ns", (unsigned long long)ns);
	return buf;
}

char *units__count(uint64_t n, char *buf, size_t len)
{
	char digits[32];
	int nd = snprintf(digits, sizeof(digits), "%llu", (unsigned long long)n);
	size_t o = 0;

	for (int i = 0; i < nd && o + 2 < len; i++) {
		if (i && (nd - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = digits[i];
	}
	if (len)
		buf[o < len ? o : len - 1] = '\0';
	return buf;
}
