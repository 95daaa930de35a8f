// Creating an event type in the editor, with schema errors shown inline.
import { test, expect } from '@playwright/test';
import { HooklineServer, createFirstAdmin, hydrated } from './support/server';

let server: HooklineServer;
test.beforeEach(async () => { server = await HooklineServer.start(); });
test.afterEach(async () => { await server.dispose(); });

test('create an event type in the editor; schema errors show inline', async ({ page }) => {
  await createFirstAdmin(page, server);
  await page.goto(`${server.url}/event-types`);
  await hydrated(page);
  // A fresh catalogue holds only Hookline's own operational event type.
  await expect(page.locator('tr[data-event-type="hookline.endpoint.disabled"]')).toBeVisible();

  await page.getByRole('link', { name: 'New event type' }).click();
  await expect(page).toHaveURL(/\/event-types\/new$/);
  await page.getByLabel('Name').fill('order.created');
  await page.getByLabel('Description').fill('An order was placed');
  // Not a valid JSON Schema: the server's 422 appears under the schema field.
  await page.getByLabel('JSON Schema').fill('{"type": "objekt"}');
  await page.getByRole('button', { name: 'Create event type' }).click();
  await expect(page.locator('#schema-errors')).toContainText('not a valid JSON Schema');

  // Valid schema, example that breaks it: the example's errors, with their paths.
  await page.getByLabel('JSON Schema').fill(JSON.stringify({
    type: 'object', required: ['id', 'total'],
    properties: { id: { type: 'string' }, total: { type: 'number', minimum: 0 } },
  }));
  await page.getByLabel('Example payload').fill('{"id": "ord_1", "total": -3}');
  await page.getByRole('button', { name: 'Create event type' }).click();
  await expect(page.locator('#example-errors')).toContainText('example.total');

  await page.getByLabel('Example payload').fill('{"id": "ord_1", "total": 42.5}');
  await page.getByRole('button', { name: 'Create event type' }).click();
  await expect(page).toHaveURL(/\/event-types\/order\.created$/);
  await expect(page.getByRole('heading', { name: 'order.created' })).toBeVisible();

  await page.getByRole('link', { name: '← Event types' }).click();
  const row = page.locator('tr[data-event-type="order.created"]');
  await expect(row).toContainText('An order was placed');

  // The audit log recorded it.
  await page.getByRole('link', { name: 'Audit log' }).click();
  await expect(page.getByRole('cell', { name: /create event type order\.created/ })).toBeVisible();
});
