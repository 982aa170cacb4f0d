// SPDX-License-Identifier: GPL-2.0
/* Stop signals (see stopsignal.h). */
#include <signal.h>

#include "util/stopsignal.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

void stop_signals__catch(bool hangup)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (hangup)
		sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

bool stop_signals__requested(void)
{
	return stop_requested;
}

void stop_signals__request(void)
{
	stop_requested = 1;
}
