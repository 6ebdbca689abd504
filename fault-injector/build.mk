# fault-injector/build.mk — rtchaos-proxy and its unit tests.
PROXY_PKGS := libevent zlib
PROXY_LIBS := $(shell pkg-config --libs $(PROXY_PKGS)) -lwslay -lhttp_parser
PROXY_SRCS := $(filter-out fault-injector/main.c,$(wildcard fault-injector/*.c))
PROXY_OBJS := $(PROXY_SRCS:%.c=$(BUILD)/%.o)

$(BINDIR)/rtchaos-proxy: $(BUILD)/fault-injector/main.o $(PROXY_OBJS) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(PROXY_LIBS) $(LDLIBS_COMMON)
BINS += $(BINDIR)/rtchaos-proxy

# One unit test per toxic (tests/unit/test_toxic_<name>.c) and one per shared
# module of the proxy; each links every proxy object (main.o excepted).
PROXY_MODULE_TESTS := test_dheap test_ws_frame test_ws_deflate test_sse_stream test_track test_evlog test_txq test_msgq test_upool
PROXY_TESTS := $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test_toxic*.c)) \
               $(foreach t,$(PROXY_MODULE_TESTS),$(if $(wildcard tests/unit/$(t).c),$(t)))
$(foreach t,$(PROXY_TESTS),$(eval $(call unit_test,$(t),$(PROXY_OBJS),$(PROXY_LIBS))))
$(foreach t,$(PROXY_TESTS),$(eval $(BUILD)/tests/unit/$(t).o: CPPFLAGS += -Ifault-injector))
