# reference-server/sec/build.mk — the reference server's security modules
# (JWT, channel policy, rate limits, storm guard, audit log) as a library
# the server links (reference-server/build.mk) and their unit tests. The
# fuzz targets over them are in fuzz/build.mk.

SEC_SRCS    := $(wildcard reference-server/sec/*.c)
SEC_OBJS    := $(SEC_SRCS:%.c=$(BUILD)/%.o)
SEC_LIB     := $(BUILD)/libsec.a
# what a binary linking $(SEC_LIB) also needs
SEC_LDLIBS  := $(shell pkg-config --libs libjwt libcrypto)
SEC_INCLUDE := -Ireference-server/sec

$(SEC_OBJS): CPPFLAGS += $(shell pkg-config --cflags libjwt libcrypto)

$(SEC_LIB): $(SEC_OBJS)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

SEC_TESTS := test_sec_jwt test_sec_channel test_sec_policy test_sec_ratelimit test_sec_storm \
             test_sec_gate test_sec_audit test_sec_revoke
$(foreach t,$(SEC_TESTS),$(eval $(BUILD)/tests/unit/$(t).o: CPPFLAGS += $(SEC_INCLUDE)))
$(foreach t,$(SEC_TESTS),$(eval $(call unit_test,$(t),$(SEC_LIB),$(SEC_LDLIBS))))
