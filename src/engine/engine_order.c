// SPDX-License-Identifier: GPL-2.0
/* Reads -m full's lock-order maps out of the engine's BPF object (see engine_order.h). */
#include <errno.h>

#include <bpf/libbpf.h>

#include "engine/engine_order.h"
#include "lockprof/abi.h" /* the skeleton names its types */
#include "lockprof.skel.h"

int engine__lock_order(struct lp_engine *e, const struct lp_stacktab *stacks,
		       struct lp_lockorder *out)
{
	struct lp_sources *src;
	int err;

	if (!e->skel)
		return -EINVAL;
	src = sources__new(&e->target);
	if (!src)
		return -ENOMEM;
	err = lockorder__collect(bpf_map__fd(e->skel->maps.lock_order),
				 bpf_map__fd(e->skel->maps.signal_locks), stacks, src, out);
	sources__free(src);
	return err;
}
