// dstunnel status page: polls the admin API every second. Plain DOM and SVG, no build step, no library.
'use strict';

const $ = (id) => document.getElementById(id);

function text(tag, value, cls) {
  const el = document.createElement(tag);
  el.textContent = value === null || value === undefined ? '' : String(value);
  if (cls) el.className = cls;
  return el;
}

function time(ms) {
  return new Date(ms).toLocaleTimeString();
}

// Absolute URLs on the page's origin: a page opened as http://user:pass@host/admin/ has its
// credentials in its base URL, and fetch refuses a URL that carries credentials.
const url = (path) => new URL(path, window.location.origin).href;

async function get(path) {
  const r = await fetch(url(path), { credentials: 'same-origin', cache: 'no-store' });
  if (!r.ok) throw new Error(path + ': ' + r.status);
  return r.json();
}

// Actions carry X-Requested-With, which a form on another site cannot send: the admin listener
// refuses a browser's POST or DELETE without it (cross-site request forgery).
async function send(method, path) {
  $('notice').textContent = '';
  const r = await fetch(url(path),
    { method, credentials: 'same-origin', headers: { 'X-Requested-With': 'dstunnel-status' } });
  if (!r.ok) {
    const body = await r.json().catch(() => ({}));
    $('notice').textContent = method + ' ' + path + ': ' + r.status + ' ' + (body.error || '');
  }
  refresh();
}

const act = (name, action) => send('POST', '/admin/backends/' + encodeURIComponent(name) + '/' + action);
const closeSession = (id) => send('DELETE', '/admin/sessions/' + encodeURIComponent(id));

function renderBackends(list) {
  const body = $('backends').tBodies[0];
  body.replaceChildren(...list.map((b) => {
    const tr = document.createElement('tr');
    tr.id = 'backend-' + b.name;
    tr.dataset.state = b.state;
    tr.append(text('td', b.name), text('td', b.host + ':' + b.port), text('td', b.priority), text('td', b.weight));
    const state = document.createElement('td');
    state.append(text('span', b.state, 'state state-' + b.state));
    tr.append(state, text('td', b.mode), text('td', b.sessions + (b.maxSessions ? ' / ' + b.maxSessions : '')));
    const actions = document.createElement('td');
    for (const a of ['drain', 'migrate', 'enable', 'disable']) {
      const button = text('button', a);
      button.id = a + '-' + b.name;
      button.onclick = () => act(b.name, a);
      actions.append(button, ' ');
    }
    tr.append(actions);
    return tr;
  }));
}

function renderEvents(events) {
  $('failovers').replaceChildren(...events.failovers.slice().reverse().map((f) => {
    const li = text('li', time(f.at) + ' session ' + f.session.slice(0, 8) + '… ' + (f.from || '—') + ' → ' + f.to
      + ' (' + f.reason + '; ' + f.replayedBytes + ' bytes replayed, ' + f.droppedAnswers + ' answers dropped, '
      + f.durationMs + ' ms)');
    li.className = 'failover';
    return li;
  }));
  $('health').replaceChildren(...events.health.slice().reverse().map((h) =>
    text('li', time(h.at) + ' ' + h.backend + ' ' + (h.state || '') + ' — ' + h.reason, 'health')));
}

function renderAudit(audit) {
  $('audit').tBodies[0].replaceChildren(...audit.slice().reverse().map((a) => {
    const tr = document.createElement('tr');
    tr.className = 'audit';
    tr.append(text('td', time(a.at)), text('td', a.user), text('td', a.action), text('td', a.target),
      text('td', a.from), text('td', a.result));
    return tr;
  }));
}

function renderSessions(page) {
  $('session-total').textContent = '(' + page.total + ')';
  $('sessions').tBodies[0].replaceChildren(...page.sessions.map((s) => {
    const tr = document.createElement('tr');
    tr.append(text('td', s.id.slice(0, 12) + '…'), text('td', s.user),
      text('td', s.node ? s.node.slice(0, 8) : 'this node'), text('td', s.backend || '—'),
      text('td', s.state + (s.connected ? '' : ' (not connected)')), text('td', s.failovers),
      text('td', s.replayable ? s.replayBytes + ' bytes' : 'over cap'), text('td', Math.round(s.idleMs / 1000) + ' s'));
    const close = text('button', 'close');
    close.onclick = () => closeSession(s.id);
    const td = document.createElement('td');
    td.append(close);
    tr.append(td);
    return tr;
  }));
}

// The charts: SVG drawn here from /admin/history (one sample every 5 s, the last 10 minutes), no
// library and nothing fetched from elsewhere.
const SVG = 'http://www.w3.org/2000/svg';
const SPAN_MS = 10 * 60 * 1000;

