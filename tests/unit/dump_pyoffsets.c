// SPDX-License-Identifier: GPL-2.0
/* Prints lockprof's CPython offset tables (src/pyoffsets.c) for tests/unit/check_pyoffsets.py,
 * which compares them with offsetof() compiled against installed CPython headers and with what
 * real 3.13+ binaries publish in their _Py_DebugOffsets.
 *
 *   dump_pyoffsets table            "table 3.M FIELD VALUE" for every supported minor, and
 *                                   "dump 3.M dump.FIELD VALUE": lockprof dump's own layout
 *                                   (src/dump/layout.c) for each build it reads
 *   dump_pyoffsets debugmap         "debugmap 3.M FIELD INDEX": which uint64_t of _Py_DebugOffsets
 *                                   pyoffsets__apply_debug_offsets reads for FIELD, and
 *                                   "debugmap 3.M count N", the uint64_t count it needs
 *   dump_pyoffsets runtime FILE     "runtime 3.M FIELD VALUE": the table for FILE's version after
 *                                   pyoffsets__apply_debug_offsets on FILE's .PyRuntime section
 *
 * FIELD names are the struct lp_pyoffsets member paths (walk.tstate_next, code.name, ...). */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dump/layout.h"
#include "target/elf_syms.h"
#include "target/pyoffsets.h"

#define FIELDS(X)                                                                                  \
	X(walk.runtime_interp_head)                                                                \
	X(walk.interp_threads_head)                                                                \
	X(walk.tstate_next)                                                                        \
	X(walk.tstate_thread_id)                                                                   \
	X(walk.tstate_frame)                                                                       \
	X(walk.cframe_frame)                                                                       \
	X(walk.frame_previous)                                                                     \
	X(walk.frame_code)                                                                         \
	X(walk.frame_instr)                                                                        \
	X(walk.frame_instr_size)                                                                   \
	X(walk.frame_owner)                                                                        \
	X(walk.frame_owner_skip)                                                                   \
	X(walk.frame_func)                                                                         \
	X(walk.frame_globals)                                                                      \
	X(walk.frame_read_size)                                                                    \
	X(code.firstlineno)                                                                        \
	X(code.filename)                                                                           \
	X(code.name)                                                                               \
	X(code.qualname)                                                                           \
	X(code.linetable)                                                                          \
	X(code.code_adaptive)                                                                      \
	X(code.linetable_format)                                                                   \
	X(code.instr_kind)                                                                         \
	X(unicode_ascii_data)                                                                      \
	X(unicode_compact_data)                                                                    \
	X(has_debug_offsets)                                                                       \
	X(interp_modules)                                                                          \
	X(free_threaded)                                                                           \
	X(unicode_length)                                                                          \
	X(unicode_state)                                                                           \
	X(unicode_kind_shift)                                                                      \
	X(object_head)                                                                             \
	X(type_name)                                                                               \
	X(object_mutex)                                                                            \
	X(gil_enabled)                                                                             \
	X(gil_switch_number)                                                                       \
	X(code.object_type)                                                                        \
	X(code.size_word)                                                                          \
	X(code.tlbc)

/* The fields pyoffsets__apply_debug_offsets takes from _Py_DebugOffsets. */
#define DEBUG_FIELDS(X)                                                                            \
	X(walk.runtime_interp_head)                                                                \
	X(walk.interp_threads_head)                                                                \
	X(walk.tstate_next)                                                                        \
	X(walk.tstate_thread_id)                                                                   \
	X(walk.tstate_frame)                                                                       \
	X(walk.frame_previous)                                                                     \
	X(walk.frame_code)                                                                         \
	X(walk.frame_instr)                                                                        \
	X(walk.frame_owner)                                                                        \
	X(code.firstlineno)                                                                        \
	X(code.filename)                                                                           \
	X(code.name)                                                                               \
	X(code.qualname)                                                                           \
	X(code.linetable)                                                                          \
	X(code.code_adaptive)                                                                      \
	X(unicode_ascii_data)                                                                      \
	X(interp_modules)

static void print_table(const char *tag, const struct lp_pyoffsets *o)
{
	const char *t = o->free_threaded ? "t" : "";

#define PRINT(f) printf("%s 3.%d%s %s %lld\n", tag, o->minor, t, #f, (long long)o->f);
	FIELDS(PRINT)
#undef PRINT
	printf("%s 3.%d%s walk.code_mask 0x%llx\n", tag, o->minor, t,
	       (unsigned long long)o->walk.code_mask);
}

#define DUMP_FIELDS(X)                                                                             \
	X(native_tid)                                                                              \
	X(code_stacksize)                                                                          \
	X(code_nlocalsplus)                                                                        \
	X(frame_valuestack)                                                                        \
	X(frame_localsplus)                                                                        \
	X(frame_stackpointer)                                                                      \
	X(ht_cached_keys)                                                                          \
	X(values_prefix)                                                                           \
	X(managed_dict)                                                                            \
	X(func_code)

