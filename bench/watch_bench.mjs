#!/usr/bin/env node
// Directory-watcher benchmark (issue 5).
//
//   node bench/watch_bench.mjs --bin build-rel/emulator/bucketbridge [--n 200] [--files 10000] [--repeats 1]
//
// Starts its own daemon (--data-dir in a temp dir, port 0, --no-consumers) and
// measures over a WebSocket live subscription:
//   1. drop-to-event latency: a file written in a sibling dir of the data dir
//      (same file system) is rename()d into my-raw-images/; time from just
//      before the rename to the "Object Created" event for its key.
//   2. burst: a child process writes --files small files into 100 subdirs of
//      my-raw-images/burst-<run>/; time until all their events arrived.
//      Compared with `aws s3 cp --recursive` of the same number of files.
// Prints a markdown table (medians over --repeats). The daemon is stopped
// with SIGTERM (by its pid) at the end and on error.

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
const N = parseInt(opt('n', '200'), 10);
const FILES = parseInt(opt('files', '10000'), 10);
const REPEATS = parseInt(opt('repeats', '1'), 10);
const DIRS = 100;
const FILE_SIZE = 100;
const BURST_TIMEOUT_MS = 120000;
const BUCKET = 'my-raw-images';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bb-watchbench-'));
const dataDir = path.join(root, 'data');
const stageDir = path.join(root, 'stage'); // sibling of the data dir: same fs
fs.mkdirSync(dataDir);
fs.mkdirSync(stageDir);
const readyFile = path.join(root, 'ready.json');
const logFile = path.join(root, 'daemon.log');

let daemon = null;
let ws = null;
function cleanup() {
  try { if (ws) ws.terminate(); } catch {}
  if (daemon && daemon.exitCode === null && daemon.signalCode === null) {
    try { process.kill(daemon.pid, 'SIGTERM'); } catch {}
  }
}
process.on('SIGINT', () => { cleanup(); console.error('interrupted; temp dir kept: ' + root); process.exit(130); });
process.on('SIGTERM', () => { cleanup(); console.error('terminated; temp dir kept: ' + root); process.exit(143); });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function pct(sorted, p) {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, i)];
}
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[(s.length - 1) >> 1] : NaN; };
const fmt = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');

// ---- event bookkeeping ---------------------------------------------------
const seen = new Map();     // key -> count of Object Created events
const waiters = new Map();  // key -> resolve(time)
let group = null;           // {prefix, want, distinct, dups, done, resolve, last}
let lagged = 0;

function decodeKey(k) {
  try { return decodeURIComponent(String(k).replace(/\+/g, ' ')); } catch { return String(k); }
}

function onEvent(ev, t) {
  if (!ev || ev['detail-type'] !== 'Object Created') return;
  const d = ev.detail || {};
  if (!d.bucket || d.bucket.name !== BUCKET || !d.object) return;
  const key = decodeKey(d.object.key);
  const c = (seen.get(key) || 0) + 1;
  seen.set(key, c);
  const w = waiters.get(key);
  if (w) { waiters.delete(key); w(t); }
  if (group && key.startsWith(group.prefix)) {
    if (c === 1) group.distinct++; else group.dups++;
    group.last = t;
    if (group.distinct === group.want && !group.done) { group.done = true; group.resolve(t); }
  }
}

const PATTERN = { source: ['aws.s3'], 'detail-type': ['Object Created'], detail: { bucket: { name: [BUCKET] } } };

async function connect(wsUrl, token) {
  ws = new WebSocket(`${wsUrl}?token=${encodeURIComponent(token)}`);
  await new Promise((res, rej) => { ws.once('open', res); ws.once('error', rej); });
  const subscribed = new Promise((res, rej) => {
    ws.on('message', (data) => {
      const t = performance.now();
      let m;
      try { m = JSON.parse(data.toString()); } catch { return; }
      if (m.type === 'event') onEvent(m.event, t);
      else if (m.type === 'subscribed') res(m);
      else if (m.type === 'lagged') {
        lagged++;
        ws.send(JSON.stringify({ type: 'subscribe', id: 'bench', pattern: PATTERN, from: m.resume_from }));
      } else if (m.type === 'error') { console.error('ws error message:', JSON.stringify(m)); rej(new Error(m.message)); }
    });
  });
  ws.on('close', () => { if (!shuttingDown) console.error('websocket closed unexpectedly'); });
  ws.send(JSON.stringify({ type: 'subscribe', id: 'bench', pattern: PATTERN, from: 'latest' }));
  await subscribed;
}
let shuttingDown = false;

