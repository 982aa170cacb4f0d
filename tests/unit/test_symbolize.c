// SPDX-License-Identifier: GPL-2.0
/* Code objects freed and others made at their address (src/symbolize/symbolize.c): what
 * identifies a code object in its header, and the symbolizer's cache checked against it. The
 * code objects are fakes in this process's own memory, read back through process_vm_readv on
 * ourselves, for the layout of every supported CPython. */
#include <stdlib.h>
#include <unistd.h>

#include "symbolize/symbolize.h"
#include "testing.h"

/* kind 1, compact, ascii: from the bit state.kind starts at */
#define STR_STATE_COMPACT_ASCII(o) (((1u << 0) | (1u << 3) | (1u << 4)) << (o)->unicode_kind_shift)
#define BYTES_SIZE(o) ((o)->object_head)
#define BYTES_DATA(o) ((o)->object_head + 16)
#define TYPE_NAME(o) ((o)->type_name)
#define OBJ_TYPE (o->code.object_type)
#define SIZE_WORD (o->code.size_word)
#define HDR_MAX 256 /* every code offset of the tables is below it */

static void *blocks[64];
static size_t nblocks;

static uint8_t *block(size_t size)
{
	uint8_t *p = calloc(1, size);

	if (!p)
		abort();
	blocks[nblocks++] = p;
	return p;
}

static void free_blocks(void)
{
	while (nblocks)
		free(blocks[--nblocks]);
}

static void put64(uint8_t *at, uint64_t v)
{
	memcpy(at, &v, sizeof(v));
}

static void put32(uint8_t *at, int32_t v)
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
	uint32_t state = STR_STATE_COMPACT_ASCII(o);

	put64(p + o->unicode_length, n);
	memcpy(p + o->unicode_state, &state, sizeof(state));
	memcpy(p + o->unicode_ascii_data, s, n);
	return addr(p);
}

/* An empty bytes object: every instruction is then on co_firstlineno. */
static uint64_t make_bytes(const struct lp_pyoffsets *o)
{
	uint8_t *p = block((size_t)BYTES_DATA(o) + 1);

	put64(p + BYTES_SIZE(o), 0);
	return addr(p);
}

static uint64_t make_code_type(const struct lp_pyoffsets *o)
{
	static const char name[] = "code";
	uint8_t *t = block((size_t)TYPE_NAME(o) + 8);

	put64(t + TYPE_NAME(o), addr(name));
	return addr(t);
}

/* Writes a code object named `name`, from `file`, at `code` (what CPython does when it makes a
 * code object in a block another one was freed from). */
static void write_code(const struct lp_pyoffsets *o, uint8_t *code, uint64_t type, const char *name,
		       const char *file, int firstlineno, uint64_t size_word)
{
	const struct lp_code_offsets *co = &o->code;

	memset(code, 0, HDR_MAX);
	put64(code, 1); /* ob_refcnt */
	put64(code + OBJ_TYPE, type);
	put64(code + SIZE_WORD, size_word);
	put32(code + co->firstlineno, firstlineno);
	put64(code + co->name, make_str(o, name));
	if (co->qualname >= 0)
		put64(code + co->qualname, make_str(o, name));
	put64(code + co->filename, make_str(o, file));
	put64(code + co->linetable, make_bytes(o));
}

/* The raw instruction field of a frame at the code's first instruction. */
static uint64_t first_instr(const struct lp_pyoffsets *o, const uint8_t *code)
{
	return o->code.instr_kind == LP_INSTR_POINTER ? addr(code) + (uint64_t)o->code.code_adaptive
						      : 0;
}

static void check_frame(const struct lp_frame_sym *f, const char *function, const char *file,
			int line, const char *what)
{
	CHECK_EQ_STR(f->function, function, what);
	CHECK_EQ_STR(f->file, file, what);
	CHECK_EQ_INT(f->line, line, what);
}

