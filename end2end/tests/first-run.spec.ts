// First run: the setup token from the log creates the first admin.
import { test, expect } from '@playwright/test';
import { ADMIN, HooklineServer, hydrated } from './support/server';

let server: HooklineServer;
test.beforeEach(async () => { server = await HooklineServer.start(); });
test.afterEach(async () => { await server.dispose(); });

test('first run: the setup token from the log creates the first admin', async ({ page }) => {
  expect(server.setupToken, 'the server prints a setup token while no user exists').toMatch(/^[0-9a-f]{32}$/);

  await page.goto(server.url);
  await expect(page).toHaveURL(/\/setup$/);
  await hydrated(page);

  await page.getByLabel('Setup token').fill('0'.repeat(32));
  await page.getByLabel('Email').fill(ADMIN.email);
  await page.getByLabel('Password').fill(ADMIN.password);
  await page.getByRole('button', { name: 'Create admin and sign in' }).click();
  await expect(page.locator('#token-error')).toContainText('setup token is wrong');

  await page.getByLabel('Setup token').fill(server.setupToken!);
  await page.getByRole('button', { name: 'Create admin and sign in' }).click();
  await expect(page).toHaveURL(`${server.url}/`);
  await expect(page.getByTestId('current-user')).toHaveText(ADMIN.email);
  await expect(page.getByRole('heading', { name: 'Overview' })).toBeVisible();

  // Setup is closed now: the page sends visitors on.
  await page.goto(`${server.url}/setup`);
  await expect(page).toHaveURL(`${server.url}/`);
});
