// SPDX-License-Identifier: GPL-2.0
/* Code object reading and caching for symbolization. Code objects can be freed and their address
 * reused: a cached symbolization is served only after the header at its address was read again
 * and still identifies the same code object (one read per frame of each new stack). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "symbolize/linetable.h"
#include "symbolize/symbolize.h"
#include "target/pyobj.h"
#include "util/u64map.h"

/* The 8 bytes after a code object's PyObject header (code.size_word): ob_size, its length in code
 * units (3.11+), or co_argcount and co_posonlyargcount (3.8-3.10). Set at creation, compared on
 * reuse. */
#define CODE_HDR_MAX 256
#define TLBC_MAX 256 /* per-thread bytecode copies looked through (3.14t) */

struct code_info {
	struct code_info *older; /* earlier code objects at this address: stacks name them */
	struct lp_code_ident ident;
	bool valid;
	int firstlineno;
	char *function;
	char *file;
	uint8_t *linetable;
	size_t linetable_len;
};

struct lp_symbolizer {
	pid_t pid;
	const struct lp_pyoffsets *o;
	struct u64map codes; /* code address -> struct code_info */
	uint64_t code_type;  /* address of PyCode_Type once seen */
	uint64_t failures;
};

static const char unknown[] = "<unknown>";

struct lp_symbolizer *symbolizer__new(pid_t pid, const struct lp_pyoffsets *o)
{
	struct lp_symbolizer *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->pid = pid;
	s->o = o;
	return s;
}

static void free_code_info(struct code_info *ci)
{
	free(ci->function);
	free(ci->file);
	free(ci->linetable);
	free(ci);
}

void symbolizer__free(struct lp_symbolizer *s)
{
	if (!s)
		return;
	u64map__for_each(&s->codes, i) {
		struct code_info *ci = s->codes.values[i];

		while (ci) {
			struct code_info *older = ci->older;

			free_code_info(ci);
			ci = older;
		}
	}
	u64map__free(&s->codes);
	free(s);
}

uint64_t symbolizer__failures(const struct lp_symbolizer *s)
{
	return s->failures;
}

static uint64_t load_ptr(const uint8_t *hdr, int off)
{
	uint64_t v;

	if (off < 0)
		return 0;
	memcpy(&v, hdr + off, sizeof(v));
	return v;
}

void symbolize__code_ident(const struct lp_code_offsets *co, const uint8_t *hdr,
			   struct lp_code_ident *id)
{
	int32_t firstlineno;

	id->type = load_ptr(hdr, co->object_type);
	id->size_word = load_ptr(hdr, co->size_word);
	id->name = load_ptr(hdr, co->name);
	id->qualname = load_ptr(hdr, co->qualname);
	id->filename = load_ptr(hdr, co->filename);
	id->linetable = load_ptr(hdr, co->linetable);
	memcpy(&firstlineno, hdr + co->firstlineno, sizeof(firstlineno));
	id->firstlineno = firstlineno;
}

bool symbolize__same_code(const struct lp_code_ident *a, const struct lp_code_ident *b)
{
	return a->type == b->type && a->size_word == b->size_word && a->name == b->name &&
	       a->qualname == b->qualname && a->filename == b->filename &&
	       a->linetable == b->linetable && a->firstlineno == b->firstlineno;
}

/* True when type is PyCode_Type (f_executable may be None or another object in 3.13+). */
static bool is_code_type(struct lp_symbolizer *s, uint64_t type)
{
	char name[8];
	uint64_t name_ptr;

	if (s->code_type)
		return type == s->code_type;
	if (remote_read(s->pid, type + (uint64_t)s->o->type_name, &name_ptr, sizeof(name_ptr)) ||
	    remote_read(s->pid, name_ptr, name, 5))
		return false;
	if (memcmp(name, "code", 5))
		return false;
	s->code_type = type;
	return true;
}

static int max_int(int a, int b)
{
	return a > b ? a : b;
}

/* Bytes of the code object header that hold every field read: reading more could run off the
 * end of a mapping; more than CODE_HDR_MAX means offsets we do not believe. */
static size_t code_hdr_len(const struct lp_code_offsets *co)
{
	int n = max_int(max_int(co->size_word, co->object_type) + 8, co->firstlineno + 4);

	n = max_int(n, max_int(co->filename, max_int(co->name, co->qualname)) + 8);
	n = max_int(n, co->linetable + 8);
	return co->firstlineno < 0 || co->size_word < 0 || co->object_type < 0 ||
			       co->filename < 0 || co->name < 0 || co->linetable < 0 ||
			       n > CODE_HDR_MAX
		       ? 0
		       : (size_t)n;
}

/* Symbolizes the code object whose header, identified by `ident`, was just read. */
static void read_code(struct lp_symbolizer *s, const struct lp_code_ident *ident,
		      struct code_info *ci)
{
	char buf[LP_PYSTR_MAX];

	ci->ident = *ident;
	if (!is_code_type(s, ident->type))
		return;
	ci->firstlineno = ident->firstlineno;
	if (pyobj__read_str(s->pid, s->o->code.qualname >= 0 ? ident->qualname : ident->name, s->o,
			    buf, sizeof(buf)))
		return;
	ci->function = strdup(buf);
	if (pyobj__read_str(s->pid, ident->filename, s->o, buf, sizeof(buf)))
		return;
	ci->file = strdup(buf);
	/* Without a line table the frame still names its function, at co_firstlineno. */
	pyobj__read_bytes(s->pid, ident->linetable, s->o, &ci->linetable, &ci->linetable_len);
	ci->valid = ci->function && ci->file;
}

