# harness/build.mk — bin/rtchaos: the CLI core (scenario parser, orchestration,
# fault timeline, verdicts, report writing), linked with the fleet's objects
# (fleet/build.mk: FLEET_OBJS, FLEET_LIBS), the report renderers
# (reports/build.mk: REPORTS_OBJS, REPORTS_LIBS) and the suite runner
# (suite/build.mk: SUITE_OBJS).
#
# Those folders' variables are read with second expansion ($$(…)), so the
# order in which the fragments are read does not matter.

HARNESS_CORE_SRCS := scenario.c scenario_load.c scenario_sections.c scenario_budget.c scenario_json.c scenario_set.c ydoc.c verdict.c datadir.c child.c httpc.c proxyctl.c faultplan.c orch.c orch_state.c orch_net.c orch_children.c orch_faults.c orch_fleet.c orch_metrics.c orch_target.c orch_report.c windows.c live_metrics.c server_scrape.c series_rec.c netns.c netfault.c startat.c nodes_report.c
HARNESS_CORE_OBJS := $(HARNESS_CORE_SRCS:%.c=$(BUILD)/harness/%.o)
HARNESS_LIBS      := $(shell pkg-config --libs yaml-0.1 libevent libcrypto)

$(BINDIR)/rtchaos: $(BUILD)/harness/main.o $(HARNESS_CORE_OBJS) $$(FLEET_OBJS) $$(SUITE_OBJS) $$(REPORTS_OBJS) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o %.a,$^) $(HARNESS_LIBS) $(FLEET_LIBS) $(REPORTS_LIBS) $(LDLIBS_COMMON)

BINS += $(BINDIR)/rtchaos

# Test-only driver: a scenario's network namespaces with its kernel faults
# switched on and off on command (tests/integration/netns_faults.py).
$(BINDIR)/rtchaos-netns-check: $(BUILD)/harness/netns_check_main.o $(BUILD)/harness/netns.o \
		$(BUILD)/harness/netfault.o $$(SCN_OBJS) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o %.a,$^) $(HARNESS_LIBS) $(FLEET_LIBS) $(LDLIBS_COMMON)
BINS += $(BINDIR)/rtchaos-netns-check
$(BUILD)/harness/netns_check_main.o: CPPFLAGS += -Iharness -Ireports

$(HARNESS_CORE_OBJS) $(BUILD)/harness/main.o: CPPFLAGS += -Iharness -Ifleet -Ireports -Isuite
$(BUILD)/tests/unit/test_windows.o $(BUILD)/tests/unit/test_startat.o $(BUILD)/tests/unit/test_nodes_report.o \
$(BUILD)/tests/unit/test_server_scrape.o: CPPFLAGS += -Iharness -Ifleet -Ireports

# the scenario parser checks a target's protocol against the adapters' table
SCN_OBJS = $(BUILD)/harness/scenario.o $(BUILD)/harness/scenario_load.o $(BUILD)/harness/scenario_sections.o $(BUILD)/harness/scenario_budget.o $(BUILD)/harness/scenario_json.o $(BUILD)/harness/scenario_set.o $(BUILD)/harness/ydoc.o $(BUILD)/harness/verdict.o $(BUILD)/reports/verdict_metric.o $(PROTO_OBJS)
$(eval $(call unit_test,test_scenario,$$(SCN_OBJS),$(HARNESS_LIBS)))
$(BUILD)/tests/unit/test_scenario.o $(BUILD)/tests/unit/test_verdict.o $(BUILD)/tests/unit/test_faultplan.o \
$(BUILD)/tests/unit/test_netfault.o: CPPFLAGS += -Ireports
$(eval $(call unit_test,test_verdict,$$(SCN_OBJS),$(HARNESS_LIBS)))
$(eval $(call unit_test,test_faultplan,$(BUILD)/harness/faultplan.o $$(SCN_OBJS),$(HARNESS_LIBS)))
$(eval $(call unit_test,test_netfault,$(BUILD)/harness/netfault.o $(BUILD)/harness/netns.o $(BUILD)/harness/faultplan.o $$(SCN_OBJS),$(HARNESS_LIBS) $$(FLEET_LIBS)))
$(eval $(call unit_test,test_startat,$(BUILD)/harness/startat.o,))
$(eval $(call unit_test,test_nodes_report,$(BUILD)/harness/nodes_report.o,-ljansson -lm))
$(eval $(call unit_test,test_server_scrape,$(BUILD)/harness/server_scrape.o $(BUILD)/harness/httpc.o,$(HARNESS_LIBS)))
$(eval $(call unit_test,test_child,$(BUILD)/harness/child.o,))
$(eval $(call unit_test,test_windows,$(BUILD)/harness/windows.o $(BUILD)/fleet/checker.o,))
$(eval $(call unit_test,test_live_metrics,$(BUILD)/harness/live_metrics.o $(BUILD)/harness/scenario.o $(BUILD)/harness/scenario_sections.o $(BUILD)/harness/scenario_budget.o $(BUILD)/harness/ydoc.o $(BUILD)/harness/verdict.o $$(FLEET_OBJS) $$(REPORT_MODEL_OBJS),$(HARNESS_LIBS) $$(FLEET_LIBS)))
$(BUILD)/tests/unit/test_live_metrics.o: CPPFLAGS += -Iharness -Ifleet -Ireports
$(eval $(call unit_test,test_series_rec,$(BUILD)/harness/series_rec.o $(BUILD)/harness/httpc.o,$(HARNESS_LIBS)))
$(BUILD)/tests/unit/test_series_rec.o: CPPFLAGS += -Iharness
