/* SPDX-License-Identifier: GPL-2.0 */
/* Where -m full's probes go: libc's sem_trywait and sem_post (every acquire and release of a
 * 3.8-3.13.0 sem_t lock) and, where Lock is a PyMutex (3.13.1+), the C functions behind Lock's
 * (and 3.14 RLock's) methods, found through sys.modules['_thread'] in the target's memory; and
 * how many callers the build inlined them into (those acquisitions go unseen). */
#ifndef LOCKPROF_SRC_FULL_SITES_H
#define LOCKPROF_SRC_FULL_SITES_H

#include <stdbool.h>
#include <stdint.h>

#include "target/interp.h"
#include "target/target.h"

/* Offsets in the files that hold them (libc, the interpreter); 0: not probed. */
struct lp_full_sites {
	uint64_t trywait_offset, post_offset; /* in the target's libc */
	bool pymutex;			      /* Lock is a PyMutex: the method offsets are set */
	uint64_t lock_acquire_offset, lock_release_offset;
	uint64_t rlock_acquire_offset, rlock_release_offset; /* 3.14 */
	uint64_t rlock_release_save_offset, rlock_acquire_restore_offset;
	uint64_t inlined_sites; /* lockmethods__count_code_refs over those functions */
};

/* Finds them in t for the build described by info. 0 or an LP_EXIT_* code after printing why. */
int full_sites__find(struct lp_full_sites *s, const struct lp_target *t,
		     const struct lp_interp *info);

#endif
