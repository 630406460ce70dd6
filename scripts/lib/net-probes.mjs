// Ports and health probes: is a TCP port open, a free port, a small HTTP client, and whether a
// ClickHouse or NATS server answers. Only Node built-ins are used (this runs before `npm ci`).

import http from 'node:http';
import net from 'node:net';

export const LOOPBACK = '127.0.0.1';

/** Resolves true when a TCP connection to host:port can be opened within timeoutMs. */
export function isListening(host, port, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port: Number(port) });
    const done = (result) => {
      socket.removeAllListeners();
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Asks the kernel for a currently free TCP port on 127.0.0.1. */
export function getFreePort(host = LOOPBACK) {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host, port: 0 }, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Minimal HTTP request helper; resolves { status, body } or rejects on network errors. */
export function httpRequest(url, { method = 'GET', body, headers = {}, timeoutMs = 2000 } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, timeout: timeoutMs }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs} ms: ${method} ${url}`)));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** True when GET <url>/ping answers "Ok." (ClickHouse's health endpoint). */
export async function clickHousePing(url, timeoutMs = 1000) {
  try {
    const res = await httpRequest(`${url.replace(/\/$/, '')}/ping`, {
      timeoutMs,
    });
    return res.status === 200 && res.body.trim() === 'Ok.';
  } catch {
    return false;
  }
}

/**
 * Connects to a NATS server and resolves its INFO object (or null if the port does not
 * speak NATS). A NATS server sends `INFO {json}\r\n` immediately after accept.
 */
export function natsInfo(host, port, timeoutMs = 1500) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port: Number(port) });
    let buf = '';
    const done = (result) => {
      socket.removeAllListeners();
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => done(null));
    socket.on('error', () => done(null));
    socket.on('data', (d) => {
      buf += d.toString('utf8');
      const eol = buf.indexOf('\r\n');
      if (eol === -1) return;
      const line = buf.slice(0, eol);
      if (!line.startsWith('INFO ')) return done(null);
      try {
        done(JSON.parse(line.slice(5)));
      } catch {
        done(null);
      }
    });
  });
}
