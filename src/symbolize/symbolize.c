// SPDX-License-Identifier: GPL-2.0
/* Code object reading and caching for symbolization. Code objects can be freed and their address
 * reused; lockprof symbolizes a stack as soon as BPF announces it, which keeps that window short. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "symbolize/linetable.h"
#include "symbolize/symbolize.h"
#include "target/pyobj.h"
#include "util/u64map.h"

#define PYOBJECT_TYPE_OFF 8 /* PyObject.ob_type */
#define PYTYPE_NAME_OFF 24  /* PyTypeObject.tp_name */
#define CODE_HDR_MAX 256

struct code_info {
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

void symbolizer__free(struct lp_symbolizer *s)
{
	if (!s)
		return;
	u64map__for_each(&s->codes, i) {
		struct code_info *ci = s->codes.values[i];

		free(ci->function);
		free(ci->file);
		free(ci->linetable);
		free(ci);
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

	memcpy(&v, hdr + off, sizeof(v));
	return v;
}

/* True when type is PyCode_Type (f_executable may be None or another object in 3.13+). */
static bool is_code_type(struct lp_symbolizer *s, uint64_t type)
{
	char name[8];
	uint64_t name_ptr;

	if (s->code_type)
		return type == s->code_type;
	if (remote_read(s->pid, type + PYTYPE_NAME_OFF, &name_ptr, sizeof(name_ptr)) ||
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
	int n = max_int(PYOBJECT_TYPE_OFF + 8, co->firstlineno + 4);

	n = max_int(n, max_int(co->filename, max_int(co->name, co->qualname)) + 8);
	n = max_int(n, co->linetable + 8);
	return co->firstlineno < 0 || co->filename < 0 || co->name < 0 || co->linetable < 0 ||
			       n > CODE_HDR_MAX
		       ? 0
		       : (size_t)n;
}

static void read_code(struct lp_symbolizer *s, uint64_t code, struct code_info *ci)
{
	const struct lp_code_offsets *co = &s->o->code;
	size_t hdr_len = code_hdr_len(co);
	uint8_t hdr[CODE_HDR_MAX];
	char buf[LP_PYSTR_MAX];
	int32_t firstlineno;
	uint64_t name_ptr;

	if (!hdr_len || remote_read(s->pid, code, hdr, hdr_len) ||
	    !is_code_type(s, load_ptr(hdr, PYOBJECT_TYPE_OFF)))
		return;
	memcpy(&firstlineno, hdr + co->firstlineno, sizeof(firstlineno));
	ci->firstlineno = firstlineno;
	name_ptr = load_ptr(hdr, co->qualname >= 0 ? co->qualname : co->name);
	if (pyobj__read_str(s->pid, name_ptr, s->o, buf, sizeof(buf)))
		return;
	ci->function = strdup(buf);
	if (pyobj__read_str(s->pid, load_ptr(hdr, co->filename), s->o, buf, sizeof(buf)))
		return;
	ci->file = strdup(buf);
	/* Without a line table the frame still names its function, at co_firstlineno. */
	pyobj__read_bytes(s->pid, load_ptr(hdr, co->linetable), &ci->linetable, &ci->linetable_len);
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

void symbolizer__frame(struct lp_symbolizer *s, uint64_t code, uint64_t instr,
		       struct lp_frame_sym *out)
{
	struct code_info *ci = u64map__get(&s->codes, code);
	int64_t offset;
	int line = -1;

	if (!ci) {
		ci = calloc(1, sizeof(*ci));
		if (ci) {
			read_code(s, code, ci);
			/* A failed read is not kept: it may be transient (an object being set up, a
			 * page out of reach), and the address may hold a live code object later. */
			if (!ci->valid || u64map__put(&s->codes, code, ci)) {
				free(ci->function);
				free(ci->file);
				free(ci->linetable);
				free(ci);
				ci = NULL;
			}
		}
	}
	if (!ci || !ci->valid) {
		s->failures++;
		out->function = unknown;
		out->file = unknown;
		out->line = 0;
		return;
	}
	out->function = ci->function;
	out->file = ci->file;
	offset = symbolize__byte_offset(s->o, code, instr);
	if (offset >= 0 && offset <= UINT32_MAX && ci->linetable)
		line = linetable__line_for_offset(s->o->code.linetable_format, ci->linetable,
						  ci->linetable_len, ci->firstlineno,
						  (uint32_t)offset);
	/* co_firstlineno comes from the target too: anything below 1 is no line. */
	out->line = line > 0 ? line : ci->firstlineno > 0 ? ci->firstlineno : 0;
}
