// SPDX-License-Identifier: MIT
// WebSocket over TLS (wss://<https port>/_bucketbridge/events) against the
// real daemon, with the npm `ws` client and the AWS SDK v3 from
// tests/integration/js, both checking the daemon's generated certificate
// (its tls_cert, used as the only CA): a pattern subscription that gets an
// object PUT over HTTPS, a consumer group join/ack, the Origin and token
// checks (the same answers as ws://), the 1009 close for an oversized
// message, 1 MiB published and received, 2,000 events of 5 KiB to a reader
// that stops reading and then resumes (more than the kernel and the bridge
// buffer hold, so the bridge's flow control has to work), clients dropped
// mid-stream, raw TLS clients that break the protocol, bucketbridge-tail
// over wss with the right, no and a wrong CA (BB_TAIL), and a clean stop
// with connections open and no sanitizer report; bucketbridge-cli with
// --endpoint https://... (HTTP over TLS, events put/wait/tail over wss) with
// the right, no and a wrong CA (BB_CLI), and bucketbridge-logger with
// AWS_ENDPOINT_URL=https://... recording an upload (BB_LOGGER). Run: node
// test_wss.mjs; exits 77 (ctest SKIP) when something is missing.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import https from 'node:https';
import tls from 'node:tls';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SKIP = 77;
const here = path.dirname(fileURLToPath(import.meta.url));
const jsRequire = createRequire(path.join(here, 'js', 'package.json'));

let WebSocket, S3Client, PutObjectCommand, NodeHttpHandler;
try {
  WebSocket = jsRequire('ws');
  ({ S3Client, PutObjectCommand } = jsRequire('@aws-sdk/client-s3'));
  ({ NodeHttpHandler } = jsRequire('@smithy/node-http-handler'));
} catch (e) {
  console.log(`SKIP: npm packages ws / @aws-sdk/client-s3 are missing (${e.message}); run: ` +
              'npm install --prefix tests/integration/js');
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
const CLI = process.env.BB_CLI || '';
const LOGGER = process.env.BB_LOGGER || '';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const ARN = (name) => `arn:aws:sqs:us-east-1:000000000000:${name}`;

// ---- harness ---------------------------------------------------------------

// One daemon on kernel-picked ports (plain and TLS), found through its
// ready file.
class Daemon {
  constructor(config) {
    this.base = fs.mkdtempSync(path.join(os.tmpdir(), 'bb-it-wss-'));
    this.dataDir = path.join(this.base, 'data');
    fs.mkdirSync(this.dataDir);
    this.cfgPath = path.join(this.base, 'config.json');
    fs.writeFileSync(this.cfgPath, JSON.stringify(config));
    this.readyPath = path.join(this.base, 'ready.json');
    this.logPath = path.join(this.base, 'stderr.log');
  }

  log(lines = 60) {
    try {
      return fs.readFileSync(this.logPath, 'utf8').split('\n').slice(-lines).join('\n');
    } catch { return ''; }
  }

  async start() {
    const fd = fs.openSync(this.logPath, 'a');
    this.proc = spawn(DAEMON, ['--listen', '127.0.0.1:0', '--data-dir', this.dataDir,
      '--config', this.cfgPath, '--no-consumers', '--ready-file', this.readyPath,
      '--log-level', process.env.BB_IT_LOG_LEVEL || 'info'], { stdio: ['ignore', fd, fd] });
    fs.closeSync(fd);
    this.exitCode = undefined;
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, sig) => {
      this.exitCode = code ?? sig;
      resolve(this.exitCode);
    }));
    const deadline = Date.now() + 30000;
    while (Date.now() < deadline) {
      if (this.exitCode !== undefined) {
        throw new Error(`daemon exited (${this.exitCode}) before it was ready:\n${this.log()}`);
      }
      if (fs.existsSync(this.readyPath)) {
        this.ready = JSON.parse(fs.readFileSync(this.readyPath, 'utf8'));
        if (!this.ready.https_port) {
          throw new Error(`the daemon has no https listener:\n${this.log()}`);
        }
        this.ca = fs.readFileSync(this.ready.tls_cert);
        return this;
      }
      await sleep(25);
    }
    this.proc.kill('SIGKILL');
    throw new Error(`no ready file after 30 s:\n${this.log()}`);
  }

  // SIGTERM to our own child; SIGKILL if it hangs.
  async stop() {
    if (!this.proc || this.exitCode !== undefined) return this.exitCode;
    this.proc.kill('SIGTERM');
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 20000);
    const code = await this.exited;
    clearTimeout(t);
    return code;
  }

  wss(query = '?token=test') {
    return `wss://127.0.0.1:${this.ready.https_port}/_bucketbridge/events${query}`;
  }

  ws(query = '?token=test') {
    return `ws://127.0.0.1:${this.ready.port}/_bucketbridge/events${query}`;
  }

  // GET over HTTPS, checking the certificate.
  httpsGet(p) {
    return new Promise((resolve) => {
      const req = https.get({ host: '127.0.0.1', port: this.ready.https_port, path: p, ca: this.ca,
        timeout: 10000 }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString() }));
      });
      req.on('error', (e) => resolve({ status: null, body: String(e) }));
      req.on('timeout', () => { req.destroy(); resolve({ status: null, body: 'timeout' }); });
    });
  }

  cleanup() {
    if (!process.env.BB_IT_KEEP) fs.rmSync(this.base, { recursive: true, force: true });
  }
}

