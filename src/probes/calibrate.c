// SPDX-License-Identifier: GPL-2.0
/* Probe-hit cost calibration (see calibrate.h): the same calls timed without and with a uprobe
 * on them. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "probes/calibrate.h"
#include "probes/uprobes.h"
#include "target/elf_syms.h"
#include "util/clock.h"
#include "util/log.h"

#include "lockprof/abi.h" /* the skeleton names its types */
#include "lockprof.skel.h"

#define CALIBRATION_CALLS 1000
#define CALIBRATION_ROUNDS 3
/* When calibration is impossible (no .symtab in lockprof): a uprobe trap on x86-64. */
#define DEFAULT_PROBE_COST_NS 3000.0

/* Each call is one probe hit when a uprobe sits on it. Written in assembly so that the probed
 * instruction is one the kernel emulates (push), like the sites lockprof probes in the target
 * (probe_site.h): a compiler's first instruction may be one the kernel single-steps, which costs
 * several times more and priced every hit at that (8 us here instead of about 2). */
__asm__(".text\n"
	".globl lp_calibration_target\n"
	".type lp_calibration_target, @function\n"
	"lp_calibration_target:\n"
	"\tpush %rbp\n"
	"\tpop %rbp\n"
	"\tlea 1(%rdi), %eax\n"
	"\tret\n"
	".size lp_calibration_target, .-lp_calibration_target\n");

/* The fastest of a few rounds of calls: scheduling noise only ever adds time. */
static uint64_t time_calls(void)
{
	uint64_t best = UINT64_MAX;
	volatile int sink = 0;

	for (int r = 0; r < CALIBRATION_ROUNDS; r++) {
		uint64_t t0 = clock__monotonic_ns(), dt;

		for (int i = 0; i < CALIBRATION_CALLS; i++)
			sink = lp_calibration_target(sink);
		dt = clock__monotonic_ns() - t0;
		if (dt < best)
			best = dt;
	}
	return best;
}

/* lp_calibration_target's offset in lockprof's own file. 0 or -errno. */
static int own_target_offset(uint64_t *offset)
{
	struct elf_symbol sym;
	struct elf_file *ef;
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC), err;

	if (fd < 0)
		return -errno;
	ef = elf_file__open_fd(fd);
	if (!ef) {
		close(fd);
		return -ENOEXEC;
	}
	err = elf_file__find_symbol(ef, "lp_calibration_target", &sym);
	if (!err)
		err = elf_file__vaddr_to_offset(ef, sym.value, offset);
	elf_file__close(ef);
	return err;
}

/* The program probed is sem_post_enter, which returns at once for a process other than the
 * target: what a hit on another process costs is what a target's hit costs before its work. */
double calibrate__probe_cost_ns(struct lockprof_bpf *skel, struct lp_links *links)
{
	uint64_t offset, bare, probed;
	int err = own_target_offset(&offset);

	if (err) {
		lp_warn("cannot find lp_calibration_target in /proc/self/exe (stripped?): assuming "
			"%.0f ns per probe hit",
			DEFAULT_PROBE_COST_NS);
		return DEFAULT_PROBE_COST_NS;
	}
	bare = time_calls();
	err = uprobes__attach(links, skel->progs.sem_post_enter, false, getpid(), "/proc/self/exe",
			      &offset, 1);
	if (err) {
		lp_warn("cannot attach the calibration uprobe to /proc/self/exe: %s: assuming %.0f "
			"ns per probe hit",
			strerror(-err), DEFAULT_PROBE_COST_NS);
		return DEFAULT_PROBE_COST_NS;
	}
	probed = time_calls();
	if (probed <= bare)
		return 1.0;
	return (double)(probed - bare) / CALIBRATION_CALLS;
}
