/* SPDX-License-Identifier: GPL-2.0 */
/* A dump's meaning from what was read: states, waited-for and held locks, names, deadlocks. */
#ifndef LOCKPROF_SRC_DUMP_RESOLVE_H
#define LOCKPROF_SRC_DUMP_RESOLVE_H

#include "dump/dump.h"
#include "symbolize/source.h"

/* Classifies every thread, finds the lock each blocked one waits for, places and names held
 * locks (source lines from src), and finds the wait-for cycles. gil_lo/gil_hi: the GIL's state
 * in the target. 0 or -ENOMEM. */
int dump__resolve(struct dump *d, struct lp_sources *src, uint64_t gil_lo, uint64_t gil_hi);

/* Whether t holds lock (through a with block or as an RLock's owner). */
bool dump__holds(const struct dump_thread *t, uint64_t lock);

#endif
