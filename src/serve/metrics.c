// SPDX-License-Identifier: GPL-2.0
/* The Prometheus text format of the store (metrics.h). */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <string.h>

#include "serve/metrics.h"

#define LABELS 1024 /* pid, comm, lock, site, kind, escaped */

/* Histogram bounds: every third log2 slot, 2^10 ns (1 us) to 2^34 ns (17 s). */
#define HIST_FIRST_LOG2 10
#define HIST_LAST_LOG2 34
#define HIST_STEP_LOG2 3

/* Length of the valid UTF-8 sequence at s, or 0 when it is not one. */
static size_t utf8_len(const unsigned char *s)
{
	size_t n;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0 && s[0] >= 0xc2)
		n = 2;
	else if ((s[0] & 0xf0) == 0xe0)
		n = 3;
	else if ((s[0] & 0xf8) == 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

void metrics__escape(const char *in, char *out, size_t len)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t o = 0;

	while (*s) {
		size_t n = utf8_len(s);
		const char *esc = NULL;
		char one[2] = { (char)*s, 0 };

		if (*s == '\\')
			esc = "\\\\";
		else if (*s == '"')
			esc = "\\\"";
		else if (*s == '\n')
			esc = "\\n";
		else if (!n)
			esc = "?";
		else if (n == 1)
			esc = one;
		if (esc) {
			size_t k = strlen(esc);

			if (o + k >= len)
				break;
			memcpy(out + o, esc, k);
			o += k;
			s++;
			continue;
		}
		if (o + n >= len)
			break;
		memcpy(out + o, s, n);
		o += n;
		s += n;
	}
	out[o] = '\0';
}

/* Seconds from nanoseconds, exactly: counters of days of waits keep every nanosecond. */
static void seconds(FILE *f, uint64_t ns)
{
	fprintf(f, "%" PRIu64 ".%09" PRIu64, ns / (uint64_t)1000000000, ns % (uint64_t)1000000000);
}

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void proc_labels(const struct lp_store_proc *p, char *buf, size_t len)
{
	char comm[4 * LP_STORE_COMM_LEN];

	metrics__escape(p->comm, comm, sizeof(comm));
	snprintf(buf, len, "pid=\"%d\",comm=\"%s\"", (int)p->pid, comm);
}

static void series_labels(const struct lp_store_proc *p, const struct lp_store_series *se,
			  char *buf, size_t len)
{
	char pl[128], lock[256], site[384];

	proc_labels(p, pl, sizeof(pl));
	metrics__escape(se->lock, lock, sizeof(lock));
	metrics__escape(se->site, site, sizeof(site));
	snprintf(buf, len, "%s,lock=\"%s\",site=\"%s\",kind=\"%s\"", pl, lock, site, se->kind);
}

/* The per-lock counter families: one table, since each family is the same loop over every
 * process's series (the exposition format groups a family's samples together). */
static const struct lock_counter {
	const char *name, *help;
	size_t field; /* offsetof a uint64_t in struct lp_store_series */
	bool seconds; /* the field is nanoseconds, exposed in seconds */
	bool hold;    /* -m full only */
} lock_counter_families[] = {
	{ "lockprof_lock_waits_total",
	  "Contended acquisitions: times a thread blocked waiting for the lock.",
	  offsetof(struct lp_store_series, waits), false, false },
	{ "lockprof_lock_wait_seconds_total", "Time threads spent blocked waiting for the lock.",
	  offsetof(struct lp_store_series, wait_ns), true, false },
	{ "lockprof_lock_acquisitions_total",
	  "-m full: acquisitions of the lock (upscaled from the sampled ones).",
	  offsetof(struct lp_store_series, hold_count), false, true },
	{ "lockprof_lock_hold_seconds_total",
	  "-m full: time the lock was held (upscaled from the sampled holds).",
	  offsetof(struct lp_store_series, hold_ns), true, true },
};

