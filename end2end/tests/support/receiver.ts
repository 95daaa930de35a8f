// A real HTTP receiver for delivery journeys: answers every POST with the status the test
// sets, and remembers what it got.
import { createServer, IncomingMessage, Server } from 'node:http';

export class Receiver {
  status = 200;
  readonly hits: { headers: IncomingMessage['headers']; body: string }[] = [];
  private constructor(private server: Server, readonly url: string) {}

  static async start(): Promise<Receiver> {
    let receiver!: Receiver;
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        receiver.hits.push({ headers: req.headers, body });
        res.writeHead(receiver.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ received: true, status: receiver.status }));
      });
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const port = (server.address() as { port: number }).port;
    receiver = new Receiver(server, `http://127.0.0.1:${port}/hooks`);
    return receiver;
  }

  async close(): Promise<void> {
    await new Promise((ok) => this.server.close(ok));
  }
}
