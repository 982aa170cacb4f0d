// SPDX-License-Identifier: GPL-2.0
/* The JSON report (shape documented in the README and shared/DESIGN.md section 7). */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <string.h>

#include "report/render.h"
#include "report/report_inversions.h"

static void write_frames(FILE *f, const struct lp_stack_sym *st)
{
	fputs("\"frames\": [", f);
	for (uint32_t i = 0; st && i < st->depth; i++) {
		fputs(i ? ", {\"function\": " : "{\"function\": ", f);
		json__write_string(f, st->frames[i].function);
		fputs(", \"file\": ", f);
		json__write_string(f, st->frames[i].file);
		fprintf(f, ", \"line\": %d}", st->frames[i].line);
	}
	fputc(']', f);
}

static void write_frame_or_null(FILE *f, const struct lp_frame_sym *fr)
{
	if (!fr) {
		fputs("null", f);
		return;
	}
	fputs("{\"file\": ", f);
	json__write_string(f, fr->file);
	fprintf(f, ", \"line\": %d, \"function\": ", fr->line);
	json__write_string(f, fr->function);
	fputc('}', f);
}

/* A thread's name when it was read, else null. */
static void write_thread_name(FILE *f, const struct lp_threadnames *names, uint32_t tid)
{
	const char *name = threadnames__get(names, tid);

	if (name)
		json__write_string(f, name);
	else
		fputs("null", f);
}

/* Each thread's share of a stack's waits, with the thread's name when it was read. */
static void write_threads(FILE *f, const struct lp_lock_stack *ls,
			  const struct lp_threadnames *names)
{
	fputs("\"threads\": [", f);
	for (size_t t = 0; t < ls->ntids; t++) {
		fprintf(f, "%s{\"id\": %u, \"name\": ", t ? ", " : "", ls->tids[t].tid);
		write_thread_name(f, names, ls->tids[t].tid);
		fprintf(f, ", \"count\": %" PRIu64 ", \"wait_ns\": %" PRIu64 "}", ls->tids[t].count,
			ls->tids[t].wait_ns);
	}
	fputc(']', f);
}

static void write_lock(FILE *f, const struct lp_profile *p, const struct lp_lock *lock)
{
	const struct lp_threadnames *names = p->thread_names;
	bool full = p->full.measured;

	/* Unique: a later lock at the same address (generation g) is "0xADDR.g". */
	if (lock->generation)
		fprintf(f, "    {\"id\": \"0x%" PRIx64 ".%u\", \"name\": ", lock->id,
			lock->generation);
	else
		fprintf(f, "    {\"id\": \"0x%" PRIx64 "\", \"name\": ", lock->id);
	json__write_string(f, lock->name);
	/* The process on every lock: locks of several processes' reports can be pooled. */
	fprintf(f, ", \"pid\": %d, \"comm\": ", (int)p->pid);
	json__write_string(f, p->comm);
	fputs(", \"created_at\": ", f);
	write_frame_or_null(f, lock->created_at);
	fputs(", \"category\": ", f);
	json__write_string(f, profile__category_name(lock->category));
	if (lock->category == LP_CATEGORY_OBJECT) {
		fputs(", \"type\": ", f);
		json__write_string(f, lock->type_name);
	}
	fprintf(f, ", \"native\": %s, \"primitive\": %s, \"merged_locks\": %" PRIu64 ", \"site\": ",
		lock->native ? "true" : "false",
		lock->source == LP_WAIT_SEM	 ? "\"sem_t\""
		: lock->source == LP_WAIT_PARK	 ? "\"PyMutex\""
		: lock->source == LP_WAIT_OBJECT ? "\"critical section\""
						 : "null",
		lock->merged);
	write_frame_or_null(f, lock->site);
	fprintf(f,
		", \"waits\": %" PRIu64 ", \"wait_ns\": %" PRIu64 ", \"max_wait_ns\": %" PRIu64
		", \"timeouts\": %" PRIu64 ",\n     \"hist_log2_ns\": [",
		lock->waits, lock->wait_ns, lock->max_ns, lock->timeouts);
	for (int i = 0; i < LP_HIST_SLOTS; i++)
		fprintf(f, i ? ", %" PRIu64 : "%" PRIu64, lock->hist[i]);
	if (full)
		fprintf(f,
			"],\n     \"hold_count\": %" PRIu64 ", \"hold_ns\": %" PRIu64
			", \"max_hold_ns\": %" PRIu64 ",\n     \"stacks\": [",
			lock->hold_count, lock->hold_ns, lock->max_hold_ns);
	else
		fputs("],\n     \"hold_count\": null, \"hold_ns\": null,\n     \"stacks\": [", f);
	for (size_t s = 0; s < lock->nstacks; s++) {
		const struct lp_lock_stack *ls = &lock->stacks[s];

		if (ls->role == LP_ROLE_HOLD) {
			fprintf(f,
				"%s\n       {\"role\": \"hold\", \"count\": %" PRIu64
				", \"hold_ns\": %" PRIu64 ", \"max_hold_ns\": %" PRIu64
				", \"thread_ids\": [",
				s ? "," : "", ls->count, ls->wait_ns, ls->max_ns);
		} else {
			fputs(s ? ",\n       {\"role\": " : "\n       {\"role\": ", f);
			json__write_string(f, profile__role_name(ls->role));
			fprintf(f,
				", \"count\": %" PRIu64 ", \"wait_ns\": %" PRIu64
				", \"max_wait_ns\": %" PRIu64 ", \"thread_ids\": [",
				ls->count, ls->wait_ns, ls->max_ns);
		}
		for (size_t t = 0; t < ls->ntids; t++)
			fprintf(f, t ? ", %u" : "%u", ls->tids[t].tid);
		fputs("],\n        ", f);
		write_threads(f, ls, names);
		fputs(",\n        ", f);
		write_frames(f, ls->stack);
		fprintf(f, ", \"truncated\": %s}",
			ls->stack && ls->stack->truncated ? "true" : "false");
	}
	fputs("]}", f);
}

