# fuzz/build.mk — libFuzzer targets (clang + ASan + UBSan) over every parser
# of outside input, and their saved findings replayed as a unit test.
#   make fuzz                 each target for FUZZ_SECONDS (default 30) on top of
#                             its seeds in fuzz/corpus/<target>/; new inputs go to
#                             build/fuzz/corpus/, crashes to build/fuzz/artifacts/
#   make fuzz-regress         every seed and every fuzz/regress/<target>/ input
#                             once through its target (seconds; CI-sized)
#   FUZZ_TARGETS="jwt policy" a subset
# A target is fuzz/fuzz_<name>.c plus, for code outside common/ and
# reference-server/sec/, extra sources named in FUZZ_SRCS_<name>.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 30
FUZZ_DIR     := build/fuzz
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS  := -std=gnu11 -g -O1 -MMD -MP $(FUZZ_SAN) -fsanitize=fuzzer-no-link -D_GNU_SOURCE -Icommon \
                -Ireference-server/sec $(shell pkg-config --cflags jansson libjwt libcrypto)
FUZZ_LIBS     = $(SEC_LDLIBS) $(LDLIBS_COMMON)
FUZZ_ALL     := $(patsubst fuzz/fuzz_%.c,%,$(wildcard fuzz/fuzz_*.c))
FUZZ_TARGETS ?= $(FUZZ_ALL)
# the generated version (mk/version.mk), which every binary links: the
# proxy's /version reads it
FUZZ_BASE_SRCS = $(wildcard common/*.c) $(SEC_SRCS) $(VERSION_GEN)

# parsers of the other components (recursive variables: read when the rules are,
# after every fragment)
FUZZ_SRCS_sse       := fleet/sse_parse.c
FUZZ_SRCS_sse_id    := reference-server/sse_id.c
FUZZ_SRCS_scenario   = harness/scenario.c harness/scenario_load.c harness/scenario_sections.c harness/scenario_budget.c harness/scenario_json.c harness/scenario_set.c harness/ydoc.c harness/verdict.c reports/verdict_metric.c $(PROTO_SRCS)
FUZZ_LIBS_scenario  := $(shell pkg-config --libs yaml-0.1 libcrypto)
FUZZ_SRCS_toxic      = $(PROXY_SRCS)
FUZZ_LIBS_toxic      = $(PROXY_LIBS)
FUZZ_SRCS_ws_deflate = $(PROXY_SRCS)
FUZZ_LIBS_ws_deflate = $(PROXY_LIBS)
FUZZ_SRCS_ws_frame   := fault-injector/ws_frame.c
FUZZ_LIBS_ws_frame   := -lwslay
FUZZ_SRCS_sse_stream := fault-injector/sse_stream.c
FUZZ_LIBS_sse_stream := -lhttp_parser
FUZZ_SRCS_proto       = $(PROTO_SRCS) fleet/record.c fleet/payload.c
FUZZ_LIBS_proto      := $(shell pkg-config --libs libcrypto)
FUZZ_SRCS_fleet_ws   := fleet/fleet_ws.c
FUZZ_LIBS_fleet_ws   := -lwslay
# the whole server on a thread, fed client byte streams over loopback (issue 11)
FUZZ_SRCS_http_stream = $(SERVER_SRCS) $(VERSION_GEN)
FUZZ_LIBS_http_stream = $(SERVER_LIBS)
FUZZ_CFLAGS += -Iharness -Ifleet -Ireports -Ifault-injector -Ireference-server -Ifuzz $(shell pkg-config --cflags yaml-0.1 libevent)

$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

define fuzz_target
$(FUZZ_DIR)/fuzz_$(1): $$$$(patsubst %.c,$(FUZZ_DIR)/obj/%.o,fuzz/fuzz_$(1).c $$$$(FUZZ_BASE_SRCS) $$$$(FUZZ_SRCS_$(1)))
	$$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $$@ $$^ $$(FUZZ_LIBS) $$(FUZZ_LIBS_$(1))
endef
$(foreach t,$(FUZZ_ALL),$(eval $(call fuzz_target,$(t))))

-include $(shell find $(FUZZ_DIR)/obj -name "*.d" 2>/dev/null)

# One rule per target, so that `make -jN fuzz` (and fuzz-regress) runs N
# targets at once; each writes its own log and one summary line.
FUZZ_RUNS    := $(FUZZ_TARGETS:%=fuzz-run-%)
FUZZ_REGRESS := $(FUZZ_TARGETS:%=fuzz-regress-%)
.PHONY: fuzz fuzz-build fuzz-regress $(FUZZ_RUNS) $(FUZZ_REGRESS)
fuzz-build: $(FUZZ_TARGETS:%=$(FUZZ_DIR)/fuzz_%)

fuzz: $(FUZZ_RUNS)
$(FUZZ_RUNS): fuzz-run-%: $(FUZZ_DIR)/fuzz_%
	@mkdir -p $(FUZZ_DIR)/artifacts $(FUZZ_DIR)/corpus/$* fuzz/corpus/$*
	@$(FUZZ_DIR)/fuzz_$* -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
	    -max_len=8192 -print_final_stats=1 -artifact_prefix=$(FUZZ_DIR)/artifacts/$*- \
	    $(FUZZ_DIR)/corpus/$* fuzz/corpus/$* 2>$(FUZZ_DIR)/$*.log \
	  || { tail -n 40 $(FUZZ_DIR)/$*.log; echo "fuzz: $* FAILED (inputs in $(FUZZ_DIR)/artifacts/)"; exit 1; }
	@echo "fuzz: $* for $(FUZZ_SECONDS)s: $$(grep -E 'stat::number_of_executed_units|stat::new_units_added' $(FUZZ_DIR)/$*.log | tr '\n' ' ')"

fuzz-regress: $(FUZZ_REGRESS)
$(FUZZ_REGRESS): fuzz-regress-%: $(FUZZ_DIR)/fuzz_%
	@files=$$(find fuzz/corpus/$* fuzz/regress/$* -type f 2>/dev/null || true); \
	  [ -n "$$files" ] || exit 0; \
	  $(FUZZ_DIR)/fuzz_$* $$files >$(FUZZ_DIR)/$*-regress.log 2>&1 \
	  || { tail -n 40 $(FUZZ_DIR)/$*-regress.log; echo "fuzz-regress: $* FAILED"; exit 1; }; \
	  echo "fuzz-regress: $* $$(echo $$files | wc -w) inputs ok"

# the fuzzers' findings, replayed as a unit test (inputs in fuzz/regress/)
$(BUILD)/tests/unit/test_fuzz_regress.o: CPPFLAGS += -Ifault-injector -Ifleet
$(eval $(call unit_test,test_fuzz_regress,$(BUILD)/fault-injector/sse_stream.o $(BUILD)/fleet/fleet_ws.o,-lhttp_parser -lwslay $(shell pkg-config --libs libcrypto)))
