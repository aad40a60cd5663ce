// --workers auto: the CPUs this process may use, from fake /proc and cgroup trees.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { availableCpus, countCpuList } from '../../src/cli/cpus';

let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'pyre-cpus-'));
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

function write(file: string, text: string): void {
  const full = path.join(root, file);
  fs.mkdirSync(path.dirname(full), { recursive: true });
  fs.writeFileSync(full, text);
}

const V2_MOUNT = '29 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw\n';
const V1_MOUNTS = [
  '30 23 0:27 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory',
  '31 23 0:28 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct',
].join('\n');

/** A machine with `cpus` in the affinity mask. */
function affinity(list: string): void {
  write('proc/self/status', `Name:\tnode\nCpus_allowed:\tff\nCpus_allowed_list:\t${list}\nMems_allowed_list:\t0\n`);
}

test('CPU lists', () => {
  expect(countCpuList('0-3,8,10-11')).toBe(7);
  expect(countCpuList('5')).toBe(1);
  expect(countCpuList('')).toBe(0);
});

test('no cgroup quota: the affinity mask decides', () => {
  affinity('0-7');
  write('proc/self/mountinfo', V2_MOUNT);
  write('proc/self/cgroup', '0::/app\n');
  write('sys/fs/cgroup/app/cpu.max', 'max 100000\n');
  expect(availableCpus(root)).toEqual({ cpus: 8, reason: '8 CPUs in the affinity mask, no cgroup CPU quota' });
});

test('cgroup v2 cpu.max: the quota, rounded up', () => {
  affinity('0-15');
  write('proc/self/mountinfo', V2_MOUNT);
  write('proc/self/cgroup', '0::/kubepods/pod1/ctr\n');
  write('sys/fs/cgroup/kubepods/pod1/ctr/cpu.max', '250000 100000\n');
  expect(availableCpus(root)).toEqual({ cpus: 3, reason: 'cgroup CPU quota 2.5 CPUs, rounded up (affinity mask: 16)' });
});

test('cgroup v2: a tighter quota on a parent cgroup applies', () => {
  affinity('0-15');
  write('proc/self/mountinfo', V2_MOUNT);
  write('proc/self/cgroup', '0::/kubepods/pod1/ctr\n');
  write('sys/fs/cgroup/kubepods/pod1/ctr/cpu.max', 'max 100000\n');
  write('sys/fs/cgroup/kubepods/pod1/cpu.max', '100000 100000\n');
  expect(availableCpus(root).cpus).toBe(1);
});

test('cgroup v2 in a cgroup namespace: the mount shows the container own cgroup', () => {
  affinity('0-3');
  write('proc/self/mountinfo', '29 23 0:26 /kubepods/pod1/ctr /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n');
  write('proc/self/cgroup', '0::/kubepods/pod1/ctr\n');
  write('sys/fs/cgroup/cpu.max', '150000 100000\n');
  expect(availableCpus(root).cpus).toBe(2);
});

test('cgroup v1 cpu.cfs_quota_us / cpu.cfs_period_us', () => {
  affinity('0-7');
  write('proc/self/mountinfo', V1_MOUNTS);
  write('proc/self/cgroup', '5:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n');
  write('sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us', '200000\n');
  write('sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_period_us', '100000\n');
  expect(availableCpus(root)).toEqual({ cpus: 2, reason: 'cgroup CPU quota 2 CPUs, rounded up (affinity mask: 8)' });
});

test('cgroup v1 without a quota (-1), and an affinity mask tighter than the quota', () => {
  affinity('2-3');
  write('proc/self/mountinfo', V1_MOUNTS);
  write('proc/self/cgroup', '4:cpu,cpuacct:/\n');
  write('sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us', '-1\n');
  write('sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us', '100000\n');
  expect(availableCpus(root).cpus).toBe(2);
  write('sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us', '400000\n');
  expect(availableCpus(root)).toEqual({ cpus: 2, reason: '2 CPUs in the affinity mask (the cgroup quota allows 4)' });
});

test('a quota below one CPU still gives one worker', () => {
  affinity('0-3');
  write('proc/self/mountinfo', V2_MOUNT);
  write('proc/self/cgroup', '0::/\n');
  write('sys/fs/cgroup/cpu.max', '50000 100000\n');
  expect(availableCpus(root).cpus).toBe(1);
});

test('nothing readable: os.availableParallelism()', () => {
  expect(availableCpus(root).cpus).toBe(os.availableParallelism());
});
