/* SPDX-License-Identifier: GPL-2.0 */
/* Free-threaded builds: the type of each object whose critical section was waited for, from the
 * BPF object_types map (read by the wait's end, while the object lived). */
#ifndef LOCKPROF_SRC_OBJTYPES_H
#define LOCKPROF_SRC_OBJTYPES_H

#include "profile/profile.h"

/* Sets type_name of p's object-contention locks from the map at fd (key: ob_mutex). */
void objtypes__apply(int fd, struct lp_profile *p);

#endif
