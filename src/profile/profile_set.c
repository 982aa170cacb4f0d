// SPDX-License-Identifier: GPL-2.0
/* Sets of per-process profiles (see profile_set.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "profile/profile_set.h"

void profile_set__free(struct lp_profile_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		if (!set->procs[i].borrowed)
			profile__free(&set->procs[i].profile);
	free(set->procs);
	memset(set, 0, sizeof(*set));
}

int profile_set__add(struct lp_profile_set *set, const struct lp_proc_info *proc,
		     struct lp_profile *profile, bool borrowed)
{
	struct lp_proc_profile *procs = realloc(set->procs, (set->n + 1) * sizeof(*procs));

	if (!procs)
		return -ENOMEM;
	set->procs = procs;
	procs[set->n].proc = *proc;
	procs[set->n].profile = *profile;
	procs[set->n].borrowed = borrowed;
	set->n++;
	if (!borrowed)
		memset(profile, 0, sizeof(*profile));
	return 0;
}

static int by_pid(const void *a, const void *b)
{
	const struct lp_proc_info *x = &((const struct lp_proc_profile *)a)->proc;
	const struct lp_proc_info *y = &((const struct lp_proc_profile *)b)->proc;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return x->attached_ns < y->attached_ns ? -1 : x->attached_ns > y->attached_ns;
}

void profile_set__sort(struct lp_profile_set *set)
{
	if (set->n > 1)
		qsort(set->procs, set->n, sizeof(*set->procs), by_pid);
}

const struct lp_proc_profile *profile_set__find(const struct lp_profile_set *set, pid_t pid)
{
	for (size_t i = 0; i < set->n; i++)
		if (set->procs[i].proc.pid == pid)
			return &set->procs[i];
	return NULL;
}

int profile_set__subtract(struct lp_profile_set *later, const struct lp_profile_set *earlier)
{
	(void)later;
	(void)earlier;
	return -ENOSYS;
}
