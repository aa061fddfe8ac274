/**
 * A small private LAN of "hosts" for multi-machine tests: each host is a Linux network namespace
 * with its own loopback and one veth interface (10.231.0.N/24) plugged into a bridge that lives in a
 * namespace of its own (the "switch"), so nothing is added to the machine's own network and nothing
 * outside the LAN can reach it. Processes started on a host also get their own UTS namespace with the
 * host's name as hostname (so BullMQ worker names say which host holds a job). Needs root
 * (CAP_SYS_ADMIN, CAP_NET_ADMIN) and iproute2; `netnsAvailable()` says why not where they are missing.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Repository root. */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function run(cmd: string, args: string[]): { ok: boolean; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { ok: !r.error && r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? r.error.message : ''}`.trim() };
}

function must(args: string[]): void {
  const r = run('ip', args);
  if (!r.ok) throw new Error(`ip ${args.join(' ')}: ${r.out}`);
}

/** Whether network namespaces, veth pairs and bridges can be made here (tried for real), or why not. */
export function netnsAvailable(): { ok: true } | { ok: false; reason: string } {
  if (process.platform !== 'linux') return { ok: false, reason: `network namespaces are Linux only (this is ${process.platform})` };
  if (!run('ip', ['-V']).ok) return { ok: false, reason: 'the ip command (iproute2) is not installed' };
  if (!run('unshare', ['--version']).ok) return { ok: false, reason: 'the unshare command (util-linux) is not installed' };
  if (process.getuid?.() !== 0) return { ok: false, reason: 'creating network namespaces needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN); this test runs as a normal user' };
  const probe = `mvprobe${process.pid}`;
  const made = run('ip', ['netns', 'add', probe]);
  if (!made.ok) return { ok: false, reason: `ip netns add failed (a container without CAP_SYS_ADMIN?): ${made.out}` };
  try {
    const veth = run('ip', ['-n', probe, 'link', 'add', 'pa', 'type', 'veth', 'peer', 'name', 'pb']);
    if (!veth.ok) return { ok: false, reason: `cannot make a veth pair in a namespace (no veth module / CAP_NET_ADMIN?): ${veth.out}` };
    const br = run('ip', ['-n', probe, 'link', 'add', 'br0', 'type', 'bridge']);
    if (!br.ok) return { ok: false, reason: `cannot make a bridge in a namespace (no bridge module?): ${br.out}` };
    const uts = run('ip', ['netns', 'exec', probe, 'unshare', '--uts', 'true']);
    if (!uts.ok) return { ok: false, reason: `cannot run a process in the namespace with its own hostname: ${uts.out}` };
    return { ok: true };
  } finally {
    run('ip', ['netns', 'del', probe]);
  }
}

/** One host of the LAN. */
export interface LanHost {
  /** Short name, also the hostname of its processes. */
  name: string;
  /** The network namespace. */
  ns: string;
  /** Its address on the LAN (not loopback). */
  addr: string;
}

/** A process started on a host; `done` resolves when it exits, however it exits. */
export interface HostProcess {
  child: ChildProcess;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

/** A LAN of hosts. */
export interface Lan {
  hosts: Record<string, LanHost>;
  /** Start `cmd args` on `host` (cwd: the repository root). */
  spawn(host: string, cmd: string, args: string[], env?: Record<string, string>): HostProcess;
  /** Run `cmd args` on `host` and wait (for quick commands such as redis-cli). */
  exec(host: string, cmd: string, args: string[], env?: Record<string, string>): { status: number | null; stdout: string; stderr: string };
  /** PIDs of every process in the host's namespace. */
  pids(host: string): number[];
  /** "Pull the plug": SIGKILL every process of the host; returns how many were killed. */
  kill(host: string): number;
  /** Kill everything on every host and delete the namespaces (and with them the veths and the bridge). */
  dispose(): void;
}

/**
 * Make a LAN with one host per name (addresses 10.231.0.1, .2, ... in order), all up and able to
 * reach each other; the namespaces are named after this process so parallel runs do not collide.
 */
export function createLan(names: string[]): Lan {
  const tag = `mv${process.pid}`;
  const sw = `${tag}-sw`;
  const hosts: Record<string, LanHost> = {};
  const made: string[] = [];
  const dispose = (): void => {
    for (const ns of made) {
      for (const pid of nsPids(ns)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone already
        }
      }
    }
    for (const ns of made.reverse()) run('ip', ['netns', 'del', ns]);
    made.length = 0;
  };
  try {
    must(['netns', 'add', sw]);
    made.push(sw);
    must(['-n', sw, 'link', 'add', 'br0', 'type', 'bridge']);
    must(['-n', sw, 'link', 'set', 'br0', 'up']);
    names.forEach((name, i) => {
      const ns = `${tag}-${name}`;
      const addr = `10.231.0.${i + 1}`;
      must(['netns', 'add', ns]);
      made.push(ns);
      must(['-n', sw, 'link', 'add', `port${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
      must(['-n', sw, 'link', 'set', `port${i}`, 'master', 'br0']);
      must(['-n', sw, 'link', 'set', `port${i}`, 'up']);
      must(['-n', ns, 'link', 'set', 'lo', 'up']);
      must(['-n', ns, 'addr', 'add', `${addr}/24`, 'dev', 'eth0']);
      must(['-n', ns, 'link', 'set', 'eth0', 'up']);
      hosts[name] = { name, ns, addr };
    });
  } catch (e) {
    dispose();
    throw e;
  }
  const host = (name: string): LanHost => {
    const h = hosts[name];
    if (!h) throw new Error(`no host ${name} on this LAN`);
    return h;
  };
  // ip netns exec NS unshare --uts sh -c 'hostname NAME && exec CMD ARGS...'
  const argv = (h: LanHost, cmd: string, args: string[]): string[] => ['netns', 'exec', h.ns, 'unshare', '--uts', 'sh', '-c', 'hostname "$0" && exec "$@"', h.name, cmd, ...args];
  return {
    hosts,
    spawn(name, cmd, args, env = {}) {
      const child = spawn('ip', argv(host(name), cmd, args), { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      const done = new Promise<Awaited<HostProcess['done']>>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
      return { child, done };
    },
    exec(name, cmd, args, env = {}) {
      const r = spawnSync('ip', argv(host(name), cmd, args), { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8' });
      return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
    },
    pids: (name) => nsPids(host(name).ns),
    kill(name) {
      const pids = nsPids(host(name).ns);
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // exited meanwhile
        }
      }
      return pids.length;
    },
    dispose,
  };
}

function nsPids(ns: string): number[] {
  const r = run('ip', ['netns', 'pids', ns]);
  return r.ok ? r.out.split(/\s+/).filter(Boolean).map(Number) : [];
}
