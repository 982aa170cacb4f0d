// SPDX-License-Identifier: GPL-2.0
/* The fleet (see fleet.h). */
#include <errno.h>
#include <stdlib.h>

#include "engine/fleet.h"
#include "util/exitcode.h"
#include "util/log.h"

struct lp_fleet {
	const struct lp_opts *opts;
};

int fleet__new(const struct lp_opts *opts, struct lp_fleet **out)
{
	(void)opts;
	*out = NULL;
	lp_err("profiling several processes is not built yet");
	return LP_EXIT_ERROR;
}

uint64_t fleet__start_ns(const struct lp_fleet *f)
{
	(void)f;
	return 0;
}

int fleet__fd(const struct lp_fleet *f)
{
	(void)f;
	return -1;
}

int fleet__poll(struct lp_fleet *f, int timeout_ms, uint64_t *now_ns)
{
	(void)f;
	(void)timeout_ms;
	*now_ns = 0;
	return LP_EXIT_ERROR;
}

bool fleet__done(const struct lp_fleet *f)
{
	(void)f;
	return true;
}

size_t fleet__nprocs(const struct lp_fleet *f)
{
	(void)f;
	return 0;
}

const struct lp_proc_info *fleet__proc(const struct lp_fleet *f, size_t i)
{
	(void)f;
	(void)i;
	return NULL;
}

void fleet__health(const struct lp_fleet *f, struct lp_fleet_health *h)
{
	(void)f;
	*h = (struct lp_fleet_health){};
}

int fleet__snapshot(struct lp_fleet *f, uint64_t now_ns, bool last, struct lp_profile_set *set)
{
	(void)f;
	(void)now_ns;
	(void)last;
	*set = (struct lp_profile_set){};
	return LP_EXIT_ERROR;
}

void fleet__stop(struct lp_fleet *f, uint64_t now_ns)
{
	(void)f;
	(void)now_ns;
}

void fleet__free(struct lp_fleet *f)
{
	free(f);
}
