// SPDX-License-Identifier: GPL-2.0
/* Lock-order inversions (see lockorder.h): the edges read from BPF's lock_order map, the locks
 * numbered, the cycles found as the dump finds deadlocks (dump/waitgraph.c), and each lock named
 * by the line of a stack that took it (`with b:` names b), as contention reports name locks. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "collect/lockorder.h"
#include "dump/dump.h"
#include "lockprof/order_abi.h"
#include "profile/lockname.h"

#define MAX_EDGES 16384
#define MAX_INVERSIONS 64

struct edge {
	struct lp_order_key key;
	struct lp_order_value val;
};

static int node_of(struct lp_order_lock *nodes, int *n, struct lp_order_lock lock)
{
	for (int i = 0; i < *n; i++)
		if (nodes[i].addr == lock.addr && nodes[i].gen == lock.gen)
			return i;
	nodes[*n] = lock;
	return (*n)++;
}

static bool same(struct lp_order_lock a, struct lp_order_lock b)
{
	return a.addr == b.addr && a.gen == b.gen;
}

static void name_from_stack(const struct lp_stacktab *stacks, struct lp_sources *src,
			    uint64_t stack_id, char *out, size_t len)
{
	const struct lp_stack_sym *st = stack_id ? stacktab__get(stacks, stack_id) : NULL;
	char line[1024];

	out[0] = '\0';
	if (!st || !st->depth)
		return;
	sources__line(src, st->frames[0].file, st->frames[0].line, line, sizeof(line));
	lockname__from_source(line, out, len);
}

int lockorder__collect(int order_fd, int signal_fd, const struct lp_stacktab *stacks,
		       struct lp_sources *src, struct lp_lockorder *out)
{
	struct edge *edges = calloc(MAX_EDGES, sizeof(*edges));
	struct lp_order_lock *nodes = calloc(2 * MAX_EDGES, sizeof(*nodes));
	int **adj = NULL, *nadj = NULL, *edge_of = NULL, n = 0, ncycles = 0, err = 0;
	struct lp_order_key key, next;
	struct dump_cycle *cycles = NULL;
	size_t ne = 0;
	void *prev = NULL;

	memset(out, 0, sizeof(*out));
	if (!edges || !nodes) {
		err = -ENOMEM;
		goto out;
	}
	while (ne < MAX_EDGES && !bpf_map_get_next_key(order_fd, prev, &next)) {
		struct edge *e = &edges[ne];
		__u8 mark;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(order_fd, &key, &e->val) || same(key.first, key.second))
			continue;
		/* A signal (released by another thread) is no mutex: no order to keep. */
		if (!bpf_map_lookup_elem(signal_fd, &key.first, &mark) ||
		    !bpf_map_lookup_elem(signal_fd, &key.second, &mark))
			continue;
		e->key = key;
		ne++;
	}
	out->nedges = ne;
	for (size_t i = 0; i < ne; i++) {
		node_of(nodes, &n, edges[i].key.first);
		node_of(nodes, &n, edges[i].key.second);
	}
	adj = calloc((size_t)n + 1, sizeof(*adj));
	nadj = calloc((size_t)n + 1, sizeof(*nadj));
	edge_of = calloc(ne + 1, sizeof(*edge_of));
	if (!adj || !nadj || !edge_of) {
		err = -ENOMEM;
		goto out;
	}
	for (int i = 0; i < n; i++)
		if (!(adj[i] = calloc((size_t)n, sizeof(int)))) {
			err = -ENOMEM;
			goto out;
		}
	for (size_t i = 0; i < ne; i++) {
		int a = node_of(nodes, &n, edges[i].key.first);
		int b = node_of(nodes, &n, edges[i].key.second);

		adj[a][nadj[a]++] = b;
	}
	ncycles = dump__find_cycles(n, adj, nadj, &cycles, MAX_INVERSIONS);
	if (ncycles < 0) {
		err = ncycles;
		goto out;
	}
	out->cycles = calloc((size_t)ncycles + 1, sizeof(*out->cycles));
	if (!out->cycles) {
		err = -ENOMEM;
		goto out;
	}
	for (int c = 0; c < ncycles; c++) {
		struct lp_inversion *inv = &out->cycles[out->ncycles];
		int len = cycles[c].len;

		inv->steps = calloc((size_t)len, sizeof(*inv->steps));
		if (!inv->steps) {
			err = -ENOMEM;
			goto out;
		}
		inv->len = (size_t)len;
		out->ncycles++;
		for (int k = 0; k < len; k++) {
			struct lp_order_lock a = nodes[cycles[c].threads[k]];
			struct lp_order_lock b = nodes[cycles[c].threads[(k + 1) % len]];
			struct lp_order_step *s = &inv->steps[k];

			for (size_t i = 0; i < ne; i++)
				if (same(edges[i].key.first, a) && same(edges[i].key.second, b)) {
					s->stack_id = edges[i].val.stack_id;
					s->tid = edges[i].val.tid;
					s->count = edges[i].val.count;
				}
			s->first = a.addr;
			s->second = b.addr;
			name_from_stack(stacks, src, s->stack_id, s->second_name,
					sizeof(s->second_name));
		}
		for (int k = 0; k < len; k++)
			memcpy(inv->steps[k].first_name,
			       inv->steps[(k + len - 1) % len].second_name, LP_LOCKORDER_NAME_MAX);
	}
out:
	for (int c = 0; cycles && c < ncycles; c++)
		free(cycles[c].threads);
	free(cycles);
	for (int i = 0; adj && i < n; i++)
		free(adj[i]);
	free(adj);
	free(nadj);
	free(edge_of);
	free(edges);
	free(nodes);
	if (err)
		lockorder__free(out);
	return err;
}

void lockorder__free(struct lp_lockorder *o)
{
	for (size_t i = 0; o->cycles && i < o->ncycles; i++)
		free(o->cycles[i].steps);
	free(o->cycles);
	memset(o, 0, sizeof(*o));
}
