#!/usr/bin/env node
// The seed pipeline end to end, one image at a time (issue 6):
//
//   node bench/pipeline_bench.mjs --bin build-rel/emulator/bucketbridge [--n 20] [--warmup 3]
//        [--core 0] [--tmp DIR] [--rows FILE] [--thumb-args "ARGS"] [--keep] FILE...
//
// Starts its own daemon (--data-dir in a new temp dir under --tmp, default
// the system's; port 0, --ready-file) with
// the default rules and both seed consumers, which the daemon starts and
// supervises as usual; only the thumbnail consumer is held to one instance
// with one worker thread, so one image is worked on at a time. With --core C
// the daemon (and so the consumers it spawns) runs under `taskset -c C`, so
// the pipeline's own CPU work shares one core with the image work, as
// bb_thumbbench's does (run this client on another core: bench/thumbs.sh
// does).
//
// For each FILE: --warmup uploads, then --n measured uploads, each under a
// new key (same bytes; the consumer skips work only for a thumbnail that
// exists under the same output key). One upload at a time: SigV4-signed PUT
// (UNSIGNED-PAYLOAD, as over TLS) to my-raw-images, then wait for the
// "Thumbnail Created" event for that key on a WebSocket live subscription;
// the consumer publishes it after its PUT of the thumbnail returned, so its
// arrival means the thumbnail is stored. Measured per upload:
//   total_ms      PUT request start -> Thumbnail Created received
//   put_ms        PUT request start -> PUT response
//   event_ms      PUT request start -> its Object Created event received here
//   consumer_ms   the consumer's own duration_ms in the event (HEAD, GET,
//                 image work, PUT; whole ms)
//   image_ms      the consumer's image_ms in the event: decode, resize and
//                 encode of this very upload (what bb_thumbbench times alone)
//   overhead_ms   total_ms - image_ms of the same upload: what the pipeline
//                 adds beyond the image work, paired per upload so that load
//                 changes between uploads cancel out
//   commits       SQLite commits of the daemon (bucketbridge_sqlite_commit_seconds_count in
//                 /_bucketbridge/metrics) over the measured uploads, divided by --n;
//                 commit_ms the time they took (_sum), per image
//   cpu_ms        CPU time of the daemon and every consumer process it runs
//                 (all threads, /proc/PID/task/*/schedstat) over the measured
//                 uploads, divided by --n: the pipeline's work per image
//                 including the image work, which load on the machine does
//                 not stretch as it does the wall-clock times
// --rows FILE appends one JSON line per measured upload (the figures above
// and t0_epoch_ms, the PUT's start as Unix ms with us digits, to line up with
// the consumer's `-v` timeline log lines); --thumb-args adds space-separated
// arguments to the thumbnail consumer's command line (e.g. "-v"); --keep
// leaves the temp dir (daemon and consumer logs) in place.
// Prints one JSON line per FILE with the medians (and p90 of total_ms and
// overhead_ms), cpu_ms, and the pipeline's thumbnails/s (1000 / median
// total_ms). Stops the daemon with
// SIGTERM by its pid at the end and on error; exits 1 when an upload got no
// Thumbnail Created within 60 s.

import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';

const argv = process.argv.slice(2);
const files = [];
const opts = { bin: 'build-rel/emulator/bucketbridge', n: '20', warmup: '3', core: '', tmp: os.tmpdir(),
  rows: '', 'thumb-args': '', keep: false };
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--keep') opts.keep = true;
  else if (argv[i].startsWith('--')) opts[argv[i].slice(2)] = argv[++i];
  else files.push(argv[i]);
}
if (!files.length) {
  console.error('usage: pipeline_bench.mjs --bin BUCKETBRIDGE [--n N] [--warmup W] [--core C] [--tmp DIR]'
    + ' [--rows FILE] [--thumb-args "ARGS"] [--keep] FILE...');
  process.exit(2);
}
const BIN = path.resolve(opts.bin);
const N = parseInt(opts.n, 10);
const WARMUP = parseInt(opts.warmup, 10);
const RAW = 'my-raw-images';
const WAIT_MS = 60000;
const ACCESS = 'test';
const SECRET = 'test';
const REGION = 'us-east-1';

