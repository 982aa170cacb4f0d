/* SPDX-License-Identifier: GPL-2.0 */
/* The in-memory profile every report renders: symbolized stacks, and per lock its waits, histogram
 * and the stacks that waited, built from the BPF maps' contents. */
#ifndef LOCKPROF_SRC_PROFILE_H
#define LOCKPROF_SRC_PROFILE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "collect/threadnames.h"
#include "probes/sites.h"
#include "lockprof/abi.h"
#include "profile/kinds.h"
#include "profile/stacktab.h"

struct lp_lockorder;

/* One thread's waits for the GIL. */
struct lp_gil_thread {
	uint32_t tid;
	uint64_t waits, wait_ns, max_ns;
	uint64_t hist[LP_HIST_SLOTS];
};

/* One thread's part of a stack's waits (pprof labels its samples by thread). */
struct lp_thread_share {
	uint32_t tid;
	uint64_t count, wait_ns;
	uint64_t first_ns, last_ns; /* when its first and last waits ended */
};

struct lp_lock_stack {
	uint64_t stack_id; /* LP_STACK_UNSAMPLED: waits whose stack the budget left out */
	const struct lp_stack_sym *stack; /* NULL when it was never announced (lost) or unsampled */
	enum lp_role role;
	uint64_t count, wait_ns, max_ns;
	double est_count, est_ns; /* captured waits weighted by their sampling (stack budget) */
	uint64_t timeouts;
	uint64_t first_ns, last_ns; /* when its first and last waits ended (CLOCK_MONOTONIC) */
	uint64_t created_stack_id;  /* the lock's creating stack as its waits saw it, or 0 */
	uint64_t hist[LP_HIST_SLOTS];
	struct lp_thread_share *tids; /* in the order first seen */
	size_t ntids;
};

struct lp_lock {
	uint64_t id;		 /* lock address in the target */
	unsigned int generation; /* 0; 1, 2... for later locks found at the same address */
	char name[128]; /* what the code calls it, e.g. "self._pool_lock"; "" when unknown */
	char type_name[LP_TYPE_NAME_MAX]; /* LP_CATEGORY_OBJECT: the object's type, "" unknown */
	enum lp_category category;
	bool native;	     /* taken by C code on behalf of Python (e.g. an _io buffer's lock) */
	unsigned int source; /* enum lp_wait_source its waits were seen in, 0 if unknown */
	uint64_t waits, wait_ns, max_ns, timeouts;
	uint64_t hist[LP_HIST_SLOTS];
	struct lp_lock_stack *stacks; /* waiters then holders, each by wait_ns, largest first */
	size_t nstacks;
	uint64_t created_stack_id;
	const struct lp_frame_sym *created_at; /* creating line outside threading/queue, or NULL */
	const struct lp_frame_sym *site;       /* first waiting frame outside threading/queue */
	uint64_t merged;		       /* idle locks merged into this one (same site) */
	uint64_t hold_count, hold_ns, max_hold_ns; /* -m full, upscaled estimates */
};

/* -m full: how the hold figures were sampled, and what it cost. */
struct lp_full_info {
	bool measured;
	unsigned int capture_pct;
	double duty_cycle;	/* share of the run the full-mode probes were attached */
	double overhead_pct;	/* their estimated cost, share of one CPU */
	double probe_cost_ns;	/* calibrated cost of one probe hit */
	double scale_sampled;	/* applied to sampled holds: 100 / capture_pct / duty_cycle */
	double scale_contended; /* applied to holds after contended acquisitions: 1 / duty */
	uint64_t inlined_sites; /* callers with the probed Lock/RLock methods inlined (PGO) */
};

/* lockprof's cost to the target over the profile's span, from all its probes, and how keeping
 * it under --max-overhead shaped the figures (probes/budget.c). */
struct lp_overhead {
	bool measured;
	uint64_t probe_hits;	    /* every probe run for the target, of every mode */
	uint64_t bpf_ns;	    /* the programs' time, measured in them */
	uint64_t walks;		    /* Python stack walks */
	uint64_t walk_ns;	    /* their share of bpf_ns */
	double trap_ns;		    /* calibrated cost of an emulated entry probe's hit */
	struct lp_trap_costs costs; /* calibrated, per kind of site (probes/sites.h) */
	uint64_t hits_by_kind[LP_TRAP_KINDS + 1]; /* emulated, nop, single-stepped; returns */
	double trap_total_ns;			  /* the hits priced by their sites */
	double estimated_ns;			  /* trap_total_ns + bpf_ns */
	double estimated_pct;			  /* of one CPU over the span */
	double max_pct;				  /* --max-overhead, percent of one CPU */
	uint64_t waits;				  /* contended waits the probes recorded */
	uint64_t waits_unsampled; /* of those, the ones whose stack the budget left out */
	uint64_t sample_ns;	  /* the stack budget's threshold at the span's end (0: all) */
	double timing_duty;	  /* share of the span the timing probes were attached (1: all) */
	double timing_scale; /* what the span's totals are multiplied by (0: 1 / timing_duty) */
};

/* lockprof's own BPF programs and their cost (collect/progstats.c). */
#define LP_MAX_PROGS 32

