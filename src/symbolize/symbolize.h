/* SPDX-License-Identifier: GPL-2.0 */
/* Turns (code object address, instruction) pairs from BPF into function, file and line, reading
 * code objects from the target while it is alive and caching them by address. */
#ifndef LOCKPROF_SRC_SYMBOLIZE_H
#define LOCKPROF_SRC_SYMBOLIZE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "target/pyoffsets.h"

struct lp_frame_sym {
	const char *function; /* co_qualname (3.11+) or co_name; owned by the symbolizer */
	const char *file;     /* co_filename */
	int line;	      /* 0 when unknown */
};

struct lp_symbolizer;

struct lp_symbolizer *symbolizer__new(pid_t pid, const struct lp_pyoffsets *o);
void symbolizer__free(struct lp_symbolizer *s);

/* Always fills out; unreadable code objects give "<unknown>" and are counted. Strings stay valid
 * until symbolizer__free. Reads the code object's header each time, cached or not: a cached
 * symbolization is only served for the code object it was made from. */
void symbolizer__frame(struct lp_symbolizer *s, uint64_t code, uint64_t instr,
		       struct lp_frame_sym *out);

/* Frames that could not be read. */
uint64_t symbolizer__failures(const struct lp_symbolizer *s);

/* What tells a code object from another made later at its address: fields of its header that
 * are set at creation and never change after. Pointers are compared, not what they point to. */
struct lp_code_ident {
	uint64_t type;
	uint64_t size_word; /* ob_size (3.11+), or co_argcount and co_posonlyargcount */
	uint64_t name;
	uint64_t qualname; /* 0 before 3.11 */
	uint64_t filename;
	uint64_t linetable;
	int32_t firstlineno;
};

/* Takes the identity out of a copy of a code object's header (every offset of co inside it). */
void symbolize__code_ident(const struct lp_code_offsets *co, const uint8_t *hdr,
			   struct lp_code_ident *id);

/* True when both identities are of the same code object, as far as they can tell. */
bool symbolize__same_code(const struct lp_code_ident *a, const struct lp_code_ident *b);

/* Byte offset into the code of a raw instruction field, or -1 when it is out of range. */
int64_t symbolize__byte_offset(const struct lp_pyoffsets *o, uint64_t code, uint64_t instr);

#endif
