// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for the readers of str and bytes objects in the target's memory
 * (src/pyobj.c): the header decoder pystr__layout on raw bytes, then pyobj__read_str and
 * pyobj__read_bytes against a fake address space (fake_memory.h).
 * Input: [0] CPython minor selector, [1..8] object address (LE), [9..] regions.
 * Seeds: tests/fuzz/corpus/pyobj/, made by tests/fuzz/gen_seeds.py from live interpreters.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_memory.h"
#include "target/pyobj.h"
#include "target/pyoffsets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HEADER_LEN 9

static const struct lp_pyoffsets *offsets_for(uint8_t selector)
{
	int span = pyoffsets__max_minor() - pyoffsets__min_minor() + 1;
	int minor = pyoffsets__min_minor() + selector % span;
	/* Free-threaded layouts too, where there is one: a larger header, another state bit. */
	const struct lp_pyoffsets *ft = pyoffsets__for_build(3, minor, (selector / span) & 1);

	return ft ? ft : pyoffsets__for(3, minor);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t outlens[] = { 1, 2, 9, LP_PYSTR_MAX };
	const struct lp_pyoffsets *o;
	size_t off, nbytes, len;
	char out[LP_PYSTR_MAX];
	uint8_t *bytes;
	uint64_t addr;

	if (size < HEADER_LEN)
		return 0;
	o = offsets_for(data[0]);
	addr = fake_le(data + 1, 8);
	fake_memory_load(data + HEADER_LEN, size - HEADER_LEN);

	/* The pure decoder, on every prefix length of the first region. */
	if (fake_nregions) {
		for (size_t n = 0; n <= fake_regions[0].len && n <= 64; n++) {
			uint8_t *hdr = malloc(n ? n : 1);

			if (!hdr)
				abort();
			memcpy(hdr, fake_regions[0].data, n);
			if (!pystr__layout(hdr, n, o, &off, &nbytes) &&
			    (off != (size_t)o->unicode_ascii_data &&
			     off != (size_t)o->unicode_compact_data))
				abort();
			free(hdr);
		}
	}

	for (size_t i = 0; i < sizeof(outlens) / sizeof(outlens[0]); i++) {
		memset(out, 'X', sizeof(out));
		if (!pyobj__read_str(0, addr, o, out, outlens[i])) {
			/* NUL-terminated within the buffer, no NUL inside */
			len = strnlen(out, outlens[i]);
			if (len >= outlens[i])
				abort();
		} else if (out[0] != '\0') {
			abort(); /* a failed read leaves "" behind */
		}
	}
	if (pyobj__read_str(0, addr, o, out, 0) == 0)
		abort();

	if (!pyobj__read_bytes(0, addr, o, &bytes, &len)) {
		if (len > LP_PYBYTES_MAX || !bytes)
			abort();
		/* every byte claimed is there (ASan checks the heap block) */
		for (size_t i = 0; i < len; i++)
			((volatile uint8_t *)bytes)[i];
		free(bytes);
	} else if (bytes || len) {
		abort();
	}
	if (getenv("FUZZ_PRINT") && !pyobj__read_str(0, addr, o, out, sizeof(out)))
		printf("3.%d str: \"%s\"\n", o->minor, out);
	fake_memory_reset();
	return 0;
}
