// SPDX-License-Identifier: GPL-2.0
/* Attributes of Python objects read from the target (a thread's Thread.name, a Condition's
 * lock). A Python thread's name (threading.Thread.name): `self` of its
 * Thread._bootstrap_inner frame is the Thread, whose `_name` attribute is looked up in the
 * instance's dict or, from 3.11, its dict-less attribute values and the class's shared keys.
 * Layouts: dump/layout.c; fields of objects (a dict's, a type's) are read past the header
 * lockprof's table gives (object_head). Every string is type-checked by the str reader, so a
 * wrong guess gives no name, never a wrong one. */
#include <errno.h>
#include <string.h>

#include "dump/layout.h"
#include "dump/threadname.h"
#include "target/pyobj.h"

#define MAX_ENTRIES 128
#define TP_DICTOFFSET 288 /* PyTypeObject.tp_dictoffset, 3.8-3.10 */

static int rd(pid_t pid, uint64_t addr, uint64_t *v)
{
	*v = 0;
	return addr ? remote_read(pid, addr, v, sizeof(*v)) : -EFAULT;
}

/* The index of key `attr` among a keys object's entries, or -1. */
static int find_key(pid_t pid, const struct lp_pyoffsets *o, uint64_t keys, bool old_layout,
		    const char *attr, uint64_t *entries, int *entry_size)
{
	uint64_t nentries, size;
	uint8_t hdr[16];
	char key[32];

	if (old_layout) {
		/* dk_refcnt, dk_size, dk_lookup, dk_usable, dk_nentries, dk_indices[] */
		if (rd(pid, keys + 8, &size) || rd(pid, keys + 32, &nentries) || size > 1 << 20)
			return -1;
		*entries = keys + 40 + size * (size <= 0xff ? 1 : size <= 0xffff ? 2 : 4);
		*entry_size = 24; /* hash, key, value */
	} else {
		/* dk_refcnt, dk_log2_size, dk_log2_index_bytes, dk_kind, ..., dk_nentries@24 */
		if (remote_read(pid, keys, hdr, sizeof(hdr)) || rd(pid, keys + 24, &nentries) ||
		    hdr[9] > 24)
			return -1;
		*entries = keys + 32 + (1ULL << hdr[9]);
		*entry_size = hdr[10] ? 16 : 24; /* unicode or split keys: key, value */
	}
	for (uint64_t i = 0; i < nentries && i < MAX_ENTRIES; i++) {
		uint64_t k;

		if (rd(pid, *entries + i * (uint64_t)*entry_size + (*entry_size == 24 ? 8 : 0), &k))
			return -1;
		if (k && !pyobj__read_str(pid, k, o, key, sizeof(key)) && !strcmp(key, attr))
			return (int)i;
	}
	return -1;
}

static int dict_lookup(pid_t pid, const struct lp_pyoffsets *o, const struct dump_layout *l,
		       uint64_t dict, const char *attr, uint64_t *value)
{
	uint64_t keys, values, entries;
	int size, i;

	uint64_t at = dict + (uint64_t)o->object_head + DUMP_DICT_KEYS_AFTER_HEAD;

	if (rd(pid, at, &keys) || rd(pid, at + 8, &values))
		return -EFAULT;
	i = find_key(pid, o, keys, l->minor <= 10, attr, &entries, &size);
	if (i < 0)
		return -ENOENT;
	if (values) /* a split table: the values apart, in key order */
		return rd(pid, values + (uint64_t)l->values_prefix + 8 * (uint64_t)i, value);
	return rd(pid, entries + (uint64_t)i * (uint64_t)size + (uint64_t)size - 8, value);
}

/* 3.11+ without a materialized dict: the values array and the class's shared keys. */
static int values_lookup(pid_t pid, const struct lp_pyoffsets *o, const struct dump_layout *l,
			 uint64_t type, uint64_t values, const char *attr, uint64_t *value)
{
	uint64_t keys, entries;
	int size, i;

	if (rd(pid, type + (uint64_t)l->ht_cached_keys, &keys) || !keys)
		return -EFAULT;
	i = find_key(pid, o, keys, false, attr, &entries, &size);
	if (i < 0)
		return -ENOENT;
	return rd(pid, values + (uint64_t)l->values_prefix + 8 * (uint64_t)i, value);
}

static int instance_attr(pid_t pid, const struct lp_pyoffsets *o, const struct dump_layout *l,
			 uint64_t obj, const char *attr, uint64_t *value)
{
	uint64_t type, p, basicsize;
	uint8_t valid;

	if (rd(pid, obj + (uint64_t)o->code.object_type, &type))
		return -EFAULT;
	if (l->minor <= 10) {
		int64_t off;

		if (rd(pid, type + TP_DICTOFFSET, (uint64_t *)&off) || off <= 0 || off > 4096 ||
		    rd(pid, obj + (uint64_t)off, &p) || !p)
			return -ENOENT;
		return dict_lookup(pid, o, l, p, attr, value);
	}
	/* the managed dict (3.12: dict or tagged values) */
	if (rd(pid, obj + (uint64_t)(int64_t)l->managed_dict, &p))
		return -EFAULT;
	if (l->minor == 11) {
		if (p)
			return dict_lookup(pid, o, l, p, attr, value);
		return rd(pid, obj - 32, &p) || !p ? -ENOENT
						   : values_lookup(pid, o, l, type, p, attr, value);
	}
	if (l->minor == 12)
		return !p      ? -ENOENT
		       : p & 1 ? values_lookup(pid, o, l, type, p + 1, attr, value)
			       : dict_lookup(pid, o, l, p, attr, value);
	if (p)
		return dict_lookup(pid, o, l, p, attr, value);
	/* 3.13+: values inline after the object, valid unless a dict took them over */
	if (rd(pid, type + (uint64_t)o->object_head + DUMP_TYPE_BASICSIZE_AFTER_HEAD, &basicsize) ||
	    basicsize > 4096 || remote_read(pid, obj + basicsize + 3, &valid, 1) || !valid)
		return -ENOENT;
	return values_lookup(pid, o, l, type, obj + basicsize, attr, value);
}

static const struct dump_layout *layout_for(const struct lp_pyoffsets *o)
{
	return dump_layout__for(o->minor, o->free_threaded);
}

int dump__instance_attr(pid_t pid, const struct lp_pyoffsets *o, uint64_t obj, const char *attr,
			uint64_t *value)
{
	const struct dump_layout *l = layout_for(o);

	*value = 0;
	if (!l || !obj)
		return -EINVAL;
	return instance_attr(pid, o, l, obj, attr, value) ? -ENOENT : (*value ? 0 : -ENOENT);
}

int dump__thread_name(pid_t pid, const struct lp_pyoffsets *o, uint64_t frame, char *out,
		      size_t len)
{
	const struct dump_layout *l = layout_for(o);
	uint64_t self, name;

	out[0] = '\0';
	if (!l || rd(pid, frame + (uint64_t)l->frame_localsplus, &self))
		return -EFAULT;
	self &= o->walk.code_mask; /* 3.14: a tagged _PyStackRef, like f_executable */
	if (!self || dump__instance_attr(pid, o, self, "_name", &name))
		return -ENOENT;
	return pyobj__read_str(pid, name, o, out, len);
}
