// SPDX-License-Identifier: GPL-2.0
/* The fleet (see fleet.h): one engine per process, all waited on through one epoll fd. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "engine/engine.h"
#include "engine/fleet.h"
#include "target/privilege.h"
#include "target/procscan.h"
#include "util/clock.h"
#include "util/log.h"

#define SCAN_NS 1000000000ULL /* --all: how often /proc is read again for new processes */
/* --all: attaching is synchronous (load, verify, place the probes: ~0.2 s, seconds on a loaded
 * machine), so a scan stops attaching past this and the next poll scans again at once: the
 * caller's loop (serve's HTTP requests) runs between attaches, not after a burst of them. */
#define SCAN_ATTACH_BUDGET_NS 200000000ULL
#define MAX_ATTEMPTS 5 /* attach attempts at one process (1, 2, 4, 8 s apart) */
#define PIDFD_TAG 1    /* epoll data: the process's pidfd, not its ring buffer */

struct fleet_proc {
	struct lp_proc_info info;
	struct lp_opts opts; /* the fleet's, with this pid: the engine borrows it */
	struct lp_engine engine;
	uint64_t start_unix_ns;
	struct lp_counters counters; /* cumulative: the sum of every profile's */
	struct lp_caps caps;	     /* as of its last profile */
	struct lp_profile last;	     /* exited: its last profile */
	bool has_last;
	bool live;     /* attached, not yet seen to exit */
	bool reported; /* -i: its last profile went into a snapshot */
};

/* --all: a process that could not be attached, tried again later. */
struct fleet_retry {
	pid_t pid;
	unsigned int failures;
	uint64_t next_ns; /* UINT64_MAX: given up */
	bool capped;	  /* left out by --max-processes (counted once) */
	bool seen;	  /* in the last scan */
};

struct lp_fleet {
	const struct lp_opts *opts;
	int epfd;
	struct fleet_proc **procs; /* attach order */
	size_t nprocs, procs_cap;
	struct lp_procscan *scan;
	struct fleet_retry *retries;
	size_t nretries, retries_cap;
	uint64_t start_ns, start_unix_ns, span_start_ns, span_start_unix_ns, next_scan_ns;
	struct lp_trap_costs costs; /* calibrated by the first engine */
	bool calibrated;
	unsigned int interval;
	bool warned_cap;
	struct lp_fleet_health health;
	struct lp_caps evicted_caps; /* of the processes evicted */
};

static bool interval_mode(const struct lp_fleet *f)
{
	return f->opts->interval_s > 0;
}

static const char *exit_reason(int err)
{
	switch (err) {
	case LP_EXIT_NO_PROCESS:
		return "it exited";
	case LP_EXIT_NOT_PYTHON:
		return "not a CPython process lockprof can read";
	case LP_EXIT_UNSUPPORTED:
		return "unsupported CPython version or build";
	case LP_EXIT_PRIVILEGE:
		return "insufficient privilege";
	case LP_EXIT_KERNEL:
		return "loading or attaching the probes failed";
	case LP_EXIT_NOTHING_TO_DO:
		return "nothing to measure in it with this -m";
	default:
		return "an error";
	}
}

static void proc_free(struct fleet_proc *p)
{
	engine__close(&p->engine);
	profile__free(&p->last);
	free(p);
}

static int watch(struct lp_fleet *f, struct fleet_proc *p)
{
	struct epoll_event ring = { .events = EPOLLIN, .data.ptr = p };
	struct epoll_event pidfd = { .events = EPOLLIN, .data.u64 = (uintptr_t)p | PIDFD_TAG };

	if (epoll_ctl(f->epfd, EPOLL_CTL_ADD, ring_buffer__epoll_fd(p->engine.events), &ring))
		return -errno;
	if (p->engine.pidfd >= 0 && epoll_ctl(f->epfd, EPOLL_CTL_ADD, p->engine.pidfd, &pidfd))
		return -errno;
	return 0;
}

