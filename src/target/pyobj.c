// SPDX-License-Identifier: GPL-2.0
/* Remote reads of CPython str and bytes objects. Everything read is untrusted: lengths are
 * bounded and layouts checked before use. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "target/pyobj.h"

/* The most a str header's layout needs: free-threaded builds' state ends at 52. */
#define PYSTR_HDR_MAX 52
/* PyBytesObject: ob_size right after the object header, then ob_shash, then ob_sval. */
#define PYBYTES_DATA_AFTER_SIZE 16

int remote_read(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { .iov_base = buf, .iov_len = len };
	struct iovec remote = { .iov_base = (void *)(uintptr_t)addr, .iov_len = len };
	ssize_t n;

	if (!addr)
		return -EFAULT;
	n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EFAULT;
}

int pystr__layout(const uint8_t *hdr, size_t hdr_len, const struct lp_pyoffsets *o,
		  size_t *data_off, size_t *nbytes)
{
	int64_t length;
	uint32_t state, kind, compact, ascii;
	int shift = o->unicode_kind_shift;

	if (o->unicode_length < 0 || o->unicode_state < 0 || shift < 0 || shift > 24 ||
	    hdr_len < (size_t)o->unicode_length + 8 || hdr_len < (size_t)o->unicode_state + 4)
		return -EINVAL;
	memcpy(&length, hdr + o->unicode_length, sizeof(length));
	memcpy(&state, hdr + o->unicode_state, sizeof(state));
	/* interned (2 bits, or a byte in 3.14t), then kind:3 compact:1 ascii:1 */
	kind = (state >> shift) & 7;
	compact = (state >> (shift + 3)) & 1;
	ascii = (state >> (shift + 4)) & 1;
	if (!compact || kind != 1 || length < 0)
		return -EINVAL;
	*data_off = ascii ? (size_t)o->unicode_ascii_data : (size_t)o->unicode_compact_data;
	*nbytes = (size_t)length;
	return 0;
}

int pyobj__read_str(pid_t pid, uint64_t addr, const struct lp_pyoffsets *o, char *out,
		    size_t outlen)
{
	uint8_t hdr[PYSTR_HDR_MAX];
	size_t hdr_len = (size_t)o->unicode_state + 4, off, n;
	int err;

	if (!outlen)
		return -EINVAL;
	out[0] = '\0';
	if (o->unicode_state < 0 || hdr_len > sizeof(hdr))
		return -EINVAL;
	/* Only the bytes the layout needs: reading more could run off the end of a mapping. */
	err = remote_read(pid, addr, hdr, hdr_len);
	if (err)
		return err;
	err = pystr__layout(hdr, hdr_len, o, &off, &n);
	if (err)
		return err;
	if (n > outlen - 1)
		n = outlen - 1;
	err = remote_read(pid, addr + off, out, n);
	if (err) {
		out[0] = '\0'; /* a short read may have filled part of it */
		return err;
	}
	out[n] = '\0';
	/* A NUL inside would silently shorten names; keep them printable instead. */
	for (size_t i = 0; i < n; i++)
		if (out[i] == '\0')
			out[i] = '?';
	return 0;
}

int pyobj__read_bytes(pid_t pid, uint64_t addr, const struct lp_pyoffsets *o, uint8_t **out,
		      size_t *len)
{
	uint64_t size_at = addr + (uint64_t)o->object_head;
	int64_t size;
	uint8_t *buf;
	int err;

	*out = NULL;
	*len = 0;
	err = remote_read(pid, size_at, &size, sizeof(size));
	if (err)
		return err;
	if (size < 0 || size > LP_PYBYTES_MAX)
		return -EINVAL;
	buf = malloc(size ? (size_t)size : 1);
	if (!buf)
		return -ENOMEM;
	err = remote_read(pid, size_at + PYBYTES_DATA_AFTER_SIZE, buf, (size_t)size);
	if (err) {
		free(buf);
		return err;
	}
	*out = buf;
	*len = (size_t)size;
	return 0;
}
