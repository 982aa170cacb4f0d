// SPDX-License-Identifier: GPL-2.0
/* Duration parsing (--min-wait) and the duration and count formats of the reports. */
#include <errno.h>

#include "testing.h"
#include "util/units.h"

static uint64_t parsed;

static int parse(const char *s)
{
	parsed = 12345;
	return units__parse_duration(s, &parsed);
}

#define CHECK_PARSE(s, expected)                                                                   \
	do {                                                                                       \
		int err_ = parse(s);                                                               \
		CHECK(!err_ && parsed == (uint64_t)(expected), "%s: err %d, %" PRIu64 " ns", s,    \
		      err_, parsed);                                                               \
	} while (0)

#define CHECK_REJECT(s, errcode) CHECK_EQ_INT(parse(s), errcode, s)

int main(void)
{
	char buf[64];

	CHECK_PARSE("10us", 10000);
	CHECK_PARSE("5ms", 5000000);
	CHECK_PARSE("1s", 1000000000);
	CHECK_PARSE("250ns", 250);
	CHECK_PARSE("3\xc2\xb5s", 3000);
	CHECK_PARSE("1.5ms", 1500000);
	CHECK_PARSE("0.25s", 250000000);
	CHECK_PARSE("0.0000000019s", 1);
	CHECK_PARSE("1.9ns", 1);
	CHECK_PARSE("0", 0);
	CHECK_PARSE("0ms", 0);
	CHECK_PARSE("18446744073709551615ns", UINT64_MAX);
	CHECK_PARSE("18446744073s", 18446744073000000000ULL);

	CHECK_REJECT("", -EINVAL);
	CHECK_REJECT("5", -EINVAL);
	CHECK_REJECT("ms", -EINVAL);
	CHECK_REJECT("5 ms", -EINVAL);
	CHECK_REJECT("5ms ", -EINVAL);
	CHECK_REJECT("-5ms", -EINVAL);
	CHECK_REJECT("+5ms", -EINVAL);
	CHECK_REJECT("5m", -EINVAL);
	CHECK_REJECT("5MS", -EINVAL);
	CHECK_REJECT("5.ms", -EINVAL);
	CHECK_REJECT(".5ms", -EINVAL);
	CHECK_REJECT("1e3ns", -EINVAL);
	CHECK_REJECT("0x10ms", -EINVAL);
	CHECK_REJECT("inf", -EINVAL);
	CHECK_REJECT("5msx", -EINVAL);
	CHECK_REJECT("18446744073709551616ns", -ERANGE);
	CHECK_REJECT("18446744074s", -ERANGE);
	CHECK_REJECT("18446744073.8s", -ERANGE);
	CHECK(parsed == 12345, "a rejected duration leaves the output alone");

	CHECK_EQ_STR(units__duration(999, buf, sizeof(buf)), "999 ns", "below 1 us");
	CHECK_EQ_STR(units__duration(1000, buf, sizeof(buf)), "1.00 us", "1 us");
	CHECK_EQ_STR(units__duration(1234000000000ULL, buf, sizeof(buf)), "1,234 s",
		     "separators above 1,000 s");
	CHECK_EQ_STR(units__count(1000, buf, sizeof(buf)), "1,000", "1,000");
	CHECK_EQ_STR(units__count(UINT64_MAX, buf, sizeof(buf)), "18,446,744,073,709,551,615",
		     "largest count");
	CHECK_EQ_STR(units__count(1234567, buf, 6), "1,234", "truncated to the buffer");
	return testing_summary("units");
}