const root = fs.mkdtempSync(path.join(opts.tmp, 'bb-pipebench-'));
const dataDir = path.join(root, 'data');
fs.mkdirSync(dataDir);
const readyFile = path.join(root, 'ready.json');
const logFile = path.join(root, 'daemon.log');
const configFile = path.join(root, 'config.json');
// default rules and buckets; consumers as in the default, the thumbnail one
// held to one instance with one worker
fs.writeFileSync(configFile, JSON.stringify({
  consumers: [
    { name: 'thumbnail', command: 'bucketbridge-thumbnail', group: 'thumbnail',
      args: ['--workers', '1', ...opts['thumb-args'].split(' ').filter(Boolean)], instances: { min: 1, max: 1 } },
    { name: 'logger', command: 'bucketbridge-logger', group: 'logger', instances: { min: 1, max: 1 } },
  ],
}));

let daemon = null;
let ws = null;
let shuttingDown = false;
function cleanup() {
  shuttingDown = true;
  try { if (ws) ws.terminate(); } catch {}
  if (daemon && daemon.exitCode === null && daemon.signalCode === null) {
    try { process.kill(daemon.pid, 'SIGTERM'); } catch {}
  }
}
process.on('SIGINT', () => { cleanup(); process.exit(130); });
process.on('SIGTERM', () => { cleanup(); process.exit(143); });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const sorted = (xs) => [...xs].sort((a, b) => a - b);
const median = (xs) => { const s = sorted(xs); return s.length ? s[(s.length - 1) >> 1] : NaN; };
const pct = (xs, p) => { const s = sorted(xs); return s[Math.max(0, Math.ceil((p / 100) * s.length) - 1)]; };
const r2 = (x) => Math.round(x * 100) / 100;

// ---- SigV4 for one PUT ----------------------------------------------------
const hmac = (k, s) => crypto.createHmac('sha256', k).update(s).digest();
const sha256hex = (s) => crypto.createHash('sha256').update(s).digest('hex');
const uriEncode = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());

function put(port, bucket, key, body, ctype) {
  const amzDate = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '');
  const day = amzDate.slice(0, 8);
  const host = `127.0.0.1:${port}`;
  const p = `/${bucket}/${key.split('/').map(uriEncode).join('/')}`;
  const signed = 'content-type;host;x-amz-content-sha256;x-amz-date';
  const canon = ['PUT', p, '', `content-type:${ctype}`, `host:${host}`,
    'x-amz-content-sha256:UNSIGNED-PAYLOAD', `x-amz-date:${amzDate}`, '', signed,
    'UNSIGNED-PAYLOAD'].join('\n');
  const scope = `${day}/${REGION}/s3/aws4_request`;
  const sts = ['AWS4-HMAC-SHA256', amzDate, scope, sha256hex(canon)].join('\n');
  let k = hmac('AWS4' + SECRET, day);
  for (const part of [REGION, 's3', 'aws4_request']) k = hmac(k, part);
  const sig = crypto.createHmac('sha256', k).update(sts).digest('hex');
  const headers = {
    'content-type': ctype, 'content-length': body.length, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
    'x-amz-date': amzDate,
    authorization: `AWS4-HMAC-SHA256 Credential=${ACCESS}/${scope}, SignedHeaders=${signed}, Signature=${sig}`,
  };
  return new Promise((res, rej) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'PUT', path: p, headers, agent }, (r) => {
      r.resume();
      r.on('end', () => (r.statusCode === 200 ? res() : rej(new Error(`PUT ${key}: HTTP ${r.statusCode}`))));
    });
    req.on('error', rej);
    req.end(body);
  });
}
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

// ---- events -------------------------------------------------------------------
const waiters = new Map(); // key -> resolve({t, detail})
const created = new Map(); // key -> time its Object Created arrived
const PATTERN = { source: ['bucketbridge.thumbnail', 'aws.s3'] };