// A WebSocket with its parsed messages and waits over them.
class Client {
  // Resolves with an open client; rejects with .status set when the
  // daemon answered the upgrade with an HTTP status instead.
  static open(url, opts = {}, protocols = []) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, protocols, { maxPayload: 64 * 1024 * 1024, ...opts });
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
      this.msgs.push(JSON.parse(data.toString()));
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

  // Resolves with cond()'s first truthy value, checked on every message
  // and every 50 ms.
  until(cond, timeoutMs = 20000, what = 'a condition') {
    return new Promise((resolve, reject) => {
      const check = () => {
        let v;
        try { v = cond(); } catch (e) { done(); reject(e); return; }
        if (v) { done(); resolve(v); }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; ` +
                         `closed=${JSON.stringify(this.closed)} last messages: ` +
                         JSON.stringify(this.msgs.slice(-3)).slice(0, 1500)));
      }, timeoutMs);
      const poll = setInterval(check, 50);
      const done = () => { clearTimeout(timer); clearInterval(poll); this.wakers.delete(check); };
      this.wakers.add(check);
      check();
    });
  }

  take(pred, timeoutMs, what = 'a message') {
    return this.until(() => {
      const i = this.msgs.findIndex(pred);
      return i < 0 ? null : this.msgs.splice(i, 1)[0];
    }, timeoutMs, what);
  }

  takeType(type, timeoutMs) {
    return this.take((m) => m.type === type, timeoutMs, `"${type}"`);
  }

  events(sub) {
    return this.msgs.filter((m) => m.type === 'event' && m.sub === sub);
  }

  async status() {
    this.send({ type: 'status' });
    return this.takeType('status');
  }

  close() {
    this.ws.close();
    return this.until(() => this.closed, 20000, 'the close');
  }
}

// Publishes @entries over @c, ten per message, every message sent at once
// (no waiting for answers); resolves with the results in order.
async function publishAll(c, entries) {
  const refs = [];
  for (let i = 0; i < entries.length; i += 10) {
    const ref = `p${i}`;
    refs.push(ref);
    c.send({ type: 'publish', ref, entries: entries.slice(i, i + 10) });
  }
  const results = [];
  for (const ref of refs) {
    const m = await c.take((x) => (x.type === 'published' || x.type === 'error') && x.ref === ref,
      60000, `the answer to publish ${ref}`);
    assert.equal(m.type, 'published', `publish ${ref}: ${JSON.stringify(m).slice(0, 300)}`);
    results.push(...m.entries);
  }
  for (const r of results) assert.ok(r.EventId, `entry published: ${JSON.stringify(r)}`);
  return results;
}

// Asks @c for its status every 100 ms until ok(status); returns that status.
async function pollStatus(c, ok, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const st = await c.status();
    if (ok(st)) return st;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(st)}`);
    await sleep(100);
  }
}

// bucketbridge-tail as our child: its stdout lines and stderr so far.
class TailProc {
  constructor(args, bin = TAIL, env = process.env) {
    this.out = '';
    this.err = '';
    this.proc = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    this.proc.stdout.on('data', (b) => { this.out += b; });
    this.proc.stderr.on('data', (b) => { this.err += b; });
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
      await sleep(50);
    }
    return this.lines();
  }

  async waitErr(re, timeoutMs) {
    const deadline = Date.now() + timeoutMs;
    while (!re.test(this.err)) {
      if (Date.now() > deadline) throw new Error(`tail's stderr never matched ${re}:\n${this.err}`);
      await sleep(50);
    }
  }

  // SIGINT to our own child (it exits 0); SIGKILL if it hangs.
  async interrupt() {
    this.proc.kill('SIGINT');
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 10000);
    const code = await this.exited;
    clearTimeout(t);
    return code;
  }
}

