import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { DEPLOY_DIR } from './helm.js';

/**
 * Offline validation of rendered manifests against the Kubernetes API schema, in two layers:
 *
 * 1. JSON schema. `kubernetes-models` (npm) ships, per API type, an ajv validator compiled from the
 *    Kubernetes OpenAPI specification of the release it was generated from (5.x: Kubernetes 1.34;
 *    it has resource.k8s.io/v1 and the 1.34 PodSpec fields); `@kubernetes-models/prometheus-operator`
 *    does the same for the Prometheus Operator CRDs (ServiceMonitor). Types, enums, formats and
 *    required fields are checked, like `kubeconform`.
 * 2. Unknown fields. The OpenAPI schemas allow additional properties, so a misspelt field
 *    (`readinesProbe`) passes layer 1 and the API server would silently drop it. The manifests are
 *    therefore also compiled as TypeScript object literals typed with the same package's interfaces:
 *    excess property checks reject every field the API does not define (kubeconform's -strict).
 */

export interface ValidationProblem {
  manifest: string;
  message: string;
}

interface Kinded {
  apiVersion: string;
  kind: string;
  metadata?: { name?: string };
}

/** Module of the model of apiVersion/kind, e.g. apps/v1 Deployment -> kubernetes-models/apps/v1/Deployment. */
export function modelModule(apiVersion: string, kind: string): string {
  if (apiVersion === 'monitoring.coreos.com/v1')
    return `@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/${kind}`;
  if (!/^([a-z0-9.-]+\/)?v\d+((alpha|beta)\d+)?$/.test(apiVersion) || !/^[A-Z][A-Za-z0-9]+$/.test(kind)) {
    throw new Error(`no schema for ${apiVersion} ${kind}`);
  }
  return `kubernetes-models/${apiVersion}/${kind}`;
}

function label(m: Kinded): string {
  return `${m.kind}/${m.metadata?.name ?? '?'}`;
}

/** Layer 1: the JSON schema of each object's API type. */
export async function validateSchemas(manifests: Kinded[]): Promise<ValidationProblem[]> {
  const problems: ValidationProblem[] = [];
  for (const m of manifests) {
    let Model: new (data: unknown) => { validate(): void };
    try {
      const mod = (await import(modelModule(m.apiVersion, m.kind))) as Record<
        string,
        new (data: unknown) => { validate(): void }
      >;
      Model = mod[m.kind]!;
      if (!Model) throw new Error(`module has no ${m.kind}`);
    } catch (e) {
      problems.push({
        manifest: label(m),
        message: `unknown API type ${m.apiVersion} ${m.kind}: ${(e as Error).message}`,
      });
      continue;
    }
    try {
      const { apiVersion: _a, kind: _k, ...data } = m as Kinded & Record<string, unknown>;
      delete (data as Record<string, unknown>)['source'];
      new Model(data).validate();
    } catch (e) {
      problems.push({ manifest: label(m), message: (e as Error).message });
    }
  }
  return problems;
}

/** Layer 2: unknown fields, by TypeScript's excess property checks against the model interfaces. */
export function validateKnownFields(manifests: Kinded[]): ValidationProblem[] {
  const fileName = join(DEPLOY_DIR, 'src', '__rendered_manifests__.ts');
  const imports: string[] = [];
  const decls: string[] = [];
  const ranges: { start: number; end: number; label: string }[] = [];
  const typeNames = new Map<string, string>();
  manifests.forEach((m, i) => {
    const mod = modelModule(m.apiVersion, m.kind);
    let typeName = typeNames.get(mod);
    if (!typeName) {
      typeName = `T${typeNames.size}`;
      typeNames.set(mod, typeName);
      imports.push(`import type { I${m.kind} as ${typeName} } from '${mod}';`);
    }
    const { source: _s, ...object } = m as Kinded & Record<string, unknown>;
    decls.push(`export const m${i}: ${typeName} = ${JSON.stringify(object, null, 1)};`);
  });
  let text = imports.join('\n') + '\n';
  decls.forEach((d, i) => {
    ranges.push({ start: text.length, end: text.length + d.length, label: label(manifests[i]!) });
    text += d + '\n';
  });

  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    types: [],
    lib: ['lib.es2022.d.ts'],
  };
  const host = ts.createCompilerHost(options, true);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, lang, onError, create) =>
    name === fileName ? ts.createSourceFile(name, text, lang, true) : getSourceFile(name, lang, onError, create);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => name === fileName || fileExists(name);
  const readFile = host.readFile.bind(host);
  host.readFile = (name) => (name === fileName ? text : readFile(name));

  const program = ts.createProgram([fileName], options, host);
  const source = program.getSourceFile(fileName)!;
  const diagnostics = [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)];
  return diagnostics.map((d) => {
    const at = d.start ?? 0;
    const owner = ranges.find((r) => at >= r.start && at <= r.end);
    let where = '';
    if (owner && d.start !== undefined) {
      // The JSON path of the offending property, from the enclosing object literal keys.
      where = ` at ${jsonPathAt(source, d.start)}`;
    }
    return {
      manifest: owner?.label ?? '(imports)',
      message: ts.flattenDiagnosticMessageText(d.messageText, '\n').split('\n').slice(-1)[0]! + where,
    };
  });
}

/** "spec.template.spec.containers[0].readinesProbe" for a position inside the generated literals. */
function jsonPathAt(source: ts.SourceFile, pos: number): string {
  const parts: string[] = [];
  let node: ts.Node | undefined = findInnermost(source, pos);
  while (node && !ts.isVariableDeclaration(node)) {
    const parent: ts.Node | undefined = node.parent;
    if (parent && ts.isPropertyAssignment(parent) && parent.initializer === node)
      parts.unshift(String((parent.name as ts.StringLiteral).text));
    else if (ts.isPropertyAssignment(node) && parts.length === 0)
      parts.unshift(String((node.name as ts.StringLiteral).text));
    else if (parent && ts.isArrayLiteralExpression(parent))
      parts.unshift(`[${parent.elements.indexOf(node as ts.Expression)}]`);
    node = parent;
  }
  return parts.join('.').replace(/\.\[/g, '[');
}

function findInnermost(node: ts.Node, pos: number): ts.Node | undefined {
  if (pos < node.getStart() || pos >= node.getEnd()) return undefined;
  for (const child of node.getChildren()) {
    const hit = findInnermost(child, pos);
    if (hit) return hit;
  }
  return node;
}

/** The installed kubernetes-models package (name and version, for reports). */
export function schemaSource(): { name: string; version: string } {
  for (const dir of [join(DEPLOY_DIR, 'node_modules'), join(DEPLOY_DIR, '..', 'node_modules')]) {
    const file = join(dir, 'kubernetes-models', 'package.json');
    if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as { name: string; version: string };
  }
  throw new Error('kubernetes-models is not installed (npm ci)');
}

/** Both layers. */
export async function validateManifests(manifests: Kinded[]): Promise<ValidationProblem[]> {
  return [...(await validateSchemas(manifests)), ...validateKnownFields(manifests)];
}
