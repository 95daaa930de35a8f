// Signing in and out, a refused password, and a session that survives a restart.
import { test, expect } from '@playwright/test';
import { ADMIN, HooklineServer, createFirstAdmin, hydrated, signIn } from './support/server';

let server: HooklineServer;
test.beforeEach(async () => { server = await HooklineServer.start(); });
test.afterEach(async () => { await server.dispose(); });

test('sign in, a wrong password is refused with a message, sign out', async ({ page, context }) => {
  await createFirstAdmin(page, server);
  await context.clearCookies();

  await page.goto(`${server.url}/users`);
  await expect(page).toHaveURL(/\/login$/);

  await signIn(page, server, ADMIN.email, 'not the password');
  await expect(page.getByRole('alert')).toHaveText('invalid email or password');
  await expect(page).toHaveURL(/\/login$/);

  await page.getByLabel('Password').fill(ADMIN.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(`${server.url}/`);
  await expect(page.getByTestId('current-user')).toHaveText(ADMIN.email);

  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto(server.url);
  await expect(page).toHaveURL(/\/login$/);
});

test('a session survives a server restart', async ({ page, context }) => {
  await createFirstAdmin(page, server);
  await context.clearCookies();
  await signIn(page, server, ADMIN.email, ADMIN.password);
  await expect(page.getByTestId('current-user')).toHaveText(ADMIN.email);

  await server.restart();

  await page.reload();
  await hydrated(page);
  await expect(page).toHaveURL(`${server.url}/`);
  await expect(page.getByTestId('current-user')).toHaveText(ADMIN.email);
});
