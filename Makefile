# SPDX-License-Identifier: GPL-2.0
# lockprof build: BPF object -> skeleton -> user space binary, unit tests, functional tests.
OUTPUT := .output
CLANG ?= clang
BPFTOOL ?= $(shell command -v bpftool 2>/dev/null || echo /usr/sbin/bpftool)
CC ?= gcc
ARCH := $(shell uname -m | sed 's/x86_64/x86/' | sed 's/aarch64/arm64/')
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux
VMLINUX_H ?= vmlinux/$(ARCH)/vmlinux.h
# Debian's pytest: a python3 earlier in PATH (pyenv) may have none.
PYTHON ?= /usr/bin/python3
PYTEST ?= $(PYTHON) -m pytest
VERSION := 0.2.0
# make install: $(DESTDIR)$(PREFIX)/sbin/lockprof and the manual page doc/lockprof.8.
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
INSTALL ?= install

# Debian's libbpf 1.1 (pkg-config libbpf) is the library we build against.
LIBBPF_CFLAGS := $(shell pkg-config --cflags libbpf 2>/dev/null)
LIBBPF_LIBS := $(shell pkg-config --libs libbpf 2>/dev/null || echo -lbpf)

WARNINGS := -Wall -Wextra -Wshadow -Wformat=2 -Wimplicit-fallthrough -Wmissing-prototypes \
	-Wstrict-prototypes -Wpointer-arith -Wundef -Wvla -Werror
CFLAGS ?= -g -O2
ALL_CFLAGS := -std=gnu11 $(CFLAGS) $(WARNINGS) -D_GNU_SOURCE -DLOCKPROF_VERSION='"$(VERSION)"' \
	-Iinclude -Isrc -I$(OUTPUT) $(LIBBPF_CFLAGS) $(MHD_CFLAGS)
# ncurses: the top face's terminal (pkg-config knows whether Debian splits out tinfo).
NCURSES_CFLAGS := $(shell pkg-config --cflags ncursesw 2>/dev/null)
NCURSES_LIBS := $(shell pkg-config --libs ncursesw 2>/dev/null || echo -lncursesw -ltinfo)
# libmicrohttpd: lockprof serve's HTTP server (src/serve/http.c).
MHD_CFLAGS := $(shell pkg-config --cflags libmicrohttpd 2>/dev/null)
MHD_LIBS := $(shell pkg-config --libs libmicrohttpd 2>/dev/null || echo -lmicrohttpd)
LDLIBS := $(LIBBPF_LIBS) -lelf -lz -pthread $(NCURSES_LIBS) $(MHD_LIBS)

# clang -target bpf does not see the host's multiarch include dirs; add them after its own.
CLANG_BPF_SYS_INCLUDES := $(shell $(CLANG) -v -E - </dev/null 2>&1 \
	| sed -n '/<...> search starts here:/,/End of search list./{ s| \(/.*\)|-idirafter \1|p }')
# -mcpu=v3: compare-and-swap (blame's hand-off between a wait and its release), 32-bit jumps.
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -Wall -Wextra -Wno-unused-parameter \
	-Werror -Iinclude -I$(dir $(VMLINUX_H)) $(CLANG_BPF_SYS_INCLUDES)

# src/ has one folder per pipeline stage (doc/ARCHITECTURE.md); objects mirror it under .output/.
SRCS := $(wildcard src/*.c src/*/*.c)
OBJS := $(patsubst src/%.c,$(OUTPUT)/%.o,$(SRCS))
LIB_OBJS := $(filter-out $(OUTPUT)/main.o,$(OBJS))
UNIT_TESTS := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(wildcard tests/unit/test_*.c))
ELF_FIXTURE := $(OUTPUT)/tests/fixture_syms.so

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.PHONY: all clean test check-unit check-unit-asan check-functional check-real check-real-quick check-format \
	format soak soak-serve demo deps vmlinux fuzz install uninstall
.DELETE_ON_ERROR:

all: lockprof

lockprof: $(OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $^ $(LDLIBS) -o $@

$(OUTPUT) $(OUTPUT)/tests:
	$(Q)mkdir -p $@

$(OUTPUT)/lockprof.bpf.o: bpf/lockprof.bpf.c $(VMLINUX_H) | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -MMD -MP -MF $(OUTPUT)/lockprof.bpf.d -MT $@ -c $< -o $(OUTPUT)/lockprof.tmp.bpf.o
	$(Q)$(BPFTOOL) gen object $@ $(OUTPUT)/lockprof.tmp.bpf.o

$(OUTPUT)/lockprof.skel.h: $(OUTPUT)/lockprof.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name lockprof_bpf > $@

# The skeleton exists before any object is compiled (-MMD then tracks who includes it).
$(OUTPUT)/%.o: src/%.c | $(OUTPUT)/lockprof.skel.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

# Unit tests: no root, no BPF. Each links the pure modules it needs from src/.
$(OUTPUT)/tests/%: tests/unit/%.c $(LIB_OBJS) | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -Itests/unit -MMD -MP $< $(LIB_OBJS) $(LDLIBS) -o $@

# A tiny shared object with known symbols for the ELF reader's tests.
$(ELF_FIXTURE): tests/unit/fixtures/fixture_syms.c | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) -shared -fPIC -O1 -Wl,--version-script=tests/unit/fixtures/fixture_syms.map $< -o $@

