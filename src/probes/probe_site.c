// SPDX-License-Identifier: GPL-2.0
/* Choosing an entry probe's instruction (see probe_site.h). A decoder for the handful of
 * instruction forms that matter here, written by hand: anything it does not know keeps the probe
 * at the entry. */
#include <stdbool.h>
#include <string.h>

#include "probes/probe_site.h"

#define MAX_SKIPPED 3
#define REX_W 0x48

/* Bytes of a ModRM operand (ModRM itself and its displacement) that we accept: registers, or
 * [base] / [base + disp8] / [base + disp32] without SIB and without RIP-relative addressing.
 * 0 for anything else. */
static size_t modrm_len(uint8_t modrm)
{
	uint8_t mod = modrm >> 6, rm = modrm & 7;

	if (mod == 3)
		return 1;
	if (rm == 4 || (mod == 0 && rm == 5))
		return 0; /* SIB, RIP-relative */
	return mod == 0 ? 1 : mod == 1 ? 2 : 5;
}

/* Length of an instruction that changes nothing but flags (and %rax/%eax), 0 if not one. The
 * length may run past left: the caller checks. */
static size_t decode_harmless(const uint8_t *p, size_t left)
{
	size_t rex = 0, m;
	uint8_t op, modrm, reg;

	if (left && (p[0] & 0xf0) == 0x40)
		rex = 1;
	if (left < rex + 2)
		return 0;
	op = p[rex];
	modrm = p[rex + 1];
	reg = (modrm >> 3) & 7;
	if (rex && (p[0] & 0x04))
		reg |= 8; /* REX.R: %r8..%r15 */
	m = modrm_len(modrm);
	if (!m)
		return 0;
	switch (op) {
	case 0x84: /* test r/m8, r8 */
	case 0x85: /* test r/m, r */
	case 0x38: /* cmp r/m8, r8 */
	case 0x39: /* cmp r/m, r */
	case 0x3a: /* cmp r8, r/m8 */
	case 0x3b: /* cmp r, r/m */
		return rex + 1 + m;
	case 0x83: /* group 1, imm8: only /7, cmp */
		return reg == 7 ? rex + 1 + m + 1 : 0;
	case 0x81: /* group 1, imm32: only /7, cmp */
		return reg == 7 ? rex + 1 + m + 4 : 0;
	case 0x8b: /* mov r, r/m: only into %rax/%eax */
		return reg == 0 ? rex + 1 + m : 0;
	case 0x31: /* xor r/m, r */
	case 0x33: /* xor r, r/m: only %eax, %eax (or %rax, %rax) */
		return modrm == 0xc0 && (!rex || p[0] == REX_W) ? rex + 2 : 0;
	default:
		return 0;
	}
}

static size_t harmless_len(const uint8_t *p, size_t left)
{
	size_t n = decode_harmless(p, left);

	return n <= left ? n : 0;
}

/* Length of a branch or push the kernel's uprobes emulate, 0 if not one. */
static size_t emulated_len(const uint8_t *p, size_t left)
{
	if (left >= 2 && ((p[0] & 0xf0) == 0x70 || p[0] == 0xeb))
		return 2; /* jcc rel8, jmp rel8 */
	if (left >= 5 && (p[0] == 0xe8 || p[0] == 0xe9))
		return 5; /* call rel32, jmp rel32 */
	if (left >= 6 && p[0] == 0x0f && (p[1] & 0xf0) == 0x80)
		return 6; /* jcc rel32 */
	if (left >= 1 && (p[0] & 0xf8) == 0x50)
		return 1; /* push %rax..%rdi */
	if (left >= 2 && p[0] == 0x41 && (p[1] & 0xf8) == 0x50)
		return 2; /* push %r8..%r15 */
	return 0;
}

static int32_t le32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return (int32_t)v;
}

/* Whether some byte sequence in code reads as a direct branch into (lo, hi]. Reading every byte
 * position, not just real instruction starts, can only find too many such branches. */
static bool in_range(int64_t target, size_t lo, size_t hi)
{
	return target > (int64_t)lo && target <= (int64_t)hi;
}

