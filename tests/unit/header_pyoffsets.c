// SPDX-License-Identifier: GPL-2.0
/* Compiled by tests/unit/check_pyoffsets.py once per installed CPython (3.8+) against that
 * version's own headers (-I include/python3.X -I include/python3.X/internal); prints what the
 * headers say about every field of lockprof's offset table (src/pyoffsets.c), in the names of
 * dump_pyoffsets.c:
 *
 *   version 3.M
 *   FIELD VALUE              offsetof/sizeof/enum value, or the sentinel lockprof must use
 *   debug FIELD INDEX        3.13+: offsetof(_Py_DebugOffsets, ...) / 8 for the field
 *   debug count N            3.13+: sizeof(_Py_DebugOffsets) / 8
 *   tag_bits N               3.14+: Py_TAG_BITS of _PyStackRef
 *   dump.FIELD VALUE         lockprof dump's layout (src/dump/layout.c): its fields, and
 *                            object fields as offsets after the object header
 *
 * Fields a version does not use (code.code_adaptive before 3.11, the owner skip value where
 * frames have no owner byte) are not printed. Never linked against libpython: only offsetof,
 * sizeof and constants are used. */
#define Py_BUILD_CORE 1
#include <Python.h>
#include <frameobject.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#if PY_VERSION_HEX < 0x03090000
#include "internal/pycore_pystate.h" /* struct _is, _PyRuntimeState */
#else
#include "internal/pycore_interp.h"
#include "internal/pycore_runtime.h"
#endif
#if PY_VERSION_HEX >= 0x030B0000
#include "internal/pycore_frame.h" /* _PyInterpreterFrame, enum _frameowner */
#endif
#if PY_VERSION_HEX >= 0x030E0000
#include "internal/pycore_debug_offsets.h"
#include "internal/pycore_stackref.h"
#endif
#if PY_VERSION_HEX >= 0x030B0000
#include "internal/pycore_dict.h"   /* PyDictValues */
#include "internal/pycore_object.h" /* MANAGED_DICT_OFFSET (3.12+) */
#endif

#define SIZEOF_MEMBER(type, member) ((long long)sizeof(((type *)0)->member))
#define P(field, value) printf("%s %lld\n", field, (long long)(value))
#define PD(field, member)                                                                          \
	printf("debug %s %lld\n", field, (long long)offsetof(_Py_DebugOffsets, member) / 8)

#if PY_VERSION_HEX < 0x030B0000
typedef PyFrameObject frame_t; /* 3.8-3.10: the frame chain is PyFrameObjects */
#define FRAME_BACK f_back
#define FRAME_CODE f_code
#define FRAME_INSTR f_lasti
#elif PY_VERSION_HEX < 0x030C0000
typedef _PyInterpreterFrame frame_t;
#define FRAME_BACK previous
#define FRAME_CODE f_code
#define FRAME_INSTR prev_instr
#define FRAME_FUNC f_func
#elif PY_VERSION_HEX < 0x030D0000
typedef _PyInterpreterFrame frame_t;
#define FRAME_BACK previous
#define FRAME_CODE f_code
#define FRAME_INSTR prev_instr
#define FRAME_FUNC f_funcobj
#else
typedef _PyInterpreterFrame frame_t;
#define FRAME_BACK previous
#define FRAME_CODE f_executable
#define FRAME_INSTR instr_ptr
#define FRAME_FUNC f_funcobj
#endif

/* The bit state.kind starts at: a bitfield has no offsetof. */
static int unicode_kind_shift(void)
{
	PyASCIIObject a;
	unsigned char bytes[sizeof(a.state)];
	int bit = 0;

	memset(&a, 0, sizeof(a));
	a.state.kind = 1;
	memcpy(bytes, &a.state, sizeof(bytes));
	while (bit < (int)sizeof(bytes) * 8 && !(bytes[bit / 8] & (1 << (bit % 8))))
		bit++;
	return bit;
}

