// Building an endpoint filter in the builder, and seeing it keep an event out.
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

test('a filter built in the builder excludes an event, which is then not delivered', async ({ page }) => {
  const { key, endpointId, api } = await setup(page);
  const typed = await api('post', '/event-types', {
    name: 'order.paid',
    schema: { type: 'object', properties: { total: { type: 'number' }, channel: { type: 'string' } } },
    example: { total: 12, channel: 'web' },
  });
  expect(typed.status()).toBe(201);
  await page.request.patch(`${server.url}/api/v1/endpoints/${endpointId}`, {
    headers: { authorization: `Bearer ${key}` },
    data: { event_types: ['order.paid'] },
  });
  await page.goto(`${server.url}/endpoints/${endpointId}`);
  await hydrated(page);
  await expect(page.getByTestId('test-fire-panel')).toHaveAttribute('data-ready', 'true');
  const builder = page.getByTestId('filter-builder');
  await builder.getByRole('button', { name: '+ Condition in filter' }).click();
  await builder.getByLabel('Condition 1 field').fill('data.total');
  await builder.getByLabel('Condition 1 field').press('Tab');
  await builder.getByLabel('Condition 1 operator').selectOption('gte');
  await builder.getByLabel('Condition 1 value').fill('100');
  await builder.getByLabel('Condition 1 value').press('Tab');
  // The live preview evaluates it on the example (total 12) and says why.
  await expect(page.getByTestId('filter-verdict')).toContainText('No match');
  await expect(page.getByTestId('filter-preview')).toContainText('found: 12');
  await expect(page.locator('#ep-filter')).toHaveValue(/"op": "gte"/);
  // The template preview renders the body for the same sample.
  await page.locator('#ep-template').fill('{"amount": "{{ data.total }}", "via": "{{ data.channel }}"}');
  await page.locator('#ep-template').press('Tab');
  await expect(page.getByTestId('template-rendered')).toContainText('"amount": 12');
  await page.locator('#ep-template').fill('');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await expect
    .poll(async () => {
      const ep = await page.request.get(`${server.url}/api/v1/endpoints/${endpointId}`, {
        headers: { authorization: `Bearer ${key}` },
      });
      return (await ep.json()).filter;
    })
    .toEqual({ all: [{ field: 'data.total', op: 'gte', value: 100 }] });

  const send = async (total: number) => {
    const res = await page.request.post(`${server.url}/api/v1/events`, {
      headers: { authorization: `Bearer ${key}` },
      data: { event_type: 'order.paid', data: { total, channel: 'web' } },
    });
    expect(res.status()).toBe(202);
    return res.json();
  };
  const small = await send(50);
  const big = await send(150);
  expect(small.deliveries).toBe(0);
  expect(big.deliveries).toBe(1);
  await expect.poll(() => receiver.hits.length).toBe(1);
  expect(JSON.parse(receiver.hits[0].body).data.total).toBe(150);
});