static void lock_counters(FILE *f, const struct lp_store *s, bool hold)
{
	char labels[LABELS];

	for (size_t k = 0; k < sizeof(lock_counter_families) / sizeof(lock_counter_families[0]);
	     k++) {
		const struct lock_counter *c = &lock_counter_families[k];

		if (c->hold && !hold)
			continue;
		family(f, c->name, "counter", c->help);
		for (size_t i = 0; i < s->nprocs; i++)
			for (size_t j = 0; j < s->procs[i]->nseries; j++) {
				const struct lp_store_series *se = &s->procs[i]->series[j];
				uint64_t v;

				memcpy(&v, (const char *)se + c->field, sizeof(v));
				series_labels(s->procs[i], se, labels, sizeof(labels));
				fprintf(f, "%s{%s} ", c->name, labels);
				if (c->seconds)
					seconds(f, v);
				else
					fprintf(f, "%" PRIu64, v);
				fputc('\n', f);
			}
	}
}

static void histogram(FILE *f, const struct lp_store *s)
{
	char labels[LABELS];

	family(f, "lockprof_lock_wait_duration_seconds", "histogram",
	       "Wait times of the lock's contended acquisitions.");
	for (size_t i = 0; i < s->nprocs; i++)
		for (size_t j = 0; j < s->procs[i]->nseries; j++) {
			const struct lp_store_series *se = &s->procs[i]->series[j];
			uint64_t below = 0;
			int slot = 0;

			series_labels(s->procs[i], se, labels, sizeof(labels));
			/* Slot k holds [2^k, 2^(k+1)) ns: bound 2^b counts slots below b. */
			for (int b = HIST_FIRST_LOG2; b <= HIST_LAST_LOG2; b += HIST_STEP_LOG2) {
				for (; slot < b && slot < LP_HIST_SLOTS; slot++)
					below += se->hist[slot];
				fprintf(f,
					"lockprof_lock_wait_duration_seconds_bucket{%s,le=\"%.9g\"} "
					"%" PRIu64 "\n",
					labels, (double)(1ULL << b) / 1e9, below);
			}
			fprintf(f,
				"lockprof_lock_wait_duration_seconds_bucket{%s,le=\"+Inf\"} %" PRIu64
				"\n",
				labels, se->waits);
			fprintf(f, "lockprof_lock_wait_duration_seconds_sum{%s} ", labels);
			seconds(f, se->wait_ns);
			fprintf(f, "\nlockprof_lock_wait_duration_seconds_count{%s} %" PRIu64 "\n",
				labels, se->waits);
		}
}

/* One counter or gauge per process, from its health. */
enum proc_figure {
	FIG_GIL_WAITS,
	FIG_GIL_SECONDS,
	FIG_HITS,
	FIG_LOST,
	FIG_READ_ERR,
	FIG_COST,
	FIG_COST_SECONDS,
};

static void per_proc(FILE *f, const struct lp_store *s, const char *name, const char *type,
		     const char *help, enum proc_figure fig)
{
	char labels[128];

	family(f, name, type, help);
	for (size_t i = 0; i < s->nprocs; i++) {
		const struct lp_store_health *h = &s->procs[i]->health;

		proc_labels(s->procs[i], labels, sizeof(labels));
		fprintf(f, "%s{%s} ", name, labels);
		switch (fig) {
		case FIG_GIL_WAITS:
			fprintf(f, "%" PRIu64 "\n", h->gil_waits);
			break;
		case FIG_GIL_SECONDS:
			seconds(f, h->gil_wait_ns);
			fputc('\n', f);
			break;
		case FIG_HITS:
			fprintf(f, "%" PRIu64 "\n", h->probe_hits);
			break;
		case FIG_LOST:
			fprintf(f, "%" PRIu64 "\n", h->lost_events);
			break;
		case FIG_READ_ERR:
			fprintf(f, "%" PRIu64 "\n", h->read_errors);
			break;
		case FIG_COST:
			fprintf(f, "%.6f\n", h->overhead_pct / 100.0);
			break;
		case FIG_COST_SECONDS:
			fprintf(f, "%.6f\n", h->overhead_ns / 1e9);
			break;
		}
	}
}

