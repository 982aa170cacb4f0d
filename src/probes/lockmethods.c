// SPDX-License-Identifier: GPL-2.0
/* Finding threading.Lock's and RLock's C functions in the target (see lockmethods.h). Every
 * pointer read here comes from another process and may be anything: each read is checked, each
 * count bounded. */
#include <errno.h>
#include <string.h>

#include "probes/lockmethods.h"
#include "target/pyobj.h"

/* Struct layouts shared by 3.13 and 3.14 default (GIL) builds; tests/unit/test_lockmethods.c
 * builds objects with them, and the functional tests find the methods in real interpreters.
 * Free-threaded builds' objects have the same fields after a header 16 bytes longer
 * (HEAD_GROWTH); their dict keys objects are laid out alike. */
#define DICT_KEYS 32		/* PyDictObject.ma_keys */
#define DICT_VALUES 40		/* PyDictObject.ma_values: split tables are not module dicts */
#define KEYS_LOG2_INDEX_BYTES 9 /* PyDictKeysObject.dk_log2_index_bytes */
#define KEYS_KIND 10		/* dk_kind: 0 general, 1 str keys, 2 split */
#define KEYS_NENTRIES 24	/* dk_nentries */
#define KEYS_INDICES 32		/* dk_indices[]: entries follow them */
#define MODULE_DICT 16		/* PyModuleObject.md_dict */
#define TYPE_METHODS 232	/* PyTypeObject.tp_methods */
#define METHODDEF_SIZE 32	/* PyMethodDef: ml_name, ml_meth, ml_flags, ml_doc */
#define MAX_DICT_ENTRIES 65536	/* sys.modules of a large application has a few thousand */
#define MAX_METHODS 64
#define ENTRIES_PER_READ 64
#define DEFAULT_OBJECT_HEAD 16

/* How much longer this build's object header is than the default build's. */
static uint64_t head_growth(const struct lp_pyoffsets *o)
{
	return o->object_head > DEFAULT_OBJECT_HEAD ? (uint64_t)o->object_head - DEFAULT_OBJECT_HEAD
						    : 0;
}

static uint64_t le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

int lockmethods__dict_entries(const uint8_t *hdr, uint64_t *entries_off, size_t *entry_size,
			      uint64_t *nentries)
{
	uint8_t log2_index_bytes = hdr[KEYS_LOG2_INDEX_BYTES], kind = hdr[KEYS_KIND];
	uint64_t n = le64(hdr + KEYS_NENTRIES);

	/* A dict of MAX_DICT_ENTRIES needs 2^19 bytes of 8-byte indices at most. */
	if (log2_index_bytes > 20 || kind > 1 || n > MAX_DICT_ENTRIES)
		return -EINVAL;
	*entries_off = KEYS_INDICES + (1ULL << log2_index_bytes);
	*entry_size = kind == 1 ? 16 : 24; /* {key, value} or {hash, key, value} */
	*nentries = n;
	return 0;
}

static int read_u64(pid_t pid, uint64_t addr, uint64_t *v)
{
	uint8_t buf[8];
	int err = remote_read(pid, addr, buf, sizeof(buf));

	if (!err)
		*v = le64(buf);
	return err;
}

/* value = dict[name] for a dict with str keys (a module's namespace, sys.modules). */
static int dict_get(pid_t pid, uint64_t dict, const struct lp_pyoffsets *o, const char *name,
		    uint64_t *value)
{
	uint8_t hdr[LP_DICT_KEYS_HEADER], entries[ENTRIES_PER_READ * 24];
	uint64_t keys, values, entries_off, n;
	char key[64];
	size_t size;
	int err;

	err = read_u64(pid, dict + head_growth(o) + DICT_KEYS, &keys);
	if (!err)
		err = read_u64(pid, dict + head_growth(o) + DICT_VALUES, &values);
	if (!err)
		err = remote_read(pid, keys, hdr, sizeof(hdr));
	if (!err && values)
		err = -EINVAL;
	if (!err)
		err = lockmethods__dict_entries(hdr, &entries_off, &size, &n);
	for (uint64_t first = 0; !err && first < n; first += ENTRIES_PER_READ) {
		uint64_t count = n - first < ENTRIES_PER_READ ? n - first : ENTRIES_PER_READ;

		err = remote_read(pid, keys + entries_off + first * size, entries, count * size);
		for (uint64_t i = 0; !err && i < count; i++) {
			const uint8_t *e = entries + i * size + (size == 24 ? 8 : 0);
			uint64_t k = le64(e), v = le64(e + 8);

			/* Deleted entries have no key; keys that are not str do not read. */
			if (!k || !v || pyobj__read_str(pid, k, o, key, sizeof(key)) ||
			    strcmp(key, name))
				continue;
			*value = v;
			return 0;
		}
	}
	return err ? err : -ENOENT;
}

