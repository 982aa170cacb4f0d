/* SPDX-License-Identifier: GPL-2.0 */
/* Explains each lock of a profile from its stacks and the target's source: whether its waits are
 * contention or idle (a Condition/Event/queue wait, a join), where it was created, what the code
 * calls it, and whether it is a native lock taken by C code. */
#ifndef LOCKPROF_SRC_ANNOTATE_H
#define LOCKPROF_SRC_ANNOTATE_H

#include <stdbool.h>

#include "profile/profile.h"
#include "symbolize/source.h"

/* True for a file of the threading machinery (threading.py, queue.py): its frames are skipped
 * when attributing a wait or a creation to the code that asked for it. */
bool annotate__is_threading_file(const char *file);

/* True when a waiting stack's leaf frame blocks for a signal rather than a lock holder.
 * leaf_source is the source line of that frame ("" when unreadable). */
bool annotate__is_idle_wait(const struct lp_frame_sym *leaf, const char *leaf_source);

/* Annotates every lock of p (call between profile__link and profile__finish), reading source
 * lines from sources. */
void annotate__locks(struct lp_profile *p, struct lp_sources *sources);

#endif
