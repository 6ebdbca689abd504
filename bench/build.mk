# bench/: the load client of bench/server_fanout.sh and the bare-send floor
# of bench/server_scale.sh (not part of `make`; the bench scripts build them
# with `make $(BUILD)/bench/fanout_client` and `… $(BUILD)/bench/send_floor`).

$(BUILD)/bench/fanout_client: $(BUILD)/bench/fanout_client.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^

$(BUILD)/bench/send_floor: $(BUILD)/bench/send_floor.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^
