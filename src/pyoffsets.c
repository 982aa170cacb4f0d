// SPDX-License-Identifier: GPL-2.0
/* CPython struct offsets per minor version (x86-64, default build). Measured with gdb ptype/o on
 * pyenv builds and Debian's python3.11 (see shared/research/cpython-locks.md sections 5 and 6);
 * CPython keeps these stable across patch releases. Adding a version is adding an entry. */
#include <stddef.h>

#include "pyoffsets.h"

#define CODE_MASK_ALL (~0ULL)

static const struct lp_pyoffsets tables[] = {
	{
		.minor = 8, /* Include/cpython/pystate.h, frameobject.h, code.h */
		.walk = { .code_mask = CODE_MASK_ALL, .runtime_interp_head = 32,
			  .interp_threads_head = 8, .tstate_next = 8, .tstate_thread_id = 176,
			  .tstate_frame = 24, .cframe_frame = -1, .frame_previous = 24,
			  .frame_code = 32, .frame_instr = 104, .frame_instr_size = 4,
			  .frame_owner = -1, .frame_read_size = 112 },
		.code = { .firstlineno = 40, .filename = 104, .name = 112, .qualname = -1,
			  .linetable = 120, .linetable_format = LINETABLE_LNOTAB,
			  .instr_kind = LP_INSTR_BYTES },
		.unicode_ascii_data = 48, .unicode_compact_data = 72,
	},
	{
		.minor = 9,
		.walk = { .code_mask = CODE_MASK_ALL, .runtime_interp_head = 32,
			  .interp_threads_head = 8, .tstate_next = 8, .tstate_thread_id = 176,
			  .tstate_frame = 24, .cframe_frame = -1, .frame_previous = 24,
			  .frame_code = 32, .frame_instr = 104, .frame_instr_size = 4,
			  .frame_owner = -1, .frame_read_size = 112 },
		.code = { .firstlineno = 40, .filename = 104, .name = 112, .qualname = -1,
			  .linetable = 120, .linetable_format = LINETABLE_LNOTAB,
			  .instr_kind = LP_INSTR_BYTES },
		.unicode_ascii_data = 48, .unicode_compact_data = 72,
	},
	{
		.minor = 10, /* f_lasti now counts code units; co_linetable replaces co_lnotab */
		.walk = { .code_mask = CODE_MASK_ALL, .runtime_interp_head = 32,
			  .interp_threads_head = 8, .tstate_next = 8, .tstate_thread_id = 176,
			  .tstate_frame = 24, .cframe_frame = -1, .frame_previous = 24,
			  .frame_code = 32, .frame_instr = 96, .frame_instr_size = 4,
			  .frame_owner = -1, .frame_read_size = 104 },
		.code = { .firstlineno = 40, .filename = 104, .name = 112, .qualname = -1,
			  .linetable = 120, .linetable_format = LINETABLE_310,
			  .instr_kind = LP_INSTR_UNITS },
		.unicode_ascii_data = 48, .unicode_compact_data = 72,
	},
	{
		.minor = 11, /* _PyInterpreterFrame, reached through tstate->cframe->current_frame */
		.walk = { .code_mask = CODE_MASK_ALL, .runtime_interp_head = 40,
			  .interp_threads_head = 16, .tstate_next = 8, .tstate_thread_id = 152,
			  .tstate_frame = 56, .cframe_frame = 8, .frame_previous = 48,
			  .frame_code = 32, .frame_instr = 56, .frame_instr_size = 8,
			  .frame_owner = -1, .frame_read_size = 64 },
		.code = { .firstlineno = 72, .filename = 112, .name = 120, .qualname = 128,
			  .linetable = 136, .code_adaptive = 184,
			  .linetable_format = LINETABLE_LOCATIONS, .instr_kind = LP_INSTR_POINTER },
		.unicode_ascii_data = 48, .unicode_compact_data = 72,
	},
	{
		.minor = 12, /* shim frames owned by the C stack (owner 3) are skipped */
		.walk = { .code_mask = CODE_MASK_ALL, .runtime_interp_head = 40,
			  .interp_threads_head = 72, .tstate_next = 8, .tstate_thread_id = 136,
			  .tstate_frame = 56, .cframe_frame = 0, .frame_previous = 8,
			  .frame_code = 0, .frame_instr = 56, .frame_instr_size = 8,
			  .frame_owner = 70, .frame_owner_skip = 3, .frame_read_size = 72 },
		.code = { .firstlineno = 68, .filename = 112, .name = 120, .qualname = 128,
			  .linetable = 136, .code_adaptive = 192,
			  .linetable_format = LINETABLE_LOCATIONS, .instr_kind = LP_INSTR_POINTER },
		.unicode_ascii_data = 40, .unicode_compact_data = 56,
	},
	{
		.minor = 13, /* tstate->current_frame directly; _PyRuntime starts with debug offsets */
		.walk = { .code_mask = CODE_MASK_ALL, .runtime_interp_head = 632,
			  .interp_threads_head = 7344, .tstate_next = 8, .tstate_thread_id = 152,
			  .tstate_frame = 72, .cframe_frame = -1, .frame_previous = 8,
			  .frame_code = 0, .frame_instr = 56, .frame_instr_size = 8,
			  .frame_owner = 70, .frame_owner_skip = 3, .frame_read_size = 72 },
		.code = { .firstlineno = 68, .filename = 112, .name = 120, .qualname = 128,
			  .linetable = 136, .code_adaptive = 200,
			  .linetable_format = LINETABLE_LOCATIONS, .instr_kind = LP_INSTR_POINTER },
		.unicode_ascii_data = 40, .unicode_compact_data = 56,
	},
};

const struct lp_pyoffsets *pyoffsets__for(int major, int minor)
{
	if (major != 3)
		return NULL;
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
		if (tables[i].minor == minor)
			return &tables[i];
	return NULL;
}

int pyoffsets__min_minor(void)
{
	return tables[0].minor;
}

int pyoffsets__max_minor(void)
{
	return tables[sizeof(tables) / sizeof(tables[0]) - 1].minor;
}
