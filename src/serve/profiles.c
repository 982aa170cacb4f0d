// SPDX-License-Identifier: GPL-2.0
/* Store -> pprof (profiles.h), through the pprof encoder of -f pprof (report_pprof.c). */
#include <errno.h>
#include <stdlib.h>

#include "report/report.h"
#include "serve/profiles.h"

static const char *const value_types[LP_STORE_PROFILES][2][2] = {
	[LP_STORE_MUTEX] = { { "contentions", "count" }, { "delay", "nanoseconds" } },
	[LP_STORE_LOCKHOLD] = { { "acquisitions", "count" }, { "hold", "nanoseconds" } },
	[LP_STORE_GIL] = { { "contentions", "count" }, { "delay", "nanoseconds" } },
};

/* A sample's pid label: kept beside the samples, which point at it. */
struct pid_text {
	char s[16];
};

int profiles__write(FILE *f, const struct lp_store *s, enum lp_store_profile which,
		    const struct lp_store_snapshot *base, uint64_t now_ns)
{
	struct lp_pprof_samples set = { .mapping = s->nprocs ? s->procs[0]->interpreter : NULL };
	struct lp_pprof_sample *samples;
	struct pid_text *pids;
	size_t total = 0, n = 0;
	int err;

	for (size_t i = 0; i < s->nprocs; i++)
		total += s->procs[i]->nsamples;
	samples = calloc(total ? total : 1, sizeof(*samples));
	pids = calloc(s->nprocs ? s->nprocs : 1, sizeof(*pids));
	if (!samples || !pids) {
		free(samples);
		free(pids);
		return -ENOMEM;
	}
	for (size_t i = 0; i < s->nprocs; i++) {
		const struct lp_store_proc *p = s->procs[i];

		snprintf(pids[i].s, sizeof(pids[i].s), "%d", (int)p->pid);
		for (size_t j = 0; j < p->nsamples; j++) {
			const struct lp_store_sample *sa = &p->samples[j];
			struct lp_pprof_sample *out = &samples[n];
			uint64_t before[2] = { 0, 0 };

			if (sa->profile != which)
				continue;
			if (base)
				store__snapshot_values(base, p, j, before);
			if (sa->count == before[0] && sa->ns == before[1])
				continue;
			out->stack = store__stack(s, p, sa->stack_id);
			out->values[0] = (int64_t)(sa->count - before[0]);
			out->values[1] = (int64_t)(sa->ns - before[1]);
			out->labels[out->nlabels++] = (struct lp_pprof_label){ "pid", pids[i].s };
			out->labels[out->nlabels++] = (struct lp_pprof_label){ "comm", p->comm };
			if (which == LP_STORE_GIL) {
				out->labels[out->nlabels++] =
					(struct lp_pprof_label){ "lock name", "GIL" };
				out->labels[out->nlabels++] =
					(struct lp_pprof_label){ "wait kind", "gil" };
			} else {
				const struct lp_store_series *se = &p->series[sa->series];

				out->labels[out->nlabels++] =
					(struct lp_pprof_label){ "lock name", se->lock };
				out->labels[out->nlabels++] =
					(struct lp_pprof_label){ "wait kind", se->kind };
				if (se->site[0])
					out->labels[out->nlabels++] =
						(struct lp_pprof_label){ "lock site", se->site };
			}
			n++;
		}
	}
	for (int t = 0; t < 2; t++) {
		set.types[t][0] = value_types[which][t][0];
		set.types[t][1] = value_types[which][t][1];
	}
	set.samples = samples;
	set.nsamples = n;
	set.time_unix_ns = base ? base->taken_unix_ns : s->start_unix_ns;
	set.duration_ns = now_ns - (base ? base->taken_ns : s->start_ns);
	set.comment = base ? "lockprof serve: delta profile" : "lockprof serve: since start";
	err = report_pprof__write_samples(f, &set);
	free(samples);
	free(pids);
	return err;
}
