// SPDX-License-Identifier: MIT
// Browser test of the live event viewer (/_bucketbridge/): Debian's chromium
// driven by playwright-core. Starts the daemon with its default pipeline on a
// free port, opens the page, drops a fixture image onto my-raw-images and
// follows it through the pipeline; filters, pause, escaping, reconnection
// across a daemon restart, and 100,000 events.
//
// Exits 77 (ctest SKIP) with a message when chromium, playwright-core
// (npm install --prefix tests/browser) or BB_DAEMON is missing.
//
// Environment:
//   BB_DAEMON         the bucketbridge binary (required)
//   BB_CHROMIUM       chromium executable (default /usr/bin/chromium)
//   BB_SCREENSHOT     where to save the screenshot, relative to the repository root
//                     (docs/viewer.png; default: $TMPDIR/bucketbridge-viewer.png)
//   BB_VIEWER_EVENTS  events published through the daemon in the burst step (default 2000)
//   BB_VIEWER_MOCK_EVENTS  events fed to a page by a mocked WebSocket (default 100000)
//   BB_KEEP           keep the temp dir (data dir, daemon log)
import { execFile, spawn } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import { accessSync, constants, existsSync, mkdtempSync, openSync, readFileSync, rmSync,
  closeSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const SKIP = 77;
const ACCESS_KEY = 'test';
const SECRET_KEY = 'test';
const REGION = 'us-east-1';
const RAW = 'my-raw-images';
const THUMBS = 'my-thumbnails';
const FIXTURE = join(here, 'fixtures', 'sunset.jpg');
const XSS_KEY = '<script>window.__bbXss=1</script><img src=x onerror="window.__bbXss=2">.txt';

function skip(why) {
  console.log(`SKIP: ${why}`);
  process.exit(SKIP);
}

// ---- prerequisites ----

const chromiumPath = process.env.BB_CHROMIUM || '/usr/bin/chromium';
if (!existsSync(chromiumPath))
  skip(`chromium is not installed at ${chromiumPath} ` +
       '(apt-get install chromium, or set BB_CHROMIUM)');
const pwEntry = join(here, 'node_modules', 'playwright-core', 'index.mjs');
if (!existsSync(pwEntry))
  skip(`playwright-core is not installed in ${join(here, 'node_modules')}; ` +
       'run: npm install --prefix tests/browser');
const daemonPath = process.env.BB_DAEMON;
if (!daemonPath)
  skip('BB_DAEMON is not set (path to the bucketbridge binary)');
try {
  accessSync(daemonPath, constants.X_OK);
} catch {
  console.log(`FAIL: BB_DAEMON=${daemonPath} is not executable ` +
              '(build the bucketbridge target first)');
  process.exit(1);
}
const { chromium } = await import(pathToFileURL(pwEntry).href);

// ---- small helpers ----

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let failures = 0;
let step = 0;

function ok(cond, what, extra) {
  step++;
  if (cond) {
    console.log(`ok ${step} - ${what}`);
  } else {
    failures++;
    console.log(`not ok ${step} - ${what}${extra ? `\n  # ${extra}` : ''}`);
  }
  return cond;
}

function note(text) {
  console.log(`# ${text}`);
}

async function until(pred, timeoutMs, intervalMs = 100) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await pred();
    if (v || Date.now() >= end)
      return v;
    await sleep(intervalMs);
  }
}

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

// ---- the daemon ----

const base = mkdtempSync(join(tmpdir(), 'bb-browser-'));
const dataDir = join(base, 'data');
const logPath = join(base, 'daemon.log');
const port = await freePort();
const origin = `http://127.0.0.1:${port}`;
let daemon = null;

async function health() {
  try {
    const r = await fetch(`${origin}/_bucketbridge/health`);
    return r.ok ? await r.json() : null;
  } catch {
    return null;
  }
}

async function startDaemon() {
  const log = openSync(logPath, 'a');
  daemon = spawn(daemonPath, ['--listen', `127.0.0.1:${port}`, '--data-dir', dataDir],
    { stdio: ['ignore', log, log], env: { ...process.env, BB_LOG_LEVEL: 'info' } });
  closeSync(log);
  const exited = new Promise((r) => daemon.once('exit', (code, sig) => r({ code, sig })));
  daemon.exited = exited;
  const up = await until(health, 20000, 50);
  if (!up)
    throw new Error(`the daemon did not become healthy on ${origin} (log: ${logPath})`);
}

async function stopDaemon() {
  if (!daemon)
    return;
  const d = daemon;
  daemon = null;
  d.kill('SIGTERM');
  const t = setTimeout(() => d.kill('SIGKILL'), 8000);
  const r = await d.exited;
  clearTimeout(t);
  return r;
}

// ---- SigV4 for the test's own S3 and EventBridge calls ----

const sha256 = (b) => createHash('sha256').update(b).digest('hex');
const hmac = (k, s) => createHmac('sha256', k).update(s).digest();

