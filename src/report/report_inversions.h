/* SPDX-License-Identifier: GPL-2.0 */
/* -m full's lock-order inversions (collect/lockorder.h) as a text section and a JSON member. */
#ifndef LOCKPROF_SRC_REPORT_INVERSIONS_H
#define LOCKPROF_SRC_REPORT_INVERSIONS_H

#include <stdio.h>

#include "profile/profile.h"

/* Nothing unless p->lockorder is set (the last report of a -m full run). */
void report_inversions__text(FILE *f, const struct lp_profile *p);
/* Writes `, "lock_order": {...}` (a member of the report's object). */
void report_inversions__json(FILE *f, const struct lp_profile *p);

#endif
