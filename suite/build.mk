# suite/build.mk — suites (`rtchaos run SUITE.yaml`): the suite files, one
# `rtchaos run` child per entry, drills (their own rtchaos-server, /metrics
# watches, admin actions) and the index. Orchestration, not rendering: it
# reuses the harness's child processes (harness/child.c), its HTTP client
# (harness/httpc.c) and scenario loader, and reports/ for the index files.
# Linked into bin/rtchaos by harness/build.mk through SUITE_OBJS.

SUITE_SRCS := suite.c suite_def.c suite_drill.c suite_alerts.c
SUITE_OBJS := $(SUITE_SRCS:%.c=$(BUILD)/suite/%.o)
$(SUITE_OBJS): CPPFLAGS += -Isuite -Iharness -Ifleet -Ireports

$(eval $(call unit_test,test_suite,$(SUITE_OBJS) $(BUILD)/harness/child.o $(BUILD)/harness/httpc.o $(BUILD)/harness/netns.o $$(SCN_OBJS) $$(REPORTS_OBJS),$$(HARNESS_LIBS) $$(REPORTS_LIBS)))
$(BUILD)/tests/unit/test_suite.o: CPPFLAGS += -Isuite -Iharness -Ireports
