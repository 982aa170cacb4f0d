/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A fake target address space for the fuzz targets of lockprof's remote readers. The fuzz binary
 * is linked with -Wl,--wrap=process_vm_readv, so src/pyobj.c's remote_read() reads from regions
 * described by the fuzz input instead of another process:
 *   repeated { u64 address (LE), u16 length (LE), length bytes }
 * A read is served up to the end of the region holding its first byte (a short read, as at the
 * edge of a mapping), or fails with EFAULT when no region holds it; regions may overlap (the
 * first listed wins). Each region is copied to its own heap block, so ASan sees any read past it.
 */
#ifndef LOCKPROF_FUZZ_FAKE_MEMORY_H
#define LOCKPROF_FUZZ_FAKE_MEMORY_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>

#define FAKE_MAX_REGIONS 64

struct fake_region {
	uint64_t addr;
	size_t len;
	uint8_t *data;
};

static struct fake_region fake_regions[FAKE_MAX_REGIONS];
static size_t fake_nregions;

static uint64_t fake_le(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void fake_memory_reset(void)
{
	for (size_t i = 0; i < fake_nregions; i++)
		free(fake_regions[i].data);
	fake_nregions = 0;
}

/* Loads the regions in data; the rest of a truncated record is dropped. */
static void fake_memory_load(const uint8_t *data, size_t size)
{
	fake_memory_reset();
	while (size >= 10 && fake_nregions < FAKE_MAX_REGIONS) {
		struct fake_region *r = &fake_regions[fake_nregions];
		size_t len = (size_t)fake_le(data + 8, 2);

		r->addr = fake_le(data, 8);
		data += 10;
		size -= 10;
		if (len > size)
			len = size;
		r->data = malloc(len ? len : 1);
		if (!r->data)
			abort();
		memcpy(r->data, data, len);
		r->len = len;
		fake_nregions++;
		data += len;
		size -= len;
	}
}

ssize_t __wrap_process_vm_readv(pid_t pid, const struct iovec *local, unsigned long liovcnt,
				const struct iovec *remote, unsigned long riovcnt,
				unsigned long flags);

ssize_t __wrap_process_vm_readv(pid_t pid, const struct iovec *local, unsigned long liovcnt,
				const struct iovec *remote, unsigned long riovcnt,
				unsigned long flags)
{
	uint64_t addr = (uint64_t)(uintptr_t)remote[0].iov_base;
	size_t want = remote[0].iov_len;

	(void)pid;
	(void)flags;
	/* lockprof reads one buffer at a time; anything else is a harness bug. */
	if (liovcnt != 1 || riovcnt != 1 || local[0].iov_len != want)
		abort();
	for (size_t i = 0; i < fake_nregions; i++) {
		const struct fake_region *r = &fake_regions[i];
		size_t n;

		if (addr < r->addr || addr - r->addr >= r->len)
			continue;
		n = r->len - (size_t)(addr - r->addr);
		if (n > want)
			n = want;
		memcpy(local[0].iov_base, r->data + (addr - r->addr), n);
		return (ssize_t)n;
	}
	errno = EFAULT;
	return -1;
}

#endif
