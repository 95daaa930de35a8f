// The tenant portal: an admin makes a link for acme on the Portal links page; opened in a
// fresh browser context it shows acme's endpoints only, adds one, test-fires it and reads
// its attempt log; its credentials reach nothing of another tenant's and none of the
// dashboard; revoked, the link and the open portal are refused.
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

test("a portal link opens acme's portal and nothing else", async ({ page, browser }) => {
  const { api } = await setup(page, { name: 'acme-orders', tenant: 'acme' });
  const globex = await api('post', '/endpoints', {
    name: 'globex-orders',
    url: `${receiver.url}/globex`,
    tenant: 'globex',
    event_types: ['order.created'],
  });
  expect(globex.status()).toBe(201);
  const globexId = (await globex.json()).id as string;

  // The admin makes the link in the dashboard; its URL is shown once.
  await page.goto(`${server.url}/portal-links`);
  await hydrated(page);
  await page.getByLabel('Tenant').fill('acme');
  await page.getByLabel('Manage endpoints').check();
  await page.getByLabel('Test-fire').check();
  await page.getByRole('button', { name: 'Make link' }).click();
  const link = page.getByTestId('new-portal-link');
  await expect(link).toContainText('/portal?link=hlp_');
  const url = (await link.textContent())!;
  await expect(page.locator('tr[data-state="active"]')).toHaveCount(1);

  // A fresh browser with nothing but the link: the token leaves the address bar.
  const context = await browser.newContext();
  const portal = await context.newPage();
  const problems = consoleProblems(portal);
  await portal.goto(url);
  await expect(portal).toHaveURL(`${server.url}/portal`);
  await hydrated(portal);
  await expect(portal.getByTestId('portal-tenant')).toHaveText('acme');
  await expect(portal.locator('tr[data-endpoint="acme-orders"]')).toBeVisible();
  await expect(portal.locator('tr[data-endpoint="globex-orders"]')).toHaveCount(0);

  // It adds an endpoint and test-fires it; the delivery appears without a reload.
  await portal.getByLabel('Name').fill('acme-crm');
  await portal.getByLabel('URL').fill(`${receiver.url}/crm`);
  await portal.getByLabel(/^Event types/).fill('order.created');
  await portal.getByTestId('portal-add-endpoint').click();
  const crm = portal.locator('tr[data-endpoint="acme-crm"]');
  await expect(crm).toBeVisible();
  await crm.getByTestId('portal-test-fire').click();
  await expect(portal.getByTestId('portal-test-result')).toContainText('HTTP 200');
  expect(receiver.hits.length).toBe(1);
  const delivered = portal.locator('tr[data-delivery][data-status="succeeded"]');
  await expect(delivered).toHaveCount(1);

  // Its attempt log: the request as signed, the receiver's answer, and how to verify.
  await delivered.getByTestId('portal-attempts').click();
  const detail = portal.getByTestId('portal-delivery');
  await expect(detail).toHaveAttribute('data-delivery', (await delivered.getAttribute('data-delivery'))!);
  await expect(portal.getByTestId('attempt')).toHaveCount(1);
  await expect(portal.getByTestId('attempt')).toContainText('HTTP 200');
  await expect(portal.getByTestId('attempt')).toContainText(`${receiver.url}/crm`);
  const hit = receiver.hits[0];
  await expect(portal.getByTestId('signed-content')).toHaveText(
    `${hit.headers['webhook-id']}.${hit.headers['webhook-timestamp']}.${hit.body}`,
  );
  await detail.getByRole('button', { name: 'Close' }).click();
  await expect(detail).toHaveCount(0);

  // Of one status: none dead, the one that succeeded.
  await portal.locator('#portal-status').selectOption('dead');
  await expect(portal.getByText('None with this status.')).toBeVisible();
  await portal.locator('#portal-status').selectOption('succeeded');
  await expect(delivered).toHaveCount(1);

  // The portal's cookie sent straight to a server function for globex's endpoint: not
  // found, and nothing sent; the dashboard's server functions refuse it outright.
  const direct = await portal.request.post(`${server.url}/api/fn/portal_test_fire`, {
    data: { id: globexId, input: {} },
    headers: server.sameOrigin(),
  });
  expect(direct.status()).toBe(404);
  expect(receiver.hits.length).toBe(1);
  const dashboard = await portal.request.post(`${server.url}/api/fn/list_endpoints`, {
    form: {},
    headers: server.sameOrigin(),
  });
  expect(dashboard.status()).toBe(401);
  expect(problems, 'no hydration warnings or errors in the portal').toEqual([]);

  // Revoked in the dashboard: the open portal stops at once and the link opens nothing.
  await page.locator('tr[data-state="active"]').getByRole('button', { name: 'Revoke' }).click();
  await page.getByRole('button', { name: 'Confirm' }).click();
  await expect(page.locator('tr[data-state="revoked"]')).toHaveCount(1);
  await portal.reload();
  await expect(portal.getByTestId('portal-refused')).toContainText('revoked');
  await portal.goto(url);
  await expect(portal).toHaveURL(/\/portal\?refused=revoked$/);
  await expect(portal.getByTestId('portal-refused')).toContainText('was revoked');
  await context.close();
});
