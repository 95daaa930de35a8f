// Alerts in the dashboard: an admin makes a rule on the Alerts page; when the receiver
// starts failing the rule shows as firing, and when it recovers, as ok again.
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

test('a rule made on the Alerts page fires while the receiver fails and clears when it recovers', async ({ page }) => {
  receiver.status = 500;
  const { key, endpointId } = await setup(page, { retry_schedule: [] });
  await page.goto(`${server.url}/alerts`);
  await hydrated(page);
  await page.getByLabel('Name').fill('crm failing');
  await page.getByLabel('Watch').selectOption('consecutive_failures');
  await page.getByLabel(/^Endpoint id/).fill(endpointId);
  await page.getByLabel('Threshold').fill('2');
  await page.getByRole('button', { name: 'Make rule' }).click();
  const rule = page.locator('tr[data-rule="crm failing"]');
  await expect(rule).toHaveAttribute('data-state', 'ok');

  for (const id of ['o-1', 'o-2', 'o-3']) await publish(page.request, key, id);
  await expect(rule).toHaveAttribute('data-state', 'firing', { timeout: 20_000 });
  await expect(rule).toContainText('Local receiver');

  receiver.status = 200;
  await publish(page.request, key, 'o-4');
  await expect(rule).toHaveAttribute('data-state', 'ok', { timeout: 20_000 });
});