// bucketbridge-cli, run to its end: exit code, stdout, stderr, and how long it took.
function runCli(args, timeoutMs = 40000) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const p = spawn(CLI, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (b) => { out += b; });
    p.stderr.on('data', (b) => { err += b; });
    const kill = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('exit', (code, sig) => {
      clearTimeout(kill);
      resolve({ code: code ?? sig, out, err, ms: Date.now() - t0 });
    });
  });
}

// Another self-signed certificate, a CA the daemon's does not chain to; null
// when the openssl command is missing.
function otherCaFor(d) {
  const otherCa = path.join(d.base, 'other-ca.pem');
  if (fs.existsSync(otherCa)) return otherCa;
  const gen = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt',
    'ec_paramgen_curve:P-256', '-nodes', '-keyout', path.join(d.base, 'other-key.pem'),
    '-out', otherCa, '-subj', '/CN=localhost', '-days', '1'], { stdio: 'ignore' });
  return gen.status === 0 ? otherCa : null;
}

function entry(source, detail) {
  return { Source: source, DetailType: 'wss test', Detail: JSON.stringify(detail) };
}

function assertIncreasing(seqs, what) {
  for (let i = 1; i < seqs.length; i++) {
    assert.ok(seqs[i] > seqs[i - 1], `${what}: sequence numbers increase at ${i}`);
  }
}

// The same connection attempt on the plain and the TLS port: an open
// connection ('open'), or the HTTP status that refused it.
async function outcome(url, opts, protocols) {
  try {
    const c = await Client.open(url, opts, protocols);
    c.ws.terminate();
    return 'open';
  } catch (e) {
    return e.status ?? `error: ${e.message}`;
  }
}

// ---- tests -------------------------------------------------------------------

const CONFIG = {
  eventbridge: { retry_time_scale: 0.001 },
  rules: [
    { Name: 'wssgroup', EventPattern: { source: ['test.wss.group'] },
      Targets: [{ Id: 'g', Arn: ARN('wssgroup') }] },
    { Name: 'wsslogger', EventPattern: { source: ['aws.s3'],
      detail: { bucket: { name: ['my-raw-images'] }, object: { key: [{ prefix: 'logger/' }] } } },
    Targets: [{ Id: 'l', Arn: ARN('wsslogger') }] },
  ],
};

