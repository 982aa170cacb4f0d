/* SPDX-License-Identifier: GPL-2.0 */
/* Reading CPython objects out of the target's memory with process_vm_readv: strings, bytes and
 * object types. The decoding of what was read is separate and pure, so it can be fuzzed. */
#ifndef LOCKPROF_SRC_PYOBJ_H
#define LOCKPROF_SRC_PYOBJ_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "target/pyoffsets.h"

#define LP_PYSTR_MAX 1024 /* longest name or file name we read */
#define LP_PYBYTES_MAX (1u << 20)

/* Copies len bytes at addr in pid. 0, or -errno (-EFAULT for a short read). */
int remote_read(pid_t pid, uint64_t addr, void *buf, size_t len);

/* Decodes the header of a str object (PyASCIIObject bytes `hdr`, through its state): where its
 * characters start (offset from the object), how many bytes they take and whether they are
 * 1-byte characters. Returns 0, or -EINVAL for anything we do not read (non-compact, wide). */
int pystr__layout(const uint8_t *hdr, size_t hdr_len, const struct lp_pyoffsets *o,
		  size_t *data_off, size_t *nbytes);

/* Reads a str object into out (NUL-terminated, truncated to outlen - 1 bytes, non-ASCII latin-1
 * bytes and UTF-8 copied as they are). Returns 0, or -errno with out set to "". */
int pyobj__read_str(pid_t pid, uint64_t addr, const struct lp_pyoffsets *o, char *out,
		    size_t outlen);

/* Reads a bytes object: *out is malloc'ed (caller frees), *len its size. 0 or -errno. */
int pyobj__read_bytes(pid_t pid, uint64_t addr, const struct lp_pyoffsets *o, uint8_t **out,
		      size_t *len);

#endif
