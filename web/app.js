// framefit try-on page: upload or take a selfie, show the landmarks and face shape,
// flip through recommended frames rendered on the face. Plain JS, no build step.
'use strict';

const API = '/api/v1/tryon/sessions';
const $ = (id) => document.getElementById(id);
const state = { session: null, photo: null, items: [], index: 0, variant: 0, stream: null };

// The anonymous shopper id: sent as a header on fetches and as a cookie for <img>.
function anonId() {
  let id = null;
  try { id = localStorage.getItem('ff_anon'); } catch (e) { /* private mode */ }
  const m = document.cookie.match(/(?:^|;\s*)ff_anon=([A-Za-z0-9_-]{22,64})/);
  if (!id && m) id = m[1];
  if (!id || !/^[A-Za-z0-9_-]{22,64}$/.test(id)) {
    const b = new Uint8Array(24);
    crypto.getRandomValues(b);
    id = btoa(String.fromCharCode(...b)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }
  try { localStorage.setItem('ff_anon', id); } catch (e) { /* ignore */ }
  document.cookie = 'ff_anon=' + id + '; path=/; max-age=2592000; SameSite=Strict';
  return id;
}
const ANON = anonId();

function status(text, isError) {
  const s = $('status');
  s.textContent = text || '';
  s.className = isError ? 'error' : '';
}

// Signed in with cookies (the account pages of the store): the CSRF cookie is readable.
function csrfToken() {
  const m = document.cookie.match(/(?:^|;\s*)ff_csrf=([^;]+)/);
  return m ? m[1] : null;
}

async function api(method, url, body, type) {
  const headers = { 'X-Anonymous-Id': ANON, 'Accept': 'application/json' };
  if (type) headers['Content-Type'] = type;
  const csrf = csrfToken();
  if (csrf && method !== 'GET') headers['X-CSRF-Token'] = csrf;
  const r = await fetch(url, { method, headers, body, credentials: 'same-origin' });
  if (r.status === 204) return null;
  let j = null;
  try { j = await r.json(); } catch (e) { /* not JSON */ }
  if (!r.ok) {
    const detail = j && (j.detail || j.title);
    const fields = j && Array.isArray(j.errors) ? ' (' + j.errors.map((e) => e.field + ': ' + e.reason).join('; ') + ')' : '';
    throw new Error((detail || ('HTTP ' + r.status)) + fields);
  }
  return j;
}

// ---- photo in ----------------------------------------------------------------------

async function upload(blob) {
  status('Analysing your photo…');
  $('analysis').hidden = true;
  $('tryon').hidden = true;
  document.body.dataset.state = 'uploading';
  try {
    const type = blob.type === 'image/png' ? 'image/png' : 'image/jpeg';
    const doc = await api('POST', API, blob, type);
    state.session = doc;
    state.photo = blob; // kept for the browser test's before/after comparison
    await showAnalysis(blob, doc);
    document.body.dataset.state = 'analysed';
    await loadRecommendations();
  } catch (e) {
    document.body.dataset.state = 'error';
    status(e.message, true);
  }
}

$('file').addEventListener('change', (ev) => {
  const f = ev.target.files && ev.target.files[0];
  if (f) upload(f);
});

$('camera').addEventListener('click', async () => {
  try {
    state.stream = await navigator.mediaDevices.getUserMedia(
      { video: { facingMode: 'user', width: { ideal: 1280 }, height: { ideal: 960 } }, audio: false });
    $('video').srcObject = state.stream;
    $('cam').hidden = false;
  } catch (e) {
    status('The camera is not available (' + e.name + '); upload a photo instead.', true);
  }
});

function stopCamera() {
  if (state.stream) state.stream.getTracks().forEach((t) => t.stop());
  state.stream = null;
  $('cam').hidden = true;
}
$('camstop').addEventListener('click', stopCamera);
$('snap').addEventListener('click', () => {
  const v = $('video');
  const c = document.createElement('canvas');
  c.width = v.videoWidth;
  c.height = v.videoHeight;
  c.getContext('2d').drawImage(v, 0, 0);
  stopCamera();
  c.toBlob((b) => b && upload(b), 'image/jpeg', 0.92);
});

// ---- analysis ----------------------------------------------------------------------

function primaryFace(doc) {
  const faces = doc.faces || [];
  const i = typeof doc.primary_face === 'number' ? doc.primary_face : 0;
  return faces[i] || null;
}

const pt = (p) => (Array.isArray(p) ? p : [p.x, p.y]);

async function showAnalysis(blob, doc) {
  const bmp = await createImageBitmap(blob); // EXIF orientation applied, like the server
  const c = $('landmarks');
  c.width = bmp.width;
  c.height = bmp.height;
  const g = c.getContext('2d');
  g.drawImage(bmp, 0, 0);
  const face = primaryFace(doc);
  const r = Math.max(2, bmp.width / 300);
  if (face && face.landmarks) {
    g.fillStyle = '#22d3ee';
    for (const p of face.landmarks) {
      const [x, y] = pt(p);
      g.beginPath();
      g.arc(x, y, r, 0, 2 * Math.PI);
      g.fill();
    }
    if (face.box) {
      g.strokeStyle = 'rgba(34, 211, 238, .8)';
      g.lineWidth = r;
      g.strokeRect(face.box.left, face.box.top, face.box.width, face.box.height);
    }
  }
  const fs = doc.face_shape;
  $('shape').textContent = fs ? fs.shape : 'not found';
  $('confidence').textContent = fs && fs.confidence != null ? '(' + Math.round(fs.confidence * 100) + '% sure)' : '';
  $('explanation').textContent = fs && fs.explanation ? fs.explanation : '';
  const dl = $('measures');
  dl.textContent = '';
  const m = doc.measurements || {};
  const rows = [['Face width', m.face_width_mm, 'mm'], ['Pupillary distance', m.pupillary_distance_mm, 'mm'],
    ['Face length', m.face_length_mm, 'mm'], ['Jaw width', m.jaw_width_mm, 'mm']];
  for (const [label, v, unit] of rows) {
    if (v == null) continue;
    const dt = document.createElement('dt');
    dt.textContent = label;
    const dd = document.createElement('dd');
    dd.textContent = Math.round(v) + ' ' + unit;
    dl.append(dt, dd);
  }
  if (m.scale && m.scale.assumption) {
    const dt = document.createElement('dt');
    dt.textContent = 'Scale';
    const dd = document.createElement('dd');
    dd.className = 'muted';
    dd.textContent = m.scale.assumption;
    dl.append(dt, dd);
  }
  const adv = $('advice');
  adv.textContent = '';
  for (const a of (doc.quality && doc.quality.advice) || []) {
    const li = document.createElement('li');
    li.textContent = a;
    adv.append(li);
  }
  $('analysis').hidden = false;
  // saving to the account: only for signed-in shoppers, only when they tick the box
  $('profile').hidden = !(csrfToken() && fs);
  $('consent').checked = false;
  $('save-profile').disabled = true;
  status(face ? '' : 'No face found: try another photo, facing the camera.', !face);
}

$('consent').addEventListener('change', () => { $('save-profile').disabled = !$('consent').checked; });
$('save-profile').addEventListener('click', async () => {
  if (!state.session || !$('consent').checked) return;
  try {
    const body = JSON.stringify({ session_id: state.session.id, consent: true });
    const p = await api('PUT', '/api/v1/me/face-profile', body, 'application/json');
    status('Saved to your profile: ' + p.face_shape.shape + ' face.');
  } catch (e) {
    status(e.message, true);
  }
});
$('forget-profile').addEventListener('click', async () => {
  try {
    await api('DELETE', '/api/v1/me/face-profile');
    $('consent').checked = false;
    $('save-profile').disabled = true;
    status('Your face shape was removed from your profile.');
  } catch (e) {
    status(e.message, true);
  }
});

$('delete').addEventListener('click', async () => {
  if (!state.session) return;
  try {
    await api('DELETE', API + '/' + encodeURIComponent(state.session.id));
    state.session = null;
    state.items = [];
    $('analysis').hidden = true;
    $('tryon').hidden = true;
    status('Your photo and its renders were deleted.');
  } catch (e) {
    status(e.message, true);
  }
});

// ---- recommendations and renders ------------------------------------------------------

async function loadRecommendations() {
  const doc = state.session;
  if (!doc || !primaryFace(doc) || !doc.face_shape) return;
  const rec = await api('GET', API + '/' + encodeURIComponent(doc.id) + '/recommendations');
  state.items = (rec && rec.items) || [];
  state.index = 0;
  state.variant = 0;
  if (!state.items.length) {
    status('No frames in the catalog fit this face yet.');
    return;
  }
  $('tryon').hidden = false;
  show();
}

function renderWidth() {
  const w = Math.round(($('tryon').clientWidth || 720) * (window.devicePixelRatio || 1));
  return Math.max(320, Math.min(1280, w - w % 80)); // few distinct widths: cache hits
}

function show() {
  const it = state.items[state.index];
  if (!it) return;
  const p = it.product || it;
  const variants = it.variants || [];
  const v = variants[state.variant] || variants[0];
  if (!v) return;
  const img = $('render');
  img.dataset.loaded = '';
  img.src = API + '/' + encodeURIComponent(state.session.id) + '/render?variant=' +
    encodeURIComponent(v.sku) + '&width=' + renderWidth();
  $('caption').textContent = (state.index + 1) + ' / ' + state.items.length + ' — ' +
    [p.brand, p.name].filter(Boolean).join(' ') + ' · ' + (p.shape || '') + ' · ' + (v.colour || '') +
    (it.frame_width_mm ? ' · ' + it.frame_width_mm + ' mm wide' : '');
  const ul = $('reasons');
  ul.textContent = '';
  for (const r of it.reasons || []) {
    const li = document.createElement('li');
    li.textContent = typeof r === 'string' ? r : (r.text || r.reason || JSON.stringify(r));
    ul.append(li);
  }
  const box = $('colours');
  box.textContent = '';
  variants.forEach((x, i) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'swatch';
    b.textContent = x.colour + (x.size ? ' ' + x.size : '');
    b.setAttribute('aria-pressed', String(i === state.variant));
    b.addEventListener('click', () => { state.variant = i; show(); });
    box.append(b);
  });
  $('prev').disabled = state.items.length < 2;
  $('next').disabled = state.items.length < 2;
}

$('render').addEventListener('load', () => {
  $('render').dataset.loaded = '1';
  document.body.dataset.state = 'rendered';
  status('');
});
$('render').addEventListener('error', () => status('This frame could not be drawn on your photo.', true));
$('prev').addEventListener('click', () => {
  state.index = (state.index + state.items.length - 1) % state.items.length;
  state.variant = 0;
  show();
});
$('next').addEventListener('click', () => {
  state.index = (state.index + 1) % state.items.length;
  state.variant = 0;
  show();
});
document.addEventListener('keydown', (e) => {
  if ($('tryon').hidden) return;
  if (e.key === 'ArrowRight') $('next').click();
  if (e.key === 'ArrowLeft') $('prev').click();
});