async function startDaemon() {
  const log = fs.openSync(logFile, 'w');
  daemon = spawn(BIN, ['--data-dir', dataDir, '--listen', '127.0.0.1:0', '--ready-file', readyFile,
    '--no-consumers', '--log-level', 'warn'], { stdio: ['ignore', log, log] });
  daemon.on('exit', (code, sig) => { if (!shuttingDown) console.error(`daemon exited early: code=${code} sig=${sig}`); });
  const t0 = Date.now();
  while (Date.now() - t0 < 30000) {
    if (daemon.exitCode !== null) throw new Error('daemon exited; log: ' + fs.readFileSync(logFile, 'utf8'));
    try {
      const r = JSON.parse(fs.readFileSync(readyFile, 'utf8'));
      if (r.pid === daemon.pid || r.port) return r;
    } catch {}
    await sleep(50);
  }
  throw new Error('daemon not ready after 30 s');
}

// ---- 1. latency ------------------------------------------------------------
async function latency(run) {
  const lat = [];
  let missing = 0;
  const dstDir = path.join(dataDir, BUCKET, `lat-${run}`);
  fs.mkdirSync(dstDir);
  await sleep(1000); // let the watcher pick up the new directory
  const buf = Buffer.alloc(FILE_SIZE, 'x');
  for (let i = 0; i < N; i++) {
    const name = `f${String(i).padStart(5, '0')}.bin`;
    const key = `lat-${run}/${name}`;
    const src = path.join(stageDir, `lat-${run}-${name}`);
    fs.writeFileSync(src, buf);
    let timer;
    const got = new Promise((res) => {
      waiters.set(key, res);
      timer = setTimeout(() => { waiters.delete(key); res(null); }, 10000);
    });
    const t0 = performance.now();
    fs.renameSync(src, path.join(dstDir, name));
    const t1 = await got;
    clearTimeout(timer);
    if (t1 === null) missing++; else lat.push(t1 - t0);
  }
  await sleep(300);
  let dups = 0;
  for (let i = 0; i < N; i++) {
    const c = seen.get(`lat-${run}/f${String(i).padStart(5, '0')}.bin`) || 0;
    if (c > 1) dups += c - 1;
  }
  lat.sort((a, b) => a - b);
  return { p50: pct(lat, 50), p99: pct(lat, 99), max: lat[lat.length - 1], missing, dups };
}

// ---- 2. burst ---------------------------------------------------------------
function waitGroup(prefix, want) {
  let resolve;
  const p = new Promise((r) => { resolve = r; });
  group = { prefix, want, distinct: 0, dups: 0, done: false, resolve, last: 0 };
  const timer = setTimeout(() => { if (!group.done) { group.done = true; resolve(null); } }, BURST_TIMEOUT_MS);
  return p.then((t) => { clearTimeout(timer); return t; });
}

