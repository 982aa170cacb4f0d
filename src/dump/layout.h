/* SPDX-License-Identifier: GPL-2.0 */
/* What lockprof dump reads beyond lockprof's offset table (target/pyoffsets.c), per minor
 * version and build: the value stack of a frame, a thread's native id, where a Thread's
 * attributes are. Data only; tests/unit/check_pyoffsets.py compares every field with offsetof
 * compiled against each installed CPython's headers (free-threaded builds included).
 *
 * An object's own fields are read past the table's object_head (sizeof(PyObject): 16, or 32 on
 * free-threaded builds): the *_AFTER_HEAD values below are the same on every build. */
#ifndef LOCKPROF_SRC_DUMP_LAYOUT_H
#define LOCKPROF_SRC_DUMP_LAYOUT_H

#include <stdbool.h>
#include <stdint.h>

struct dump_layout {
	int minor;
	bool free_threaded;
	int native_tid;		/* PyThreadState.native_thread_id; -1: ask glibc's struct pthread */
	int code_stacksize;	/* co_stacksize (int) */
	int code_nlocalsplus;	/* co_nlocalsplus (int), -1 before 3.11 */
	int frame_valuestack;	/* PyFrameObject.f_valuestack (pointer), -1 from 3.11 */
	int frame_localsplus;	/* the first local of a frame (self): f_localsplus, localsplus */
	int frame_stackpointer; /* 3.14: the spilled stack pointer, -1 when not recorded */
	uint64_t ref_mask;	/* _PyStackRef tag bits cleared (3.14) */
	int ht_cached_keys;	/* PyHeapTypeObject.ht_cached_keys, read from 3.11 (-1 before) */
	int values_prefix;	/* bytes before PyDictValues.values[0] (3.13+: capacity, size...) */
	int managed_dict;	/* 3.11+: MANAGED_DICT_OFFSET, before the object; 0 before 3.11 */
	int func_code;		/* PyFunctionObject.func_code, after the header */
};

/* PyThreadState begins with prev, next, interp on every version and build. */
#define DUMP_TSTATE_PREV 0
#define DUMP_TSTATE_INTERP 16

/* Fields after the object header, on every version and build. */
/* A bound C method's m_ml and a bound Python method's im_func; m_self, im_self follow. */
#define DUMP_BOUND_FUNC_AFTER_HEAD 0
#define DUMP_DESCR_NAME_AFTER_HEAD 8	  /* PyDescrObject: d_type, d_name */
#define DUMP_DICT_KEYS_AFTER_HEAD 16	  /* PyDictObject: ma_used, a version or tag, ma_keys */
#define DUMP_TYPE_BASICSIZE_AFTER_HEAD 16 /* PyTypeObject: ob_size, tp_name, tp_basicsize */
/* Free-threaded builds: the owner's reference count and the shared one (2 flag bits low). */
#define DUMP_FT_REF_LOCAL 12
#define DUMP_FT_REF_SHARED 16

/* The layout of 3.minor's default or free-threaded build, or NULL. */
const struct dump_layout *dump_layout__for(int minor, bool free_threaded);

/* The i-th layout, or NULL past the last (for the offset checks). */
const struct dump_layout *dump_layout__at(int i);

#endif
