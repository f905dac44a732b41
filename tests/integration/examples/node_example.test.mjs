// SPDX-License-Identifier: MIT
// Example (docs/testing.md): bucketbridge in a Node test suite (node:test and
// the AWS SDK for JavaScript v3). One ephemeral daemon for the file, a reset
// before each test, `bucketbridge-cli events wait` instead of sleeping.
//
// ctest runs it as integration/examples/node with BB_DAEMON and BB_CLI set;
// in your own CI `bucketbridge` and `bucketbridge-cli` are on PATH.
// Exits 77 (skip) when the SDK or a binary is missing.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const SKIP = 77;
const DAEMON = process.env.BB_DAEMON || 'bucketbridge';
const CLI = process.env.BB_CLI || 'bucketbridge-cli';
const IMAGE = path.join(here, '..', '..', '..', 'fixtures', 'images', 'photo-320x240.jpg');

// In your project: import { S3Client, ... } from '@aws-sdk/client-s3'.
// In this repository the SDK is installed under tests/integration/js.
async function loadSdk() {
  try {
    return await import('@aws-sdk/client-s3');
  } catch {
    try {
      const req = createRequire(path.join(here, '..', 'js', 'package.json'));
      return await import(pathToFileURL(req.resolve('@aws-sdk/client-s3')).href);
    } catch {
      return null;
    }
  }
}

function onPath(cmd) {
  if (cmd.includes('/')) return fs.existsSync(cmd);
  return (process.env.PATH || '').split(':').some((d) => fs.existsSync(path.join(d, cmd)));
}

const sdk = await loadSdk();
if (!sdk) {
  console.log('SKIP: @aws-sdk/client-s3 is not installed (npm install --prefix tests/integration/js)');
  process.exit(SKIP);
}
if (!onPath(DAEMON) || !onPath(CLI)) {
  console.log('SKIP: bucketbridge / bucketbridge-cli not found (BB_DAEMON, BB_CLI, PATH)');
  process.exit(SKIP);
}
const { S3Client, PutObjectCommand, GetObjectCommand, ListObjectsV2Command } = sdk;

let dir, readyPath, ready, daemon, s3;

// Runs bucketbridge-cli against our daemon: { code, stdout, stderr }.
function cli(...args) {
  return new Promise((resolve) => {
    execFile(CLI, ['--ready-file', readyPath, ...args], { timeout: 90000 },
      (err, stdout, stderr) => resolve({ code: err ? (err.code ?? 1) : 0, stdout, stderr }));
  });
}

// The events matching `pattern` once `count` of them arrived (else throws).
async function waitFor(pattern, { count = 1, timeout = '30s', since } = {}) {
  const args = ['events', 'wait', '--pattern', JSON.stringify(pattern),
                '--count', String(count), '--timeout', timeout];
  if (since !== undefined) args.push('--since', String(since));
  const r = await cli(...args);
  assert.equal(r.code, 0, `events wait: ${r.stderr}`);
  return r.stdout.trim().split('\n').map((l) => JSON.parse(l));
}

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bb-example-'));
  readyPath = path.join(dir, 'ready.json');
  daemon = spawn(DAEMON, ['--ephemeral', '--ready-file', readyPath],
                 { stdio: ['ignore', 'ignore', fs.openSync(path.join(dir, 'daemon.log'), 'w')] });
  const deadline = Date.now() + 30000;
  while (!fs.existsSync(readyPath)) {
    if (daemon.exitCode !== null || Date.now() > deadline) throw new Error('bucketbridge did not start');
    await new Promise((r) => setTimeout(r, 20));
  }
  ready = JSON.parse(fs.readFileSync(readyPath, 'utf8'));
  s3 = new S3Client({
    endpoint: ready.endpoint,
    region: ready.region,
    forcePathStyle: true,
    credentials: { accessKeyId: ready.access_key, secretAccessKey: ready.secret_key },
  });
});

after(async () => {
  s3?.destroy();
  if (daemon && daemon.exitCode === null) {
    const gone = new Promise((r) => daemon.once('exit', r));
    daemon.kill('SIGTERM');
    await gone;
  }
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  const r = await cli('reset');
  assert.equal(r.code, 0, `reset: ${r.stderr}`);
});

test('an uploaded image gets a thumbnail', async () => {
  await s3.send(new PutObjectCommand({ Bucket: 'my-raw-images', Key: 'dogs/rex.jpg',
                                       Body: fs.readFileSync(IMAGE), ContentType: 'image/jpeg' }));
  const [created] = await waitFor({ source: ['bucketbridge.thumbnail'],
                                    'detail-type': ['Thumbnail Created'],
                                    detail: { key: ['dogs/rex.jpg'] } }, { timeout: '60s' });
  const got = await s3.send(new GetObjectCommand({ Bucket: created.detail.output_bucket,
                                                   Key: created.detail.output_key }));
  assert.ok((await got.Body.transformToByteArray()).length > 0);
});

test('each test starts from an empty bucket and journal', async () => {
  const list = await s3.send(new ListObjectsV2Command({ Bucket: 'my-raw-images' }));
  assert.equal(list.KeyCount, 0);
  const r = await cli('events', 'wait', '--timeout', '500ms', '--pattern', '{"source":["aws.s3"]}');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /timed out/);
});

test('publish and wait for custom events', async () => {
  const before = Number((await cli('events', 'seq')).stdout);
  const put = await cli('events', 'put', '--source', 'myapp.orders', '--detail-type', 'Order Placed',
                        '--detail', JSON.stringify({ id: 7 }));
  assert.equal(put.code, 0, put.stderr);
  assert.ok(JSON.parse(put.stdout).EventId);
  const [ev] = await waitFor({ source: ['myapp.orders'] }, { since: before });
  assert.equal(ev.detail.id, 7);
});
