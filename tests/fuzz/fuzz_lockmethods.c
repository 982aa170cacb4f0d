// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for the finder of Lock's and RLock's method functions in the target's memory
 * (src/lockmethods.c): lockmethods__find walking a fake address space (fake_memory.h) from a
 * _PyRuntime address, the dict-keys header decoder on raw bytes, and the scan for inlined copies
 * on the first region as code.
 * Input: [0] selector (3.13 or 3.14 layout), [1..8] _PyRuntime address (LE), [9..] regions.
 * Seeds: tests/fuzz/corpus/lockmethods/, made by tests/fuzz/gen_lockmethods_seed.py.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fake_memory.h"
#include "probes/lockmethods.h"
#include "target/pyoffsets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HEADER_LEN 9

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct lp_pyoffsets *o;
	struct lp_lock_methods m;
	uint64_t runtime, off, n;
	size_t entry;

	if (size < HEADER_LEN)
		return 0;
	o = pyoffsets__for(3, 13 + data[0] % 2);
	runtime = fake_le(data + 1, 8);
	fake_memory_load(data + HEADER_LEN, size - HEADER_LEN);

	if (!lockmethods__find(0, runtime, o, &m) && (!m.lock_acquire || !m.lock_release))
		abort(); /* success means both Lock functions */
	if (fake_nregions && fake_regions[0].len >= LP_DICT_KEYS_HEADER) {
		if (!lockmethods__dict_entries(fake_regions[0].data, &off, &entry, &n) &&
		    (entry != 16 && entry != 24))
			abort();
	}
	if (fake_nregions)
		lockmethods__count_code_refs(fake_regions[0].data, fake_regions[0].len,
					     fake_regions[0].addr, runtime);
	fake_memory_reset();
	return 0;
}
