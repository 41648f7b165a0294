// The dashboard: sign-in, the container list kept live by the events
// stream, and a container page with live logs, a stats chart and actions.
// The token stays in sessionStorage and goes out as a Bearer header (REST)
// or as ?token= on same-origin WebSocket URLs (the agent logs no query).
'use strict';
const $ = id => document.getElementById(id), S = sessionStorage, MAX = 5000, N = 90;
let me, cur, ev, socks = [], lines = [], held = [], last = {}, samples = [], paused = false, timer = 0, raf = 0;

function el(tag, text, cls) {
 const e = document.createElement(tag);
 if (text != null) e.textContent = text;
 if (cls) e.className = cls;
 return e;
}
function show(id) { for (const s of ['login', 'list', 'one']) $(s).hidden = s != id; }
function say(text) { $('msg').textContent = text || ''; }
function size(b) {
 let u = 0;
 while (b >= 1024 && u < 4) { b /= 1024; u++; }
 return b.toFixed(u ? 1 : 0) + ' ' + ['B', 'KiB', 'MiB', 'GiB', 'TiB'][u];
}
function state(node, st, title) {
 node.className = 'st ' + st;
 node.textContent = st;
 if (title) node.title = title;
 return node;
}

async function api(path, opt = {}) {
 opt.headers = { Authorization: 'Bearer ' + S.t };
 const r = await fetch('/api/v1/' + path, opt), b = await r.json().catch(() => ({}));
 if (r.status == 401) { signout('The token was refused or has expired; sign in again.'); throw Error($('lerr').textContent); }
 if (!r.ok) throw Error(typeof b.detail == 'string' ? b.detail : r.status + ' ' + r.statusText);
 return b;
}

function sock(path, on, end) {
 const url = (location.protocol == 'https:' ? 'wss://' : 'ws://') + location.host + '/api/v1/' + path;
 const w = new WebSocket(url + (path.includes('?') ? '&' : '?') + 'token=' + encodeURIComponent(S.t));
 w.onmessage = e => on(e.data);
 w.onclose = e => {
  if (e.code == 1008 && /token|authenticated/i.test(e.reason) && S.t) signout('Session ended (' + e.reason + '); sign in again.');
  else if (end) end(e);
 };
 return w;
}

function signout(text) {
 delete S.t;
 me = cur = null;
 closeStreams();
 if (ev) { ev.onclose = null; ev.close(); ev = null; }
 $('out').hidden = true;
 $('who').textContent = $('host').textContent = '';
 say();
 show('login');
 $('lerr').textContent = text || '';
}

$('login').onsubmit = async e => {
 e.preventDefault();
 const btn = e.target.querySelector('button'), tok = $('tok').value.trim();
 $('lerr').textContent = '';
 btn.disabled = true;
 try {
  if (tok) S.t = tok;
  else {
   const r = await fetch('/api/v1/auth/login', {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: $('user').value, password: $('pass').value }) });
   const b = await r.json().catch(() => ({}));
   if (!r.ok) throw Error(typeof b.detail == 'string' ? b.detail : 'Sign-in failed (' + r.status + ')');
   S.t = b.access_token;
  }
  $('pass').value = $('tok').value = '';
  await start();
 } catch (x) {
  delete S.t;
  show('login');
  $('lerr').textContent = x.message;
 }
 btn.disabled = false;
};
$('out').onclick = () => signout();

async function start() {
 if (!S.t) return show('login');
 me = await api('auth/check');
 $('who').textContent = me.username + ' · ' + me.role + (me.read_only ? ' · read-only' : '');
 $('out').hidden = false;
 host();
 events();
 route();
}

async function host() {
 try {
  const [v, h] = await Promise.all([api('version'), api('health')]);
  $('host').textContent = 'Docker ' + v.docker_version + ' (API ' + v.api_version + ', ' + v.os + '/' + v.arch + ') · ' +
   h.status + ' · ' + h.containers_running + '/' + h.containers_total + ' running';
 } catch (x) { $('host').textContent = x.message; }
}

function events() {
 if (ev) return;
 ev = sock('events/ws?type=container&event=create,start,die,stop,pause,unpause,destroy,rename', m => {
  const e = JSON.parse(m);
  clearTimeout(timer);
  timer = setTimeout(() => { host(); if (!cur) list(); }, 250);
  if (cur && e.id && e.id.startsWith(cur.id)) {
   detail();
   if (e.Action == 'start') streams();
  }
 }, () => { ev = null; if (S.t) setTimeout(events, 3000); });
}

