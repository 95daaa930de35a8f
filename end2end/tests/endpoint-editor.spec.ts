// Creating an endpoint in the editor: errors inline, then listed, its secret revealed.
import { test, expect } from '@playwright/test';
import { HooklineServer, createFirstAdmin, hydrated } from './support/server';

let server: HooklineServer;
test.beforeEach(async () => { server = await HooklineServer.start(); });
test.afterEach(async () => { await server.dispose(); });

test('create an endpoint in the editor: errors inline, then listed, secret revealed', async ({ page }) => {
  await createFirstAdmin(page, server);
  const created = await page.request.post(`${server.url}/api/fn/save_event_type`, {
    form: { original: '', name: 'order.created', description: 'placed', schema: '', example: '' },
    headers: server.sameOrigin(),
  });
  expect(created.status()).toBe(200);

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
