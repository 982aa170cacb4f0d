/* SPDX-License-Identifier: GPL-2.0 */
/* Generic map helpers (libbpf-tools' maps.bpf.h idiom): get a map entry, creating it if missing. */
#ifndef LOCKPROF_MAPS_BPF_H
#define LOCKPROF_MAPS_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <asm-generic/errno.h>

/* The value at key, inserted as a copy of *init when missing; NULL when it could not be inserted
 * (map full). -EEXIST is another CPU inserting it first: its entry is used. */
static __always_inline void *bpf_map_lookup_or_try_init(void *map, const void *key,
							const void *init)
{
	void *val;
	long err;

	val = bpf_map_lookup_elem(map, key);
	if (val)
		return val;
	err = bpf_map_update_elem(map, key, init, BPF_NOEXIST);
	if (err && err != -EEXIST)
		return NULL;
	return bpf_map_lookup_elem(map, key);
}

#endif
