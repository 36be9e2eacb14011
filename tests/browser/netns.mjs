// Network namespaces of a test's own for two-host tests (browser-loss, browser-bandwidth):
// each is held by `unshare --net sh -c '…; exec cat'`, which lives until its stdin (our pipe)
// closes, so the namespace goes with the test however it ends; nothing gets a name in /run/netns.
// The test itself runs inside tests/netns-run.sh's private namespace.

import { spawn } from 'node:child_process';
import { accessSync, constants, rmSync } from 'node:fs';
import path from 'node:path';
import { check, skip, startProcess, waitForLine } from './testkit.mjs';

/** Full paths of @tools ([name, Debian package] pairs), skipping the test when one is missing. */
export function findTools(tools) {
  const dirs = [...(process.env.PATH || '').split(path.delimiter), '/usr/sbin', '/sbin'].filter(Boolean);
  const found = {};
  for (const [tool, pkg] of tools) {
    for (const dir of dirs) {
      try {
        accessSync(path.join(dir, tool), constants.X_OK);
        found[tool] = path.join(dir, tool);
        break;
      } catch {
        // not here
      }
    }
    if (!found[tool]) skip(`${tool} is not installed (apt-get install ${pkg})`);
  }
  return found;
}

/** Runs a command to completion; resolves {code, out}. */
export function run(cmd, args, input) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c) => { out += c; });
    child.stderr.on('data', (c) => { out += c; });
    child.on('error', (err) => resolve({ code: -1, out: String(err) }));
    child.on('close', (code) => resolve({ code, out: out.trim() }));
    if (input !== undefined) {
      child.stdin.on('error', () => {});
      child.stdin.end(input);
    }
  });
}

/** A namespace with lo up; .netns is its path, .exec/.must run a tool inside it. */
export async function makeNamespace(label, tools) {
  const holder = startProcess(label, tools.unshare, ['--net', '--', 'sh', '-c',
    `${tools.ip} link set lo up && echo ready && exec cat >/dev/null`],
  { stdio: ['pipe', 'pipe', 'pipe'] });
  await waitForLine(holder, /^ready$/, 5000);
  holder.stdin.on('error', () => {});
  holder.netns = `/proc/${holder.pid}/ns/net`;
  holder.exec = (cmd, args, input) => run(tools.nsenter,
    [`--net=${holder.netns}`, '--', tools[cmd] ?? cmd, ...args], input);
  holder.must = async (cmd, args, input) => {
    const r = await holder.exec(cmd, args, input);
    check(r.code === 0, `${label}: ${cmd} ${args.join(' ')} failed (${r.code}): ${r.out}`);
    return r.out;
  };
  return holder;
}

/** A veth pair created straight into @a and @b: ends {send: [name, address], view: [...]}, /24. */
export async function linkNamespaces(a, b, tools, ends) {
  const [aName, aAddr] = ends.send;
  const [bName, bAddr] = ends.view;
  const r = await run(tools.ip, ['link', 'add', aName, 'netns', String(a.pid), 'type', 'veth',
    'peer', 'name', bName, 'netns', String(b.pid)]);
  if (r.code !== 0) skip(`cannot create a veth pair here: ${r.out}`);
  await a.must('ip', ['addr', 'add', `${aAddr}/24`, 'dev', aName]);
  await a.must('ip', ['link', 'set', aName, 'up']);
  await b.must('ip', ['addr', 'add', `${bAddr}/24`, 'dev', bName]);
  await b.must('ip', ['link', 'set', bName, 'up']);
}

/**
 * Last resort (overall timeout, meson's kill, Ctrl-C, an uncaught error): SIGKILLs the child
 * processes @children() returns and removes the folder @folder() returns, so nothing of test
 * @name outlives it (its namespaces go with their last processes); a signal fails the test.
 */
export function cleanUpOnExit(name, children, folder) {
  process.on('exit', () => {
    for (const child of children()) {
      if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    const dir = folder();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) {
    process.on(signal, () => {
      console.log(`FAIL ${name}: killed by ${signal}`);
      process.exit(1);
    });
  }
}
