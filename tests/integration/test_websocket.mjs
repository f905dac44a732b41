// SPDX-License-Identifier: MIT
// The WebSocket endpoint /_bucketbridge/events (docs/websocket.md) against
// the real daemon, with the npm `ws` client from tests/integration/js
// (npm install --prefix tests/integration/js): live streams with patterns
// and start positions, resuming, consumer groups (sharing, visibility
// timeout, a member killed mid-event, nack to the DLQ), a reader that
// stops reading while 50,000 events go by, Origin and size limits, error
// answers, and bucketbridge-tail (BB_TAIL). Run: node test_websocket.mjs
// (node's test runner); exits 77 (ctest SKIP) when something is missing.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SKIP = 77;
const here = path.dirname(fileURLToPath(import.meta.url));

let WebSocket;
try {
  WebSocket = createRequire(path.join(here, 'js', 'package.json'))('ws');
} catch {
  console.log('SKIP: the npm package ws is not installed; run: npm install --prefix ' +
              'tests/integration/js');
  process.exit(SKIP);
}
const DAEMON = process.env.BB_DAEMON;
if (!DAEMON) {
  console.log('SKIP: BB_DAEMON is not set (path to the bucketbridge binary)');
  process.exit(SKIP);
}
try {
  fs.accessSync(DAEMON, fs.constants.X_OK);
} catch {
  console.log(`FAIL: BB_DAEMON=${DAEMON} is not executable (build the bucketbridge target)`);
  process.exit(1);
}
const TAIL = process.env.BB_TAIL || '';
const ARN = (name) => `arn:aws:sqs:us-east-1:000000000000:${name}`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- harness ---------------------------------------------------------------

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function httpGet(port, p, headers = {}) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: p, headers, timeout: 5000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', () => resolve({ status: null, body: '' }));
    req.on('timeout', () => { req.destroy(); resolve({ status: null, body: '' }); });
  });
}

// One daemon process; restart() keeps the port and the data dir.
class Daemon {
  constructor(config, env = {}) {
    this.base = fs.mkdtempSync(path.join(os.tmpdir(), 'bb-it-ws-'));
    this.dataDir = path.join(this.base, 'data');
    fs.mkdirSync(this.dataDir);
    this.cfgPath = path.join(this.base, 'config.json');
    fs.writeFileSync(this.cfgPath, JSON.stringify(config));
    this.logPath = path.join(this.base, 'stderr.log');
    this.env = env;
  }

  log(lines = 80) {
    try {
      return fs.readFileSync(this.logPath, 'utf8').split('\n').slice(-lines).join('\n');
    } catch { return ''; }
  }

  async start() {
    if (!this.port) this.port = await freePort();
    const fd = fs.openSync(this.logPath, 'a');
    const args = ['--listen', `127.0.0.1:${this.port}`, '--data-dir', this.dataDir,
      '--config', this.cfgPath, '--no-consumers'];
    const level = process.env.BB_IT_LOG_LEVEL ?? 'info';
    if (level) args.push('--log-level', level);
    this.proc = spawn(DAEMON, args, { stdio: ['ignore', fd, fd], env: { ...process.env, ...this.env } });
    fs.closeSync(fd);
    this.exitCode = undefined;
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, sig) => {
      this.exitCode = code ?? sig;
      resolve(this.exitCode);
    }));
    const deadline = Date.now() + 15000;
    while (Date.now() < deadline) {
      if (this.exitCode !== undefined) {
        throw new Error(`daemon exited (${this.exitCode}) before it was healthy:\n${this.log()}`);
      }
      if ((await httpGet(this.port, '/_bucketbridge/health')).status === 200) return this;
      await sleep(25);
    }
    this.proc.kill('SIGKILL');
    throw new Error(`daemon not healthy after 15 s:\n${this.log()}`);
  }

  // SIGTERM to our own child only; SIGKILL if it hangs.
  async stop() {
    if (!this.proc || this.exitCode !== undefined) return this.exitCode;
    this.proc.kill('SIGTERM');
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 10000);
    const code = await this.exited;
    clearTimeout(t);
    return code;
  }

  rssKiB() {
    const s = fs.readFileSync(`/proc/${this.proc.pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+)/.exec(s)[1]);
  }

  url(query = '?token=test') {
    return `ws://127.0.0.1:${this.port}/_bucketbridge/events${query}`;
  }

  cleanup() {
    if (!process.env.BB_IT_KEEP) fs.rmSync(this.base, { recursive: true, force: true });
  }
}

