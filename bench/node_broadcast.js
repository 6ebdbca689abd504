// node_broadcast.js — the peer of bench/server_fanout.sh: a Node broadcast
// server on npm `ws`, speaking the part of wire contract v1 the fan-out bench
// uses (WebSocket /ws: sub, pub, ping; per-channel seq; the same envelope).
// Written the way a Node broadcast server is usually tuned: the envelope is
// serialized once per publish and the same Buffer goes to every subscriber,
// no per-message deflate.
'use strict';
const { WebSocketServer } = require('ws');

const port = parseInt(process.argv[2] || '0', 10);
const wss = new WebSocketServer({ host: '127.0.0.1', port, path: '/ws', perMessageDeflate: false });
const channels = new Map(); // name -> { seq, subs: Set<WebSocket> }

function channel(name) {
  let c = channels.get(name);
  if (!c) {
    c = { seq: 0, subs: new Set() };
    channels.set(name, c);
  }
  return c;
}

wss.on('connection', (ws) => {
  const mine = new Set();
  ws.on('message', (raw) => {
    let m;
    try {
      m = JSON.parse(raw);
    } catch (e) {
      ws.send('{"type":"error","code":"bad_request","msg":"invalid JSON"}');
      return;
    }
    if (m.op === 'sub' && typeof m.ch === 'string') {
      const c = channel(m.ch);
      c.subs.add(ws);
      mine.add(c);
      ws.send(JSON.stringify({ type: 'subscribed', ch: m.ch, seq: c.seq, recovered: true }));
    } else if (m.op === 'pub' && typeof m.ch === 'string') {
      const c = channel(m.ch);
      c.seq++;
      const buf = Buffer.from(JSON.stringify({ ch: m.ch, seq: c.seq, ts: m.ts ?? Date.now() * 1000,
                                               type: 'event', data: m.data ?? null }));
      for (const s of c.subs) s.send(buf, { binary: false });
    } else if (m.op === 'ping') {
      ws.send('{"type":"pong"}');
    }
  });
  ws.on('close', () => { for (const c of mine) c.subs.delete(ws); });
});
wss.on('listening', () => { console.log(`listening 127.0.0.1:${wss.address().port}`); });
process.on('SIGTERM', () => process.exit(0));
// bench/server_fanout.sh samples this process's RSS after a full collection
// (started with --expose-gc): SIGUSR2 runs one and prints "gc <n>" when done,
// so the figure is live memory, not garbage the next collection would free.
let gcs = 0;
process.on('SIGUSR2', () => {
  if (typeof global.gc === 'function') global.gc();
  console.log(`gc ${++gcs}${typeof global.gc === 'function' ? '' : ' unavailable (run with --expose-gc)'}`);
});
