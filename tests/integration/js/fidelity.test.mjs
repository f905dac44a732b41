// SPDX-License-Identifier: MIT
// The AWS SDK for JavaScript v3 in virtual-host style (endpoint
// http://s3.localhost:PORT, forcePathStyle false) and @aws-sdk/lib-storage's
// Upload (multipart) against the real daemon. Run directly: node
// fidelity.test.mjs (exits 77, ctest SKIP, when the SDK, lib-storage or
// BB_DAEMON is missing). *.localhost does not resolve through glibc, so the
// HTTP agent gets a lookup that sends it to 127.0.0.1, as browsers do.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
for (const pkg of ['client-s3', 'lib-storage']) {
  if (!existsSync(join(here, 'node_modules', '@aws-sdk', pkg, 'package.json'))) {
    console.log(`SKIP: @aws-sdk/${pkg} is not installed in ${join(here, 'node_modules')} ` +
                `(npm install --prefix tests/integration/js @aws-sdk/${pkg})`);
    process.exit(77);
  }
}
if (!process.env.BB_DAEMON) {
  console.log('SKIP: BB_DAEMON is not set (path to the bucketbridge binary)');
  process.exit(77);
}

const { test, before, after } = await import('node:test');
const assert = (await import('node:assert/strict')).default;
const { spawn } = await import('node:child_process');
const { createHash, randomBytes } = await import('node:crypto');
const fs = await import('node:fs');
const http = await import('node:http');
const net = await import('node:net');
const os = await import('node:os');
const path = await import('node:path');
const { S3Client, PutObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command,
  DeleteObjectCommand, PutObjectTaggingCommand, GetObjectTaggingCommand } =
  await import('@aws-sdk/client-s3');
const { Upload } = await import('@aws-sdk/lib-storage');
const { NodeHttpHandler } = await import('@smithy/node-http-handler');

const RAW = 'my-raw-images';
const MiB = 1024 * 1024;

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

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function localLookup(hostname, options, cb) {
  const host = hostname === 'localhost' || hostname.endsWith('.localhost') ? '127.0.0.1'
    : hostname;
  if (options && options.all) cb(null, [{ address: host, family: 4 }]);
  else cb(null, host, 4);
}

let proc;
let port;
let base;
let logPath;
let exitCode;

before(async () => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'bb-it-jsfid-'));
  const dataDir = path.join(base, 'data');
  fs.mkdirSync(dataDir);
  logPath = path.join(base, 'stderr.log');
  port = await freePort();
  const fd = fs.openSync(logPath, 'a');
  proc = spawn(process.env.BB_DAEMON, ['--listen', `127.0.0.1:${port}`, '--data-dir', dataDir,
    '--auth', 'test:test', '--no-consumers', '--log-level', 'debug'],
  { stdio: ['ignore', fd, fd] });
  fs.closeSync(fd);
  proc.on('exit', (code, sig) => { exitCode = code ?? sig; });
  for (let i = 0; i < 500; i++) {
    const ok = await new Promise((resolve) => {
      http.get({ host: '127.0.0.1', port, path: '/_bucketbridge/health' }, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      }).on('error', () => resolve(false));
    });
    if (ok) return;
    if (exitCode !== undefined) break;
    await sleep(20);
  }
  throw new Error('daemon did not become healthy:\n' + fs.readFileSync(logPath, 'utf8'));
});

after(async () => {
  if (proc && exitCode === undefined) {
    proc.kill('SIGTERM');
    for (let i = 0; i < 250 && exitCode === undefined; i++) await sleep(20);
  }
  const log = fs.readFileSync(logPath, 'utf8');
  assert.equal(exitCode, 0, 'daemon did not exit cleanly:\n' + log.slice(-4000));
  assert.ok(!/AddressSanitizer|runtime error:|LeakSanitizer/.test(log), log.slice(-4000));
  fs.rmSync(base, { recursive: true, force: true });
});

function client() {
  return new S3Client({
    endpoint: `http://s3.localhost:${port}`,
    forcePathStyle: false,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({
      httpAgent: new http.Agent({ keepAlive: true, lookup: localLookup }),
    }),
  });
}

async function bodyBytes(out) {
  return Buffer.from(await out.Body.transformToByteArray());
}

test('virtual-host style put, get, head, list, tagging, delete', async () => {
  const s3 = client();
  const seenHosts = [];
  s3.middlewareStack.add((next) => async (args) => {
    seenHosts.push(args.request.hostname);
    return next(args);
  }, { step: 'finalizeRequest', name: 'seeHost' });
  const data = randomBytes(300 * 1024);
  const put = await s3.send(new PutObjectCommand({ Bucket: RAW, Key: 'js-vh/a b+c.bin',
    Body: data, ContentType: 'application/x-js', Metadata: { via: 'vhost' } }));
  assert.equal(put.ETag, `"${createHash('md5').update(data).digest('hex')}"`);
  assert.equal(seenHosts[0], `${RAW}.s3.localhost`);
  const got = await s3.send(new GetObjectCommand({ Bucket: RAW, Key: 'js-vh/a b+c.bin' }));
  assert.deepEqual(await bodyBytes(got), data);
  const head = await s3.send(new HeadObjectCommand({ Bucket: RAW, Key: 'js-vh/a b+c.bin' }));
  assert.equal(head.ContentType, 'application/x-js');
  assert.deepEqual(head.Metadata, { via: 'vhost' });
  const list = await s3.send(new ListObjectsV2Command({ Bucket: RAW, Prefix: 'js-vh/' }));
  assert.deepEqual(list.Contents.map((o) => o.Key), ['js-vh/a b+c.bin']);
  await s3.send(new PutObjectTaggingCommand({ Bucket: RAW, Key: 'js-vh/a b+c.bin',
    Tagging: { TagSet: [{ Key: 'k', Value: 'v' }] } }));
  const tags = await s3.send(new GetObjectTaggingCommand({ Bucket: RAW, Key: 'js-vh/a b+c.bin' }));
  assert.deepEqual(tags.TagSet, [{ Key: 'k', Value: 'v' }]);
  await s3.send(new DeleteObjectCommand({ Bucket: RAW, Key: 'js-vh/a b+c.bin' }));
  await assert.rejects(s3.send(new HeadObjectCommand({ Bucket: RAW, Key: 'js-vh/a b+c.bin' })),
    (e) => e.$metadata.httpStatusCode === 404);
  s3.destroy();
});

test('lib-storage Upload: multipart in virtual-host style', async () => {
  const s3 = client();
  const data = randomBytes(17 * MiB + 333);
  const up = new Upload({ client: s3, params: { Bucket: RAW, Key: 'js-vh/big.bin', Body: data },
    partSize: 5 * MiB, queueSize: 2 });
  const res = await up.done();
  assert.match(res.ETag, /^"[0-9a-f]{32}-4"$/);
  const got = await s3.send(new GetObjectCommand({ Bucket: RAW, Key: 'js-vh/big.bin' }));
  const back = await bodyBytes(got);
  assert.equal(back.length, data.length);
  assert.equal(createHash('sha256').update(back).digest('hex'),
    createHash('sha256').update(data).digest('hex'));
  s3.destroy();
});
