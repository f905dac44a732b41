// SPDX-License-Identifier: MIT
// The AWS SDK for JavaScript v3 (@aws-sdk/client-s3, latest, default
// checksum settings, forcePathStyle) against the real daemon. Run through
// run.mjs (node --test); BB_DAEMON is the daemon binary.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  S3Client, PutObjectCommand, GetObjectCommand, HeadObjectCommand, DeleteObjectCommand,
  DeleteObjectsCommand, ListObjectsV2Command, ListObjectsCommand, CreateBucketCommand,
  DeleteBucketCommand, HeadBucketCommand, ListBucketsCommand,
} from '@aws-sdk/client-s3';

const RAW = 'my-raw-images';
const MiB = 1024 * 1024;

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

function httpStatus(port, p) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: p, timeout: 1000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', () => resolve(null));
    req.on('timeout', () => { req.destroy(); resolve(null); });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

class Daemon {
  constructor() {
    this.base = fs.mkdtempSync(path.join(os.tmpdir(), 'bb-it-js-'));
    this.dataDir = path.join(this.base, 'data');
    fs.mkdirSync(this.dataDir);
    this.logPath = path.join(this.base, 'stderr.log');
    this.exitCode = undefined;
  }

  get endpoint() { return `http://127.0.0.1:${this.port}`; }

  log(lines = 150) {
    try {
      return fs.readFileSync(this.logPath, 'utf8').split('\n').slice(-lines).join('\n');
    } catch { return ''; }
  }

  async start() {
    this.port = await freePort();
    const fd = fs.openSync(this.logPath, 'a');
    const args = ['--listen', `127.0.0.1:${this.port}`, '--data-dir', this.dataDir,
      '--auth', 'test:test'];
    const level = process.env.BB_IT_LOG_LEVEL ?? 'debug';
    if (level) args.push('--log-level', level);
    this.proc = spawn(process.env.BB_DAEMON, args, { stdio: ['ignore', fd, fd] });
    fs.closeSync(fd);
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, sig) => {
      this.exitCode = code ?? sig; resolve(this.exitCode);
    }));
    const deadline = Date.now() + 10000;
    while (Date.now() < deadline) {
      if (this.exitCode !== undefined) {
        throw new Error(`daemon exited (${this.exitCode}) before healthy:\n${this.log()}`);
      }
      if (await httpStatus(this.port, '/_bucketbridge/health') === 200) return this;
      await sleep(20);
    }
    this.proc.kill('SIGKILL');
    throw new Error(`daemon not healthy after 10 s:\n${this.log()}`);
  }

  async stop() {
    if (!this.proc || this.exitCode !== undefined) return this.exitCode;
    this.proc.kill('SIGTERM');
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
    const code = await this.exited;
    clearTimeout(t);
    return code;
  }

  // upload temp files in use or left behind; the empty spare-* files the
  // daemon keeps ready for the next upload do not count
  tmpEntries() {
    const dir = path.join(this.dataDir, '.bucketbridge', 'tmp');
    let names;
    try { names = fs.readdirSync(dir); } catch { return []; }
    return names.filter((n) => {
      if (!n.startsWith('spare-')) return true;
      try { return fs.statSync(path.join(dir, n)).size > 0; } catch { return false; }
    });
  }

  objectPath(bucket, key) { return path.join(this.dataDir, bucket, key); }
}

// ---- helpers ---------------------------------------------------------------
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32b64(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  const out = Buffer.alloc(4);
  out.writeUInt32BE((c ^ 0xffffffff) >>> 0);
  return out.toString('base64');
}

const md5etag = (buf) => `"${createHash('md5').update(buf).digest('hex')}"`;
const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');

async function rejectsWith(promise, status, name) {
  try {
    await promise;
  } catch (e) {
    assert.equal(e.$metadata?.httpStatusCode, status, `${e.name}: ${e.message}`);
    if (name) assert.equal(e.name, name, e.message);
    return e;
  }
  assert.fail(`expected ${status} ${name ?? ''}, the call succeeded`);
}

const SPECIAL_KEYS = [
  'js-special/with space.txt',
  'js-special/plus+sign.txt',
  'js-special/eq=ual=.txt',
  'js-special/per%cent%20.txt',
  'js-special/amp&ersand.txt',
  'js-special/ünïcødé/日本語 ファイル.txt',
  'js-special/mixed +=%&é$~*.txt',
  'js-special-dbl//double-slash.txt',
  '/js-leading-slash/x.txt',
];

