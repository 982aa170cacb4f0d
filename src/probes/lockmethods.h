/* SPDX-License-Identifier: GPL-2.0 */
/* Where the C functions behind threading.Lock's and RLock's acquire and release are, read from the
 * target's memory: sys.modules["_thread"].LockType and .RLock, then each type's method table.
 * -m full probes them where Lock is a PyMutex (3.13.1+), whose acquire and release make no libc
 * call to probe: the functions are static, and stripped from distribution builds, but their
 * method tables point at them. Layouts are those of CPython 3.13 and 3.14 default builds. */
#ifndef LOCKPROF_SRC_LOCKMETHODS_H
#define LOCKPROF_SRC_LOCKMETHODS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "target/pyoffsets.h"

/* Runtime addresses in the target; 0 when not found. acquire also serves acquire_lock and
 * __enter__, release also release_lock and __exit__ (one C function each in 3.13 and 3.14).
 * RLock's _release_save and _acquire_restore (Condition.wait) unlock and relock it too. */
struct lp_lock_methods {
	uint64_t lock_acquire, lock_release;
	uint64_t rlock_acquire, rlock_release;
	uint64_t rlock_release_save, rlock_acquire_restore;
};

/* Reads the methods of the interpreter whose _PyRuntime is at runtime_addr. Returns 0 when the
 * Lock functions were found (the RLock ones may be 0), else -errno. */
int lockmethods__find(pid_t pid, uint64_t runtime_addr, const struct lp_pyoffsets *o,
		      struct lp_lock_methods *out);

/* Pure: from the first DICT_KEYS_HEADER bytes of a PyDictKeysObject, where its entries start
 * (offset from the keys object), how large each is and how many are used. 0 or -EINVAL. */
#define LP_DICT_KEYS_HEADER 32
int lockmethods__dict_entries(const uint8_t *hdr, uint64_t *entries_off, size_t *entry_size,
			      uint64_t *nentries);

/* Pure: how many places in code (mapped at code_vaddr) refer to func_vaddr other than by a direct
 * call or jump: an absolute 32-bit immediate (cmp/mov $func, non-PIE) or a RIP-relative
 * displacement that is not a call/jmp/jcc (lea func(%rip), PIE). Such a reference is what
 * profile-guided indirect-call promotion leaves where it inlined the function into a caller
 * ("if (meth == func) { inlined body } else meth(...)"): calls taking that path never enter the
 * probed function. A count, not a proof: random bytes match with odds of 2^-32 per byte. */
size_t lockmethods__count_code_refs(const uint8_t *code, size_t len, uint64_t code_vaddr,
				    uint64_t func_vaddr);

#endif