# Fuzz targets: tests/fuzz/fuzz_NAME.c exercises src/STAGE/NAME.c (and FUZZ_EXTRA_NAME); corpus seeds
# in tests/fuzz/corpus/NAME/. Readers of target memory get a fake address space from the fuzz
# input: process_vm_readv is wrapped (tests/fuzz/fake_memory.h).
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,$(OUTPUT)/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SECONDS ?= 60
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-D_GNU_SOURCE -Iinclude -Isrc -Itests/fuzz -Itests/unit
FUZZ_EXTRA_pyobj := src/target/pyoffsets.c
FUZZ_EXTRA_lockmethods := src/target/pyobj.c src/target/pyoffsets.c
FUZZ_EXTRA_symbolize := src/target/pyobj.c src/symbolize/linetable.c src/util/u64map.c \
	src/target/pyoffsets.c

.SECONDEXPANSION:
$(OUTPUT)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $$(wildcard src/*/$$*.c) $$(FUZZ_EXTRA_$$*) $(wildcard tests/fuzz/*.h)
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $(filter %.c,$^) -lelf -Wl,--wrap=process_vm_readv -o $@

fuzz: $(FUZZ_TARGETS)
	$(Q)set -e; for t in $(FUZZ_TARGETS); do n=$${t##*/fuzz_}; mkdir -p $(OUTPUT)/fuzz/corpus_$$n; \
		echo "fuzz: $$n for $(FUZZ_SECONDS) s"; \
		if ! $$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			-artifact_prefix=$(OUTPUT)/fuzz/$$n- $(OUTPUT)/fuzz/corpus_$$n \
			tests/fuzz/corpus/$$n > $(OUTPUT)/fuzz/$$n.log 2>&1; then \
			tail -40 $(OUTPUT)/fuzz/$$n.log; exit 1; fi; \
		grep -E "stat::number_of_executed_units|stat::average_exec_per_sec" $(OUTPUT)/fuzz/$$n.log; \
	done

check-unit: $(UNIT_TESTS) $(ELF_FIXTURE) $(OUTPUT)/tests/dump_pyoffsets
	$(Q)set -e; for t in $(UNIT_TESTS); do LOCKPROF_FIXTURES=tests/unit/fixtures \
		LOCKPROF_ELF_FIXTURE=$(ELF_FIXTURE) $$t; done
	$(Q)$(PYTHON) tests/unit/check_pyoffsets.py --dump $(OUTPUT)/tests/dump_pyoffsets \
		--work $(OUTPUT)/tests/pyoffsets --cc $(CC)

# The unit tests again, built with AddressSanitizer and UBSan; any finding fails the run.
ASAN_OUTPUT := $(OUTPUT)/asan
ASAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
ASAN_LIB_OBJS := $(patsubst $(OUTPUT)/%.o,$(ASAN_OUTPUT)/%.o,$(LIB_OBJS))
ASAN_UNIT_TESTS := $(patsubst $(OUTPUT)/tests/%,$(ASAN_OUTPUT)/tests/%,$(UNIT_TESTS))

.SECONDARY: $(ASAN_LIB_OBJS)

$(ASAN_OUTPUT) $(ASAN_OUTPUT)/tests:
	$(Q)mkdir -p $@

