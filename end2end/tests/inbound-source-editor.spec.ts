// A source's page after the first request: an XML request is refused by the schema; the
// transform is fixed in the editor, checked in the live preview on the captured request,
// saved, and the request replayed into the event it should have been, delivered. The
// URL copies whole; the secret is revealed, rotated and its predecessor retired.
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

test('fix a transform with the preview, replay the refused request, rotate the key', async ({ page, context }) => {
  const { api } = await setup(page);
  const created = await api('post', '/sources', {
    name: 'ERP',
    event_type: 'order.created',
    verification: { type: 'api_key', header: 'X-Key', key: 'first-key' },
  });
  expect(created.status(), await created.text()).toBe(201);
  const source = await created.json();
  const xml = await page.request.post(`${server.url}${source.url}?shop=north`, {
    headers: { 'content-type': 'application/xml', 'x-key': 'first-key' },
    data: '<Order><Ref>o-7</Ref></Order>',
  });
  expect(xml.status(), await xml.text()).toBe(422);

  await page.goto(`${server.url}/sources/${source.id}`);
  await hydrated(page);
  const rows = page.getByTestId('inbound-row');
  await expect(rows).toHaveCount(1);
  await expect(rows.nth(0)).toHaveAttribute('data-verdict', 'invalid');
  await expect(rows.nth(0).getByTestId('inbound-reason')).toContainText('id');

  // The preview runs on the captured request with the settings as typed.
  await page.getByLabel('Start from a received request').selectOption({ index: 1 });
  await expect(page.getByTestId('preview-verdict')).toHaveText('Refused with 422');
  await page.getByLabel(/Event data template/).fill('{"id": "{{ body.Order.Ref }}", "shop": "{{ query.shop }}"}');
  await expect(page.getByTestId('preview-verdict')).toHaveText('Accepted: order.created to 1 endpoint(s)');
  await expect(page.getByTestId('preview-data')).toContainText('"id": "o-7"');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Saved.' })).toBeVisible();

  // Replayed under the fixed transform: accepted, on top of the log, delivered.
  await rows.nth(0).getByRole('button', { name: 'Replay' }).click();
  await expect(rows).toHaveCount(2);
  await expect(rows.nth(0)).toHaveAttribute('data-verdict', 'accepted');
  await expect(rows.nth(0)).toHaveAttribute('data-via', 'replay');
  await expect.poll(() => receiver.hits.length).toBe(1);
  expect(JSON.parse(receiver.hits[0].body).data).toEqual({ id: 'o-7', shop: 'north' });

  // The URL is copied whole, with this server's address.
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
  await page.getByRole('button', { name: 'Copy URL' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Copied.' })).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(`${server.url}${source.url}`);

  // Reveal, rotate to a key Hookline makes (both accepted), retire the first.
  await page.getByRole('button', { name: 'Reveal secret' }).click();
  await expect(page.getByTestId('source-secret')).toHaveText('first-key');
  await page.getByRole('button', { name: 'Rotate secret…' }).click();
  await page.getByRole('button', { name: 'Rotate', exact: true }).click();
  await expect(page.getByTestId('source-secret')).toHaveText(/^[0-9a-f]{64}$/);
  await expect(page.getByTestId('source-previous-secret')).toContainText('first-key');
  const newKey = (await page.getByTestId('source-secret').textContent())!.trim();
  const post = (key: string, ref: string) =>
    page.request.post(`${server.url}${source.url}?shop=south`, {
      headers: { 'content-type': 'application/xml', 'x-key': key },
      data: `<Order><Ref>${ref}</Ref></Order>`,
    });
  expect((await post('first-key', 'o-8')).status()).toBe(202);
  expect((await post(newKey, 'o-9')).status()).toBe(202);
  await page.getByRole('button', { name: 'Retire the previous secret…' }).click();
  await page.getByRole('button', { name: 'Retire', exact: true }).click();
  await expect(page.getByTestId('source-previous-secret')).toHaveCount(0);
  expect((await post('first-key', 'o-10')).status()).toBe(401);
  expect((await post(newKey, 'o-11')).status()).toBe(202);
  await expect(rows.nth(0)).toHaveAttribute('data-verdict', 'accepted');
});
