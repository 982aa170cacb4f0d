// SPDX-License-Identifier: GPL-2.0
/* Formatting of durations and counts for the text report, and parsing of durations. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "util/units.h"

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
		/* Three significant digits; long runs in seconds get separators ("1,234 s"). */
		if (v >= 1000 && i == 0) {
			char n[32];

			snprintf(buf, len, "%s s", units__count((uint64_t)(v + 0.5), n, sizeof(n)));
		} else if (v >= 100)
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

	for (int i = 0; i < nd; i++) {
		bool comma = i && (nd - i) % 3 == 0;

		if (o + comma + 1 >= len)
			break;
		if (comma)
			buf[o++] = ',';
		buf[o++] = digits[i];
	}
	if (len)
		buf[o < len ? o : len - 1] = '\0';
	return buf;
}

int units__parse_duration(const char *s, uint64_t *ns)
{
	static const struct {
		const char *suffix;
		uint64_t scale;
	} units[] = {
		{ "ns", 1 },	   { "us", 1000 },	{ "\xc2\xb5s", 1000 },
		{ "ms", 1000000 }, { "s", 1000000000 },
	};
	uint64_t whole = 0, frac = 0, frac_scale = 1, scale = 0;
	const char *p = s;
	size_t i;

	/* Integer arithmetic only: strtod would take "inf", hex floats and the locale's comma. */
	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		uint64_t digit = (uint64_t)(*p - '0');

		if (whole > (UINT64_MAX - digit) / 10)
			return -ERANGE;
		whole = whole * 10 + digit;
	}
	if (*p == '.') {
		if (p[1] < '0' || p[1] > '9')
			return -EINVAL;
		/* Digits past nanoseconds of a second cannot matter: read 9 and skip the rest. */
		for (p++; *p >= '0' && *p <= '9'; p++)
			if (frac_scale < 1000000000) {
				frac = frac * 10 + (uint64_t)(*p - '0');
				frac_scale *= 10;
			}
	}
	if (!*p && whole == 0 && frac == 0) {
		*ns = 0;
		return 0;
	}
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcmp(p, units[i].suffix))
			scale = units[i].scale;
	if (!scale)
		return -EINVAL;
	/* frac / frac_scale of a unit, truncated to whole nanoseconds */
	frac = frac * scale / frac_scale;
	if (whole > (UINT64_MAX - frac) / scale)
		return -ERANGE;
	*ns = whole * scale + frac;
	return 0;
}