// ---- tests -----------------------------------------------------------------
describe('AWS SDK for JavaScript v3', () => {
  let d;
  let s3;

  before(async () => {
    d = await new Daemon().start();
    s3 = new S3Client({
      endpoint: d.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      forcePathStyle: true,
      maxAttempts: 1,
    });
  });

  after(async () => {
    s3?.destroy();
    const code = await d?.stop();
    const log = d ? d.log(100000) : '';
    const sanitizer = log.split('\n').filter((l) => /ERROR: (Address|Leak)Sanitizer|runtime error:/.test(l));
    const failed = code !== 0 || sanitizer.length > 0;
    if (failed || process.env.BB_IT_KEEP === '1') {
      console.log(`daemon base dir ${d?.base} kept; exit ${code}\n${d?.log()}`);
    } else if (d) {
      fs.rmSync(d.base, { recursive: true, force: true });
    }
    assert.equal(code, 0, 'daemon did not exit 0 on SIGTERM');
    assert.deepEqual(sanitizer, [], 'sanitizer reports in the daemon log');
  });

  test('default buckets exist', async () => {
    const r = await s3.send(new ListBucketsCommand({}));
    const names = r.Buckets.map((b) => b.Name);
    assert.ok(names.includes('my-raw-images'));
    assert.ok(names.includes('my-thumbnails'));
  });

  test('special keys round trip', async (t) => {
    for (const [i, key] of SPECIAL_KEYS.entries()) {
      await t.test(key, async () => {
        const body = Buffer.from(`body ${i} of ${key}`);
        await s3.send(new PutObjectCommand({ Bucket: RAW, Key: key, Body: body }));
        const g = await s3.send(new GetObjectCommand({ Bucket: RAW, Key: key }));
        assert.deepEqual(Buffer.from(await g.Body.transformToByteArray()), body, key);
        const h = await s3.send(new HeadObjectCommand({ Bucket: RAW, Key: key }));
        assert.equal(h.ContentLength, body.length, key);
        const l = await s3.send(new ListObjectsV2Command({ Bucket: RAW, Prefix: key }));
        assert.deepEqual((l.Contents ?? []).map((c) => c.Key), [key]);
        if (!key.includes('//') && !key.startsWith('/')) {
          assert.deepEqual(fs.readFileSync(d.objectPath(RAW, key)), body, key);
        }
        await s3.send(new DeleteObjectCommand({ Bucket: RAW, Key: key }));
        await rejectsWith(s3.send(new GetObjectCommand({ Bucket: RAW, Key: key })), 404, 'NoSuchKey');
      });
    }
  });

  test('50 MB object, byte for byte', async () => {
    const key = 'js-big/fifty.bin';
    const data = randomBytes(50 * MiB);
    const p = await s3.send(new PutObjectCommand({ Bucket: RAW, Key: key, Body: data }));
    assert.equal(p.ETag, md5etag(data));
    const g = await s3.send(new GetObjectCommand({ Bucket: RAW, Key: key }));
    assert.equal(g.ContentLength, data.length);
    const got = Buffer.from(await g.Body.transformToByteArray());
    assert.equal(got.length, data.length);
    assert.ok(got.equals(data), 'downloaded bytes differ');
    assert.ok(fs.readFileSync(d.objectPath(RAW, key)).equals(data), 'file on disk differs');
    await s3.send(new DeleteObjectCommand({ Bucket: RAW, Key: key }));
    assert.ok(!fs.existsSync(d.objectPath(RAW, key)));
    assert.deepEqual(d.tmpEntries(), []);
  });

  test('stream body (aws-chunked with checksum trailer)', async () => {
    const key = 'js-stream/streamed.bin';
    const data = randomBytes(5 * MiB + 123);
    const src = path.join(d.base, 'stream-src.bin');
    fs.writeFileSync(src, data);
    const p = await s3.send(new PutObjectCommand({
      Bucket: RAW, Key: key, Body: fs.createReadStream(src), ContentLength: data.length,
    }));
    assert.equal(p.ETag, md5etag(data));
    const g = await s3.send(new GetObjectCommand({ Bucket: RAW, Key: key, ChecksumMode: 'ENABLED' }));
    const got = Buffer.from(await g.Body.transformToByteArray());
    assert.equal(sha256(got), sha256(data));
    assert.doesNotMatch(g.ContentEncoding ?? '', /aws-chunked/);
    assert.ok(fs.readFileSync(d.objectPath(RAW, key)).equals(data), 'file on disk differs');
  });

  test('checksum round trip with ChecksumMode ENABLED', async () => {
    const key = 'js-sum/crc.bin';
    const data = randomBytes(70000);
    const p = await s3.send(new PutObjectCommand({ Bucket: RAW, Key: key, Body: data }));
    assert.equal(p.ChecksumCRC32, crc32b64(data));
    const g = await s3.send(new GetObjectCommand({ Bucket: RAW, Key: key, ChecksumMode: 'ENABLED' }));
    assert.equal(g.ChecksumCRC32, crc32b64(data));
    assert.ok(Buffer.from(await g.Body.transformToByteArray()).equals(data));
    const h = await s3.send(new HeadObjectCommand({ Bucket: RAW, Key: key, ChecksumMode: 'ENABLED' }));
    assert.equal(h.ChecksumCRC32, crc32b64(data));
  });

  test('ranges', async () => {
    const key = 'js-range/r.bin';
    const data = Buffer.from(Array.from({ length: 100 }, (_, i) => i));
    await s3.send(new PutObjectCommand({ Bucket: RAW, Key: key, Body: data }));
    for (const [range, a, b] of [['bytes=0-9', 0, 9], ['bytes=-5', 95, 99], ['bytes=5-', 5, 99]]) {
      const g = await s3.send(new GetObjectCommand({ Bucket: RAW, Key: key, Range: range }));
      assert.equal(g.$metadata.httpStatusCode, 206, range);
      assert.equal(g.ContentRange, `bytes ${a}-${b}/100`, range);
      assert.deepEqual(Buffer.from(await g.Body.transformToByteArray()), data.subarray(a, b + 1));
    }
    await rejectsWith(s3.send(new GetObjectCommand({ Bucket: RAW, Key: key, Range: 'bytes=100-' })),
      416, 'InvalidRange');
  });

  test('metadata and content type', async () => {
    const key = 'js-meta/m.bin';
    await s3.send(new PutObjectCommand({ Bucket: RAW, Key: key, Body: Buffer.from('m'),
      Metadata: { color: 'green', 'two-words': 'a b' } }));
    const h = await s3.send(new HeadObjectCommand({ Bucket: RAW, Key: key }));
    assert.deepEqual(h.Metadata, { color: 'green', 'two-words': 'a b' });
    // The SDK sends application/octet-stream for a Buffer body: kept as sent.
    assert.equal(h.ContentType, 'application/octet-stream');
    assert.equal(h.ETag, md5etag(Buffer.from('m')));
  });

  test('listing: delimiter, pagination, quoted ETags, v1 marker', async () => {
    const keys = ['js-list/a', 'js-list/b/1', 'js-list/b/2', 'js-list/c', 'js-list/d e+f'];
    for (const k of keys) {
      await s3.send(new PutObjectCommand({ Bucket: RAW, Key: k, Body: Buffer.from(k) }));
    }
    const sorted = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    let r = await s3.send(new ListObjectsV2Command({ Bucket: RAW, Prefix: 'js-list/', Delimiter: '/' }));
    assert.deepEqual(r.Contents.map((c) => c.Key), ['js-list/a', 'js-list/c', 'js-list/d e+f']);
    assert.deepEqual(r.CommonPrefixes.map((c) => c.Prefix), ['js-list/b/']);
    for (const c of r.Contents) assert.equal(c.ETag, md5etag(Buffer.from(c.Key)));
    const all = [];
    let token;
    for (let i = 0; i < 10; i++) {
      r = await s3.send(new ListObjectsV2Command({ Bucket: RAW, Prefix: 'js-list/', MaxKeys: 2,
        ContinuationToken: token }));
      all.push(...(r.Contents ?? []).map((c) => c.Key));
      if (!r.IsTruncated) break;
      token = r.NextContinuationToken;
      assert.ok(token);
    }
    assert.deepEqual(all, sorted);
    const v1 = await s3.send(new ListObjectsCommand({ Bucket: RAW, Prefix: 'js-list/', Marker: 'js-list/b/2' }));
    assert.deepEqual(v1.Contents.map((c) => c.Key), ['js-list/c', 'js-list/d e+f']);
    for (const c of v1.Contents) assert.match(c.ETag, /^".*"$/);
  });

  test('delete objects', async () => {
    const keys = ['js-del/1', 'js-del/2 two', 'js-del/3+three'];
    for (const k of keys) await s3.send(new PutObjectCommand({ Bucket: RAW, Key: k, Body: Buffer.from('x') }));
    const r = await s3.send(new DeleteObjectsCommand({ Bucket: RAW,
      Delete: { Objects: keys.map((Key) => ({ Key })) } }));
    assert.deepEqual((r.Deleted ?? []).map((x) => x.Key).sort(), [...keys].sort());
    assert.deepEqual(r.Errors ?? [], []);
    for (const k of keys) assert.ok(!fs.existsSync(d.objectPath(RAW, k)), k);
  });

  test('buckets and errors', async () => {
    const b = 'it-js-bucket';
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    await s3.send(new HeadBucketCommand({ Bucket: b }));
    assert.ok(fs.statSync(path.join(d.dataDir, b)).isDirectory());
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: Buffer.from('x') }));
    await rejectsWith(s3.send(new DeleteBucketCommand({ Bucket: b })), 409, 'BucketNotEmpty');
    await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k' }));
    await s3.send(new DeleteBucketCommand({ Bucket: b }));
    assert.ok(!fs.existsSync(path.join(d.dataDir, b)));
    await rejectsWith(s3.send(new HeadBucketCommand({ Bucket: b })), 404);
    await rejectsWith(s3.send(new GetObjectCommand({ Bucket: b, Key: 'k' })), 404, 'NoSuchBucket');
    await rejectsWith(s3.send(new GetObjectCommand({ Bucket: RAW, Key: 'js-missing/none' })), 404, 'NoSuchKey');
    await rejectsWith(s3.send(new HeadObjectCommand({ Bucket: RAW, Key: 'js-missing/none' })), 404);
  });
});
