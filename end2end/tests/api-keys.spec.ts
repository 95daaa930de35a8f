// API keys from the dashboard: created once, listed by prefix, revoked.
import { test, expect } from '@playwright/test';
import { HooklineServer, createFirstAdmin, hydrated } from './support/server';

let server: HooklineServer;
test.beforeEach(async () => { server = await HooklineServer.start(); });
test.afterEach(async () => { await server.dispose(); });

test('API keys: created once, listed by prefix, revoked', async ({ page }) => {
  await createFirstAdmin(page, server);
  await page.goto(`${server.url}/api-keys`);
  await hydrated(page);
  await page.getByLabel('Name').fill('orders service');
  await page.getByLabel('Scope').selectOption('publish');
  await page.getByRole('button', { name: 'Create key' }).click();
  const key = (await page.getByTestId('new-api-key').textContent())!.trim();
  expect(key).toMatch(/^hlk_/);

  // The key works against the REST API... as a publish key, it may not list event types.
  const res = await page.request.get(`${server.url}/api/v1/event-types`, { headers: { authorization: `Bearer ${key}` } });
  expect(res.status()).toBe(403);

  const row = page.locator('tr[data-key="orders service"]');
  await expect(row).toContainText(key.slice(0, 12));
  await expect(row).not.toContainText(key);
  await row.getByRole('button', { name: 'Revoke' }).click();
  await row.getByRole('button', { name: 'Confirm' }).click();
  await expect(row).toContainText('revoked');
  const after = await page.request.get(`${server.url}/api/v1/event-types`, { headers: { authorization: `Bearer ${key}` } });
  expect(after.status()).toBe(401);
});
