// Shared by the delivery journeys: a fresh `hookline` and a local receiver per test, and
// the setup most of them start from (an admin, an API key, an event type, an endpoint).
import { test, expect, Page, APIRequestContext } from '@playwright/test';
import { HooklineServer, createFirstAdmin } from './server';
import { Receiver } from './receiver';

let server: HooklineServer;
let receiver: Receiver;

/** Registers the hooks that start and stop a server and a receiver around each test. */
export function eachTestGetsAServerAndReceiver(): { server: () => HooklineServer; receiver: () => Receiver } {
  test.beforeEach(async () => {
    server = await HooklineServer.start({ allowPrivateTargets: true });
    receiver = await Receiver.start();
  });
  test.afterEach(async () => {
    await server.dispose();
    await receiver.close();
  });
  return { server: () => server, receiver: () => receiver };
}

/** An admin session in `page`, an admin API key, an event type and an endpoint at the receiver. */
export async function setup(page: Page, endpoint: Record<string, unknown> = {}) {
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

export async function publish(request: APIRequestContext, key: string, id: string) {
  const res = await request.post(`${server.url}/api/v1/events`, {
    headers: { authorization: `Bearer ${key}` },
    data: { event_type: 'order.created', data: { id } },
  });
  expect(res.status()).toBe(202);
  return (await res.json()).id as string;
}