function route() {
 closeStreams();
 say();
 const m = location.hash.match(/^#\/c\/(.+)/);
 if (m) return open(decodeURIComponent(m[1]));
 cur = null;
 show('list');
 list();
}
window.onhashchange = () => { if (me) route(); };

function ports(ps) {
 return [...new Set(ps.map(p => (p.PublicPort ? p.PublicPort + '→' : '') + p.PrivatePort + '/' + p.Type))].join(', ');
}

async function list() {
 try {
  const b = await api('containers/?all=true');
  $('count').textContent = b.total;
  $('rows').replaceChildren(...b.containers.map(c => {
   const tr = el('tr'), td = el('td');
   tr.onclick = () => { location.hash = '#/c/' + encodeURIComponent(c.id); };
   const st = state(el('span'), c.state);
   if (c.health) st.classList.add(c.health);
   td.append(st, el('small', c.status_text));
   tr.append(el('td', c.name), td, el('td', c.image), el('td', ports(c.ports)));
   return tr;
  }));
 } catch (x) { say(x.message); }
}

async function open(id) {
 cur = { id };
 lines = []; held = []; last = {}; samples = [];
 $('logs').replaceChildren();
 $('cname').textContent = $('cimage').textContent = $('cstate').textContent = '';
 $('acts').hidden = !me.can_operate;
 show('one');
 if (await detail()) streams();
}

async function detail() {
 try {
  const d = await api('containers/' + encodeURIComponent(cur.id));
  Object.assign(cur, { id: d.id, name: d.name });
  $('cname').textContent = d.name;
  $('cimage').textContent = d.image;
  state($('cstate'), d.state.status);
  for (const b of $('acts').children) b.disabled = b.dataset.a == 'start' ? d.state.running : !d.state.running;
  return true;
 } catch (x) { say(x.message); }
}

$('acts').onclick = async e => {
 const a = e.target.dataset.a;
 if (!a) return;
 say();
 e.target.disabled = true;
 try { await api('containers/' + encodeURIComponent(cur.id) + '/' + a, { method: 'POST' }); } catch (x) { say(x.message); }
 detail();
};

function closeStreams() {
 for (const w of socks) { w.onclose = null; w.close(); }
 socks = [];
}

function streams() {
 closeStreams();
 const id = encodeURIComponent(cur.id), since = cur.t ? '&since=' + cur.t : '';
 for (const s of ['stdout', 'stderr']) socks.push(sock('logs/ws/' + id + '?timestamps=true&tail=500&stream=' + s + since, m => line(s, m)));
 socks.push(sock('stats/ws/' + id, m => stat(JSON.parse(m))));
}

// Docker's RFC 3339 stamps drop trailing zeros: padded, they sort as text.
function key(ts) {
 const m = ts.match(/^([^.Z]*)(?:\.(\d+))?Z$/);
 return m ? m[1] + '.' + (m[2] || '').padEnd(9, '0') : ts;
}

function line(s, m) {
 const i = m.indexOf(' '), ts = m.slice(0, i), k = key(ts);
 if (last[s] && k <= last[s]) return;
 last[s] = k;
 const t = Math.floor(Date.parse(ts) / 1000);
 if (!(cur.t >= t)) cur.t = t;
 const L = { k, ts, s, x: m.slice(i + 1) };
 if (paused) { held.push(L); if (held.length > MAX) held.shift(); } else add(L);
}

function add(L) {
 const box = $('logs'), d = el('div', null, L.s == 'stderr' ? 'e' : '');
 let j = lines.length;
 while (j && lines[j - 1].k > L.k) j--;
 d.append(el('i', L.s == 'stderr' ? 'err' : 'out'), L.x);
 L.d = d;
 match(L, $('filter').value.toLowerCase());
 box.insertBefore(d, j < lines.length ? lines[j].d : null);
 lines.splice(j, 0, L);
 if (lines.length > MAX) lines.shift().d.remove();
 if ($('follow').checked && !raf) raf = requestAnimationFrame(() => { raf = 0; box.scrollTop = box.scrollHeight; });
}

function match(L, f) { L.d.classList.toggle('h', !!f && !L.x.toLowerCase().includes(f)); }
$('filter').oninput = e => { const f = e.target.value.toLowerCase(); for (const L of lines) match(L, f); };
$('pause').onclick = e => {
 paused = !paused;
 e.target.textContent = paused ? 'Resume' : 'Pause';
 if (!paused) { held.forEach(add); held = []; }
};
$('dl').onclick = () => {
 const text = lines.concat(held).map(L => L.ts + ' ' + L.s + ' ' + L.x + '\n');
 const a = el('a');
 a.href = URL.createObjectURL(new Blob(text, { type: 'text/plain' }));
 a.download = (cur.name || 'container') + '.log';
 a.click();
 setTimeout(() => URL.revokeObjectURL(a.href), 10000);
};

function stat(j) {
 samples.push(j);
 if (samples.length > N) samples.shift();
 const [c, m] = $('now').children;
 c.textContent = 'CPU ' + j.cpu_percent.toFixed(1) + '%';
 m.textContent = 'Memory ' + size(j.memory_usage) + ' of ' + size(j.memory_limit) + ' (' + j.memory_percent.toFixed(1) + '%)';
 draw();
}

function draw() {
 const c = $('chart'), r = devicePixelRatio || 1, w = c.width = c.clientWidth * r, h = c.height = 120 * r;
 const g = c.getContext('2d'), css = getComputedStyle(document.documentElement);
 const plot = (f, floor, colour) => {
  const v = samples.map(s => s[f] || 0), top = Math.max(floor, ...v) * 1.2;
  g.strokeStyle = css.getPropertyValue(colour).trim();
  g.lineWidth = 2 * r;
  g.beginPath();
  v.forEach((y, i) => g[i ? 'lineTo' : 'moveTo'](w - (v.length - 1 - i) * w / (N - 1), h - 3 * r - y / top * (h - 6 * r)));
  g.stroke();
 };
 plot('cpu_percent', 5, '--acc');
 plot('memory_usage', 1, '--ok');
}

start().catch(x => { show('login'); $('lerr').textContent = x.message; });
