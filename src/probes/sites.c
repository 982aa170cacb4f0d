// SPDX-License-Identifier: GPL-2.0
/* The probe sites and their costs (see sites.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "probes/sites.h"

struct site {
	char path[PATH_MAX];
	uint64_t offset;
	bool retprobe;
	bool full; /* -m full's */
	enum lp_trap_kind kind;
};

static struct site sites[LP_MAX_SITES];
static int nsites;

/* A jcc/jmp/call or a push (emulated: probe_site.c chooses such instructions for that reason). */
static bool emulated(const uint8_t *p, size_t left)
{
	if (left >= 1 && ((p[0] & 0xf0) == 0x70 || p[0] == 0xeb || p[0] == 0xe8 || p[0] == 0xe9))
		return true;
	if (left >= 2 && p[0] == 0x0f && (p[1] & 0xf0) == 0x80)
		return true;
	if (left >= 1 && (p[0] & 0xf8) == 0x50)
		return true;
	return left >= 2 && p[0] == 0x41 && (p[1] & 0xf8) == 0x50;
}

enum lp_trap_kind sites__kind_of(const uint8_t *p, size_t len)
{
	static const uint8_t endbr64[] = { 0xf3, 0x0f, 0x1e, 0xfa };

	if (emulated(p, len))
		return LP_TRAP_EMULATED;
	if ((len >= 1 && p[0] == 0x90) || (len >= 2 && p[0] == 0x66 && p[1] == 0x90) ||
	    (len >= 2 && p[0] == 0x0f && p[1] == 0x1f) ||
	    (len >= 3 && p[0] == 0x66 && p[1] == 0x0f && p[2] == 0x1f) ||
	    (len >= 4 && !memcmp(p, endbr64, 4)))
		return LP_TRAP_NOP;
	return LP_TRAP_STEPPED;
}

int sites__add(const char *path, uint64_t offset, bool retprobe, enum lp_trap_kind kind)
{
	for (int i = 0; i < nsites; i++)
		if (sites[i].offset == offset && sites[i].retprobe == retprobe &&
		    !strcmp(sites[i].path, path))
			return i;
	if (nsites == LP_MAX_SITES)
		return -ENOSPC;
	snprintf(sites[nsites].path, sizeof(sites[nsites].path), "%s", path);
	sites[nsites].offset = offset;
	sites[nsites].retprobe = retprobe;
	sites[nsites].kind = kind;
	return nsites++;
}

int sites__register(const char *path, uint64_t offset, bool retprobe)
{
	uint8_t code[16];
	ssize_t n = -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		n = pread(fd, code, sizeof(code), (off_t)offset);
		close(fd);
	}
	return sites__add(path, offset, retprobe,
			  n > 0 ? sites__kind_of(code, (size_t)n) : LP_TRAP_STEPPED);
}

double sites__cost_ns(const struct lp_trap_costs *c, int i)
{
	if (i < 0 || i >= nsites)
		return c->entry_ns[LP_TRAP_STEPPED];
	if (!sites[i].retprobe)
		return c->entry_ns[sites[i].kind];
	/* An entry probe on the same instruction takes the breakpoint for both. */
	for (int j = 0; j < nsites; j++)
		if (!sites[j].retprobe && sites[j].offset == sites[i].offset &&
		    !strcmp(sites[j].path, sites[i].path))
			return c->return_ns;
	return c->entry_ns[sites[i].kind] + c->return_ns;
}

double sites__trap_ns(const struct lp_trap_costs *c, const __u64 *site_hits)
{
	double ns = 0;

	for (int i = 0; i < nsites; i++)
		ns += (double)site_hits[i] * sites__cost_ns(c, i);
	return ns;
}

void sites__hits_by_kind(const __u64 *site_hits, uint64_t out[LP_TRAP_KINDS + 1])
{
	memset(out, 0, sizeof(uint64_t) * (LP_TRAP_KINDS + 1));
	for (int i = 0; i < nsites; i++)
		out[sites[i].retprobe ? LP_TRAP_KINDS : sites[i].kind] += site_hits[i];
}

void sites__mark_full(int site)
{
	if (site >= 0 && site < nsites)
		sites[site].full = true;
}

void sites__trap_split(const struct lp_trap_costs *c, const __u64 *site_hits, double *full_ns,
		       double *other_ns)
{
	*full_ns = *other_ns = 0;
	for (int i = 0; i < nsites; i++)
		*(sites[i].full ? full_ns : other_ns) +=
			(double)site_hits[i] * sites__cost_ns(c, i);
}

void sites__reset(void)
{
	nsites = 0;
}
