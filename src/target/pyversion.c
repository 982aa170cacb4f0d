// SPDX-License-Identifier: GPL-2.0
/* CPython version detection for the target's interpreter file. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "target/pyversion.h"

int pyversion__from_name(const char *name, struct lp_pyversion *v)
{
	const char *p;
	char *end;
	long major, minor;

	if (!strncmp(name, "libpython", 9))
		p = name + 9;
	else if (!strncmp(name, "python", 6))
		p = name + 6;
	else
		return -EINVAL;
	major = strtol(p, &end, 10);
	if (end == p || *end != '.' || major < 2 || major > 3)
		return -EINVAL;
	p = end + 1;
	minor = strtol(p, &end, 10);
	if (end == p || minor < 0 || minor > 99)
		return -EINVAL;
	v->major = (int)major;
	v->minor = (int)minor;
	v->micro = -1;
	v->free_threaded = *end == 't';
	return 0;
}

int pyversion__detect(const struct elf_file *ef, const char *name, struct lp_pyversion *v)
{
	struct elf_symbol sym;
	uint32_t hex;

	memset(v, 0, sizeof(*v));
	v->micro = -1;
	/* Py_Version (3.11+) = PY_VERSION_HEX: 0xMMmmuuRS, an unsigned long: the low 4 bytes on x86-64 */
	if (!elf_file__find_symbol(ef, "Py_Version", &sym) && (sym.size == 4 || sym.size == 8) &&
	    !elf_file__read_vaddr(ef, sym.value, &hex, sizeof(hex))) {
		v->major = (int)(hex >> 24);
		v->minor = (int)((hex >> 16) & 0xff);
		v->micro = (int)((hex >> 8) & 0xff);
		/* The name is the only static hint of a free-threaded build before debug offsets. */
		struct lp_pyversion by_name;
		if (!pyversion__from_name(name, &by_name))
			v->free_threaded = by_name.free_threaded;
		return 0;
	}
	/* Before 3.11 the file does not carry the patch level (GCC turns the PY_VERSION literal
	 * into immediate stores), so the minor version from the name is what we know. */
	if (pyversion__from_name(name, v))
		return -ENOENT;
	return 0;
}

int pyversion__micro_from_string(const char *s, struct lp_pyversion *v)
{
	int major, minor, micro;

	/* "3.9.18 (main, Jan  1 2024, ...)" */
	if (sscanf(s, "%d.%d.%d", &major, &minor, &micro) != 3 || major != v->major ||
	    minor != v->minor || micro < 0 || micro > 99)
		return -EINVAL;
	v->micro = micro;
	return 0;
}

bool pyversion__lock_is_semaphore(const struct lp_pyversion *v)
{
	return v->major == 3 && v->minor >= 8 &&
	       (v->minor <= 12 || (v->minor == 13 && v->micro == 0));
}

void pyversion__format(const struct lp_pyversion *v, char *buf, unsigned long len)
{
	if (v->micro >= 0)
		snprintf(buf, len, "%d.%d.%d%s", v->major, v->minor, v->micro,
			 v->free_threaded ? "t" : "");
	else
		snprintf(buf, len, "%d.%d%s", v->major, v->minor, v->free_threaded ? "t" : "");
}
