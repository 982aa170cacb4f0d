// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for the line-table decoder, whose input comes from another process's memory.
 * Input: [0] format byte (low 2 bits also tried as a raw enum value, high 4 bits pick a cut),
 * [1..4] firstlineno (s32 LE), [5..8] byte offset (u32 LE), [9..] the table.
 * Build: clang -g -O1 -fsanitize=fuzzer,address,undefined -Isrc tests/fuzz/fuzz_linetable.c \
 *        src/linetable.c
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "symbolize/linetable.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HEADER_LEN 9

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* A heap copy of exactly `len` bytes, so ASan sees reads on either side of the table. */
static uint8_t *dup_exact(const uint8_t *p, size_t len)
{
	uint8_t *q = malloc(len ? len : 1);

	if (q && len)
		memcpy(q, p, len);
	return q;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum linetable_format formats[] = { LINETABLE_LNOTAB, LINETABLE_310,
							 LINETABLE_LOCATIONS };
	uint8_t fmt;
	int first;
	uint32_t off;
	size_t len, cut;
	uint8_t *table, *prefix;

	if (size < HEADER_LEN)
		return 0;
	fmt = data[0];
	first = (int)le32(data + 1);
	off = le32(data + 5);
	len = size - HEADER_LEN;
	cut = len * (fmt >> 4) / 16;
	table = dup_exact(data + HEADER_LEN, len);
	prefix = dup_exact(data + HEADER_LEN, cut);
	if (!table || !prefix)
		abort();

	/* Out-of-range enum values must be rejected, not trusted. */
	if (linetable__line_for_offset((enum linetable_format)(fmt & 3), table, len, first, off) <
	    -1)
		abort();
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		int line = linetable__line_for_offset(formats[i], table, len, first, off);
		int cut_line = linetable__line_for_offset(formats[i], prefix, cut, first, off);

		if (line < -1 || cut_line < -1)
			abort();
		/* A 3.10+ table cut short (a partial read from the target) may lose the line but
		 * must never give a different one. A cut co_lnotab cannot tell it was cut: it
		 * gives the last line it has, like CPython past the end of the code. */
		if (formats[i] != LINETABLE_LNOTAB && cut_line != -1 && cut_line != line)
			abort();
	}
	free(prefix);
	free(table);
	return 0;
}
