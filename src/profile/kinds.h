/* SPDX-License-Identifier: GPL-2.0 */
/* The profile model's vocabulary, apart from its data so that the command line can name them
 * without compiling against the model: the role a stack plays for a lock, and what kind of wait
 * a lock's waits are. Implemented in profile.c. */
#ifndef LOCKPROF_SRC_KINDS_H
#define LOCKPROF_SRC_KINDS_H

#include <stdbool.h>

enum lp_role {
	LP_ROLE_WAITER, /* stacks that waited for the lock */
	LP_ROLE_HOLDER, /* stacks whose release ended those waits, charged with them */
	LP_ROLE_HOLD,	/* -m full: acquiring stacks, charged with the hold times (wait_ns) */
};

enum lp_category {
	LP_CATEGORY_CONTENTION, /* threads waited for a holder to release the lock */
	LP_CATEGORY_IDLE,	/* threads idle: waiting for work in their run loop, or joining */
	LP_CATEGORY_GIL,	/* threads waited to take the GIL (-m gil) */
	LP_CATEGORY_RESOURCE,	/* threads waited mid-work for a signal or a pooled resource */
	LP_CATEGORY_OBJECT, /* free-threaded: threads waited for another's critical section on an
			     * object (a dict, a list...) */
	LP_CATEGORY_STW,    /* free-threaded: stop-the-world pauses (the initiators' stacks) */
};

/* "waiter", "holder", "hold": the role's name in reports and on the command line. */
const char *profile__role_name(enum lp_role role);

/* The role with this name. 0, or -ENOENT when this build has no such role. */
int profile__role_from_name(const char *name, enum lp_role *role);

/* Waits for a signal (idle or resource): each waits on a fresh lock, grouped by site. */
bool profile__is_signal_category(enum lp_category c);

/* "contention", "idle", "gil", "resource", "object", "stop-the-world". */
const char *profile__category_name(enum lp_category c);

#endif
