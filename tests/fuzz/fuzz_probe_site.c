// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for the choice of an entry probe's instruction (src/probe_site.c), which reads
 * the first bytes of a function in the target's libc or interpreter file: any input is code.
 * The entry offset found must lie inside the input, at a branch or push; the wake block inside
 * the input, before its syscall.
 * Seeds: tests/fuzz/corpus/probe_site/, the first bytes of glibc 2.36's sem_* functions.
 */
#include <stdint.h>
#include <stdlib.h>

#include "probes/probe_site.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t site = probe_site__wake_offset(data, size);
	uint8_t op;

	/* The result check's jcc follows a 7-byte syscall sequence and a 6-byte compare. */
	if (site &&
	    (site < 15 || site + 2 > size || !((data[site] & 0xf0) == 0x70 || data[site] == 0x0f)))
		abort();
	site = probe_site__entry_offset(data, size);
	if (!site)
		return 0;
	if (site >= size)
		abort();
	op = data[site];
	if (!((op & 0xf0) == 0x70 || op == 0xeb || op == 0xe8 || op == 0xe9 || op == 0x0f ||
	      (op & 0xf8) == 0x50 || op == 0x41))
		abort();
	return 0;
}