static void global(FILE *f, const char *name, const char *type, const char *help, uint64_t v)
{
	family(f, name, type, help);
	fprintf(f, "%s %" PRIu64 "\n", name, v);
}

int metrics__write(FILE *f, const struct lp_store *s, const struct lp_metrics_info *info)
{
	lock_counters(f, s, info->hold);
	histogram(f, s);
	if (info->gil) {
		per_proc(f, s, "lockprof_gil_waits_total", "counter",
			 "Times a thread waited to take the GIL.", FIG_GIL_WAITS);
		per_proc(f, s, "lockprof_gil_wait_seconds_total", "counter",
			 "Time threads spent waiting to take the GIL.", FIG_GIL_SECONDS);
	}
	per_proc(f, s, "lockprof_probe_hits_total", "counter",
		 "lockprof's probes run in the process (each costs it a trap).", FIG_HITS);
	per_proc(f, s, "lockprof_lost_events_total", "counter",
		 "Waits or stacks not recorded: ring buffer or a BPF map full.", FIG_LOST);
	per_proc(f, s, "lockprof_read_errors_total", "counter",
		 "Reads of the process's memory that failed (frames left unknown).", FIG_READ_ERR);
	per_proc(f, s, "lockprof_estimated_overhead_ratio", "gauge",
		 "lockprof's estimated cost to the process over the last second, share of one "
		 "CPU.",
		 FIG_COST);
	per_proc(f, s, "lockprof_estimated_overhead_seconds_total", "counter",
		 "lockprof's estimated cost to the process: CPU seconds its probes took.",
		 FIG_COST_SECONDS);
	global(f, "lockprof_processes_profiled", "gauge", "Processes lockprof profiles now.",
	       info->procs.live);
	global(f, "lockprof_processes_attached_total", "counter",
	       "Processes whose probes went live (--all: as they start).", info->procs.attached);
	global(f, "lockprof_processes_exited_total", "counter",
	       "Profiled processes that exited (their probes released).", info->procs.exited);
	global(f, "lockprof_attach_failures_total", "counter",
	       "Attempts to profile a process that failed (--all retries them).",
	       info->procs.attach_failures);
	global(f, "lockprof_processes_skipped_total", "counter",
	       "Processes not profiled: --max-processes reached.", info->procs.skipped);
	global(f, "lockprof_bpf_map_bytes", "gauge",
	       "Memory of the BPF maps of the processes profiled now.", info->procs.bpf_map_bytes);
	global(f, "lockprof_processes_dropped_total", "counter",
	       "Exited processes whose series were dropped after --retain-exited, or processes "
	       "past the cap.",
	       s->procs_dropped);
	global(f, "lockprof_series_overflow_waits_total", "counter",
	       "Waits filed under lock=\"other\": their lock came past --max-series.",
	       s->series_overflow_waits);
	global(f, "lockprof_stacks_evicted_total", "counter",
	       "Waits filed under the \"<other stacks>\" frame: past the stack cap per process.",
	       s->samples_evicted);
	global(f, "lockprof_errors_total", "counter",
	       "Failures lockprof met while serving (see its log).", s->errors + info->errors);
	global(f, "lockprof_http_requests_total", "counter", "HTTP requests answered.",
	       info->http_requests);
	global(f, "lockprof_http_refused_total", "counter",
	       "HTTP requests refused (bad request, not found, stopping).", info->http_refused);
	family(f, "lockprof_build_info", "gauge", "lockprof's version.");
	fprintf(f, "lockprof_build_info{version=\"%s\"} 1\n", LOCKPROF_VERSION);
	return ferror(f) ? -EIO : 0;
}
