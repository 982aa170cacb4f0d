/* SPDX-License-Identifier: GPL-2.0 */
/* Minimal assertion helpers for lockprof's unit tests: each test binary counts checks and ends
 * with the plain "N passed, N failed" line, exiting non-zero on any failure. */
#ifndef LOCKPROF_TESTS_TESTING_H
#define LOCKPROF_TESTS_TESTING_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int testing_passed, testing_failed;

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (cond) {                                                                        \
			testing_passed++;                                                          \
		} else {                                                                           \
			testing_failed++;                                                          \
			fprintf(stderr, "%s:%d: FAILED: %s: ", __FILE__, __LINE__, #cond);         \
			fprintf(stderr, __VA_ARGS__);                                              \
			fputc('\n', stderr);                                                       \
		}                                                                                  \
	} while (0)

#define CHECK_EQ_INT(actual, expected, what)                                                       \
	do {                                                                                       \
		long long a_ = (long long)(actual), e_ = (long long)(expected);                    \
		CHECK(a_ == e_, "%s: got %lld, expected %lld", what, a_, e_);                      \
	} while (0)

#define CHECK_EQ_STR(actual, expected, what)                                                       \
	do {                                                                                       \
		const char *a_ = (actual), *e_ = (expected);                                       \
		CHECK(a_ != NULL && e_ != NULL && strcmp(a_, e_) == 0,                             \
		      "%s: got \"%s\", expected \"%s\"", what, a_ ? a_ : "(null)",                 \
		      e_ ? e_ : "(null)");                                                         \
	} while (0)

/* Prints the closing line and returns main's exit status. */
static inline int testing_summary(const char *suite)
{
	printf("%s: %d passed, %d failed\n", suite, testing_passed, testing_failed);
	return testing_failed ? 1 : 0;
}

#endif
