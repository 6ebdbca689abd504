# reports/: library that renders report.json (md, html, gnuplot plots, junit),
# compares two reports and merges shard reports. Linked into bin/rtchaos by
# harness/build.mk through REPORTS_OBJS / REPORTS_LIBS; no binary of its own.

REPORTS_SRCS := $(filter-out reports/main.c,$(wildcard reports/*.c))
REPORTS_OBJS := $(REPORTS_SRCS:%.c=$(BUILD)/%.o)
REPORTS_LIBS :=
