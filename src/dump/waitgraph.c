// SPDX-License-Identifier: GPL-2.0
/* Deadlocks as the cycles of the wait-for graph (thread -> the threads holding the lock it waits
 * for). Each elementary cycle is found once, from its lowest thread: a depth-first search from
 * every thread s that only visits threads above s. A blocked thread usually has one edge, so
 * the search is linear; a step budget bounds pathological graphs. Pure. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dump/dump.h"

#define STEP_BUDGET 100000

struct search {
	int n;
	int *const *edges;
	const int *nedges;
	int *path;
	bool *on_path;
	int depth;
	struct dump_cycle *out;
	int count, max;
	long steps;
	int err;
};

static void record(struct search *s)
{
	int *copy;

	if (s->count >= s->max)
		return;
	copy = malloc(sizeof(int) * (size_t)s->depth);
	if (!copy) {
		s->err = -ENOMEM;
		return;
	}
	memcpy(copy, s->path, sizeof(int) * (size_t)s->depth);
	s->out[s->count++] = (struct dump_cycle){ .threads = copy, .len = s->depth };
}

static void visit(struct search *s, int start, int v)
{
	if (s->err || s->count >= s->max || ++s->steps > STEP_BUDGET)
		return;
	s->path[s->depth++] = v;
	s->on_path[v] = true;
	for (int i = 0; i < s->nedges[v]; i++) {
		int w = s->edges[v][i];

		if (w < start || w >= s->n)
			continue;
		if (w == start)
			record(s);
		else if (!s->on_path[w])
			visit(s, start, w);
	}
	s->on_path[v] = false;
	s->depth--;
}

int dump__find_cycles(int n, int *const *edges, const int *nedges, struct dump_cycle **out, int max)
{
	struct search s = { .n = n, .edges = edges, .nedges = nedges, .max = max };

	*out = NULL;
	if (n <= 0 || max <= 0)
		return 0;
	s.path = calloc((size_t)n, sizeof(int));
	s.on_path = calloc((size_t)n, sizeof(bool));
	s.out = calloc((size_t)max, sizeof(*s.out));
	if (!s.path || !s.on_path || !s.out) {
		s.err = -ENOMEM;
		goto out;
	}
	for (int v = 0; v < n && !s.err; v++)
		visit(&s, v, v);
out:
	free(s.path);
	free(s.on_path);
	if (s.err) {
		for (int i = 0; i < s.count; i++)
			free(s.out[i].threads);
		free(s.out);
		return s.err;
	}
	*out = s.out;
	return s.count;
}
