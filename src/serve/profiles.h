/* SPDX-License-Identifier: GPL-2.0 */
/* The pprof endpoints' bodies: one profile of the store (mutex, lockhold or GIL), cumulative since
 * serving started or, for ?seconds=N, the delta since a snapshot, in the schema of Go's mutex
 * profile, every sample labelled with its process (pid, comm), lock name and wait kind. */
#ifndef LOCKPROF_SRC_PROFILES_H
#define LOCKPROF_SRC_PROFILES_H

#include <stdio.h>

#include "serve/store.h"

#define LP_PPROF_CONTENT_TYPE "application/octet-stream"

/* Writes profile `which` as gzip-compressed pprof: since s->start_ns when base is NULL, else
 * what was added since base was taken. now_ns: the profile's end. 0 or -errno. */
int profiles__write(FILE *f, const struct lp_store *s, enum lp_store_profile which,
		    const struct lp_store_snapshot *base, uint64_t now_ns);

#endif