async function connect(wsUrl, token) {
  ws = new WebSocket(`${wsUrl}?token=${encodeURIComponent(token)}`);
  await new Promise((res, rej) => { ws.once('open', res); ws.once('error', rej); });
  const subscribed = new Promise((res, rej) => {
    ws.on('message', (data) => {
      const t = performance.now();
      let m;
      try { m = JSON.parse(data.toString()); } catch { return; }
      if (m.type === 'event') {
        const d = m.event.detail || {};
        if (m.event.source === 'aws.s3') {
          if (m.event['detail-type'] === 'Object Created' && d.bucket && d.bucket.name === RAW)
            created.set(decodeURIComponent(String(d.object.key).replace(/\+/g, ' ')), t);
          return;
        }
        const w = waiters.get(d.key);
        if (w) { waiters.delete(d.key); w({ t, type: m.event['detail-type'], detail: d }); }
      } else if (m.type === 'subscribed') res(m);
      else if (m.type === 'lagged') console.error('lagged notice: an event may be missed');
      else if (m.type === 'error') rej(new Error(m.message));
    });
  });
  ws.on('close', () => { if (!shuttingDown) console.error('websocket closed unexpectedly'); });
  ws.send(JSON.stringify({ type: 'subscribe', id: 'bench', pattern: PATTERN, from: 'latest' }));
  await subscribed;
}

async function startDaemon() {
  const log = fs.openSync(logFile, 'w');
  const args = ['--data-dir', dataDir, '--listen', '127.0.0.1:0', '--ready-file', readyFile,
    '--config', configFile, '--log-level', 'warn'];
  daemon = opts.core !== ''
    ? spawn('taskset', ['-c', opts.core, BIN, ...args], { stdio: ['ignore', log, log] })
    : spawn(BIN, args, { stdio: ['ignore', log, log] });
  daemon.on('exit', (code, sig) => { if (!shuttingDown) console.error(`daemon exited early: code=${code} sig=${sig}`); });
  const t0 = Date.now();
  while (Date.now() - t0 < 30000) {
    if (daemon.exitCode !== null) throw new Error('daemon exited; log: ' + fs.readFileSync(logFile, 'utf8'));
    try { return JSON.parse(fs.readFileSync(readyFile, 'utf8')); } catch {}
    await sleep(50);
  }
  throw new Error('daemon not ready after 30 s');
}

// ---- CPU time of the daemon and the consumers it runs ----------------------
function getJson(port, p) {
  return new Promise((res, rej) => {
    http.get({ host: '127.0.0.1', port, path: p, agent }, (r) => {
      let b = '';
      r.on('data', (d) => { b += d; });
      r.on('end', () => { try { res(JSON.parse(b)); } catch (e) { rej(e); } });
    }).on('error', rej);
  });
}

// SQLite commits so far, from the daemon's Prometheus metrics
function getText(port, p) {
  return new Promise((res, rej) => {
    http.get({ host: '127.0.0.1', port, path: p, agent }, (r) => {
      let b = '';
      r.on('data', (d) => { b += d; });
      r.on('end', () => res(b));
    }).on('error', rej);
  });
}
async function commits(port) {
  const text = await getText(port, '/_bucketbridge/metrics');
  const n = /^bucketbridge_sqlite_commit_seconds_count\s+(\S+)/m.exec(text);
  const s = /^bucketbridge_sqlite_commit_seconds_sum\s+(\S+)/m.exec(text);
  return { n: n ? Number(n[1]) : NaN, s: s ? Number(s[1]) : NaN };
}

// {daemon: [pid], <consumer name>: [pids]}
async function pipelinePids(port) {
  const h = await getJson(port, '/_bucketbridge/health');
  const pids = { daemon: [daemon.pid] };
  for (const c of h.consumers) pids[c.name] = c.instances.filter((i) => i.pid > 0).map((i) => i.pid);
  return pids;
}

