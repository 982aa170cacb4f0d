/* SPDX-License-Identifier: GPL-2.0 */
/* lockprof serve's memory: every span's profile folded into cumulative totals per process and
 * lock (for /metrics) and per process, lock and stack (for the pprof endpoints), for as long as
 * the server runs. Bounded whatever the churn: at most max_series lock series per process (the
 * waits of further locks go to one "other" series; a series once exposed stays, so counters
 * never go down), LP_STORE_MAX_SAMPLES stacks per process (further stacks go to one "<other
 * stacks>" sample per series), LP_STORE_MAX_PROCS processes (an exited process is kept
 * retain_s seconds, then dropped), each eviction counted. Pure: no I/O, unit-tested. */
#ifndef LOCKPROF_SRC_STORE_H
#define LOCKPROF_SRC_STORE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "profile/profile.h"
#include "util/u64map.h"

#define LP_STORE_MAX_SAMPLES 4096 /* (series, stack) pairs per process */
#define LP_STORE_MAX_PROCS 256	  /* as the fleet keeps exited processes (LP_FLEET_MAX_EXITED) */
#define LP_STORE_OTHER "other"	  /* the lock label of the series past the cap */
#define LP_STORE_COMM_LEN 16	  /* as /proc/PID/comm: 15 characters */

/* The profiles served, one per pprof endpoint. */
enum lp_store_profile {
	LP_STORE_MUTEX,	   /* waits for locks: contentions/count, delay/nanoseconds */
	LP_STORE_LOCKHOLD, /* -m full: acquisitions/count, hold/nanoseconds (upscaled) */
	LP_STORE_GIL,	   /* -m gil: waits for the GIL */
	LP_STORE_PROFILES,
};

/* One lock of one process, as /metrics labels it. */
struct lp_store_series {
	char lock[128]; /* the lock's name, or LP_STORE_OTHER */
	char site[192]; /* "file:line" where it was first waited for, or "" */
	const char *kind;
	uint64_t waits, wait_ns;
	uint64_t hist[LP_HIST_SLOTS];
	uint64_t hold_count, hold_ns; /* -m full, upscaled estimates */
};

/* One (series, stack) of one profile: what a pprof sample carries. */
struct lp_store_sample {
	uint32_t series;
	uint32_t profile;  /* enum lp_store_profile */
	uint64_t stack_id; /* 0: the stacks past LP_STORE_MAX_SAMPLES */
	uint64_t count, ns;
};

/* lockprof's own figures for a process, summed over the spans. */
struct lp_store_health {
	uint64_t probe_hits;
	uint64_t
		lost_events; /* ring buffer full, or a BPF map full: waits or stacks not recorded */
	uint64_t read_errors; /* target memory that could not be read */
	double overhead_pct;  /* the last span's estimated cost, percent of one CPU */
	double overhead_ns;   /* the estimated cost summed over the spans */
	uint64_t gil_waits, gil_wait_ns;
};

struct lp_store_proc {
	uint64_t serial; /* unique over the store's life: tells a reused pid apart */
	pid_t pid;
	char comm[LP_STORE_COMM_LEN];
	char python[32];
	char interpreter[PATH_MAX];
	bool exited;
	uint64_t exited_ns;
	struct lp_store_series *series;
	size_t nseries, series_cap;
	struct u64map series_index; /* hash of lock, site, kind -> index + 1 */
	struct lp_store_sample *samples;
	size_t nsamples, samples_cap;
	struct u64map sample_index; /* hash of series, profile, stack -> index + 1 */
	struct u64map stacks;	    /* stack id -> struct lp_stack_sym * (the store's copy) */
	struct lp_store_health health;
};

struct lp_store {
	unsigned int max_series;
	double retain_s;
	struct lp_store_proc **procs; /* in the order first seen */
	size_t nprocs;
	uint64_t next_serial;
	struct u64map strings; /* interned frame strings: hash -> char * (probing) */
	struct lp_stack_sym *other_stacks;
	uint64_t start_ns, start_unix_ns; /* when serving started */
	/* evictions and failures, counted for /metrics */
	uint64_t series_overflow_waits; /* waits filed under "other" */
	uint64_t samples_evicted;	/* stacks filed under "<other stacks>" */
	uint64_t procs_dropped;		/* exited and past retain_s, or past LP_STORE_MAX_PROCS */
	uint64_t errors;		/* out of memory, failed spans */
	bool failed;
};

/* An empty store; start_ns (CLOCK_MONOTONIC) and start_unix_ns start what its profiles cover. 0
 * or -ENOMEM. */
int store__init(struct lp_store *s, unsigned int max_series, double retain_s, uint64_t start_ns,
		uint64_t start_unix_ns);
void store__free(struct lp_store *s);

/* Folds one span's profile of process pid (command comm) in: locks of the categories served
 * (contention and resource; idle too with show_idle) to the mutex profile and their series, hold
 * stacks to the lockhold profile, the GIL to the GIL profile. 0 or -ENOMEM (counted). */
int store__add_profile(struct lp_store *s, pid_t pid, const char *comm, const struct lp_profile *p,
		       bool show_idle);

/* The live process pid, or NULL. */
struct lp_store_proc *store__proc(const struct lp_store *s, pid_t pid);

/* Process pid has exited at now_ns: kept retain_s seconds more. */
void store__process_exited(struct lp_store *s, pid_t pid, uint64_t now_ns);

/* Drops the processes exited more than retain_s seconds before now_ns. */
void store__expire(struct lp_store *s, uint64_t now_ns);

/* Live (not exited) processes. */
size_t store__live_procs(const struct lp_store *s);

/* The stack of a sample, or NULL when it was lost. */
const struct lp_stack_sym *store__stack(const struct lp_store *s, const struct lp_store_proc *proc,
					uint64_t stack_id);

/* The values of one profile's samples at a moment, for a delta profile (?seconds=N): what
 * was there at the start is subtracted at the end. */
struct lp_store_snapshot_proc {
	uint64_t serial;
	size_t n; /* samples of the process then; later ones count whole */
	uint64_t (*values)[2];
};

struct lp_store_snapshot {
	uint64_t taken_ns, taken_unix_ns;
	struct lp_store_snapshot_proc *procs;
	size_t nprocs;
};

/* 0 or -ENOMEM. */
int store__snapshot(const struct lp_store *s, uint64_t now_ns, uint64_t now_unix_ns,
		    struct lp_store_snapshot *snap);
void store__snapshot_free(struct lp_store_snapshot *snap);

/* The values (count, ns) sample i of proc had in snap: 0 when it came later. */
void store__snapshot_values(const struct lp_store_snapshot *snap, const struct lp_store_proc *proc,
			    size_t i, uint64_t out[2]);

#endif
