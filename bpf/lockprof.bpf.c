// SPDX-License-Identifier: GPL-2.0
/* lockprof's BPF programs: thin uprobe handlers; the logic lives in the *.bpf.h helpers. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "lockprof/abi.h"

#define EEXIST 17

const volatile __u32 targ_tgid = 0;
const volatile struct lp_py_offsets py = {};
const volatile struct lp_wait_config wait_cfg = {};

#include "counters.bpf.h"
#include "pyframes.bpf.h"
#include "lockstats.bpf.h"

/* Entry of a blocking wait (libc sem_wait/sem_clockwait/sem_timedwait on 3.8-3.13). These are only
 * reached after CPython's non-blocking try failed, so an uncontended acquire never gets here. */
SEC("uprobe")
int BPF_KPROBE(wait_enter, void *arg0)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	struct lp_inflight w = {};
	__u64 lock = (__u64)arg0;

	if (pid_tgid >> 32 != targ_tgid)
		return 0;
	count_event(&counters.probe_hits);

	if (wait_cfg.check_sem_value) {
		/* glibc's sem_t starts with the 32-bit count: a positive count means the call takes
		 * the semaphore without blocking (C-internal callers skip the try-first step). */
		__u32 value;

		if (bpf_probe_read_user(&value, sizeof(value), arg0) < 0) {
			count_event(&counters.read_errors);
			return 0;
		}
		if (value > 0)
			return 0;
	}
	if (wait_cfg.lock_deref && read_user_u64(lock + wait_cfg.lock_deref, &lock))
		return 0;

	w.lock = lock;
	w.stack_id = capture_stack(tid);
	w.start_ns = bpf_ktime_get_ns();
	if (bpf_map_update_elem(&inflight, &tid, &w, BPF_ANY))
		count_event(&counters.inflight_dropped);
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(wait_exit, long ret)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	struct lp_inflight *w;
	__u64 now = bpf_ktime_get_ns();

	if (pid_tgid >> 32 != targ_tgid)
		return 0;
	count_event(&counters.probe_hits);
	w = bpf_map_lookup_elem(&inflight, &tid);
	if (!w)
		return 0;
	record_wait(w, tid, now, (int)ret == 0);
	bpf_map_delete_elem(&inflight, &tid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
