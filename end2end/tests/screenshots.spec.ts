// Refreshes the README's screenshots: HOOKLINE_SCREENSHOTS=1 scripts/e2e.sh screenshots.spec.ts
import { test, expect } from '@playwright/test';
import { HooklineServer, createFirstAdmin, hydrated } from './support/server';

test.skip(!process.env.HOOKLINE_SCREENSHOTS, 'only when refreshing the README screenshots');

test('users page screenshot', async ({ page }) => {
  const server = await HooklineServer.start();
  try {
    await createFirstAdmin(page, server);
    for (const [email, role] of [['dana@example.com', 'editor'], ['sam@example.com', 'viewer']]) {
      const res = await page.request.post(`${server.url}/api/fn/create_user`, {
        form: { email, password: 'a long password', role },
      });
      expect(res.status()).toBe(200);
    }
    await page.setViewportSize({ width: 1280, height: 720 });
    await page.goto(`${server.url}/users`);
    await hydrated(page);
    await page.screenshot({ path: '../docs/screenshots/users.png' });
  } finally {
    await server.dispose();
  }
});
