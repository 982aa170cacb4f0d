// SPDX-License-Identifier: GPL-2.0
/* Object types of object-contention locks (see objtypes.h). */
#include <stdio.h>
#include <string.h>

#include <bpf/bpf.h>

#include "collect/objtypes.h"

void objtypes__apply(int fd, struct lp_profile *p)
{
	for (size_t i = 0; fd >= 0 && i < p->nlocks; i++) {
		struct lp_lock *lock = &p->locks[i];
		struct lp_object_type t;

		if (lock->category != LP_CATEGORY_OBJECT || bpf_map_lookup_elem(fd, &lock->id, &t))
			continue;
		t.name[sizeof(t.name) - 1] = '\0';
		/* A name is what a C string literal holds: printable, no quotes to escape. */
		for (char *c = t.name; *c; c++)
			if (*c < 0x20 || *c > 0x7e)
				*c = '?';
		snprintf(lock->type_name, sizeof(lock->type_name), "%s", t.name);
	}
}
