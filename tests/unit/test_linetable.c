// SPDX-License-Identifier: GPL-2.0
/* Checks the line-table decoder against what real interpreters report for every instruction of
 * the fixture code objects (tests/unit/gen_linetable_fixture.py), plus hand-made edge cases. */
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "symbolize/linetable.h"
#include "testing.h"

/* One code object of a fixture while its offset lines are being read. */
struct fixture_code {
	char path[512];
	enum linetable_format format;
	int firstlineno;
	unsigned long code_len;
	uint8_t *table;
	size_t len;
	unsigned long offsets, mismatches;
	char first_mismatch[128];
};

static int parse_format(const char *s, enum linetable_format *f)
{
	if (!strcmp(s, "lnotab"))
		*f = LINETABLE_LNOTAB;
	else if (!strcmp(s, "310"))
		*f = LINETABLE_310;
	else if (!strcmp(s, "locations"))
		*f = LINETABLE_LOCATIONS;
	else
		return -1;
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decodes into a buffer of exactly the table's size so that any overread is a heap overflow
 * that ASan (or valgrind) reports. */
static int parse_hex(const char *hex, uint8_t **out, size_t *len)
{
	size_t n = strlen(hex);

	*out = NULL;
	*len = 0;
	if (!strcmp(hex, "-"))
		return 0;
	if (n % 2)
		return -1;
	*out = malloc(n / 2);
	if (!*out)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		(*out)[i] = (uint8_t)(hi << 4 | lo);
	}
	*len = n / 2;
	return 0;
}

static int decode(const struct fixture_code *c, const uint8_t *table, size_t len, uint32_t off)
{
	return linetable__line_for_offset(c->format, table, len, c->firstlineno, off);
}

/* A decode of a cut-down table may fail (-1) but must otherwise agree with the full table. */
static void check_cut(const struct fixture_code *c, const uint8_t *prefix, size_t cut,
		      unsigned long unit, unsigned long *bad, char *detail, size_t detail_len)
{
	uint32_t off = (uint32_t)(2 * unit);
	int got = decode(c, prefix, cut, off);
	int full = decode(c, c->table, c->len, off);

	if (got != -1 && got != full && !(*bad)++)
		snprintf(detail, detail_len, "cut %zu offset %u: %d, full table %d", cut, off, got,
			 full);
}

/*
 * Properties beyond the per-offset lines: the 3.10+ tables end exactly at the code's end, and a
 * table cut short (as when a read from the target is truncated) may lose lines but never invents
 * a wrong one and never reads past the cut. co_lnotab has no end, so neither holds there. To
 * keep this quadratic check quick, big tables are cut at ~512 places (and at each of their last
 * 16 bytes) and each cut is decoded at ~33 offsets spread over the code.
 */
static void check_truncations(const struct fixture_code *c, const char *file)
{
	unsigned long bad = 0, units = c->code_len / 2, step = units / 32 + 1;
	size_t stride = c->len / 512 + 1;
	char detail[160] = "";

	if (c->format == LINETABLE_LNOTAB)
		return;
	CHECK_EQ_INT(decode(c, c->table, c->len, (uint32_t)c->code_len), -1, c->path);
	for (size_t cut = 0; cut < c->len; cut += cut + 16 < c->len ? stride : 1) {
		uint8_t *prefix = malloc(cut ? cut : 1);

		if (!prefix) {
			CHECK(0, "out of memory");
			return;
		}
		memcpy(prefix, c->table, cut);
		for (unsigned long u = 0; u < units; u += step)
			check_cut(c, prefix, cut, u, &bad, detail, sizeof(detail));
		if (units)
			check_cut(c, prefix, cut, units - 1, &bad, detail, sizeof(detail));
		free(prefix);
	}
	CHECK(bad == 0, "%s: %s: %lu truncated decodes gave a wrong line, first %s", file, c->path,
	      bad, detail);
}

static void finish_code(struct fixture_code *c, const char *file)
{
	if (!c->path[0])
		return;
	CHECK(c->offsets == c->code_len / 2, "%s: %s: %lu offsets listed for %lu bytes of code",
	      file, c->path, c->offsets, c->code_len);
	CHECK(c->mismatches == 0, "%s: %s: %lu of %lu offsets wrong, first %s", file, c->path,
	      c->mismatches, c->offsets, c->first_mismatch);
	check_truncations(c, file);
	free(c->table);
	memset(c, 0, sizeof(*c));
}

/* Returns the number of code objects checked, or -1 if the file could not be read at all;
 * adds the number of offsets checked to *offsets. */
