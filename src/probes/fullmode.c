// SPDX-License-Identifier: GPL-2.0
/* -m full's probes attached and detached by the duty cycle (see fullmode.h). */
#include <errno.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "probes/budget.h"
#include "probes/fullmode.h"
#include "probes/links.h"
#include "probes/uprobes.h"
#include "util/clock.h"
#include "util/log.h"

#include "lockprof/abi.h" /* the skeleton names its types */
#include "lockprof.skel.h"

int fullmode__prepare(struct lp_fullmode *fm, struct lockprof_bpf *skel, const struct lp_target *t,
		      const struct lp_interp *info, const struct lp_opts *opts,
		      const struct lp_trap_costs *costs)
{
	int err;

	memset(fm, 0, sizeof(*fm));
	fm->skel = skel;
	fm->target = t;
	fm->capture_pct = opts->capture_pct;
	err = full_sites__find(&fm->sites, t, info);
	if (err)
		return err;
	fm->costs = costs;
	/* Until hits say otherwise: a single-stepped site's (sem_trywait, sem_post). */
	fm->probe_cost_ns = costs->entry_ns[LP_TRAP_STEPPED];
	lp_info("-m full: one probe hit costs %.0f ns; capture %u%%, overhead bound %g%%",
		fm->probe_cost_ns, fm->capture_pct, opts->full_overhead_pct);
	dutycycle__init(&fm->dc, opts->full_overhead_pct, fm->probe_cost_ns, 0, 0);
	return 0;
}

/* Hits of the full-mode probes so far (the programs count them per CPU). Once a second, the
 * cost of a hit is priced again from the hits per site (a single-stepped sem_trywait costs
 * several emulated branches) and the programs' mean BPF time. */
static uint64_t full_hits(struct lp_fullmode *fm)
{
	struct lp_self_cost sum;
	double full_trap, other_trap;

	if (budget__read_self_cost(fm->skel, &sum))
		return 0;
	if (sum.full_runs > fm->priced_hits + 1000) {
		sites__trap_split(fm->costs, sum.site_hits, &full_trap, &other_trap);
		fm->probe_cost_ns =
			full_trap / (double)sum.full_runs +
			(sum.runs ? (double)(sum.run_ns - sum.walk_ns) / (double)sum.runs : 0);
		fm->dc.probe_cost_ns = fm->probe_cost_ns;
		fm->priced_hits = sum.full_runs;
	}
	return sum.full_runs;
}

static int attach(struct lp_fullmode *fm)
{
	const struct lp_target *t = fm->target;
	const struct {
		struct bpf_program *prog;
		const struct lp_module *mod;
		uint64_t offset;
		const char *what;
	} probes[] = {
		{ fm->skel->progs.sem_trywait_enter, &t->libc, fm->sites.trywait_offset,
		  "sem_trywait" },
		{ fm->skel->progs.sem_post_enter, &t->libc, fm->sites.post_offset, "sem_post" },
		{ fm->skel->progs.mutex_acquire_enter, &t->interp, fm->sites.lock_acquire_offset,
		  "Lock.acquire" },
		{ fm->skel->progs.mutex_release_enter, &t->interp, fm->sites.lock_release_offset,
		  "Lock.release" },
		/* A held RLock mutex is a re-entry or a wait: Lock's acquire logic serves. */
		{ fm->skel->progs.mutex_acquire_enter, &t->interp, fm->sites.rlock_acquire_offset,
		  "RLock.acquire" },
		{ fm->skel->progs.rmutex_release_enter, &t->interp, fm->sites.rlock_release_offset,
		  "RLock.release" },
		/* Condition.wait on an RLock: released whatever its level, then taken back. */
		{ fm->skel->progs.rmutex_release_save_enter, &t->interp,
		  fm->sites.rlock_release_save_offset, "RLock._release_save" },
		{ fm->skel->progs.mutex_acquire_enter, &t->interp,
		  fm->sites.rlock_acquire_restore_offset, "RLock._acquire_restore" },
	};

	/* A new epoch first: holds opened before the last detach are not closed by releases
	 * seen from now on (their own release may have been missed). */
	fm->skel->bss->full_epoch = ++fm->epoch;
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		int err;

		if (i >= 2 && (!fm->sites.pymutex || !probes[i].offset))
			continue;
		err = uprobes__attach(&fm->links, probes[i].prog, false, t->pid,
				      probes[i].mod->open_path, &probes[i].offset, 1);
		if (!err)
			sites__mark_full(sites__register(probes[i].mod->open_path, probes[i].offset,
							 false));
		if (err) {
			lp_err("failed to attach uprobe to %s (%s): %s", probes[i].what,
			       probes[i].mod->path, strerror(-err));
			fullmode__detach(fm);
			return err;
		}
	}
	fm->skel->bss->full_on = 1;
	fm->attached = true;
	return 0;
}

