// SPDX-License-Identifier: GPL-2.0
/* CPython struct offsets per minor version (x86-64, default build). Measured with gdb ptype/o on
 * pyenv builds and Debian's python3.11 (see shared/research/cpython-locks.md sections 5 and 6);
 * CPython keeps these stable across patch releases. Adding a version is adding an entry. */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "target/pyoffsets.h"

#define CODE_MASK_ALL (~0ULL)

/* Object and string header fields of every default (GIL) build. */
#define DEFAULT_BUILD                                                                              \
	.unicode_length = 16, .unicode_state = 32, .unicode_kind_shift = 2, .object_head = 16,     \
	.type_name = 24, .object_mutex = -1, .gil_enabled = -1, .gil_switch_number = 24
#define DEFAULT_CODE .object_type = 8, .size_word = 16, .tlbc = -1
/* A free-threaded (--disable-gil) build's: a 32-byte PyObject header (ob_tid, ob_flags,
 * ob_mutex, ob_gc_bits, ob_ref_local, ob_ref_shared, ob_type). */
#define FREE_THREADED_BUILD                                                                        \
	.free_threaded = true, .unicode_length = 32, .unicode_state = 48, .object_head = 32,       \
	.type_name = 40, .object_mutex = 10, .gil_enabled = 0, .gil_switch_number = 32
#define FREE_THREADED_CODE .object_type = 24, .size_word = 32

