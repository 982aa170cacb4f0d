/* SPDX-License-Identifier: GPL-2.0 */
/* Decodes CPython's per-code-object line tables (co_lnotab, the 3.10 co_linetable and the 3.11+
 * PEP 657 location table) into a source line for one bytecode offset, without the interpreter. */
#ifndef LOCKPROF_SRC_LINETABLE_H
#define LOCKPROF_SRC_LINETABLE_H

#include <stddef.h>
#include <stdint.h>

enum linetable_format {
	LINETABLE_LNOTAB = 1,	/* 3.8, 3.9: co_lnotab (addr_incr u8, line_incr s8) pairs */
	LINETABLE_310 = 2,	/* 3.10: co_linetable (sdelta u8, ldelta s8, -128 = no line) */
	LINETABLE_LOCATIONS = 3 /* 3.11+: PEP 657 location table */
};

/* Returns the source line of the instruction at byte offset `byte_offset` into co_code (bytes,
 * not code units; callers convert), or -1 when the table gives no line for it or is
 * malformed/truncated. Never reads outside table[0..len). */
int linetable__line_for_offset(enum linetable_format format, const uint8_t *table, size_t len,
			       int firstlineno, uint32_t byte_offset);

#endif
