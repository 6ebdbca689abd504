# reports/: library that renders report.json (md, html, gnuplot plots, junit),
# compares two reports and merges shard reports (suites, which run things,
# live in suite/). Linked into
# bin/rtchaos by harness/build.mk through REPORTS_OBJS / REPORTS_LIBS; its
# only binary is the test driver below.

REPORTS_SRCS := $(filter-out reports/main.c,$(wildcard reports/*.c))
REPORTS_OBJS := $(REPORTS_SRCS:%.c=$(BUILD)/%.o)
REPORTS_LIBS :=

# A small driver for tests (render / junit / summary / report / compare /
# merge on the command line), so the library is
# exercised end to end apart from bin/rtchaos. Not installed into bin/.
$(BUILD)/reports-tool: $(BUILD)/reports/main.o $(REPORTS_OBJS) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(REPORTS_LIBS) $(LDLIBS_COMMON)

$(eval $(call unit_test,test_reports_render,$(REPORTS_OBJS),$(REPORTS_LIBS)))
$(eval $(call unit_test,test_reports_compare,$(REPORTS_OBJS),$(REPORTS_LIBS)))
$(eval $(call unit_test,test_reports_merge,$(REPORTS_OBJS),$(REPORTS_LIBS)))
# Order-only: `make test` builds the driver the Chromium test runs.
$(BUILD)/tests/test_reports_render: | $(BUILD)/reports-tool
$(BUILD)/tests/unit/test_reports_render.o $(BUILD)/tests/unit/test_reports_compare.o \
$(BUILD)/tests/unit/test_reports_merge.o: CPPFLAGS += -Ireports
# common/report_merge.c (shared by `rtchaos merge` and the fleet's worker merge)
$(eval $(call unit_test,test_report_merge,,))
