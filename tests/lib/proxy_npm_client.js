// proxy_npm_client.js — drives rtchaos-proxy with the unmodified npm
// Toxiproxy client (toxiproxy-node-client): create, list, update and delete
// proxies and toxics. Run by tests/integration/proxy_npm_client.py as
//   node proxy_npm_client.js http://127.0.0.1:API_PORT UPSTREAM_PORT
// Prints one JSON line with what it saw; exits non-zero on any failure.
"use strict";
const assert = require("assert");
const path = require("path");
const { Toxiproxy } = require(path.join(__dirname, "..", "node_modules", "toxiproxy-node-client"));

async function main() {
  const [api, upstreamPort] = process.argv.slice(2);
  const tp = new Toxiproxy(api);
  const out = {};

  out.version = await tp.getVersion();
  const created = await tp.createProxy({ name: "npm_echo", listen: "127.0.0.1:0",
                                         upstream: `127.0.0.1:${upstreamPort}` });
  assert.strictEqual(created.name, "npm_echo");
  assert.ok(/^127\.0\.0\.1:[1-9][0-9]*$/.test(created.listen), created.listen);
  out.listen = created.listen;

  let failed = false;
  try {
    await tp.createProxy({ name: "npm_echo", listen: "127.0.0.1:0", upstream: `127.0.0.1:${upstreamPort}` });
  } catch (e) {
    failed = /409/.test(e.message);
  }
  assert.ok(failed, "a second create with the same name must fail with 409");

  const all = await tp.getAll();
  assert.ok(all.npm_echo, "getAll lists the proxy");
  const got = await tp.get("npm_echo");
  assert.strictEqual(got.upstream, `127.0.0.1:${upstreamPort}`);

  const latency = await got.addToxic({ type: "latency", stream: "downstream", toxicity: 1,
                                       attributes: { latency: 120, jitter: 0 } });
  assert.strictEqual(latency.name, "latency_downstream");
  assert.strictEqual(latency.attributes.latency, 120);
  const bw = await got.addToxic({ name: "bw_up", type: "bandwidth", stream: "upstream", toxicity: 0.5,
                                  attributes: { rate: 500 } });
  assert.strictEqual(bw.stream, "upstream");
  const ws = await got.addToxic({ name: "ws_drop", type: "ws", stream: "downstream", toxicity: 1,
                                  attributes: { action: "drop", probability: 0.25 } });
  assert.strictEqual(ws.attributes.action, "drop");

  const fetched = await got.getToxic("latency_downstream");
  assert.strictEqual(fetched.attributes.latency, 120);
  const updated = await fetched.update({ attributes: { latency: 80, jitter: 0 }, toxicity: 1 });
  assert.strictEqual(updated.attributes.latency, 80);
  out.latency_after_update = updated.attributes.latency;

  let bad = false;
  try {
    await got.addToxic({ type: "no_such_toxic", attributes: {} });
  } catch (e) {
    bad = /400/.test(e.message);
  }
  assert.ok(bad, "an unknown toxic type must fail with 400");

  await bw.remove();
  await ws.remove();
  const disabled = await got.update({ enabled: false, listen: got.listen, upstream: got.upstream, name: got.name });
  assert.strictEqual(disabled.enabled, false);
  const enabled = await disabled.update({ enabled: true, listen: got.listen, upstream: got.upstream,
                                          name: got.name });
  assert.strictEqual(enabled.enabled, true);

  const populated = await tp.populate([{ name: "npm_pop", listen: "127.0.0.1:0",
                                         upstream: `127.0.0.1:${upstreamPort}`, enabled: true }]);
  assert.ok(populated.npm_pop);
  await populated.npm_pop.remove();

  out.remaining_toxics = (await (await tp.get("npm_echo")).getToxic("latency_downstream")).name;
  await tp.reset();
  out.proxies = Object.keys(await tp.getAll()).sort();
  console.log(JSON.stringify(out));
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  process.exit(1);
});
