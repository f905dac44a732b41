// SPDX-License-Identifier: MIT
// Runs sdkv3.test.mjs with node's built-in test runner, or exits 77 (ctest
// SKIP) when the SDK was not installed (npm install --prefix tests/integration/js)
// or BB_DAEMON is not set.
import { spawnSync } from 'node:child_process';
import { existsSync, accessSync, constants } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const SKIP = 77;

if (!existsSync(join(here, 'node_modules', '@aws-sdk', 'client-s3', 'package.json'))) {
  console.log(`SKIP: @aws-sdk/client-s3 is not installed in ${join(here, 'node_modules')}; ` +
              'run: npm install --prefix tests/integration/js');
  process.exit(SKIP);
}
const daemon = process.env.BB_DAEMON;
if (!daemon) {
  console.log('SKIP: BB_DAEMON is not set (path to the bucketbridge binary)');
  process.exit(SKIP);
}
try {
  accessSync(daemon, constants.X_OK);
} catch {
  console.log(`FAIL: BB_DAEMON=${daemon} is not executable (build the bucketbridge target first)`);
  process.exit(1);
}
const major = Number(process.versions.node.split('.')[0]);
if (major < 18) {
  console.log(`SKIP: node ${process.versions.node} has no built-in test runner`);
  process.exit(SKIP);
}

const r = spawnSync(process.execPath,
  ['--test', '--test-reporter=spec', join(here, 'sdkv3.test.mjs')],
  { cwd: here, stdio: 'inherit' });
if (r.error) {
  console.error(r.error);
  process.exit(1);
}
process.exit(r.status ?? 1);