// clang-format off
static const struct lp_pyoffsets tables[] = {
	{
		.minor = 8, /* Include/cpython/pystate.h, frameobject.h, code.h */
		.walk = { .code_mask = CODE_MASK_ALL, .runtime_interp_head = 32,
			  .interp_threads_head = 8, .tstate_next = 8, .tstate_thread_id = 176,
			  .tstate_frame = 24, .cframe_frame = -1, .frame_previous = 24,
			  .frame_code = 32, .frame_instr = 104, .frame_instr_size = 4,
			  .frame_owner = -1, .frame_func = -1,
			  .frame_globals = 48, .frame_read_size = 112 },
		.code = { .firstlineno = 40, .filename = 104, .name = 112, .qualname = -1,
			  .linetable = 120, .linetable_format = LINETABLE_LNOTAB,
			  .instr_kind = LP_INSTR_BYTES, DEFAULT_CODE },
		.gil_in_interp = false, .gil_state = 1152,
		.unicode_ascii_data = 48, .unicode_compact_data = 72, DEFAULT_BUILD,
	},
	{
		.minor = 9,
		.walk = { .code_mask = CODE_MASK_ALL, .runtime_interp_head = 32,
			  .interp_threads_head = 8, .tstate_next = 8, .tstate_thread_id = 176,
			  .tstate_frame = 24, .cframe_frame = -1, .frame_previous = 24,
			  .frame_code = 32, .frame_instr = 104, .frame_instr_size = 4,
			  .frame_owner = -1, .frame_func = -1,
			  .frame_globals = 48, .frame_read_size = 112 },
		.code = { .firstlineno = 40, .filename = 104, .name = 112, .qualname = -1,
			  .linetable = 120, .linetable_format = LINETABLE_LNOTAB,
			  .instr_kind = LP_INSTR_BYTES, DEFAULT_CODE },
		.gil_in_interp = false, .gil_state = 352,
		.unicode_ascii_data = 48, .unicode_compact_data = 72, DEFAULT_BUILD,
	},
	{
		.minor = 10, /* f_lasti now counts code units; co_linetable replaces co_lnotab */
		.walk = { .code_mask = CODE_MASK_ALL, .runtime_interp_head = 32,
			  .interp_threads_head = 8, .tstate_next = 8, .tstate_thread_id = 176,
			  .tstate_frame = 24, .cframe_frame = -1, .frame_previous = 24,
			  .frame_code = 32, .frame_instr = 96, .frame_instr_size = 4,
			  .frame_owner = -1, .frame_func = -1,
			  .frame_globals = 48, .frame_read_size = 104 },
		.code = { .firstlineno = 40, .filename = 104, .name = 112, .qualname = -1,
			  .linetable = 120, .linetable_format = LINETABLE_310,
			  .instr_kind = LP_INSTR_UNITS, DEFAULT_CODE },
		.gil_in_interp = false, .gil_state = 352,
		.unicode_ascii_data = 48, .unicode_compact_data = 72, DEFAULT_BUILD,
	},
	{
		.minor = 11, /* _PyInterpreterFrame, reached through tstate->cframe->current_frame */
		.walk = { .code_mask = CODE_MASK_ALL, .runtime_interp_head = 40,
			  .interp_threads_head = 16, .tstate_next = 8, .tstate_thread_id = 152,
			  .tstate_frame = 56, .cframe_frame = 8, .frame_previous = 48,
			  .frame_code = 32, .frame_instr = 56, .frame_instr_size = 8,
			  .frame_owner = -1, .frame_func = 0,
			  .frame_globals = 8, .frame_read_size = 64 },
		.code = { .firstlineno = 72, .filename = 112, .name = 120, .qualname = 128,
			  .linetable = 136, .code_adaptive = 184,
			  .linetable_format = LINETABLE_LOCATIONS, .instr_kind = LP_INSTR_POINTER,
			  DEFAULT_CODE },
		.gil_in_interp = false, .gil_state = 360,
		.unicode_ascii_data = 48, .unicode_compact_data = 72, DEFAULT_BUILD,
	},
	{
		.minor = 12, /* shim frames owned by the C stack (owner 3) are skipped */
		.walk = { .code_mask = CODE_MASK_ALL, .runtime_interp_head = 40,
			  .interp_threads_head = 72, .tstate_next = 8, .tstate_thread_id = 136,
			  .tstate_frame = 56, .cframe_frame = 0, .frame_previous = 8,
			  .frame_code = 0, .frame_instr = 56, .frame_instr_size = 8,
			  .frame_owner = 70, .frame_owner_skip = 3, .frame_func = 16,
			  .frame_globals = 24, .frame_read_size = 72 },
		.code = { .firstlineno = 68, .filename = 112, .name = 120, .qualname = 128,
			  .linetable = 136, .code_adaptive = 192,
			  .linetable_format = LINETABLE_LOCATIONS, .instr_kind = LP_INSTR_POINTER,
			  DEFAULT_CODE },
		.gil_in_interp = true, .gil_state = 1040,
		.unicode_ascii_data = 40, .unicode_compact_data = 56, DEFAULT_BUILD,
	},
	{
		.minor = 13, /* tstate->current_frame directly; _PyRuntime starts with debug offsets */
		.walk = { .code_mask = CODE_MASK_ALL, .runtime_interp_head = 632,
			  .interp_threads_head = 7344, .tstate_next = 8, .tstate_thread_id = 152,
			  .tstate_frame = 72, .cframe_frame = -1, .frame_previous = 8,
			  .frame_code = 0, .frame_instr = 56, .frame_instr_size = 8,
			  .frame_owner = 70, .frame_owner_skip = 3, .frame_func = 16,
			  .frame_globals = 24, .frame_read_size = 72 },
		.code = { .firstlineno = 68, .filename = 112, .name = 120, .qualname = 128,
			  .linetable = 136, .code_adaptive = 200,
			  .linetable_format = LINETABLE_LOCATIONS, .instr_kind = LP_INSTR_POINTER,
			  DEFAULT_CODE },
		.gil_in_interp = true, .gil_state = 7752, .interp_modules = 7656,
		.unicode_ascii_data = 40, .unicode_compact_data = 56, DEFAULT_BUILD,
		.has_debug_offsets = true,
	},
	{
		.minor = 14, /* f_executable, f_funcobj: tagged _PyStackRefs; owners >= 3: no Python frame */
		.walk = { .code_mask = ~3ULL, .runtime_interp_head = 808,
			  .interp_threads_head = 7344, .tstate_next = 8, .tstate_thread_id = 152,
			  .tstate_frame = 72, .cframe_frame = -1, .frame_previous = 8,
			  .frame_code = 0, .frame_instr = 56, .frame_instr_size = 8,
			  .frame_owner = 74, .frame_owner_skip = 3, .frame_func = 16,
			  .frame_globals = 24, .frame_read_size = 80 },
		.code = { .firstlineno = 68, .filename = 112, .name = 120, .qualname = 128,
			  .linetable = 136, .code_adaptive = 208,
			  .linetable_format = LINETABLE_LOCATIONS, .instr_kind = LP_INSTR_POINTER,
			  DEFAULT_CODE },
		.gil_in_interp = true, .gil_state = 7784, .interp_modules = 7688,
		.unicode_ascii_data = 40, .unicode_compact_data = 56, DEFAULT_BUILD,
		.has_debug_offsets = true,
	},
	{
		.minor = 13, /* free-threaded: the code object and strings grow with the header */
		.walk = { .code_mask = CODE_MASK_ALL, .runtime_interp_head = 632,
			  .interp_threads_head = 7344, .tstate_next = 8, .tstate_thread_id = 152,
			  .tstate_frame = 72, .cframe_frame = -1, .frame_previous = 8,
			  .frame_code = 0, .frame_instr = 56, .frame_instr_size = 8,
			  .frame_owner = 70, .frame_owner_skip = 3, .frame_func = 16,
			  .frame_globals = 24, .frame_read_size = 72 },
		.code = { .firstlineno = 84, .filename = 128, .name = 136, .qualname = 144,
			  .linetable = 152, .code_adaptive = 216,
			  .linetable_format = LINETABLE_LOCATIONS, .instr_kind = LP_INSTR_POINTER,
			  FREE_THREADED_CODE, .tlbc = -1 },
		.gil_in_interp = true, .gil_state = 7760, .interp_modules = 7664,
		.unicode_ascii_data = 56, .unicode_compact_data = 72, FREE_THREADED_BUILD,
		.unicode_kind_shift = 2, .has_debug_offsets = true,
	},
	{
		.minor = 14, /* free-threaded: thread-local bytecode (co_tlbc); interned is a byte */
		.walk = { .code_mask = ~3ULL, .runtime_interp_head = 808,
			  .interp_threads_head = 7344, .tstate_next = 8, .tstate_thread_id = 152,
			  .tstate_frame = 72, .cframe_frame = -1, .frame_previous = 8,
			  .frame_code = 0, .frame_instr = 56, .frame_instr_size = 8,
			  .frame_owner = 78, .frame_owner_skip = 3, .frame_func = 16,
			  .frame_globals = 24, .frame_read_size = 80 },
		.code = { .firstlineno = 84, .filename = 128, .name = 136, .qualname = 144,
			  .linetable = 152, .code_adaptive = 232,
			  .linetable_format = LINETABLE_LOCATIONS, .instr_kind = LP_INSTR_POINTER,
			  FREE_THREADED_CODE, .tlbc = 224 },
		.gil_in_interp = true, .gil_state = 7808, .interp_modules = 7712,
		.unicode_ascii_data = 56, .unicode_compact_data = 72, FREE_THREADED_BUILD,
		.unicode_kind_shift = 8, .has_debug_offsets = true,
	},
};
// clang-format on

