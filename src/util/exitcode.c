// SPDX-License-Identifier: GPL-2.0
/* The errno -> exit code rule (see exitcode.h). */
#include <errno.h>

#include "util/exitcode.h"

bool lp_errno_is_denied(int err)
{
	return err == EPERM || err == EACCES || err == -EPERM || err == -EACCES;
}

enum lp_exit lp_exit_for_errno(int err, enum lp_exit otherwise)
{
	if (lp_errno_is_denied(err))
		return LP_EXIT_PRIVILEGE;
	if (err == ESRCH || err == -ESRCH)
		return LP_EXIT_NO_PROCESS;
	return otherwise;
}
