// SPDX-License-Identifier: GPL-2.0
/* BPF program run statistics (see progstats.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "collect/progstats.h"

bool progstats__enabled(void)
{
	FILE *f = fopen("/proc/sys/kernel/bpf_stats_enabled", "re");
	int on = 0;

	if (!f)
		return false;
	if (fscanf(f, "%d", &on) != 1)
		on = 0;
	fclose(f);
	return on == 1;
}

int progstats__read(struct bpf_object *obj, struct lp_prog_stats *s)
{
	struct bpf_program *prog;

	memset(s, 0, sizeof(*s));
	s->enabled = progstats__enabled();
	bpf_object__for_each_program(prog, obj) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		struct lp_prog_stat *st;
		const char *type;
		int fd = bpf_program__fd(prog);

		if (fd < 0 || s->n >= LP_MAX_PROGS)
			continue;
		if (bpf_obj_get_info_by_fd(fd, &info, &len))
			return -errno;
		st = &s->progs[s->n++];
		snprintf(st->name, sizeof(st->name), "%s", bpf_program__name(prog));
		type = libbpf_bpf_prog_type_str(bpf_program__type(prog));
		snprintf(st->type, sizeof(st->type), "%s", type ? type : "unknown");
		st->runs = info.run_cnt;
		st->run_ns = info.run_time_ns;
	}
	return 0;
}
