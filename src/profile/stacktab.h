/* SPDX-License-Identifier: GPL-2.0 */
/* The symbolized stacks BPF announced, by stack id. It lives for the whole run, apart from the
 * profiles built from it: BPF announces each stack once, but with -i every interval's profile
 * needs the stacks announced in earlier intervals. */
#ifndef LOCKPROF_SRC_STACKTAB_H
#define LOCKPROF_SRC_STACKTAB_H

#include <stdbool.h>
#include <stdint.h>

#include "lockprof/abi.h"
#include "symbolize/symbolize.h"

struct lp_stack_sym {
	uint64_t id;
	uint32_t depth;
	bool truncated;
	struct lp_frame_sym frames[]; /* leaf first */
};

struct lp_stacktab;

/* Returns an empty table, or NULL with errno set. */
struct lp_stacktab *stacktab__new(void);
void stacktab__free(struct lp_stacktab *t);

/* Symbolizes a stack BPF announced and keeps it. Duplicates and id 0 are ignored. 0 or -ENOMEM. */
int stacktab__add(struct lp_stacktab *t, const struct lp_stack *raw, struct lp_symbolizer *s);

/* Keeps an already symbolized stack (frames leaf first; the strings are not copied and must
 * outlive the table). Duplicates and id 0 are ignored. 0 or -ENOMEM. */
int stacktab__insert(struct lp_stacktab *t, uint64_t id, const struct lp_frame_sym *frames,
		     uint32_t depth, bool truncated);

/* The stack with this id, or NULL when it was never announced (lost). */
const struct lp_stack_sym *stacktab__get(const struct lp_stacktab *t, uint64_t id);

#endif
