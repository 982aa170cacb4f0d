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

/* Each call is one probe hit when a uprobe sits on it: one target per kind of instruction a
 * breakpoint can sit on (sites.h), written in assembly so that the probed instruction is known:
 * a push (emulated by the kernel), an endbr64 (a nop, emulated by newer kernels), a lea
 * (single-stepped out of line); and one for a return probe (its entry a push). */
#define CALIBRATION_TARGET(name, first)                                                            \
	__asm__(".text\n"                                                                          \
		".globl " #name "\n"                                                               \
		".type " #name ", @function\n" #name ":\n" first "\tlea 1(%rdi), %eax\n"           \
		"\tret\n"                                                                          \
		".size " #name ", .-" #name "\n")
CALIBRATION_TARGET(lp_calibration_target, "\tpush %rbp\n\tpop %rbp\n");
CALIBRATION_TARGET(lp_calibration_nop, "\tendbr64\n");
CALIBRATION_TARGET(lp_calibration_stepped, "");
CALIBRATION_TARGET(lp_calibration_return, "\tpush %rbp\n\tpop %rbp\n");
int lp_calibration_nop(int x);
int lp_calibration_stepped(int x);
int lp_calibration_return(int x);

/* The fastest of a few rounds of calls: scheduling noise only ever adds time. */
static uint64_t time_calls(int (*fn)(int))
{
	uint64_t best = UINT64_MAX;
	volatile int sink = 0;

	for (int r = 0; r < CALIBRATION_ROUNDS; r++) {
		uint64_t t0 = clock__monotonic_ns(), dt;

		for (int i = 0; i < CALIBRATION_CALLS; i++)
			sink = fn(sink);
		dt = clock__monotonic_ns() - t0;
		if (dt < best)
			best = dt;
	}
	return best;
}

/* A calibration target's offset in lockprof's own file. 0 or -errno. */
static int own_target_offset(const char *name, uint64_t *offset)
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
	err = elf_file__find_symbol(ef, name, &sym);
	if (!err)
		err = elf_file__vaddr_to_offset(ef, sym.value, offset);
	elf_file__close(ef);
	return err;
}

/* Nanoseconds a probe on fn's first instruction adds to each call, running prog (which returns
 * at once for a process other than the target: what a target's hit costs before its work);
 * fallback when it cannot be measured. */
static double measure(struct lp_links *links, const char *name, int (*fn)(int),
		      struct bpf_program *prog, bool retprobe, double fallback)
{
	uint64_t offset, bare, probed;
	int err = own_target_offset(name, &offset);

	if (!err) {
		bare = time_calls(fn);
		err = uprobes__attach(links, prog, retprobe, getpid(), "/proc/self/exe", &offset,
				      1);
	}
	if (err) {
		lp_warn("cannot calibrate a probe on %s in /proc/self/exe: %s: assuming %.0f ns per "
			"hit",
			name, strerror(-err), fallback);
		return fallback;
	}
	probed = time_calls(fn);
	return probed > bare ? (double)(probed - bare) / CALIBRATION_CALLS : 1.0;
}

void calibrate__trap_costs(struct lockprof_bpf *skel, struct lp_links *links,
			   struct lp_trap_costs *c)
{
	double with_return;

	c->entry_ns[LP_TRAP_EMULATED] =
		measure(links, "lp_calibration_target", lp_calibration_target,
			skel->progs.calibration_enter, false, DEFAULT_PROBE_COST_NS);
	c->entry_ns[LP_TRAP_NOP] = measure(links, "lp_calibration_nop", lp_calibration_nop,
					   skel->progs.calibration_enter, false,
					   3 * DEFAULT_PROBE_COST_NS);
	c->entry_ns[LP_TRAP_STEPPED] =
		measure(links, "lp_calibration_stepped", lp_calibration_stepped,
			skel->progs.calibration_enter, false, 3 * DEFAULT_PROBE_COST_NS);
	with_return = measure(links, "lp_calibration_return", lp_calibration_return,
			      skel->progs.calibration_exit, true,
			      2 * c->entry_ns[LP_TRAP_EMULATED]);
	c->return_ns = with_return > c->entry_ns[LP_TRAP_EMULATED]
			       ? with_return - c->entry_ns[LP_TRAP_EMULATED]
			       : 1.0;
}