static int check_fixture(const char *file, unsigned long *offsets)
{
	struct fixture_code c = { 0 };
	char *line = NULL;
	size_t cap = 0;
	int codes = 0, lineno = 0;
	FILE *f = fopen(file, "r");

	if (!f)
		return -1;
	while (getline(&line, &cap, f) > 0) {
		char path[512], fmt[16];
		unsigned long off;
		int expect, got, hexpos = 0;

		lineno++;
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0' || !strncmp(line, "python ", 7))
			continue;
		if (!strncmp(line, "code ", 5)) {
			finish_code(&c, file);
			if (sscanf(line, "code %511s %15s %d %lu %n", path, fmt, &c.firstlineno,
				   &c.code_len, &hexpos) != 4 ||
			    !hexpos || parse_format(fmt, &c.format) ||
			    parse_hex(line + hexpos, &c.table, &c.len)) {
				CHECK(0, "%s:%d: bad code line", file, lineno);
				free(c.table);
				memset(&c, 0, sizeof(c));
				continue;
			}
			snprintf(c.path, sizeof(c.path), "%s", path);
			codes++;
			continue;
		}
		if (sscanf(line, "%lu %d", &off, &expect) != 2 || !c.path[0]) {
			CHECK(0, "%s:%d: bad line \"%s\"", file, lineno, line);
			continue;
		}
		got = decode(&c, c.table, c.len, (uint32_t)off);
		c.offsets++;
		(*offsets)++;
		if (got != expect && !c.mismatches++)
			snprintf(c.first_mismatch, sizeof(c.first_mismatch),
				 "offset %lu: got %d, expected %d", off, got, expect);
	}
	finish_code(&c, file);
	free(line);
	fclose(f);
	return codes;
}

static int is_fixture(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return n > 4 && !strcmp(d->d_name + n - 4, ".txt");
}

static void test_fixtures(void)
{
	const char *base = getenv("LOCKPROF_FIXTURES");
	struct dirent **names;
	char dir[512], file[1024];
	unsigned long offsets = 0, total_offsets = 0;
	int n, files = 0, codes = 0;

	snprintf(dir, sizeof(dir), "%s/linetable", base && *base ? base : "tests/unit/fixtures");
	n = scandir(dir, &names, is_fixture, alphasort);
	CHECK(n > 0, "no line-table fixtures (*.txt) in %s", dir);
	for (int i = 0; i < n; i++) {
		int k;

		snprintf(file, sizeof(file), "%s/%s", dir, names[i]->d_name);
		offsets = 0;
		k = check_fixture(file, &offsets);
		CHECK(k > 0, "%s: unreadable or holds no code objects", file);
		if (k > 0) {
			printf("  %s: %d code objects, %lu offsets\n", names[i]->d_name, k,
			       offsets);
			total_offsets += offsets;
			files++;
			codes += k;
		}
		free(names[i]);
	}
	if (n >= 0)
		free(names);
	printf("  %d fixture files, %d code objects, %lu offsets\n", files, codes, total_offsets);
}

/* Copies a hand-made table to the heap at its exact size so any overread is caught. */
static int line_at(enum linetable_format format, const uint8_t *bytes, size_t len, int first,
		   uint32_t off)
{
	uint8_t *t = malloc(len ? len : 1);
	int line;

	if (!t)
		return -2;
	if (len)
		memcpy(t, bytes, len);
	line = linetable__line_for_offset(format, len ? t : NULL, len, first, off);
	free(t);
	return line;
}

#define LINE_AT(format, first, off, ...)                                                           \
	line_at(format, (const uint8_t[]){ __VA_ARGS__ },                                          \
		sizeof((const uint8_t[]){ __VA_ARGS__ }), first, off)

