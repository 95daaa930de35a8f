// Refreshes the README's screenshots: HOOKLINE_SCREENSHOTS=1 scripts/e2e.sh screenshots.spec.ts
import { test, expect } from '@playwright/test';
import { HooklineServer, createFirstAdmin, hydrated } from './support/server';
import { Receiver } from './support/receiver';

test.skip(!process.env.HOOKLINE_SCREENSHOTS, 'only when refreshing the README screenshots');

test('users page screenshot', async ({ page }) => {
  const server = await HooklineServer.start();
  try {
    await createFirstAdmin(page, server);
    for (const [email, role] of [['dana@example.com', 'editor'], ['sam@example.com', 'viewer']]) {
      const res = await page.request.post(`${server.url}/api/fn/create_user`, {
        form: { email, password: 'a long password', role },
        headers: server.sameOrigin(),
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

test('dashboard screenshots: overview metrics, live log, delivery, endpoint', async ({ page }) => {
  const server = await HooklineServer.start({ allowPrivateTargets: true });
  const receiver = await Receiver.start();
  try {
    await createFirstAdmin(page, server);
    const key = (await (await page.request.post(`${server.url}/api/fn/create_api_key`, {
      form: { name: 'shop', scope: 'admin' },
      headers: server.sameOrigin(),
    })).json()).key as string;
    const auth = { authorization: `Bearer ${key}` };
    const post = (path: string, data: unknown) => page.request.post(`${server.url}/api/v1${path}`, { headers: auth, data });
    await post('/event-types', {
      name: 'order.created',
      description: 'An order was placed',
      schema: { type: 'object', required: ['id', 'total'], properties: { id: { type: 'string' }, total: { type: 'number' }, channel: { type: 'string' } } },
      example: { id: 'o-1001', total: 129.5, channel: 'web' },
    });
    const crm = await (await post('/endpoints', {
      name: 'CRM', url: receiver.url, event_types: ['order.created'],
      filter: { all: [{ field: 'data.total', op: 'gte', value: 100 }] },
    })).json();
    await post('/endpoints', { name: 'Warehouse', url: receiver.url, event_types: ['order.*'], retry_schedule: ['1s'] });
    for (let i = 0; i < 12; i++) {
      if (i === 9) receiver.status = 500;
      await post('/events', { event_type: 'order.created', data: { id: `o-${1000 + i}`, total: 80 + i * 10, channel: 'web' } });
    }
    await page.waitForTimeout(2500);
    await page.setViewportSize({ width: 1280, height: 860 });
    await page.goto(`${server.url}/`);
    await hydrated(page);
    await page.screenshot({ path: '../docs/screenshots/overview.png' });
    await page.goto(`${server.url}/deliveries`);
    await hydrated(page);
    await expect(page.getByTestId('live-state')).toContainText('Live');
    await page.screenshot({ path: '../docs/screenshots/deliveries.png' });
    await page.locator('tr[data-status="dead"] a').first().click();
    await expect(page.getByTestId('attempt').first()).toBeVisible();
    await page.screenshot({ path: '../docs/screenshots/delivery.png' });
    await page.setViewportSize({ width: 1280, height: 2000 });
    await page.goto(`${server.url}/endpoints/${crm.id}`);
    await hydrated(page);
    await expect(page.getByTestId('filter-verdict')).toBeVisible();
    await page.screenshot({ path: '../docs/screenshots/endpoint.png', fullPage: true });
  } finally {
    await server.dispose();
    await receiver.close();
  }
});