/* The functions of a type's methods named in names[] (out[i] = 0 when absent); -ENOENT unless
 * the first two were found. */
static int type_methods(pid_t pid, uint64_t type, const struct lp_pyoffsets *o,
			const char *const *names, uint64_t *out, int n)
{
	uint8_t def[METHODDEF_SIZE];
	uint64_t table;
	char name[24];
	int err = read_u64(pid, type + head_growth(o) + TYPE_METHODS, &table);

	memset(out, 0, sizeof(*out) * (size_t)n);
	for (int i = 0; !err && table && i < MAX_METHODS; i++) {
		uint64_t name_ptr;

		err = remote_read(pid, table + (uint64_t)i * METHODDEF_SIZE, def, sizeof(def));
		name_ptr = err ? 0 : le64(def);
		if (!name_ptr)
			break; /* the sentinel */
		memset(name, 0, sizeof(name));
		/* Names may end near the end of a mapping: read what is there. */
		for (size_t len = sizeof(name) - 1; len && remote_read(pid, name_ptr, name, len);
		     len /= 2)
			memset(name, 0, sizeof(name));
		for (int k = 0; k < n; k++)
			if (!strcmp(name, names[k]))
				out[k] = le64(def + 8);
	}
	return out[0] && out[1] ? 0 : -ENOENT;
}

int lockmethods__find(pid_t pid, uint64_t runtime_addr, const struct lp_pyoffsets *o,
		      struct lp_lock_methods *out)
{
	uint64_t interp, modules, thread_module, namespace, type;
	int err;

	memset(out, 0, sizeof(*out));
	if (!o->interp_modules)
		return -ENOTSUP;
	err = read_u64(pid, runtime_addr + (uint64_t)o->walk.runtime_interp_head, &interp);
	if (!err)
		err = read_u64(pid, interp + (uint64_t)o->interp_modules, &modules);
	if (!err)
		err = dict_get(pid, modules, o, "_thread", &thread_module);
	if (!err)
		err = read_u64(pid, thread_module + head_growth(o) + MODULE_DICT, &namespace);
	if (!err)
		err = dict_get(pid, namespace, o, "LockType", &type);
	if (!err) {
		static const char *const names[] = { "acquire", "release" };
		uint64_t f[2];

		err = type_methods(pid, type, o, names, f, 2);
		out->lock_acquire = f[0];
		out->lock_release = f[1];
	}
	if (err)
		return err;
	if (!dict_get(pid, namespace, o, "RLock", &type)) {
		static const char *const names[] = { "acquire", "release", "_release_save",
						     "_acquire_restore" };
		uint64_t f[4];

		if (!type_methods(pid, type, o, names, f, 4)) {
			out->rlock_acquire = f[0];
			out->rlock_release = f[1];
			out->rlock_release_save = f[2];
			out->rlock_acquire_restore = f[3];
		}
	}
	return 0;
}

size_t lockmethods__count_code_refs(const uint8_t *code, size_t len, uint64_t code_vaddr,
				    uint64_t func_vaddr)
{
	size_t refs = 0;

	for (size_t i = 0; i + 4 <= len; i++) {
		int32_t disp;
		uint32_t imm;

		memcpy(&imm, code + i, 4);
		disp = (int32_t)imm;
		if (func_vaddr <= UINT32_MAX && imm == (uint32_t)func_vaddr) {
			refs++;
			continue;
		}
		if (code_vaddr + i + 4 + (uint64_t)(int64_t)disp != func_vaddr)
			continue;
		/* call/jmp rel32 (E8/E9) and jcc rel32 (0F 8x) enter the function: not a copy. */
		if (i >= 1 && (code[i - 1] == 0xe8 || code[i - 1] == 0xe9))
			continue;
		if (i >= 2 && code[i - 2] == 0x0f && (code[i - 1] & 0xf0) == 0x80)
			continue;
		refs++;
	}
	return refs;
}