static void test_handmade(void)
{
	/* Empty: no ranges at all for 3.10+; for co_lnotab it means "all on co_firstlineno", which
	 * is what 3.8 emits for one-line bodies such as `lambda: 0`. */
	CHECK_EQ_INT(line_at(LINETABLE_310, NULL, 0, 10, 0), -1, "empty 3.10 table");
	CHECK_EQ_INT(line_at(LINETABLE_LOCATIONS, NULL, 0, 10, 0), -1, "empty location table");
	CHECK_EQ_INT(line_at(LINETABLE_LNOTAB, NULL, 0, 10, 0), 10, "empty lnotab");
	CHECK_EQ_INT(line_at(LINETABLE_LNOTAB, NULL, 0, 10, 1000), 10, "empty lnotab, far offset");

	/* Truncated varints must fail without reading on. */
	CHECK_EQ_INT(LINE_AT(LINETABLE_LOCATIONS, 5, 0, 0xe8, 0x41), -1, "cut no-column varint");
	CHECK_EQ_INT(LINE_AT(LINETABLE_LOCATIONS, 5, 0, 0xe8), -1, "no-column entry without delta");
	CHECK_EQ_INT(LINE_AT(LINETABLE_LOCATIONS, 5, 0, 0xf0, 0x02, 0x00, 0x41), -1,
		     "cut long-form column varint");
	CHECK_EQ_INT(LINE_AT(LINETABLE_LOCATIONS, 5, 0, 0xe8, 0x42, 0x80), -1,
		     "varint running into the next entry");
	CHECK_EQ_INT(LINE_AT(LINETABLE_LOCATIONS, 5, 0, 0xe8, 0x40, 0x40, 0x40, 0x40, 0x40, 0x40,
			     0x01),
		     -1, "varint longer than 32 bits");
	CHECK_EQ_INT(LINE_AT(LINETABLE_LOCATIONS, 5, 0, 0xd0, 0x01), -1, "cut one-line entry");
	CHECK_EQ_INT(LINE_AT(LINETABLE_LOCATIONS, 5, 0, 0x80), -1, "short form without column");
	CHECK_EQ_INT(LINE_AT(LINETABLE_LOCATIONS, 5, 0, 0x05, 0x80, 0x00), -1,
		     "table not starting an entry");
	CHECK_EQ_INT(LINE_AT(LINETABLE_310, 5, 0, 0x02), -1, "3.10 half pair");
	CHECK_EQ_INT(LINE_AT(LINETABLE_LNOTAB, 5, 0, 0x02, 0x01, 0x02), -1, "odd-length lnotab");

	/* Offset past the end of the ranges the table describes. */
	CHECK_EQ_INT(LINE_AT(LINETABLE_LOCATIONS, 5, 2, 0x80, 0x00), -1, "past the location table");
	CHECK_EQ_INT(LINE_AT(LINETABLE_LOCATIONS, 5, 0xffffffffu, 0x80, 0x00), -1, "far past");
	CHECK_EQ_INT(LINE_AT(LINETABLE_310, 5, 4, 0x04, 0x00), -1, "past the 3.10 table");
	CHECK_EQ_INT(LINE_AT(LINETABLE_310, 5, 4, 0x04, 0x00, 0x00, 0x05), -1,
		     "3.10 table ending on a zero-length range");
	/* co_lnotab has no end: CPython gives the last line to anything after it. */
	CHECK_EQ_INT(LINE_AT(LINETABLE_LNOTAB, 5, 400, 0x04, 0x02), 7, "past the lnotab");

	/* The formats' special values. */
	CHECK_EQ_INT(LINE_AT(LINETABLE_LNOTAB, 300, 2, 0x02, 0x80), 172, "lnotab -128 is a delta");
	CHECK_EQ_INT(LINE_AT(LINETABLE_LNOTAB, 5, 0, 0x00, 0x03, 0x04, 0x01), 8,
		     "lnotab zero-address pair applies at 0");
	CHECK_EQ_INT(LINE_AT(LINETABLE_LNOTAB, 5, 3, 0x00, 0x03, 0x04, 0x01), 8,
		     "lnotab mid-range");
	CHECK_EQ_INT(LINE_AT(LINETABLE_LNOTAB, 5, 4, 0x00, 0x03, 0x04, 0x01), 9, "lnotab boundary");
	CHECK_EQ_INT(LINE_AT(LINETABLE_310, 5, 0, 0x02, 0x80, 0x02, 0x01), -1, "3.10 no line");
	CHECK_EQ_INT(LINE_AT(LINETABLE_310, 5, 2, 0x02, 0x80, 0x02, 0x01), 6,
		     "3.10 no line keeps the running line");
	CHECK_EQ_INT(LINE_AT(LINETABLE_310, 5, 0, 0x00, 0x7f, 0x00, 0x7f, 0x02, 0x02), 261,
		     "3.10 zero-length ranges carry big deltas");
	CHECK_EQ_INT(LINE_AT(LINETABLE_LOCATIONS, 5, 0, 0xf8, 0xd8, 0x01, 0x02), -1,
		     "location entry without location");
	CHECK_EQ_INT(LINE_AT(LINETABLE_LOCATIONS, 5, 2, 0xf8, 0xd8, 0x01, 0x02), 6,
		     "no-location entry keeps the running line");
	CHECK_EQ_INT(LINE_AT(LINETABLE_LOCATIONS, 5, 16, 0x87, 0x00, 0xe8, 0x03), 4,
		     "8-unit entry then negative svarint");
	CHECK_EQ_INT(LINE_AT(LINETABLE_LOCATIONS, 5, 0, 0xf0, 0x40, 0x01, 0x00, 0x01, 0x01), 37,
		     "two-byte svarint in the long form");
	CHECK_EQ_INT(LINE_AT(LINETABLE_LOCATIONS, 5, 0, 0xe8, 0x03), 4, "negative line delta");
	CHECK_EQ_INT(LINE_AT(LINETABLE_LOCATIONS, 0, 0, 0xe8, 0x03), -1, "line below zero");
	CHECK_EQ_INT(LINE_AT(LINETABLE_LOCATIONS, 0x7fffffff, 0, 0xe8, 0x02), -1, "line overflow");
	CHECK_EQ_INT(LINE_AT((enum linetable_format)0, 5, 0, 0x80, 0x00), -1, "unknown format");
}

int main(void)
{
	test_handmade();
	test_fixtures();
	return testing_summary("linetable");
}