/* Where the fields lockprof needs sit in _Py_DebugOffsets, as indexes of its uint64_t array
 * (Include/internal/pycore_debug_offsets.h; 3.14 inserted fields, so each minor has its map). */
struct debug_offsets_map {
	int minor;
	int interpreters_head, threads_head, tstate_next, tstate_thread_id, tstate_current_frame;
	int frame_previous, frame_executable, frame_instr_ptr, frame_owner;
	int code_filename, code_name, code_qualname, code_linetable, code_firstlineno,
		code_adaptive;
	int unicode_asciiobject_size;
	int gil_runtime_state;
	int imports_modules;
	int count; /* number of uint64_t in the struct */
};

// clang-format off
static const struct debug_offsets_map debug_maps[] = {
	{ .minor = 13, .interpreters_head = 5, .threads_head = 9, .tstate_next = 21,
	  .tstate_thread_id = 24, .tstate_current_frame = 23, .frame_previous = 29,
	  .frame_executable = 30, .frame_instr_ptr = 31, .frame_owner = 33, .code_filename = 35,
	  .code_name = 36, .code_qualname = 37, .code_linetable = 38, .code_firstlineno = 39,
	  .code_adaptive = 43, .unicode_asciiobject_size = 70, .gil_runtime_state = 15,
	  .imports_modules = 11, .count = 73 },
	{ .minor = 14, .interpreters_head = 5, .threads_head = 9, .tstate_next = 24,
	  .tstate_thread_id = 27, .tstate_current_frame = 26, .frame_previous = 32,
	  .frame_executable = 33, .frame_instr_ptr = 34, .frame_owner = 36, .code_filename = 40,
	  .code_name = 41, .code_qualname = 42, .code_linetable = 43, .code_firstlineno = 44,
	  .code_adaptive = 48, .unicode_asciiobject_size = 80, .gil_runtime_state = 16,
	  .imports_modules = 12, .count = 81 },
};
// clang-format on

#define DEBUG_COOKIE "xdebugpy"
#define DEBUG_VERSION_INDEX 1
#define DEBUG_FREE_THREADED_INDEX 2
#define MAX_STRUCT_OFFSET 65536 /* anything larger is not a struct offset we believe */

static int debug_field(const uint64_t *v, int index, int *out)
{
	if (v[index] >= MAX_STRUCT_OFFSET)
		return -EINVAL;
	*out = (int)v[index];
	return 0;
}

