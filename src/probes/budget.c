// SPDX-License-Identifier: GPL-2.0
/* lockprof's cost measured and bounded (see budget.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "probes/budget.h"
#include "probes/calibrate.h"
#include "probes/sites.h"
#include "probes/stackbudget.h"
#include "util/clock.h"
#include "util/log.h"

#include "lockprof/abi.h" /* the skeleton names its types */
#include "lockprof.skel.h"

int budget__read_self_cost(struct lockprof_bpf *skel, struct lp_self_cost *sum)
{
	int ncpus = libbpf_num_possible_cpus(), fd = bpf_map__fd(skel->maps.self_cost);
	struct lp_self_cost *percpu;
	__u32 zero = 0;

	memset(sum, 0, sizeof(*sum));
	if (ncpus <= 0)
		return ncpus ? ncpus : -EINVAL;
	percpu = calloc((size_t)ncpus, sizeof(*percpu));
	if (!percpu)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &zero, percpu)) {
		int err = -errno;

		free(percpu);
		return err;
	}
	for (int c = 0; c < ncpus; c++) {
		const __u64 *from = (const __u64 *)&percpu[c];
		__u64 *to = (__u64 *)sum;

		_Static_assert(sizeof(*sum) % sizeof(__u64) == 0, "self cost is all __u64");
		for (size_t i = 0; i < sizeof(*sum) / sizeof(__u64); i++)
			to[i] += from[i];
	}
	free(percpu);
	return 0;
}

uint64_t budget__timing_hits(struct lockprof_bpf *skel)
{
	struct lp_self_cost sum;

	return budget__read_self_cost(skel, &sum) ? 0 : sum.runs - sum.full_runs;
}

static void self_cost_since(const struct lp_self_cost *now, const struct lp_self_cost *before,
			    struct lp_self_cost *out)
{
	const __u64 *a = (const __u64 *)now, *b = (const __u64 *)before;
	__u64 *d = (__u64 *)out;

	for (size_t i = 0; i < sizeof(*out) / sizeof(__u64); i++)
		d[i] = a[i] - b[i];
}

void budget__prepare(struct lp_budget *b, struct lockprof_bpf *skel, double max_overhead_pct,
		     const struct lp_trap_costs *known)
{
	memset(b, 0, sizeof(*b));
	b->skel = skel;
	b->max_overhead = max_overhead_pct / 100.0;
	if (known) {
		b->costs = *known;
		b->trap_ns = b->costs.entry_ns[LP_TRAP_EMULATED];
		return;
	}
	calibrate__trap_costs(skel, &b->calibration, &b->costs);
	b->trap_ns = b->costs.entry_ns[LP_TRAP_EMULATED];
	lp_info("a probe hit's trap costs %.0f ns (emulated instruction), %.0f ns (nop), %.0f ns "
		"(single-stepped), %.0f ns more for a return probe; overhead bound %g%% of a CPU",
		b->costs.entry_ns[LP_TRAP_EMULATED], b->costs.entry_ns[LP_TRAP_NOP],
		b->costs.entry_ns[LP_TRAP_STEPPED], b->costs.return_ns, max_overhead_pct);
}

void budget__start(struct lp_budget *b, struct lp_probes *probes, const struct lp_timing_plan *plan,
		   uint64_t now_ns)
{
	b->probes = probes;
	b->plan = *plan;
	b->attached = true;
	b->window_start_ns = b->span_start_ns = now_ns;
	budget__read_self_cost(b->skel, &b->window_start);
	b->span_start = b->window_start;
	dutycycle__init(&b->dc, b->max_overhead * 100.0, b->trap_ns, now_ns,
			b->window_start.runs - b->window_start.full_runs);
	b->live_since_ns = now_ns;
}

/* Probe time live up to now_ns. */
static uint64_t live_ns(const struct lp_budget *b, uint64_t now_ns)
{
	return b->live_total_ns + (b->attached ? now_ns - b->live_since_ns : 0);
}

/* Once per window: the next stack threshold, and the cost per hit the duty cycle prices. */
static void window_decide(struct lp_budget *b, uint64_t now_ns)
{
	struct lp_self_cost now, d;
	struct lp_budget_window w;
	uint64_t threshold = b->skel->bss->stack_sample_ns, next;

	if (budget__read_self_cost(b->skel, &now))
		return;
	self_cost_since(&now, &b->window_start, &d);
	double full_trap, timing_trap;

	sites__trap_split(&b->costs, d.site_hits, &full_trap, &timing_trap);
	w = (struct lp_budget_window){
		.elapsed_ns = now_ns - b->window_start_ns,
		.hits = d.runs,
		.run_ns = d.run_ns,
		.walks = d.walks,
		.walk_ns = d.walk_ns,
		.waits = d.waits,
		.sampled = d.waits - d.waits_unsampled,
		.wait_ns = d.wait_ns,
		.trap_ns = d.runs ? (full_trap + timing_trap) / (double)d.runs : b->trap_ns,
	};
	if (w.walks)
		b->walked = true;
	next = stackbudget__next(threshold, &w, b->max_overhead);
	if (next != threshold) {
		lp_dbg("stack budget: %.2f%% of a CPU in the last window, %llu waits, %llu walks: "
		       "stacks of waits under %llu ns sampled",
		       100.0 * stackbudget__cost_ns(&w) / (double)w.elapsed_ns,
		       (unsigned long long)w.waits, (unsigned long long)w.walks,
		       (unsigned long long)next);
		b->skel->bss->stack_sample_ns = next;
	}
	/* What a hit costs apart from walks, which the stack budget answers for. */
	if (d.runs > d.full_runs)
		b->dc.probe_cost_ns = timing_trap / (double)(d.runs - d.full_runs) +
				      (double)(d.run_ns - d.walk_ns) / (double)d.runs;
	b->window_start = now;
	b->window_start_ns = now_ns;
}

