/* SPDX-License-Identifier: GPL-2.0 */
/* Opening the report file lockprof (usually root) writes, without being tricked into writing
 * elsewhere. */
#ifndef LOCKPROF_SRC_OUTFILE_H
#define LOCKPROF_SRC_OUTFILE_H

/* Opens path for writing the report: a new file gets mode 0644 whatever the umask; an existing
 * regular file is truncated. Never follows a symlink at path, never truncates a file with other
 * hard links, never blocks on a FIFO without a reader. Returns an fd, or -1 after printing why. */
int outfile__open(const char *path);

#endif
