// SPDX-License-Identifier: GPL-2.0
/* The run's table of symbolized stacks. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "profile/stacktab.h"
#include "util/u64map.h"

struct lp_stacktab {
	struct u64map by_id; /* stack id -> struct lp_stack_sym * */
};

struct lp_stacktab *stacktab__new(void)
{
	return calloc(1, sizeof(struct lp_stacktab));
}

void stacktab__free(struct lp_stacktab *t)
{
	if (!t)
		return;
	u64map__for_each(&t->by_id, i)
		free(t->by_id.values[i]);
	u64map__free(&t->by_id);
	free(t);
}

static struct lp_stack_sym *new_stack(uint64_t id, uint32_t depth, bool truncated)
{
	struct lp_stack_sym *st;

	if (depth > LP_MAX_FRAMES)
		depth = LP_MAX_FRAMES;
	st = calloc(1, sizeof(*st) + depth * sizeof(st->frames[0]));
	if (!st)
		return NULL;
	st->id = id;
	st->depth = depth;
	st->truncated = truncated;
	return st;
}

static int keep(struct lp_stacktab *t, struct lp_stack_sym *st)
{
	if (u64map__put(&t->by_id, st->id, st)) {
		free(st);
		return -ENOMEM;
	}
	return 0;
}

/* 3.12+ pushes the interpreter's own _Py_InitCleanup code (named "__init__", file "__init__",
 * no line) below a class's __init__ frame to check its result: not the program's code, and no
 * source line to show, so it is left out as the C-stack shims are in BPF. */
static void drop_shims(struct lp_stack_sym *st)
{
	uint32_t kept = 0;

	for (uint32_t i = 0; i < st->depth; i++) {
		const struct lp_frame_sym *f = &st->frames[i];

		if (!strcmp(f->file, "__init__") && !strcmp(f->function, "__init__"))
			continue;
		st->frames[kept++] = *f;
	}
	st->depth = kept;
}

int stacktab__add(struct lp_stacktab *t, const struct lp_stack *raw, struct lp_symbolizer *s)
{
	struct lp_stack_sym *st;

	if (!raw->stack_id || u64map__get(&t->by_id, raw->stack_id))
		return 0;
	st = new_stack(raw->stack_id, raw->depth, raw->truncated);
	if (!st)
		return -ENOMEM;
	/* Now, while the target is alive: its code objects may be gone by report time. */
	for (uint32_t i = 0; i < st->depth; i++)
		symbolizer__frame(s, raw->frames[i].code, raw->frames[i].instr, &st->frames[i]);
	drop_shims(st);
	return keep(t, st);
}

int stacktab__insert(struct lp_stacktab *t, uint64_t id, const struct lp_frame_sym *frames,
		     uint32_t depth, bool truncated)
{
	struct lp_stack_sym *st;

	if (!id || u64map__get(&t->by_id, id))
		return 0;
	st = new_stack(id, depth, truncated);
	if (!st)
		return -ENOMEM;
	memcpy(st->frames, frames, st->depth * sizeof(st->frames[0]));
	return keep(t, st);
}

const struct lp_stack_sym *stacktab__get(const struct lp_stacktab *t, uint64_t id)
{
	return t && id ? u64map__get(&t->by_id, id) : NULL;
}
