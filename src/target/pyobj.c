// SPDX-License-Identifier: GPL-2.0
/* Remote reads of CPython str and bytes objects. Everything read is untrusted: lengths are
 * bounded and layouts checked before use. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "target/pyobj.h"

#define PYSTR_LENGTH_OFF 16		    /* PyASCIIObject.length (Py_ssize_t) */
#define PYSTR_STATE_OFF 32		    /* PyASCIIObject.state bitfield */
#define PYSTR_HDR_LEN (PYSTR_STATE_OFF + 4) /* what the layout needs: a short str ends at 40 */
#define PYBYTES_SIZE_OFF 16		    /* PyVarObject.ob_size */
#define PYBYTES_DATA_OFF 32		    /* PyBytesObject.ob_sval */

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

	if (hdr_len < PYSTR_HDR_LEN)
		return -EINVAL;
	memcpy(&length, hdr + PYSTR_LENGTH_OFF, sizeof(length));
	memcpy(&state, hdr + PYSTR_STATE_OFF, sizeof(state));
	/* interned:2 kind:3 compact:1 ascii:1 (3.8-3.14 default builds) */
	kind = (state >> 2) & 7;
	compact = (state >> 5) & 1;
	ascii = (state >> 6) & 1;
	if (!compact || kind != 1 || length < 0)
		return -EINVAL;
	*data_off = ascii ? (size_t)o->unicode_ascii_data : (size_t)o->unicode_compact_data;
	*nbytes = (size_t)length;
	return 0;
}

int pyobj__read_str(pid_t pid, uint64_t addr, const struct lp_pyoffsets *o, char *out,
		    size_t outlen)
{
	uint8_t hdr[PYSTR_HDR_LEN];
	size_t off, n;
	int err;

	if (!outlen)
		return -EINVAL;
	out[0] = '\0';
	/* Only the bytes the layout needs: reading more could run off the end of a mapping. */
	err = remote_read(pid, addr, hdr, sizeof(hdr));
	if (err)
		return err;
	err = pystr__layout(hdr, sizeof(hdr), o, &off, &n);
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

int pyobj__read_bytes(pid_t pid, uint64_t addr, uint8_t **out, size_t *len)
{
	int64_t size;
	uint8_t *buf;
	int err;

	*out = NULL;
	*len = 0;
	err = remote_read(pid, addr + PYBYTES_SIZE_OFF, &size, sizeof(size));
	if (err)
		return err;
	if (size < 0 || size > LP_PYBYTES_MAX)
		return -EINVAL;
	buf = malloc(size ? (size_t)size : 1);
	if (!buf)
		return -ENOMEM;
	err = remote_read(pid, addr + PYBYTES_DATA_OFF, buf, (size_t)size);
	if (err) {
		free(buf);
		return err;
	}
	*out = buf;
	*len = (size_t)size;
	return 0;
}
