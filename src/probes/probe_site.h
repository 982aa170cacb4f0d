/* SPDX-License-Identifier: GPL-2.0 */
/* Where in a function to put its entry uprobe. On x86-64 the kernel emulates a probed branch
 * (jcc, jmp, call) or push in a few microseconds but single-steps most other instructions out
 * of line, about three times the cost. Several libc functions lockprof probes start with a
 * compare or a load followed by a branch (glibc 2.36: sem_init, sem_clockwait, sem_timedwait),
 * so probing the branch instead costs the target less for the same event. Pure. */
#ifndef LOCKPROF_SRC_PROBE_SITE_H
#define LOCKPROF_SRC_PROBE_SITE_H

#include <stddef.h>
#include <stdint.h>

/* code: the function's bytes from its entry (len: its st_size, or what could be read). Returns
 * the offset of an instruction an entry probe may sit on instead of the entry, 0 when none:
 * the instructions before it only compare, test or load into %rax/%eax (no argument register,
 * stack pointer or memory written, no control flow), it is a branch or push the kernel
 * emulates, and no direct branch anywhere in code lands on it or between it and the entry
 * (which would run it again within one call). */
size_t probe_site__entry_offset(const uint8_t *code, size_t len);

/* code: a semaphore post function's bytes from its entry (glibc's sem_post). Returns the offset
 * of the conditional branch that checks the result of its FUTEX_WAKE syscall (mov
 * $SYS_futex,%eax; syscall; cmp $-4096,%rax; jcc), 0 when not recognized. That branch runs only
 * after a waiter was woken, and the kernel emulates it (the block's first instructions would be
 * single-stepped, several times the cost): the block must start right after a conditional branch
 * that jumps past the syscall (glibc takes it when the semaphore has no waiters), and no direct
 * branch before the syscall may land inside the block. glibc 2.36: __new_sem_post+0x37, in the
 * block that starts at +0x1e after shr $32,%rax; je. The semaphore is still in %rdi there (the
 * syscall preserves it). */
size_t probe_site__wake_offset(const uint8_t *code, size_t len);

#endif
