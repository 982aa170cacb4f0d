/* SPDX-License-Identifier: GPL-2.0 */
/* Naming a lock by what the waiting code calls it: the expression in `with EXPR:` or
 * `EXPR.acquire(` on the source line where threads waited for it. */
#ifndef LOCKPROF_SRC_LOCKNAME_H
#define LOCKPROF_SRC_LOCKNAME_H

#include <stddef.h>

#include "profile.h"
#include "target.h"

/* Extracts the lock expression from one line of Python source into out ("" when the line has no
 * recognisable lock use). Returns the length written. */
size_t lockname__from_source(const char *line, char *out, size_t outlen);

/* Names the lock used at site (a wait's leaf frame) from that line of its source file, read inside
 * the target's root. Returns the length written to out ("" when the file or line cannot be read
 * or names no lock). */
size_t lockname__for_site(const struct lp_target *t, const struct lp_frame_sym *site, char *out,
			  size_t outlen);

/* Names every lock of the profile from the source file of its top waiting site, read inside the
 * target's root. Locks whose source cannot be read keep an empty name. */
void lockname__name_locks(struct lp_profile *p, const struct lp_target *t);

#endif
