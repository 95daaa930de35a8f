import { test, expect, Page, APIRequestContext } from '@playwright/test';
import { HooklineServer, createFirstAdmin, hydrated, signIn } from './support/server';
import { Receiver } from './support/receiver';

let server: HooklineServer;
let receiver: Receiver;
test.beforeEach(async () => {
  server = await HooklineServer.start({ allowPrivateTargets: true });
  receiver = await Receiver.start();
});
test.afterEach(async () => {
  await server.dispose();
  await receiver.close();
});

/** An admin session in `page`, an admin API key, an event type and an endpoint at the receiver. */
async function setup(page: Page, endpoint: Record<string, unknown> = {}) {
  await createFirstAdmin(page, server);
  const created = await page.request.post(`${server.url}/api/fn/create_api_key`, {
    form: { name: 'e2e', scope: 'admin' },
    headers: server.sameOrigin(),
  });
  expect(created.status()).toBe(200);
  const key = (await created.json()).key as string;
  const api = (method: 'post', path: string, data: unknown) =>
    page.request[method](`${server.url}/api/v1${path}`, {
      headers: { authorization: `Bearer ${key}` },
      data,
    });
  const type = await api('post', '/event-types', {
    name: 'order.created',
    schema: { type: 'object', required: ['id'], properties: { id: { type: 'string' } } },
    example: { id: 'o-example', total: 12 },
  });
  expect(type.status()).toBe(201);
  const ep = await api('post', '/endpoints', {
    name: 'Local receiver',
    url: receiver.url,
    event_types: ['order.created'],
    ...endpoint,
  });
  expect(ep.status(), await ep.text()).toBe(201);
  return { key, endpointId: (await ep.json()).id as string, api };
}

async function publish(request: APIRequestContext, key: string, id: string) {
  const res = await request.post(`${server.url}/api/v1/events`, {
    headers: { authorization: `Bearer ${key}` },
    data: { event_type: 'order.created', data: { id } },
  });
  expect(res.status()).toBe(202);
  return (await res.json()).id as string;
}

test('test-fire from the endpoint page shows the 200 inline', async ({ page }) => {
  const problems: string[] = [];
  page.on('console', (m) => {
    // The deliberate 422 below is logged by the browser as a failed request: not a problem.
    if ((m.type() === 'error' || m.type() === 'warning') && !m.text().startsWith('Failed to load resource')) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(String(e)));
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