static bool branch_lands_in(const uint8_t *code, size_t len, size_t lo, size_t hi)
{
	for (size_t i = 0; i < len; i++) {
		int64_t target = -1;

		if (i + 2 <= len && ((code[i] & 0xf0) == 0x70 || code[i] == 0xeb))
			target = (int64_t)i + 2 + (int8_t)code[i + 1];
		if (!in_range(target, lo, hi)) {
			target = -1;
			if (i + 5 <= len && (code[i] == 0xe8 || code[i] == 0xe9))
				target = (int64_t)i + 5 + le32(code + i + 1);
		}
		if (!in_range(target, lo, hi)) {
			target = -1;
			if (i + 6 <= len && code[i] == 0x0f && (code[i + 1] & 0xf0) == 0x80)
				target = (int64_t)i + 6 + le32(code + i + 2);
		}
		if (in_range(target, lo, hi))
			return true;
	}
	return false;
}

size_t probe_site__entry_offset(const uint8_t *code, size_t len)
{
	size_t site = 0;

	for (int skipped = 0; skipped < MAX_SKIPPED; skipped++) {
		size_t n = harmless_len(code + site, len - site);

		if (!n)
			break;
		site += n;
		if (emulated_len(code + site, len - site))
			return branch_lands_in(code, len, 0, site) ? 0 : site;
	}
	return 0;
}

#define MAX_WAKE_SCAN 32 /* bytes searched back from the syscall for the branch over it */

/* mov $202,%eax (SYS_futex on x86-64); syscall */
static const uint8_t futex_syscall[] = { 0xb8, 0xca, 0x00, 0x00, 0x00, 0x0f, 0x05 };
/* cmp $-4096,%rax: glibc's check of a syscall's result, followed by a jcc to its error path */
static const uint8_t syscall_check[] = { 0x48, 0x3d, 0x00, 0xf0, 0xff, 0xff };

/* Where the conditional branch at code[j] lands, or -1 when code[j] starts none. */
static int64_t jcc_target(const uint8_t *code, size_t len, size_t j, size_t *size)
{
	if (j + 2 <= len && (code[j] & 0xf0) == 0x70) {
		*size = 2;
		return (int64_t)j + 2 + (int8_t)code[j + 1];
	}
	if (j + 6 <= len && code[j] == 0x0f && (code[j + 1] & 0xf0) == 0x80) {
		*size = 6;
		return (int64_t)j + 6 + le32(code + j + 2);
	}
	return -1;
}

size_t probe_site__wake_offset(const uint8_t *code, size_t len)
{
	size_t call = 0, end, lo;

	while (call + sizeof(futex_syscall) <= len &&
	       memcmp(code + call, futex_syscall, sizeof(futex_syscall)))
		call++;
	if (call + sizeof(futex_syscall) > len)
		return 0;
	end = call + sizeof(futex_syscall);
	lo = call > MAX_WAKE_SCAN ? call - MAX_WAKE_SCAN : 0;
	/* The nearest branch before the syscall that jumps past it opens the block. */
	for (size_t j = call; j-- > lo;) {
		size_t size = 0;
		int64_t target = jcc_target(code, len, j, &size);

		if (target <= (int64_t)end || j + size > call)
			continue;
		/* Only the code up to the syscall is searched for other ways in: past it lies the
		 * error path, whose displacement bytes read as stray branches (glibc 2.36: the
		 * 0x78 of a lea's displacement lands at +0x26). The BPF side checks that the
		 * semaphore has waiters, so a way in missed here costs a trap, never a wrong
		 * answer. */
		if (branch_lands_in(code, end, j + size - 1, end))
			return 0;
		/* The block's first instructions are single-stepped (about 20 us a hit here); the
		 * result check's jcc right after the syscall is emulated. */
		if (end + sizeof(syscall_check) > len ||
		    memcmp(code + end, syscall_check, sizeof(syscall_check)) ||
		    jcc_target(code, len, end + sizeof(syscall_check), &size) < 0)
			return 0;
		return end + sizeof(syscall_check);
	}
	return 0;
}