$(ASAN_OUTPUT)/%.o: src/%.c | $(OUTPUT)/lockprof.skel.h
	$(call msg,CC-ASAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $(ASAN_FLAGS) -MMD -MP -c $< -o $@

$(ASAN_OUTPUT)/tests/%: tests/unit/%.c $(ASAN_LIB_OBJS) | $(ASAN_OUTPUT)/tests
	$(call msg,CC-ASAN,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(ASAN_FLAGS) -Itests/unit -MMD -MP $< $(ASAN_LIB_OBJS) $(LDLIBS) -o $@

# Only the top face includes curses.h.
$(OUTPUT)/faces/top.o $(ASAN_OUTPUT)/faces/top.o: ALL_CFLAGS += $(NCURSES_CFLAGS)

# report_html.c embeds the page with .incbin, which -MMD does not see.
$(OUTPUT)/report/report_html.o $(ASAN_OUTPUT)/report/report_html.o: src/report/report_html.html

check-unit-asan: $(ASAN_UNIT_TESTS) $(ELF_FIXTURE)
	$(Q)set -e; for t in $(ASAN_UNIT_TESTS); do LOCKPROF_FIXTURES=tests/unit/fixtures \
		LOCKPROF_ELF_FIXTURE=$(ELF_FIXTURE) UBSAN_OPTIONS=print_stacktrace=1 $$t; done

# Most functional tests wait on sleeping targets: they run TEST_JOBS at a time (pytest-xdist,
# when installed); those marked serial (CPU shares, deadlines, rates) run alone afterwards.
TEST_JOBS ?= 3
XDIST = $(shell $(PYTHON) -c 'import xdist' 2>/dev/null && echo "-n $(TEST_JOBS)")
check-functional: lockprof $(OUTPUT)/tests/gen_html_report
	$(Q)$(PYTEST) -q $(XDIST) -m 'not serial' tests/functional; parallel=$$?; \
		$(PYTEST) -q -m serial tests/functional && exit $$parallel

# Real code (tests/real): lockprof on CPython's test_threading, test_queue and test_logging, run
# in one process plain and profiled (same failing tests), the JSON report's invariants checked
# (tests/real/check_report.py). REAL_SELECT=all: every interpreter found, about 1.5 min each;
# quick: the newest shared build and the newest static one (Debian's), about 2.5 min in all.
REAL_SELECT ?= all
check-real: lockprof
	$(Q)LOCKPROF_REAL_SELECT=$(REAL_SELECT) $(PYTEST) -q tests/real

check-real-quick: lockprof
	$(Q)LOCKPROF_REAL_SELECT=quick $(PYTEST) -q tests/real

# Long runs kept out of check-functional: 100 attach/detach cycles on a busy target, then
# lockprof serve --all for SOAK_SECONDS with processes, threads and locks coming and going (RSS
# flat after the warm-up, no file descriptor growth; the table printed).
SOAK_CYCLES ?= 100
SOAK_SECONDS ?= 1200
soak: lockprof
	$(Q)LOCKPROF_ATTACH_CYCLES=$(SOAK_CYCLES) $(PYTEST) -q tests/functional/test_faults.py \
		-k attach_detach
	$(Q)$(MAKE) --no-print-directory soak-serve

soak-serve: lockprof
	$(Q)LOCKPROF_SOAK_SECONDS=$(SOAK_SECONDS) $(PYTEST) -q -s tests/functional/test_serve_soak.py

test: deps check-format lockprof check-unit check-unit-asan check-functional check-real-quick

# Every C source and header in .clang-format's style (clang-format 14, as Debian 12 ships it:
# other versions lay some constructs out differently). vmlinux/ is generated and stays out.
CLANG_FORMAT ?= clang-format
FORMAT_FILES := $(wildcard src/*.[ch] src/*/*.[ch] bpf/*.[ch] include/*/*.h tests/*/*.[ch] \
	tests/*/*/*.[ch])

check-format:
	$(Q)$(CLANG_FORMAT) --dry-run --Werror $(FORMAT_FILES) || \
		{ echo "check-format: the files above differ from .clang-format: run 'make format'" >&2; \
		  exit 1; }

format:
	$(Q)$(CLANG_FORMAT) -i $(FORMAT_FILES)

deps:
	$(Q)tools/install-deps.sh

install: lockprof doc/lockprof.8
	$(call msg,INSTALL,$(DESTDIR)$(SBINDIR)/lockprof)
	$(Q)$(INSTALL) -d -m 0755 $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8
	$(Q)$(INSTALL) -m 0755 lockprof $(DESTDIR)$(SBINDIR)/lockprof
	$(Q)$(INSTALL) -m 0644 doc/lockprof.8 $(DESTDIR)$(MANDIR)/man8/lockprof.8

uninstall:
	$(Q)rm -f $(DESTDIR)$(SBINDIR)/lockprof $(DESTDIR)$(MANDIR)/man8/lockprof.8

demo: deps lockprof
	$(Q)tools/demo.sh

# Overhead and accuracy beside in-process wrapper references, one table (run as root; under
# 10 minutes). BENCH_PYTHON=path[:path] picks the interpreters, BENCH_ROUNDS the rounds.
.PHONY: bench
bench: lockprof $(OUTPUT)/tests/gen_html_report
	$(Q)/usr/bin/python3 tools/bench/bench.py

vmlinux:
	$(Q)tools/gen_vmlinux_h.sh $(VMLINUX_BTF) > $(VMLINUX_H)

clean:
	$(Q)rm -rf $(OUTPUT) lockprof

-include $(wildcard $(OUTPUT)/*.d $(OUTPUT)/*/*.d $(OUTPUT)/tests/*.d $(ASAN_OUTPUT)/*/*.d \
	$(ASAN_OUTPUT)/tests/*.d)
