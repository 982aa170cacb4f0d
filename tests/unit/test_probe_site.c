// SPDX-License-Identifier: GPL-2.0
/* Where entry probes go (src/probe_site.c), on the first bytes of Debian 12's glibc 2.36
 * functions lockprof probes (objdump of libc.so.6) and on hand-made variants. */
#include <string.h>

#include "probes/probe_site.h"
#include "testing.h"

#define CODE(...) ((const uint8_t[]){ __VA_ARGS__ }), sizeof((const uint8_t[]){ __VA_ARGS__ })

int main(void)
{
	/* sem_init: test %edx,%edx; js +0x1c; ... */
	CHECK_EQ_INT(probe_site__entry_offset(CODE(0x85, 0xd2, 0x78, 0x1c, 0x89, 0xd0, 0x48, 0x89,
						   0x07, 0x31, 0xc0, 0xc3)),
		     2, "sem_init: the js");
	/* sem_clockwait: cmp $0x1,%esi; ja +0x2b */
	CHECK_EQ_INT(probe_site__entry_offset(CODE(0x83, 0xfe, 0x01, 0x77, 0x2b, 0x48, 0x8b, 0x06)),
		     3, "sem_clockwait: the ja");
	/* sem_timedwait: cmpq $0x3b9ac9ff,0x8(%rsi); ja +0x4e */
	CHECK_EQ_INT(probe_site__entry_offset(CODE(0x48, 0x81, 0x7e, 0x08, 0xff, 0xc9, 0x9a, 0x3b,
						   0x77, 0x4e, 0x90, 0x90)),
		     8, "sem_timedwait: the ja");
	/* sem_trywait: mov (%rdi),%rax; test %eax,%eax; je +0x11; lea; lock cmpxchg; jne back to
	 * the test: a retry would run the je again, so the entry it is. */
	CHECK_EQ_INT(probe_site__entry_offset(CODE(0x48, 0x8b, 0x07, 0x85, 0xc0, 0x74, 0x11, 0x48,
						   0x8d, 0x50, 0xff, 0xf0, 0x48, 0x0f, 0xb1, 0x17,
						   0x75, 0xf1, 0x31, 0xc0, 0xc3)),
		     0, "sem_trywait: a loop comes back before the je");
	/* The same without the loop: the je. */
	CHECK_EQ_INT(probe_site__entry_offset(CODE(0x48, 0x8b, 0x07, 0x85, 0xc0, 0x74, 0x11, 0x31,
						   0xc0, 0xc3)),
		     5, "two harmless instructions, then je");
	/* sem_wait starts with push %rbx, emulated already. */
	CHECK_EQ_INT(probe_site__entry_offset(CODE(0x53, 0x48, 0x89, 0xfb)), 0, "sem_wait");
	/* sem_destroy: xor %eax,%eax; ret (ret is not emulated). */
	CHECK_EQ_INT(probe_site__entry_offset(CODE(0x31, 0xc0, 0xc3)), 0, "sem_destroy");
	/* sem_post: mov 0x8(%rdi),%esi writes an argument register. */
	CHECK_EQ_INT(probe_site__entry_offset(CODE(0x8b, 0x77, 0x08, 0x48, 0x8b, 0x07, 0x3d, 0xff,
						   0xff, 0xff, 0x7f, 0x74, 0x33)),
		     0, "sem_post");
	/* xor %r8d,%r8d writes an argument register; xor %rax,%rax does not. */
	CHECK_EQ_INT(probe_site__entry_offset(CODE(0x45, 0x31, 0xc0, 0x74, 0x02)), 0, "xor r8d");
	CHECK_EQ_INT(probe_site__entry_offset(CODE(0x48, 0x31, 0xc0, 0x74, 0x02)), 3, "xor rax");
	/* mov (%rdi),%r8 writes an argument register (REX.R). */
	CHECK_EQ_INT(probe_site__entry_offset(CODE(0x4c, 0x8b, 0x07, 0x74, 0x02)), 0, "mov r8");
	/* RIP-relative and SIB operands are not decoded. */
	CHECK_EQ_INT(probe_site__entry_offset(CODE(0x83, 0x3d, 0, 0, 0, 0, 0x01, 0x74, 0x02)), 0,
		     "cmp rip-relative");
	CHECK_EQ_INT(probe_site__entry_offset(CODE(0x83, 0x3c, 0x24, 0x01, 0x74, 0x02)), 0,
		     "cmp SIB");
	/* A jump from later in the function onto the branch, rel8 and rel32. */
	CHECK_EQ_INT(probe_site__entry_offset(CODE(0x85, 0xd2, 0x78, 0x04, 0x90, 0x90, 0xeb, 0xfa)),
		     0, "jmp rel8 back onto the js");
	CHECK_EQ_INT(probe_site__entry_offset(CODE(0x85, 0xd2, 0x78, 0x06, 0x90, 0xe9, 0xf8, 0xff,
						   0xff, 0xff)),
		     0, "jmp rel32 back onto the js");
	/* One back to the entry itself would hit an entry probe again too: no difference. */
	CHECK_EQ_INT(probe_site__entry_offset(CODE(0x85, 0xd2, 0x78, 0x04, 0x90, 0x90, 0xeb, 0xf8)),
		     2, "jmp rel8 back to the entry");
	/* Cut short: nothing read past len. */
	CHECK_EQ_INT(probe_site__entry_offset(CODE(0x85, 0xd2, 0x78)), 0, "truncated branch");
	CHECK_EQ_INT(probe_site__entry_offset(CODE(0x48, 0x81, 0x7e, 0x08, 0xff)), 0,
		     "truncated immediate");
	CHECK_EQ_INT(probe_site__entry_offset(NULL, 0), 0, "empty");
	/* cmp -0x..(%rbp),%esi with its displacement cut off (found by the fuzzer). */
	CHECK_EQ_INT(probe_site__entry_offset(CODE(0x3b, 0x75)), 0, "truncated displacement");
	/* Three harmless instructions at most. */
	CHECK_EQ_INT(probe_site__entry_offset(CODE(0x85, 0xc0, 0x85, 0xc0, 0x85, 0xc0, 0x85, 0xc0,
						   0x74, 0x02)),
		     0, "four compares");

	/* glibc 2.36 sem_post (__new_sem_post), whole: the FUTEX_WAKE block at +0x1e, after
	 * shr $0x20,%rax; je +0x1b (no waiters: to the ret); its syscall's result check, the ja at
	 * +0x37, is where the probe goes. */
	static const uint8_t sem_post[] = {
		0x8b, 0x77, 0x08, 0x48, 0x8b, 0x07, 0x3d, 0xff, 0xff, 0xff, 0x7f, 0x74, 0x33, 0x48,
		0x8d, 0x50, 0x01, 0xf0, 0x48, 0x0f, 0xb1, 0x17, 0x75, 0xee, 0x48, 0xc1, 0xe8, 0x20,
		0x74, 0x1b, 0x40, 0x80, 0xf6, 0x81, 0x45, 0x31, 0xd2, 0xba, 0x01, 0x00, 0x00, 0x00,
		0xb8, 0xca, 0x00, 0x00, 0x00, 0x0f, 0x05, 0x48, 0x3d, 0x00, 0xf0, 0xff, 0xff, 0x77,
		0x1f, 0x31, 0xc0, 0xc3, 0x0f, 0x1f, 0x40, 0x00, 0x48, 0x8b, 0x05, 0xd9, 0x27, 0x14,
		0x00, 0x64, 0xc7, 0x00, 0x4b, 0x00, 0x00, 0x00, 0xb8, 0xff, 0xff, 0xff, 0xff, 0xc3,
		0x0f, 0x1f, 0x40, 0x00, 0x83, 0xc0, 0x16, 0x83, 0xe0, 0xf7, 0x74, 0xd9, 0x50, 0x48,
		0x8d, 0x3d, 0x78, 0xc0, 0x10, 0x00, 0xe8, 0x13, 0xee, 0xfe, 0xff,
	};
	uint8_t code[sizeof(sem_post)];

	CHECK_EQ_INT(probe_site__wake_offset(sem_post, sizeof(sem_post)), 0x37,
		     "sem_post: the FUTEX_WAKE block's result check");
	/* Without the result check after the syscall: nothing. */
	memcpy(code, sem_post, sizeof(code));
	code[0x31] = 0x90;
	CHECK_EQ_INT(probe_site__wake_offset(code, sizeof(code)), 0, "no result check");
	CHECK_EQ_INT(probe_site__wake_offset(sem_post, 0x38), 0, "cut inside the ja");
	/* No syscall, or cut before its end: nothing. */
	CHECK_EQ_INT(probe_site__wake_offset(sem_post, 0x2f), 0, "cut before the syscall");
	CHECK_EQ_INT(probe_site__wake_offset(CODE(0x74, 0x05, 0x31, 0xc0, 0xc3)), 0, "no syscall");
	/* A branch from elsewhere into the block (here the jne retry aimed at +0x24): refused. */
	memcpy(code, sem_post, sizeof(code));
	code[0x17] = (uint8_t)(0x24 - 0x18);
	CHECK_EQ_INT(probe_site__wake_offset(code, sizeof(code)), 0, "a branch into the block");
	/* A branch onto the block's first instruction from elsewhere: refused too. */
	code[0x17] = (uint8_t)(0x1e - 0x18);
	CHECK_EQ_INT(probe_site__wake_offset(code, sizeof(code)), 0, "a branch onto the block");
	/* The branch before the syscall does not jump past it: no block recognized. */
	memcpy(code, sem_post, sizeof(code));
	code[0x1d] = 0x02;
	CHECK_EQ_INT(probe_site__wake_offset(code, sizeof(code)), 0, "a branch that stays inside");
	/* A jcc rel32 over the block, and one after the check, work as well. */
	CHECK_EQ_INT(probe_site__wake_offset(CODE(0x85, 0xc0, 0x0f, 0x84, 0x10, 0x00, 0x00, 0x00,
						  0xb8, 0xca, 0x00, 0x00, 0x00, 0x0f, 0x05, 0x48,
						  0x3d, 0x00, 0xf0, 0xff, 0xff, 0x0f, 0x87, 0x01,
						  0x00, 0x00, 0x00, 0x90, 0xc3)),
		     21, "jcc rel32");
	return testing_summary("probe_site");
}
