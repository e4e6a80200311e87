#!/usr/bin/env node
/**
 * Makes sure the Chromium the browser tests drive exists (Playwright's own browser download is
 * blocked here, so playwright.config.ts points at Debian's /usr/bin/chromium). If it is missing and
 * we are root on a system with apt-get, installs Debian's `chromium` package; otherwise exits 1
 * saying what to install. CHROMIUM_PATH overrides the path, as in playwright.config.ts.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';

const path = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

function executable(p) {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function hasCommand(name) {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

if (executable(path)) {
  process.exit(0);
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
if (path === '/usr/bin/chromium' && isRoot && hasCommand('apt-get')) {
  console.log(`${path} is missing: installing Debian's chromium package with apt-get…`);
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    execFileSync('apt-get', ['update'], { stdio: 'inherit', env });
    execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], { stdio: 'inherit', env });
  } catch (err) {
    console.error(`apt-get could not install chromium: ${err instanceof Error ? err.message : err}`);
    process.exit(1);
  }
  if (executable(path)) process.exit(0);
  console.error(`apt-get finished but ${path} is still missing.`);
  process.exit(1);
}

console.error(
  [
    `Chromium not found at ${path}; the browser tests need it.`,
    'Install it, e.g. as root on Debian/Ubuntu: apt-get install -y chromium',
    "(Playwright's own download, `npx playwright install chromium`, is blocked here),",
    'or set CHROMIUM_PATH to another Chromium/Chrome binary.',
  ].join('\n'),
);
process.exit(1);
