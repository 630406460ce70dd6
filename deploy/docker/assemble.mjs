#!/usr/bin/env node
/**
 * Used by the root Dockerfile; plain Node, no dependencies.
 *
 *   node deploy/docker/assemble.mjs --manifests OUT
 *     copies what `npm ci` needs and nothing else: the root package.json, package-lock.json and
 *     every workspace's package.json, at their paths. The install layer of the image then stays
 *     cached until one of them changes.
 *
 *   node deploy/docker/assemble.mjs --app APP OUT      (after `nx run-many -t build`)
 *     OUT/manifests/  the same files as --manifests
 *     OUT/app/        the runtime tree of apps/APP: its dist/ and those of the workspace libraries
 *                     it depends on (transitively, production dependencies only), with their
 *                     runtime assets (libs/clickhouse/migrations), healthcheck.mjs, and for the
 *                     gateway the dashboard's static build as dashboard/ (GATEWAY_STATIC_DIR)
 *
 * Source maps of declarations and build info files are left out; so are tests (*.spec.*).
 */
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Directories of a workspace package that the running app needs besides package.json. */
const RUNTIME_DIRS = ['dist', 'migrations'];
const APPS = ['collector', 'aggregator', 'gateway', 'exchange-sim'];

function readJson(file) {
  return JSON.parse(readFileSync(file, 'utf8'));
}

/** Workspace folders matching the root's "workspaces" patterns ("dir" or "dir/*"). */
export function workspaceDirs(root) {
  const patterns = readJson(join(root, 'package.json')).workspaces ?? [];
  const dirs = [];
  for (const p of patterns) {
    if (p.endsWith('/*')) {
      const base = join(root, p.slice(0, -2));
      if (!existsSync(base)) continue;
      for (const name of readdirSync(base).sort()) {
        const dir = join(base, name);
        if (statSync(dir).isDirectory() && existsSync(join(dir, 'package.json'))) dirs.push(relative(root, dir));
      }
    } else if (!/[*?[]/.test(p)) {
      if (existsSync(join(root, p, 'package.json'))) dirs.push(p);
    } else {
      throw new Error(`workspace pattern ${p} is not supported by assemble.mjs (use "dir" or "dir/*")`);
    }
  }
  return dirs;
}

export function copyManifests(root, out) {
  mkdirSync(out, { recursive: true });
  for (const f of ['package.json', 'package-lock.json', '.npmrc']) {
    if (existsSync(join(root, f))) cpSync(join(root, f), join(out, f));
  }
  if (!existsSync(join(root, 'package-lock.json')))
    throw new Error('package-lock.json is missing: the images are built with npm ci');
  for (const dir of workspaceDirs(root)) {
    mkdirSync(join(out, dir), { recursive: true });
    cpSync(join(root, dir, 'package.json'), join(out, dir, 'package.json'));
  }
}

/** Workspace packages by name -> folder. */
function workspacePackages(root) {
  const byName = new Map();
  for (const dir of workspaceDirs(root)) byName.set(readJson(join(root, dir, 'package.json')).name, dir);
  return byName;
}

/** The folders of `dir` and of every workspace package it depends on (dependencies, transitively). */
export function runtimeClosure(root, dir) {
  const byName = workspacePackages(root);
  const seen = new Set();
  const visit = (d) => {
    if (seen.has(d)) return;
    seen.add(d);
    for (const dep of Object.keys(readJson(join(root, d, 'package.json')).dependencies ?? {})) {
      const wd = byName.get(dep);
      if (wd) visit(wd);
    }
  };
  visit(dir);
  return [...seen].sort();
}

const SKIP = /(\.tsbuildinfo|\.d\.ts\.map|\.spec\.(js|d\.ts)|\.spec\.d\.ts\.map)$/;

export function assembleApp(root, app, out) {
  if (!APPS.includes(app)) throw new Error(`APP must be one of ${APPS.join(', ')}, got "${app}"`);
  const appDir = `apps/${app}`;
  copyManifests(root, join(out, 'manifests'));
  const target = join(out, 'app');
  for (const dir of runtimeClosure(root, appDir)) {
    const pkg = readJson(join(root, dir, 'package.json'));
    if (!existsSync(join(root, dir, 'dist')))
      throw new Error(`${dir}/dist is missing: build first (npx nx run-many -t build)`);
    for (const sub of RUNTIME_DIRS) {
      const from = join(root, dir, sub);
      if (existsSync(from)) cpSync(from, join(target, dir, sub), { recursive: true, filter: (f) => !SKIP.test(f) });
    }
    if (dir === appDir && !existsSync(join(target, dir, pkg.main ?? 'dist/main.js')))
      throw new Error(`${dir}: ${pkg.main} was not built`);
  }
  cpSync(join(dirname(fileURLToPath(import.meta.url)), 'healthcheck.mjs'), join(target, 'healthcheck.mjs'));
  if (app === 'gateway') {
    const dashboard = join(root, 'apps', 'dashboard');
    if (existsSync(join(dashboard, 'package.json'))) {
      if (!existsSync(join(dashboard, 'dist', 'index.html')))
        throw new Error('apps/dashboard/dist/index.html is missing: build the dashboard first');
      cpSync(join(dashboard, 'dist'), join(target, 'dashboard'), { recursive: true });
    } else {
      // Until the dashboard app exists the gateway image serves an empty directory.
      console.warn('assemble: apps/dashboard does not exist yet; /app/dashboard stays empty');
      mkdirSync(join(target, 'dashboard'), { recursive: true });
    }
  }
  return target;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = process.cwd();
  const args = process.argv.slice(2);
  if (args[0] === '--manifests' && args.length === 2) {
    copyManifests(root, resolve(args[1]));
  } else if (args[0] === '--app' && args.length === 3) {
    const target = assembleApp(root, args[1], resolve(args[2]));
    console.log(`assemble: ${args[1]} -> ${target}`);
  } else {
    console.error('usage: assemble.mjs --manifests OUT | --app APP OUT');
    process.exit(2);
  }
}
