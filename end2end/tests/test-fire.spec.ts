// Test-fire from the endpoint page: the answer shows inline.
import { test, expect } from '@playwright/test';
import { HooklineServer, consoleProblems, hydrated } from './support/server';
import { Receiver } from './support/receiver';
import { eachTestGetsAServerAndReceiver, setup } from './support/journey';

let server: HooklineServer;
let receiver: Receiver;
const world = eachTestGetsAServerAndReceiver();
test.beforeEach(() => {
  server = world.server();
  receiver = world.receiver();
});

test('test-fire from the endpoint page shows the 200 inline', async ({ page }) => {
  const problems = consoleProblems(page);
  const { endpointId } = await setup(page);
  await page.goto(`${server.url}/endpoints/${endpointId}`);
  await hydrated(page);
  await expect(page.getByTestId('test-fire-panel')).toHaveAttribute('data-ready', 'true');
  await expect(page.getByLabel('Event type', { exact: true })).toHaveValue('order.created');
  // The example is there to edit.
  await expect(page.getByLabel(/^Data/)).toHaveValue(/o-example/);
  await page.getByLabel(/^Data/).fill('{"id": "o-test", "note": "from the dashboard"}');
  await page.getByTestId('test-fire').click();
  await expect(page.getByTestId('test-fire-status')).toHaveText('HTTP 200');
  await expect(page.getByTestId('test-fire-result')).toContainText('"received": true');
  expect(JSON.parse(receiver.hits[0].body).data).toEqual({ id: 'o-test', note: 'from the dashboard' });
  // Bad JSON is a 422 next to the field, and nothing is sent.
  await page.getByLabel(/^Data/).fill('{"id": ');
  await page.getByTestId('test-fire').click();
  await expect(page.locator('#tf-data').locator('..')).toContainText('not valid JSON');
  expect(receiver.hits.length).toBe(1);
  // The test delivery is in the endpoint's recent deliveries.
  await expect(page.getByTestId('delivery-row').first()).toHaveAttribute('data-status', 'succeeded');
  // No hydration warnings or errors in the browser console.
  expect(problems).toEqual([]);
});
