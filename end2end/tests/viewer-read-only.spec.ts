// A viewer reads deliveries, events and endpoints and can change nothing.
import { test, expect } from '@playwright/test';
import { HooklineServer, hydrated, signIn } from './support/server';
import { Receiver } from './support/receiver';
import { eachTestGetsAServerAndReceiver, publish, setup } from './support/journey';

let server: HooklineServer;
let receiver: Receiver;
const world = eachTestGetsAServerAndReceiver();
test.beforeEach(() => {
  server = world.server();
  receiver = world.receiver();
});

test('a viewer sees deliveries, events and endpoints, and can change nothing', async ({ page, browser }) => {
  const { key, endpointId } = await setup(page);
  const event = await publish(page.request, key, 'o-viewer');
  const viewerAccount = { email: 'viewer@example.com', password: 'viewer password 1' };
  const created = await page.request.post(`${server.url}/api/fn/create_user`, {
    form: { ...viewerAccount, role: 'viewer' },
    headers: server.sameOrigin(),
  });
  expect(created.status()).toBe(200);

  const context = await browser.newContext();
  const viewer = await context.newPage();
  await signIn(viewer, server, viewerAccount.email, viewerAccount.password);
  await expect(viewer.getByTestId('current-user')).toHaveText(viewerAccount.email);

  await viewer.goto(`${server.url}/deliveries`);
  await hydrated(viewer);
  await expect(viewer.getByTestId('live-state')).toContainText('Live');
  const row = viewer.locator(`tr[data-event="${event}"]`);
  await expect(row).toHaveAttribute('data-status', 'succeeded');
  await row.locator('a').first().click();
  await expect(viewer.getByTestId('attempt')).toHaveCount(1);
  await expect(viewer.getByTestId('retry')).toHaveCount(0);

  await viewer.goto(`${server.url}/endpoints/${endpointId}`);
  await hydrated(viewer);
  await expect(viewer.getByTestId('metrics')).toBeVisible();
  await expect(viewer.getByTestId('test-fire-panel')).toHaveCount(0);
  await expect(viewer.getByLabel('URL', { exact: true })).toBeDisabled();
  await expect(viewer.getByTestId('filter-builder').getByRole('button', { name: '+ Condition in filter' })).toBeDisabled();

  await viewer.goto(`${server.url}/events/${event}`);
  await expect(viewer.getByTestId('event-payload')).toContainText('o-viewer');

  // The server refuses every change, whatever the page shows.
  const deliveryId = (await (await page.request.get(`${server.url}/api/v1/deliveries?event_id=${event}`, {
    headers: { authorization: `Bearer ${key}` },
  })).json()).items[0].id;
  const calls: [string, Record<string, unknown>][] = [
    ['retry_delivery', { id: deliveryId }],
    ['replay_endpoint', { endpoint: endpointId, status: 'dead' }],
  ];
  for (const [fn, form] of calls) {
    const res = await viewer.request.post(`${server.url}/api/fn/${fn}`, {
      form: form as Record<string, string>,
      headers: server.sameOrigin(),
    });
    expect(res.status(), fn).toBe(403);
  }
  const fire = await viewer.request.post(`${server.url}/api/fn/test_fire_endpoint`, {
    data: { id: endpointId, event_type: 'order.created', data: '' },
    headers: server.sameOrigin(),
  });
  expect(fire.status()).toBe(403);
  expect(receiver.hits.length).toBe(1);
  await context.close();
});
