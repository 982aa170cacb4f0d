/* SPDX-License-Identifier: GPL-2.0 */
/* ELF reader for the target's interpreter and libc: symbols (GNU symbol versions included),
 * sections, load segments, DT_NEEDED and the build id. Safe on hostile or truncated files. */
#ifndef LOCKPROF_SRC_ELF_SYMS_H
#define LOCKPROF_SRC_ELF_SYMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct elf_file; /* opaque */

struct elf_symbol {
	uint64_t value; /* st_value: a link-time vaddr in ET_EXEC/ET_DYN files */
	uint64_t size;
	int type; /* STT_* */
	bool defined;
};

/* Takes ownership of fd on success (closed by elf_file__close); on failure the caller keeps it.
 * Returns NULL and sets errno (EBADF, EINVAL for a non-regular file, ENOEXEC, ENOMEM). */
struct elf_file *elf_file__open_fd(int fd);
/* For fuzzing and tests: no copy is made, buf must outlive the handle and is never written. */
struct elf_file *elf_file__open_mem(const void *buf, size_t len);
void elf_file__close(struct elf_file *ef); /* NULL ok */

/* e_type: ET_EXEC, ET_DYN, ...; -EINVAL for NULL. */
int elf_file__type(const struct elf_file *ef);

/* The vaddr that file offset 0 maps to, from the first PT_LOAD (p_vaddr - p_offset, rounded down
 * to the page): subtract it from the start of the mapping of file offset 0 to get the load bias.
 * 0 when there is no PT_LOAD. */
uint64_t elf_file__first_load_vaddr(const struct elf_file *ef);

/* Finds a defined symbol by name in .symtab and .dynsym (.symtab first; .dynsym is what stripped
 * files have). `name` may carry a version: "sym@@VER" selects the default version VER, "sym@VER"
 * version VER whether default or not (like dlvsym). A plain name prefers the default (@@,
 * non-hidden) version when several versions exist. Returns 0, -ENOENT, or another -errno. */
int elf_file__find_symbol(const struct elf_file *ef, const char *name, struct elf_symbol *sym);

/* Converts a vaddr to a file offset through the PT_LOAD segment whose file-backed part holds it
 * (what uprobes need). 0 or -ENOENT. */
int elf_file__vaddr_to_offset(const struct elf_file *ef, uint64_t vaddr, uint64_t *offset);

/* Copies len bytes at vaddr from the file image. The range must lie in the file-backed part of
 * one PT_LOAD segment: -ENOENT for .bss or unmapped addresses, -EIO for a short read. */
int elf_file__read_vaddr(const struct elf_file *ef, uint64_t vaddr, void *buf, size_t len);

/* True when a DT_NEEDED entry starts with `prefix` (e.g. "libpython3"). If out and outlen are
 * given, copies that name (truncated to fit, always NUL-terminated). */
bool elf_file__needs(const struct elf_file *ef, const char *prefix, char *out, size_t outlen);

/* Section by name (e.g. ".PyRuntime"): its sh_addr and sh_size. 0 or -ENOENT. */
int elf_file__find_section(const struct elf_file *ef, const char *name, uint64_t *addr,
			   uint64_t *size);

/* The NT_GNU_BUILD_ID note as lowercase hex into out (2 * 20 + 1 bytes for the usual SHA-1 id).
 * 0, -ENOENT, or -ENOSPC when out is too small for this id. */
int elf_file__build_id(const struct elf_file *ef, char *out, size_t outlen);

#endif
