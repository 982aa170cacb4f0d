// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for reading code objects from the target's memory (src/symbolize.c, with
 * src/pyobj.c, src/linetable.c and, for 3.13+, the target-published _Py_DebugOffsets through
 * src/pyoffsets.c) against a fake address space (fake_memory.h): any memory contents, any
 * frame, must give a frame name, file and line or "<unknown>", never a crash.
 * Input: [0] CPython minor selector, [1] flags (bit 0: apply the _Py_DebugOffsets read at
 * [18..25]), [2..9] code address, [10..17] raw instruction field, [18..25] _PyRuntime
 * address, [26..] regions.
 * Seeds: tests/fuzz/corpus/symbolize/, made by tests/fuzz/gen_seeds.py from live interpreters.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_memory.h"
#include "symbolize/symbolize.h"
#include "target/pyobj.h"
#include "target/pyoffsets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HEADER_LEN 26

static void check_frame(const struct lp_frame_sym *f)
{
	/* strings owned by the symbolizer, bounded, and a line that is a line */
	if (!f->function || !f->file || strnlen(f->function, LP_PYSTR_MAX) >= LP_PYSTR_MAX ||
	    strnlen(f->file, LP_PYSTR_MAX) >= LP_PYSTR_MAX || f->line < 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int span = pyoffsets__max_minor() - pyoffsets__min_minor() + 1;
	uint8_t debug[LP_DEBUG_OFFSETS_MAX];
	struct lp_frame_sym a, b, c;
	struct lp_symbolizer *s;
	struct lp_pyoffsets o;
	uint64_t code, instr, runtime;
	bool free_threaded = false;

	if (size < HEADER_LEN)
		return 0;
	o = *pyoffsets__for(3, pyoffsets__min_minor() + data[0] % span);
	code = fake_le(data + 2, 8);
	instr = fake_le(data + 10, 8);
	runtime = fake_le(data + 18, 8);
	fake_memory_load(data + HEADER_LEN, size - HEADER_LEN);

	/* The offsets a 3.13+ target publishes are as untrusted as the rest of its memory. */
	if ((data[1] & 1) && o.has_debug_offsets && !remote_read(0, runtime, debug, sizeof(debug)))
		pyoffsets__apply_debug_offsets(&o, debug, sizeof(debug), &free_threaded);

	s = symbolizer__new(0, &o);
	if (!s)
		abort();
	symbolizer__frame(s, code, instr, &a);
	check_frame(&a);
	/* the cached path gives the same strings */
	symbolizer__frame(s, code, instr + 2, &b);
	check_frame(&b);
	if (strcmp(a.function, b.function) || strcmp(a.file, b.file))
		abort();
	/* another code object, maybe overlapping the first */
	symbolizer__frame(s, code + 8, instr, &c);
	check_frame(&c);
	if (getenv("FUZZ_PRINT"))
		printf("3.%d%s %s (%s:%d), %llu unknown\n", o.minor,
		       (data[1] & 1) ? " debug offsets" : "", a.function, a.file, a.line,
		       (unsigned long long)symbolizer__failures(s));
	symbolizer__free(s);
	fake_memory_reset();
	return 0;
}