static void write_gil(FILE *f, const struct lp_profile *p)
{
	fputs(" \"gil\": ", f);
	if (!p->gil_measured) {
		fputs("null,\n", f);
		return;
	}
	fprintf(f, "{\"handoffs\": ");
	if (p->gil_handoffs >= 0)
		fprintf(f, "%" PRId64, p->gil_handoffs);
	else
		fputs("null", f);
	fprintf(f, ", \"waits\": %" PRIu64 ", \"wait_ns\": %" PRIu64 ", \"threads\": [",
		p->gil_waits, p->gil_wait_ns);
	for (size_t i = 0; i < p->ngil_threads; i++) {
		const struct lp_gil_thread *g = &p->gil_threads[i];

		fprintf(f, "%s\n   {\"tid\": %u, \"name\": ", i ? "," : "", g->tid);
		write_thread_name(f, p->thread_names, g->tid);
		fprintf(f,
			", \"waits\": %" PRIu64 ", \"wait_ns\": %" PRIu64
			", \"max_wait_ns\": %" PRIu64 ", \"share\": %.4f, \"hist_log2_ns\": [",
			g->waits, g->wait_ns, g->max_ns,
			p->duration_ns ? (double)g->wait_ns / (double)p->duration_ns : 0.0);
		for (int h = 0; h < LP_HIST_SLOTS; h++)
			fprintf(f, h ? ", %" PRIu64 : "%" PRIu64, g->hist[h]);
		fputs("]}", f);
	}
	fputs("]},\n", f);
}

/* -m full: how the hold figures were estimated and what the probes cost. */
static void write_full(FILE *f, const struct lp_profile *p)
{
	const struct lp_full_info *fi = &p->full;

	fputs(" \"full\": ", f);
	if (!fi->measured) {
		fputs("null,\n", f);
		return;
	}
	fprintf(f,
		"{\"capture_pct\": %u, \"duty_cycle\": %.4f, \"estimated_overhead_pct\": %.3f, "
		"\"probe_cost_ns\": %.0f, \"inlined_call_sites\": %" PRIu64 "},\n",
		fi->capture_pct, fi->duty_cycle, fi->overhead_pct, fi->probe_cost_ns,
		fi->inlined_sites);
}

/* Counts and totals are upscaled estimates when the timing probes were detached part of the
 * time, and hold figures unless every acquisition was recorded all the time. */
static bool estimated(const struct lp_profile *p)
{
	return report__totals_upscaled(p) ||
	       (p->full.measured && (p->full.capture_pct < 100 || p->full.duty_cycle < 0.9999));
}

/* lockprof's estimated cost from all its probes, and how its bound shaped the figures. */
static void write_overhead(FILE *f, const struct lp_profile *p)
{
	const struct lp_overhead *o = &p->overhead;

	if (!o->measured) {
		fputs(" \"overhead\": null,\n", f);
		return;
	}
	fprintf(f,
		" \"overhead\": {\"estimated_pct\": %.3f, \"estimated_ns\": %.0f, \"max_pct\": %g, "
		"\"probe_hits\": %" PRIu64 ", \"trap_ns\": %.0f, \"bpf_ns\": %" PRIu64
		", \"stack_walks\": %" PRIu64 ", \"walk_ns\": %" PRIu64
		", \"timing_duty\": %.4f, \"timing_scale\": %.4f, \"totals_upscaled\": %s, \"trap_total_ns\": %.0f,"
		" \"trap_costs_ns\": {\"emulated\": %.0f, \"nop\": %.0f, \"stepped\": %.0f, "
		"\"return\": %.0f}, \"hits\": {\"emulated\": %" PRIu64 ", \"nop\": %" PRIu64
		", \"stepped\": %" PRIu64 ", \"return\": %" PRIu64 "}},\n"
		" \"stack_sampling\": {\"waits\": %" PRIu64 ", \"captured\": %" PRIu64
		", \"threshold_ns\": %" PRIu64 ", \"stacks_upscaled\": %s},\n",
		o->estimated_pct, o->estimated_ns, o->max_pct, o->probe_hits, o->trap_ns, o->bpf_ns,
		o->walks, o->walk_ns, o->timing_duty, profile__timing_scale(p),
		report__totals_upscaled(p) ? "true" : "false", o->trap_total_ns,
		o->costs.entry_ns[LP_TRAP_EMULATED], o->costs.entry_ns[LP_TRAP_NOP],
		o->costs.entry_ns[LP_TRAP_STEPPED], o->costs.return_ns,
		o->hits_by_kind[LP_TRAP_EMULATED], o->hits_by_kind[LP_TRAP_NOP],
		o->hits_by_kind[LP_TRAP_STEPPED], o->hits_by_kind[LP_TRAP_KINDS], o->waits,
		o->waits - o->waits_unsampled, o->sample_ns,
		report__stacks_sampled(p) ? "true" : "false");
}

