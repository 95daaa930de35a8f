// Starts the real `hookline` binary on a free port with a fresh database (SQLite file or a
// new database on the throwaway Postgres), reads the setup token from its log, and can
// restart it on the same port and database.
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Page, expect } from '@playwright/test';

const BIN = process.env.HOOKLINE_BIN ?? resolve(__dirname, '../../../target/debug/hookline');
const SITE_ROOT = process.env.HOOKLINE_SITE_ROOT ?? resolve(__dirname, '../../../target/site');

async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => ok(port));
    });
    s.on('error', fail);
  });
}

function freshDatabaseUrl(dir: string): string {
  if (process.env.HOOKLINE_E2E_DB === 'postgres') {
    const base = process.env.HOOKLINE_TEST_PG_URL;
    if (!base) throw new Error('HOOKLINE_TEST_PG_URL is not set (run through scripts/with-postgres.sh)');
    return `${base.replace(/\/$/, '')}/e2e_${randomBytes(6).toString('hex')}`;
  }
  return `sqlite://${join(dir, 'hookline.db')}`;
}

export class HooklineServer {
  private child?: ChildProcess;
  private log = '';
  readonly url: string;
  setupToken?: string;

  private constructor(
    private port: number,
    readonly databaseUrl: string,
    private dir: string,
    private extraArgs: string[],
  ) {
    this.url = `http://127.0.0.1:${port}`;
  }

  /** `allowPrivateTargets`: let deliveries reach a receiver on this machine. */
  static async start(opts: { allowPrivateTargets?: boolean } = {}): Promise<HooklineServer> {
    const dir = mkdtempSync(join(tmpdir(), 'hookline-e2e-'));
    const extra = opts.allowPrivateTargets ? ['--allow-private-targets'] : [];
    const server = new HooklineServer(await freePort(), freshDatabaseUrl(dir), dir, extra);
    await server.launch();
    return server;
  }

  private async launch(): Promise<void> {
    this.log = '';
    const child = spawn(BIN, ['serve', '--listen', `127.0.0.1:${this.port}`, ...this.extraArgs], {
      env: {
        ...process.env,
        DATABASE_URL: this.databaseUrl,
        HOOKLINE_SITE_ROOT: SITE_ROOT,
        RUST_LOG: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const onData = (chunk: Buffer) => {
      this.log += chunk.toString();
      const token = /setup token: ([0-9a-f]{32})/.exec(this.log);
      if (token) this.setupToken = token[1];
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`hookline exited early:\n${this.log}`);
      try {
        const res = await fetch(`${this.url}/readyz`);
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`hookline did not become ready:\n${this.log}`);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }

  /** Stops the process and starts a new one on the same port and database. */
  async restart(): Promise<void> {
    await this.stop();
    await this.launch();
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  output(): string {
    return this.log;
  }

  /** What a browser sends with the dashboard's own calls: Playwright's API requests carry
   * the page's cookies but no Origin, and signed-in writes without one are refused. */
  sameOrigin(): Record<string, string> {
    return { origin: this.url };
  }
}

export const ADMIN = { email: 'admin@example.com', password: 'correct horse battery' };

/** Waits until the wasm has hydrated the page, so clicks are handled by the app. */
export async function hydrated(page: Page): Promise<void> {
  await expect(page.locator('#app[data-hydrated="true"]')).toBeAttached();
}

export async function signIn(page: Page, server: HooklineServer, email: string, password: string) {
  await page.goto(`${server.url}/login`);
  await hydrated(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** Creates the first admin through the setup page's server function (for specs about other things). */
export async function createFirstAdmin(page: Page, server: HooklineServer) {
  const res = await page.request.post(`${server.url}/api/fn/create_first_admin`, {
    form: { token: server.setupToken!, email: ADMIN.email, password: ADMIN.password },
    headers: server.sameOrigin(),
  });
  expect(res.status()).toBe(200);
}

/** Collects the page's console errors and warnings and its uncaught errors (hydration
 * problems show up here). Failed requests are left out: refusals a test provokes on
 * purpose are logged by the browser as "Failed to load resource". */
export function consoleProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (m) => {
    if ((m.type() === 'error' || m.type() === 'warning') && !m.text().startsWith('Failed to load resource')) {
      problems.push(m.text());
    }
  });
  page.on('pageerror', (e) => problems.push(String(e)));
  return problems;
}
