/* SPDX-License-Identifier: GPL-2.0 */
/* Every probe site lockprof attaches (file, offset, entry or return), numbered: the number is the
 * site's BPF attach cookie, by which the programs count hits per site (lp_self_cost.site_hits),
 * and each site is priced by the kind of instruction its breakpoint sits on. On x86-64 the
 * kernel emulates a probed branch or push, may emulate a nop (endbr64 included), and
 * single-steps anything else out of line at several times the cost; a return probe adds its
 * trampoline to its function's entry breakpoint. Pricing every hit at one cost (the emulated
 * one) understated -m full's cost fivefold (sem_trywait and sem_post are single-stepped). */
#ifndef LOCKPROF_SRC_SITES_H
#define LOCKPROF_SRC_SITES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lockprof/abi.h"

enum lp_trap_kind {
	LP_TRAP_EMULATED, /* branch or push */
	LP_TRAP_NOP,	  /* nop, endbr64: emulated by newer kernels */
	LP_TRAP_STEPPED,  /* anything else: single-stepped out of line */
	LP_TRAP_KINDS,
};

/* A hit's cost apart from its BPF run, per kind of entry breakpoint, and what a return probe
 * adds (calibrate.h measures them). */
struct lp_trap_costs {
	double entry_ns[LP_TRAP_KINDS];
	double return_ns;
};

/* The kind of trap a breakpoint on the instruction at code costs. Pure. */
enum lp_trap_kind sites__kind_of(const uint8_t *code, size_t len);

/* The site (path, offset; a return probe with retprobe) with kind already known: its number,
 * the same for the same site each time (the duty cycle re-attaches); -ENOSPC past
 * LP_MAX_SITES. */
int sites__add(const char *path, uint64_t offset, bool retprobe, enum lp_trap_kind kind);

/* The same, reading the instruction at offset in path (kind STEPPED when unreadable). */
int sites__register(const char *path, uint64_t offset, bool retprobe);

/* A site's cost per hit apart from BPF time: its entry kind's, or for a return probe the
 * trampoline, plus its breakpoint's unless an entry probe shares that breakpoint. */
double sites__cost_ns(const struct lp_trap_costs *c, int site);

/* The estimated trap cost of site_hits[] hits (indexed by site). */
double sites__trap_ns(const struct lp_trap_costs *c, const __u64 *site_hits);

/* Hits per kind (returns apart: LP_TRAP_KINDS) in site_hits[], for the reports. */
void sites__hits_by_kind(const __u64 *site_hits, uint64_t out[LP_TRAP_KINDS + 1]);

/* Marks a site as -m full's (its hits are that duty cycle's business). */
void sites__mark_full(int site);

/* The trap cost of site_hits[] split into -m full's sites and the others. */
void sites__trap_split(const struct lp_trap_costs *c, const __u64 *site_hits, double *full_ns,
		       double *other_ns);

/* Forgets every site (tests). */
void sites__reset(void);

#endif
