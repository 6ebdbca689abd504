# bench/: the load client of bench/server_fanout.sh (not part of `make`; the
# bench script builds it with `make $(BUILD)/bench/fanout_client`).

$(BUILD)/bench/fanout_client: $(BUILD)/bench/fanout_client.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^