function runChild(cmd, argv, env) {
  return new Promise((res, rej) => {
    const c = spawn(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
    let err = '';
    c.stderr.on('data', (d) => { err += d; });
    c.on('error', rej);
    c.on('exit', (code) => (code === 0 ? res() : rej(new Error(`${cmd} exited ${code}: ${err.slice(0, 2000)}`))));
  });
}

const WRITER = `
const fs = require('fs'), path = require('path');
const [root, files, dirs, size] = process.argv.slice(1);
const buf = Buffer.alloc(+size, 'b');
for (let d = 0; d < +dirs; d++) fs.mkdirSync(path.join(root, 'd' + String(d).padStart(3, '0')), { recursive: true });
for (let i = 0; i < +files; i++)
  fs.writeFileSync(path.join(root, 'd' + String(i % +dirs).padStart(3, '0'), 'f' + String(i).padStart(5, '0') + '.bin'), buf);
`;

async function settle(prefix) {
  // after completion, wait a moment for late duplicates
  await sleep(1500);
  if (group.distinct < group.want) {
    const missing = [];
    for (let i = 0; i < group.want && missing.length < 20; i++) {
      const k = group.prefix + 'd' + String(i % DIRS).padStart(3, '0') + '/f' + String(i).padStart(5, '0') + '.bin';
      if (!seen.has(k)) missing.push(k);
    }
    console.error(`${group.prefix}: ${group.want - group.distinct} events missing after ${BURST_TIMEOUT_MS / 1000} s, e.g. ${missing.join(' ')}`);
  }
  return group.dups;
}

async function burstWatcher(run) {
  const prefix = `burst-${run}/`;
  const done = waitGroup(prefix, FILES);
  const t0 = performance.now();
  const writer = runChild(process.execPath, ['-e', WRITER, path.join(dataDir, BUCKET, `burst-${run}`), FILES, DIRS, FILE_SIZE]);
  let writeMs = NaN;
  writer.then(() => { writeMs = performance.now() - t0; });
  const t1 = await done;
  await writer;
  const g = group;
  const dups = await settle(prefix);
  return { ms: t1 === null ? NaN : t1 - t0, writeMs, got: g.distinct, missing: FILES - g.distinct, dups };
}

async function burstPut(run, endpoint) {
  const src = path.join(stageDir, `put-${run}`);
  await runChild(process.execPath, ['-e', WRITER, src, FILES, DIRS, FILE_SIZE]);
  const prefix = `put-${run}/`;
  const done = waitGroup(prefix, FILES);
  const t0 = performance.now();
  const cp = runChild('aws', ['--endpoint-url', endpoint, 's3', 'cp', '--recursive', '--only-show-errors', src, `s3://${BUCKET}/put-${run}`],
    { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_DEFAULT_REGION: 'us-east-1' });
  let cpErr = null;
  cp.catch((e) => { cpErr = e; if (!group.done) { group.done = true; group.resolve(null); } });
  const t1 = await done;
  try { await cp; } catch {}
  const g = group;
  const dups = await settle(prefix);
  fs.rmSync(src, { recursive: true, force: true });
  return { ms: t1 === null ? NaN : t1 - t0, got: g.distinct, missing: FILES - g.distinct, dups, err: cpErr && cpErr.message };
}

// ---- main -------------------------------------------------------------------
async function main() {
  const ready = await startDaemon();
  console.error('daemon ready:', ready.endpoint);
  await connect(ready.websocket, ready.token || 'test');
  console.error('subscribed');
  const rows = [];
  for (let r = 0; r < REPEATS; r++) {
    const L = await latency(r);
    console.error('latency done');
    const W = await burstWatcher(r);
    console.error('watcher burst done');
    const P = await burstPut(r, ready.endpoint);
    const row = { L, W, P };
    rows.push(row);
    console.error(`run ${r}: latency p50 ${fmt(L.p50, 2)} p99 ${fmt(L.p99, 2)} max ${fmt(L.max, 2)} ms (missing ${L.missing}, dups ${L.dups}); ` +
      `watcher burst ${fmt(W.ms, 0)} ms (writer ${fmt(W.writeMs, 0)} ms, got ${W.got}, missing ${W.missing}, dups ${W.dups}); ` +
      `PUT burst ${fmt(P.ms, 0)} ms (got ${P.got}, missing ${P.missing}, dups ${P.dups}${P.err ? ', aws error: ' + P.err : ''})`);
  }
  const m = (f) => median(rows.map(f));
  const wMs = m((x) => x.W.ms), pMs = m((x) => x.P.ms);
  const sum = (f) => rows.reduce((a, x) => a + f(x), 0);
  console.log(`\nbucketbridge watcher benchmark: n=${N} latency samples, ${FILES} files x ${FILE_SIZE} B in ${DIRS} dirs, ${REPEATS} repeat(s), medians\n`);
  console.log('| measure | value |');
  console.log('|---|---|');
  console.log(`| drop-to-event latency p50 | ${fmt(m((x) => x.L.p50), 2)} ms |`);
  console.log(`| drop-to-event latency p99 | ${fmt(m((x) => x.L.p99), 2)} ms |`);
  console.log(`| drop-to-event latency max | ${fmt(m((x) => x.L.max), 2)} ms |`);
  console.log(`| watcher burst, ${FILES} files to last event | ${fmt(wMs, 0)} ms |`);
  console.log(`| (writer process alone) | ${fmt(m((x) => x.W.writeMs), 0)} ms |`);
  console.log(`| S3 PUT burst (aws s3 cp --recursive) to last event | ${fmt(pMs, 0)} ms |`);
  console.log(`| ratio watcher / PUT (bar: <= 2.0) | ${fmt(wMs / pMs, 2)} |`);
  console.log(`| missing events (latency / watcher burst / PUT burst, all runs) | ${sum((x) => x.L.missing)} / ${sum((x) => x.W.missing)} / ${sum((x) => x.P.missing)} |`);
  console.log(`| duplicate events (latency / watcher burst / PUT burst, all runs) | ${sum((x) => x.L.dups)} / ${sum((x) => x.W.dups)} / ${sum((x) => x.P.dups)} |`);
  console.log(`| lagged notices | ${lagged} |`);
}

let rc = 0;
try {
  await main();
} catch (e) {
  console.error('watch_bench failed:', e && e.stack ? e.stack : e);
  rc = 1;
} finally {
  shuttingDown = true;
  cleanup();
  if (daemon) await new Promise((r) => { if (daemon.exitCode !== null || daemon.signalCode !== null) r(); else { daemon.once('exit', r); setTimeout(r, 10000); } });
  try { fs.rmSync(root, { recursive: true, force: true }); } catch {}
}
process.exit(rc);
