// Recovering dead letters: one retried by hand, many replayed in bulk with progress.
import { test, expect } from '@playwright/test';
import { HooklineServer, hydrated } from './support/server';
import { Receiver } from './support/receiver';
import { eachTestGetsAServerAndReceiver, publish, setup } from './support/journey';

let server: HooklineServer;
let receiver: Receiver;
const world = eachTestGetsAServerAndReceiver();
test.beforeEach(() => {
  server = world.server();
  receiver = world.receiver();
});

test('a failing receiver: retries then a dead letter, retried by hand and delivered', async ({ page }) => {
  receiver.status = 500;
  const { key } = await setup(page, { retry_schedule: ['1s'] });
  await page.goto(`${server.url}/deliveries`);
  await hydrated(page);
  await expect(page.getByTestId('live-state')).toContainText('Live');
  const event = await publish(page.request, key, 'o-fails');
  const row = page.locator(`tr[data-event="${event}"]`);
  // Watched live: retrying after the first 500, dead after the second.
  await expect(row).toHaveAttribute('data-status', 'dead', { timeout: 15_000 });
  await expect(row).toContainText('HTTP 500');
  expect(receiver.hits.length).toBe(2);

  // The dead-letter view lists it.
  await page.getByRole('link', { name: 'Dead letters' }).click();
  await expect(page).toHaveURL(/status=dead/);
  await expect(page.locator(`tr[data-event="${event}"]`)).toBeVisible();

  receiver.status = 200;
  await page.locator(`tr[data-event="${event}"] a`).first().click();
  await expect(page.getByRole('heading', { name: /^Delivery / })).toBeVisible();
  await expect(page.getByTestId('attempt')).toHaveCount(2);
  await expect(page.getByTestId('attempt').first()).toContainText('HTTP 500');
  await page.getByTestId('retry').click();
  await expect(page.getByTestId('detail-status')).toContainText('succeeded', { timeout: 15_000 });
  await expect(page.getByTestId('attempt')).toHaveCount(3);
  await expect(page.getByTestId('attempt').first()).toContainText('HTTP 200');
});

test('dead letters replayed in bulk, with progress, all delivered', async ({ page }) => {
  receiver.status = 503;
  const { key, endpointId } = await setup(page, { retry_schedule: [] });
  const events = [await publish(page.request, key, 'o-1'), await publish(page.request, key, 'o-2')];
  await page.goto(`${server.url}/deliveries?status=dead&endpoint=${endpointId}`);
  await hydrated(page);
  for (const e of events) {
    await expect(page.locator(`tr[data-event="${e}"]`)).toHaveAttribute('data-status', 'dead', { timeout: 15_000 });
  }
  receiver.status = 200;
  await page.getByTestId('replay-start').click();
  await expect(page.getByTestId('replay-progress')).toContainText('Replay finished', { timeout: 15_000 });
  await expect(page.getByTestId('replay-progress')).toContainText('2 re-queued · 2 delivered');
  // They left the dead-letter view as they were delivered.
  for (const e of events) await expect(page.locator(`tr[data-event="${e}"]`)).toHaveCount(0);
});