int64_t symbolize__byte_offset(const struct lp_pyoffsets *o, uint64_t code, uint64_t instr)
{
	uint64_t base;

	switch (o->code.instr_kind) {
	case LP_INSTR_BYTES:
		return (int32_t)instr;
	case LP_INSTR_UNITS:
		return (int64_t)(int32_t)instr * 2;
	case LP_INSTR_POINTER:
		base = code + (uint64_t)o->code.code_adaptive;
		if (instr < base || instr - base > (1u << 30))
			return -1;
		return (int64_t)(instr - base);
	}
	return -1;
}

/* 3.14t: a thread runs its own copy of the bytecode (thread-local bytecode), so the frame's
 * instruction pointer may be in one of co_tlbc's entries rather than in co_code_adaptive (entry 0).
 * The byte offset in the copy that holds it; -1 when none does. */
static int64_t tlbc_byte_offset(struct lp_symbolizer *s, uint64_t code, uint64_t code_units,
				uint64_t instr)
{
	uint64_t array, entries[TLBC_MAX];
	int64_t n;

	if (s->o->code.tlbc < 0 || !code_units || code_units > (1u << 28) ||
	    remote_read(s->pid, code + (uint64_t)s->o->code.tlbc, &array, sizeof(array)) ||
	    remote_read(s->pid, array, &n, sizeof(n)) || n <= 0)
		return -1;
	if (n > TLBC_MAX)
		n = TLBC_MAX;
	/* _PyCodeArray: Py_ssize_t size, then the entries' addresses. */
	if (remote_read(s->pid, array + 8, entries, (size_t)n * sizeof(entries[0])))
		return -1;
	for (int64_t i = 0; i < n; i++)
		if (entries[i] && instr >= entries[i] && instr - entries[i] < code_units * 2)
			return (int64_t)(instr - entries[i]);
	return -1;
}

/* Symbolizes the code object now at `code` (ident: its header) and makes it the cached one; the
 * entry it replaces is kept, as stacks symbolized earlier point to its strings. NULL when it
 * cannot be read: that is not cached, it may be transient (an object being set up). */
static struct code_info *resymbolize(struct lp_symbolizer *s, uint64_t code,
				     const struct lp_code_ident *ident, struct code_info *old)
{
	struct code_info *ci = calloc(1, sizeof(*ci));

	if (!ci)
		return NULL;
	read_code(s, ident, ci);
	if (!ci->valid || u64map__put(&s->codes, code, ci)) {
		free_code_info(ci);
		return NULL;
	}
	ci->older = old;
	if (old) {
		/* Only its names are still referenced. */
		free(old->linetable);
		old->linetable = NULL;
	}
	return ci;
}

/*
 * The cache is checked against the header at the address each time, which costs one read: a
 * code object freed and another made at its address is then symbolized afresh. What can still
 * fool it is a new code object whose type, size word, name, qualname, filename and line-table
 * pointers and first line all equal the old one's: its name, file name and line-table objects
 * reused at the old ones' addresses too. And a stack the BPF side keys as an older one (same
 * code, instruction, function object and globals addresses) is not announced again at all.
 * Code objects are read when user space takes the stack off the ring buffer, a moment after the
 * wait: one replaced in that moment names the stack after its replacement. Once the target is
 * gone nothing can be read: the cache is served as it is.
 */
void symbolizer__frame(struct lp_symbolizer *s, uint64_t code, uint64_t instr,
		       struct lp_frame_sym *out)
{
	const struct lp_code_offsets *co = &s->o->code;
	struct code_info *ci = u64map__get(&s->codes, code);
	size_t hdr_len = code_hdr_len(co);
	uint8_t hdr[CODE_HDR_MAX];
	struct lp_code_ident now;
	int64_t offset;
	int line = -1;
	int err;

	err = hdr_len ? remote_read(s->pid, code, hdr, hdr_len) : -EINVAL;
	if (!err) {
		symbolize__code_ident(co, hdr, &now);
		if (!ci || !symbolize__same_code(&ci->ident, &now))
			ci = resymbolize(s, code, &now, ci);
	} else if (err != -ESRCH) {
		ci = NULL; /* nothing to check it against: no code object lives there now */
	}
	if (!ci) {
		s->failures++;
		out->function = unknown;
		out->file = unknown;
		out->line = 0;
		return;
	}
	out->function = ci->function;
	out->file = ci->file;
	offset = symbolize__byte_offset(s->o, code, instr);
	if (offset >= 0 && s->o->code.tlbc >= 0 && (uint64_t)offset >= ci->ident.size_word * 2)
		offset = -1; /* past co_code_adaptive: in another thread's copy */
	if (offset < 0 && !err)
		offset = tlbc_byte_offset(s, code, ci->ident.size_word, instr);
	if (offset >= 0 && offset <= UINT32_MAX && ci->linetable)
		line = linetable__line_for_offset(s->o->code.linetable_format, ci->linetable,
						  ci->linetable_len, ci->firstlineno,
						  (uint32_t)offset);
	/* co_firstlineno comes from the target too: anything below 1 is no line. */
	out->line = line > 0 ? line : ci->firstlineno > 0 ? ci->firstlineno : 0;
}
