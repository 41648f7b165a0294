// The dashboard: sign-in, the container list kept live by the events
// stream, and a container page with live logs, a stats chart and actions.
// In a fleet, a host picker and an overview of the hosts: every API and
// stream URL is made by at(), which sends a request for another host
// through this agent as /api/v1/hosts/{name}/…; the host is in the hash.
// The token stays in sessionStorage and goes out as a Bearer header (REST)
// or as ?token= on same-origin WebSocket URLs (the agent logs no query).
'use strict';
const $ = id => document.getElementById(id), S = sessionStorage, MAX = 5000, N = 90, EVERY = 5000;
let me, can, cur, ev, on, view, socks = [], lines = [], held = [], last = {}, samples = [], paused = false, timer = 0, raf = 0;
let hosts = [], fleet = false, armed = false, ticker = 0, figures = {}, counted = 0, menu = '';

function el(tag, text, cls) {
 const e = document.createElement(tag);
 if (text != null) e.textContent = text;
 if (cls) e.className = cls;
 return e;
}
function show(id) { view = id; for (const s of ['login', 'list', 'one', 'fleet', 'down']) $(s).hidden = s != id; }
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

// The one maker of API and stream URLs: this host's own routes, or the
// picked host's through this agent.
function at(path, host = on) { return '/api/v1/' + (host ? 'hosts/' + encodeURIComponent(host) + '/' : '') + path; }
// The page's own link to `path` on a host (the hash keeps the host).
function link(path, host = on) { return '#/' + (host ? 'h/' + encodeURIComponent(host) + '/' : '') + path; }

// A refusal by this agent ends the session; one by another host is its word.
async function api(path, opt = {}, host = on) {
 opt.headers = { Authorization: 'Bearer ' + S.t };
 const r = await fetch(at(path, host), opt), b = await r.json().catch(() => ({}));
 if (r.status == 401 && !host) { signout('The token was refused or has expired; sign in again.'); throw Error($('lerr').textContent); }
 if (r.status == 502 && host) tick();
 if (!r.ok) throw Error((host ? host + ': ' : '') + (typeof b.detail == 'string' ? b.detail : r.status + ' ' + r.statusText));
 return b;
}

function sock(path, got, end) {
 const url = (location.protocol == 'https:' ? 'wss://' : 'ws://') + location.host + at(path);
 const w = new WebSocket(url + (path.includes('?') ? '&' : '?') + 'token=' + encodeURIComponent(S.t)), here = !on;
 w.onmessage = e => got(e.data);
 w.onclose = e => {
  if (here && e.code == 1008 && /token|authenticated/i.test(e.reason) && S.t) signout('Session ended (' + e.reason + '); sign in again.');
  else if (end) end(e);
 };
 return w;
}