static void print_dump_layout(const struct dump_layout *l)
{
	const char *t = l->free_threaded ? "t" : "";

#define PRINT(f) printf("dump 3.%d%s dump.%s %lld\n", l->minor, t, #f, (long long)l->f);
	DUMP_FIELDS(PRINT)
#undef PRINT
#define PRINT(f, v) printf("dump 3.%d%s dump.%s %lld\n", l->minor, t, f, (long long)(v));
	PRINT("tstate_prev", DUMP_TSTATE_PREV)
	PRINT("tstate_interp", DUMP_TSTATE_INTERP)
	PRINT("bound_func_after_head", DUMP_BOUND_FUNC_AFTER_HEAD)
	PRINT("bound_self_after_func", 8)
	PRINT("descr_name_after_head", DUMP_DESCR_NAME_AFTER_HEAD)
	PRINT("dict_keys_after_head", DUMP_DICT_KEYS_AFTER_HEAD)
	PRINT("dict_values_after_keys", 8)
	PRINT("type_basicsize_after_head", DUMP_TYPE_BASICSIZE_AFTER_HEAD)
	if (l->free_threaded) {
		PRINT("ft_ref_local", DUMP_FT_REF_LOCAL)
		PRINT("ft_ref_shared", DUMP_FT_REF_SHARED)
	}
#undef PRINT
}

static int dump_tables(void)
{
	for (int i = 0; dump_layout__at(i); i++)
		print_dump_layout(dump_layout__at(i));
	for (int m = pyoffsets__min_minor(); m <= pyoffsets__max_minor(); m++) {
		const struct lp_pyoffsets *o = pyoffsets__for(3, m);

		if (!o) {
			fprintf(stderr, "dump_pyoffsets: no table for 3.%d\n", m);
			return 1;
		}
		print_table("table", o);
		o = pyoffsets__for_build(3, m, true);
		if (o)
			print_table("table", o);
	}
	return 0;
}

/* A fake _Py_DebugOffsets whose uint64_t number i holds i: after applying it, each field holds
 * the index it was read from. */
static void fake_debug_block(uint64_t *v, size_t n, int minor)
{
	for (size_t i = 0; i < n; i++)
		v[i] = i;
	memcpy(&v[0], "xdebugpy", 8);
	v[1] = 0x030000f0ULL | ((uint64_t)minor << 16);
	v[2] = 0; /* not free-threaded */
}

static int dump_debug_maps(void)
{
	uint64_t v[LP_DEBUG_OFFSETS_MAX / 8];

	for (int m = pyoffsets__min_minor(); m <= pyoffsets__max_minor(); m++) {
		const struct lp_pyoffsets *table = pyoffsets__for(3, m);
		struct lp_pyoffsets o = *table;
		bool ft = true;
		size_t count;

		if (!table->has_debug_offsets)
			continue;
		fake_debug_block(v, sizeof(v) / 8, m);
		if (pyoffsets__apply_debug_offsets(&o, v, sizeof(v), &ft) || ft) {
			fprintf(stderr, "dump_pyoffsets: 3.%d: index probe block rejected\n", m);
			return 1;
		}
#define PRINT(f) printf("debugmap 3.%d %s %lld\n", m, #f, (long long)o.f);
		DEBUG_FIELDS(PRINT)
#undef PRINT
		/* The shortest block it accepts is the struct size it assumes. */
		for (count = 1; count <= sizeof(v) / 8; count++) {
			o = *table;
			if (!pyoffsets__apply_debug_offsets(&o, v, count * 8, &ft))
				break;
		}
		printf("debugmap 3.%d count %zu\n", m, count);
	}
	return 0;
}

static int dump_runtime(const char *path)
{
	uint8_t buf[LP_DEBUG_OFFSETS_MAX];
	uint64_t addr, size, version, free_threaded;
	struct lp_pyoffsets o;
	const struct lp_pyoffsets *table;
	struct elf_file *ef;
	bool ft = false;
	int fd, err, minor;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "dump_pyoffsets: %s: %s\n", path, strerror(errno));
		return 1;
	}
	ef = elf_file__open_fd(fd);
	if (!ef) {
		fprintf(stderr, "dump_pyoffsets: %s: not an ELF file\n", path);
		close(fd);
		return 1;
	}
	err = elf_file__find_section(ef, ".PyRuntime", &addr, &size);
	if (!err) {
		if (size > sizeof(buf))
			size = sizeof(buf);
		err = elf_file__read_vaddr(ef, addr, buf, size);
	}
	elf_file__close(ef);
	if (err) {
		fprintf(stderr, "dump_pyoffsets: %s: cannot read .PyRuntime: %s\n", path,
			strerror(-err));
		return 1;
	}
	memcpy(&version, buf + 8, 8);
	minor = (int)((version >> 16) & 0xff);
	memcpy(&free_threaded, buf + 16, 8);
	table = pyoffsets__for_build(3, minor, free_threaded != 0);
	if (memcmp(buf, "xdebugpy", 8) || (version >> 24) != 3 || !table) {
		fprintf(stderr, "dump_pyoffsets: %s: no _Py_DebugOffsets of a supported 3.x\n",
			path);
		return 1;
	}
	o = *table;
	err = pyoffsets__apply_debug_offsets(&o, buf, size, &ft);
	if (err) {
		fprintf(stderr,
			"dump_pyoffsets: %s: pyoffsets__apply_debug_offsets rejected it: %s\n",
			path, strerror(-err));
		return 1;
	}
	printf("runtime 3.%d%s version 0x%08llx\n", minor, ft ? "t" : "",
	       (unsigned long long)version);
	print_table("runtime", &o);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "table"))
		return dump_tables();
	if (argc == 2 && !strcmp(argv[1], "debugmap"))
		return dump_debug_maps();
	if (argc == 3 && !strcmp(argv[1], "runtime"))
		return dump_runtime(argv[2]);
	fprintf(stderr, "usage: dump_pyoffsets table | debugmap | runtime FILE\n");
	return 2;
}