/* lockprof dump's layout (src/dump/layout.c); object fields past the header, sizeof(PyObject). */
static void print_dump_layout(void)
{
	const long long head = (long long)sizeof(PyObject);

#if PY_VERSION_HEX < 0x030B0000
	P("dump.native_tid", -1); /* read from glibc's struct pthread */
	P("dump.code_nlocalsplus", -1);
	P("dump.frame_valuestack", offsetof(PyFrameObject, f_valuestack));
	P("dump.frame_localsplus", offsetof(PyFrameObject, f_localsplus));
	P("dump.ht_cached_keys", -1); /* instance dicts through tp_dictoffset */
#else
	P("dump.native_tid", offsetof(PyThreadState, native_thread_id));
	P("dump.code_nlocalsplus", offsetof(PyCodeObject, co_nlocalsplus));
	P("dump.frame_valuestack", -1);
	P("dump.frame_localsplus", offsetof(_PyInterpreterFrame, localsplus));
	P("dump.ht_cached_keys", offsetof(PyHeapTypeObject, ht_cached_keys));
	P("dump.values_prefix", offsetof(PyDictValues, values));
#endif
#ifdef MANAGED_DICT_OFFSET
	P("dump.managed_dict", MANAGED_DICT_OFFSET);
#endif
#if PY_VERSION_HEX >= 0x030E0000
	P("dump.frame_stackpointer", offsetof(_PyInterpreterFrame, stackpointer));
#else
	P("dump.frame_stackpointer", -1);
#endif
	P("dump.tstate_prev", offsetof(PyThreadState, prev));
	P("dump.tstate_interp", offsetof(PyThreadState, interp));
	P("dump.code_stacksize", offsetof(PyCodeObject, co_stacksize));
	P("dump.func_code", offsetof(PyFunctionObject, func_code) - head);
	P("dump.bound_func_after_head", offsetof(PyCFunctionObject, m_ml) - head);
	P("dump.bound_self_after_func",
	  offsetof(PyCFunctionObject, m_self) - offsetof(PyCFunctionObject, m_ml));
	P("dump.bound_func_after_head", offsetof(PyMethodObject, im_func) - head);
	P("dump.bound_self_after_func",
	  offsetof(PyMethodObject, im_self) - offsetof(PyMethodObject, im_func));
	P("dump.descr_name_after_head", offsetof(PyDescrObject, d_name) - head);
	P("dump.dict_keys_after_head", offsetof(PyDictObject, ma_keys) - head);
	P("dump.dict_values_after_keys",
	  offsetof(PyDictObject, ma_values) - offsetof(PyDictObject, ma_keys));
	P("dump.type_basicsize_after_head", offsetof(PyTypeObject, tp_basicsize) - head);
#ifdef Py_GIL_DISABLED
	P("dump.ft_ref_local", offsetof(PyObject, ob_ref_local));
	P("dump.ft_ref_shared", offsetof(PyObject, ob_ref_shared));
#endif
}

