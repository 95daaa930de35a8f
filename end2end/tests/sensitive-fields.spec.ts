// Sensitive payload fields: marked by an admin, masked for a viewer.
import { test, expect } from '@playwright/test';
import { HooklineServer, createFirstAdmin, hydrated, signIn } from './support/server';

let server: HooklineServer;
test.beforeEach(async () => { server = await HooklineServer.start(); });
test.afterEach(async () => { await server.dispose(); });

const VIEWER = { email: 'viewer@example.com', password: 'viewer password 1' };
const CARD = '4242424242424242';

test('an admin marks a card number sensitive; a viewer sees it masked on the event page', async ({ page, browser }) => {
  await createFirstAdmin(page, server);
  await page.goto(`${server.url}/event-types/new`);
  await hydrated(page);
  await page.getByLabel('Name').fill('card.charged');
  // A path outside data or current_context: the server's 422 appears under the field.
  await page.getByLabel('Sensitive fields').fill('card.number');
  await page.getByRole('button', { name: 'Create event type' }).click();
  await expect(page.locator('#sensitive_fields-errors')).toContainText('must start with data');
  await page.getByLabel('Sensitive fields').fill('data.card.number\ndata.customer.email');
  await page.getByRole('button', { name: 'Create event type' }).click();
  await expect(page).toHaveURL(/\/event-types\/card\.charged$/);
  await expect(page.getByLabel('Sensitive fields')).toHaveValue('data.card.number\ndata.customer.email');

  // Publish one event with an admin key, and add a viewer.
  const created = await page.request.post(`${server.url}/api/fn/create_api_key`, {
    form: { name: 'payments', scope: 'admin' }, headers: server.sameOrigin(),
  });
  expect(created.status()).toBe(200);
  const key = (await created.json()).key as string;
  const published = await page.request.post(`${server.url}/api/v1/events`, {
    headers: { authorization: `Bearer ${key}` },
    data: { event_type: 'card.charged', data: { card: { number: CARD, brand: 'visa' }, customer: { email: 'jo@x.example' } } },
  });
  expect(published.status()).toBe(202);
  const id = (await published.json()).id as string;
  const user = await page.request.post(`${server.url}/api/fn/create_user`, {
    form: { ...VIEWER, role: 'viewer' }, headers: server.sameOrigin(),
  });
  expect(user.status()).toBe(200);

  // The admin sees the value...
  await page.goto(`${server.url}/events/${id}`);
  await expect(page.getByTestId('event-payload')).toContainText(CARD);

  // ...the viewer sees *** in its place, and the rest as it was.
  const viewerContext = await browser.newContext();
  const viewer = await viewerContext.newPage();
  await signIn(viewer, server, VIEWER.email, VIEWER.password);
  await expect(viewer.getByTestId('current-user')).toHaveText(VIEWER.email);
  await viewer.goto(`${server.url}/events/${id}`);
  const payload = viewer.getByTestId('event-payload');
  await expect(payload).toContainText('"number": "***"');
  await expect(payload).toContainText('"brand": "visa"');
  await expect(payload).not.toContainText(CARD);
  await expect(payload).not.toContainText('jo@x.example');
  await expect(viewer.getByText('only admins see them')).toBeVisible();
  await viewerContext.close();
});
