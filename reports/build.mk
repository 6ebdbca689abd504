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
$(eval $(call unit_test,test_reports_scorecard,$(REPORTS_OBJS),$(REPORTS_LIBS)))
$(BUILD)/tests/unit/test_reports_scorecard.o: CPPFLAGS += -Ireports
# Order-only: `make test` builds the driver the Chromium test runs.
$(BUILD)/tests/test_reports_render: | $(BUILD)/reports-tool
$(BUILD)/tests/unit/test_reports_render.o $(BUILD)/tests/unit/test_reports_compare.o \
$(BUILD)/tests/unit/test_reports_merge.o: CPPFLAGS += -Ireports
# The report model: report_merge.c (exact merging of report figures: the
# fleet's workers and `rtchaos merge`) and verdict_metric.c (the one table of
# budget metrics: the run's verdicts, suites, compare). The fleet, the
# harness and suites link these two objects without the renderers.
REPORT_MODEL_OBJS := $(BUILD)/reports/report_merge.o $(BUILD)/reports/report_merge_net.o $(BUILD)/reports/verdict_metric.o
$(eval $(call unit_test,test_report_merge,$(REPORT_MODEL_OBJS),))
$(BUILD)/tests/unit/test_report_merge.o: CPPFLAGS += -Ireports