static void unwatch(struct lp_fleet *f, struct fleet_proc *p)
{
	if (p->engine.events)
		epoll_ctl(f->epfd, EPOLL_CTL_DEL, ring_buffer__epoll_fd(p->engine.events), NULL);
	if (p->engine.pidfd >= 0)
		epoll_ctl(f->epfd, EPOLL_CTL_DEL, p->engine.pidfd, NULL);
}

/* Discovers, loads and attaches pid. 0 or the LP_EXIT_* code of the stage that failed. */
static int attach(struct lp_fleet *f, pid_t pid)
{
	struct fleet_proc *p = calloc(1, sizeof(*p));
	int err;

	if (!p) {
		lp_err("pid %d: out of memory", pid);
		return LP_EXIT_ERROR;
	}
	if (f->nprocs == f->procs_cap) {
		size_t cap = f->procs_cap ? f->procs_cap * 2 : 16;
		struct fleet_proc **procs = realloc(f->procs, cap * sizeof(*procs));

		if (!procs) {
			free(p);
			lp_err("pid %d: out of memory", pid);
			return LP_EXIT_ERROR;
		}
		f->procs = procs;
		f->procs_cap = cap;
	}
	p->opts = *f->opts;
	p->opts.pid = pid;
	procscan__comm(f->scan, pid, p->info.comm, sizeof(p->info.comm));
	err = engine__discover(&p->engine, &p->opts);
	if (!err) {
		p->engine.calibrated = f->calibrated ? &f->costs : NULL;
		p->engine.accumulate = !interval_mode(f);
		err = engine__load(&p->engine);
	}
	if (!err)
		err = engine__attach(&p->engine);
	/* Calibrated once per run, even when this process then failed (it exited meanwhile). */
	if (!f->calibrated && p->engine.budget.skel) {
		f->costs = p->engine.budget.costs;
		f->calibrated = true;
	}
	if (!err && watch(f, p)) {
		lp_err("pid %d: cannot wait for its events: %s", pid, strerror(errno));
		err = LP_EXIT_ERROR;
	}
	if (err) {
		unwatch(f, p);
		proc_free(p);
		return err;
	}
	p->info.pid = pid;
	snprintf(p->info.python, sizeof(p->info.python), "%s", p->engine.interp.version_str);
	p->info.attached_ns = p->engine.start_ns;
	p->start_unix_ns = clock__realtime_ns();
	p->live = true;
	f->procs[f->nprocs++] = p;
	f->health.attached++;
	f->health.live++;
	lp_info("pid %d (%s): CPython %s, profiled", pid, p->info.comm, p->info.python);
	return 0;
}

/* A cumulative profile (no -i) counts from the process's attach: the counters and span the
 * collector gives per build are summed up. */
static void make_cumulative(const struct lp_fleet *f, struct fleet_proc *p, struct lp_profile *pr,
			    uint64_t now_ns)
{
	__u64 *sum = (__u64 *)&p->counters;
	const __u64 *add = (const __u64 *)&pr->counters;

	snprintf(pr->comm, sizeof(pr->comm), "%s", p->info.comm);
	p->caps = pr->caps;
	if (interval_mode(f))
		return;
	for (size_t i = 0; i < sizeof(p->counters) / sizeof(__u64); i++)
		sum[i] += add[i];
	pr->counters = p->counters;
	pr->duration_ns = now_ns - p->info.attached_ns;
	pr->start_unix_ns = p->start_unix_ns;
}

static void caps_add(struct lp_caps *sum, const struct lp_caps *c)
{
	sum->folded_waits += c->folded_waits;
	sum->dropped_waits += c->dropped_waits;
	sum->names_evicted += c->names_evicted;
}

/* Forgets the exited process at i (its counts kept in the evicted processes' caps). */
static void proc_remove(struct lp_fleet *f, size_t i)
{
	caps_add(&f->evicted_caps, &f->procs[i]->caps);
	proc_free(f->procs[i]);
	memmove(&f->procs[i], &f->procs[i + 1], (f->nprocs - i - 1) * sizeof(*f->procs));
	f->nprocs--;
}

