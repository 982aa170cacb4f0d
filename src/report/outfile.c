// SPDX-License-Identifier: GPL-2.0
/*
 * The report file. lockprof runs as root, often in a directory others can write to (/tmp), so the
 * name given with -o may have been planted: a symlink to /etc/shadow, a hard link to it, a FIFO
 * that would hang the open. None of them is written to or truncated. The open happens before any
 * probe is attached, so that an unusable path fails fast.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report/outfile.h"
#include "util/log.h"

#define REPORT_MODE 0644 /* the report is for the user who ran sudo, not only for root */

static int fail(const char *path, const char *why)
{
	lp_err("cannot write output file %s: %s", path, why);
	return -1;
}

int outfile__open(const char *path)
{
	struct stat st;
	int fd, flags;

	/* O_EXCL does not follow a symlink at path: a planted one, dangling or not, is EEXIST. */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, REPORT_MODE);
	if (fd >= 0) {
		/* The umask could have taken read bits away from the invoking user. */
		if (fchmod(fd, REPORT_MODE)) {
			close(fd);
			return fail(path, strerror(errno));
		}
		return fd;
	}
	if (errno != EEXIST)
		return fail(path, strerror(errno));

	/* It exists: given explicitly, it may be replaced, but only if it is what it seems.
	 * O_NONBLOCK: opening a FIFO without a reader fails (ENXIO) instead of hanging. */
	fd = open(path, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return fail(path, errno == ELOOP ? "it is a symbolic link (lockprof does not write "
						   "through one)"
						 : strerror(errno));
	if (fstat(fd, &st)) {
		close(fd);
		return fail(path, strerror(errno));
	}
	if (S_ISREG(st.st_mode)) {
		/* A hard link planted at the name would make us truncate its other names' file. */
		if (st.st_nlink > 1) {
			close(fd);
			return fail(path, "it has other hard links (lockprof does not truncate "
					  "those)");
		}
		if (ftruncate(fd, 0)) {
			close(fd);
			return fail(path, strerror(errno));
		}
	}
	/* Character devices and FIFOs with a reader are written as they are (-o /dev/null). */
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK)) {
		close(fd);
		return fail(path, strerror(errno));
	}
	return fd;
}
