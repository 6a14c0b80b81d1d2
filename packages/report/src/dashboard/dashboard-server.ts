// The dashboard's web server (node:http only): the page with the current state, its updates as Server-Sent Events, and the state as JSON.
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { SplitnetError } from '@splitnet/model';
import { page } from '../html.js';
import { esc } from '../svg.js';
import type { DashboardFrame, DashboardView } from './dashboard-view.js';

export interface DashboardListen {
  /** The address to bind (127.0.0.1 unless the user asked for another). */
  readonly host: string;
  /** 0: a free port. */
  readonly port: number;
  /** The flags as the user gave them, named in a listening error (e.g. `--dashboard 8470`, `--dashboard-host 10.0.0.9`). */
  readonly portFlag: string;
  readonly hostFlag: string;
}

/** Pages are updated at most this often (ms of wall time): a browser need not redraw every sample of a fast run. */
const MIN_PUSH_MS = 250;

/**
 * Drawing a long run's figures takes a while (about 0.35 s for 1000 samples of 12 cores): the next update waits at
 * least this many times as long as the last one took, so that the dashboard keeps to about a fifth of the
 * controller's core, whatever the run's length.
 */
const DRAW_SHARE = 5;

/**
 * The page's script: applies each frame the server pushes (the main part, the state attributes, the title), and
 * says when the controller is gone (the page keeps the last state it was sent).
 */
const CLIENT_SCRIPT = `
(function () {
  if (typeof EventSource === 'undefined') return;
  var body = document.body;
  var main = document.querySelector('main');
  var note = 'Not connected to the controller (it stopped): this is the last state it sent.';
  var events = new EventSource('events');
  events.onmessage = function (e) {
    var f = JSON.parse(e.data);
    main.innerHTML = f.html;
    body.setAttribute('data-status', f.status);
    body.setAttribute('data-t-ms', String(f.tMs));
    body.setAttribute('data-seq', String(f.seq));
    body.setAttribute('data-connected', 'yes');
    document.title = f.title;
  };
  events.onerror = function () {
    body.setAttribute('data-connected', 'no');
    var s = document.getElementById('status');
    if (s && !s.querySelector('.gone')) s.insertAdjacentHTML('beforeend', '<br><span class="gone">' + note + '</span>');
  };
})();
`;

/** The page as it is now: a reload shows the latest state at once, before any update arrives. */
function pageOf(view: DashboardView, f: DashboardFrame): string {
  return page({
    title: view.run.name,
    kind: view.kind(),
    subtitle: `splitnet dashboard of run ${view.run.runId}: updates while the run goes, then shows its results`,
    body: f.html,
    footer: 'splitnet dashboard — figures drawn by the same code as `splitnet report`.',
    generator: 'splitnet dashboard',
    script: CLIENT_SCRIPT,
    bodyAttributes: ` data-status="${esc(f.status)}" data-t-ms="${esc(String(f.tMs))}" data-seq="${esc(String(f.seq))}"`,
  });
}

function listenError(err: NodeJS.ErrnoException, o: DashboardListen): SplitnetError {
  const free = 'give another port, or 0 for a free one';
  if (err.code === 'EADDRINUSE') return new SplitnetError('E_USAGE', `${o.portFlag}: port ${o.port} on ${o.host} is in use; ${free}`, { cause: err });
  if (err.code === 'EACCES')
    return new SplitnetError('E_USAGE', `${o.portFlag}: not allowed to listen on port ${o.port} (ports below 1024 need privileges); ${free}`, { cause: err });
  return new SplitnetError('E_USAGE', `${o.hostFlag}: cannot listen there (${err.code ?? err.message}); give an address of this machine, e.g. 127.0.0.1`, {
    cause: err,
  });
}

/** A dashboard being served: push a new state with `update` (throttled) or `flush` (at once); `close` ends every page's stream. */
export class Dashboard {
  private readonly clients = new Set<ServerResponse>();
  private current: DashboardFrame;
  private timer: NodeJS.Timeout | undefined;
  private lastPush = 0;
  private gapMs = MIN_PUSH_MS;
  private watched: (() => void) | undefined;

  private constructor(
    private readonly view: DashboardView,
    private readonly server: Server,
    /** The page's address, e.g. http://127.0.0.1:8470/. */
    readonly url: string,
  ) {
    this.current = view.frame();
    server.on('request', (req: IncomingMessage, res: ServerResponse) => this.serve(req, res));
  }

  /** Listen on `o.host`:`o.port` before the run starts, so that a port in use is bad input and not a lost run. */
  static async start(view: DashboardView, o: DashboardListen): Promise<Dashboard> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => reject(listenError(err, o)));
      server.listen(o.port, o.host, () => resolve());
    });
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : o.port;
    const shown = o.host === '0.0.0.0' || o.host === '::' ? '127.0.0.1' : o.host.includes(':') ? `[${o.host}]` : o.host;
    return new Dashboard(view, server, `http://${shown}:${port}/`);
  }

  /** Call `fn` once, when the first page opens its stream of updates (a replay starts when someone watches). */
  whenWatched(fn: () => void): void {
    this.watched = fn;
  }

  /** The view changed: push it to the pages, at most every MIN_PUSH_MS. */
  update(): void {
    if (this.timer !== undefined) return;
    const wait = Math.max(0, this.lastPush + this.gapMs - Date.now());
    this.timer = setTimeout(() => this.flush(), wait);
    this.timer.unref();
  }

  /** Push the view now (the run's end: the pages must not wait for it). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const t0 = Date.now();
    this.current = this.view.frame();
    this.lastPush = Date.now();
    this.gapMs = Math.max(MIN_PUSH_MS, DRAW_SHARE * (this.lastPush - t0));
    const data = `data: ${JSON.stringify(this.current)}\n\n`;
    for (const res of this.clients) res.write(data);
  }

  async close(): Promise<void> {
    clearTimeout(this.timer);
    for (const res of this.clients) res.end();
    this.clients.clear();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private serve(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' }).end(pageOf(this.view, this.current));
    } else if (path === '/state.json') {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' }).end(JSON.stringify(this.current));
    } else if (path === '/favicon.ico') {
      // No icon: said without an error, which a browser would log on every page.
      res.writeHead(204).end();
    } else if (path === '/events') {
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
      // A page that lost the stream asks again after 2 s; it gets the current state at once.
      res.write(`retry: 2000\ndata: ${JSON.stringify(this.current)}\n\n`);
      this.clients.add(res);
      req.on('close', () => this.clients.delete(res));
      const watched = this.watched;
      this.watched = undefined;
      watched?.();
    } else {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found: the dashboard is at /\n');
    }
  }
}