/* Drops the oldest exited processes beyond the cap (cumulative profiles keep exited ones). */
static void evict_exited(struct lp_fleet *f)
{
	size_t exited = 0;

	for (size_t i = 0; i < f->nprocs; i++)
		exited += !f->procs[i]->live;
	for (size_t i = 0; i < f->nprocs && exited > LP_FLEET_MAX_EXITED;) {
		if (f->procs[i]->live) {
			i++;
			continue;
		}
		proc_remove(f, i);
		exited--;
		f->health.evicted++;
	}
}

/* The process exited: its probes are removed and BPF object released; its last profile stays. */
static void proc_exited(struct lp_fleet *f, struct fleet_proc *p, uint64_t now_ns)
{
	engine__detach(&p->engine, now_ns);
	if (!engine__profile(&p->engine, now_ns, true, &p->last)) {
		make_cumulative(f, p, &p->last, now_ns);
		p->last.exited = true;
		p->has_last = true;
	}
	unwatch(f, p);
	engine__release(&p->engine);
	p->live = false;
	p->info.exited = true;
	p->info.exited_ns = now_ns;
	f->health.live--;
	f->health.exited++;
	lp_info("pid %d (%s) exited: its probes are released", p->info.pid, p->info.comm);
}

static struct fleet_retry *retry_find(struct lp_fleet *f, pid_t pid)
{
	for (size_t i = 0; i < f->nretries; i++)
		if (f->retries[i].pid == pid)
			return &f->retries[i];
	return NULL;
}

static struct fleet_retry *retry_get(struct lp_fleet *f, pid_t pid)
{
	struct fleet_retry *r = retry_find(f, pid);

	if (r)
		return r;
	if (f->nretries == f->retries_cap) {
		size_t cap = f->retries_cap ? f->retries_cap * 2 : 16;
		struct fleet_retry *grown = realloc(f->retries, cap * sizeof(*grown));

		if (!grown)
			return NULL;
		f->retries = grown;
		f->retries_cap = cap;
	}
	r = &f->retries[f->nretries++];
	*r = (struct fleet_retry){ .pid = pid };
	return r;
}

static bool is_live(const struct lp_fleet *f, pid_t pid)
{
	for (size_t i = 0; i < f->nprocs; i++)
		if (f->procs[i]->live && f->procs[i]->info.pid == pid)
			return true;
	return false;
}

/* One process --all found: attached, or left for a later scan. */
static void try_found(struct lp_fleet *f, pid_t pid, uint64_t now_ns)
{
	struct fleet_retry *r = retry_find(f, pid);
	char comm[LP_COMM_LEN];
	int err;

	if (r) {
		r->seen = true;
		if (r->next_ns > now_ns)
			return;
	}
	if (f->health.live >= f->opts->max_processes) {
		if (!f->warned_cap)
			lp_warn("--max-processes %u reached: pid %d and other CPython processes are "
				"not profiled (raise --max-processes to profile them)",
				f->opts->max_processes, pid);
		f->warned_cap = true;
		if ((r = retry_get(f, pid)) && !r->capped) {
			r->capped = true;
			f->health.skipped++;
		}
		if (r)
			r->seen = true;
		return;
	}
	lp_quiet++;
	err = attach(f, pid);
	lp_quiet--;
	if (!err) {
		if (r)
			*r = f->retries[--f->nretries];
		return;
	}
	f->health.attach_failures++;
	if (!(r = retry_get(f, pid)))
		return;
	r->seen = true;
	r->failures++;
	if (r->failures < MAX_ATTEMPTS && err != LP_EXIT_NOTHING_TO_DO &&
	    err != LP_EXIT_UNSUPPORTED) {
		r->next_ns = now_ns + (SCAN_NS << (r->failures - 1));
		return;
	}
	r->next_ns = UINT64_MAX;
	procscan__comm(f->scan, pid, comm, sizeof(comm));
	if (err != LP_EXIT_NO_PROCESS)
		lp_warn("pid %d (%s): not profiled: %s (-v says more)", pid, comm,
			exit_reason(err));
}

