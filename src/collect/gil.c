// SPDX-License-Identifier: GPL-2.0
/* The GIL's address and switch count (see gil.h). */
#include "collect/gil.h"
#include "target/pyobj.h"

uint64_t gil__address(pid_t pid, const struct lp_interp *info)
{
	const struct lp_pyoffsets *o = &info->offsets;
	uint64_t base = info->runtime_addr;

	/* A per-interpreter GIL lives in the (main) interpreter's state, else in _PyRuntime. */
	if (o->gil_in_interp &&
	    remote_read(pid, info->runtime_addr + (uint64_t)o->walk.runtime_interp_head, &base,
			sizeof(base)))
		return 0;
	return base + (uint64_t)o->gil_state;
}

void gil_switches__init(struct lp_gil_switches *g, pid_t pid, uint64_t gil, int switch_number)
{
	*g = (struct lp_gil_switches){
		.pid = pid, .gil = gil, .switch_number = switch_number, .first = -1, .last = -1
	};
}

void gil_switches__sample(struct lp_gil_switches *g)
{
	uint64_t n;

	if (!g->gil || remote_read(g->pid, g->gil + (uint64_t)g->switch_number, &n, sizeof(n)))
		return;
	if (g->first < 0)
		g->first = (int64_t)n;
	g->last = (int64_t)n;
}

int64_t gil_switches__take(struct lp_gil_switches *g)
{
	int64_t n;

	if (g->first < 0 || g->last < g->first)
		return -1;
	n = g->last - g->first;
	g->first = g->last;
	return n;
}
