/* SPDX-License-Identifier: GPL-2.0 */
/* Turns (code object address, instruction) pairs from BPF into function, file and line, reading
 * code objects from the target while it is alive and caching them by address. */
#ifndef LOCKPROF_SRC_SYMBOLIZE_H
#define LOCKPROF_SRC_SYMBOLIZE_H

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
 * until symbolizer__free. */
void symbolizer__frame(struct lp_symbolizer *s, uint64_t code, uint64_t instr,
		       struct lp_frame_sym *out);

/* Frames that could not be read. */
uint64_t symbolizer__failures(const struct lp_symbolizer *s);

/* Byte offset into the code of a raw instruction field, or -1 when it is out of range. */
int64_t symbolize__byte_offset(const struct lp_pyoffsets *o, uint64_t code, uint64_t instr);

#endif
