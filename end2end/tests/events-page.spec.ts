// The events page: search by id and payload, and see where each event went.
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

test('events page: search by id, payload, and where the event went', async ({ page }) => {
  const { key } = await setup(page);
  const event = await publish(page.request, key, 'o-search');
  await page.goto(`${server.url}/events`);
  await hydrated(page);
  await expect(page.getByTestId('event-row')).toHaveCount(1);
  await page.getByLabel('Event id').fill('evt_nope');
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(page.getByTestId('events-empty')).toBeVisible();
  await page.getByLabel('Event id').fill(event);
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByRole('link', { name: event }).click();
  await expect(page.getByTestId('event-payload')).toContainText('"o-search"');
  await expect(page.getByTestId('delivery-row')).toHaveAttribute('data-status', 'succeeded');
  // The overview's metrics count it.
  await page.getByRole('link', { name: 'Overview' }).click();
  await expect(page.getByTestId('success-rate')).toHaveText('100.0 %');
  await expect(page.getByTestId('attempts')).toHaveText('1');
});
