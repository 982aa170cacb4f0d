// SPDX-License-Identifier: GPL-2.0
/* CPython line-table decoding, reimplemented from the format descriptions so lockprof can map a
 * sampled instruction offset to a line without running the target's interpreter. Tables come from
 * another process's memory, so every byte read is bounds-checked and malformed tables give -1. */
#include <limits.h>
#include <stdint.h>

#include "symbolize/linetable.h"

/* Lines are accumulated in 64 bits so a hostile table cannot overflow them; a line outside
 * [0, INT_MAX] cannot be told apart from "no line" and is reported as none. */
static int line_or_none(int64_t line)
{
	return line < 0 || line > INT_MAX ? -1 : (int)line;
}

/*
 * 3.8/3.9 co_lnotab, as PyCode_Addr2Line walks it: add each pair's address increment and stop
 * before applying its line increment once the address passes the target. The table has no end
 * marker, so an offset past the code simply gets the last line, and an empty table means every
 * instruction is on co_firstlineno.
 */
static int lnotab_line(const uint8_t *t, size_t len, int firstlineno, uint32_t off)
{
	int64_t line = firstlineno;
	uint64_t addr = 0;

	/* CPython would ignore a dangling byte; here it means the copy was cut short. */
	if (len & 1)
		return -1;
	for (size_t i = 0; i < len; i += 2) {
		addr += t[i];
		if (addr > off)
			break;
		line += (int8_t)t[i + 1];
	}
	return line_or_none(line);
}

/*
 * 3.10 co_linetable: each pair is one address range (length u8, line delta s8); a delta of -128
 * marks the range as having no line and leaves the running line alone. Zero-length ranges only
 * carry line deltas (for jumps > 127 lines; CPython skips them when iterating) and can never
 * contain the offset, so walking the ranges in order needs no special case for them.
 */
static int linetable310_line(const uint8_t *t, size_t len, int firstlineno, uint32_t off)
{
	int64_t computed = firstlineno;
	uint64_t end = 0;

	for (size_t i = 0; i < len; i += 2) {
		int line = -1;

		if (len - i < 2)
			return -1;
		end += t[i];
		if ((int8_t)t[i + 1] != -128) {
			computed += (int8_t)t[i + 1];
			line = line_or_none(computed);
		}
		if (off < end)
			return line;
	}
	/* Past the last range (CPython's iterator just stops there). */
	return -1;
}

/* Location table item kinds (the 4 bits after the entry-start bit). */
enum {
	LOC_ONE_LINE0 = 10, /* 10..12: line delta 0..2, then column and end column bytes */
	LOC_NO_COLUMNS = 13,
	LOC_LONG = 14,
	LOC_NONE = 15,
};

/* Unsigned varint: 6 data bits per byte, least significant first, bit 6 = more follow. CPython
 * writes at most 32-bit values (6 bytes); longer or larger ones mean we are not in a real table. */
static int read_varint(const uint8_t *t, size_t end, size_t *pos, uint32_t *out)
{
	uint64_t val = 0;
	unsigned int shift = 0;
	uint8_t b;

	do {
		if (*pos >= end || shift > 30)
			return -1;
		b = t[(*pos)++];
		val |= (uint64_t)(b & 63) << shift;
		shift += 6;
	} while (b & 64);
	if (val > UINT32_MAX)
		return -1;
	*out = (uint32_t)val;
	return 0;
}

/* Signed varint: magnitude in the upper bits, sign in bit 0. */
static int read_svarint(const uint8_t *t, size_t end, size_t *pos, int64_t *out)
{
	uint32_t v;

	if (read_varint(t, end, pos, &v))
		return -1;
	*out = v & 1 ? -(int64_t)(v >> 1) : (int64_t)(v >> 1);
	return 0;
}

/*
 * Reads the line delta of the entry whose first byte is t[i] and whose payload is t[i+1..end),
 * checking the payload holds everything the kind promises so that a table cut mid-entry is
 * caught rather than half-decoded.
 */
static int location_entry_delta(const uint8_t *t, size_t i, size_t end, int64_t *delta)
{
	unsigned int code = (t[i] >> 3) & 15;
	size_t pos = i + 1;
	uint32_t ignored;

	*delta = 0;
	switch (code) {
	case LOC_NONE:
		return 0;
	case LOC_LONG:
		/* line delta, end line delta, column + 1, end column + 1 */
		if (read_svarint(t, end, &pos, delta) || read_varint(t, end, &pos, &ignored) ||
		    read_varint(t, end, &pos, &ignored) || read_varint(t, end, &pos, &ignored))
			return -1;
		return 0;
	case LOC_NO_COLUMNS:
		return read_svarint(t, end, &pos, delta);
	case LOC_ONE_LINE0:
	case LOC_ONE_LINE0 + 1:
	case LOC_ONE_LINE0 + 2:
		*delta = code - LOC_ONE_LINE0;
		return end - pos >= 2 ? 0 : -1;
	default:
		/* Short forms 0..9: same line, one byte of column data. */
		return end - pos >= 1 ? 0 : -1;
	}
}

/*
 * 3.11+ location table (PEP 657, Objects/locations.md): entries start with a byte that has bit 7
 * set and covers ((b & 7) + 1) code units; no payload byte has bit 7 set. Like CPython's
 * advance(), the next entry is found by scanning for that bit rather than by trusting the payload
 * length, and a "no location" entry keeps the running line unchanged for the entries after it.
 */
static int locations_line(const uint8_t *t, size_t len, int firstlineno, uint32_t off)
{
	int64_t computed = firstlineno;
	uint64_t end = 0;
	size_t i = 0;

	while (i < len) {
		size_t next = i + 1;
		int64_t delta;

		if (!(t[i] & 0x80))
			return -1;
		while (next < len && !(t[next] & 0x80))
			next++;
		if (location_entry_delta(t, i, next, &delta))
			return -1;
		computed += delta;
		if (computed < INT_MIN || computed > INT_MAX)
			return -1;
		end += ((t[i] & 7) + 1) * 2;
		if (off < end)
			return ((t[i] >> 3) & 15) == LOC_NONE ? -1 : line_or_none(computed);
		i = next;
	}
	return -1;
}

int linetable__line_for_offset(enum linetable_format format, const uint8_t *table, size_t len,
			       int firstlineno, uint32_t byte_offset)
{
	if (!table && len)
		return -1;
	switch (format) {
	case LINETABLE_LNOTAB:
		return lnotab_line(table, len, firstlineno, byte_offset);
	case LINETABLE_310:
		return linetable310_line(table, len, firstlineno, byte_offset);
	case LINETABLE_LOCATIONS:
		return locations_line(table, len, firstlineno, byte_offset);
	}
	return -1;
}
