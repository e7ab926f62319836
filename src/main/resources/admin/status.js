// dstunnel status page: polls the admin API every second. Plain DOM, no build step.
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

async function refresh() {
  try {
    const [backends, events, sessions] = await Promise.all(
      [get('/admin/backends'), get('/admin/events'), get('/admin/sessions?size=50')]);
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
