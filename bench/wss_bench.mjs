#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// What wss (the TLS port's WebSocket, carried by the socketpair bridge in
// emulator/ws_tls.c) costs against ws on the plain port, in the same run.
//
//   node bench/wss_bench.mjs --bin build-rel/emulator/bucketbridge \
//        [--rounds 5] [--per-round 200] [--replay 20000] [--runs 3] [--idle 200]
//
// Starts its own daemon (port 0, temp data dir, --no-consumers, no rules)
// and measures with the npm `ws` client (cd bench && npm install):
//   1. publish-to-receipt latency: a plain ws connection publishes one
//      event at a time; one subscriber, on ws or on wss (they take turns,
//      --rounds rounds of --per-round events each), times the event's
//      arrival from just before the publish was sent. p50 / p99.
//   2. replay throughput: --replay events of ~1 KiB are journalled, then a
//      new subscriber replays them all from "earliest" (ws and wss take
//      turns, --runs each): events/s, MB/s of JSON received, and the
//      daemon's CPU time (utime+stime from /proc) per 10,000 events.
//   3. memory per idle connection: a fresh daemon each for ws and wss,
//      --idle connections opened (each subscribed), RSS growth / count.
// Prints markdown. Every daemon is stopped with SIGTERM by its pid.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';

const args = process.argv.slice(2);
function opt(name, def) {
  const i = args.indexOf('--' + name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : def;
}
const BIN = path.resolve(opt('bin', 'build-rel/emulator/bucketbridge'));
const ROUNDS = parseInt(opt('rounds', '5'), 10);
const PER_ROUND = parseInt(opt('per-round', '200'), 10);
const REPLAY = parseInt(opt('replay', '20000'), 10);
const RUNS = parseInt(opt('runs', '3'), 10);
const IDLE = parseInt(opt('idle', '200'), 10);
const TICK_MS = 10; // USER_HZ is 100 on Linux

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const daemons = new Set();
function cleanup() {
  for (const d of daemons) {
    if (d.proc.exitCode === null && d.proc.signalCode === null) {
      try { process.kill(d.proc.pid, 'SIGTERM'); } catch {}
    }
  }
}
process.on('SIGINT', () => { cleanup(); process.exit(130); });
process.on('SIGTERM', () => { cleanup(); process.exit(143); });

function pct(sorted, p) {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p + 0.5))];
}
const median = (xs) => pct([...xs].sort((a, b) => a - b), 0.5);

async function startDaemon() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bb-wssbench-'));
  const data = path.join(root, 'data');
  fs.mkdirSync(data);
  const cfg = path.join(root, 'config.json');
  fs.writeFileSync(cfg, JSON.stringify({ rules: [] }));
  const ready = path.join(root, 'ready.json');
  const log = fs.openSync(path.join(root, 'daemon.log'), 'a');
  const proc = spawn(BIN, ['--listen', '127.0.0.1:0', '--data-dir', data, '--config', cfg,
    '--no-consumers', '--ready-file', ready], { stdio: ['ignore', log, log] });
  fs.closeSync(log);
  const d = { root, proc };
  daemons.add(d);
  const deadline = Date.now() + 30000;
  while (!fs.existsSync(ready)) {
    if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`daemon did not start (${root})`);
    await sleep(20);
  }
  d.ready = JSON.parse(fs.readFileSync(ready, 'utf8'));
  if (!d.ready.websocket_tls) throw new Error('the daemon has no wss URL (https off?)');
  d.ca = fs.readFileSync(d.ready.tls_cert);
  return d;
}

async function stopDaemon(d) {
  const exited = new Promise((r) => d.proc.on('exit', r));
  process.kill(d.proc.pid, 'SIGTERM');
  await exited;
  daemons.delete(d);
  fs.rmSync(d.root, { recursive: true, force: true });
}

