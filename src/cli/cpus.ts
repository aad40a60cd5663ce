// How many CPUs this process may use, for `--workers auto`: the CPUs its affinity mask allows,
// capped by its cgroup's CPU bandwidth quota (cgroup v2 `cpu.max`, v1 `cpu.cfs_quota_us` over
// `cpu.cfs_period_us`, the tightest along the cgroup's path), rounded up. `os.cpus().length`
// counts the host's CPUs, which in a container is usually more than the container may use.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface CpuLimit {
  cpus: number;
  /** How the number was arrived at, for the start-up line. */
  reason: string;
}

function read(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** CPUs in a list such as `0-3,8,10-11` (/proc/self/status Cpus_allowed_list). */
export function countCpuList(list: string): number {
  let count = 0;
  for (const part of list.trim().split(',')) {
    if (part === '') continue;
    const [first, last = first] = part.split('-').map(Number);
    if (Number.isInteger(first) && Number.isInteger(last) && last >= first) count += last - first + 1;
  }
  return count;
}

function affinity(root: string): number {
  const status = read(path.join(root, 'proc/self/status'));
  const list = status === undefined ? undefined : /^Cpus_allowed_list:\s*(.+)$/m.exec(status)?.[1];
  const counted = list === undefined ? 0 : countCpuList(list);
  return counted > 0 ? counted : os.availableParallelism();
}

interface Mount {
  /** The directory of the hierarchy the mount shows (mountinfo's root field). */
  root: string;
  point: string;
}

/** cgroup mounts from /proc/self/mountinfo: the v2 one, and the v1 one carrying the cpu controller. */
function cgroupMounts(root: string): { v2?: Mount; v1cpu?: Mount } {
  const found: { v2?: Mount; v1cpu?: Mount } = {};
  for (const line of (read(path.join(root, 'proc/self/mountinfo')) ?? '').split('\n')) {
    const [before, after] = line.split(' - ');
    if (after === undefined) continue;
    const fields = before.split(' ');
    const [type, , superOptions = ''] = after.split(' ');
    const mount = { root: fields[3], point: fields[4] };
    if (type === 'cgroup2') found.v2 ??= mount;
    else if (type === 'cgroup' && superOptions.split(',').includes('cpu')) found.v1cpu ??= mount;
  }
  return found;
}

/** The process's path in each hierarchy, from /proc/self/cgroup: v2 under '', v1 by controller. */
function cgroupPaths(root: string): Map<string, string> {
  const paths = new Map<string, string>();
  for (const line of (read(path.join(root, 'proc/self/cgroup')) ?? '').split('\n')) {
    const match = /^\d+:([^:]*):(.*)$/.exec(line);
    if (match === null) continue;
    for (const controller of match[1] === '' ? [''] : match[1].split(',')) paths.set(controller, match[2]);
  }
  return paths;
}

/** The cgroup's directory and each of its ancestors' up to the mount point, innermost first. */
function directories(root: string, mount: Mount, cgroupPath: string): string[] {
  const relative = path.posix.relative(mount.root, cgroupPath);
  if (relative.startsWith('..')) return [];
  const dirs: string[] = [];
  for (let rel = relative; ; rel = path.posix.dirname(rel)) {
    dirs.push(path.join(root, mount.point, rel === '.' ? '' : rel));
    if (rel === '.' || rel === '' || rel === '/') break;
  }
  return dirs;
}

/** The tightest quota along the path, in CPUs (fractional); undefined when none is set. */
function quota(dirs: string[], limitOf: (dir: string) => number | undefined): number | undefined {
  let tightest: number | undefined;
  for (const dir of dirs) {
    const limit = limitOf(dir);
    if (limit !== undefined && (tightest === undefined || limit < tightest)) tightest = limit;
  }
  return tightest;
}

function v2Limit(dir: string): number | undefined {
  const [max, period] = (read(path.join(dir, 'cpu.max')) ?? '').trim().split(/\s+/);
  if (max === undefined || max === 'max' || max === '') return undefined;
  const q = Number(max);
  const p = Number(period ?? 100000);
  return q > 0 && p > 0 ? q / p : undefined;
}

function v1Limit(dir: string): number | undefined {
  const q = Number(read(path.join(dir, 'cpu.cfs_quota_us'))?.trim());
  const p = Number(read(path.join(dir, 'cpu.cfs_period_us'))?.trim());
  return q > 0 && p > 0 ? q / p : undefined;
}

/** The CPU quota of this process's cgroup in CPUs, if it has one (v2 first, then v1). */
function cgroupQuota(root: string): number | undefined {
  const mounts = cgroupMounts(root);
  const paths = cgroupPaths(root);
  const v2Path = paths.get('');
  const v2 = mounts.v2 && v2Path !== undefined ? quota(directories(root, mounts.v2, v2Path), v2Limit) : undefined;
  if (v2 !== undefined) return v2;
  const v1Path = paths.get('cpu');
  return mounts.v1cpu && v1Path !== undefined ? quota(directories(root, mounts.v1cpu, v1Path), v1Limit) : undefined;
}

/** `root` is where /proc and /sys are found: '/' but for tests. */
export function availableCpus(root = '/'): CpuLimit {
  const allowed = affinity(root);
  const limit = cgroupQuota(root);
  if (limit === undefined) return { cpus: allowed, reason: `${allowed} CPU${allowed === 1 ? '' : 's'} in the affinity mask, no cgroup CPU quota` };
  const byQuota = Math.max(1, Math.ceil(limit));
  if (byQuota >= allowed) return { cpus: allowed, reason: `${allowed} CPUs in the affinity mask (the cgroup quota allows ${limit})` };
  return { cpus: byQuota, reason: `cgroup CPU quota ${limit} CPU${limit === 1 ? '' : 's'}, rounded up (affinity mask: ${allowed})` };
}