describe('wss on the TLS port', () => {
  let d;
  let pub; // a wss connection that publishes
  const clients = [];
  const open = async (query, opts = {}) => {
    const c = await Client.open(d.wss(query), { ca: d.ca, ...opts });
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

  test('the ready file names the wss URL', () => {
    assert.equal(d.ready.websocket_tls,
      `wss://127.0.0.1:${d.ready.https_port}/_bucketbridge/events`);
  });

  test('the viewer served over https points its page at wss', async () => {
    const r = await d.httpsGet('/_bucketbridge/api/config');
    assert.equal(r.status, 200, r.body);
    const cfg = JSON.parse(r.body);
    assert.equal(cfg.ws_url, `wss://127.0.0.1:${d.ready.https_port}/_bucketbridge/events`);
    assert.equal(cfg.endpoint, `https://127.0.0.1:${d.ready.https_port}`);
    // and the page's own connection works: token from the config, Origin of the page
    const c = await open(`?token=${encodeURIComponent(cfg.token)}`,
      { origin: `https://127.0.0.1:${d.ready.https_port}` });
    c.send({ type: 'status' });
    assert.ok((await c.takeType('status')).last_seq >= 0);
    await c.close();
  });

  test('a pattern subscription over wss gets the object PUT over HTTPS, with its sequence',
    async () => {
      const pattern = { source: ['aws.s3'], 'detail-type': ['Object Created'],
        detail: { bucket: { name: ['my-raw-images'] }, object: { key: [{ prefix: 'wss/' }] } } };
      const c = await open();
      c.send({ type: 'subscribe', id: 'jpg', pattern });
      const sub = await c.takeType('subscribed');
      // the same subscription over ws:// for comparison
      const plain = await Client.open(d.ws());
      clients.push(plain);
      plain.send({ type: 'subscribe', id: 'jpg', pattern, from: sub.after });
      await plain.takeType('subscribed');

      const s3 = new S3Client({
        region: 'us-east-1', endpoint: `https://127.0.0.1:${d.ready.https_port}`,
        forcePathStyle: true, credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
        requestHandler: new NodeHttpHandler({ httpsAgent: new https.Agent({ ca: d.ca }) }),
      });
      for (const Key of ['other/b.jpg', 'wss/a.jpg']) {
        await s3.send(new PutObjectCommand({ Bucket: 'my-raw-images', Key, Body: `${Key}\n` }));
      }
      s3.destroy();
      const ev = await c.take((m) => m.type === 'event', 20000, 'the event');
      const same = await plain.take((m) => m.type === 'event', 20000, 'the event over ws://');
      assert.equal(ev.sub, 'jpg');
      assert.equal(ev.event.detail.object.key, 'wss/a.jpg');
      assert.equal(ev.event.detail.object.size, 'wss/a.jpg\n'.length);
      assert.ok(ev.seq > sub.after, `seq ${ev.seq} after ${sub.after}`);
      assert.equal(same.seq, ev.seq);
      assert.equal(same.event.id, ev.event.id);
      await sleep(300);
      assert.equal(c.events('jpg').length, 0, 'other/b.jpg does not match');
      const st = await c.status();
      assert.ok(st.last_seq >= ev.seq);
      await c.close();
    });

  test('a consumer group member over wss gets every delivery once and acks it', async () => {
    const m = await open();
    m.send({ type: 'join', group: 'wssgroup', credit: 3, visibility_timeout: 60 });
    const joined = await m.takeType('joined');
    assert.equal(joined.group, 'wssgroup');
    const ids = (await publishAll(pub, Array.from({ length: 20 },
      (_, i) => entry('test.wss.group', { i })))).map((r) => r.EventId);
    const got = new Map();
    while (got.size < 20) {
      const dl = await m.takeType('delivery', 20000);
      assert.equal(dl.group, 'wssgroup');
      assert.equal(dl.attempt, 1);
      assert.ok(!got.has(dl.event.id), `event ${dl.event.id} delivered twice`);
      got.set(dl.event.id, dl.event.detail.i);
      m.send({ type: 'ack', delivery: dl.delivery });
    }
    assert.deepEqual([...got.keys()].sort(), [...ids].sort());
    let g;
    await pollStatus(m, (st) => {
      g = st.groups.find((x) => x.name === 'wssgroup');
      return g && g.acked >= 20 && g.depth === 0 && g.in_flight === 0;
    }, 20000, 'the group drained with 20 acks');
    assert.equal(g.acked, 20);
    assert.equal(g.members, 1);
    assert.equal(m.msgs.filter((x) => x.type === 'error').length, 0);
    await m.close();
  });

  test('Origin and token checks give the same answers over wss as over ws', async () => {
    const cases = [
      ['?token=test', { origin: 'https://evil.example' }, 403],
      ['?token=test', { origin: 'null' }, 403],
      ['', {}, 403],
      ['?token=wrong', {}, 403],
      ['?token=test', { origin: `https://localhost:${d.ready.https_port}` }, 'open'],
      ['?token=test', { origin: `https://127.0.0.1:${d.ready.https_port}` }, 'open'],
      ['?token=test', {}, 'open'],
    ];
    for (const [query, opts, want] of cases) {
      const tls = await outcome(d.wss(query), { ca: d.ca, ...opts });
      const plain = await outcome(d.ws(query), opts);
      assert.equal(tls, want, `wss ${query} ${JSON.stringify(opts)}`);
      assert.equal(plain, want, `ws ${query} ${JSON.stringify(opts)}`);
    }
    // subprotocols: bb-events or none; a request offering only others is
    // dropped, including the names of the daemon's internal protocols
    for (const [protocols, want] of [[['bb-events'], 'open'], [['foo', 'bb-events'], 'open'],
      [['foo'], 'dropped'], [['http'], 'dropped'], [['bb-wss-bridge'], 'dropped']]) {
      for (const [url, opts] of [[d.wss(), { ca: d.ca }], [d.ws(), {}]]) {
        const got = await outcome(url, opts, protocols);
        assert.equal(got === 'open' ? 'open' : 'dropped', want, `${url} offering ${protocols}: ${got}`);
      }
    }
    const st = await pub.status();
    assert.ok(st.connections >= 1);
  });

  test('an oversized message gets close code 1009 through the bridge', async () => {
    const c = await open();
    c.send('x'.repeat(300 * 1024));
    await c.until(() => c.closed, 20000, 'the close');
    assert.equal(c.closed.code, 1009);
    assert.match(c.closed.reason, /too large/);
    assert.equal((await d.httpsGet('/_bucketbridge/health')).status, 200);
  });

  test('1 MiB published over wss arrives intact at a wss subscriber', async () => {
    const c = await open();
    c.send({ type: 'subscribe', id: 'big', pattern: { source: ['test.wss.big'] } });
    await c.takeType('subscribed');
    const blob = (i) => createHash('sha256').update(`blob ${i}`).digest('hex').repeat(320); // 20 KiB
    const n = 52; // 52 x 20 KiB > 1 MiB, in messages of 10 entries (~200 KiB each)
    await publishAll(pub, Array.from({ length: n }, (_, i) => entry('test.wss.big', { i, blob: blob(i) })));
    await c.until(() => c.events('big').length >= n, 60000, `${n} big events`);
    const evs = c.events('big');
    assert.equal(evs.length, n);
    assertIncreasing(evs.map((m) => m.seq), 'big');
    evs.forEach((m, i) => {
      assert.equal(m.event.detail.i, i);
      assert.equal(m.event.detail.blob, blob(i), `event ${i} came through unchanged`);
    });
    await c.close();
  });

  test('a wss reader that stops reading holds 2,000 events of 5 KiB back, then gets them all',
    async () => {
      const r = await open();
      r.send({ type: 'subscribe', id: 'many', pattern: { source: ['test.wss.many'] } });
      const sub = await r.takeType('subscribed');
      r.ws._socket.pause(); // nothing more is read from the TLS socket
      const pad = 'p'.repeat(5 * 1024);
      const n = 2000;
      const res = await publishAll(pub, Array.from({ length: n }, (_, i) => entry('test.wss.many', { i, pad })));
      assert.equal(res.length, n);
      // meanwhile the daemon serves everyone else
      assert.equal((await d.httpsGet('/_bucketbridge/health')).status, 200);
      const other = await open();
      const st = await other.status();
      assert.ok(st.last_seq > sub.after + n - 1);
      await other.close();
      // ~10 MB is far more than the kernel buffers of a socket nobody reads
      // (they do not autotune upwards without reads) plus the bridge's
      // 64 KiB: only if the bridge stops reading the WebSocket side (rx flow
      // control) does the connection survive this without overflowing
      assert.equal(r.closed, null, 'a live reader is never cut off for not reading');
      r.ws._socket.resume();
      await r.until(() => r.events('many').length >= n, 120000, `${n} events after resuming`);
      const evs = r.events('many');
      assert.equal(evs.length, n);
      assertIncreasing(evs.map((m) => m.seq), 'many');
      evs.forEach((m, i) => assert.equal(m.event.detail.i, i));
      assert.equal(r.msgs.filter((m) => m.type === 'lagged').length, 0);
      await r.close();
    });

  test('clients dropped mid-stream leave the daemon healthy', async () => {
    const base = (await pub.status()).connections;
    for (let k = 0; k < 4; k++) {
      const c = await open();
      c.send({ type: 'subscribe', id: 'all', pattern: null, from: 'earliest' });
      await c.until(() => c.events('all').length >= 50, 30000, 'a replay under way');
      if (k % 2 === 1) {
        c.ws._socket.pause(); // data stuck in the bridge and the kernel when it goes
        await sleep(200);
      }
      c.ws._socket.destroy(); // no close frame, no TLS close_notify
    }
    const st = await pollStatus(pub, (x) => x.connections <= base, 30000,
      `the dropped connections to be gone (back to ${base})`);
    assert.ok(st.connections <= base);
    assert.equal((await d.httpsGet('/_bucketbridge/health')).status, 200);
    const c = await open();
    c.send({ type: 'subscribe', id: 'x', pattern: { source: ['test.wss.after'] } });
    await c.takeType('subscribed');
    await publishAll(pub, [entry('test.wss.after', { ok: true })]);
    const ev = await c.take((m) => m.type === 'event', 20000, 'an event after the drops');
    assert.equal(ev.event.detail.ok, true);
    await c.close();
  });

  test('broken wss clients are closed and leave the daemon healthy', async () => {
    const base = (await pub.status()).connections;
    const head = (key) => 'GET /_bucketbridge/events?token=test HTTP/1.1\r\n' +
      `Host: 127.0.0.1:${d.ready.https_port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${key}\r\n\r\n`;
    const key = Buffer.from('0123456789abcdef').toString('base64');
    // resolves with everything the daemon sent once it closed the connection
    const raw = (onConnect) => new Promise((resolve, reject) => {
      const sock = tls.connect({ host: '127.0.0.1', port: d.ready.https_port, ca: d.ca }, () => onConnect(sock));
      const got = [];
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new Error('the daemon did not close the connection'));
      }, 30000);
      sock.on('data', (b) => got.push(b));
      sock.on('error', () => {});
      sock.on('close', () => { clearTimeout(timer); resolve(Buffer.concat(got)); });
    });
    // the request head, then gone before the answer
    await raw((sock) => { sock.write(head(key)); sock.destroy(); });
    // the upgrade, then bytes that are no WebSocket frames (unmasked, bad opcode)
    let got = await raw((sock) => { sock.write(head(key)); sock.write(Buffer.alloc(64 * 1024, 0x0f)); });
    assert.match(got.toString('latin1'), /^HTTP\/1\.1 101 /);
    // a masked text frame announcing 1 TiB, then 300 KiB of it: past the
    // 256 KiB message limit the daemon closes (the close frame may be lost
    // to the reset of a connection that is still sending, so only the close
    // itself is checked; test 'an oversized message' checks the 1009)
    const frame = Buffer.alloc(14);
    frame[0] = 0x81;
    frame[1] = 0x80 | 127;
    frame.writeBigUInt64BE(1n << 40n, 2);
    got = await raw((sock) => {
      sock.write(head(key));
      sock.write(frame);
      sock.write(Buffer.alloc(300 * 1024));
    });
    assert.match(got.toString('latin1'), /^HTTP\/1\.1 101 /);
    const st = await pollStatus(pub, (x) => x.connections <= base, 30000,
      `the broken connections to be gone (back to ${base})`);
    assert.ok(st.connections <= base);
    assert.equal((await d.httpsGet('/_bucketbridge/health')).status, 200);
  });

  test('bucketbridge-tail follows the bus over wss, and checks the certificate with --ca',
    async (t) => {
      if (!TAIL) {
        t.skip('BB_TAIL is not set (bucketbridge-tail is not part of this build)');
        return;
      }
      // another self-signed certificate: a CA the daemon's does not chain to
      const otherCa = otherCaFor(d);
      const haveOther = otherCa !== null;
      if (!haveOther) console.log('# the openssl command is missing: the wrong-CA case is skipped');
      const after = String((await pub.status()).last_seq);
      const common = ['--endpoint', d.ready.websocket_tls, '--token', 'test', '--since', after,
        '--pattern', '{"source":["test.wss.tail"]}'];
      // without --ca, only a loopback host is trusted unchecked
      const far = spawnSync(TAIL, ['--endpoint', 'wss://192.0.2.1:4567', '--token', 'test'],
        { encoding: 'utf8', timeout: 10000 });
      assert.equal(far.status, 2, `non-loopback wss without --ca; stderr:\n${far.stderr}`);
      assert.match(far.stderr, /not a loopback host: give --ca FILE/);
      const tails = {
        checked: new TailProc([...common, '--ca', d.ready.tls_cert]),
        unchecked: new TailProc(common), // the self-signed certificate, on loopback
      };
      if (haveOther) tails.wrong = new TailProc([...common, '--ca', otherCa]);
      try {
        await publishAll(pub, [1, 2, 3].map((i) => entry('test.wss.tail', { i })));
        for (const k of ['checked', 'unchecked']) {
          const lines = await tails[k].waitLines(3);
          assert.deepEqual(lines.map((l) => JSON.parse(l).detail.i), [1, 2, 3], k);
        }
        if (haveOther) {
          await tails.wrong.waitErr(/certificate/, 30000);
          assert.equal(tails.wrong.lines().length, 0, 'nothing arrives past a wrong CA');
        }
      } finally {
        for (const [k, tp] of Object.entries(tails)) {
          const code = await tp.interrupt();
          assert.equal(code, 0, `bucketbridge-tail (${k}) exit; stderr:\n${tp.err}`);
        }
      }
    });

  test('bucketbridge-cli speaks https and wss to the TLS port, and checks the certificate with --ca',
    async (t) => {
      if (!CLI) {
        t.skip('BB_CLI is not set (bucketbridge-cli is not part of this build)');
        return;
      }
      const endpoint = `https://127.0.0.1:${d.ready.https_port}`;
      const tlsArgs = ['--endpoint', endpoint, '--token', 'test', '--ca', d.ready.tls_cert];
      const pattern = '{"source":["test.wss.cli"]}';

      // HTTP over TLS (status: GET /_bucketbridge/health) and wss (events seq)
      const st = await runCli([...tlsArgs, 'status']);
      assert.equal(st.code, 0, `status over https; stderr:\n${st.err}`);
      assert.ok(JSON.parse(st.out).last_seq >= 0, st.out);
      const seqRun = await runCli([...tlsArgs, 'events', 'seq']);
      assert.equal(seqRun.code, 0, `events seq over wss; stderr:\n${seqRun.err}`);
      const seq = seqRun.out.trim();
      assert.match(seq, /^\d+$/);

      // wait and tail over wss, then put over wss: both get the event
      const waiting = runCli([...tlsArgs, 'events', 'wait', '--since', seq, '--pattern', pattern,
        '--timeout', '30s']);
      const tail = new TailProc([...tlsArgs, 'events', 'tail', '--since', seq, '--pattern', pattern],
        CLI);
      try {
        await sleep(300);
        const put = await runCli([...tlsArgs, 'events', 'put', '--source', 'test.wss.cli',
          '--detail-type', 'cli over wss', '--detail', '{"n":7}']);
        assert.equal(put.code, 0, `events put over wss; stderr:\n${put.err}`);
        const id = JSON.parse(put.out).EventId;
        assert.ok(id, put.out);
        const w = await waiting;
        assert.equal(w.code, 0, `events wait over wss; stderr:\n${w.err}`);
        const got = JSON.parse(w.out.trim().split('\n')[0]);
        assert.equal(got.id, id);
        assert.equal(got.detail.n, 7);
        const lines = await tail.waitLines(1);
        assert.equal(JSON.parse(lines[0]).id, id, 'events tail over wss');
      } finally {
        assert.equal(await tail.interrupt(), 0, `events tail exit; stderr:\n${tail.err}`);
      }

      // no --ca: the self-signed certificate is accepted on loopback only
      const unchecked = await runCli(['--endpoint', endpoint, 'events', 'seq']);
      assert.equal(unchecked.code, 0, `no --ca on loopback; stderr:\n${unchecked.err}`);
      const far = await runCli(['--endpoint', 'https://bucketbridge.invalid:4567', 'events', 'seq']);
      assert.equal(far.code, 2, far.err);
      assert.match(far.err, /not a loopback host: give --ca FILE/);

      // a wrong CA: refused at once (not after --timeout), with the reason, exit 3
      const otherCa = otherCaFor(d);
      if (otherCa === null) {
        console.log('# the openssl command is missing: the wrong-CA case is skipped');
        return;
      }
      const wrong = ['--endpoint', endpoint, '--ca', otherCa];
      for (const cmd of [['status'], ['reset'],
        ['events', 'put', '--source', 'test.wss.cli', '--detail-type', 'never'],
        ['events', 'wait', '--pattern', pattern, '--timeout', '30s'],
        ['events', 'tail']]) {
        const r = await runCli([...wrong, ...cmd]);
        const what = cmd.slice(0, 2).join(' ');
        assert.equal(r.code, 3, `${what} with a wrong CA; stderr:\n${r.err}`);
        assert.equal(r.out, '', `${what}: nothing on stdout`);
        assert.match(r.err, /TLS certificate was not accepted: .*give the daemon's tls_cert/,
          `${what}: the reason`);
        assert.ok(r.ms < 10000, `${what}: refused at once, not retried (${r.ms} ms)`);
      }
      // and nothing was published or reset past the wrong CA
      const after = await runCli([...tlsArgs, 'events', 'wait', '--since', seq, '--pattern',
        '{"detail-type":["never"]}', '--timeout', '1s']);
      assert.equal(after.code, 1, `the refused put published nothing; stdout:\n${after.out}`);
    });

  test('bucketbridge-logger with AWS_ENDPOINT_URL=https://... records an upload over wss',
    async (t) => {
      if (!LOGGER) {
        t.skip('BB_LOGGER is not set (bucketbridge-logger is not part of this build)');
        return;
      }
      const logDir = path.join(d.base, 'logger-logs');
      const env = { ...process.env, AWS_ENDPOINT_URL: `https://127.0.0.1:${d.ready.https_port}`,
        AWS_CA_BUNDLE: d.ready.tls_cert, BUCKETBRIDGE_TOKEN: 'test', BB_LOG_LEVEL: 'info' };
      delete env.BUCKETBRIDGE_WS_URL;
      const lg = new TailProc(['--group', 'wsslogger', '--log-dir', logDir, '--data-dir',
        d.dataDir], LOGGER, env);
      try {
        await lg.waitErr(/joined the consumer group.*group=wsslogger/, 20000);
        assert.match(lg.err, /ws=wss:\/\/127\.0\.0\.1:\d+\/_bucketbridge\/events/);
        const s3 = new S3Client({
          region: 'us-east-1', endpoint: `https://127.0.0.1:${d.ready.https_port}`,
          forcePathStyle: true, credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
          requestHandler: new NodeHttpHandler({ httpsAgent: new https.Agent({ ca: d.ca }) }),
        });
        await s3.send(new PutObjectCommand({ Bucket: 'my-raw-images', Key: 'logger/a.jpg',
          Body: 'logged over wss\n' }));
        s3.destroy();
        const deadline = Date.now() + 20000;
        let rec = null;
        while (!rec && Date.now() < deadline) {
          const files = fs.existsSync(logDir) ? fs.readdirSync(logDir) : [];
          for (const f of files.filter((n) => /^processing-\d{4}-\d{2}-\d{2}\.jsonl$/.test(n))) {
            for (const l of fs.readFileSync(path.join(logDir, f), 'utf8').split('\n')) {
              if (l === '') continue;
              const r = JSON.parse(l);
              if (r.key === 'logger/a.jpg') rec = r;
            }
          }
          if (!rec) await sleep(100);
        }
        assert.ok(rec, `no record for logger/a.jpg in ${logDir}; stderr:\n${lg.err}`);
        assert.equal(rec.bucket, 'my-raw-images');
        assert.equal(rec.size, 'logged over wss\n'.length);
        assert.equal(rec.source, 'aws.s3');
      } finally {
        assert.equal(await lg.interrupt(), 0, `bucketbridge-logger exit; stderr:\n${lg.err}`);
      }
    });

  test('the daemon stops cleanly with wss connections open, with no sanitizer report', async () => {
    // a replay held back by a reader that stopped, and a group member
    const a = await open();
    a.send({ type: 'subscribe', id: 'all', pattern: null, from: 'earliest' });
    await a.until(() => a.events('all').length >= 10, 30000, 'a replay under way');
    a.ws._socket.pause();
    const b = await open();
    b.send({ type: 'join', group: 'wssgroup', credit: 2 });
    await b.takeType('joined');
    await sleep(300);
    const code = await d.stop();
    const log = fs.readFileSync(d.logPath, 'utf8');
    assert.doesNotMatch(log, /Sanitizer|runtime error/, d.log(80));
    assert.equal(code, 0, `daemon exit code; log:\n${d.log(40)}`);
  });
});
