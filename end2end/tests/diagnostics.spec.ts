// Diagnostics in the dashboard: a receiver that refuses the signature is diagnosed as
// such with the next step; "check my endpoint" makes one request and explains it; and the
// delivery page's "Verify your signature" shows the exact signed content, which the
// official `standardwebhooks` package verifies against the signature sent.
import { test, expect } from '@playwright/test';
import { HooklineServer, consoleProblems, hydrated } from './support/server';
import { Receiver } from './support/receiver';
import { eachTestGetsAServerAndReceiver, publish, setup } from './support/journey';

let server: HooklineServer;
let receiver: Receiver;
const world = eachTestGetsAServerAndReceiver();
test.beforeEach(() => {
  server = world.server();
  receiver = world.receiver();
});

test('a refused signature is diagnosed, checked again, and its signed content verifies', async ({ page }) => {
  const problems = consoleProblems(page);
  receiver.status = 401;
  const { key, endpointId } = await setup(page, { retry_schedule: [] });
  const event = await publish(page.request, key, 'o-diagnosed');
  await expect.poll(() => receiver.hits.length).toBe(1);

  await expect
    .poll(async () => {
      await page.goto(`${server.url}/endpoints/${endpointId}`);
      return page.getByTestId('diagnosis-panel').getByTestId('diagnosis').getAttribute('data-finding');
    })
    .toBe('unauthorized');
  const diagnosis = page.getByTestId('diagnosis-panel').getByTestId('diagnosis').first();
  await expect(diagnosis).toContainText('refuses the requests as unauthorized (HTTP 401)');
  await expect(diagnosis).toContainText('Next step: Check that the receiver verifies the signature');

  // Fixed on the receiver's side, checked from here.
  receiver.status = 200;
  await hydrated(page);
  await expect(page.getByTestId('diagnosis-panel')).toHaveAttribute('data-ready', 'true');
  await page.getByTestId('check-endpoint').click();
  await expect.poll(() => receiver.hits.length).toBe(2);
  expect(problems, 'no hydration warnings or errors').toEqual([]);
  await expect(page.getByTestId('endpoint-check-answer')).toHaveText('HTTP 200');
  await expect(page.getByTestId('endpoint-check').getByTestId('diagnosis')).toHaveAttribute('data-finding', 'healthy');
  expect(receiver.hits.length).toBe(2);

  // The first delivery's page: the signed content, verified by the official library.
  const detail = await page.request.get(`${server.url}/api/v1/events/${event}`, {
    headers: { authorization: `Bearer ${key}` },
  });
  const delivery = (await detail.json()).deliveries[0].id as string;
  await page.goto(`${server.url}/deliveries/${delivery}`);
  const help = page.getByTestId('signature-help');
  await expect(help).toBeVisible();
  const content = (await help.getByTestId('signed-content').textContent())!;
  const [id, timestamp] = content.split('.', 2);
  const body = content.slice(id.length + timestamp.length + 2);
  expect(body).toBe(receiver.hits[0].body);
  const signature = receiver.hits[0].headers['webhook-signature'] as string;
  const secret = await page.request.get(`${server.url}/api/v1/endpoints/${endpointId}/secret`, {
    headers: { authorization: `Bearer ${key}` },
  });
  const { Webhook } = await import('standardwebhooks');
  const verified = new Webhook((await secret.json()).secret).verify(body, {
    'webhook-id': id,
    'webhook-timestamp': timestamp,
    'webhook-signature': signature,
  });
  expect(verified).toMatchObject({ event_type: 'order.created', data: { id: 'o-diagnosed' } });
});
