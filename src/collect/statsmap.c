// SPDX-License-Identifier: GPL-2.0
/* Per-CPU stats map reader. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "collect/statsmap.h"
#include "lockprof/hist.h"

static void sum_cpus(const struct lp_stat_value *percpu, int ncpus, struct lp_stat_value *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (int c = 0; c < ncpus; c++) {
		sum->count += percpu[c].count;
		sum->total_ns += percpu[c].total_ns;
		sum->timeouts += percpu[c].timeouts;
		sum->est_count += percpu[c].est_count;
		sum->est_ns += percpu[c].est_ns;
		if (percpu[c].first_ns && (!sum->first_ns || percpu[c].first_ns < sum->first_ns))
			sum->first_ns = percpu[c].first_ns;
		if (percpu[c].last_ns > sum->last_ns)
			sum->last_ns = percpu[c].last_ns;
		if (!sum->created_stack)
			sum->created_stack = percpu[c].created_stack;
		if (percpu[c].max_ns > sum->max_ns)
			sum->max_ns = percpu[c].max_ns;
		for (int s = 0; s < LP_HIST_SLOTS; s++)
			sum->hist[s] += percpu[c].hist[s];
	}
}

/* All keys first: deleting while walking with get_next_key would restart the walk. */
static int list_keys(int fd, struct lp_stat_key **keys, size_t *n)
{
	struct lp_stat_key key, next, *prev = NULL, *grown;
	size_t cap = 0;

	*keys = NULL;
	*n = 0;
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 256;
			grown = realloc(*keys, cap * sizeof(**keys));
			if (!grown)
				return -ENOMEM;
			*keys = grown;
		}
		(*keys)[(*n)++] = next;
		key = next;
		prev = &key;
	}
	return 0;
}

/* Reads one entry, deleting it when reset. 0, or -ENOENT when it vanished meanwhile. */
static int take(int fd, const struct lp_stat_key *key, struct lp_stat_value *percpu, bool reset,
		bool *atomic_ok)
{
	int err;

	if (reset && *atomic_ok) {
		err = bpf_map_lookup_and_delete_elem(fd, key, percpu);
		if (!err || errno == ENOENT)
			return err ? -ENOENT : 0;
		/* Kernels before 5.14 lack it for hash maps: fall back for the rest of the run. */
		*atomic_ok = false;
	}
	if (bpf_map_lookup_elem(fd, key, percpu))
		return -ENOENT;
	/* Not atomic: a wait that ends between the two calls is lost; the window is two
	 * syscalls wide. */
	if (reset)
		bpf_map_delete_elem(fd, key);
	return 0;
}

int statsmap__walk(int map_fd, bool reset, statsmap_fn fn, void *ctx)
{
	static bool atomic_ok = true;
	int ncpus = libbpf_num_possible_cpus(), err;
	struct lp_stat_value *percpu, sum;
	struct lp_stat_key *keys;
	size_t n;

	if (ncpus <= 0)
		return -EINVAL;
	percpu = calloc((size_t)ncpus, sizeof(*percpu));
	if (!percpu)
		return -ENOMEM;
	err = list_keys(map_fd, &keys, &n);
	for (size_t i = 0; i < n && !err; i++) {
		if (take(map_fd, &keys[i], percpu, reset, &atomic_ok))
			continue;
		sum_cpus(percpu, ncpus, &sum);
		err = fn(ctx, &keys[i], &sum);
	}
	free(keys);
	free(percpu);
	return err;
}

static int add_to_profile(void *ctx, const struct lp_stat_key *key, const struct lp_stat_value *val)
{
	return profile__add_stat(ctx, key, val);
}

int statsmap__read(int map_fd, struct lp_profile *p, bool reset)
{
	return statsmap__walk(map_fd, reset, add_to_profile, p);
}

int statsmap__close_gil_waits(int gil_waits_fd, uint64_t gil_key, struct lp_profile *p)
{
	__u32 tid, next, *prev = NULL;
	struct lp_gil_wait g;
	int err = 0;

	while (!err && !bpf_map_get_next_key(gil_waits_fd, prev, &next)) {
		struct lp_stat_key key = { .lock = gil_key, .tid = next, .kind = LP_KIND_GIL };
		struct lp_stat_value v = { .count = 1 };

		tid = next;
		prev = &tid;
		if (bpf_map_lookup_elem(gil_waits_fd, &tid, &g) || !g.open)
			continue;
		key.stack_id = g.stack_id;
		v.total_ns = v.max_ns = g.last_exit_ns - g.start_ns;
		/* --min-wait, as BPF applies it to the waits it closes */
		if (v.total_ns < p->min_wait_ns) {
			p->counters.short_waits++;
			continue;
		}
		v.hist[lp_hist_slot(v.total_ns)] = 1;
		err = profile__add_stat(p, &key, &v);
	}
	return err;
}
