# harness-fleet/build.mk — the harness's load side (client fleet, publisher,
# checkers). Sources live in harness/; this fragment only names their objects
# (FLEET_OBJS, linked into bin/rtchaos by harness/build.mk with FLEET_LIBS),
# their unit tests, and the test-only driver bin/rtchaos-fleet-check.

FLEET_SRCS := checker.c
FLEET_OBJS := $(FLEET_SRCS:%.c=$(BUILD)/harness/%.o)
FLEET_LIBS := $(shell pkg-config --libs libevent libevent_pthreads) -lwslay -lhttp_parser

$(eval $(call unit_test,test_checker,$(BUILD)/harness/checker.o,))
$(BUILD)/tests/unit/test_checker.o: CPPFLAGS += -Iharness
