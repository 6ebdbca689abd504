// node_v1_server.js — the peer of bench/server_scale.sh: a small Node server
// on npm `ws` that speaks the WebSocket side of wire contract v1 as the
// harness uses it: POST /publish/<ch> (one event or an array) -> {"ch","seq"};
// GET /ws with {"op":"sub","ch","since","epoch"} -> "subscribed" with
// recovered true and the replay since+1..head from a per-channel history
// (1000 events), or recovered false and a snapshot; {"op":"unsub"},
// {"op":"pub"}, {"op":"ping"} -> pong; per-channel fan-out (each envelope
// serialized once, the same Buffer to every subscriber); protocol pings
// every PING_S seconds and a peer silent past IDLE_S is terminated (by
// default all clients in one loop every PING_S, the ws README's pattern;
// PING_STAGGER=1 spreads the same round evenly over the period); GET
// /healthz. No SSE, no auth, no backpressure policy beyond ws's own
// buffering: what a "60-line Node ws server" does, written to be fast.
'use strict';
const http = require('http');
const { WebSocketServer } = require('ws');

const port = parseInt(process.argv[2] || '0', 10);
const PING_S = parseInt(process.env.PING_S || '20', 10);
const IDLE_S = parseInt(process.env.IDLE_S || '60', 10);
const PING_STAGGER = process.env.PING_STAGGER === '1';
const STAGGER_TICK_MS = parseInt(process.env.STAGGER_TICK_MS || '50', 10);
const HISTORY = 1000;
const epochBase = Date.now().toString(36);
let epochs = 0;
const channels = new Map(); // name -> { seq, epoch, hist: [Buffer], last: data, subs: Set<ws> }

function channel(name) {
  let c = channels.get(name);
  if (!c) {
    c = { seq: 0, epoch: `${epochBase}-${++epochs}`, hist: [], last: null, subs: new Set() };
    channels.set(name, c);
  }
  return c;
}

function publish(name, ev) {
  const c = channel(name);
  c.seq++;
  const ts = typeof ev.ts === 'number' ? ev.ts : Date.now() * 1000;
  const data = ev.data === undefined ? null : ev.data;
  const buf = Buffer.from(JSON.stringify({ ch: name, seq: c.seq, ts, type: 'event', data }));
  c.hist.push(buf);
  if (c.hist.length > HISTORY) c.hist.shift();
  c.last = data;
  for (const s of c.subs) s.send(buf, { binary: false });
  return c.seq;
}

function subscribe(ws, mine, m) {
  const c = channel(m.ch);
  const head = c.seq, oldest = head - c.hist.length + 1;
  const since = Number.isInteger(m.since) && m.since >= 0 ? m.since : null;
  const sameEpoch = m.epoch === undefined || m.epoch === null || m.epoch === c.epoch;
  const recovered = since === null || (sameEpoch && since >= oldest - 1 && since <= head);
  c.subs.add(ws);
  mine.add(c);
  ws.send(JSON.stringify({ type: 'subscribed', ch: m.ch, seq: head, epoch: c.epoch, recovered }));
  if (since === null) return;
  if (recovered) {
    for (let s = since + 1; s <= head; s++) ws.send(c.hist[s - oldest], { binary: false });
  } else {
    ws.send(JSON.stringify({ type: 'snapshot', ch: m.ch, seq: head, epoch: c.epoch, data: c.last }));
  }
}

const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"ok":true}');
    return;
  }
  const m = /^\/publish\/([^/?]+)$/.exec(req.url);
  if (req.method !== 'POST' || !m) {
    res.writeHead(404).end();
    return;
  }
  const chunks = [];
  req.on('data', (d) => chunks.push(d));
  req.on('end', () => {
    let body;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString() || '{}');
    } catch (e) {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end('{"type":"error","code":"bad_request","msg":"invalid JSON"}');
      return;
    }
    const name = decodeURIComponent(m[1]);
    let out;
    if (Array.isArray(body)) out = body.map((ev) => ({ ch: name, seq: publish(name, ev || {}) }));
    else out = { ch: name, seq: publish(name, body || {}) };
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(out));
  });
});
server.keepAliveTimeout = 60000;

const wss = new WebSocketServer({ server, path: '/ws', perMessageDeflate: false });
wss.on('connection', (ws) => {
  const mine = new Set();
  ws.lastPong = Date.now();
  ws.on('pong', () => { ws.lastPong = Date.now(); });
  ws.on('message', (raw) => {
    let m;
    try {
      m = JSON.parse(raw);
    } catch (e) {
      ws.send('{"type":"error","code":"bad_request","msg":"invalid JSON"}');
      return;
    }
    if (m.op === 'sub' && typeof m.ch === 'string') subscribe(ws, mine, m);
    else if (m.op === 'unsub' && typeof m.ch === 'string') {
      const c = channels.get(m.ch);
      if (c) { c.subs.delete(ws); mine.delete(c); }
    } else if (m.op === 'pub' && typeof m.ch === 'string') publish(m.ch, m);
    else if (m.op === 'ping') ws.send('{"type":"pong"}');
  });
  ws.on('close', () => { for (const c of mine) c.subs.delete(ws); });
});

let idleCloses = 0;
// One liveness step for a client: terminate it when silent past IDLE_S,
// else ping it.
function liveness(ws, now) {
  if (now - ws.lastPong > IDLE_S * 1000) { idleCloses++; ws.terminate(); return; }
  ws.ping();
}
if (!PING_STAGGER) {
  // The ws README's pattern: every PING_S, one synchronous loop over every
  // client (at 10,000 sockets it holds the event loop for 70-140 ms).
  setInterval(() => {
    const now = Date.now();
    for (const ws of wss.clients) liveness(ws, now);
  }, PING_S * 1000).unref();
} else {
  // PING_STAGGER=1: the same liveness work (every client pinged and checked
  // once per PING_S) spread evenly over the period, a slice every
  // STAGGER_TICK_MS, as a careful Node developer would write it: the clients
  // are listed once per period and each tick takes the next
  // len * ticks_done / ticks_per_period of them. A client that connects
  // during a period is first pinged in the next one (within 2 x PING_S, under
  // IDLE_S); one that closed meanwhile is skipped.
  const ticksPerPeriod = Math.max(1, Math.round((PING_S * 1000) / STAGGER_TICK_MS));
  let round = [], cursor = 0, tick = 0;
  setInterval(() => {
    if (tick === 0) { round = Array.from(wss.clients); cursor = 0; }
    tick++;
    const end = Math.ceil((round.length * tick) / ticksPerPeriod);
    const now = Date.now();
    for (; cursor < end; cursor++) {
      const ws = round[cursor];
      if (ws.readyState === ws.OPEN) liveness(ws, now);
    }
    if (tick === ticksPerPeriod) { tick = 0; round = []; }
  }, STAGGER_TICK_MS).unref();
}

server.listen(port, '127.0.0.1', () => { console.log(`listening 127.0.0.1:${server.address().port}`); });
process.on('SIGTERM', () => { console.error(`idle_closes ${idleCloses}`); process.exit(0); });