/* Each field of the identity tells code objects apart; the reference count does not. */
static void test_ident(const struct lp_pyoffsets *o)
{
	const struct lp_code_offsets *co = &o->code;
	const int fields[] = { OBJ_TYPE,     SIZE_WORD,	   co->name,
			       co->qualname, co->filename, co->linetable };
	uint8_t hdr[HDR_MAX], other[HDR_MAX];
	struct lp_code_ident a, b;

	for (size_t i = 0; i < sizeof(hdr); i++)
		hdr[i] = (uint8_t)(i * 7 + 1);
	symbolize__code_ident(co, hdr, &a);
	symbolize__code_ident(co, hdr, &b);
	CHECK(symbolize__same_code(&a, &b), "3.%d: a header is itself", o->minor);
	if (co->qualname < 0)
		CHECK_EQ_INT(a.qualname, 0, "no co_qualname before 3.11");

	memcpy(other, hdr, sizeof(hdr));
	put64(other, 12345); /* ob_refcnt changes all the time */
	symbolize__code_ident(co, other, &b);
	CHECK(symbolize__same_code(&a, &b), "3.%d: only the reference count changed", o->minor);

	for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
		if (fields[f] < 0)
			continue;
		memcpy(other, hdr, sizeof(hdr));
		other[fields[f] + 3] ^= 0x10;
		symbolize__code_ident(co, other, &b);
		CHECK(!symbolize__same_code(&a, &b), "3.%d: field at offset %d changed", o->minor,
		      fields[f]);
	}
	memcpy(other, hdr, sizeof(hdr));
	put32(other + co->firstlineno, 99999);
	symbolize__code_ident(co, other, &b);
	CHECK(!symbolize__same_code(&a, &b), "3.%d: co_firstlineno changed", o->minor);
}

/* A code object symbolized, freed, and another made at its address: the second is named after
 * itself, and what the first was named stays valid (stacks symbolized earlier keep it). */
static void test_reuse(const struct lp_pyoffsets *o)
{
	struct lp_symbolizer *s = symbolizer__new(getpid(), o);
	uint64_t type = make_code_type(o);
	uint8_t *code = block(HDR_MAX), *other_type = block((size_t)TYPE_NAME(o) + 8);
	struct lp_frame_sym a, again, b, c;
	static const char none[] = "None";
	char what[64];

	if (!s)
		abort();
	snprintf(what, sizeof(what), "3.%d", o->minor);
	write_code(o, code, type, "wait_a", "fileA.py", 10, 40);
	symbolizer__frame(s, addr(code), first_instr(o, code), &a);
	check_frame(&a, "wait_a", "fileA.py", 10, what);

	/* Unchanged but for its reference count: served from the cache, the same strings. */
	put64(code, 7);
	symbolizer__frame(s, addr(code), first_instr(o, code), &again);
	CHECK(again.function == a.function && again.file == a.file, "%s: cache hit", what);

	write_code(o, code, type, "wait_b", "fileB.py", 20, 40);
	symbolizer__frame(s, addr(code), first_instr(o, code), &b);
	check_frame(&b, "wait_b", "fileB.py", 20, what);
	check_frame(&a, "wait_a", "fileA.py", 10, what); /* still valid: not freed */

	/* Same name and file objects, another length: another code object all the same. */
	put64(code + SIZE_WORD, 41);
	symbolizer__frame(s, addr(code), first_instr(o, code), &c);
	check_frame(&c, "wait_b", "fileB.py", 20, what);
	CHECK(c.function != b.function, "%s: symbolized again", what);
	CHECK_EQ_INT(symbolizer__failures(s), 0, "no failures so far");

	/* Something other than a code object there now: nothing is named after the old one. */
	put64(other_type + TYPE_NAME(o), addr(none));
	put64(code + OBJ_TYPE, addr(other_type));
	symbolizer__frame(s, addr(code), first_instr(o, code), &c);
	check_frame(&c, "<unknown>", "<unknown>", 0, what);
	CHECK_EQ_INT(symbolizer__failures(s), 1, "the unknown frame is counted");
	check_frame(&b, "wait_b", "fileB.py", 20, what);

	/* And a code object again. */
	write_code(o, code, type, "wait_c", "fileC.py", 30, 40);
	symbolizer__frame(s, addr(code), first_instr(o, code), &c);
	check_frame(&c, "wait_c", "fileC.py", 30, what);

	symbolizer__free(s);
	free_blocks();
}

int main(void)
{
	for (int m = pyoffsets__min_minor(); m <= pyoffsets__max_minor(); m++) {
		const struct lp_pyoffsets *o = pyoffsets__for(3, m);
		const struct lp_pyoffsets *ft = pyoffsets__for_build(3, m, true);

		test_ident(o);
		test_reuse(o);
		/* Free-threaded layouts: longer headers, 3.14t's interned byte. */
		if (ft) {
			test_ident(ft);
			test_reuse(ft);
		}
	}
	return testing_summary("symbolize");
}