// nanoseconds on a CPU, all threads of @pids (/proc/PID/task/TID/schedstat)
function cpuNs(pids) {
  let ns = 0;
  for (const pid of pids) {
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      try { ns += Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]); } catch {}
    }
  }
  return ns;
}

async function one(port, key, body, ctype) {
  let timer;
  const got = new Promise((res) => {
    waiters.set(key, res);
    timer = setTimeout(() => { waiters.delete(key); res(null); }, WAIT_MS);
  });
  const t0 = performance.now();
  await put(port, RAW, key, body, ctype);
  const t1 = performance.now();
  const ev = await got;
  clearTimeout(timer);
  if (ev === null) throw new Error(`no Thumbnail Created for ${key} within ${WAIT_MS} ms; log in ${root}`);
  if (ev.type !== 'Thumbnail Created') throw new Error(`${key}: ${ev.type}: ${JSON.stringify(ev.detail)}`);
  const tc = created.get(key);
  created.delete(key);
  const image = ev.detail.image_ms;
  return { t0_epoch_ms: Math.round((performance.timeOrigin + t0) * 1000) / 1000, total: ev.t - t0,
    put: t1 - t0, event: tc - t0, consumer: ev.detail.duration_ms, image, overhead: ev.t - t0 - image };
}

async function main() {
  const ready = await startDaemon();
  await connect(ready.websocket, ready.token);
  for (const file of files) {
    const body = fs.readFileSync(file);
    const base = path.basename(file);
    const ctype = base.endsWith('.png') ? 'image/png' : 'image/jpeg';
    const rows = [];
    let pids = null;
    const cpu0 = {};
    let commits0 = null;
    for (let i = 0; i < WARMUP + N; i++) {
      if (i === WARMUP) {
        pids = await pipelinePids(ready.port);
        for (const name in pids) cpu0[name] = cpuNs(pids[name]);
        commits0 = await commits(ready.port);
      }
      const r = await one(ready.port, `bench-${i}-${base}`, body, ctype);
      if (i >= WARMUP) {
        rows.push(r);
        if (opts.rows) fs.appendFileSync(opts.rows, JSON.stringify({ file: base, i, ...r }) + '\n');
      }
    }
    const commits1 = await commits(ready.port);
    const commitsPer = r2((commits1.n - commits0.n) / N);
    const commitMs = r2(((commits1.s - commits0.s) * 1000) / N);
    const cpuBy = {};
    let cpuMs = 0;
    for (const name in pids) {
      cpuBy[name] = r2((cpuNs(pids[name]) - cpu0[name]) / 1e6 / N);
      cpuMs += cpuBy[name];
    }
    const total = rows.map((r) => r.total);
    console.log(JSON.stringify({
      file: base, n: N, bytes: body.length,
      total_ms: r2(median(total)), total_p90_ms: r2(pct(total, 90)),
      put_ms: r2(median(rows.map((r) => r.put))),
      event_ms: r2(median(rows.map((r) => r.event))),
      consumer_ms: r2(median(rows.map((r) => r.consumer))),
      image_ms: r2(median(rows.map((r) => r.image))),
      overhead_ms: r2(median(rows.map((r) => r.overhead))),
      overhead_p90_ms: r2(pct(rows.map((r) => r.overhead), 90)),
      thumbs_per_s: r2(1000 / median(total)),
      commits: commitsPer, commit_ms: commitMs, cpu_ms: r2(cpuMs), cpu_ms_by_process: cpuBy,
    }));
  }
}

// the daemon still writes its logs while it stops: remove its dir after
async function waitExit(ms) {
  const t0 = Date.now();
  while (daemon && daemon.exitCode === null && daemon.signalCode === null && Date.now() - t0 < ms) await sleep(20);
}

main().then(async () => {
  cleanup();
  await waitExit(10000);
  if (opts.keep) console.error(`kept ${root}`);
  else fs.rmSync(root, { recursive: true, force: true });
},
  (e) => { console.error(String(e && e.stack || e)); cleanup(); process.exitCode = 1; });