// A WebSocket with a buffer of parsed messages and waits over it.
class Client {
  static open(url, opts = {}) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, opts);
      const c = new Client(ws);
      ws.once('open', () => resolve(c));
      ws.once('unexpected-response', (req, res) => {
        reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode }));
        req.destroy();
      });
      ws.once('error', reject);
    });
  }

  constructor(ws) {
    this.ws = ws;
    this.msgs = [];
    this.closed = null;
    this.wakers = new Set();
    ws.on('message', (data, binary) => {
      assert.equal(binary, false, 'the daemon sends text frames');
      const m = JSON.parse(data.toString());
      this.msgs.push(m);
      if (this.onMessage) this.onMessage(m);
      this.wake();
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.wake();
    });
    ws.on('error', () => {});
  }

  wake() {
    for (const w of this.wakers) w();
  }

  send(m) {
    this.ws.send(typeof m === 'string' ? m : JSON.stringify(m));
  }

  // Resolves when cond() returns a truthy value: checked on every message
  // here, and every 50 ms for conditions that involve other connections.
  until(cond, timeoutMs = 15000, what = 'condition') {
    return new Promise((resolve, reject) => {
      const check = () => {
        let v;
        try { v = cond(); } catch (e) { done(); reject(e); return; }
        if (v) { done(); resolve(v); }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last messages: ` +
                         JSON.stringify(this.msgs.slice(-5)).slice(0, 1500)));
      }, timeoutMs);
      const poll = setInterval(check, 50);
      const done = () => { clearTimeout(timer); clearInterval(poll); this.wakers.delete(check); };
      this.wakers.add(check);
      check();
    });
  }

  // Removes and returns the first buffered message matching pred.
  async take(pred, timeoutMs = 15000, what = 'a message') {
    return this.until(() => {
      const i = this.msgs.findIndex(pred);
      return i < 0 ? null : this.msgs.splice(i, 1)[0];
    }, timeoutMs, what);
  }

  takeType(type, timeoutMs) {
    return this.take((m) => m.type === type, timeoutMs, `"${type}"`);
  }

  events(sub) {
    return this.msgs.filter((m) => m.type === 'event' && (sub === undefined || m.sub === sub));
  }

  async status() {
    this.send({ type: 'status' });
    return this.takeType('status');
  }

  close() {
    this.ws.close();
    return this.until(() => this.closed, 15000, 'close');
  }
}

function entry(source, detail, type = 'test') {
  return { Source: source, DetailType: type, Detail: JSON.stringify(detail) };
}

// Publishes @entries over @c in messages of up to 10, at most @window
// unanswered; resolves with every entry's result.
async function publish(c, entries, window = 50) {
  const results = new Array(entries.length);
  const pending = new Map();
  let next = 0;
  let refs = 0;
  const prev = c.onMessage;
  const finished = new Promise((resolve, reject) => {
    const pump = () => {
      while (pending.size < window && next < entries.length) {
        const ref = `p${++refs}`;
        const batch = entries.slice(next, next + 10);
        pending.set(ref, next);
        next += batch.length;
        c.send({ type: 'publish', ref, entries: batch });
      }
      if (pending.size === 0) resolve(results);
    };
    c.onMessage = (m) => {
      if (prev) prev(m);
      if (m.type === 'error' && pending.has(m.ref)) reject(new Error(`publish: ${m.message}`));
      if (m.type !== 'published' || !pending.has(m.ref)) return;
      const at = pending.get(m.ref);
      pending.delete(m.ref);
      m.entries.forEach((r, i) => { results[at + i] = r; });
      pump();
    };
    pump();
  });
  try {
    return await finished;
  } finally {
    c.onMessage = prev;
    // the replies were consumed here
    c.msgs = c.msgs.filter((m) => m.type !== 'published');
  }
}

async function publishOk(c, entries) {
  const res = await publish(c, entries);
  for (const r of res) assert.ok(r.EventId, `entry published: ${JSON.stringify(r)}`);
  return res;
}

function run(cmd, args, env = {}) {
  return new Promise((resolve) => {
    execFile(cmd, args, { env: { ...process.env, ...env }, timeout: 60000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (err.code ?? 1) : 0, stdout, stderr, err });
    });
  });
}

function have(cmd) {
  return (process.env.PATH || '').split(':').some((d) => {
    try { fs.accessSync(path.join(d, cmd), fs.constants.X_OK); return true; } catch { return false; }
  });
}

function assertIncreasing(seqs, what) {
  for (let i = 1; i < seqs.length; i++) {
    assert.ok(seqs[i] > seqs[i - 1], `${what}: sequence numbers increase (${seqs})`);
  }
}

// bucketbridge-tail as a child; lines() are its stdout lines so far.
class Tail {
  constructor(args) {
    this.out = '';
    this.err = '';
    this.proc = spawn(TAIL, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stdout.on('data', (d) => { this.out += d; });
    this.proc.stderr.on('data', (d) => { this.err += d; });
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, sig) => resolve(code ?? sig)));
  }

  lines() {
    return this.out.split('\n').filter((l) => l !== '');
  }

  async waitLines(n, timeoutMs = 30000) {
    const deadline = Date.now() + timeoutMs;
    while (this.lines().length < n) {
      if (Date.now() > deadline) {
        throw new Error(`tail printed ${this.lines().length} lines, wanted ${n}:\n${this.out}\n` +
                        `stderr:\n${this.err}`);
      }
      await sleep(20);
    }
    return this.lines();
  }

  async interrupt() {
    this.proc.kill('SIGINT');
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 10000);
    const code = await this.exited;
    clearTimeout(t);
    return code;
  }
}

// ---- the protocol, groups and bucketbridge-tail ------------------------------

const CONFIG = {
  eventbridge: { retry_time_scale: 0.001 },
  rules: [
    { Name: 'work', EventPattern: { source: ['test.work'] },
      Targets: [{ Id: 'w', Arn: ARN('workers') }] },
    { Name: 'vis', EventPattern: { source: ['test.vis'] },
      Targets: [{ Id: 'v', Arn: ARN('vis') }] },
    { Name: 'kill', EventPattern: { source: ['test.kill'] },
      Targets: [{ Id: 'k', Arn: ARN('kill') }] },
    { Name: 'dlq', EventPattern: { source: ['test.dlq'] },
      Targets: [{ Id: 'd', Arn: ARN('dlqtest'), RetryPolicy: { MaximumRetryAttempts: 1 },
                  DeadLetterConfig: { Arn: ARN('dlqtest-dlq') } }] },
    { Name: 'tailgroup', EventPattern: { source: ['test.tailgroup'] },
      Targets: [{ Id: 't', Arn: ARN('tailgroup') }] },
  ],
};

describe('websocket endpoint', () => {
  let d;
  let pub; // a connection that publishes
  const clients = [];
  const open = async (query, opts) => {
    const c = await Client.open(d.url(query), opts);
    clients.push(c);
    return c;
  };

  before(async () => {
    d = await new Daemon(CONFIG).start();
    pub = await open();
  });

  after(async () => {
    for (const c of clients) c.ws.terminate();
    if (d) {
      await d.stop();
      d.cleanup();
    }
  });

  test('a pattern subscription gets exactly the matching S3 events, with sequence numbers',
    async (t) => {
      if (!have('aws')) {
        t.skip('the aws CLI is not installed');
        return;
      }
      const c = await open();
      const pattern = {
        source: ['aws.s3'], 'detail-type': ['Object Created'],
        detail: { bucket: { name: ['my-raw-images'] }, object: { key: [{ suffix: '.jpg' }] } },
      };
      c.send({ type: 'subscribe', id: 'jpg', pattern, from: 'latest' });
      c.send({ type: 'subscribe', id: 'all', pattern: null });
      const s1 = await c.take((m) => m.type === 'subscribed' && m.id === 'jpg');
      const s2 = await c.take((m) => m.type === 'subscribed' && m.id === 'all');
      assert.equal(s1.after, s1.last_seq);
      assert.equal(s2.after, s1.after);

      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bb-it-ws-up-'));
      fs.mkdirSync(path.join(dir, 'up'));
      for (const f of ['a.jpg', 'b.jpg', 'c.txt']) fs.writeFileSync(path.join(dir, 'up', f), `${f}\n`);
      fs.writeFileSync(path.join(dir, 'x.jpg'), 'x\n');
      const env = {
        AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_DEFAULT_REGION: 'us-east-1',
        AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null', AWS_PAGER: '',
      };
      const ep = ['--endpoint-url', `http://127.0.0.1:${d.port}`];
      for (const args of [
        ['s3', 'cp', '--recursive', path.join(dir, 'up'), 's3://my-raw-images/pics/'],
        ['s3', 'cp', path.join(dir, 'x.jpg'), 's3://my-thumbnails/x.jpg'],
        ['s3', 'rm', 's3://my-raw-images/pics/a.jpg'],
      ]) {
        const r = await run('aws', [...ep, ...args], env);
        assert.equal(r.code, 0, `aws ${args.join(' ')}: ${r.stderr}`);
      }
      fs.rmSync(dir, { recursive: true, force: true });

      // five changes: 3 created in raw, 1 created in thumbnails, 1 deleted
      await c.until(() => c.events('all').length >= 5, 20000, 'all five events');
      await sleep(300);
      const all = c.events('all');
      const jpg = c.events('jpg');
      assert.equal(all.length, 5);
      assertIncreasing(all.map((m) => m.seq), 'all');
      assert.equal(all[0].seq, s2.after + 1, 'the stream starts right after "after"');
      assert.deepEqual(jpg.map((m) => m.event.detail.object.key).sort(), ['pics/a.jpg', 'pics/b.jpg']);
      assertIncreasing(jpg.map((m) => m.seq), 'jpg');
      for (const m of jpg) {
        assert.equal(m.event.source, 'aws.s3');
        assert.equal(m.event['detail-type'], 'Object Created');
        const same = all.find((a) => a.seq === m.seq);
        assert.ok(same, `seq ${m.seq} is also in the unfiltered stream`);
        assert.equal(same.event.id, m.event.id);
      }
      const st = await c.status();
      assert.equal(st.last_seq, all[all.length - 1].seq);
      await c.close();
    });

  test('reconnecting with "from" = the last seq gets what was missed, nothing twice', async () => {
    const pattern = { source: ['test.resume'] };
    let c = await open();
    c.send({ type: 'subscribe', id: 'r', pattern });
    await c.takeType('subscribed');
    await publishOk(pub, [1, 2, 3, 4, 5].map((i) => entry('test.resume', { i })));
    await c.until(() => c.events('r').length === 5, 15000, 'five events');
    const first = c.events('r');
    const last = first[4].seq;
    await c.close();

    await publishOk(pub, [6, 7, 8, 9, 10].map((i) => entry('test.resume', { i })));
    await publishOk(pub, [entry('test.other', { i: 0 })]);
    c = await open();
    c.send({ type: 'subscribe', id: 'r', pattern, from: last });
    const sub = await c.takeType('subscribed');
    assert.equal(sub.after, last);
    await c.until(() => c.events('r').length >= 5, 15000, 'the five missed events');
    await publishOk(pub, [entry('test.resume', { i: 11 })]);
    await c.until(() => c.events('r').length >= 6, 15000, 'a live event after the catch-up');
    await sleep(300);
    const got = c.events('r');
    assert.deepEqual(got.map((m) => m.event.detail.i), [6, 7, 8, 9, 10, 11]);
    assert.ok(got[0].seq > last);
    assertIncreasing(got.map((m) => m.seq), 'resumed');
    assert.equal(new Set([...first, ...got].map((m) => m.seq)).size, 11, 'nothing twice');

    // "earliest" replays the journal; a time before everything does too
    c.send({ type: 'subscribe', id: 'e', pattern, from: 'earliest' });
    c.send({ type: 'subscribe', id: 't', pattern, from: '2000-01-01T00:00:00Z' });
    await c.until(() => c.events('e').length === 11 && c.events('t').length === 11, 15000,
      'replays from earliest and from a time');
    assert.deepEqual(c.events('e').map((m) => m.seq), [...first, ...got].map((m) => m.seq));
    await c.close();
  });

  test('two members of a group share 1,000 events: none lost, none delivered to both', async () => {
    const a = await open();
    const b = await open();
    const got = { a: [], b: [] };
    const errors = [];
    for (const [name, c] of [['a', a], ['b', b]]) {
      c.onMessage = (m) => {
        if (m.type === 'delivery') {
          assert.equal(m.group, 'workers');
          assert.equal(m.rule, 'work');
          got[name].push(m.seq);
          c.send({ type: 'ack', delivery: m.delivery });
        } else if (m.type === 'error') {
          errors.push(m);
        }
      };
      c.send({ type: 'join', group: 'workers', credit: 10, visibility_timeout: 60 });
      const j = await c.takeType('joined');
      assert.equal(j.group, 'workers');
      assert.equal(j.credit, 10);
    }
    const N = 1000;
    await publishOk(pub, Array.from({ length: N }, (_, i) => entry('test.work', { i })));
    try {
      await a.until(() => got.a.length + got.b.length >= N, 120000, '1,000 deliveries');
    } catch (e) {
      const st = await pub.status();
      throw new Error(`${got.a.length} + ${got.b.length} delivered, errors ` +
                      `${JSON.stringify(errors)}, status ${JSON.stringify(st.groups)}`);
    }
    await sleep(1000); // anything redelivered would show up now
    assert.deepEqual(errors, []);
    assert.equal(got.a.length + got.b.length, N, 'each event delivered once');
    assert.ok(got.a.length > 0 && got.b.length > 0,
      `both members got work (${got.a.length} / ${got.b.length})`);
    const both = got.a.filter((s) => got.b.includes(s));
    assert.deepEqual(both, [], 'no event went to both members');
    assert.equal(new Set([...got.a, ...got.b]).size, N, 'no event lost');
    const st = await a.status();
    const g = st.groups.find((x) => x.name === 'workers');
    assert.equal(g.depth, 0);
    assert.equal(g.in_flight, 0);
    assert.equal(g.acked, N);
    assert.equal(g.members, 2);
    await a.close();
    await b.close();
  });

  test('a member that never acks gets the event again after the visibility timeout', async () => {
    const c = await open();
    c.send({ type: 'join', group: 'vis', credit: 1, visibility_timeout: 1 });
    await c.takeType('joined');
    await publishOk(pub, [entry('test.vis', { n: 1 })]);
    const d1 = await c.takeType('delivery');
    const t1 = Date.now();
    assert.equal(d1.attempt, 1);
    const d2 = await c.takeType('delivery', 15000);
    const waited = Date.now() - t1;
    assert.equal(d2.seq, d1.seq);
    assert.equal(d2.attempt, 2);
    assert.ok(waited >= 800, `redelivered after the timeout, not before (${waited} ms)`);
    // the old delivery can't be acked any more; the new one can
    c.send({ type: 'ack', delivery: d2.delivery });
    await sleep(1500);
    assert.equal(c.msgs.filter((m) => m.type === 'delivery').length, 0, 'acked: no more redelivery');
    assert.equal(c.msgs.filter((m) => m.type === 'error').length, 0);
    await c.close();
  });

  test('a member killed mid-event: the event goes to the other member', async () => {
    const a = await open();
    a.send({ type: 'join', group: 'kill', credit: 1, visibility_timeout: 300 });
    await a.takeType('joined');
    await publishOk(pub, [entry('test.kill', { n: 1 })]);
    const da = await a.takeType('delivery');
    const b = await open();
    b.send({ type: 'join', group: 'kill', credit: 1, visibility_timeout: 300 });
    await b.takeType('joined');
    await sleep(200);
    assert.equal(b.msgs.filter((m) => m.type === 'delivery').length, 0, 'held by a');
    a.ws.terminate(); // no close frame: like a crash
    const db = await b.takeType('delivery', 15000);
    assert.equal(db.seq, da.seq);
    assert.equal(db.attempt, 1, 'a member going away does not count as an attempt');
    b.send({ type: 'ack', delivery: db.delivery });
    const st = await b.status();
    const g = st.groups.find((x) => x.name === 'kill');
    assert.equal(g.depth + g.in_flight, 0);
    await b.close();
  });

  test('nacked events are retried, then dead-lettered; permanent nacks go at once', async () => {
    const c = await open();
    const attempts = {};
    c.onMessage = (m) => {
      if (m.type !== 'delivery') return;
      const k = m.event.detail.k;
      attempts[k] = (attempts[k] || 0) + 1;
      assert.equal(m.attempt, attempts[k]);
      c.send({ type: 'nack', delivery: m.delivery, error: `no ${k}`, permanent: k === 'perm' });
    };
    c.send({ type: 'join', group: 'dlqtest', credit: 2, visibility_timeout: 30 });
    await c.takeType('joined');
    await publishOk(pub, [entry('test.dlq', { k: 'retry' }), entry('test.dlq', { k: 'perm' })]);
    let list;
    const deadline = Date.now() + 30000;
    for (;;) {
      const r = await httpGet(d.port, `/_bucketbridge/dlq?arn=${encodeURIComponent(ARN('dlqtest-dlq'))}`);
      assert.equal(r.status, 200, r.body);
      list = JSON.parse(r.body).Messages;
      if (list.length >= 2 || Date.now() > deadline) break;
      await sleep(100);
    }
    assert.equal(list.length, 2, JSON.stringify(list));
    assert.deepEqual(attempts, { retry: 2, perm: 1 }, 'MaximumRetryAttempts 1: two attempts');
    for (const m of list) {
      assert.equal(m.MessageAttributes.ERROR_CODE, 'ERROR_FROM_TARGET');
      assert.equal(m.MessageAttributes.ERROR_MESSAGE, `no ${JSON.parse(m.Body).detail.k}`);
    }
    const st = await c.status();
    const q = st.dead_letter_queues.find((x) => x.arn === ARN('dlqtest-dlq'));
    assert.equal(q.depth, 2);
    await c.close();
  });

  test('a page from a foreign Origin is refused with 403 and no upgrade', async () => {
    for (const origin of ['http://evil.example', 'null', 'https://127.0.0.1.evil.example']) {
      await assert.rejects(Client.open(d.url(), { origin }), (e) => e.status === 403,
        `Origin: ${origin}`);
    }
    const c = await open('?token=test', { origin: `http://localhost:${d.port}` });
    await c.status();
    await c.close();
  });

  test('a wrong or missing token is closed before any message', async () => {
    for (const q of ['?token=wrong', '']) {
      let c;
      try {
        c = await Client.open(d.url(q));
      } catch {
        continue; // refused at the handshake: also fine
      }
      c.send({ type: 'status' });
      await c.until(() => c.closed, 15000, 'close');
      assert.deepEqual(c.msgs, [], `${q || 'no token'}: nothing answered`);
    }
  });

  test('malformed JSON, unknown types and bad fields are answered with an error', async () => {
    const c = await open();
    const cases = [
      ['{not json', null, /not valid JSON/],
      [{ type: 'frobnicate' }, null, /unknown message type/],
      [{ id: 'x' }, null, /needs a "type"/],
      [[1, 2], null, /must be a JSON object/],
      [{ type: 'subscribe', id: 'p', pattern: { source: 'not-an-array' } }, 'p', /invalid event pattern/],
      [{ type: 'subscribe', id: 'f', from: 'yesterday' }, 'f', /"from" must be/],
      [{ type: 'unsubscribe', id: 'nope' }, 'nope', /no such subscription/],
      [{ type: 'ack', delivery: 424242 }, '424242', /not held by this member/],
      [{ type: 'ack' }, null, /"delivery"/],
      [{ type: 'join', group: 'bad name!' }, null, /"group" must be/],
      [{ type: 'join', group: 'g', credit: 0 }, 'g', /"credit" must be/],
      [{ type: 'publish', ref: 'r0', entries: [] }, 'r0', /1 to 10/],
    ];
    for (const [msg, ref, re] of cases) {
      c.send(msg);
      const e = await c.takeType('error');
      assert.match(e.message, re, JSON.stringify(msg));
      assert.equal(e.ref ?? null, ref, `ref of ${JSON.stringify(msg)}`);
    }
    c.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    assert.match((await c.takeType('error')).message, /binary/);
    // a bad entry fails alone, as in PutEvents
    c.send({ type: 'publish', ref: 'r1', entries: [entry('test.x', {}), { Source: 'test.x' }] });
    const p = await c.takeType('published');
    assert.equal(p.ref, 'r1');
    assert.ok(p.entries[0].EventId);
    assert.ok(p.entries[1].ErrorCode);
    // the connection is still fine
    assert.equal((await c.status()).type, 'status');
    assert.equal(c.closed, null);
    await c.close();
  });

  test('16 subscriptions per connection; the 17th is refused', async () => {
    const c = await open();
    for (let i = 0; i < 16; i++) c.send({ type: 'subscribe', id: `s${i}` });
    for (let i = 0; i < 16; i++) await c.take((m) => m.type === 'subscribed' && m.id === `s${i}`);
    c.send({ type: 'subscribe', id: 's16' });
    const e = await c.takeType('error');
    assert.equal(e.ref, 's16');
    assert.match(e.message, /too many subscriptions/);
    c.send({ type: 'unsubscribe', id: 's0' });
    c.send({ type: 'subscribe', id: 's16' });
    await c.take((m) => m.type === 'subscribed' && m.id === 's16');
    await c.close();
  });

  test('256 KiB is the largest message; a larger one closes with 1009', async () => {
    const c = await open();
    const body = '{"type":"status"}';
    c.send(body + ' '.repeat(256 * 1024 - body.length));
    await c.takeType('status');
    c.send(body + ' '.repeat(256 * 1024 - body.length + 1));
    await c.until(() => c.closed, 15000, 'close');
    assert.equal(c.closed.code, 1009);
    const c2 = await open();
    c2.send('x'.repeat(1024 * 1024));
    await c2.until(() => c2.closed, 15000, 'close');
    assert.equal(c2.closed.code, 1009);
  });

  test('status and subscribe_status', async () => {
    const c = await open();
    const st = await c.status();
    assert.equal(typeof st.last_seq, 'number');
    assert.ok(st.connections >= 2);
    for (const name of ['workers', 'vis', 'kill', 'dlqtest', 'tailgroup']) {
      assert.ok(st.groups.some((g) => g.name === name), `group ${name} listed`);
    }
    c.send({ type: 'subscribe_status', interval_ms: 200 });
    await c.until(() => c.msgs.filter((m) => m.type === 'status').length >= 3, 3000, 'three pushes');
    await c.close();
  });

  test('bucketbridge-tail --since earliest prints the events, one JSON line each', async (t) => {
    if (!TAIL) {
      t.skip('BB_TAIL is not set (bucketbridge-tail not built)');
      return;
    }
    await publishOk(pub, [1, 2, 3].map((i) => entry('test.tail', { i })));
    const tail = new Tail(['--endpoint', `ws://127.0.0.1:${d.port}`, '--token', 'test',
      '--pattern', '{"source":["test.tail"]}', '--since', 'earliest']);
    await tail.waitLines(3);
    await publishOk(pub, [4, 5].map((i) => entry('test.tail', { i })));
    const lines = await tail.waitLines(5);
    await sleep(300);
    assert.equal(tail.lines().length, 5, tail.out);
    const evs = lines.map((l) => JSON.parse(l));
    assert.deepEqual(evs.map((e) => e.detail.i), [1, 2, 3, 4, 5]);
    assert.ok(evs.every((e) => e.source === 'test.tail' && e['detail-type'] === 'test'));
    assert.equal(await tail.interrupt(), 0, tail.err);
  });

  test('bucketbridge-tail --group acks what it prints (pretty format)', async (t) => {
    if (!TAIL) {
      t.skip('BB_TAIL is not set (bucketbridge-tail not built)');
      return;
    }
    const tail = new Tail(['--endpoint', `ws://127.0.0.1:${d.port}`, '--group', 'tailgroup',
      '--credit', '2', '--format', 'pretty']);
    const c = await open();
    for (let i = 0; i < 50; i++) {
      const g = (await c.status()).groups.find((x) => x.name === 'tailgroup');
      if (g.members === 1) break;
      await sleep(100);
    }
    await publishOk(pub, [1, 2, 3].map((i) => entry('test.tailgroup', { key: `k${i}` })));
    const lines = await tail.waitLines(3);
    for (const l of lines) assert.match(l, /^#\d+ \[tailgroup attempt 1\] \S+ test\.tailgroup "test" \{"key":"k\d"\}$/);
    let g;
    for (let i = 0; i < 50; i++) {
      g = (await c.status()).groups.find((x) => x.name === 'tailgroup');
      if (g.acked === 3) break;
      await sleep(100);
    }
    assert.equal(g.acked, 3);
    assert.equal(g.in_flight, 0);
    assert.equal(await tail.interrupt(), 0, tail.err);
    await c.close();
  });

  test('bucketbridge-tail rides out a daemon restart: resumes, nothing twice', async (t) => {
    if (!TAIL) {
      t.skip('BB_TAIL is not set (bucketbridge-tail not built)');
      return;
    }
    const since = (await pub.status()).last_seq;
    const tail = new Tail(['--endpoint', `ws://127.0.0.1:${d.port}`, '--token', 'test',
      '--pattern', '{"source":["test.restart"]}', '--since', String(since)]);
    await publishOk(pub, [entry('test.restart', { i: 1 })]);
    await tail.waitLines(1);
    assert.equal(await d.stop(), 0, 'daemon stopped cleanly');
    await d.start();
    pub = await open();
    await publishOk(pub, [2, 3].map((i) => entry('test.restart', { i })));
    const lines = await tail.waitLines(3, 40000);
    await sleep(500);
    assert.deepEqual(tail.lines().map((l) => JSON.parse(l).detail.i), [1, 2, 3], tail.err);
    assert.equal(lines.length, 3);
    assert.equal(await tail.interrupt(), 0, tail.err);
  });

  test('the daemon is healthy after all of it', async () => {
    const r = await httpGet(d.port, '/_bucketbridge/health');
    assert.equal(r.status, 200);
    assert.equal(JSON.parse(r.body).status, 'ok');
    for (const c of clients) c.ws.terminate();
    clients.length = 0;
    assert.equal(await d.stop(), 0, `clean exit on SIGTERM:\n${d.log(30)}`);
  });
});

// ---- a reader that stops reading ---------------------------------------------

describe('a subscriber that stops reading', () => {
  const FLOOD = 50000;
  const WARM = 2000;
  let d;
  const seen = { lagged: null };

  before(async () => {
    // ASan's quarantine would hide the daemon's own memory use
    const asan = process.env.ASAN_OPTIONS ? `${process.env.ASAN_OPTIONS}:` : '';
    d = await new Daemon({ eventbridge: { retry_time_scale: 0.001 }, rules: [] },
      { ASAN_OPTIONS: `${asan}quarantine_size_mb=4:thread_local_quarantine_size_kb=64` }).start();
  });

  after(async () => {
    if (d) {
      await d.stop();
      d.cleanup();
    }
  });

  test(`50,000 events: memory stays bounded, others keep receiving, the reader catches up`,
    async () => {
      const p = await Client.open(d.url());
      const q = await Client.open(d.url());
      const pub = await Client.open(d.url());
      const pSeqs = [];
      let qCount = 0;
      let qLast = 0;
      for (const c of [p, q]) c.send({ type: 'subscribe', id: 'all', pattern: { source: ['test.flood'] } });
      await p.takeType('subscribed');
      await q.takeType('subscribed');
      p.onMessage = (m) => {
        if (m.type === 'event') pSeqs.push(m.seq);
        if (m.type === 'lagged') seen.lagged = m;
      };
      let qLagged = 0;
      q.onMessage = (m) => {
        if (m.type === 'lagged') {
          // a reader slower than a burst lags too; it resumes as documented
          assert.equal(m.resume_from, qLast);
          qLagged++;
          q.send({ type: 'subscribe', id: 'all', pattern: { source: ['test.flood'] }, from: qLast });
        }
        if (m.type !== 'event') return;
        assert.equal(m.seq, qLast + 1, 'q sees every event in order, once');
        qLast = m.seq;
        qCount++;
      };
      const detail = { pad: 'x'.repeat(200) };
      // warm up: the ring of recent events and SQLite's cache fill
      await publishOk(pub, Array.from({ length: WARM }, (_, i) => entry('test.flood', { i, ...detail })));
      await q.until(() => qCount === WARM, 30000, 'warm-up events at q');
      await p.until(() => pSeqs.length === WARM, 30000, 'warm-up events at p');
      p.msgs = [];
      q.msgs = [];
      for (const c of [p, q]) {
        const keep = c.onMessage;
        c.onMessage = (m) => {
          keep(m);
          if (m.type === 'event') c.msgs.pop(); // counted above; don't hoard 50,000 events
        };
      }
      const rss0 = d.rssKiB();

      p.ws._socket.pause();
      let rssMax = rss0;
      const sampler = setInterval(() => { rssMax = Math.max(rssMax, d.rssKiB()); }, 100);
      const t0 = Date.now();
      try {
        const entries = Array.from({ length: FLOOD }, (_, i) => entry('test.flood', { i, ...detail }));
        await publishOk(pub, entries);
        const tPub = Date.now() - t0;
        await q.until(() => qCount === WARM + FLOOD, 180000, 'every event at the reading client');
        console.log(`# published ${FLOOD} in ${tPub} ms; q had all after ${Date.now() - t0} ms ` +
                    `(lagged ${qLagged} times); p had ${pSeqs.length}`);
      } finally {
        clearInterval(sampler);
      }
      rssMax = Math.max(rssMax, d.rssKiB());
      const growthMiB = (rssMax - rss0) / 1024;
      console.log(`# daemon RSS ${rss0} KiB -> max ${rssMax} KiB (+${growthMiB.toFixed(1)} MiB)`);
      assert.ok(growthMiB < 64, `RSS grew ${growthMiB.toFixed(1)} MiB while p read nothing`);

      p.ws._socket.resume();
      const lastSeq = WARM + FLOOD;
      // told it lagged: subscribe again from resume_from (the test below
      // checks that the notice came); either way p ends up with everything
      const deadline = Date.now() + 180000;
      let resumed = false;
      while (pSeqs[pSeqs.length - 1] !== lastSeq) {
        if (Date.now() > deadline) throw new Error(`p stuck at ${pSeqs[pSeqs.length - 1]}`);
        if (p.closed) throw new Error(`p closed: ${JSON.stringify(p.closed)}`);
        if (seen.lagged && !resumed) {
          assert.equal(seen.lagged.sub, 'all');
          assert.equal(seen.lagged.resume_from, pSeqs[pSeqs.length - 1],
            'resume_from is the last event sent before the notice');
          p.send({ type: 'subscribe', id: 'all', pattern: { source: ['test.flood'] },
                   from: seen.lagged.resume_from });
          resumed = true;
        }
        await sleep(50);
      }
      await sleep(300);
      assert.equal(pSeqs.length, lastSeq, 'p got every event');
      assert.equal(new Set(pSeqs).size, lastSeq, 'p got nothing twice');
      assertIncreasing(pSeqs.slice(0, 100), 'p');
      const r = await httpGet(d.port, '/_bucketbridge/health');
      assert.equal(r.status, 200);
      for (const c of [p, q, pub]) c.ws.terminate();
    });

  // A subscription whose pattern matches every event is live (and so able
  // to lag) as soon as it has caught up.
  test('... and is told it lagged once it reads again', () => {
    assert.ok(seen.lagged, 'a "lagged" message arrived');
    assert.equal(seen.lagged.type, 'lagged');
  });
});