function svg(tag, attrs) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  return el;
}

function round(v) {
  return v >= 100 ? Math.round(v) : Math.round(v * 10) / 10;
}

function renderChart(fig, samples, intervalMs) {
  const key = fig.dataset.key;
  const W = 300;
  const H = 70;
  const end = samples.length ? samples[samples.length - 1].at : Date.now();
  // The whole width is the last 10 minutes, or the time since the first sample while that is shorter.
  const span = Math.min(SPAN_MS, Math.max(intervalMs, samples.length ? end - samples[0].at : 0));
  const start = end - span;
  const points = samples.filter((s) => s[key] !== null && s[key] !== undefined).map((s) => [s.at, s[key]]);
  const max = Math.max(1, ...points.map((p) => p[1]));
  const x = (t) => ((t - start) / span) * W;
  const y = (v) => H - 1 - (v / max) * (H - 8);
  const shapes = [];
  if (key === 'failovers') {
    // A count per interval: a bar where there were any.
    const w = Math.max(1.5, Math.min(12, (intervalMs / span) * W - 0.5));
    for (const [t, v] of points.filter((p) => p[1] > 0)) {
      shapes.push(svg('rect', { class: 'bar', x: x(t) - w, y: y(v), width: w, height: H - y(v) }));
    }
  } else if (points.length > 0) {
    const line = points.map(([t, v], i) => (i ? 'L' : 'M') + x(t).toFixed(1) + ',' + y(v).toFixed(1)).join(' ');
    const first = x(points[0][0]).toFixed(1);
    const last = x(points[points.length - 1][0]).toFixed(1);
    shapes.push(svg('path', { class: 'area', d: line + ' L' + last + ',' + H + ' L' + first + ',' + H + ' Z' }));
    shapes.push(svg('path', { class: 'line', d: line }));
    const [t, v] = points[points.length - 1];
    shapes.push(svg('circle', { class: 'dot', cx: x(t), cy: y(v), r: 2 }));
  }
  fig.querySelector('svg').replaceChildren(...shapes);
  fig.dataset.points = String(points.length);
  const now = points.length ? round(points[points.length - 1][1]) : '—';
  const peak = points.length ? round(Math.max(...points.map((p) => p[1]))) : null;
  fig.querySelector('.now').textContent = now + (peak === null ? '' : ' (max ' + peak + ')');
}

function renderHistory(history) {
  for (const fig of document.querySelectorAll('figure.chart')) {
    renderChart(fig, history.samples, history.intervalMs);
  }
  const n = history.samples.length;
  const covered = n < 2 ? 0 : history.samples[n - 1].at - history.samples[0].at;
  $('history-note').textContent = n < 2 ? '(collecting: a point every 5 s)'
    : covered < SPAN_MS - history.intervalMs ? '(' + duration(covered) + ' so far, a point every 5 s)' : '(a point every 5 s)';
}

function duration(ms) {
  const s = Math.floor(ms / 1000);
  if (s < 60) return s + ' s';
  if (s < 3600) return Math.floor(s / 60) + ' min ' + (s % 60) + ' s';
  if (s < 86400) return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min';
  return Math.floor(s / 86400) + ' d ' + Math.floor((s % 86400) / 3600) + ' h';
}

function renderNodes(list) {
  $('nodes').tBodies[0].replaceChildren(...list.nodes.map((n, i) => {
    const tr = document.createElement('tr');
    tr.id = 'node-' + i;
    tr.dataset.state = n.state;
    tr.className = (n.self ? 'node-self ' : '') + (n.state === 'not answering' ? 'node-not-answering' : '');
    tr.title = n.node ? 'node ' + n.node + (n.member ? ', cluster member ' + n.member : '') : '';
    tr.append(text('td', n.address || (n.node ? 'node ' + n.node.slice(0, 8) + '…' : '?')),
      text('td', n.state), text('td', n.sessions === undefined ? '—' : n.sessions),
      text('td', n.uptimeMs === undefined ? '—' : duration(n.uptimeMs)), text('td', n.version || '—'));
    return tr;
  }));
}

async function refresh() {
  try {
    const [backends, events, sessions, history, nodes] = await Promise.all(
      [get('/admin/backends'), get('/admin/events'), get('/admin/sessions?size=50'), get('/admin/history'),
        get('/admin/nodes')]);
    renderHistory(history);
    renderNodes(nodes);
    renderBackends(backends.backends);
    renderEvents(events);
    renderAudit(events.audit || []);
    renderSessions(sessions);
    $('updated').textContent = 'updated ' + new Date().toLocaleTimeString();
  } catch (e) {
    $('updated').textContent = 'not updated: ' + e.message;
  }
}

refresh();
setInterval(refresh, 1000);
