// SPDX-License-Identifier: GPL-2.0
/* The profile face: the engine's stages run once, the collection loop between attach and detach
 * timing the run (-d) and its intervals (-i), the reports written through report/outputs.c. */
#include <stdio.h>

#include "engine/engine.h"
#include "engine/engine_order.h"
#include "engine/fleet.h"
#include "faces/faces.h"
#include "report/outputs.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/stopsignal.h"

/* Wake up every 100 ms to check on the target, and in time for -d and the next report (0: none). */
static int poll_timeout_ms(uint64_t now, uint64_t deadline, uint64_t next_report)
{
	const uint64_t due[] = { deadline, next_report };
	uint64_t ms = 100;

	for (size_t i = 0; i < sizeof(due) / sizeof(due[0]); i++) {
		if (!due[i])
			continue;
		if (due[i] <= now)
			return 0;
		if ((due[i] - now + 999999) / 1000000 < ms)
			ms = (due[i] - now + 999999) / 1000000;
	}
	return (int)ms;
}

/* The report of the span ending at now. */
static int write_report(struct lp_engine *e, struct lp_outputs *out, uint64_t now, bool last)
{
	struct lp_lockorder order = {};
	struct lp_profile profile;
	int err = engine__profile(e, now, last, &profile);

	if (err)
		return err;
	/* -m full: the lock-order graph of the whole run, in the last report. */
	if (last && (e->opts->modes & LP_MODE_FULL) &&
	    !engine__lock_order(e, profile.stacks, &order))
		profile.lockorder = &order;
	err = outputs__write(out, &profile);
	profile__free(&profile);
	lockorder__free(&order);
	return err;
}

/* Collects from start until -d, a signal or the target's exit, writing a report at the end of
 * every -i interval. *stop_ns: when it stopped; *why: what stopped it. */
static int collect(struct lp_engine *e, struct lp_outputs *out, uint64_t start, uint64_t *stop_ns,
		   const char **why)
{
	const struct lp_opts *opts = e->opts;
	uint64_t deadline = opts->duration_s > 0 ? start + (uint64_t)(opts->duration_s * 1e9) : 0;
	uint64_t interval_ns = (uint64_t)(opts->interval_s * 1e9), now = start;
	uint64_t next_report = interval_ns ? start + interval_ns : 0;
	int err = 0;

	*why = "signal";
	while (!stop_signals__requested() && !err) {
		err = engine__poll(e, poll_timeout_ms(now, deadline, next_report), &now);
		if (err) {
			*why = "error";
			err = 0; /* what was collected is still reported */
			break;
		}
		/* Before the interval check: at -d, the final report covers the last interval. */
		if (deadline && now >= deadline) {
			*why = "duration";
			break;
		}
		if (e->target_exited) {
			*why = "target exited";
			break;
		}
		if (next_report && now >= next_report) {
			err = write_report(e, out, now, false);
			next_report += interval_ns;
		}
	}
	*stop_ns = clock__monotonic_ns();
	return err;
}

static void print_banner(const struct lp_engine *e)
{
	const struct lp_opts *opts = e->opts;

	if (opts->duration_s > 0)
		fprintf(stderr,
			"lockprof: pid %d: CPython %s (%s), mode %s, %g s. Ctrl-C stops "
			"early.\n",
			opts->pid, e->interp.version_str, e->target.interp.path,
			opts__mode_name(opts->modes), opts->duration_s);
	else
		fprintf(stderr, "lockprof: pid %d: CPython %s (%s), mode %s. Ctrl-C stops.\n",
			opts->pid, e->interp.version_str, e->target.interp.path,
			opts__mode_name(opts->modes));
}

/* Several processes (-p PID,PID..., --all): the same loop over the fleet, a set of profiles
 * written at the end and every -i. */
static int run_many(const struct lp_opts *opts)
{
	struct lp_fleet *fleet = NULL;
	struct lp_outputs out = {};
	struct lp_profile_set set;
	uint64_t start, deadline, interval_ns = (uint64_t)(opts->interval_s * 1e9), now;
	uint64_t next_report;
	const char *why = "signal";
	int err;

	err = outputs__open(&out, opts);
	if (!err) {
		stop_signals__catch(false);
		err = fleet__new(opts, &fleet);
	}
	if (err) {
		outputs__close(&out);
		return err;
	}
	start = now = fleet__start_ns(fleet);
	deadline = opts->duration_s > 0 ? start + (uint64_t)(opts->duration_s * 1e9) : 0;
	next_report = interval_ns ? start + interval_ns : 0;
	if (opts->all)
		fprintf(stderr,
			"lockprof: every CPython process (%zu now), mode %s%s. Ctrl-C stops.\n",
			fleet__nprocs(fleet), opts__mode_name(opts->modes),
			opts->duration_s > 0 ? ", until -d" : "");
	else
		fprintf(stderr, "lockprof: %zu processes, mode %s%s. Ctrl-C stops.\n",
			fleet__nprocs(fleet), opts__mode_name(opts->modes),
			opts->duration_s > 0 ? ", until -d" : "");
	while (!stop_signals__requested() && !err) {
		if (fleet__poll(fleet, poll_timeout_ms(now, deadline, next_report), &now)) {
			why = "error";
			break;
		}
		if (deadline && now >= deadline) {
			why = "duration";
			break;
		}
		if (fleet__done(fleet)) {
			why = "every process exited";
			break;
		}
		if (next_report && now >= next_report) {
			err = fleet__snapshot(fleet, now, false, &set);
			if (!err)
				err = outputs__write_set(&out, &set);
			profile_set__free(&set);
			next_report += interval_ns;
		}
	}
	now = clock__monotonic_ns();
	fleet__stop(fleet, now);
	lp_info("stopped: %s", why);
	if (!err)
		err = fleet__snapshot(fleet, now, true, &set);
	if (!err) {
		err = outputs__write_set(&out, &set);
		profile_set__free(&set);
	}
	fleet__free(fleet);
	outputs__close(&out);
	return err;
}

int face_profile__run(const struct lp_opts *opts)
{
	struct lp_engine engine;
	struct lp_outputs out = {};
	uint64_t stop_ns;
	const char *why;
	int err;

	if (opts__many(opts))
		return run_many(opts);
	err = engine__discover(&engine, opts);
	if (!err)
		err = outputs__open(&out, opts);
	if (!err) {
		stop_signals__catch(false);
		err = engine__load(&engine);
	}
	if (!err)
		err = engine__attach(&engine);
	if (!err) {
		/* The banner says the probes are live: scripts start their workload on it. */
		print_banner(&engine);
		err = collect(&engine, &out, engine.start_ns, &stop_ns, &why);
		engine__detach(&engine, stop_ns);
		lp_info("stopped: %s", why);
		if (!err)
			err = write_report(&engine, &out, stop_ns, true);
	}
	engine__close(&engine);
	outputs__close(&out);
	return err;
}