function uriEncode(s, keepSlash) {
  let v = encodeURIComponent(s).replace(/[!'()*]/g,
    (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
  return keepSlash ? v.replace(/%2F/g, '/') : v;
}

async function signed(method, path, { query = {}, body = '', headers = {}, service = 's3' } = {}) {
  const amz = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const date = amz.slice(0, 8);
  const payload = sha256(body);
  const h = { host: `127.0.0.1:${port}`, 'x-amz-date': amz, 'x-amz-content-sha256': payload };
  for (const [k, v] of Object.entries(headers))
    h[k.toLowerCase()] = v;
  const names = Object.keys(h).sort();
  const qs = Object.keys(query).map((k) => [uriEncode(k), uriEncode(String(query[k]))])
    .sort((a, b) => (a[0] < b[0] ? -1 : 1)).map((p) => `${p[0]}=${p[1]}`).join('&');
  const creq = [method, path, qs, names.map((k) => `${k}:${String(h[k]).trim()}\n`).join(''),
    names.join(';'), payload].join('\n');
  const scope = `${date}/${REGION}/${service}/aws4_request`;
  const sts = ['AWS4-HMAC-SHA256', amz, scope, sha256(creq)].join('\n');
  let k = hmac('AWS4' + SECRET_KEY, date);
  for (const part of [REGION, service, 'aws4_request'])
    k = hmac(k, part);
  const sig = createHmac('sha256', k).update(sts).digest('hex');
  const send = { ...h };
  delete send.host;
  send.authorization = `AWS4-HMAC-SHA256 Credential=${ACCESS_KEY}/${scope}, ` +
    `SignedHeaders=${names.join(';')}, Signature=${sig}`;
  return fetch(`${origin}${path}${qs ? '?' + qs : ''}`,
    { method, headers: send, body: method === 'GET' || method === 'HEAD' ? undefined : body });
}

const objPath = (bucket, key) => `/${uriEncode(bucket)}/${uriEncode(key, true)}`;

async function putObject(bucket, key, body, type = 'text/plain') {
  const r = await signed('PUT', objPath(bucket, key), { body, headers: { 'content-type': type } });
  if (!r.ok)
    throw new Error(`PUT ${bucket}/${key}: ${r.status} ${await r.text()}`);
}

async function deleteObject(bucket, key) {
  const r = await signed('DELETE', objPath(bucket, key));
  if (!r.ok)
    throw new Error(`DELETE ${bucket}/${key}: ${r.status} ${await r.text()}`);
}

async function listKeys(bucket) {
  const r = await signed('GET', `/${bucket}`, { query: { 'list-type': '2' } });
  if (!r.ok)
    return [];
  return Array.from((await r.text()).matchAll(/<Key>([^<]*)<\/Key>/g), (m) => m[1]);
}

async function putEvents(entries) {
  const body = JSON.stringify({ Entries: entries });
  const r = await signed('POST', '/', {
    body, service: 'events',
    headers: { 'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': 'AWSEvents.PutEvents' },
  });
  if (!r.ok)
    throw new Error(`PutEvents: ${r.status} ${await r.text()}`);
  return r.json();
}

// ---- the page ----

async function domRows(page) {
  return page.evaluate(() => Array.from(document.querySelectorAll('#grid .row:not([hidden])'),
    (r) => ({
      seq: Number(r.children[0].textContent),
      type: r.children[2].textContent,
      source: r.children[3].textContent,
      bucket: r.children[4].textContent,
      key: r.children[5].textContent,
    })));
}

async function waitRow(page, pred, timeoutMs = 15000) {
  return until(async () => (await domRows(page)).find(pred), timeoutMs);
}

// After Reset: wait until the table holds the whole journal again, in order.
async function waitAll(page) {
  const last = (await health()).last_sequence;
  const full = await until(() => page.evaluate((last) => {
    const s = window.bbViewer.seqs();
    return window.bbViewer.filter().pattern === null && s.length === last && s[0] === 1 &&
      s[s.length - 1] === last;
  }, last), 10000);
  if (!full)
    throw new Error(`the table did not refill with events 1..${last} after Reset`);
}

async function dropFile(page, bucket, name, bytes, type) {
  const dt = await page.evaluateHandle(({ b64, name, type }) => {
    const bin = atob(b64);
    const u8 = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++)
      u8[i] = bin.charCodeAt(i);
    const d = new DataTransfer();
    d.items.add(new File([u8], name, { type }));
    return d;
  }, { b64: bytes.toString('base64'), name, type });
  const sel = `.bucket[data-bucket="${bucket}"]`;
  await page.dispatchEvent(sel, 'dragenter', { dataTransfer: dt });
  await page.dispatchEvent(sel, 'dragover', { dataTransfer: dt });
  await page.dispatchEvent(sel, 'drop', { dataTransfer: dt });
}

async function applyPattern(page, text) {
  if (await page.isHidden('#pattern-box'))
    await page.click('#f-pattern-toggle');
  await page.fill('#pattern', text);
  await page.selectOption('#f-from', 'earliest');
  await page.click('#f-apply');
}

// ---- the test ----

let browser = null;
const pageErrors = [];
let exitCode = 1;

try {
  await startDaemon();
  note(`daemon ${daemonPath} on ${origin}, data ${dataDir}`);
  ok(readFileSync(logPath, 'utf8').includes(`viewer=${origin}/_bucketbridge/`),
    'the daemon prints the viewer\'s address when it starts');
  // The seed pipeline is part of the daemon's default configuration: its
  // thumbnail consumer must be running (it is built with the project).
  const thumbProc = await until(async () => {
    const hh = await health();
    const c = (hh && hh.consumers || []).find((x) => x.group === 'thumbnail');
    return c && (c.instances || []).some((i) => i.state === 'running') ? c : null;
  }, 20000, 200);
  ok(!!thumbProc, 'the default pipeline\'s thumbnail consumer is running',
    JSON.stringify((await health() || {}).consumers));

  browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-dev-shm-usage'],
  });
  // A time zone with a half-hour offset: "since time…" must convert local to UTC.
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 },
    colorScheme: 'light', timezoneId: 'Asia/Kolkata' });
  const page = await context.newPage();
  const subscribes = []; // subscribe messages the page sends (the filter goes to the daemon)
  let sock = null; // the page's current socket: subscriptions it opened, ended, was refused
  page.on('websocket', (ws) => {
    if (!/\/_bucketbridge\/events/.test(ws.url()))
      return;
    const mine = { opened: [], ended: new Set(), refused: new Set() };
    ws.on('framesent', (f) => {
      try {
        const m = JSON.parse(f.payload);
        if (m.type === 'subscribe' && /^v\d+$/.test(m.id)) { /* the page's, not a probe's */
          sock = mine;
          subscribes.push(m);
          mine.opened.push(m.id);
        } else if (m.type === 'unsubscribe') {
          mine.ended.add(m.id);
        }
      } catch { /* not JSON */ }
    });
    ws.on('framereceived', (f) => {
      try {
        const m = JSON.parse(f.payload);
        if (m.type === 'error' && m.ref)
          mine.refused.add(m.ref);
      } catch { /* not JSON */ }
    });
  });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('dialog', (d) => {
    pageErrors.push(`a dialog opened: ${d.message()}`);
    d.dismiss();
  });

  // 1. the page, the connection, the pipeline panel
  const resp = await page.goto(`${origin}/_bucketbridge/`);
  ok(resp.status() === 200 && /text\/html/.test(resp.headers()['content-type']),
    'the daemon serves the page as text/html');
  const js = await fetch(`${origin}/_bucketbridge/assets/viewer.js`);
  ok(js.ok && /javascript/.test(js.headers.get('content-type')) &&
     /no-cache/.test(js.headers.get('cache-control') || ''),
    'assets come with their Content-Type and Cache-Control');
  // Everything the page loads comes from the daemon: no CDN, works offline.
  const external = [];
  for (const f of ['', 'assets/viewer.js', 'assets/viewer.css', 'assets/favicon.svg']) {
    const text = await (await fetch(`${origin}/_bucketbridge/${f}`)).text();
    for (const m of text.matchAll(/(?:https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}[^\s"')]*/gi))
      if (!/^http:\/\/www\.w3\.org\/2000\/svg/.test(m[0]))
        external.push(`${f || 'index'}: ${m[0]}`);
  }
  const csp = resp.headers()['content-security-policy'] || '';
  ok(external.length === 0 && /default-src 'none'/.test(csp) && /connect-src 'self'/.test(csp),
    'the page and its assets name no other host, and the CSP allows only the daemon',
    external.join(', ') || csp);
  const offsite = [];
  page.on('request', (rq) => {
    if (!rq.url().startsWith(origin) && !/^(data|blob):/.test(rq.url()))
      offsite.push(rq.url());
  });
  await page.waitForSelector('#conn[data-state="live"]', { timeout: 15000 });
  ok(true, 'the connection indicator shows live');

  await page.click('#tab-pipeline');
  const groups = await until(async () => {
    const names = await page.$$eval('#groups [data-group]', (rs) => rs.map((r) => r.dataset.group));
    return names.includes('thumbnail') && names.includes('logger') ? names : null;
  }, 10000);
  ok(!!groups, 'the pipeline panel lists the consumer groups from the status stream',
    JSON.stringify(groups));
  const ruleText = await page.textContent('#rules');
  const targetArns = await page.$$eval('#rules .targets .arn', (xs) => xs.map((x) => x.textContent));
  ok(/thumbnail-on-upload/.test(ruleText) && /log-everything/.test(ruleText) &&
     /"suffix"/.test(ruleText) && /dead letters → thumbnail-dlq/.test(ruleText) &&
     targetArns.includes('arn:aws:sqs:us-east-1:000000000000:thumbnail') &&
     targetArns.includes('arn:aws:sqs:us-east-1:000000000000:logger'),
  'the pipeline panel lists the rules with their patterns, targets and dead-letter queues',
  JSON.stringify(targetArns));
  const statLabels = await page.$$eval('#groups [data-group="thumbnail"] .stat span',
    (xs) => xs.map((x) => x.textContent));
  ok(['depth', 'in flight', 'acked', 'failed', 'dead', 'members']
    .every((l) => statLabels.includes(l)),
  'a group\'s card has depth, in flight, acked, failed, dead and members',
  JSON.stringify(statLabels));

  // 2. drop the fixture image onto my-raw-images
  await page.click('#tab-buckets');
  await page.waitForSelector(`.bucket[data-bucket="${RAW}"]`, { timeout: 10000 });
  await dropFile(page, RAW, 'sunset.jpg', readFileSync(FIXTURE), 'image/jpeg');
  const created = await waitRow(page, (r) => r.type === 'Object Created' && r.bucket === RAW &&
    r.key === 'sunset.jpg');
  ok(!!created, 'the dropped image shows up as an "Object Created" row', JSON.stringify(created));
  const tile = await until(() => page.evaluate((b) => {
    const img = document.querySelector(`.bucket[data-bucket="${b}"] .tile img[src]`);
    return img && img.complete && img.naturalWidth > 0 ? img.naturalWidth : 0;
  }, RAW), 10000);
  ok(tile === 640, 'the bucket panel lists the uploaded image with a preview tile that loads',
    `naturalWidth ${tile}`);

  // 3. the thumbnail consumer's events: its thumbnail object, its "Object
  // Created" in my-thumbnails and its own "Thumbnail Created", in that order
  const thumbKey = await until(async () => (await listKeys(THUMBS))
    .find((k) => /sunset/.test(k)), 30000, 250);
  ok(!!thumbKey, `the thumbnail consumer stores a thumbnail of the upload in ${THUMBS}`,
    `keys: ${JSON.stringify(await listKeys(THUMBS))}`);
  const trow = thumbKey ? await waitRow(page, (r) => r.type === 'Object Created' &&
    r.bucket === THUMBS && r.key === thumbKey) : null;
  ok(!!trow && trow.seq > created.seq,
    `the thumbnail consumer's "Object Created" in ${THUMBS} follows the upload`,
    JSON.stringify(trow));
  const tevent = await waitRow(page, (r) => r.type === 'Thumbnail Created' &&
    r.source === 'bucketbridge.thumbnail', 15000);
  ok(!!tevent && tevent.seq > created.seq && tevent.bucket === RAW && tevent.key === 'sunset.jpg',
    'the thumbnail consumer\'s "Thumbnail Created" row follows, with its bucket and key',
    JSON.stringify(tevent));
  // the pipeline panel updates live from the status stream
  const acked = await until(() => page.evaluate(() => {
    const card = document.querySelector('#groups [data-group="thumbnail"]');
    if (!card)
      return null;
    const stat = Array.from(card.querySelectorAll('.stat'))
      .find((x) => x.lastChild.textContent === 'acked');
    const n = stat ? Number(stat.firstChild.textContent.replace(/\D/g, '')) : 0;
    const procs = card.querySelector('.procs').textContent;
    return n >= 1 && /1 process running/.test(procs) ? { acked: n, procs } : null;
  }), 10000);
  ok(!!acked, 'the thumbnail group\'s card counts the delivery as acked and shows its process',
    JSON.stringify(acked));

  // 4. the detail pane: JSON, copy buttons, previews
  await page.evaluate((seq) => {
    const r = Array.from(document.querySelectorAll('#grid .row'))
      .find((x) => x.children[0].textContent === String(seq));
    r.click();
  }, created.seq);
  await page.waitForSelector('#detail:not([hidden])');
  const detailText = await page.textContent('#d-json');
  ok(/"detail-type": "Object Created"/.test(detailText) && /"key": "sunset.jpg"/.test(detailText),
    'the detail pane shows the event as pretty-printed JSON');
  const link = await until(() => page.getAttribute('#d-link', 'href'), 5000);
  ok(!!link && /X-Amz-Signature=/.test(link), 'the detail pane links the object (presigned)');
  const objOk = await until(() => page.evaluate(() => {
    const img = document.querySelector('#d-previews img[alt^="the object"]');
    return img && img.complete && img.naturalWidth > 0 ? img.naturalWidth : 0;
  }), 10000);
  ok(objOk === 640, 'the object preview loads', `naturalWidth ${objOk}`);
  const thOk = await until(() => page.evaluate(() => {
    const img = document.querySelector('#d-previews img[alt^="the thumbnail"]');
    return img && img.complete && img.naturalWidth > 0 ? img.naturalWidth : 0;
  }), 15000);
  ok(thOk > 0 && thOk < 640, 'the thumbnail preview loads', `naturalWidth ${thOk}`);
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
  const copied = async (sel) => {
    await page.evaluate(() => navigator.clipboard.writeText('-'));
    await page.click(sel);
    return until(async () => {
      const t = await page.evaluate(() => navigator.clipboard.readText());
      return t !== '-' ? t : null;
    }, 5000, 50);
  };
  const evJson = JSON.parse(await copied('#copy-json'));
  ok(evJson['detail-type'] === 'Object Created' && evJson.detail.object.key === 'sunset.jpg' &&
     typeof evJson.id === 'string', 'Copy JSON gives the event', JSON.stringify(evJson));
  const put = await copied('#copy-put');
  ok(/aws --endpoint-url http:\/\/127\.0\.0\.1:\d+ --region us-east-1 events put-events /
    .test(put) && /--entries '\[/.test(put),
    'Copy put-events gives an aws events put-events command', put.slice(0, 200));
  const exactText = await copied('#copy-pattern');
  const exact = JSON.parse(exactText);
  ok(exact.source[0] === 'aws.s3' && exact.detail.object.key[0] === 'sunset.jpg' &&
     exact.id[0] === evJson.id, 'Copy pattern gives a pattern for this event');

  // the thumbnail consumer's event links the source and shows its thumbnail
  await page.evaluate((seq) => {
    Array.from(document.querySelectorAll('#grid .row'))
      .find((x) => x.children[0].textContent === String(seq)).click();
  }, tevent.seq);
  const tprev = await until(() => page.evaluate(() => {
    const a = document.getElementById('d-link');
    const img = document.querySelector('#d-previews img[alt^="the thumbnail"]');
    return a.href && img && img.complete && img.naturalWidth > 0
      ? { link: a.textContent, w: img.naturalWidth } : null;
  }), 10000);
  ok(!!tprev && tprev.link === `${RAW}/sunset.jpg` && tprev.w > 0 && tprev.w < 640,
    'a "Thumbnail Created" event links its image and shows the thumbnail it names',
    JSON.stringify(tprev));

  // the copied pattern matches this event and no other (applied by the daemon)
  await applyPattern(page, exactText);
  const onlyOne = await until(async () => {
    const rows = await domRows(page);
    return /^filter:/.test(await page.textContent('#filter-state')) && rows.length === 1
      ? rows : null;
  }, 10000);
  ok(!!onlyOne && onlyOne[0].seq === created.seq,
    'the copied pattern matches exactly this event', JSON.stringify(await domRows(page)));
  await page.click('#f-reset');
  await waitAll(page);

  // the copied put-events command publishes the event again: run as it is
  // by sh with the aws CLI, or, with no aws CLI here, its entries through PutEvents
  const awsCli = (process.env.PATH || '').split(':').map((d) => join(d, 'aws'))
    .find((f) => { try { accessSync(f, constants.X_OK); return true; } catch { return false; } });
  let replayed;
  if (awsCli) {
    const out = await new Promise((res) => execFile('sh', ['-c', put], {
      timeout: 60000, env: { PATH: process.env.PATH, HOME: process.env.HOME || tmpdir() },
    }, (err, stdout, stderr) => res({ err, stdout, stderr })));
    try {
      replayed = JSON.parse(out.stdout);
    } catch {
      replayed = { error: `${out.err}: ${out.stderr}` };
    }
  } else {
    note('the aws CLI is not installed: the copied command is not run; its entries are sent ' +
         'through PutEvents instead');
    const entriesArg = put.slice(put.indexOf("--entries '") + 11, -1).replace(/'\\''/g, "'");
    replayed = await putEvents(JSON.parse(entriesArg));
  }
  const again = await waitRow(page, (r) => r.source === 'replay.aws.s3' &&
    r.type === 'Object Created' && r.bucket === RAW && r.key === 'sunset.jpg');
  ok(replayed.FailedEntryCount === 0 && !!again,
    `the copied put-events command publishes the event again${awsCli ? ' (run by sh)' : ''}`,
    JSON.stringify({ replayed, again }));

  // 5. more events: a text file (created, deleted), a custom event, the <script> key
  await putObject(RAW, 'notes.txt', 'hello');
  await deleteObject(RAW, 'notes.txt');
  await putEvents([{ Source: 'com.example.orders', DetailType: 'Order Placed',
    Detail: JSON.stringify({ order: 'A-1001', total: 42.5 }) }]);
  await putObject(RAW, XSS_KEY, 'not a script');
  const xss = await waitRow(page, (r) => r.key === XSS_KEY);
  // open it in the detail pane and list it in the bucket panel too
  await page.evaluate((key) => {
    Array.from(document.querySelectorAll('#grid .row'))
      .find((x) => x.children[5].textContent === key).click();
  }, XSS_KEY);
  await page.click('#tab-buckets');
  const xssTile = await until(() => page.evaluate((key) => Array.from(
    document.querySelectorAll(`.bucket[data-bucket="my-raw-images"] .tile`))
    .some((t) => t.title.startsWith(key + '\n')), XSS_KEY), 10000);
  await page.click('#tab-detail');
  const xssDom = await page.evaluate((key) => ({
    scripts: document.scripts.length,
    flag: window.__bbXss || 0,
    handlers: document.querySelectorAll('[onerror]').length,
    gridImgs: document.querySelectorAll('#grid img').length,
    link: document.getElementById('d-link').textContent === 'my-raw-images/' + key,
    json: /"key": "[^"]*window\.__bbXss/.test(document.getElementById('d-json').textContent),
  }), XSS_KEY);
  ok(!!xss && xssDom.scripts === 1 && xssDom.flag === 0 && xssDom.handlers === 0 &&
     xssDom.gridImgs === 0 && xssDom.link && xssDom.json && xssTile,
    'a key containing <script> is shown as text (table, detail pane, bucket panel)',
    JSON.stringify({ xssDom, xssTile }));
  await waitRow(page, (r) => r.type === 'Order Placed');

  // 6. pause and resume
  await page.click('#pause');
  await putObject(RAW, 'while-paused.txt', 'x');
  const buffered = await until(async () => /\(1 buffered\)/.test(await page.textContent('#pause')),
    10000);
  const hiddenWhilePaused = !(await domRows(page)).some((r) => r.key === 'while-paused.txt');
  ok(buffered && hiddenWhilePaused, 'pause buffers events and shows their count');
  await page.click('#pause');
  ok(!!(await waitRow(page, (r) => r.key === 'while-paused.txt', 5000)),
    'resume shows the buffered events');

  // clear empties the table (not the journal); new events still come
  await page.click('#clear');
  const cleared = await until(() => page.evaluate(() => {
    const rows = document.querySelectorAll('#grid .row:not([hidden])').length;
    const total = document.getElementById('count-total').textContent;
    return rows === 0 && total === '0' && !document.getElementById('grid-empty').hidden;
  }), 5000);
  await putObject(RAW, 'after-clear.txt', 'x');
  const afterClear = await until(async () => {
    const rows = await domRows(page);
    return rows.length === 1 && rows[0].key === 'after-clear.txt' ? rows : null;
  }, 10000);
  ok(cleared && !!afterClear, 'Clear empties the table, and new events appear after it',
    JSON.stringify(await domRows(page)));

  // 7. a pattern filter hides non-matching rows (applied server-side)
  await applyPattern(page, '{"detail": {"object": {"key": [{"suffix": ".jpg"}]}}}');
  const filtered = await until(async () => {
    const rows = await domRows(page);
    const st = await page.textContent('#filter-state');
    return /^filter:/.test(st) && rows.length > 0 &&
      rows.every((r) => r.key.endsWith('.jpg')) ? rows : null;
  }, 10000);
  ok(!!filtered && filtered.some((r) => r.key === 'sunset.jpg'),
    'a pattern filter hides the non-matching rows', JSON.stringify(filtered));
  const sent = subscribes[subscribes.length - 1] || {};
  ok(JSON.stringify(sent.pattern) === '{"detail":{"object":{"key":[{"suffix":".jpg"}]}}}' &&
     sent.from === 'earliest',
    'the filter goes to the daemon in the subscription (pattern and start)', JSON.stringify(sent));

  // 8. an invalid pattern shows the server's message; the previous filter stays
  await applyPattern(page, '{"detail": {"object": {"key": "sunset.jpg"}}}');
  await page.waitForSelector('#pattern-msg:not([hidden])', { timeout: 10000 });
  const msg = await page.textContent('#pattern-msg');
  // what the daemon itself answers to that subscription, on a socket of its own
  const daemonSays = (pattern) => page.evaluate(async (pattern) => {
    const cfg = await (await fetch('api/config')).json();
    const ws = new WebSocket(cfg.ws_url + '?token=' + encodeURIComponent(cfg.token));
    const answer = await new Promise((res) => {
      ws.onopen = () => ws.send(JSON.stringify({ type: 'subscribe', id: 'probe', pattern }));
      ws.onmessage = (m) => res(JSON.parse(m.data));
      setTimeout(() => res({}), 5000);
    });
    ws.close();
    return answer.message;
  }, pattern);
  const expected = await daemonSays({ detail: { object: { key: 'sunset.jpg' } } });
  ok(/^invalid event pattern: /.test(msg) && msg === expected,
    'an invalid pattern shows the server\'s message', `shown "${msg}", daemon "${expected}"`);
  note(`server said: ${msg}`);
  const still = await domRows(page);
  ok(still.length > 0 && still.every((r) => r.key.endsWith('.jpg')),
    'the previous filter is still applied after an invalid one');
  await applyPattern(page, '{"source": [');
  const synMsg = await until(async () => {
    const t = await page.textContent('#pattern-msg');
    return /^invalid event pattern: /.test(t) && t !== msg ? t : null;
  }, 10000);
  const synExpected = await daemonSays('{"source": [');
  ok(!!synMsg && synMsg === synExpected, 'text that is not JSON shows the server\'s message too',
    `shown "${synMsg}", daemon "${synExpected}"`);
  const still2 = await domRows(page);
  ok(still2.length > 0 && still2.every((r) => r.key.endsWith('.jpg')),
    'the previous filter is still applied after that too');

  // quick filters compose a pattern too
  await page.click('#f-reset');
  await page.selectOption('#f-bucket', RAW);
  await page.fill('#f-type', 'Object Deleted');
  await page.press('#f-type', 'Enter');
  const quick = await until(async () => {
    const rows = await domRows(page);
    return rows.length > 0 && rows.every((r) => r.type === 'Object Deleted' && r.bucket === RAW)
      ? rows : null;
  }, 10000);
  ok(!!quick && quick.length === 1 && quick[0].key === 'notes.txt',
    'quick filters (bucket, detail-type) filter server-side', JSON.stringify(quick));
  await page.click('#f-reset');
  await page.fill('#f-prefix', 'while-');
  await page.press('#f-prefix', 'Enter');
  const byPrefix = await until(async () => {
    const rows = await domRows(page);
    return rows.length > 0 && rows.every((r) => r.key.startsWith('while-')) ? rows : null;
  }, 10000);
  ok(!!byPrefix && byPrefix.some((r) => r.key === 'while-paused.txt' &&
     r.type === 'Object Created'), 'the key-prefix quick filter filters server-side',
  JSON.stringify(byPrefix));

  // replay from a chosen sequence: exactly the events after it, from the journal
  await page.click('#f-reset');
  await waitRow(page, (r) => r.key === 'after-clear.txt');
  const afterSeq = created.seq + 2;
  const journalNow = (await health()).last_sequence;
  await page.selectOption('#f-from', 'seq');
  await page.fill('#f-from-seq', String(afterSeq));
  await page.click('#f-apply');
  const fromSeq = await until(async () => {
    const seqs = await page.evaluate(() => window.bbViewer.seqs());
    return /from after #/.test(await page.textContent('#filter-state')) &&
      seqs.length === journalNow - afterSeq ? seqs : null;
  }, 10000);
  ok(!!fromSeq && fromSeq[0] === afterSeq + 1 && fromSeq[fromSeq.length - 1] === journalNow,
    `a filter change replays from a chosen sequence (after #${afterSeq}: ` +
    `#${afterSeq + 1}..#${journalNow})`, JSON.stringify(fromSeq));
  await page.click('#f-reset');
  await waitAll(page);

  // every filter change so far, including Reset followed at once by a quick
  // filter, left the daemon with one subscription of this page
  await sleep(300);
  const stillOpen = sock.opened.filter((id) => !sock.ended.has(id) && !sock.refused.has(id));
  ok(stillOpen.length === 1 && stillOpen[0] === sock.opened[sock.opened.length - 1],
    `after ${sock.opened.length} filter changes the page holds one subscription at the daemon`,
    JSON.stringify(stillOpen));

  // 9. the daemon restarts: the indicator recovers and no event is missed
  // The page's reconnection attempts are held off (its api/config fetch is
  // refused) until the restarted daemon has committed new events, so that
  // these events certainly happen while the page is away.
  const before = await page.evaluate(() => window.bbViewer.lastSeq());
  let holdPage = true;
  await page.route('**/_bucketbridge/api/config', (rt) => (holdPage ? rt.abort() : rt.continue()));
  const r = await stopDaemon();
  note(`daemon stopped (${r.sig || r.code}); last sequence seen ${before}`);
  await page.waitForSelector('#conn[data-state="down"]', { timeout: 10000 });
  ok(true, 'the connection indicator shows the daemon is gone');
  const retrying = await until(async () => /retrying in \d+ s/.test(
    await page.textContent('#conn')), 5000);
  ok(retrying, 'the indicator counts down to its next attempt', await page.textContent('#conn'));
  await sleep(1000);
  await startDaemon();
  const gap = ['after-restart-1.txt', 'after-restart-2.txt', 'after-restart-3.txt'];
  for (const k of gap)
    await putObject(RAW, k, k);
  const awayDuringGap = !(await page.evaluate(() => window.bbViewer.connected())) &&
    (await page.getAttribute('#conn', 'data-state')) === 'down';
  ok(awayDuringGap, 'the uploads after the restart happen while the page is disconnected');
  const subsBefore = subscribes.length;
  holdPage = false;
  await page.waitForSelector('#conn[data-state="live"]', { timeout: 20000 });
  ok(true, 'the connection indicator recovers by itself');
  await page.unroute('**/_bucketbridge/api/config');
  const resumed = await until(() => subscribes.slice(subsBefore)[0], 5000);
  ok(!!resumed && resumed.from === before,
    `the page subscribes again from the last sequence it saw (#${before})`,
    JSON.stringify(resumed));
  const journal = (await health()).last_sequence;
  await until(() => page.evaluate((j) => window.bbViewer.lastSeq() >= j, journal), 10000);
  const seqs = await page.evaluate(() => window.bbViewer.seqs());
  const missing = [];
  for (let s = 1; s <= journal; s++)
    if (!seqs.includes(s))
      missing.push(s);
  const dups = seqs.length - new Set(seqs).size;
  ok(missing.length === 0 && dups === 0 && seqs[seqs.length - 1] === journal,
    `no event missed across the restart (1..${journal} all shown once)`,
    `missing ${JSON.stringify(missing)} duplicates ${dups}`);
  ok(!!(await waitRow(page, (x) => x.key === gap[2], 5000)),
    'events published while the page was away are shown');

  // replay from a chosen time (typed in the page's time zone, sent in UTC)
  let atT, beforeT;
  for (;;) {
    atT = Math.ceil(Date.now() / 1000) * 1000 + 1000;
    beforeT = (await health()).last_sequence;
    if (Date.now() < atT - 200)
      break;
  }
  await sleep(atT - Date.now() + 50);
  await putObject(RAW, 'since-time.txt', 'x');
  const sinceRow = await waitRow(page, (x) => x.key === 'since-time.txt');
  const localT = await page.evaluate((t) => new Date(t - new Date(t).getTimezoneOffset() * 60000)
    .toISOString().slice(0, 19), atT);
  await page.selectOption('#f-from', 'time');
  await page.fill('#f-from-time', localT);
  const subsT = subscribes.length;
  await page.click('#f-apply');
  const fromTime = await until(async () => {
    const seqs = await page.evaluate(() => window.bbViewer.seqs());
    return /from since /.test(await page.textContent('#filter-state')) && seqs.length > 0 &&
      seqs[0] === beforeT + 1 ? seqs : null;
  }, 10000);
  const sentT = subscribes.slice(subsT)[0] || {};
  ok(!!fromTime && !!sinceRow && fromTime.includes(sinceRow.seq) &&
     sentT.from === new Date(atT).toISOString().slice(0, 19) + 'Z',
    `a filter change replays from a chosen time (${localT} local = ${sentT.from}: ` +
    `#${beforeT + 1} on)`, JSON.stringify({ fromTime, sentT, beforeT }));
  await page.click('#f-reset');
  await waitAll(page);

  // 10. the rate chart and the screenshot for docs/
  await sleep(1100); /* one chart tick after the refill */
  const rateSeen = await page.evaluate(() => {
    const box = document.getElementById('rate-legend').getBoundingClientRect();
    return Array.from(document.querySelectorAll('#rate-legend .lg'), (it) => {
      const b = it.getBoundingClientRect();
      return { type: it.children[1].textContent, n: Number(it.lastChild.textContent.replace(/\D/g,
        '')), inside: b.top >= box.top - 1 && b.bottom <= box.bottom + 1 && b.width > 0 };
    });
  });
  const byType = {};
  for (const rw of await page.evaluate(() => window.bbViewer.rows()))
    byType[rw.type] = (byType[rw.type] || 0) + 1;
  const bars = await page.evaluate(() => {
    const cv = document.getElementById('rate-canvas');
    const d = cv.getContext('2d').getImageData(0, 0, cv.width, cv.height).data;
    const colours = new Set();
    for (let i = 0; i < d.length; i += 4)
      if (d[i + 3] === 255)
        colours.add(`${d[i]},${d[i + 1]},${d[i + 2]}`);
    return colours.size;
  });
  ok(bars >= 4, 'the rate chart draws bars in a colour per detail-type', `${bars} colours`);
  ok(Object.keys(byType).length >= 4 && Object.entries(byType).every(([t, c]) =>
    rateSeen.some((x) => x.type === t && x.n === c && x.inside)),
  'the rate chart\'s legend counts every detail-type in view (none clipped)',
  JSON.stringify({ byType, rateSeen }));
  await page.evaluate((seq) => {
    const row = Array.from(document.querySelectorAll('#grid .row'))
      .find((x) => x.children[0].textContent === String(seq));
    row.click();
  }, created.seq);
  await until(() => page.evaluate(() => {
    const img = document.querySelector('#d-previews img[alt^="the object"]');
    return img && img.complete && img.naturalWidth > 0;
  }), 10000);
  if (!(await page.isHidden('#pattern-box')))
    await page.click('#f-pattern-toggle');
  await page.mouse.move(700, 880); /* no hover highlight in the picture */
  await sleep(1200); /* one chart tick */
  const shot = process.env.BB_SCREENSHOT ? resolve(here, '..', '..', process.env.BB_SCREENSHOT)
    : join(tmpdir(), 'bucketbridge-viewer.png');
  await page.screenshot({ path: shot });
  note(`screenshot: ${shot}`);

  // 11. the dead-letter queue: a file that is not an image is dead-lettered
  // by the thumbnail consumer; the panel lists it, and Redrive sends it back
  await putObject(RAW, 'broken.jpg', 'this is not a JPEG', 'image/jpeg');
  const brokenRow = await waitRow(page, (x) => x.key === 'broken.jpg' &&
    x.type === 'Object Created' && x.source === 'aws.s3');
  const failedRows = async () => (await page.evaluate(() => window.bbViewer.rows()))
    .filter((x) => x.type === 'Thumbnail Failed' && x.key === 'broken.jpg');
  const failed1 = await until(async () => (await failedRows()).length === 1, 30000);
  ok(!!brokenRow && failed1, 'an upload that is not an image gets the consumer\'s ' +
    '"Thumbnail Failed" row');
  await page.click('#tab-pipeline');
  const dlqSel = '#dlqs .dlq[data-arn$=":thumbnail-dlq"]';
  const dlqText = async (sub) => (await page.$(`${dlqSel} ${sub}`))
    ? page.textContent(`${dlqSel} ${sub}`) : '';
  const depth1 = await until(async () => (await dlqText('.depth')) === '1 event', 10000);
  const deadStat = await page.evaluate(() => {
    const card = document.querySelector('#groups [data-group="thumbnail"]');
    const st = card && Array.from(card.querySelectorAll('.stat'))
      .find((x) => x.lastChild.textContent === 'dead');
    return st ? st.firstChild.textContent : null;
  });
  ok(depth1 && deadStat === '1', 'the pipeline panel shows the dead-letter queue\'s depth ' +
    'and the group\'s dead count', `depth "${await dlqText('.depth')}", dead ${deadStat}`);
  await page.click(`${dlqSel} button:has-text("View")`);
  const listed = await until(async () => {
    const t = await dlqText('.dlq-list');
    return t.includes(`#${brokenRow.seq}`) && /not an image/.test(t) ? t : null;
  }, 10000);
  ok(!!listed, 'View lists the dead-lettered event with its error',
    await dlqText('.dlq-list'));
  await page.click(`${dlqSel} button.redrive`);
  const redrove = await until(async () => /Redrove 1 event from thumbnail-dlq/
    .test(await page.textContent('#toasts')), 10000);
  const failed2 = await until(async () => (await failedRows()).length === 2, 30000);
  ok(redrove && failed2, 'Redrive sends the event back: the consumer gets it again ' +
    '(a second "Thumbnail Failed")', await page.textContent('#toasts'));
  await page.click('#tab-detail');

  // 11b. dark mode and laptop widths
  const look = () => page.evaluate(() => {
    const lum = (c) => {
      const v = (c.match(/[\d.]+/g) || [0, 0, 0]).slice(0, 3).map((x) => {
        const f = Number(x) / 255;
        return f <= 0.03928 ? f / 12.92 : Math.pow((f + 0.055) / 1.055, 2.4);
      });
      return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2];
    };
    const bgOf = (e) => {
      for (; e; e = e.parentElement) {
        const c = getComputedStyle(e).backgroundColor;
        if (c !== 'transparent' && !/^rgba\(.*, 0\)$/.test(c))
          return c;
      }
      return 'rgb(255, 255, 255)';
    };
    const contrast = {};
    for (const sel of ['#grid .row:not([hidden]) .c-key', '#grid .row:not([hidden]) .c-seq',
      '#grid .row:not([hidden]) .c-type > span', '.grid-head span', '#d-json .j-s',
      '#d-json .j-k', '#filter-state', '.top .name', '#count-total', '#rate-legend .lg span',
      '#f-apply', '#tab-detail']) {
      const e = document.querySelector(sel);
      if (!e)
        return { missing: sel };
      const a = lum(getComputedStyle(e).color), b = lum(bgOf(e));
      contrast[sel] = Math.round((Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05) * 10) / 10;
    }
    return { bg: Math.round(lum(bgOf(document.body)) * 100) / 100, contrast };
  });
  const light = await look();
  await page.emulateMedia({ colorScheme: 'dark' });
  await sleep(1100); /* the chart redraws with the dark colours */
  const dark = await look();
  await page.screenshot({ path: join(tmpdir(), 'bucketbridge-viewer-dark.png') });
  await page.emulateMedia({ colorScheme: 'light' });
  const readable = (l) => l.contrast && Object.values(l.contrast).every((c) => c >= 4.5);
  ok(light.bg > 0.8 && readable(light), 'light scheme: every kind of text has contrast >= 4.5',
    JSON.stringify(light));
  ok(dark.bg < 0.05 && readable(dark), 'dark preference: a dark page, every kind of text has ' +
    'contrast >= 4.5', JSON.stringify(dark));

  const layout = () => page.evaluate(() => {
    const ev = document.querySelector('.events').getBoundingClientRect();
    const side = document.querySelector('.side').getBoundingClientRect();
    const clipped = (e) => e.scrollWidth > e.clientWidth + 1;
    const heads = Array.from(document.querySelectorAll('.grid-head span'), (h) => ({
      t: h.textContent, w: Math.round(h.getBoundingClientRect().width),
      shown: getComputedStyle(h).visibility !== 'hidden', clipped: clipped(h) }));
    const cut = [];
    for (const c of document.querySelectorAll('#grid .row:not([hidden]) > span:not(.c-key)')) {
      const inner = c.classList.contains('c-type') ? c.lastChild : c;
      if (getComputedStyle(c).visibility !== 'hidden' && clipped(inner))
        cut.push(inner.textContent);
    }
    const over = Array.from(document.querySelectorAll('.top, .filters, .tabs, .copy-row'))
      .filter(clipped).map((e) => e.className);
    return {
      hscroll: document.documentElement.scrollWidth > window.innerWidth + 1,
      sideW: Math.round(side.width), beside: side.left >= ev.right - 1,
      keyW: heads[5].w, heads: heads.filter((h) => h.shown && h.clipped).map((h) => h.t),
      shown: heads.filter((h) => h.shown).length, cut: Array.from(new Set(cut)), over,
    };
  });
  // columns shown: all eight above 1366 px; the reason folds away at 1366,
  // the source too at 1100; stacked (940 and less), the reason comes back
  const columnsAt = (w) => (w > 1366 ? 8 : w > 1100 ? 7 : w > 940 ? 6 : 7);
  for (const [w, hgt] of [[1440, 900], [1366, 768], [1280, 800], [1024, 768], [900, 800]]) {
    await page.setViewportSize({ width: w, height: hgt });
    await sleep(300);
    const lay = await layout();
    if (w === 1280)
      await page.screenshot({ path: join(tmpdir(), 'bucketbridge-viewer-1280.png') });
    const wide = w >= 1024;
    ok(!lay.hscroll && lay.heads.length === 0 && lay.cut.length === 0 && lay.over.length === 0 &&
       lay.keyW >= 160 && (wide ? lay.beside && lay.sideW >= 320 : !lay.beside) &&
       lay.shown === columnsAt(w),
    `at ${w}x${hgt} the page fits: ${columnsAt(w)} columns, keys at least 160 px wide, no ` +
    'sideways scroll, no clipped header, control or cell but keys, ' +
    `${wide ? 'the side panel beside the table' : 'the panels stacked'}`,
    JSON.stringify(lay));
  }
  await page.setViewportSize({ width: 1440, height: 900 });

  // 12. a burst through the real daemon (publish over a second WebSocket)
  const n = Number(process.env.BB_VIEWER_EVENTS ?? 2000);
  if (!(n >= 1))
    throw new Error(`BB_VIEWER_EVENTS=${process.env.BB_VIEWER_EVENTS}: give a positive count`);
  {
    await page.click('#tab-detail');
    const startSeq = (await health()).last_sequence;
    const t0 = Date.now();
    const got = await page.evaluate(async ({ n, startSeq }) => {
      const cfg = await (await fetch('api/config')).json();
      const ws = new WebSocket(cfg.ws_url + '?token=' + encodeURIComponent(cfg.token));
      await new Promise((res, rej) => {
        ws.onopen = res;
        ws.onerror = rej;
      });
      const batches = Math.ceil(n / 10);
      let sent = 0, acked = 0;
      const push = () => {
        const entries = [];
        for (let i = 0; i < 10 && sent * 10 + i < n; i++)
          entries.push({ Source: 'com.example.load', DetailType: 'Load Test',
            Detail: JSON.stringify({ i: sent * 10 + i }) });
        sent++;
        ws.send(JSON.stringify({ type: 'publish', entries }));
      };
      await new Promise((res) => {
        ws.onmessage = (m) => {
          if (JSON.parse(m.data).type !== 'published')
            return;
          if (++acked === batches)
            res();
          else if (sent < batches)
            push();
        };
        for (let i = 0; i < 16 && sent < batches; i++)
          push();
      });
      ws.close();
      const t = performance.now();
      while (window.bbViewer.lastSeq() < startSeq + n && performance.now() - t < 60000)
        await new Promise((r) => setTimeout(r, 100));
      return window.bbViewer.lastSeq() - startSeq;
    }, { n, startSeq });
    note(`${n} events through the daemon in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    ok(got === n, `a burst of ${n} events published through the daemon all reach the page`,
      `${got} arrived`);
  }

  // 12b. the table follows new events at the top; scrolled away, the rows
  // stay where they are and a button counts the newer ones
  const view = () => page.evaluate(() => {
    const g = document.getElementById('grid');
    const top = g.getBoundingClientRect().top;
    const rows = Array.from(document.querySelectorAll('#grid .row:not([hidden])'), (x) => ({
      seq: Number(x.children[0].textContent), y: x.getBoundingClientRect().top - top }))
      .filter((x) => x.y >= -1).sort((a, b) => a.y - b.y);
    const pill = document.getElementById('new-pill');
    return { scrollTop: g.scrollTop, first: rows.length ? rows[0].seq : null,
      firstY: rows.length ? Math.round(rows[0].y) : null,
      pill: pill.hidden ? '' : pill.textContent, last: window.bbViewer.lastSeq() };
  });
  const publishN = (k, tag) => putEvents(Array.from({ length: k }, (_, i) => ({
    Source: 'com.example.scroll', DetailType: 'Scroll Test', Detail: JSON.stringify({ tag, i }) })));
  await page.evaluate(() => {
    document.getElementById('grid').scrollTop = 26 * 300;
  });
  await sleep(300);
  const away = await view();
  await publishN(5, 'away');
  const pilled = await until(async () => {
    const v = await view();
    return v.last === away.last + 5 && /↑ 5 newer events/.test(v.pill) ? v : null;
  }, 10000);
  ok(!!pilled && pilled.first === away.first && pilled.firstY === away.firstY,
    'scrolled away from the top, new events leave the rows in place and a button counts them',
    JSON.stringify({ away, pilled }));
  await page.click('#new-pill');
  const back = await until(async () => {
    const v = await view();
    return v.scrollTop === 0 && v.first === v.last && v.pill === '' ? v : null;
  }, 5000);
  ok(!!back, 'the button goes back to the newest event', JSON.stringify(await view()));
  await publishN(1, 'top');
  const follows = await until(async () => {
    const v = await view();
    return v.last === back.last + 1 && v.first === v.last && v.scrollTop === 0 ? v : null;
  }, 10000);
  ok(!!follows, 'at the top, the table follows new events', JSON.stringify(await view()));

  // 13. 100,000 events in a session: a second page whose event stream is a
  // stand-in WebSocket generating events inside the page (so what is measured
  // is the page, not the daemon's publish rate or the test's plumbing)
  const big = Number(process.env.BB_VIEWER_MOCK_EVENTS ?? 100000);
  if (!(big >= 1))
    throw new Error(`BB_VIEWER_MOCK_EVENTS=${process.env.BB_VIEWER_MOCK_EVENTS}: ` +
      'give a positive count');
  {
    const page2 = await context.newPage();
    page2.on('pageerror', (e) => pageErrors.push(`(load page) ${e.message}`));
    // The stand-in starts its flood once window.__bbHold is false.
    const floodInit = ({ big, bucket, hold }) => {
      const Real = window.WebSocket;
      window.__bbHold = hold;
      window.__bbProbe = { max: 0, last: performance.now(), done: false };
      setInterval(() => {
        const now = performance.now();
        window.__bbProbe.max = Math.max(window.__bbProbe.max, now - window.__bbProbe.last);
        window.__bbProbe.last = now;
      }, 50);
      class FakeEvents {
        constructor(url) {
          if (!/\/_bucketbridge\/events/.test(url))
            return new Real(url);
          this.readyState = 0;
          setTimeout(() => {
            this.readyState = 1;
            this.onopen && this.onopen({});
          }, 10);
        }
        close() {
          this.readyState = 3;
        }
        send(text) {
          const m = JSON.parse(text);
          if (m.type !== 'subscribe' || this.flooding)
            return;
          this.flooding = true;
          this.onmessage({ data: JSON.stringify({ type: 'subscribed', id: m.id, after: 0,
            last_seq: 0 }) });
          const types = ['Object Created', 'Object Created', 'Object Deleted', 'Order Placed'];
          let seq = 0;
          const chunk = () => {
            for (let i = 0; i < 500 && seq < big; i++) {
              seq++;
              const type = types[seq % types.length];
              const key = seq % 1000 === 0 ? `<b>bold ${seq}</b>.jpg` : `load/${seq}.jpg`;
              const ev = { version: '0', id: `id-${seq}`, 'detail-type': type,
                source: type === 'Order Placed' ? 'com.example.orders' : 'aws.s3',
                account: '000000000000', time: new Date().toISOString().slice(0, 19) + 'Z',
                region: 'us-east-1', resources: [],
                detail: { bucket: { name: bucket },
                  object: { key: encodeURIComponent(key), size: seq }, reason: 'PutObject' } };
              this.onmessage({ data: `{"type":"event","sub":${JSON.stringify(m.id)},"seq":` +
                `${seq},"event":${JSON.stringify(ev)}}` });
            }
            if (seq < big)
              setTimeout(chunk, 0);
            else
              window.__bbProbe.done = true;
          };
          const go = () => (window.__bbHold ? setTimeout(go, 20) : chunk());
          setTimeout(go, 0);
        }
      }
      FakeEvents.OPEN = 1;
      FakeEvents.CONNECTING = 0;
      FakeEvents.CLOSED = 3;
      window.WebSocket = FakeEvents;
    };
    await page2.addInitScript(floodInit, { big, bucket: RAW, hold: false });
    await page2.goto(`${origin}/_bucketbridge/`);
    const t0 = Date.now();
    await until(() => page2.evaluate((b) => window.bbViewer.lastSeq() >= b, big), 240000, 250);
    const secs = (Date.now() - t0) / 1000;
    const stats = await page2.evaluate(() => ({
      lastSeq: window.bbViewer.lastSeq(),
      kept: window.bbViewer.seqs().length,
      domRows: document.querySelectorAll('#grid .row').length,
      stallMs: Math.round(window.__bbProbe.max),
      heapMB: performance.memory ? Math.round(performance.memory.usedJSHeapSize / 1048576) : -1,
      dropped: document.getElementById('count-dropped').textContent,
    }));
    note(`${big} events into one page in ${secs.toFixed(1)} s: ${JSON.stringify(stats)} ` +
      `(load average ${loadavg()[0].toFixed(1)} on ${cpus().length} CPUs)`);
    ok(stats.lastSeq === big, `all ${big} events reached the page`);
    ok(stats.kept <= 20000 && stats.domRows < 200 && /older rows dropped/.test(stats.dropped),
      'the table stays bounded (older rows dropped, rows virtualized)', JSON.stringify(stats));
    ok(stats.stallMs < 1500, 'the page stays responsive (longest main-thread stall < 1.5 s)',
      `${stats.stallMs} ms`);
    ok(stats.heapMB >= 0 && stats.heapMB < 200, 'the JS heap stays small (< 200 MB)',
      `${stats.heapMB} MB`);
    const t1 = Date.now();
    await page2.evaluate(async () => {
      const g = document.getElementById('grid');
      for (let i = 0; i < 30; i++) {
        g.scrollTop += 20000;
        await new Promise((r) => requestAnimationFrame(r));
      }
    });
    const scrollMs = Date.now() - t1;
    // Click the centre of a row wholly inside the grid's viewport, so that
    // Playwright's scroll-into-view cannot re-render (recycle) the row under
    // the pointer; a recycled row under a busy machine is retried.
    let opened = false;
    for (let attempt = 0; attempt < 3 && !opened; attempt++) {
      const box = await page2.evaluate(() => {
        const g = document.getElementById('grid').getBoundingClientRect();
        for (const r of document.querySelectorAll('#grid .row:not([hidden])')) {
          const b = r.getBoundingClientRect();
          if (b.height > 0 && b.top >= g.top && b.bottom <= g.bottom)
            return { x: b.left + b.width / 2, y: b.top + b.height / 2 };
        }
        return null;
      });
      if (box)
        await page2.mouse.click(box.x, box.y);
      opened = await page2.waitForSelector('#detail:not([hidden])', { timeout: 10000 })
        .then(() => true, () => false);
    }
    ok(opened, 'a row clicked after scrolling to the end opens the detail pane');
    note(`30 frames, each jumping 20,000 px down the table: ${scrollMs} ms`);
    ok(scrollMs < 6000, 'scrolling through the whole table renders only the visible rows',
      `${scrollMs} ms`);
    const bold = await page2.evaluate(() => document.querySelectorAll('#grid .row b').length);
    ok(bold === 0, 'keys with HTML in the load are shown as text');
    await page2.close();

    // the same load while paused: the count keeps up, the page stays
    // responsive, and resume shows the newest 20,000 with the rest counted
    const page3 = await context.newPage();
    page3.on('pageerror', (e) => pageErrors.push(`(paused load page) ${e.message}`));
    await page3.addInitScript(floodInit, { big, bucket: RAW, hold: true });
    await page3.goto(`${origin}/_bucketbridge/`);
    await page3.waitForSelector('#conn[data-state="live"]', { timeout: 15000 });
    await page3.click('#pause');
    await page3.evaluate(() => {
      window.__bbProbe.max = 0;
      window.__bbHold = false;
    });
    await until(() => page3.evaluate((b) => window.bbViewer.lastSeq() >= b, big), 240000, 250);
    await sleep(100);
    const paused = await page3.evaluate((b) => ({
      label: document.getElementById('pause').textContent,
      want: `Resume (${b.toLocaleString()} buffered)`,
      rows: window.bbViewer.seqs().length,
      stallMs: Math.round(window.__bbProbe.max),
    }), big);
    note(`${big} events into a paused page: ${JSON.stringify(paused)}`);
    ok(paused.label === paused.want && paused.rows === 0 && paused.stallMs < 1500,
      `paused, ${big} events are counted as buffered and the page stays responsive`,
      JSON.stringify(paused));
    await page3.click('#pause');
    const resumed3 = await until(() => page3.evaluate((b) => {
      const seqs = window.bbViewer.seqs();
      const kept = Math.min(b, 20000);
      const dropped = document.getElementById('count-dropped');
      const first = document.querySelector('#grid .row:not([hidden])');
      return seqs.length === kept && seqs[seqs.length - 1] === b && seqs[0] === b - kept + 1 &&
        (b > kept ? !dropped.hidden && dropped.textContent.startsWith(
          (b - kept).toLocaleString() + ' older rows dropped') : dropped.hidden) &&
        first && Number(first.children[0].textContent) === b
        ? { kept: seqs.length, dropped: dropped.textContent } : null;
    }, big), 10000);
    ok(!!resumed3, 'resume shows the newest events, and the header counts the ones dropped',
      JSON.stringify(resumed3));
    await page3.close();
  }

  ok(pageErrors.length === 0, 'no script errors or dialogs on the page', pageErrors.join('; '));
  ok(offsite.length === 0, 'the page asked no other host for anything', offsite.join(', '));
  exitCode = failures === 0 ? 0 : 1;
} catch (e) {
  console.log(`not ok - ${e.stack || e}`);
  exitCode = 1;
} finally {
  if (browser)
    await browser.close().catch(() => {});
  await stopDaemon().catch(() => {});
  if (exitCode !== 0 && existsSync(logPath)) {
    const log = readFileSync(logPath, 'utf8').split('\n');
    console.log('# daemon log (last 40 lines):');
    for (const l of log.slice(-40))
      console.log(`#   ${l}`);
  }
  if (!process.env.BB_KEEP)
    rmSync(base, { recursive: true, force: true });
  else
    note(`kept ${base}`);
}
console.log(exitCode === 0 ? `# PASS (${step} checks)` : `# FAIL (${failures} of ${step} checks)`);
process.exit(exitCode);
