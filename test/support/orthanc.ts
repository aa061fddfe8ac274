/**
 * Starts a real Orthanc (Debian's `orthanc` + `orthanc-dicomweb`) for tests: random free loopback ports for
 * HTTP and DICOM, storage in a temporary folder, the DICOMweb plugin, authentication on with a random
 * password. `stop()` and `start()` keep the storage, so a test can restart the same server.
 *
 * Debian packages: orthanc, orthanc-dicomweb.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The Orthanc binary of Debian's package. */
export const ORTHANC_BIN = '/usr/sbin/Orthanc';
/** Debian's DICOMweb plugin for Orthanc. */
export const DICOMWEB_PLUGIN = '/usr/share/orthanc/plugins/libOrthancDicomWeb.so';
/** Debian packages the harness needs. */
export const ORTHANC_APT_PACKAGES = ['orthanc', 'orthanc-dicomweb'] as const;

/** Why Orthanc cannot be started here, or undefined when it can. */
export function orthancUnavailable(): string | undefined {
  const missing = [ORTHANC_BIN, DICOMWEB_PLUGIN].filter((f) => !existsSync(f));
  if (missing.length) return `Orthanc tests need ${ORTHANC_APT_PACKAGES.join(' and ')} (apt-get install ${ORTHANC_APT_PACKAGES.join(' ')}); missing ${missing.join(', ')}`;
  return undefined;
}

/** A free TCP port on the loopback interface. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A running (or stopped) test Orthanc. */
export interface TestOrthanc {
  /** HTTP root, e.g. http://127.0.0.1:PORT */
  readonly httpUrl: string;
  /** DICOMweb root, e.g. http://127.0.0.1:PORT/dicom-web */
  readonly dicomWebUrl: string;
  readonly httpPort: number;
  readonly dicomPort: number;
  readonly user: string;
  readonly password: string;
  /** A file holding the password (for CLI tests: --password-file). */
  readonly passwordFile: string;
  /** Temporary folder with config, storage and log. */
  readonly dir: string;
  /** Orthanc's own REST API (not DICOMweb), authenticated: GET and parse JSON. */
  rest<T = unknown>(path: string, init?: { method?: string; body?: string }): Promise<T>;
  /** Stop the process (storage kept): SIGTERM and wait, or SIGKILL for a server that vanishes at once. */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Start it again on the same ports and storage. */
  start(): Promise<void>;
  /** Stop and delete the temporary folder. */
  dispose(): Promise<void>;
  /** The Orthanc log so far (for failure messages). */
  log(): string;
}

/** Start an Orthanc with a fresh temporary storage; resolves once `/system` answers. */
export async function startOrthanc(): Promise<TestOrthanc> {
  const why = orthancUnavailable();
  if (why) throw new Error(why);
  const dir = mkdtempSync(join(tmpdir(), 'medvlm-orthanc-'));
  const httpPort = await freePort();
  let dicomPort = await freePort();
  while (dicomPort === httpPort) dicomPort = await freePort();
  const user = 'medvlm';
  const password = randomBytes(12).toString('hex');
  const passwordFile = join(dir, 'password');
  writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  const config = {
    Name: 'medvlm-test',
    HttpPort: httpPort,
    DicomPort: dicomPort,
    DicomAet: 'MEDVLMTEST',
    StorageDirectory: join(dir, 'storage'),
    IndexDirectory: join(dir, 'storage'),
    RemoteAccessAllowed: false,
    AuthenticationEnabled: true,
    RegisteredUsers: { [user]: password },
    HttpCompressionEnabled: false,
    StableAge: 2,
    Plugins: [DICOMWEB_PLUGIN],
    DicomWeb: { Enable: true, Root: '/dicom-web/', EnableWado: false },
  };
  const configFile = join(dir, 'orthanc.json');
  writeFileSync(configFile, JSON.stringify(config, null, 1));
  const logFile = join(dir, 'orthanc.log');
  const httpUrl = `http://127.0.0.1:${httpPort}`;
  const authHeader = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  let child: ChildProcess | undefined;

  const rest = async <T>(path: string, init: { method?: string; body?: string } = {}): Promise<T> => {
    const res = await fetch(`${httpUrl}${path}`, { method: init.method ?? 'GET', headers: { authorization: authHeader }, body: init.body });
    const text = await res.text();
    if (!res.ok) throw new Error(`Orthanc ${init.method ?? 'GET'} ${path}: HTTP ${res.status} ${text.slice(0, 200)}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };

  const start = async (): Promise<void> => {
    if (child) return;
    const fd = openSync(logFile, 'a');
    const proc = spawn(ORTHANC_BIN, [configFile], { stdio: ['ignore', fd, fd] });
    closeSync(fd);
    child = proc;
    proc.on('exit', () => {
      if (child === proc) child = undefined;
    });
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (!child) throw new Error(`Orthanc exited during start-up; log:\n${readLog()}`);
      try {
        await rest('/system');
        return;
      } catch {
        if (Date.now() > deadline) throw new Error(`Orthanc did not answer /system within 20 s; log:\n${readLog()}`);
        await sleep(100);
      }
    }
  };

  const stop = async (signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> => {
    const proc = child;
    if (!proc) return;
    const exited = new Promise<void>((r) => proc.once('exit', () => r()));
    proc.kill(signal);
    const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
    child = undefined;
  };

  const readLog = (): string => {
    try {
      return readFileSync(logFile, 'utf8').slice(-8000);
    } catch {
      return '(no log)';
    }
  };

  await start();
  return {
    httpUrl,
    dicomWebUrl: `${httpUrl}/dicom-web`,
    httpPort,
    dicomPort,
    user,
    password,
    passwordFile,
    dir,
    rest,
    stop,
    start,
    dispose: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
    log: readLog,
  };
}

