/* SPDX-License-Identifier: GPL-2.0 */
/* The faces' loops stop when asked: SIGINT and SIGTERM (and SIGHUP for a face that owns a
 * terminal) set one flag the loops test; SIGPIPE is ignored so that a closed reader is an
 * error return, not a death. */
#ifndef LOCKPROF_SRC_STOPSIGNAL_H
#define LOCKPROF_SRC_STOPSIGNAL_H

#include <stdbool.h>

void stop_signals__catch(bool hangup);
bool stop_signals__requested(void);
/* A stop asked for by other means (top's q key). */
void stop_signals__request(void);

#endif
