// A DataSnap REST callback channel client, written from the protocol (dstunnel's rest.md):
// one registering ConsumeClientChannel (a GET with channel name and callback id), then POST polls
// naming the client id alone, each carrying the answer to the previous message.
(function () {
  'use strict';

  const REST = '/datasnap/rest/DSAdmin/';
  const statusEl = document.getElementById('status');
  const messagesEl = document.getElementById('messages');

  function randomId(prefix) {
    const bytes = new Uint8Array(8);
    crypto.getRandomValues(bytes);
    return prefix + Array.from(bytes, b => b.toString(16).padStart(2, '0')).join('');
  }

  function show(state, text) {
    statusEl.dataset.state = state;
    statusEl.textContent = text;
  }

  function list(kind, value) {
    const li = document.createElement('li');
    li.className = kind;
    li.textContent = typeof value === 'string' ? value : JSON.stringify(value);
    messagesEl.appendChild(li);
  }

  /** One channel: its ids, the session, the credentials sent on every call. */
  function Channel(name, user, password) {
    this.name = name;
    this.clientId = randomId('client-');
    this.callbackId = randomId('cb-');
    this.token = randomId('t-');
    this.session = null;
    this.authorization = 'Basic ' + btoa(user + ':' + password);
  }

  Channel.prototype.call = async function (method, path) {
    const headers = { 'Authorization': this.authorization, 'Accept': 'application/json' };
    if (this.session) {
      headers['Pragma'] = 'dssession=' + this.session;
    }
    const init = { method: method, headers: headers, cache: 'no-store' };
    if (method === 'POST') {
      init.body = '';
    }
    const response = await fetch(REST + path, init);
    const pragma = response.headers.get('Pragma') || '';
    const match = /dssession=([^,\s]+)/.exec(pragma);
    if (match) {
      this.session = match[1];
    }
    let body = null;
    try {
      body = await response.json();
    } catch (e) {
      body = null;
    }
    if (!response.ok || !body || body.error || body.SessionExpired || !Array.isArray(body.result)) {
      throw new Error('HTTP ' + response.status + (body ? ' ' + JSON.stringify(body) : ''));
    }
    return body.result[0];
  };

  Channel.prototype.open = async function () {
    const e = encodeURIComponent;
    const first = await this.call('GET', 'ConsumeClientChannel/' + e(this.name) + '/' + e(this.clientId) + '/'
        + e(this.callbackId) + '//' + e(this.token) + '//');
    if (!first || !Array.isArray(first.invoke) || first.invoke[0] !== this.callbackId) {
      throw new Error('unexpected registration answer ' + JSON.stringify(first));
    }
  };

  /** Polls until the channel closes or a poll fails; each message is answered by the next poll. */
  Channel.prototype.listen = async function () {
    let answer = 'true';
    for (;;) {
      show('listening', 'Listening on channel ' + this.name);
      const message = await this.call('POST', 'ConsumeClientChannel//' + encodeURIComponent(this.clientId) + '///'
          + encodeURIComponent(this.token) + '/' + answer + '/');
      if (message && message.close === true) {
        show('closed', 'The channel was closed');
        return;
      }
      if (message && Array.isArray(message.broadcast)) {
        list('broadcast', message.broadcast[0]);
        answer = 'true';
      } else if (message && Array.isArray(message.invoke)) {
        list('invoke', message.invoke[1]);
        answer = 'true';
      } else {
        answer = 'false';
      }
    }
  };

  document.getElementById('connect-form').addEventListener('submit', async event => {
    event.preventDefault();
    document.getElementById('connect').disabled = true;
    const channel = new Channel(document.getElementById('channel').value,
        document.getElementById('user').value, document.getElementById('password').value);
    try {
      show('connecting', 'Connecting');
      await channel.open();
      await channel.listen();
    } catch (e) {
      show('failed', 'Stopped: ' + e.message);
    }
  });
}());
