// Inbound verification against the providers' own libraries, from npm: requests signed by
// Stripe's test-header helper (`stripe`), the official `standardwebhooks` package and
// GitHub's `@octokit/webhooks-methods` are accepted; the same requests with one byte
// changed, an old timestamp, a wrong secret or a missing header are refused, each with
// its reason in the inbound log.
import { test, expect } from '@playwright/test';
import { HooklineServer } from './support/server';
import { eachTestGetsAServerAndReceiver, setup } from './support/journey';

let server: HooklineServer;
const world = eachTestGetsAServerAndReceiver();
test.beforeEach(() => {
  server = world.server();
});

type Signer = (body: string, opts: { secret: string; age?: number; id: string }) => Promise<Record<string, string>>;

const now = () => Math.floor(Date.now() / 1000);

const stripe: Signer = async (body, { secret, age = 0 }) => {
  const Stripe = (await import('stripe')).default;
  const client = new Stripe('sk_test_not_used');
  const header = client.webhooks.generateTestHeaderString({ payload: body, secret, timestamp: now() - age });
  return { 'stripe-signature': header };
};

const standardWebhooks: Signer = async (body, { secret, age = 0, id }) => {
  const { Webhook } = await import('standardwebhooks');
  const ts = new Date((now() - age) * 1000);
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(ts.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(id, ts, body),
  };
};

const github: Signer = async (body, { secret, id }) => {
  const { sign } = await import('@octokit/webhooks-methods');
  return { 'x-hub-signature-256': await sign(secret, body), 'x-github-delivery': id };
};

const providers = [
  { type: 'stripe', secret: 'whsec_stripe_test_secret', wrong: 'whsec_another', sign: stripe, header: 'stripe-signature', timed: true },
  {
    type: 'standard_webhooks',
    secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    wrong: 'whsec_dGhpcyBpcyBub3QgdGhlIHNlY3JldCBvZiBpdA==',
    sign: standardWebhooks,
    header: 'webhook-signature',
    timed: true,
  },
  { type: 'github', secret: 'it-is-a-secret', wrong: 'not-the-secret', sign: github, header: 'x-hub-signature-256', timed: false },
];

test("requests signed by the providers' own libraries are accepted, and altered ones refused with their reason", async ({ page }) => {
  const { api, key } = await setup(page);
  for (const p of providers) {
    const created = await api('post', '/sources', {
      name: p.type,
      event_type: 'order.created',
      verification: { type: p.type, secret: p.secret },
    });
    expect(created.status(), await created.text()).toBe(201);
    const source = await created.json();
    const post = (headers: Record<string, string>, body: string) =>
      page.request.post(`${server.url}${source.url}`, { headers: { 'content-type': 'application/json', ...headers }, data: body });
    const body = JSON.stringify({ id: `evt_${p.type}`, type: 'order.created', data: { object: { id: 'o-1' } } });

    const ok = await post(await p.sign(body, { secret: p.secret, id: `${p.type}-1` }), body);
    expect(ok.status(), `${p.type}: ${await ok.text()}`).toBe(202);

    const expected: string[] = [];
    const refuse = async (headers: Record<string, string>, sent: string, reason: RegExp) => {
      const res = await post(headers, sent);
      expect(res.status(), `${p.type}: ${await res.text()}`).toBe(401);
      expect((await res.json()).error, p.type).toMatch(reason);
      expected.push(reason.source);
    };
    const tampered = body.replace('o-1', 'o-2');
    await refuse(await p.sign(body, { secret: p.secret, id: `${p.type}-2` }), tampered, /^signature mismatch$/);
    await refuse(await p.sign(body, { secret: p.wrong, id: `${p.type}-3` }), body, /^signature mismatch$/);
    const withoutSignature = await p.sign(body, { secret: p.secret, id: `${p.type}-4` });
    delete withoutSignature[p.header];
    await refuse(withoutSignature, body, new RegExp(`^missing header ${p.header}$`));
    if (p.timed) {
      await refuse(await p.sign(body, { secret: p.secret, id: `${p.type}-5`, age: 600 }), body, /^timestamp 10 min old/);
    }

    const log = await page.request.get(`${server.url}/api/v1/sources/${source.id}/requests`, {
      headers: { authorization: `Bearer ${key}` },
    });
    const items = (await log.json()).items as { verdict: string; reason?: string }[];
    // Newest first: the refusals in reverse, then the accepted request.
    expect(items.map((i) => i.verdict)).toEqual([...expected.map(() => 'refused'), 'accepted']);
    items.slice(0, expected.length).reverse().forEach((item, i) => expect(item.reason ?? '').toMatch(new RegExp(expected[i])));
  }
});
