// Creating an endpoint in the editor: errors inline, then listed, its secret revealed; and
// the enterprise settings (JWT auth, v1a signing, HTTPS only, a CA bundle) refused inline,
// saved, and shown back without their secrets.
import { readFileSync } from 'node:fs';
import { test, expect, type Page } from '@playwright/test';
import { HooklineServer, createFirstAdmin, hydrated } from './support/server';

let server: HooklineServer;
test.beforeEach(async () => { server = await HooklineServer.start(); });
test.afterEach(async () => { await server.dispose(); });

async function adminWithEventType(page: Page, name: string) {
  await createFirstAdmin(page, server);
  const created = await page.request.post(`${server.url}/api/fn/save_event_type`, {
    form: { original: '', name, description: '', schema: '', example: '' },
    headers: server.sameOrigin(),
  });
  expect(created.status()).toBe(200);
}

test('create an endpoint in the editor: errors inline, then listed, secret revealed', async ({ page }) => {
  await adminWithEventType(page, 'order.created');

  await page.goto(`${server.url}/endpoints`);
  await hydrated(page);
  await expect(page.getByText('No endpoints yet')).toBeVisible();
  await page.getByRole('link', { name: 'New endpoint' }).click();
  await expect(page).toHaveURL(/\/endpoints\/new$/);

  await page.getByLabel('Name', { exact: true }).fill('CRM');
  await page.getByLabel('URL').fill('ftp://crm.example.com/hooks');
  await page.getByLabel('All event types').uncheck();
  await page.getByRole('checkbox', { name: 'order.created' }).check();
  await page.getByRole('button', { name: 'Add header' }).click();
  await page.getByLabel('Header 1 name').fill('Content-Type');
  await page.getByLabel('Header 1 value').fill('text/plain');
  await page.getByLabel('Authentication').selectOption('basic');
  await page.getByLabel('Username').fill('hook');
  await page.getByLabel('Password').fill('hunter2');
  await page.getByRole('button', { name: 'Create endpoint' }).click();

  // The server's 422 lands next to each field.
  await expect(page.locator('#url-errors')).toContainText('http:// or https://');
  await expect(page.locator('#headers-errors')).toContainText('cannot be overridden');

  await page.getByLabel('URL').fill('https://crm.example.com/hooks');
  await page.getByLabel('Header 1 name').fill('X-Team');
  await page.getByLabel('Retry schedule').fill('5s, 1m, 1h');
  await page.getByLabel('Rate limit per minute').fill('600');
  await page.getByRole('button', { name: 'Create endpoint' }).click();
  await expect(page).toHaveURL(/\/endpoints\/ep_[0-9A-Z]+$/);
  await expect(page.getByRole('heading', { name: 'CRM' })).toBeVisible();
  await expect(page.getByLabel('Rate limit per minute')).toHaveValue('600');
  await expect(page.getByLabel('Password')).toHaveValue('');

  await page.getByRole('button', { name: 'Reveal secret' }).click();
  await expect(page.getByTestId('endpoint-secret')).toHaveText(/^whsec_[A-Za-z0-9+/=]{40,}$/);

  await page.getByRole('link', { name: '← Endpoints' }).click();
  const row = page.locator('tr[data-endpoint="CRM"]');
  await expect(row).toContainText('https://crm.example.com/hooks');
  await expect(row).toContainText('order.created');
  await expect(row).toContainText('enabled');
});

test('JWT auth, v1a signing, HTTPS only and a CA bundle: refused inline, saved, shown back without secrets', async ({ page }) => {
  await adminWithEventType(page, 'invoice.paid');

  await page.goto(`${server.url}/endpoints/new`);
  await hydrated(page);
  await page.getByLabel('Name', { exact: true }).fill('Ledger');
  await page.getByLabel('URL', { exact: true }).fill('https://ledger.example.com/hooks');
  await page.getByLabel('Authentication').selectOption('jwt');
  await page.getByLabel('Algorithm').selectOption('HS256');
  await page.locator('#ep-jwt-key').fill('too short');
  await page.locator('#ep-jwt-claims').fill('{"iss": "hookline", "exp": 1}');
  await page.getByLabel('Lifetime (seconds)').fill('120');
  await page.getByLabel('Signature', { exact: true }).selectOption('v1a');
  await page.getByLabel('HTTPS only').check();
  await page.getByText('TLS: client certificate and trusted CAs').click();
  await page.locator('#ep-tls-ca').fill('not a certificate');
  await page.getByRole('button', { name: 'Create endpoint' }).click();

  // Each refusal beside its field, from the server's 422.
  await expect(page.locator('[id="auth.key-errors"]')).toContainText('at least 32 bytes for HS256');
  await expect(page.locator('[id="auth.claims-errors"]')).toContainText('auth.claims.exp');
  await expect(page.locator('[id="tls.ca_bundle-errors"]')).toContainText('no PEM certificate');
  await expect(page).toHaveURL(/\/endpoints\/new$/);

  const key = 'ledger-shared-secret-'.padEnd(48, 'k');
  const ca = readFileSync('/etc/ssl/certs/ISRG_Root_X1.pem', 'utf8');
  await page.locator('#ep-jwt-key').fill(key);
  await page.locator('#ep-jwt-claims').fill('{"iss": "hookline", "aud": "ledger"}');
  await page.locator('#ep-tls-ca').fill(ca);
  await page.getByRole('button', { name: 'Create endpoint' }).click();
  await expect(page).toHaveURL(/\/endpoints\/ep_[0-9A-Z]+$/);
  await expect(page.getByRole('heading', { name: 'Ledger' })).toBeVisible();

  // Read back after a reload: every setting kept, the JWT key never sent to the browser.
  await page.reload();
  await hydrated(page);
  await expect(page.getByLabel('Authentication')).toHaveValue('jwt');
  await expect(page.getByLabel('Algorithm')).toHaveValue('HS256');
  await expect(page.getByLabel('Lifetime (seconds)')).toHaveValue('120');
  await expect(page.locator('#ep-jwt-claims')).toHaveValue(/"aud": "ledger"/);
  await expect(page.locator('#ep-jwt-key')).toHaveValue('');
  await expect(page.getByLabel('Signature', { exact: true })).toHaveValue('v1a');
  await expect(page.getByLabel('HTTPS only')).toBeChecked();
  await expect(page.locator('#ep-tls-ca')).toHaveValue(/BEGIN CERTIFICATE/);
  expect(await page.content()).not.toContain(key);

  // v1a: the private key whsk_ on request, and the public key whpk_ for receivers.
  await page.getByRole('button', { name: 'Reveal secret' }).click();
  await expect(page.getByTestId('endpoint-secret')).toHaveText(/^whsk_[A-Za-z0-9+/=]{40,}$/);
  await expect(page.getByTestId('endpoint-public-key')).toHaveText(/^whpk_[A-Za-z0-9+/=]{40,}$/);
});