function rssKiB(d) {
  return Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${d.proc.pid}/status`, 'utf8'))[1]);
}

function cpuMs(d) {
  const f = fs.readFileSync(`/proc/${d.proc.pid}/stat`, 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[11]) + Number(rest[12])) * TICK_MS; // utime, stime
}

function connect(d, kind) {
  const url = kind === 'wss' ? `${d.ready.websocket_tls}?token=test` : `${d.ready.websocket}?token=test`;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, kind === 'wss' ? { ca: d.ca, maxPayload: 1 << 26 } : { maxPayload: 1 << 26 });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

// Sends @msg and resolves with the first message for which pred() is true.
function request(ws, msg, pred) {
  return new Promise((resolve) => {
    const on = (data) => {
      const m = JSON.parse(data);
      if (pred(m)) { ws.off('message', on); resolve(m); }
    };
    ws.on('message', on);
    ws.send(JSON.stringify(msg));
  });
}

async function subscribe(ws, id, pattern, from = 'latest') {
  return request(ws, { type: 'subscribe', id, pattern, from }, (m) => m.type === 'subscribed' && m.id === id);
}

// ---- 1. latency ----
async function latency(d) {
  const pub = await connect(d, 'ws');
  const samples = { ws: [], wss: [] };
  let n = 0;
  for (let round = 0; round < ROUNDS; round++) {
    for (const kind of round % 2 ? ['wss', 'ws'] : ['ws', 'wss']) {
      const sub = await connect(d, kind);
      await subscribe(sub, 'lat', { source: ['bench.lat'] });
      let waiting = null;
      sub.on('message', (data) => {
        const t = performance.now();
        const m = JSON.parse(data);
        if (m.type === 'event' && waiting && m.event.detail.n === waiting.n) waiting.resolve(t);
      });
      for (let i = 0; i < PER_ROUND; i++) {
        const id = n++;
        const got = new Promise((resolve) => { waiting = { n: id, resolve }; });
        const t0 = performance.now();
        pub.send(JSON.stringify({ type: 'publish', entries: [
          { Source: 'bench.lat', DetailType: 'lat', Detail: JSON.stringify({ n: id }) }] }));
        samples[kind].push((await got) - t0);
      }
      sub.terminate();
    }
  }
  pub.terminate();
  return samples;
}

// ---- 2. replay ----
async function fill(d) {
  const pub = await connect(d, 'ws');
  const pad = 'r'.repeat(900);
  let sent = 0;
  let answered = 0;
  await new Promise((resolve) => {
    pub.on('message', (data) => {
      if (JSON.parse(data).type !== 'published') return;
      answered++;
      if (sent < REPLAY) pump();
      else if (answered * 10 >= REPLAY) resolve();
    });
    const pump = () => {
      const entries = [];
      for (let k = 0; k < 10 && sent < REPLAY; k++, sent++) {
        entries.push({ Source: 'bench.replay', DetailType: 'replay', Detail: JSON.stringify({ i: sent, pad }) });
      }
      pub.send(JSON.stringify({ type: 'publish', entries }));
    };
    for (let w = 0; w < 32; w++) pump();
  });
  pub.terminate();
}

async function replayOnce(d, kind) {
  const ws = await connect(d, kind);
  let got = 0;
  let bytes = 0;
  const cpu0 = cpuMs(d);
  const t0 = performance.now();
  const done = new Promise((resolve) => {
    ws.on('message', (data) => {
      bytes += data.length;
      if (JSON.parse(data).type === 'event' && ++got === REPLAY) resolve(performance.now());
    });
  });
  ws.send(JSON.stringify({ type: 'subscribe', id: 'r', pattern: { source: ['bench.replay'] }, from: 'earliest' }));
  const t1 = await done;
  const cpu = cpuMs(d) - cpu0;
  ws.terminate();
  const s = (t1 - t0) / 1000;
  return { eps: REPLAY / s, mbps: bytes / s / 1e6, cpuPer10k: (cpu * 10000) / REPLAY };
}

// ---- 3. idle connections ----
async function idle(kind) {
  const d = await startDaemon();
  const conns = [];
  try {
    // one connection first, so what a first connection sets up once is not counted
    conns.push(await connect(d, kind));
    await sleep(500);
    const before = rssKiB(d);
    for (let i = 0; i < IDLE; i++) {
      const ws = await connect(d, kind);
      await subscribe(ws, 's', { source: ['bench.idle'] });
      conns.push(ws);
    }
    await sleep(1000);
    return (rssKiB(d) - before) / IDLE;
  } finally {
    for (const ws of conns) ws.terminate();
    await stopDaemon(d);
  }
}

const fmt = (x, digits = 2) => (Number.isFinite(x) ? x.toFixed(digits) : '-');

async function main() {
  const d = await startDaemon();
  const load0 = os.loadavg().map((x) => x.toFixed(2)).join(' ');
  const lat = await latency(d);
  await fill(d);
  const rep = { ws: [], wss: [] };
  for (let r = 0; r < RUNS; r++) {
    for (const kind of r % 2 ? ['wss', 'ws'] : ['ws', 'wss']) rep[kind].push(await replayOnce(d, kind));
  }
  await stopDaemon(d);
  const mem = { ws: await idle('ws'), wss: await idle('wss') };
  const load1 = os.loadavg().map((x) => x.toFixed(2)).join(' ');

  console.log(`wss_bench: ${new Date().toISOString()}, ${os.cpus().length} cores, load average ${load0} at the start, ${load1} at the end; node ${process.version}`);
  console.log(`latency: ${ROUNDS} rounds x ${PER_ROUND} events per kind; replay: ${REPLAY} events of ~1 KiB, ${RUNS} runs per kind (medians); idle: ${IDLE} connections\n`);
  console.log('| | ws (plain port) | wss (TLS port) | wss / ws |');
  console.log('|---|---|---|---|');
  const l = {};
  for (const k of ['ws', 'wss']) {
    const s = lat[k].sort((a, b) => a - b);
    l[k] = { p50: pct(s, 0.5), p99: pct(s, 0.99) };
  }
  console.log(`| publish-to-receipt p50, ms | ${fmt(l.ws.p50, 3)} | ${fmt(l.wss.p50, 3)} | ${fmt(l.wss.p50 / l.ws.p50)} |`);
  console.log(`| publish-to-receipt p99, ms | ${fmt(l.ws.p99, 3)} | ${fmt(l.wss.p99, 3)} | ${fmt(l.wss.p99 / l.ws.p99)} |`);
  const m = (k, f) => median(rep[k].map((x) => x[f]));
  console.log(`| replay, events/s | ${fmt(m('ws', 'eps'), 0)} | ${fmt(m('wss', 'eps'), 0)} | ${fmt(m('wss', 'eps') / m('ws', 'eps'))} |`);
  console.log(`| replay, MB/s of JSON | ${fmt(m('ws', 'mbps'), 1)} | ${fmt(m('wss', 'mbps'), 1)} | ${fmt(m('wss', 'mbps') / m('ws', 'mbps'))} |`);
  console.log(`| daemon CPU per 10,000 replayed events, ms | ${fmt(m('ws', 'cpuPer10k'), 0)} | ${fmt(m('wss', 'cpuPer10k'), 0)} | ${fmt(m('wss', 'cpuPer10k') / m('ws', 'cpuPer10k'))} |`);
  console.log(`| daemon RSS per idle subscribed connection, KiB | ${fmt(mem.ws, 1)} | ${fmt(mem.wss, 1)} | ${fmt(mem.wss / mem.ws)} |`);
}

main().catch((e) => { console.error(e); cleanup(); process.exit(1); });
