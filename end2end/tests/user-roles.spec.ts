// An admin adds a viewer, who cannot manage users.
import { test, expect } from '@playwright/test';
import { ADMIN, HooklineServer, createFirstAdmin, hydrated, signIn } from './support/server';

let server: HooklineServer;
test.beforeEach(async () => { server = await HooklineServer.start(); });
test.afterEach(async () => { await server.dispose(); });

const VIEWER = { email: 'viewer@example.com', password: 'viewer password 1' };

test('an admin adds a viewer, who cannot manage users', async ({ page, browser }) => {
  await createFirstAdmin(page, server);
  await page.goto(`${server.url}/users`);
  await hydrated(page);
  await expect(page.getByRole('link', { name: 'Users' })).toBeVisible();

  // A bad password is explained next to its field.
  await page.getByLabel('Email').fill(VIEWER.email);
  await page.getByLabel('Initial password').fill('short');
  await page.getByLabel('Initial password').evaluate((el) => el.removeAttribute('minlength'));
  await page.getByRole('button', { name: 'Add user' }).click();
  await expect(page.locator('#password-error')).toHaveText('must be at least 10 characters');

  await page.getByLabel('Initial password').fill(VIEWER.password);
  await page.getByLabel('Role', { exact: true }).selectOption('viewer');
  await page.getByRole('button', { name: 'Add user' }).click();
  const row = page.locator(`tr[data-email="${VIEWER.email}"]`);
  await expect(row).toBeVisible();
  await expect(row.getByRole('combobox')).toHaveValue('viewer');

  // The last admin cannot demote themselves; the server says why.
  await page.locator(`tr[data-email="${ADMIN.email}"]`).getByRole('combobox').selectOption('viewer');
  await expect(page.getByRole('alert')).toContainText('last admin cannot be demoted');

  // The viewer, in a separate browser session.
  const viewerContext = await browser.newContext();
  const viewer = await viewerContext.newPage();
  await signIn(viewer, server, VIEWER.email, VIEWER.password);
  await expect(viewer.getByTestId('current-user')).toHaveText(VIEWER.email);
  await expect(viewer.getByRole('link', { name: 'Overview' })).toBeVisible();
  await expect(viewer.getByRole('link', { name: 'Users' })).toHaveCount(0);

  const response = await viewer.goto(`${server.url}/users`);
  expect(response?.status()).toBe(403);
  await expect(viewer.getByTestId('forbidden')).toContainText('Forbidden');

  // Not just hidden: the server function itself refuses the viewer's cookie.
  const direct = await viewer.request.post(`${server.url}/api/fn/list_users`, {
    form: {},
    headers: server.sameOrigin(),
  });
  expect(direct.status()).toBe(403);
  expect(await direct.text()).toContain('needs the admin role');
  const create = await viewer.request.post(`${server.url}/api/fn/create_user`, {
    form: { email: 'sneaky@example.com', password: 'long enough pw', role: 'admin' },
    headers: server.sameOrigin(),
  });
  expect(create.status()).toBe(403);
  await viewerContext.close();

  // The admin removes the viewer (with a confirmation step).
  await page.reload();
  await hydrated(page);
  await row.getByRole('button', { name: 'Remove' }).click();
  await row.getByRole('button', { name: 'Confirm' }).click();
  await expect(row).toHaveCount(0);
});