void fullmode__detach(struct lp_fullmode *fm)
{
	if (fm->skel)
		fm->skel->bss->full_on = 0;
	links__destroy_all(&fm->links);
	fm->attached = false;
}

int fullmode__start(struct lp_fullmode *fm, uint64_t now_ns)
{
	int err;

	dutycycle__init(&fm->dc, fm->dc.max_overhead * 100.0, fm->probe_cost_ns, now_ns,
			full_hits(fm));
	fm->span = dutycycle__mark(&fm->dc, now_ns);
	err = attach(fm);
	if (err)
		return lp_exit_for_errno(err, LP_EXIT_KERNEL);
	dutycycle__step(&fm->dc, now_ns, full_hits(fm));
	return 0;
}

int fullmode__tick(struct lp_fullmode *fm, uint64_t now_ns, int max_ms)
{
	bool want = dutycycle__step(&fm->dc, now_ns, full_hits(fm));
	uint64_t next_ns;

	if (want && !fm->attached) {
		/* The target keeps running without hold data; contention is still measured. */
		if (attach(fm))
			fm->attach_failures++;
		lp_dbg("-m full: attaching took %.1f ms (duty %.4f of %.1f s)",
		       (double)(clock__monotonic_ns() - now_ns) / 1e6, fm->dc.duty,
		       (double)fm->dc.period_len_ns / 1e9);
	} else if (!want && fm->attached) {
		fullmode__detach(fm);
		/* Slow (uprobe unregistration waits for RCU), but the breakpoints go first. */
		lp_dbg("-m full: detaching took %.1f ms",
		       (double)(clock__monotonic_ns() - now_ns) / 1e6);
	}
	next_ns = dutycycle__next_change_ns(&fm->dc, now_ns);
	if (next_ns / 1000000 < (uint64_t)max_ms)
		return (int)(next_ns / 1000000) + (next_ns % 1000000 ? 1 : 0);
	return max_ms;
}

/* The figures of the span from the last mark to now; then the next span starts. */
static void span_info(struct lp_fullmode *fm, uint64_t now_ns, struct lp_full_info *info)
{
	double duty = dutycycle__average(&fm->dc, &fm->span, now_ns);

	info->measured = true;
	info->capture_pct = fm->capture_pct;
	info->duty_cycle = duty;
	info->overhead_pct = dutycycle__overhead_pct(&fm->dc, &fm->span, now_ns);
	info->probe_cost_ns = fm->probe_cost_ns;
	info->scale_contended = duty > 0 ? 1.0 / duty : 1.0;
	info->scale_sampled = info->scale_contended * 100.0 / fm->capture_pct;
	info->inlined_sites = fm->sites.inlined_sites;
	fm->span = dutycycle__mark(&fm->dc, now_ns);
}

void fullmode__interval(struct lp_fullmode *fm, uint64_t now_ns, struct lp_full_info *info)
{
	/* Bring the totals up to now; the decision is applied at the next tick. */
	dutycycle__step(&fm->dc, now_ns, full_hits(fm));
	span_info(fm, now_ns, info);
}

void fullmode__stop(struct lp_fullmode *fm, uint64_t now_ns, struct lp_full_info *info)
{
	dutycycle__step(&fm->dc, now_ns, full_hits(fm));
	fullmode__detach(fm);
	lp_dbg("-m full: probes attached %.3f of %.3f s, %llu hits",
	       (double)fm->dc.total_attached_ns / 1e9, (double)(now_ns - fm->dc.start_ns) / 1e9,
	       (unsigned long long)fm->dc.total_hits);
	span_info(fm, now_ns, info);
	if (fm->attach_failures)
		lp_warn("-m full: %llu re-attachments of the full-mode probes failed",
			(unsigned long long)fm->attach_failures);
}
