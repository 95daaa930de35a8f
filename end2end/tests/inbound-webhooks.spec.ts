// Inbound webhooks: a GitHub source made from its preset; the dashboard's signed sample
// is verified, delivered to an endpoint and shown in the live inbound log, and its
// tampered twin refused with its reason; a request signed with GitHub's own library is
// accepted, and a tampered one refused.
import { test, expect } from '@playwright/test';
import { HooklineServer, hydrated } from './support/server';
import { Receiver } from './support/receiver';
import { eachTestGetsAServerAndReceiver, setup } from './support/journey';

let server: HooklineServer;
let receiver: Receiver;
const world = eachTestGetsAServerAndReceiver();
test.beforeEach(() => {
  server = world.server();
  receiver = world.receiver();
});

/** Signed with GitHub's own library (`@octokit/webhooks-methods`, from npm). */
async function githubSignature(secret: string, body: string): Promise<string> {
  // An ES module: loaded with import(), which Playwright keeps as it is.
  const { sign } = await import('@octokit/webhooks-methods');
  return sign(secret, body);
}

test('a GitHub source verifies a signed request, delivers it, and refuses a tampered one', async ({ page }) => {
  await setup(page);
  await page.goto(`${server.url}/sources`);
  await hydrated(page);
  await page.getByLabel('Name').fill('GitHub repositories');
  await page.getByLabel('Provider').selectOption('github');
  await page.getByLabel('Webhook secret').fill('it-is-a-secret');
  await page.getByLabel('Event type').selectOption('order.created');
  await page.getByRole('button', { name: 'Create source' }).click();
  const row = page.locator('tr[data-source="GitHub repositories"]');
  await expect(row).toBeVisible();
  const path = (await row.getByTestId('source-url').textContent())!.trim();
  expect(path).toMatch(/^\/in\/src_/);

  const body = JSON.stringify({ id: 'o-from-github', ref: 'refs/heads/main' });
  const signed = await page.request.post(`${server.url}${path}`, {
    headers: {
      'content-type': 'application/json',
      'x-hub-signature-256': await githubSignature('it-is-a-secret', body),
      'x-github-delivery': 'delivery-1',
    },
    data: body,
  });
  expect(signed.status(), await signed.text()).toBe(202);
  const eventId = (await signed.json()).event_id as string;
  await expect.poll(() => receiver.hits.length).toBe(1);
  expect(JSON.parse(receiver.hits[0].body).id).toBe(eventId);

  const tampered = await page.request.post(`${server.url}${path}`, {
    headers: {
      'content-type': 'application/json',
      'x-hub-signature-256': await githubSignature('it-is-a-secret', body),
      'x-github-delivery': 'delivery-2',
    },
    data: body.replace('main', 'mainx'),
  });
  expect(tampered.status()).toBe(401);

  await row.getByRole('link', { name: 'GitHub repositories' }).click();
  await hydrated(page);
  const rows = page.getByTestId('inbound-row');
  await expect(rows).toHaveCount(2);
  await expect(rows.nth(0)).toHaveAttribute('data-verdict', 'refused');
  await expect(rows.nth(0).getByTestId('inbound-reason')).toHaveText('signature mismatch');
  await expect(rows.nth(1)).toHaveAttribute('data-verdict', 'accepted');
  await expect(rows.nth(1)).toContainText(eventId);
  expect(receiver.hits.length).toBe(1);

  // The dashboard's sample, signed as GitHub signs with the source's secret: verified,
  // delivered, and on top of the live log without a reload.
  await expect(page.getByTestId('live-state')).toContainText('Live');
  await page.getByRole('button', { name: 'Send a signed sample' }).click();
  await expect(page.getByTestId('sample-verdict')).toHaveAttribute('data-verdict', 'accepted');
  await expect(rows).toHaveCount(3);
  await expect(rows.nth(0)).toHaveAttribute('data-verdict', 'accepted');
  await expect(rows.nth(0)).toHaveAttribute('data-via', 'sample');
  await expect.poll(() => receiver.hits.length).toBe(2);
  expect(JSON.parse(receiver.hits[1].body).data).toEqual({ id: 'o-example', total: 12 });

  await page.getByRole('button', { name: 'Send a tampered sample' }).click();
  await expect(page.getByTestId('sample-verdict')).toHaveAttribute('data-verdict', 'refused');
  await expect(page.getByTestId('sample-verdict')).toContainText('signature mismatch');
  await expect(rows).toHaveCount(4);
  await expect(rows.nth(0)).toHaveAttribute('data-verdict', 'refused');
  await expect(rows.nth(0).getByTestId('inbound-reason')).toHaveText('signature mismatch');
  await page.waitForTimeout(300);
  expect(receiver.hits.length).toBe(2);
});
