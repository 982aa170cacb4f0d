// SPDX-License-Identifier: GPL-2.0
/* Finding Lock's and RLock's method functions (src/lockmethods.c) in a fake CPython 3.14 heap
 * built in this process's own memory and read back through process_vm_readv on ourselves:
 * _PyRuntime -> interpreter -> sys.modules -> _thread -> its namespace -> the types -> their
 * method tables. Then damaged versions of it, the dict-keys header decoder, and the scan for
 * inlined copies on hand-assembled x86-64 code. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "probes/lockmethods.h"
#include "testing.h"

/* Layouts the finder reads (3.13/3.14 default builds), as src/lockmethods.c spells them. */
#define STR_LENGTH 16
#define STR_STATE 32
#define STR_STATE_COMPACT_ASCII ((1u << 2) | (1u << 5) | (1u << 6)) /* kind 1, compact, ascii */
#define DICT_KEYS 32
#define KEYS_LOG2_INDEX_BYTES 9
#define KEYS_KIND 10
#define KEYS_NENTRIES 24
#define KEYS_INDEX_BYTES 8 /* 2^3 */
#define MODULE_DICT 16
#define TYPE_METHODS 232

static void *blocks[256];
static size_t nblocks;

static uint8_t *block(size_t size)
{
	uint8_t *p = calloc(1, size);

	if (!p)
		abort();
	blocks[nblocks++] = p;
	return p;
}

static void put64(uint8_t *at, uint64_t v)
{
	memcpy(at, &v, sizeof(v));
}

