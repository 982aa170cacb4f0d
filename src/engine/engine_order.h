/* SPDX-License-Identifier: GPL-2.0 */
/* -m full's lock-order graph read from the engine's BPF object (see collect/lockorder.h). */
#ifndef LOCKPROF_SRC_ENGINE_ORDER_H
#define LOCKPROF_SRC_ENGINE_ORDER_H

#include "collect/lockorder.h"
#include "engine/engine.h"

/* The inversions of the run so far, their stacks from `stacks` (the profile's), their locks
 * named from the target's sources. 0 or -errno (nothing to free then). */
int engine__lock_order(struct lp_engine *e, const struct lp_stacktab *stacks,
		       struct lp_lockorder *out);

#endif
