# reference-server/: bin/rtchaos-server (libwebsockets SSE + WebSocket server)
# and the unit tests of its modules.

SERVER_LIBS := $(shell pkg-config --libs libwebsockets) -lev -lhiredis -lhttp_parser -lz
SERVER_SRCS := $(filter-out reference-server/main.c,$(wildcard reference-server/*.c))
SERVER_OBJS := $(SERVER_SRCS:%.c=$(BUILD)/%.o)

# The security modules (reference-server/sec/build.mk: SEC_LIB, SEC_LDLIBS,
# read at link time) are reached through authz.c, the hook into sec_gate;
# libcommon again after libsec, which uses it.
$(BINDIR)/rtchaos-server: $(BUILD)/reference-server/main.o $(SERVER_OBJS) $(COMMON_LIB) $$(SEC_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(SEC_LIB) $(COMMON_LIB) $(SERVER_LIBS) $(SEC_LDLIBS) $(LDLIBS_COMMON)
$(BUILD)/reference-server/authz.o: CPPFLAGS += -Ireference-server/sec

BINS += $(BINDIR)/rtchaos-server

$(eval $(call unit_test,test_history,$(BUILD)/reference-server/history.o $(BUILD)/reference-server/msg.o,))
$(eval $(call unit_test,test_sendq,$(BUILD)/reference-server/sendq.o $(BUILD)/reference-server/msg.o,))
$(eval $(call unit_test,test_sse_id,$(BUILD)/reference-server/sse_id.o,))
$(BUILD)/tests/unit/test_history.o $(BUILD)/tests/unit/test_sendq.o \
$(BUILD)/tests/unit/test_sse_id.o: CPPFLAGS += -Ireference-server
SERVER_UNIT_OBJS := $(addprefix $(BUILD)/reference-server/,conn.o channels.o history.o msg.o sendq.o \
                    flags.o sse_id.o config.o batch.o wflush.o)
$(eval $(call unit_test,test_conn,$(SERVER_UNIT_OBJS),$(shell pkg-config --libs libwebsockets)))
$(eval $(call unit_test,test_flags,$(BUILD)/reference-server/flags.o $(BUILD)/reference-server/sendq.o \
                                   $(BUILD)/reference-server/msg.o,))
$(BUILD)/tests/unit/test_conn.o $(BUILD)/tests/unit/test_flags.o: CPPFLAGS += -Ireference-server
$(eval $(call unit_test,test_config,$(BUILD)/reference-server/config.o $(BUILD)/reference-server/flags.o \
                                    $(BUILD)/reference-server/sendq.o $(BUILD)/reference-server/msg.o,))
$(eval $(call unit_test,test_metrics,$(BUILD)/reference-server/metrics.o,))
$(BUILD)/tests/unit/test_config.o $(BUILD)/tests/unit/test_metrics.o: CPPFLAGS += -Ireference-server
$(eval $(call unit_test,test_handshake,$(BUILD)/reference-server/handshake.o,))
$(eval $(call unit_test,test_http_conn,$(BUILD)/reference-server/http_conn.o $(BUILD)/reference-server/handshake.o,$(shell pkg-config --libs libwebsockets)))
$(BUILD)/tests/unit/test_http_conn.o: CPPFLAGS += -Ireference-server
$(BUILD)/tests/unit/test_handshake.o: CPPFLAGS += -Ireference-server
$(eval $(call unit_test,test_twheel,$(BUILD)/reference-server/twheel.o,$(shell pkg-config --libs libwebsockets)))
$(BUILD)/tests/unit/test_twheel.o: CPPFLAGS += -Ireference-server
$(eval $(call unit_test,test_fdbudget,$(BUILD)/reference-server/fdbudget.o,))
$(BUILD)/tests/unit/test_fdbudget.o: CPPFLAGS += -Ireference-server
$(eval $(call unit_test,test_brokerseq,$(BUILD)/reference-server/brokerseq.o,))
$(BUILD)/tests/unit/test_brokerseq.o: CPPFLAGS += -Ireference-server
