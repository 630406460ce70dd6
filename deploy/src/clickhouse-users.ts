/**
 * The ClickHouse users of a users.d file (the chart's bundled ClickHouse) or of an Altinity
 * ClickHouseInstallation's `users`/`profiles`/`quotas` (k8s/clickhouse), read into one shape so
 * that the tests compare both with libs/clickhouse/src/roles.ts.
 */
import { childrenNamed, type XmlElement } from './xml.js';

export interface Constraint {
  readonly?: true;
  min?: number;
  max?: number;
}

export interface UserDefinition {
  /** The `<password from_env="...">` variable, or undefined when the password is given otherwise. */
  passwordFromEnv?: string;
  /** Any other password element (password, password_sha256_hex, ...) with its text. */
  otherPasswords: string[];
  networks: string[];
  /** `<host>`, `<host_regexp>`, `<host_like>` entries (none are expected). */
  hosts: string[];
  profile?: string;
  quota?: string;
  grants: string[];
  /** Any other element of the user (allow_databases, access_management ...): name -> text. */
  other: Record<string, string>;
}

export interface UsersConfig {
  users: Record<string, UserDefinition>;
  /** Users removed from the base configuration (`<name remove="remove"/>`). */
  removed: string[];
  profiles: Record<string, { settings: Record<string, string>; constraints: Record<string, Constraint> }>;
  quotas: Record<string, { intervals: Record<string, string>[] }>;
}

const value = (s: string): string => s;

function constraintOf(el: XmlElement): Constraint {
  const c: Constraint = {};
  for (const k of el.children) {
    if (k.name === 'readonly' || k.name === 'const') c.readonly = true;
    else if (k.name === 'min' || k.name === 'max') c[k.name] = Number(k.text);
    else throw new Error(`constraint <${el.name}> has an unexpected <${k.name}>`);
  }
  return c;
}

/** Reads a users.d file (`<clickhouse>` or `<yandex>` root). */
export function usersFromXml(root: XmlElement): UsersConfig {
  const out: UsersConfig = { users: {}, removed: [], profiles: {}, quotas: {} };
  for (const section of root.children) {
    if (section.name === 'users') {
      for (const u of section.children) {
        if (u.attrs['remove'] === 'remove') {
          out.removed.push(u.name);
          continue;
        }
        const def: UserDefinition = { otherPasswords: [], networks: [], hosts: [], grants: [], other: {} };
        for (const f of u.children) {
          if (f.name === 'password' && f.attrs['from_env']) def.passwordFromEnv = f.attrs['from_env'];
          else if (f.name.startsWith('password') || f.name === 'no_password' || f.name === 'ssl_certificates')
            def.otherPasswords.push(`${f.name}:${f.text}`);
          else if (f.name === 'networks') {
            for (const n of f.children) (n.name === 'ip' ? def.networks : def.hosts).push(n.text);
          } else if (f.name === 'profile') def.profile = f.text;
          else if (f.name === 'quota') def.quota = f.text;
          else if (f.name === 'grants') def.grants.push(...childrenNamed(f, 'query').map((q) => q.text));
          else def.other[f.name] = f.text;
        }
        out.users[u.name] = def;
      }
    } else if (section.name === 'profiles') {
      for (const p of section.children) {
        const settings: Record<string, string> = {};
        const constraints: Record<string, Constraint> = {};
        for (const s of p.children) {
          if (s.name === 'constraints') for (const c of s.children) constraints[c.name] = constraintOf(c);
          else settings[s.name] = value(s.text);
        }
        out.profiles[p.name] = { settings, constraints };
      }
    } else if (section.name === 'quotas') {
      for (const q of section.children)
        out.quotas[q.name] = {
          intervals: childrenNamed(q, 'interval').map((i) =>
            Object.fromEntries(i.children.map((c) => [c.name, c.text])),
          ),
        };
    } else throw new Error(`users file: unexpected section <${section.name}>`);
  }
  return out;
}

/* eslint-disable @typescript-eslint/no-explicit-any */
/**
 * Reads an Altinity ClickHouseInstallation's spec.configuration users/profiles/quotas, whose keys
 * are paths (`analyst/networks/ip`, `analyst/constraints/max_result_rows/readonly`).
 */
export function usersFromChi(configuration: any): UsersConfig {
  const out: UsersConfig = { users: {}, removed: [], profiles: {}, quotas: {} };
  const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : [String(v)]);
  for (const [key, v] of Object.entries<any>(configuration.users ?? {})) {
    const [name, ...path] = key.split('/');
    const def = (out.users[name!] ??= { otherPasswords: [], networks: [], hosts: [], grants: [], other: {} });
    const field = path.join('/');
    if (field === 'password' && v?.valueFrom?.secretKeyRef)
      def.passwordFromEnv = `secret:${v.valueFrom.secretKeyRef.name}/${v.valueFrom.secretKeyRef.key}`;
    else if (field.startsWith('password') || field === 'no_password')
      def.otherPasswords.push(`${field}:${JSON.stringify(v)}`);
    else if (field === 'networks/ip') def.networks.push(...list(v));
    else if (field.startsWith('networks/')) def.hosts.push(...list(v));
    else if (field === 'profile') def.profile = String(v);
    else if (field === 'quota') def.quota = String(v);
    else if (field === 'grants/query') def.grants.push(...list(v));
    else def.other[field] = JSON.stringify(v);
  }
  for (const [key, v] of Object.entries<any>(configuration.profiles ?? {})) {
    const [name, ...path] = key.split('/');
    const p = (out.profiles[name!] ??= { settings: {}, constraints: {} });
    if (path[0] === 'constraints') {
      const c = (p.constraints[path[1]!] ??= {});
      if (path[2] === 'readonly' || path[2] === 'const') c.readonly = true;
      else if (path[2] === 'min' || path[2] === 'max') c[path[2]] = Number(v);
      else throw new Error(`profile key ${key}: unexpected constraint`);
    } else if (path.length === 1) p.settings[path[0]!] = String(v);
    else throw new Error(`profile key ${key}: unexpected path`);
  }
  for (const [key, v] of Object.entries<any>(configuration.quotas ?? {})) {
    const [name, interval, field] = key.split('/');
    if (interval !== 'interval' || !field) throw new Error(`quota key ${key}: expected <name>/interval/<field>`);
    const q = (out.quotas[name!] ??= { intervals: [{}] });
    q.intervals[0]![field] = String(v);
  }
  return out;
}
/* eslint-enable @typescript-eslint/no-explicit-any */

/** `GRANT A, B ON db.*` -> { privileges: [A, B], on: 'db.*' }. */
export function parseGrant(query: string): { privileges: string[]; on: string } {
  const m = /^GRANT\s+(.+?)\s+ON\s+(\S+)$/i.exec(query.trim());
  if (!m) throw new Error(`not a simple GRANT ... ON ...: ${query}`);
  return { privileges: m[1]!.split(',').map((p) => p.trim().toUpperCase()), on: m[2]! };
}