static void timing_attach(struct lp_budget *b)
{
	/* A new epoch first: waits begun while detached end in probes that missed their start,
	 * and a stop-the-world pause whose end was missed is over. */
	b->skel->bss->stw_active = 0;
	b->skel->bss->timing_epoch = ++b->epoch;
	if (probes__attach(b->probes, b->skel, b->plan.target, b->plan.version, b->plan.modes,
			   b->plan.creation_sites)) {
		b->attach_failures++;
		return;
	}
	b->attached = true;
	b->live_since_ns = clock__monotonic_ns();
}

int budget__tick(struct lp_budget *b, uint64_t now_ns, int max_ms)
{
	uint64_t next_ns;
	bool want;

	/* Short windows until the first one with walks: a burst of waits from the start of a
	 * profile (or of the target's work) is thinned within 50 ms, not 200. */
	uint64_t window = b->walked ? LP_STACK_BUDGET_WINDOW_NS : LP_STACK_BUDGET_FIRST_WINDOW_NS;

	if (now_ns - b->window_start_ns >= window)
		window_decide(b, now_ns);
	if (b->max_overhead >= 1.0)
		return max_ms;
	/* Back at the window's end, however long the caller would sleep. */
	next_ns = b->window_start_ns + window - now_ns;
	if (now_ns - b->window_start_ns < window && next_ns / 1000000 + 1 < (uint64_t)max_ms)
		max_ms = (int)(next_ns / 1000000) + 1;
	want = dutycycle__step(&b->dc, now_ns, budget__timing_hits(b->skel));
	if (want && !b->attached) {
		timing_attach(b);
	} else if (!want && b->attached) {
		/* Live until the detach begins: the breakpoints go first. */
		b->live_total_ns += clock__monotonic_ns() - b->live_since_ns;
		probes__detach(b->probes);
		b->attached = false;
		lp_dbg("timing probes detached (duty %.4f)", b->dc.duty);
	}
	next_ns = dutycycle__next_change_ns(&b->dc, now_ns);
	if (next_ns / 1000000 < (uint64_t)max_ms)
		return (int)(next_ns / 1000000) + (next_ns % 1000000 ? 1 : 0);
	return max_ms;
}

/* The totals seen while attached, scaled to the span: the target waits as often detached as
 * attached but for the time its threads spent in the probes (under the GIL they run one at a
 * time, so that time is lost to all of them): without it, the upscaled totals fall short by
 * about the probes' share of the attached time, a third and more where a trap costs ~10 us. */
static double timing_scale(const struct lp_overhead *o, double elapsed)
{
	double attached = o->timing_duty * elapsed;
	double own = attached - o->estimated_ns;

	if (o->timing_duty >= 1.0 || attached <= 0)
		return 1.0;
	if (own < attached / 2)
		own = attached / 2; /* an estimate off by that much is not to be trusted further */
	return elapsed / own;
}

void budget__span(struct lp_budget *b, uint64_t now_ns, struct lp_overhead *o)
{
	struct lp_self_cost now, d;
	double elapsed = (double)(now_ns - b->span_start_ns);

	memset(o, 0, sizeof(*o));
	if (budget__read_self_cost(b->skel, &now))
		return;
	dutycycle__step(&b->dc, now_ns, now.runs - now.full_runs);
	self_cost_since(&now, &b->span_start, &d);
	o->measured = true;
	o->probe_hits = d.runs;
	o->bpf_ns = d.run_ns;
	o->walks = d.walks;
	o->walk_ns = d.walk_ns;
	o->trap_ns = b->trap_ns;
	o->costs = b->costs;
	sites__hits_by_kind(d.site_hits, o->hits_by_kind);
	o->trap_total_ns = sites__trap_ns(&b->costs, d.site_hits);
	o->estimated_ns = o->trap_total_ns + (double)d.run_ns;
	o->estimated_pct = elapsed > 0 ? 100.0 * o->estimated_ns / elapsed : 0;
	o->max_pct = 100.0 * b->max_overhead;
	o->waits = d.waits;
	o->waits_unsampled = d.waits_unsampled;
	o->sample_ns = b->skel->bss->stack_sample_ns;
	o->timing_duty = elapsed > 0 ? (double)(live_ns(b, now_ns) - b->span_live_ns) / elapsed
				     : 1.0;
	if (o->timing_duty > 0.9999)
		o->timing_duty = 1.0;
	o->timing_scale = timing_scale(o, elapsed);
	b->span_start = now;
	b->span_start_ns = now_ns;
	b->span_live_ns = live_ns(b, now_ns);
}

void budget__close(struct lp_budget *b)
{
	links__destroy_all(&b->calibration);
}
