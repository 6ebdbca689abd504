# rtchaos — one Makefile for the whole tree.
#
#   make              build every binary into bin/
#   make test         build, then run every unit and integration test, plainly
#                     and again built with ASan+UBSan, then a short fuzz pass
#                     (what CI runs)
#   make test-plain   the plain half only (quicker while developing)
#   make check-asan   the ASan+UBSan half only (built into build/asan)
#   make bench        run the benchmarks in bench/ (not tests; prints figures)
#   make install      binaries, shipped scenarios, man pages, completion, docs
#                     under PREFIX (default /usr/local), DESTDIR honoured;
#                     make uninstall removes them (mk/install.mk)
#
# Each folder adds its binaries and tests in its own fragment
# (<folder>/build.mk, reference-server/sec/build.mk), so that adding a module
# never means editing a shared list here. Fragments may be read in any
# order: a variable of another fragment is read in a recipe, in a recursive
# (=) variable, or in a prerequisite as $$(VAR) (second expansion, below).
# docs/architecture.md says what each folder is.

CC       ?= cc
OPT      ?= -O2 -g
SAN      ?=
BUILD    ?= build/default
BINDIR   ?= bin
# Every goal builds on every core without -j, so that README's and CI's plain
# `make test` runs the plain, ASan and fuzz builds side by side; JOBS=1 for a
# serial build (a -j on the command line does not override this in make 4.3).
JOBS     ?= $(shell nproc 2>/dev/null || echo 2)
MAKEFLAGS += -j$(JOBS)

PKGS_COMMON := jansson
CPPFLAGS += -D_GNU_SOURCE -Icommon
CFLAGS   += -std=gnu11 $(OPT) -Wall -Wextra -Werror -Wshadow -Wno-missing-field-initializers \
            -MMD -MP -pthread $(shell pkg-config --cflags $(PKGS_COMMON))
LDFLAGS  += -pthread
LDLIBS_COMMON := $(shell pkg-config --libs $(PKGS_COMMON)) -lm

ifeq ($(SAN),1)
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif

ASAN_OPTIONS ?= detect_leaks=1:abort_on_error=1
UBSAN_OPTIONS ?= print_stacktrace=1:halt_on_error=1
export ASAN_OPTIONS UBSAN_OPTIONS

.PHONY: all test test-plain unit integration check-asan bench clean
all:

BINS        :=
UNIT_TESTS  :=

