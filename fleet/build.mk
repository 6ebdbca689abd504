# fleet/build.mk — the harness's load side (client fleet, publisher,
# checkers): its objects (FLEET_OBJS, linked into bin/rtchaos by
# harness/build.mk with FLEET_LIBS), their unit tests, and the test-only
# driver bin/rtchaos-fleet-check.

# the protocol adapters and their templates: also linked by the scenario
# parser (harness/build.mk SCN_OBJS) and fuzz_scenario / fuzz_proto
PROTO_SRCS = $(addprefix fleet/,proto.c proto_v1.c proto_nchan.c proto_sse.c proto_ws_json.c proto_socketio.c proto_pusher.c proto_ping.c tmpl.c)
PROTO_OBJS = $(PROTO_SRCS:%.c=$(BUILD)/%.o)
FLEET_SRCS := checker.c sse_parse.c record.c payload.c $(notdir $(PROTO_SRCS)) fleet_ws.c fleet_http.c fleet_net.c fleet_tls.c fleet.c fleet_ctl.c fleet_client.c fleet_attack.c fleet_pub.c fleet_workers.c
# permessage-deflate's inflater is the proxy's (fault-injector/ws_deflate.c):
# one implementation of RFC 7692 for both.
FLEET_OBJS := $(FLEET_SRCS:%.c=$(BUILD)/fleet/%.o) $(BUILD)/fault-injector/ws_deflate.o
FLEET_LIBS := $(shell pkg-config --libs libevent libevent_pthreads libssl libcrypto) -lwslay -lhttp_parser -lz
$(BUILD)/fleet/fleet_client.o: CPPFLAGS += -Ifault-injector

# the report model (reports/build.mk: REPORT_MODEL_OBJS) merges the workers' parts
$(FLEET_OBJS) $(BUILD)/fleet/fleet_check_main.o: CPPFLAGS += -Ireports
$(BINDIR)/rtchaos-fleet-check: $(BUILD)/fleet/fleet_check_main.o $(FLEET_OBJS) $$(REPORT_MODEL_OBJS) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(FLEET_LIBS) $(LDLIBS_COMMON)
BINS += $(BINDIR)/rtchaos-fleet-check

$(eval $(call unit_test,test_checker,$(BUILD)/fleet/checker.o,))
$(eval $(call unit_test,test_sse_parse,$(BUILD)/fleet/sse_parse.o,))
$(eval $(call unit_test,test_fleet_ws,$(BUILD)/fleet/fleet_ws.o,-lwslay $(shell pkg-config --libs libcrypto)))
$(eval $(call unit_test,test_fleet_http,$(BUILD)/fleet/fleet_http.o,-lhttp_parser))
$(eval $(call unit_test,test_proto,$$(PROTO_OBJS),$(shell pkg-config --libs libcrypto) -ljansson))
$(eval $(call unit_test,test_record,$(BUILD)/fleet/record.o $(BUILD)/fleet/payload.o,))
$(eval $(call unit_test,test_tmpl,$(BUILD)/fleet/tmpl.o,))
$(eval $(call unit_test,test_payload,$(BUILD)/fleet/payload.o,))
$(eval $(call unit_test,test_fleet_report,$(FLEET_OBJS) $$(REPORT_MODEL_OBJS),$(FLEET_LIBS)))
$(eval $(call unit_test,test_fleet_attack,$(FLEET_OBJS) $$(REPORT_MODEL_OBJS),$(FLEET_LIBS)))
$(BUILD)/tests/unit/test_checker.o $(BUILD)/tests/unit/test_sse_parse.o $(BUILD)/tests/unit/test_fleet_ws.o \
$(BUILD)/tests/unit/test_fleet_report.o $(BUILD)/tests/unit/test_fleet_http.o \
$(BUILD)/tests/unit/test_fleet_attack.o $(BUILD)/tests/unit/test_proto.o $(BUILD)/tests/unit/test_record.o \
$(BUILD)/tests/unit/test_tmpl.o $(BUILD)/tests/unit/test_payload.o: CPPFLAGS += -Ifleet
$(BUILD)/tests/unit/test_fleet_report.o $(BUILD)/tests/unit/test_fleet_attack.o: CPPFLAGS += -Ireports