/* --all: the CPython processes /proc shows now; new ones attached. True when it stopped
 * attaching for the budget, with new processes left. */
static bool rescan(struct lp_fleet *f, uint64_t now_ns)
{
	static pid_t pids[LP_MAX_PROCESSES_LIMIT * 4];
	size_t n = 0;
	int err = procscan__scan(f->scan, pids, sizeof(pids) / sizeof(pids[0]), &n);

	f->health.scans++;
	if (err) {
		lp_warn("cannot list the processes in /proc: %s", strerror(-err));
		return false;
	}
	for (size_t i = 0; i < f->nretries; i++)
		f->retries[i].seen = false;
	for (size_t i = 0; i < n; i++) {
		if (is_live(f, pids[i]))
			continue;
		if (clock__monotonic_ns() - now_ns > SCAN_ATTACH_BUDGET_NS)
			return true; /* the rest next time; retries left unswept */
		try_found(f, pids[i], now_ns);
	}
	/* Processes gone from /proc are forgotten: a new one may get their pid. */
	for (size_t i = 0; i < f->nretries;)
		if (f->retries[i].seen)
			i++;
		else
			f->retries[i] = f->retries[--f->nretries];
	return false;
}

int fleet__new(const struct lp_opts *opts, struct lp_fleet **out)
{
	struct lp_fleet *f = calloc(1, sizeof(*f));
	uint64_t now;
	int err = 0;

	*out = NULL;
	if (!f || (f->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    !(f->scan = procscan__new("/proc", getpid()))) {
		lp_err("cannot set up the process list: %s", strerror(errno));
		if (f && f->epfd > 0)
			close(f->epfd);
		free(f);
		return LP_EXIT_ERROR;
	}
	f->opts = opts;
	f->interval = interval_mode(f) ? 1 : 0;
	/* --all: lockprof's own rights first, or every process found would fail for the same
	 * reason, each in a warning of its own. */
	if (opts->all && (err = privilege__check(0))) {
		fleet__free(f);
		return err;
	}
	if (opts->all)
		rescan(f, clock__monotonic_ns());
	for (size_t i = 0; i < opts->npids && !err; i++)
		err = attach(f, opts->pids[i]);
	if (err) {
		fleet__free(f);
		return err;
	}
	now = clock__monotonic_ns();
	f->start_ns = f->span_start_ns = now;
	f->start_unix_ns = f->span_start_unix_ns = clock__realtime_ns();
	f->next_scan_ns = now + SCAN_NS;
	*out = f;
	return 0;
}

uint64_t fleet__start_ns(const struct lp_fleet *f)
{
	return f->start_ns;
}

int fleet__fd(const struct lp_fleet *f)
{
	return f->epfd;
}

/* -i: exited processes whose last profile was in a snapshot are dropped. */
static void drop_reported(struct lp_fleet *f)
{
	for (size_t i = 0; i < f->nprocs;) {
		if (!f->procs[i]->reported) {
			i++;
			continue;
		}
		proc_remove(f, i);
	}
}

int fleet__poll(struct lp_fleet *f, int timeout_ms, uint64_t *now_ns)
{
	struct epoll_event evs[64];
	int n;

	drop_reported(f);
	if (f->opts->all) {
		uint64_t now = clock__monotonic_ns();
		int to_scan = f->next_scan_ns > now ? (int)((f->next_scan_ns - now) / 1000000) : 0;

		if (to_scan < timeout_ms)
			timeout_ms = to_scan;
	}
	n = epoll_wait(f->epfd, evs, sizeof(evs) / sizeof(evs[0]), timeout_ms);
	if (n < 0 && errno != EINTR) {
		lp_err("waiting for the processes' events failed: %s", strerror(errno));
		return LP_EXIT_ERROR;
	}
	/* Every live engine is polled without waiting: its ring buffer drained, its budget and
	 * thread names kept up, its exit seen. */
	for (size_t i = 0; i < f->nprocs; i++) {
		struct fleet_proc *p = f->procs[i];
		uint64_t t;

		if (!p->live)
			continue;
		if (engine__poll(&p->engine, 0, &t)) {
			lp_warn("pid %d (%s): collection failed: detached", p->info.pid,
				p->info.comm);
			p->engine.target_exited = true;
		}
		if (p->engine.target_exited)
			proc_exited(f, p, t);
	}
	*now_ns = clock__monotonic_ns();
	if (f->opts->all && *now_ns >= f->next_scan_ns) {
		bool more = rescan(f, *now_ns);

		f->next_scan_ns = more ? clock__monotonic_ns() : *now_ns + SCAN_NS;
		*now_ns = clock__monotonic_ns();
	}
	if (!interval_mode(f))
		evict_exited(f);
	return 0;
}

bool fleet__done(const struct lp_fleet *f)
{
	return !f->opts->all && !f->health.live;
}

size_t fleet__nprocs(const struct lp_fleet *f)
{
	return f->nprocs;
}

const struct lp_proc_info *fleet__proc(const struct lp_fleet *f, size_t i)
{
	return i < f->nprocs ? &f->procs[i]->info : NULL;
}

void fleet__health(const struct lp_fleet *f, struct lp_fleet_health *h)
{
	*h = f->health;
	h->bpf_map_bytes = 0;
	h->caps = f->evicted_caps;
	for (size_t i = 0; i < f->nprocs; i++) {
		caps_add(&h->caps, &f->procs[i]->caps);
		if (f->procs[i]->live)
			h->bpf_map_bytes += engine__map_bytes(&f->procs[i]->engine);
	}
}

int fleet__snapshot(struct lp_fleet *f, uint64_t now_ns, bool last, struct lp_profile_set *set)
{
	int err = 0;

	memset(set, 0, sizeof(*set));
	for (size_t i = 0; i < f->nprocs && !err; i++) {
		struct fleet_proc *p = f->procs[i];
		struct lp_profile pr;

		if (p->live) {
			err = engine__profile(&p->engine, now_ns, last, &pr);
			if (err)
				break;
			make_cumulative(f, p, &pr, now_ns);
			if (profile_set__add(set, &p->info, &pr, false)) {
				profile__free(&pr);
				err = LP_EXIT_ERROR;
			}
		} else if (p->has_last && !p->reported) {
			if (profile_set__add(set, &p->info, &p->last, true))
				err = LP_EXIT_ERROR;
			p->reported = interval_mode(f);
		}
	}
	if (err) {
		lp_err("failed to build the processes' profiles");
		profile_set__free(set);
		return err;
	}
	fleet__health(f, &set->health);
	if (interval_mode(f)) {
		set->start_unix_ns = f->span_start_unix_ns;
		set->duration_ns = now_ns - f->span_start_ns;
		set->interval = f->interval++;
		f->span_start_ns = now_ns;
		f->span_start_unix_ns = clock__realtime_ns();
	} else {
		set->start_unix_ns = f->start_unix_ns;
		set->duration_ns = now_ns - f->start_ns;
	}
	profile_set__sort(set);
	return 0;
}

void fleet__stop(struct lp_fleet *f, uint64_t now_ns)
{
	for (size_t i = 0; i < f->nprocs; i++)
		if (f->procs[i]->live)
			engine__detach(&f->procs[i]->engine, now_ns);
}

void fleet__free(struct lp_fleet *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->nprocs; i++) {
		unwatch(f, f->procs[i]);
		proc_free(f->procs[i]);
	}
	free(f->procs);
	free(f->retries);
	procscan__free(f->scan);
	if (f->epfd >= 0)
		close(f->epfd);
	free(f);
}
