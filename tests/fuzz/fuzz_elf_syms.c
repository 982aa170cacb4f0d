// SPDX-License-Identifier: GPL-2.0
/* libFuzzer target for the ELF reader: any byte string goes through elf_file__open_mem and, when
 * it opens, through every query. Seeds: tests/fuzz/corpus/elf_syms/. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fixtures/fixture_syms.h"
#include "target/elf_syms.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const names[] = {
	FIXTURE_SYMBOL_NAMES,
	"_PyRuntime",
	"Py_Version",
	"pthread_cond_timedwait",
	"pthread_cond_timedwait@@GLIBC_2.3.2",
	"pthread_cond_timedwait@GLIBC_2.2.5",
	"main",
};

static const char *const sections[] = { ".PyRuntime", ".fixture_rt", ".rodata", ".text", "" };

/* Reads what a query pointed at, as the profiler would. */
static void read_at(const struct elf_file *ef, uint64_t vaddr, uint64_t len)
{
	unsigned char buf[256];
	uint64_t off;

	elf_file__vaddr_to_offset(ef, vaddr, &off);
	elf_file__read_vaddr(ef, vaddr, buf, len < sizeof(buf) ? len : sizeof(buf));
	elf_file__read_vaddr(ef, vaddr, buf, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct elf_file *ef = elf_file__open_mem(data, size);
	struct elf_symbol sym;
	char out[2 * 64 + 1];
	uint64_t addr, len;
	size_t i;

	if (!ef)
		return 0;
	elf_file__type(ef);
	read_at(ef, elf_file__first_load_vaddr(ef), 64);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!elf_file__find_symbol(ef, names[i], &sym))
			read_at(ef, sym.value, sym.size);
	}
	for (i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
		if (!elf_file__find_section(ef, sections[i], &addr, &len))
			read_at(ef, addr, len);
	}
	elf_file__needs(ef, "lib", out, sizeof(out));
	elf_file__needs(ef, "libpython3", out, 4);
	elf_file__needs(ef, "", NULL, 0);
	elf_file__build_id(ef, out, sizeof(out));
	elf_file__build_id(ef, out, 8);
	elf_file__close(ef);
	return 0;
}