int main(void)
{
#ifdef Py_GIL_DISABLED
	printf("version %d.%dt\n", PY_MAJOR_VERSION, PY_MINOR_VERSION);
	P("free_threaded", 1);
	P("object_mutex", offsetof(PyObject, ob_mutex));
	P("gil_enabled", offsetof(struct _gil_runtime_state, enabled));
#else
	printf("version %d.%d\n", PY_MAJOR_VERSION, PY_MINOR_VERSION);
	P("free_threaded", 0);
	P("object_mutex", -1);
	P("gil_enabled", -1);
#endif
#if PY_VERSION_HEX >= 0x030C0000 /* internal/pycore_gil.h: 3.12+ */
	P("gil_switch_number", offsetof(struct _gil_runtime_state, switch_number));
#endif
#if defined(Py_GIL_DISABLED) && PY_VERSION_HEX >= 0x030E0000
	P("code.tlbc", offsetof(PyCodeObject, co_tlbc));
#else
	P("code.tlbc", -1);
#endif
	P("object_head", sizeof(PyObject));
	P("code.object_type", offsetof(PyObject, ob_type));
	P("code.size_word", sizeof(PyObject));
	P("type_name", offsetof(PyTypeObject, tp_name));
	P("unicode_length", offsetof(PyASCIIObject, length));
	P("unicode_state", offsetof(PyASCIIObject, state));
	P("unicode_kind_shift", unicode_kind_shift());

	P("walk.runtime_interp_head", offsetof(_PyRuntimeState, interpreters.head));
#if PY_VERSION_HEX < 0x030B0000
	P("walk.interp_threads_head", offsetof(PyInterpreterState, tstate_head));
#else
	P("walk.interp_threads_head", offsetof(PyInterpreterState, threads.head));
#endif
	P("walk.tstate_next", offsetof(PyThreadState, next));
	P("walk.tstate_thread_id", offsetof(PyThreadState, thread_id));
#if PY_VERSION_HEX < 0x030B0000
	P("walk.tstate_frame", offsetof(PyThreadState, frame));
	P("walk.cframe_frame", -1); /* the frame pointer is in the thread state itself */
#elif PY_VERSION_HEX < 0x030D0000
	P("walk.tstate_frame", offsetof(PyThreadState, cframe));
	P("walk.cframe_frame", offsetof(_PyCFrame, current_frame));
#else
	P("walk.tstate_frame", offsetof(PyThreadState, current_frame));
	P("walk.cframe_frame", -1);
#endif
	P("walk.frame_previous", offsetof(frame_t, FRAME_BACK));
	P("walk.frame_code", offsetof(frame_t, FRAME_CODE));
	P("walk.frame_instr", offsetof(frame_t, FRAME_INSTR));
	P("walk.frame_instr_size", SIZEOF_MEMBER(frame_t, FRAME_INSTR));
#ifdef FRAME_FUNC
	P("walk.frame_func", offsetof(frame_t, FRAME_FUNC));
#else
	P("walk.frame_func", -1); /* 3.8-3.10 frames do not point to their function */
#endif
	P("walk.frame_globals", offsetof(frame_t, f_globals));
#if PY_VERSION_HEX < 0x030C0000
	/* 3.11 has an owner byte but no shim frames: lockprof reads no owner before 3.12. */
	P("walk.frame_owner", -1);
#else
	P("walk.frame_owner", offsetof(frame_t, owner));
	if (SIZEOF_MEMBER(frame_t, owner) != 1)
		P("walk.frame_owner_size_is_not_1", SIZEOF_MEMBER(frame_t, owner));
#if PY_VERSION_HEX < 0x030E0000
	P("walk.frame_owner_skip", FRAME_OWNED_BY_CSTACK); /* the last owner value */
#else
	P("walk.frame_owner_skip", FRAME_OWNED_BY_INTERPRETER); /* and CSTACK above it */
#endif
#endif

	P("code.firstlineno", offsetof(PyCodeObject, co_firstlineno));
	P("code.filename", offsetof(PyCodeObject, co_filename));
	P("code.name", offsetof(PyCodeObject, co_name));
#if PY_VERSION_HEX < 0x030B0000
	P("code.qualname", -1);
#else
	P("code.qualname", offsetof(PyCodeObject, co_qualname));
#endif
#if PY_VERSION_HEX < 0x030A0000
	P("code.linetable", offsetof(PyCodeObject, co_lnotab));
#else
	P("code.linetable", offsetof(PyCodeObject, co_linetable));
#endif
#if PY_VERSION_HEX >= 0x030B0000
	P("code.code_adaptive", offsetof(PyCodeObject, co_code_adaptive));
#endif
	P("unicode_ascii_data", sizeof(PyASCIIObject));
	P("unicode_compact_data", sizeof(PyCompactUnicodeObject));
	P("has_debug_offsets", PY_VERSION_HEX >= 0x030D0000);
#if PY_VERSION_HEX >= 0x030D0000
	P("interp_modules", offsetof(PyInterpreterState, imports.modules));
#endif

#if PY_VERSION_HEX >= 0x030D0000
	PD("walk.runtime_interp_head", runtime_state.interpreters_head);
	PD("walk.interp_threads_head", interpreter_state.threads_head);
	PD("walk.tstate_next", thread_state.next);
	PD("walk.tstate_thread_id", thread_state.thread_id);
	PD("walk.tstate_frame", thread_state.current_frame);
	PD("walk.frame_previous", interpreter_frame.previous);
	PD("walk.frame_code", interpreter_frame.executable);
	PD("walk.frame_instr", interpreter_frame.instr_ptr);
	PD("walk.frame_owner", interpreter_frame.owner);
	PD("code.firstlineno", code_object.firstlineno);
	PD("code.filename", code_object.filename);
	PD("code.name", code_object.name);
	PD("code.qualname", code_object.qualname);
	PD("code.linetable", code_object.linetable);
	PD("code.code_adaptive", code_object.co_code_adaptive);
	PD("unicode_ascii_data", unicode_object.asciiobject_size);
	PD("interp_modules", interpreter_state.imports_modules);
	printf("debug count %lld\n", (long long)(sizeof(_Py_DebugOffsets) / 8));
#endif
#if PY_VERSION_HEX >= 0x030E0000
	P("tag_bits", Py_TAG_BITS);
#endif
	print_dump_layout();
	return 0;
}