static uint64_t addr(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

static uint64_t make_str(const struct lp_pyoffsets *o, const char *s)
{
	size_t n = strlen(s);
	uint8_t *p = block((size_t)o->unicode_ascii_data + n + 1);
	uint32_t state = STR_STATE_COMPACT_ASCII;

	put64(p + STR_LENGTH, n);
	memcpy(p + STR_STATE, &state, sizeof(state));
	memcpy(p + o->unicode_ascii_data, s, n);
	return addr(p);
}

/* A dict of n entries (keys[i] == 0: a deleted entry); general: 24-byte entries with a hash. */
static uint64_t make_dict(const uint64_t *keys, const uint64_t *values, size_t n, bool general)
{
	size_t entry = general ? 24 : 16;
	uint8_t *dict = block(48), *k = block(32 + KEYS_INDEX_BYTES + n * entry);

	k[KEYS_LOG2_INDEX_BYTES] = 3;
	k[KEYS_KIND] = general ? 0 : 1;
	put64(k + KEYS_NENTRIES, n);
	for (size_t i = 0; i < n; i++) {
		uint8_t *e = k + 32 + KEYS_INDEX_BYTES + i * entry + (general ? 8 : 0);

		put64(e, keys[i]);
		put64(e + 8, values[i]);
	}
	put64(dict + DICT_KEYS, addr(k));
	return addr(dict);
}

/* A type whose method table has the names given, ml_meth = base + index. */
static uint64_t make_type(const char *const *names, size_t n, uint64_t base)
{
	uint8_t *type = block(TYPE_METHODS + 8), *table = block((n + 1) * 32);

	for (size_t i = 0; i < n; i++) {
		put64(table + i * 32, addr(names[i]));
		put64(table + i * 32 + 8, base + i);
	}
	put64(type + TYPE_METHODS, addr(table));
	return addr(type);
}

struct fake_interp {
	uint64_t runtime, modules, namespace;
};

/* sys.modules = {"sys": 1, <deleted>, "_thread": module}; module namespace {"allocate_lock": 2,
 * "LockType": lock type, "RLock": rlock type}. */
static struct fake_interp build(const struct lp_pyoffsets *o, bool general_namespace)
{
	static const char *const lock_names[] = { "acquire_lock", "acquire", "release_lock",
						  "release",	  "locked",  "__enter__",
						  "__exit__" };
	static const char *const rlock_names[] = { "acquire", "_is_owned", "release",
						   "_release_save", "_acquire_restore" };
	uint64_t lock_type = make_type(lock_names, 7, 0x1000);
	uint64_t rlock_type = make_type(rlock_names, 5, 0x2000);
	uint64_t ns_keys[] = { make_str(o, "allocate_lock"), make_str(o, "LockType"),
			       make_str(o, "RLock") };
	uint64_t ns_values[] = { 2, lock_type, rlock_type };
	uint8_t *module = block(48), *interp = block((size_t)o->interp_modules + 8);
	uint8_t *runtime = block((size_t)o->walk.runtime_interp_head + 8);
	struct fake_interp f;

	f.namespace = make_dict(ns_keys, ns_values, 3, general_namespace);
	put64(module + MODULE_DICT, f.namespace);
	{
		uint64_t keys[] = { make_str(o, "sys"), 0, make_str(o, "_thread") };
		uint64_t values[] = { 1, 0, addr(module) };

		f.modules = make_dict(keys, values, 3, false);
	}
	put64(interp + o->interp_modules, f.modules);
	put64(runtime + o->walk.runtime_interp_head, addr(interp));
	f.runtime = addr(runtime);
	return f;
}

static void free_blocks(void)
{
	while (nblocks)
		free(blocks[--nblocks]);
}

static void test_find(const struct lp_pyoffsets *o)
{
	struct lp_lock_methods m;
	struct fake_interp f;

	for (int general = 0; general <= 1; general++) {
		f = build(o, general);
		CHECK_EQ_INT(lockmethods__find(getpid(), f.runtime, o, &m), 0, "find");
		CHECK_EQ_INT(m.lock_acquire, 0x1001, "Lock.acquire (not acquire_lock)");
		CHECK_EQ_INT(m.lock_release, 0x1003, "Lock.release");
		CHECK_EQ_INT(m.rlock_acquire, 0x2000, "RLock.acquire");
		CHECK_EQ_INT(m.rlock_release, 0x2002, "RLock.release");
		CHECK_EQ_INT(m.rlock_release_save, 0x2003, "RLock._release_save");
		CHECK_EQ_INT(m.rlock_acquire_restore, 0x2004, "RLock._acquire_restore");
		free_blocks();
	}
}

static void test_damaged(const struct lp_pyoffsets *o)
{
	struct lp_lock_methods m;
	struct fake_interp f;
	uint8_t *keys;

	/* No interpreter. */
	f = build(o, false);
	put64((uint8_t *)(uintptr_t)f.runtime + o->walk.runtime_interp_head, 0);
	CHECK(lockmethods__find(getpid(), f.runtime, o, &m) < 0, "NULL interpreter");
	free_blocks();

	/* A dict-keys header no sys.modules has: refused, nothing read past it. */
	f = build(o, false);
	memcpy(&keys, (uint8_t *)(uintptr_t)f.modules + DICT_KEYS, sizeof(keys));
	keys[KEYS_LOG2_INDEX_BYTES] = 60;
	CHECK_EQ_INT(lockmethods__find(getpid(), f.runtime, o, &m), -EINVAL, "index bytes 2^60");
	keys[KEYS_LOG2_INDEX_BYTES] = 3;
	keys[KEYS_KIND] = 2; /* split */
	CHECK_EQ_INT(lockmethods__find(getpid(), f.runtime, o, &m), -EINVAL, "split keys");
	keys[KEYS_KIND] = 1;
	put64(keys + KEYS_NENTRIES, 1); /* "_thread" is the third entry */
	CHECK_EQ_INT(lockmethods__find(getpid(), f.runtime, o, &m), -ENOENT, "no _thread");
	CHECK_EQ_INT(m.lock_acquire, 0, "nothing found");
	free_blocks();

	/* LockType without a release method. */
	{
		static const char *const names[] = { "acquire", "locked" };
		uint64_t lock_type = make_type(names, 2, 0x3000);
		uint8_t *ns_keys;

		f = build(o, false);
		memcpy(&ns_keys, (uint8_t *)(uintptr_t)f.namespace + DICT_KEYS, sizeof(ns_keys));
		put64(ns_keys + 32 + KEYS_INDEX_BYTES + 16 + 8, lock_type); /* entry 1's value */
		CHECK_EQ_INT(lockmethods__find(getpid(), f.runtime, o, &m), -ENOENT, "no release");
		free_blocks();
	}

	/* An interpreter lockprof has no sys.modules offset for. */
	{
		struct lp_pyoffsets old = *o;

		old.interp_modules = 0;
		CHECK_EQ_INT(lockmethods__find(getpid(), 0x1000, &old, &m), -ENOTSUP, "no offset");
	}
}

static void test_dict_entries(void)
{
	uint8_t hdr[LP_DICT_KEYS_HEADER] = { 0 };
	uint64_t off, n;
	size_t size;

	hdr[KEYS_LOG2_INDEX_BYTES] = 7;
	hdr[KEYS_KIND] = 1;
	put64(hdr + KEYS_NENTRIES, 85);
	CHECK_EQ_INT(lockmethods__dict_entries(hdr, &off, &size, &n), 0, "unicode keys");
	CHECK(off == 32 + 128 && size == 16 && n == 85, "off %" PRIu64 " size %zu n %" PRIu64, off,
	      size, n);
	hdr[KEYS_KIND] = 0;
	CHECK_EQ_INT(lockmethods__dict_entries(hdr, &off, &size, &n), 0, "general keys");
	CHECK_EQ_INT(size, 24, "general entries carry the hash");
	put64(hdr + KEYS_NENTRIES, 1u << 20);
	CHECK_EQ_INT(lockmethods__dict_entries(hdr, &off, &size, &n), -EINVAL, "too many entries");
}

static void test_code_refs(void)
{
	const uint64_t base = 0x400000, func = 0x400100;
	uint8_t code[64];
	int32_t rel;

	memset(code, 0x90, sizeof(code));
	CHECK_EQ_INT(lockmethods__count_code_refs(code, sizeof(code), base, func), 0, "nops");
	/* cmp $0x400100,%rax: 48 3d imm32 (non-PIE promotion) */
	code[0] = 0x48;
	code[1] = 0x3d;
	memcpy(code + 2, &(uint32_t){ 0x400100 }, 4);
	CHECK_EQ_INT(lockmethods__count_code_refs(code, sizeof(code), base, func), 1, "cmp imm32");
	/* call rel32 to func at offset 10: e8 rel32, rel from the next instruction */
	code[10] = 0xe8;
	rel = (int32_t)(func - (base + 15));
	memcpy(code + 11, &rel, 4);
	CHECK_EQ_INT(lockmethods__count_code_refs(code, sizeof(code), base, func), 1,
		     "a direct call is no copy");
	/* jne rel32 to func: 0f 85 rel32 */
	code[20] = 0x0f;
	code[21] = 0x85;
	rel = (int32_t)(func - (base + 26));
	memcpy(code + 22, &rel, 4);
	CHECK_EQ_INT(lockmethods__count_code_refs(code, sizeof(code), base, func), 1,
		     "a conditional jump is no copy");
	/* lea func(%rip),%rdx: 48 8d 15 rel32 (PIE promotion); a PIE function is above 4 GiB */
	{
		const uint64_t pie = 0x7f0000000000ULL, pie_func = pie + 0x100;
		uint8_t pic[32];

		memset(pic, 0x90, sizeof(pic));
		pic[4] = 0x48;
		pic[5] = 0x8d;
		pic[6] = 0x15;
		rel = (int32_t)(pie_func - (pie + 11));
		memcpy(pic + 7, &rel, 4);
		CHECK_EQ_INT(lockmethods__count_code_refs(pic, sizeof(pic), pie, pie_func), 1,
			     "lea rip-relative");
		CHECK_EQ_INT(lockmethods__count_code_refs(pic, 10, pie, pie_func), 0,
			     "a displacement cut off by the end is not read");
	}
}

int main(void)
{
	const struct lp_pyoffsets *o = pyoffsets__for(3, 14);

	CHECK(o && o->interp_modules > 0, "3.14 table knows sys.modules");
	if (o) {
		test_find(o);
		test_damaged(o);
	}
	test_dict_entries();
	test_code_refs();
	return testing_summary("lockmethods");
}
