/* SPDX-License-Identifier: GPL-2.0 */
/* Per-minor-version CPython layouts: what the BPF frame walk needs (struct lp_py_offsets) and what
 * the user-space symbolizer needs (code objects, strings, line tables). Data only. */
#ifndef LOCKPROF_SRC_PYOFFSETS_H
#define LOCKPROF_SRC_PYOFFSETS_H

#include <stdbool.h>
#include <stddef.h>

#include "lockprof/abi.h"
#include "symbolize/linetable.h"

/* How a frame's raw instruction field becomes a byte offset into the code. */
enum lp_instr_kind {
	LP_INSTR_BYTES,	  /* 3.8, 3.9: f_lasti counts bytes */
	LP_INSTR_UNITS,	  /* 3.10: f_lasti counts 2-byte code units */
	LP_INSTR_POINTER, /* 3.11+: pointer into co_code_adaptive */
};

struct lp_code_offsets {
	int firstlineno; /* int */
	int filename;	 /* PyUnicodeObject* */
	int name;
	int qualname;	   /* -1 before 3.11 */
	int linetable;	   /* PyBytesObject*: co_lnotab or co_linetable */
	int code_adaptive; /* 3.11+: inline bytecode, base of the instruction pointer */
	enum linetable_format linetable_format;
	enum lp_instr_kind instr_kind;
	int object_type; /* PyObject.ob_type: 8, or 24 on free-threaded builds */
	int size_word;	 /* the 8 bytes after the object header (ob_size from 3.11) */
	int tlbc;	 /* 3.14t: co_tlbc, the per-thread bytecode copies; -1 without */
};

struct lp_pyoffsets {
	int minor;
	struct lp_py_offsets walk; /* runtime_addr is filled at attach time */
	struct lp_code_offsets code;
	bool free_threaded;	  /* a --disable-gil build's table */
	int unicode_ascii_data;	  /* sizeof(PyASCIIObject) */
	int unicode_compact_data; /* sizeof(PyCompactUnicodeObject) */
	int unicode_length;	  /* PyASCIIObject.length */
	int unicode_state;	  /* PyASCIIObject.state */
	int unicode_kind_shift;	  /* bit of state.kind: 2, or 8 where interned is a byte (3.14t) */
	int object_head;	  /* sizeof(PyObject): a Lock's PyMutex follows it */
	int type_name;		  /* PyTypeObject.tp_name */
	int object_mutex;	  /* free-threaded: PyObject.ob_mutex (critical sections); -1 */
	int gil_enabled;	  /* free-threaded: _gil_runtime_state.enabled; -1 */
	int gil_switch_number;	  /* _gil_runtime_state.switch_number (unsigned long) */
	bool has_debug_offsets;	  /* 3.13+: _PyRuntime starts with _Py_DebugOffsets */
	/* struct _gil_runtime_state: in _PyRuntime up to 3.11, in the main interpreter from 3.12 */
	bool gil_in_interp;
	int gil_state;
	/* PyInterpreterState.imports.modules (sys.modules), from _Py_DebugOffsets; 0: unknown */
	int interp_modules;
};

#define LP_DEBUG_OFFSETS_MAX 1024 /* bytes of _Py_DebugOffsets worth reading */

/* Overrides o's offsets with those the interpreter publishes in its _Py_DebugOffsets (buf: the
 * first bytes of _PyRuntime). Checks the cookie and that the version matches o->minor; sets
 * *free_threaded. Returns 0, or -EINVAL (o unchanged) when buf is not a valid block. */
int pyoffsets__apply_debug_offsets(struct lp_pyoffsets *o, const void *buf, size_t len,
				   bool *free_threaded);

/* The table for 3.minor's default build, or NULL when that version is not supported. */
const struct lp_pyoffsets *pyoffsets__for(int major, int minor);

/* The table for 3.minor's default or free-threaded build, or NULL when not supported. */
const struct lp_pyoffsets *pyoffsets__for_build(int major, int minor, bool free_threaded);

/* Lowest and highest supported 3.x minor, for messages. */
int pyoffsets__min_minor(void);
int pyoffsets__max_minor(void);

#endif
