// SPDX-License-Identifier: GPL-2.0
/* Reports of several processes (see report.h): the set written in one format, each process's
 * profile by the format's own renderer. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "report/render.h"
#include "report/report.h"
#include "util/units.h"

static const struct lp_report_opts defaults;

static void write_health_json(FILE *f, const struct lp_fleet_health *h)
{
	fprintf(f,
		" \"health\": {\"processes_live\": %zu, \"processes_attached\": %" PRIu64
		", \"processes_exited\": %" PRIu64 ", \"attach_failures\": %" PRIu64
		", \"processes_skipped\": %" PRIu64 ", \"processes_evicted\": %" PRIu64
		", \"scans\": %" PRIu64 ", \"bpf_map_bytes\": %" PRIu64
		",\n   \"waits_folded\": %" PRIu64 ", \"waits_dropped\": %" PRIu64
		", \"thread_names_evicted\": %" PRIu64 "},\n",
		h->live, h->attached, h->exited, h->attach_failures, h->skipped, h->evicted,
		h->scans, h->bpf_map_bytes, h->caps.folded_waits, h->caps.dropped_waits,
		h->caps.names_evicted);
}

/* {"processes": [one single-process report per process]}, with the fleet's figures. */
static int write_json(FILE *f, const struct lp_profile_set *set)
{
	fprintf(f,
		"{\"version\": 1, \"lockprof\": \"%s\", \"start_unix_ns\": %" PRIu64
		", \"duration_ns\": %" PRIu64 ",\n",
		LOCKPROF_VERSION, set->start_unix_ns, set->duration_ns);
	if (set->interval)
		fprintf(f, " \"interval\": %u,\n", set->interval);
	else
		fputs(" \"interval\": null,\n", f);
	write_health_json(f, &set->health);
	fputs(" \"processes\": [", f);
	for (size_t i = 0; i < set->n; i++) {
		int err;

		fputs(i ? ",\n" : "\n", f);
		err = report_json__write(f, &set->procs[i].profile);
		if (err)
			return err;
	}
	fputs("]}\n", f);
	return ferror(f) ? -EIO : 0;
}

/* The lock that waited longest in p, as the process table names it. */
static const char *top_lock(const struct lp_profile *p, char *buf, size_t len)
{
	const struct lp_lock *top = NULL;
	char name[32];

	for (size_t i = 0; i < p->nlocks; i++)
		if (p->locks[i].category == LP_CATEGORY_CONTENTION &&
		    (!top || p->locks[i].wait_ns > top->wait_ns))
			top = &p->locks[i];
	if (!top)
		return "-";
	if (top->site)
		snprintf(buf, len, "%s:%d %s", report__short_path(top->site->file), top->site->line,
			 report__lock_name(top, name, sizeof(name)));
	else
		snprintf(buf, len, "%s", report__lock_name(top, name, sizeof(name)));
	return buf;
}

/* A table of the processes, then each process's own report. */
static int write_text(FILE *f, const struct lp_profile_set *set, const struct lp_report_opts *o)
{
	const struct lp_fleet_health *h = &set->health;
	size_t exited = 0;
	char a[32], b[32], lock[192];

	for (size_t i = 0; i < set->n; i++)
		exited += set->procs[i].proc.exited;
	if (set->interval)
		fprintf(f, "Interval %u\n", set->interval);
	fprintf(f, "%zu process%s profiled (%zu exited), %.1f s.", set->n, set->n == 1 ? "" : "es",
		exited, (double)set->duration_ns / 1e9);
	if (h->attach_failures || h->skipped || h->evicted)
		fprintf(f,
			" %" PRIu64 " failed attach attempts, %" PRIu64
			" processes skipped (--max-processes), %" PRIu64
			" exited processes dropped from this report.",
			h->attach_failures, h->skipped, h->evicted);
	if (h->caps.folded_waits || h->caps.dropped_waits || h->caps.names_evicted)
		fprintf(f,
			" Memory caps: %" PRIu64 " waits of threads past the cap kept as other "
			"threads (tid 0), %" PRIu64 " waits dropped, %" PRIu64
			" exited threads' names forgotten.",
			h->caps.folded_waits, h->caps.dropped_waits, h->caps.names_evicted);
	fputs("\n\n", f);
	fprintf(f, "%8s  %-15s  %-8s  %-7s  %8s  %9s  %s\n", "PID", "COMM", "PYTHON", "STATE",
		"WAITS", "TOTAL", "TOP LOCK");
	for (size_t i = 0; i < set->n; i++) {
		const struct lp_profile *p = &set->procs[i].profile;

		fprintf(f, "%8d  %-15s  %-8s  %-7s  %8s  %9s  %s\n", (int)p->pid,
			p->comm[0] ? p->comm : "?", p->python,
			set->procs[i].proc.exited ? "exited" : "live",
			units__count(p->total_waits, a, sizeof(a)),
			units__duration(p->total_wait_ns, b, sizeof(b)),
			top_lock(p, lock, sizeof(lock)));
	}
	for (size_t i = 0; i < set->n; i++) {
		const struct lp_profile *p = &set->procs[i].profile;
		struct lp_profile section = *p;
		int err;

		fprintf(f, "\n=== pid %d (%s), CPython %s%s ===\n", (int)p->pid,
			p->comm[0] ? p->comm : "?", p->python,
			set->procs[i].proc.exited ? ", exited" : "");
		section.interval = 0; /* said once, above */
		err = report_text__write(f, &section, o);
		if (err)
			return err;
	}
	return ferror(f) ? -EIO : 0;
}

int report__write_set(FILE *f, enum lp_format fmt, const struct lp_profile_set *set,
		      const struct lp_report_opts *o)
{
	const struct lp_profile **ps;
	int err;

	if (!o)
		o = &defaults;
	if (fmt == LP_FORMAT_TEXT)
		return write_text(f, set, o);
	if (fmt == LP_FORMAT_JSON)
		return write_json(f, set);
	if (fmt != LP_FORMAT_COLLAPSED && fmt != LP_FORMAT_PPROF)
		return -EINVAL; /* html shows one process (refused by the command line) */
	ps = calloc(set->n ? set->n : 1, sizeof(*ps));
	if (!ps)
		return -ENOMEM;
	for (size_t i = 0; i < set->n; i++)
		ps[i] = &set->procs[i].profile;
	if (fmt == LP_FORMAT_COLLAPSED)
		err = report_collapsed__write_set(f, ps, set->n, true, o);
	else
		err = report_pprof__write_set(f, ps, set->n, o);
	free(ps);
	return err;
}