/* lockprof's BPF programs: runs and run time since load, counted while
 * kernel.bpf_stats_enabled is 1 ("stats_enabled"). */
static void write_programs(FILE *f, const struct lp_prog_stats *ps)
{
	fprintf(f, " \"bpf_programs\": {\"stats_enabled\": %s, \"programs\": [",
		ps->enabled ? "true" : "false");
	for (size_t i = 0; i < ps->n; i++) {
		fputs(i ? ", {\"name\": " : "{\"name\": ", f);
		json__write_string(f, ps->progs[i].name);
		fputs(", \"type\": ", f);
		json__write_string(f, ps->progs[i].type);
		fprintf(f, ", \"runs\": %" PRIu64 ", \"run_ns\": %" PRIu64 "}", ps->progs[i].runs,
			ps->progs[i].run_ns);
	}
	fputs("]},\n", f);
}

int report_json__write(FILE *f, const struct lp_profile *p)
{
	const struct lp_counters *c = &p->counters;

	fprintf(f, "{\"version\": 1, \"lockprof\": \"%s\", \"mode\": ", LOCKPROF_VERSION);
	json__write_string(f, p->mode);
	fprintf(f, ",\n \"target\": {\"pid\": %d, \"comm\": ", (int)p->pid);
	json__write_string(f, p->comm);
	fprintf(f, ", \"exited\": %s, \"python\": ", p->exited ? "true" : "false");
	json__write_string(f, p->python);
	fputs(", \"interpreter\": ", f);
	json__write_string(f, p->interpreter);
	fprintf(f,
		"},\n \"start_unix_ns\": %" PRIu64 ", \"duration_ns\": %" PRIu64
		", \"estimated\": %s, \"min_wait_ns\": %" PRIu64 ", \"short_waits\": %" PRIu64
		",\n",
		p->start_unix_ns, p->duration_ns, estimated(p) ? "true" : "false", p->min_wait_ns,
		(uint64_t)c->short_waits);
	if (p->interval)
		fprintf(f, " \"interval\": %u,", p->interval);
	else
		fputs(" \"interval\": null,", f);
	fprintf(f,
		" \"probe_hits\": %" PRIu64 ", \"threads\": %zu, \"waits\": %" PRIu64
		", \"wait_ns\": %" PRIu64 ",\n \"idle_waits\": %" PRIu64
		", \"idle_wait_ns\": %" PRIu64 ", \"resource_waits\": %" PRIu64
		", \"resource_wait_ns\": %" PRIu64 ",\n",
		(uint64_t)c->probe_hits, p->nthreads, p->total_waits, p->total_wait_ns,
		p->idle_waits, p->idle_wait_ns, p->resource_waits, p->resource_wait_ns);
	write_gil(f, p);
	report_freethreaded__json(f, p);
	write_full(f, p);
	write_overhead(f, p);
	write_programs(f, &p->programs);
	fprintf(f,
		" \"lost\": {\"events\": %" PRIu64 ", \"reads\": %" PRIu64
		", \"stacks_truncated\": %" PRIu64 ", \"threads_not_found\": %" PRIu64
		", \"stats\": %" PRIu64 ", \"stacks\": %" PRIu64 ", \"unknown_frames\": %" PRIu64
		"},\n \"locks\": [",
		(uint64_t)c->lost_events, (uint64_t)c->read_errors, (uint64_t)c->stacks_truncated,
		(uint64_t)c->thread_not_found, (uint64_t)c->stats_dropped,
		(uint64_t)(c->stacks_dropped + c->inflight_dropped), p->unknown_frames);
	for (size_t i = 0; i < p->nlocks; i++) {
		fputs(i ? ",\n" : "\n", f);
		write_lock(f, p, &p->locks[i]);
	}
	fputs("\n ]", f);
	report_inversions__json(f, p);
	fputs("}\n", f);
	return ferror(f) ? -EIO : 0;
}