function signout(text) {
 delete S.t;
 me = cur = on = null;
 menu = '';
 closeStreams();
 quiet();
 clearInterval(ticker);
 ticker = 0;
 $('out').hidden = $('pick').hidden = $('warn').hidden = true;
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
   const r = await fetch(at('auth/login', ''), {
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
 me = await api('auth/check', {}, '');
 $('out').hidden = false;
 await tick();
 if (fleet && !ticker) ticker = setInterval(() => { if (!document.hidden) tick(); }, EVERY);
 route();
}

// The hosts as this agent knows them; the picker shows only in a fleet.
async function tick() {
 const was = stateOf(on);
 try {
  const b = await api('hosts', {}, '');
  hosts = b.hosts;
  fleet = b.fleet;
 } catch (x) { return say(x.message); }
 const p = $('pick'), names = hosts.map(h => h.name + (h.state == 'up' ? '' : ' (' + h.state + ')'));
 p.hidden = !fleet;
 if (menu != names.join('\n')) {
  menu = names.join('\n');
  p.replaceChildren(el('option', 'All hosts'), ...names.map((n, i) => {
   const o = el('option', n);
   o.value = i ? hosts[i].name : '';
   return o;
  }));
  p.firstChild.value = '*';
  p.value = view == 'fleet' ? '*' : on;
 }
 if (view == 'fleet') overview();
 else if (me && (stateOf(on) == 'unreachable') != (was == 'unreachable')) route();
 else warn();
}
$('pick').onchange = e => { location.hash = e.target.value == '*' ? '#/fleet' : link('', e.target.value); };

function known(name) { return hosts.find((h, i) => (i ? h.name : '') == name); }
// Another host's state (this agent's own host answers for itself).
function stateOf(name) { const h = name && known(name); return h && h.state; }

// The picked host's trouble, said above its page.
function warn() {
 const h = known(on), w = $('warn');
 w.hidden = !(h && h.state == 'degraded' && view != 'fleet');
 if (!w.hidden) w.textContent = h.name + ' is degraded: ' + h.reason;
}

// What the caller may do on the picked host: its own agent says.
async function check() {
 can = false;
 try {
  const c = on ? await api('auth/check') : me;
  can = c.can_operate;
  whom(c);
  if (cur) $('acts').hidden = !can;
 } catch (x) { say(x.message); }
}

function whom(c) { $('who').textContent = c.username + ' · ' + c.role + (c.read_only ? ' · read-only' : ''); }

async function host() {
 try {
  const [v, h] = await Promise.all([api('version'), api('health')]);
  $('host').textContent = (fleet ? (known(on) || { name: on }).name + ' · ' : '') + 'Docker ' + v.docker_version + ' (API ' + v.api_version + ', ' + v.os + '/' + v.arch + ') · ' +
   h.status + ' · ' + h.containers_running + '/' + h.containers_total + ' running';
 } catch (x) { $('host').textContent = x.message; }
}

function events() {
 if (ev) return;
 const w = ev = sock('events/ws?type=container&event=create,start,die,stop,pause,unpause,destroy,rename', m => {
  const e = JSON.parse(m);
  clearTimeout(timer);
  timer = setTimeout(() => { host(); if (view == 'list') list(); }, 250);
  if (cur && e.id && e.id.startsWith(cur.id)) {
   detail();
   if (e.Action == 'start') streams();
  }
 }, () => { if (ev == w) { ev = null; setTimeout(() => { if (S.t && !ev && stateOf(on) != 'unreachable') events(); }, 3000); } });
}

function quiet() {
 armed = false;
 if (ev) { ev.onclose = null; ev.close(); ev = null; }
}

function route() {
 closeStreams();
 say();
 const m = location.hash.match(/^#\/(?:h\/([^/]+)\/?)?(?:(fleet)|c\/(.+))?$/) || [];
 cur = null;
 if (m[2]) {
  on = null;
  quiet();
  whom(me);
  show('fleet');
  $('pick').value = '*';
  warn();
  return overview();
 }
 let name = m[1] ? decodeURIComponent(m[1]) : '';
 if (hosts[0] && name == hosts[0].name) name = '';
 if (name !== on) {
  on = name;
  quiet();
  $('host').textContent = $('who').textContent = $('count').textContent = '';
  $('rows').replaceChildren();
 }
 $('pick').value = on;
 $('back').href = link('');
 if (stateOf(on) == 'unreachable') { quiet(); return down(known(on)); }
 if (!armed) { armed = true; check(); host(); events(); }
 warn();
 if (m[3]) return open(decodeURIComponent(m[3]));
 show('list');
 list();
}
window.onhashchange = () => { if (me) route(); };

// A host that does not answer: what failed, instead of its pages.
function down(h) {
 show('down');
 $('dname').textContent = h.name;
 state($('dstate'), h.state);
 $('dwhy').textContent = h.reason || '';
 $('dlast').textContent = h.last_contact ? 'Last contact ' + new Date(h.last_contact).toLocaleString() : 'Never reached';
}

// Every host: its state and why, its counts, its size; each reachable
// host's health asked at most 4 at a time, each within 8 s, every 15 s.
async function overview() {
 rows();
 if (Date.now() - counted < 3 * EVERY - 500) return;
 counted = Date.now();
 const todo = hosts.map((h, i) => [i ? h.name : '', h]).filter(([, h]) => h.state != 'unreachable');
 const one = async () => {
  for (let t; (t = todo.shift());) {
   try { figures[t[1].name] = await api('health', { signal: AbortSignal.timeout(8000) }, t[0]); } catch (x) { delete figures[t[1].name]; }
  }
 };
 await Promise.all([one(), one(), one(), one()]);
 if (view == 'fleet') rows();
}

function rows() {
 const n = {};
 for (const h of hosts) n[h.state] = (n[h.state] || 0) + 1;
 $('host').textContent = Object.entries(n).map(([k, v]) => v + ' ' + k).join(' · ');
 $('hcount').textContent = hosts.length;
 const was = document.activeElement.closest('#hrows') && document.activeElement.hash;
 $('hrows').replaceChildren(...hosts.map((h, i) => {
  const tr = el('tr'), a = el('a', h.name), st = el('td'), f = figures[h.name] || {}, c = h.containers;
  a.href = link('', i ? h.name : '');
  tr.onclick = e => { if (e.target != a) location.hash = a.hash; };
  st.append(state(el('span'), h.state));
  if (h.reason) st.append(el('small', h.reason));
  const n = f.containers_running != null ? f.containers_running + '/' + f.containers_total : c ? c.running + '/' + c.total : '';
  const td = el('td');
  td.append(a);
  if (f.read_only) td.append(el('small', 'read-only'));
  tr.append(td, st, el('td', h.docker_version || ''), el('td', n ? n + ' running' : ''), el('td', f.cpus || ''),
   el('td', f.memory_total ? size(f.memory_total) : ''), el('td', h.rtt_ms != null ? h.rtt_ms + ' ms' : ''));
  return tr;
 }));
 // A redraw keeps the keyboard where it was.
 for (const a of was ? $('hrows').querySelectorAll('a') : []) if (a.hash == was) a.focus();
}

function ports(ps) {
 return [...new Set(ps.map(p => (p.PublicPort ? p.PublicPort + '→' : '') + p.PrivatePort + '/' + p.Type))].join(', ');
}

async function list() {
 try {
  const b = await api('containers/?all=true');
  $('count').textContent = b.total;
  $('rows').replaceChildren(...b.containers.map(c => {
   const tr = el('tr'), td = el('td');
   tr.onclick = () => { location.hash = link('c/' + encodeURIComponent(c.id)); };
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
 $('acts').hidden = !can;
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
