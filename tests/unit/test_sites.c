// SPDX-License-Identifier: GPL-2.0
/* Probe sites: the kind of trap an instruction costs, and hits priced per site (an entry and a
 * return probe on one instruction share its breakpoint). */
#include "probes/sites.h"
#include <errno.h>

#include "testing.h"

int main(void)
{
	static const uint8_t push_rbx[] = { 0x53, 0x48, 0x89, 0xfb }, push_r12[] = { 0x41, 0x54 },
			     ja[] = { 0x77, 0x2b }, jcc32[] = { 0x0f, 0x84, 0, 0, 0, 0 },
			     call[] = { 0xe8, 0, 0, 0, 0 }, endbr[] = { 0xf3, 0x0f, 0x1e, 0xfa },
			     nop[] = { 0x90 }, nopl[] = { 0x0f, 0x1f, 0x00 },
			     mov[] = { 0x48, 0x8b, 0x07 }, lea[] = { 0x8d, 0x47, 0x01 };
	struct lp_trap_costs c = { .entry_ns = { 600, 900, 5000 }, .return_ns = 300 };
	__u64 hits[LP_MAX_SITES] = { 0 };
	uint64_t kinds[LP_TRAP_KINDS + 1];
	double full, other;
	int a, b, r, s, again;

	CHECK_EQ_INT(sites__kind_of(push_rbx, sizeof(push_rbx)), LP_TRAP_EMULATED, "push %rbx");
	CHECK_EQ_INT(sites__kind_of(push_r12, sizeof(push_r12)), LP_TRAP_EMULATED, "push %r12");
	CHECK_EQ_INT(sites__kind_of(ja, sizeof(ja)), LP_TRAP_EMULATED, "ja rel8");
	CHECK_EQ_INT(sites__kind_of(jcc32, sizeof(jcc32)), LP_TRAP_EMULATED, "je rel32");
	CHECK_EQ_INT(sites__kind_of(call, sizeof(call)), LP_TRAP_EMULATED, "call");
	CHECK_EQ_INT(sites__kind_of(endbr, sizeof(endbr)), LP_TRAP_NOP, "endbr64");
	CHECK_EQ_INT(sites__kind_of(nop, sizeof(nop)), LP_TRAP_NOP, "nop");
	CHECK_EQ_INT(sites__kind_of(nopl, sizeof(nopl)), LP_TRAP_NOP, "nopl");
	CHECK_EQ_INT(sites__kind_of(mov, sizeof(mov)), LP_TRAP_STEPPED, "mov (%rdi),%rax");
	CHECK_EQ_INT(sites__kind_of(lea, sizeof(lea)), LP_TRAP_STEPPED, "lea");
	CHECK_EQ_INT(sites__kind_of(endbr, 2), LP_TRAP_STEPPED, "a cut endbr64 is not known");
	CHECK_EQ_INT(sites__kind_of(lea, 0), LP_TRAP_STEPPED, "nothing read");

	sites__reset();
	a = sites__add("/lib/libc.so.6", 0x100, false, LP_TRAP_EMULATED);
	r = sites__add("/lib/libc.so.6", 0x100, true, LP_TRAP_EMULATED); /* shares a's breakpoint */
	b = sites__add("/lib/libc.so.6", 0x200, true, LP_TRAP_STEPPED);	 /* alone on its entry */
	s = sites__add("/lib/libc.so.6", 0x300, false, LP_TRAP_STEPPED);
	again = sites__add("/lib/libc.so.6", 0x100, false, LP_TRAP_EMULATED);
	CHECK(a == 0 && r == 1 && b == 2 && s == 3, "sites numbered in order: %d %d %d %d", a, r, b,
	      s);
	CHECK_EQ_INT(again, a, "the same site, the same number (re-attached by the duty cycle)");
	CHECK(sites__cost_ns(&c, a) == 600, "emulated entry");
	CHECK(sites__cost_ns(&c, r) == 300,
	      "return sharing its entry's breakpoint: trampoline only");
	CHECK(sites__cost_ns(&c, b) == 5300, "return on a single-stepped entry: both");
	CHECK(sites__cost_ns(&c, s) == 5000, "single-stepped entry");
	hits[a] = 10;
	hits[r] = 10;
	hits[b] = 1;
	hits[s] = 2;
	CHECK(sites__trap_ns(&c, hits) == 10 * 600 + 10 * 300 + 5300 + 2 * 5000, "priced per site");
	sites__hits_by_kind(hits, kinds);
	CHECK(kinds[LP_TRAP_EMULATED] == 10 && kinds[LP_TRAP_STEPPED] == 2 &&
		      kinds[LP_TRAP_KINDS] == 11,
	      "hits by kind");
	sites__mark_full(s);
	sites__trap_split(&c, hits, &full, &other);
	CHECK(full == 10000 && other == 6000 + 3000 + 5300, "-m full's sites apart: %.0f %.0f",
	      full, other);
	for (int i = 4; i < LP_MAX_SITES; i++)
		sites__add("/x", (uint64_t)i, false, LP_TRAP_EMULATED);
	CHECK_EQ_INT(sites__add("/x", 9999, false, LP_TRAP_EMULATED), -ENOSPC, "bounded");
	return testing_summary("sites");
}