int pyoffsets__apply_debug_offsets(struct lp_pyoffsets *o, const void *buf, size_t len,
				   bool *free_threaded)
{
	const struct debug_offsets_map *m = NULL;
	uint64_t v[128];
	struct lp_pyoffsets n = *o;
	int err = 0;

	for (size_t i = 0; i < sizeof(debug_maps) / sizeof(debug_maps[0]); i++)
		if (debug_maps[i].minor == o->minor)
			m = &debug_maps[i];
	if (!m || len < (size_t)m->count * 8 || (size_t)m->count > sizeof(v) / 8)
		return -EINVAL;
	memcpy(v, buf, (size_t)m->count * 8);
	if (memcmp(v, DEBUG_COOKIE, 8) ||
	    ((v[DEBUG_VERSION_INDEX] >> 16) & 0xff) != (uint64_t)o->minor)
		return -EINVAL;
	*free_threaded = v[DEBUG_FREE_THREADED_INDEX] != 0;

	err |= debug_field(v, m->interpreters_head, &n.walk.runtime_interp_head);
	err |= debug_field(v, m->threads_head, &n.walk.interp_threads_head);
	err |= debug_field(v, m->tstate_next, &n.walk.tstate_next);
	err |= debug_field(v, m->tstate_thread_id, &n.walk.tstate_thread_id);
	err |= debug_field(v, m->tstate_current_frame, &n.walk.tstate_frame);
	err |= debug_field(v, m->frame_previous, &n.walk.frame_previous);
	err |= debug_field(v, m->frame_executable, &n.walk.frame_code);
	err |= debug_field(v, m->frame_instr_ptr, &n.walk.frame_instr);
	err |= debug_field(v, m->frame_owner, &n.walk.frame_owner);
	err |= debug_field(v, m->code_filename, &n.code.filename);
	err |= debug_field(v, m->code_name, &n.code.name);
	err |= debug_field(v, m->code_qualname, &n.code.qualname);
	err |= debug_field(v, m->code_linetable, &n.code.linetable);
	err |= debug_field(v, m->code_firstlineno, &n.code.firstlineno);
	err |= debug_field(v, m->code_adaptive, &n.code.code_adaptive);
	err |= debug_field(v, m->unicode_asciiobject_size, &n.unicode_ascii_data);
	err |= debug_field(v, m->gil_runtime_state, &n.gil_state);
	err |= debug_field(v, m->imports_modules, &n.interp_modules);
	if (err)
		return -EINVAL;
	/* _Py_DebugOffsets has no f_funcobj nor f_globals: the table's are only believed in the
	 * frame layout the table knows. Without them stacks are keyed as before, by code alone. */
	if (n.walk.frame_previous != o->walk.frame_previous ||
	    n.walk.frame_code != o->walk.frame_code || n.walk.frame_instr != o->walk.frame_instr ||
	    n.walk.frame_owner != o->walk.frame_owner) {
		n.walk.frame_func = -1;
		n.walk.frame_globals = -1;
	}
	/* The BPF side reads each frame in one copy: every field must fit in it. */
	n.walk.frame_read_size = n.walk.frame_owner + 1;
	if (n.walk.frame_func + 8 > n.walk.frame_read_size)
		n.walk.frame_read_size = n.walk.frame_func + 8;
	if (n.walk.frame_globals + 8 > n.walk.frame_read_size)
		n.walk.frame_read_size = n.walk.frame_globals + 8;
	if (n.walk.frame_previous + 8 > n.walk.frame_read_size)
		n.walk.frame_read_size = n.walk.frame_previous + 8;
	if (n.walk.frame_instr + 8 > n.walk.frame_read_size)
		n.walk.frame_read_size = n.walk.frame_instr + 8;
	if (n.walk.frame_code + 8 > n.walk.frame_read_size)
		n.walk.frame_read_size = n.walk.frame_code + 8;
	n.walk.frame_read_size = (n.walk.frame_read_size + 7) & ~7;
	if (n.walk.frame_read_size > LP_FRAME_READ_MAX || n.code.filename + 8 > 256 ||
	    n.code.name + 8 > 256 || n.code.qualname + 8 > 256 || n.code.linetable + 8 > 256 ||
	    n.code.firstlineno + 4 > 256)
		return -EINVAL;
	*o = n;
	return 0;
}

const struct lp_pyoffsets *pyoffsets__for_build(int major, int minor, bool free_threaded)
{
	if (major != 3)
		return NULL;
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
		if (tables[i].minor == minor && tables[i].free_threaded == free_threaded)
			return &tables[i];
	return NULL;
}

const struct lp_pyoffsets *pyoffsets__for(int major, int minor)
{
	return pyoffsets__for_build(major, minor, false);
}

int pyoffsets__min_minor(void)
{
	return tables[0].minor;
}

int pyoffsets__max_minor(void)
{
	int max = 0;

	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
		if (tables[i].minor > max)
			max = tables[i].minor;
	return max;
}
