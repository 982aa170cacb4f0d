// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for procscan's parsers of /proc files, whose text another process controls
 * (a comm in /proc/PID/stat, file names in /proc/PID/maps).
 * Input: [0] selects the parser (even: maps, odd: stat, both also on the path checker), the rest
 * is the file's text, copied to an exact-size heap buffer so that ASan sees reads past it.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "target/procscan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;
	bool zombie;

	if (size < 1)
		return 0;
	text = malloc(size - 1 ? size - 1 : 1);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	if (data[0] & 1)
		(void)procscan__stat_start(text, size - 1, &zombie);
	else
		(void)procscan__maps_have_python(text, size - 1);
	(void)procscan__is_python_path(text, size - 1);
	free(text);
	return 0;
}