struct lp_prog_stat {
	char name[32];
	char type[24]; /* libbpf's name of the program type: "kprobe" for uprobes */
	uint64_t runs;
	uint64_t run_ns;
};

struct lp_prog_stats {
	bool enabled; /* kernel.bpf_stats_enabled was 1: runs and run_ns are counted */
	size_t n;     /* the programs loaded, whether attached or not */
	struct lp_prog_stat progs[LP_MAX_PROGS];
};

/* What a long run's memory caps did since it started (collect/statsacc.h, threadnames.h). */
struct lp_caps {
	uint64_t folded_waits;	/* waits of threads past the stats cap, kept as "other threads" */
	uint64_t dropped_waits; /* waits with no room left, not in the profile */
	uint64_t names_evicted; /* names of exited threads forgotten past the names cap */
};

struct lp_profile {
	pid_t pid;
	char comm[16]; /* the process's command (/proc/PID/comm); "" when unknown */
	bool exited;   /* the process exited: the profile ends there */
	char python[32];
	char interpreter[PATH_MAX];
	const char *mode;
	uint64_t duration_ns;
	uint64_t start_unix_ns; /* wall-clock start of what the profile covers */
	unsigned int interval;	/* with -i: 1 for the first interval's profile; else 0 */
	uint64_t min_wait_ns;	/* waits shorter than this were not counted */
	struct lp_counters counters;
	struct lp_caps caps;
	uint64_t unknown_frames;
	struct lp_lock *locks; /* sorted by wait_ns, largest first */
	size_t nlocks;
	size_t nthreads;		     /* distinct threads that waited */
	uint64_t total_waits, total_wait_ns; /* contention only */
	uint64_t idle_waits, idle_wait_ns;
	uint64_t resource_waits, resource_wait_ns;
	bool free_threaded; /* a free-threaded build: object contention and pauses measured */
	int gil_enabled;    /* its GIL: 1 on, 0 off (free-threaded), -1 unknown */
	uint64_t object_waits, object_wait_ns;	 /* LP_CATEGORY_OBJECT */
	uint64_t stw_pauses, stw_ns, stw_max_ns; /* LP_CATEGORY_STW */
	bool gil_measured;			 /* -m gil */
	int64_t gil_handoffs; /* GIL switches during the profile, -1 when unknown */
	uint64_t gil_waits, gil_wait_ns;
	struct lp_gil_thread *gil_threads; /* by wait_ns, largest first */
	size_t ngil_threads;
	struct lp_full_info full;		   /* set before the stats are added */
	struct lp_prog_stats programs;		   /* since the BPF object was loaded */
	struct lp_overhead overhead;		   /* set before the stats are added */
	const struct lp_stacktab *stacks;	   /* borrowed: outlives the profile */
	const struct lp_threadnames *thread_names; /* borrowed, may be NULL */
	const struct lp_lockorder *lockorder;	   /* borrowed: -m full's last report, else NULL */
	/* private */
	void *locks_by_id;
	size_t locks_cap;
};

/* An empty profile whose stacks are looked up in `stacks` (and thread names in `names`, which may
 * be NULL); both must outlive it. */
void profile__init(struct lp_profile *p, const struct lp_stacktab *stacks,
		   const struct lp_threadnames *names);
void profile__free(struct lp_profile *p);

/* Adds lock's waits to p's totals of its category (the run's total, idle, GIL, ...). */
void profile__count_lock(struct lp_profile *p, const struct lp_lock *lock);

/* What the duty cycle multiplies a span's totals by (1: timing probes attached all along). */
double profile__timing_scale(const struct lp_profile *p);

/* Adds one (already CPU-summed) stats entry. 0 or -ENOMEM. */
int profile__add_stat(struct lp_profile *p, const struct lp_stat_key *key,
		      const struct lp_stat_value *val);

/* Links stacks to their symbols. Call once, after the last add, before annotating. */
void profile__link(struct lp_profile *p);

/* A stack of a split lock that goes with the lock whose lifetime its threads' waits overlap. */
#define LP_GROUP_BY_TIME UINT_MAX
#define LP_MAX_GENERATIONS 16 /* locks told apart at one address, at most */

/* Splits lock i into ngroups locks told apart by lifetime ([first[g], last[g]], by time): stacks
 * j with group[j] = g > 0 move to a new lock (generation g, same address); stacks with
 * LP_GROUP_BY_TIME are split by thread, each thread's share going where its waits' lifetime
 * overlaps most. Totals are computed again from the stacks. For locks found to be different
 * objects at one address (annotate.c). 0 or -ENOMEM. */
int profile__split_lock(struct lp_profile *p, size_t i, const unsigned int *group,
			unsigned int ngroups, const uint64_t *first, const uint64_t *last);

/* After annotation (categories known): merges idle locks with the same site, computes totals
 * and sorts. */
void profile__finish(struct lp_profile *p);

/* The leaf frame of a lock's top waiting stack (else, -m full, acquiring stack), or NULL. */
const struct lp_frame_sym *profile__lock_site(const struct lp_lock *lock);

/* The lock's top stack of a role, or NULL. */
const struct lp_lock_stack *profile__top_stack(const struct lp_lock *lock, enum lp_role role);

#endif
