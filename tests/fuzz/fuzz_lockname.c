// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for the lock and object names read out of the target's source lines
 * (src/profile/lockname.c): a line is whatever a file in the target's root holds.
 * Input: [0] output size (1..64), [1..] the line (NUL-terminated copy, exactly sized).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "profile/lockname.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t (*const namers[])(const char *, char *,
				 size_t) = { lockname__from_source, lockname__from_assignment,
					     lockname__call_on_line, lockname__object_on_line };
	size_t outlen;
	char *line;

	if (size < 1)
		return 0;
	outlen = (size_t)(data[0] % 64) + 1;
	line = malloc(size);
	if (!line)
		return 0;
	memcpy(line, data + 1, size - 1);
	line[size - 1] = '\0';
	for (size_t i = 0; i < sizeof(namers) / sizeof(namers[0]); i++) {
		char *out = malloc(outlen);
		size_t n;

		if (!out)
			break;
		n = namers[i](line, out, outlen);
		/* Always terminated, never longer than the buffer, the length it says. */
		if (n >= outlen || strlen(out) != n)
			abort();
		free(out);
	}
	free(line);
	return 0;
}