# ---- common/: the library every binary links --------------------------------
COMMON_SRCS := $(wildcard common/*.c)
COMMON_OBJS := $(COMMON_SRCS:%.c=$(BUILD)/%.o)
include mk/version.mk
COMMON_LIB  := $(BUILD)/libcommon.a

$(COMMON_LIB): $(COMMON_OBJS)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# Prerequisites written $$(VAR) are expanded once every fragment is read.
.SECONDEXPANSION:

# unit_test(NAME, OBJS, LIBS): build tests/unit/NAME.c into $(BUILD)/tests/NAME,
# linked with OBJS, common and LIBS, and add it to UNIT_TESTS. OBJS and LIBS
# of another fragment are passed as $$(VAR): kept as recursive variables and
# read when the rule is (second expansion) and when it runs.
define unit_test
UT_OBJS_$(1) = $(2)
UT_LIBS_$(1) = $(3)
$(BUILD)/tests/$(1): $(BUILD)/tests/unit/$(1).o $$$$(UT_OBJS_$(1)) $$(COMMON_LIB)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(UT_LIBS_$(1)) $$(LDLIBS_COMMON) -lcmocka
UNIT_TESTS += $(BUILD)/tests/$(1)
endef

$(eval $(call unit_test,test_hist,,))
$(eval $(call unit_test,test_envelope,,))
$(eval $(call unit_test,test_prng,,))
$(eval $(call unit_test,test_clock,,))
$(eval $(call unit_test,test_crun,,))
$(eval $(call unit_test,test_log,,))
$(eval $(call unit_test,test_mergepatch,,))

-include $(wildcard */build.mk */*/build.mk)
include mk/install.mk

all: $(COMMON_LIB) $(BINS)

# ---- tests --------------------------------------------------------------------
# scripts/run-tests.sh runs every unit test binary and every
# tests/integration/*.py|*.sh (with RTCHAOS_BIN pointing at the binaries under
# test), longest first in a parallel lane and serial lanes for the tests that
# say so (see its header), and closes with one "N passed, N failed" line.
# `make test` (what CI and README run) is the whole suite twice, plain and
# built with ASan+UBSan, then every saved fuzz input replayed (fuzz-regress)
# and a short libFuzzer pass over every parser of
# outside input (fuzz/build.mk; a crash fails the run and leaves the
# input in build/fuzz/artifacts/). `make test-plain` is the first part alone.
# The plain, ASan and fuzz builds go side by side (every goal builds on
# every core), then the two passes share the lanes of one
# scripts/run-tests.sh (one count), and fuzz-regress and the fuzz pass run
# beside the lanes' last tests (--tail). Each phase prints a "phase:" line
# with the seconds since `make test` started, for CI logs.
# `make test-durations` refreshes tests/durations.tsv (the order the lanes
# start tests in) from the last run's build/test-logs/times.tsv.
FUZZ_CI_SECONDS ?= 5
ASAN_MAKE       := $(MAKE) SAN=1 OPT="-O1 -g" BUILD=build/asan BINDIR=build/asan/bin
ASAN_UNIT_TESTS  = $(patsubst $(BUILD)/%,build/asan/%,$(UNIT_TESTS))
# when this make started (exported: a re-read of the Makefile keeps it)
ifndef RTCHAOS_MAKE_T0
RTCHAOS_MAKE_T0 := $(shell date +%s)
endif
export RTCHAOS_MAKE_T0
PHASE = echo "phase: $(1) at $$(( $$(date +%s) - $(RTCHAOS_MAKE_T0) ))s"
.PHONY: unit-build asan-build test-built-plain test-built-asan test-built-fuzz test-durations
unit-build: all $(UNIT_TESTS)
asan-build:
	$(ASAN_MAKE) unit-build
test-built-plain: all $(UNIT_TESTS)
	@$(call PHASE,plain build done)
test-built-asan: asan-build
	@$(call PHASE,ASan build done)
test-built-fuzz: fuzz-build
	@$(call PHASE,fuzz build done)

ifeq ($(SAN),1)
test: test-plain
else
test: test-built-plain test-built-asan test-built-fuzz
	@$(call PHASE,tests start)
	scripts/run-tests.sh --tail '$(MAKE) --no-print-directory fuzz-regress && $(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(FUZZ_CI_SECONDS)' \
	  --pass plain $(abspath $(BINDIR)) $(abspath build/test-logs) $(UNIT_TESTS) \
	  --pass asan $(abspath build/asan/bin) $(abspath build/asan/test-logs) $(ASAN_UNIT_TESTS)
endif

test-durations:
	scripts/test-durations.sh $(abspath build/test-logs/times.tsv)

test-plain: all $(UNIT_TESTS)
	RTCHAOS_BIN=$(abspath $(BINDIR)) scripts/run-tests.sh $(UNIT_TESTS)

unit: $(UNIT_TESTS)
	RTCHAOS_BIN=$(abspath $(BINDIR)) RTCHAOS_ONLY=unit scripts/run-tests.sh $(UNIT_TESTS)

integration: all
	RTCHAOS_BIN=$(abspath $(BINDIR)) RTCHAOS_ONLY=integration scripts/run-tests.sh

check-asan:
	RTCHAOS_TEST_LOGS=$(abspath build/asan/test-logs) $(ASAN_MAKE) test-plain

# rtchaos-server (auth, policy, audit, limits on) and rtchaos-proxy under
# valgrind for a scripted session; fails on any memory error or any definitely
# or indirectly lost byte. Logs in build/valgrind/.
.PHONY: valgrind
valgrind: all
	RTCHAOS_BIN=$(abspath $(BINDIR)) RTCHAOS_TEST_LOGS=$(abspath build/valgrind) \
	  /usr/bin/python3 tests/valgrind_session.py build/valgrind

bench: all
	@for b in bench/*.sh; do [ -x "$$b" ] && RTCHAOS_BIN=$(abspath $(BINDIR)) "$$b"; done; true

clean:
	rm -rf build bin

-include $(shell find $(BUILD) -name "*.d" 2>/dev/null)
