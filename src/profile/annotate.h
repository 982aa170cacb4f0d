/* SPDX-License-Identifier: GPL-2.0 */
/* Explains each lock of a profile from its stacks and the target's source: what its waits are,
 * where it was created, what the code calls it, and whether it is a native lock taken by C code.
 *
 * What a wait is (README, "What is measured"): a wait for a lock a holder will release is
 * contention. A wait for a signal (Condition.wait, and so Event, Semaphore, Barrier and
 * queue.Queue waits; SimpleQueue.get; Thread.join) is idle when the thread has nothing else to
 * do: a join, or a wait whose first frame outside the threading machinery (threading.py,
 * queue.py, concurrent/futures/) is the thread's run loop (the function its Thread runs, the
 * bottom of the stack, or a function the main module's code calls) or does not exist (a pool's
 * worker). Any other signal wait happens mid-work, with application or library frames above the
 * run loop (a request waiting for a pooled connection, a producer on a full queue): a resource
 * wait. */
#ifndef LOCKPROF_SRC_ANNOTATE_H
#define LOCKPROF_SRC_ANNOTATE_H

#include <stdbool.h>

#include "profile/profile.h"
#include "symbolize/source.h"

/* True for a file of the threading machinery (threading.py, queue.py, concurrent.futures): its
 * frames are skipped when attributing a wait or a creation to the code that asked for it. */
bool annotate__is_threading_file(const char *file);

/* True when a waiting stack's leaf frame blocks for a signal rather than a lock holder.
 * leaf_source is the source line of that frame ("" when unreadable). */
bool annotate__is_idle_wait(const struct lp_frame_sym *leaf, const char *leaf_source);

/* True when the first frame of st (leaf first) outside the threading machinery is the thread's
 * run loop, or there is none. */
bool annotate__in_run_loop(const struct lp_stack_sym *st);

/* The category of a signal wait whose stack is st (depth >= 1): idle or resource. */
enum lp_category annotate__signal_category(const struct lp_stack_sym *st);

/* Lock identity across address reuse: a lock freed and another created at its address share
 * one stats key. Their waits are told apart by what the waiting lines call the lock and when:
 * waiter stacks that name it differently (per the naming rule, annotate__locks) and whose
 * waits' lifetimes do not overlap are different locks, split into entries of their own
 * (profile__split_lock, generations 1, 2... by time); holder and other stacks go with the lock
 * whose lifetime theirs overlaps most. Locks waited on under one name, or under two names at
 * overlapping times, stay one. Call after profile__link, before annotate__locks. 0 or -ENOMEM. */
int annotate__split_reused_locks(struct lp_profile *p, struct lp_sources *sources);

/* Annotates every lock of p (call between profile__link and profile__finish), reading source
 * lines from sources. */
void annotate__locks(struct lp_profile *p, struct lp_sources *sources);

#endif
