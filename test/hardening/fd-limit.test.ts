// At the process's fd limit (EMFILE) the server must neither spin nor die: connections beyond
// what it can accept wait or are refused, the loop sleeps, and it serves again once fds free up.
import * as net from 'node:net';
import * as path from 'node:path';
import { delay } from '../engine/helpers';
import { ask, cpuSeconds, spawnNode, TS_HOOK } from './fixtures/child';

const FD_LIMIT = 64;
const CONNECTIONS = 100;
/** A server sleeping in its loop uses next to nothing; a spinning one uses about all of a second. */
const MAX_CPU_PER_SECOND = 0.3;

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => resolve(socket));
    socket.on('error', () => resolve(socket));
  });
}

function get(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write('GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'));
    let answer = '';
    socket.on('data', (chunk) => { answer += chunk; });
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}

test(`${CONNECTIONS} connections to a server limited to ${FD_LIMIT} fds: no busy loop, served again after`, async () => {
  const server = spawnNode(FD_LIMIT, ['-r', TS_HOOK, path.join(__dirname, 'fixtures/idle-server.js'), 'pyre']);
  const held: net.Socket[] = [];
  try {
    const { port } = await ask<{ port: number }>(server);
    held.push(...(await Promise.all(Array.from({ length: CONNECTIONS }, () => connect(port)))));
    await delay(200);
    const before = cpuSeconds(server.pid as number);
    await delay(1000);
    const used = cpuSeconds(server.pid as number) - before;
    console.log(`CPU used at the fd limit: ${used.toFixed(2)} s in 1 s`);
    expect(used).toBeLessThan(MAX_CPU_PER_SECOND);

    for (const socket of held) socket.destroy();
    await delay(200);
    expect(await get(port)).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nok$/);
  } finally {
    for (const socket of held) socket.destroy();
    server.kill();
  }
});
