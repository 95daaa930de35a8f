// The live delivery log: new deliveries appear without a reload, and an event id is copied from it to search with.
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

test('a published event appears in the live log without a reload', async ({ page }) => {
  const { key } = await setup(page);
  await page.goto(`${server.url}/deliveries`);
  await hydrated(page);
  await expect(page.getByTestId('deliveries-empty')).toBeVisible();
  await expect(page.getByTestId('live-state')).toContainText('Live');
  const event = await publish(page.request, key, 'o-live');
  const row = page.locator(`tr[data-event="${event}"]`);
  await expect(row).toHaveAttribute('data-status', 'succeeded');
  await expect(row).toContainText('order.created');
  await expect(row).toContainText('Local receiver');
  await expect(row).toContainText('HTTP 200');
});

test('an event id is copied from the live log and searched for, at 1400 px', async ({ page }) => {
  const problems: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  const { key, endpointId } = await setup(page);
  // An endpoint without a filter: its preview says everything passes, without a 422.
  await page.goto(`${server.url}/endpoints/${endpointId}`);
  await hydrated(page);
  await expect(page.getByTestId('filter-verdict')).toContainText('No filter');
  await expect(page.getByTestId('filter-preview').locator('.form-error')).toHaveCount(0);

  await page.setViewportSize({ width: 1400, height: 900 });
  await page.goto(`${server.url}/deliveries`);
  await hydrated(page);
  await expect(page.getByTestId('live-state')).toContainText('Live');
  const event = await publish(page.request, key, 'o-copy');
  const row = page.locator(`tr[data-event="${event}"]`);
  await expect(row.getByTestId('delivery-event-id')).toHaveText(event);
  // The label stays beside its input.
  const label = await page.locator('label[for="f-event"]').boundingBox();
  const input = await page.getByLabel('Event id').boundingBox();
  expect(Math.abs(label!.y + label!.height / 2 - (input!.y + input!.height / 2))).toBeLessThan(8);
  await page.getByLabel('Event id').fill(event);
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(page.getByTestId('delivery-row')).toHaveCount(1);
  await row.getByTestId('delivery-event-id').click();
  await expect(page).toHaveURL(new RegExp(`/events/${event}$`));
  expect(problems).toEqual([]);
});
