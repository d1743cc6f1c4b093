// The replay page's player (inlined into the HTML by src/view/page.ts; plain browser JavaScript,
// no libraries, no network). Data: <script type="application/json" id="replay-data">, written by
// `ofql-eval view`: the scene's geoms and, per episode, per-frame geom poses (base64 float32:
// frames x ngeom x [pos 3, rotation 9 row-major]) and rewards.
(function () {
  'use strict';
  var DATA = JSON.parse(document.getElementById('replay-data').textContent);
  var GEOM = { plane: 0, sphere: 2, capsule: 3, ellipsoid: 4, cylinder: 5, box: 6 };
  var POSE = 12;
  var SPEEDS = [0.25, 0.5, 1, 2, 4];
  var scene = document.getElementById('scene');
  var ctx = scene.getContext('2d');
  var curve = document.getElementById('curve');
  var cctx = curve.getContext('2d');
  var slider = document.getElementById('step');
  var picker = document.getElementById('episode');
  var playButton = document.getElementById('play');
  var speedPicker = document.getElementById('speed');
  var info = document.getElementById('info');
  var geoms = DATA.geoms;
  var G = geoms.length;
  // Planar robots (hopper, walker, cheetah) are seen from the side; Ant obliquely from above.
  var planar = DATA.view === 'side';

  function decode(b64) {
    var bin = atob(b64);
    var bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return new Float32Array(bytes.buffer);
  }
  var episodes = DATA.episodes.map(function (e) {
    return { episode: e.episode, steps: e.steps, ret: e.return, rewards: e.rewards, poses: decode(e.poses) };
  });

  var state = { ep: 0, frame: 0, playing: false, speed: 1, last: 0, acc: 0 };

  // World -> screen (metres -> pixels around a camera that follows the robot).
  function project(x, y, z, cam) {
    if (planar) return [scene.width / 2 + (x - cam) * DATA.scale, scene.height - 40 - z * DATA.scale];
    return [scene.width / 2 + (x - cam + 0.5 * y) * DATA.scale, scene.height - 60 - (z + 0.35 * y) * DATA.scale];
  }
  function colour(rgba, shade) {
    var f = shade || 1;
    return 'rgba(' + Math.round(255 * rgba[0] * f) + ',' + Math.round(255 * rgba[1] * f) + ',' + Math.round(255 * rgba[2] * f) + ',' + Math.max(0.35, rgba[3]) + ')';
  }
  // Camera x: the mean x of the robot's geoms in this frame.
  function cameraX(p, base) {
    var s = 0, n = 0;
    for (var g = 0; g < G; g++) if (geoms[g].type !== GEOM.plane) { s += p[base + g * POSE]; n++; }
    return n ? s / n : 0;
  }
  function axis(p, o, col) { return [p[o + 3 + col], p[o + 6 + col], p[o + 9 + col]]; }

  function hull(points) {
    points.sort(function (a, b) { return a[0] - b[0] || a[1] - b[1]; });
    var cross = function (o, a, b) { return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]); };
    var lower = [], upper = [];
    points.forEach(function (pt) { while (lower.length >= 2 && cross(lower[lower.length - 2], lower[lower.length - 1], pt) <= 0) lower.pop(); lower.push(pt); });
    points.slice().reverse().forEach(function (pt) { while (upper.length >= 2 && cross(upper[upper.length - 2], upper[upper.length - 1], pt) <= 0) upper.pop(); upper.push(pt); });
    return lower.slice(0, -1).concat(upper.slice(0, -1));
  }

  function drawGround(cam) {
    ctx.fillStyle = '#f2f5f8';
    ctx.fillRect(0, 0, scene.width, scene.height);
    var y0 = project(cam, 0, 0, cam)[1];
    ctx.fillStyle = '#dde3e8';
    ctx.fillRect(0, y0, scene.width, scene.height - y0);
    ctx.strokeStyle = '#8a96a0';
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(0, y0);
    ctx.lineTo(scene.width, y0);
    // A tick every half metre, so that motion is visible while the camera follows.
    var half = scene.width / 2 / DATA.scale;
    for (var t = Math.floor((cam - half) * 2) / 2; t <= cam + half; t += 0.5) {
      var u = project(t, 0, 0, cam)[0];
      ctx.moveTo(u, y0);
      ctx.lineTo(u, y0 + (Math.round(t * 2) % 2 === 0 ? 10 : 5));
    }
    ctx.stroke();
  }

  function drawGeom(g, p, o, cam) {
    var geom = geoms[g];
    var x = p[o], y = p[o + 1], z = p[o + 2];
    var c = project(x, y, z, cam);
    var size = geom.size;
    ctx.fillStyle = ctx.strokeStyle = colour(geom.rgba);
    if (geom.type === GEOM.capsule || geom.type === GEOM.cylinder) {
      var a = axis(p, o, 2);
      var h = size[1];
      var p1 = project(x + a[0] * h, y + a[1] * h, z + a[2] * h, cam);
      var p2 = project(x - a[0] * h, y - a[1] * h, z - a[2] * h, cam);
      ctx.lineCap = geom.type === GEOM.capsule ? 'round' : 'butt';
      // A darker outline first, so that touching limbs of one colour stay apart.
      [[colour(geom.rgba, 0.6), 2 * size[0] * DATA.scale + 2], [colour(geom.rgba), 2 * size[0] * DATA.scale - 1]].forEach(function (pass) {
        ctx.strokeStyle = pass[0];
        ctx.lineWidth = Math.max(1, pass[1]);
        ctx.beginPath();
        ctx.moveTo(p1[0], p1[1]);
        ctx.lineTo(p2[0], p2[1]);
        ctx.stroke();
      });
    } else if (geom.type === GEOM.sphere || geom.type === GEOM.ellipsoid) {
      var r = geom.type === GEOM.sphere ? size[0] : (size[0] + size[1] + size[2]) / 3;
      ctx.beginPath();
      ctx.arc(c[0], c[1], Math.max(1, r * DATA.scale), 0, 2 * Math.PI);
      ctx.fill();
    } else if (geom.type === GEOM.box) {
      var ax = axis(p, o, 0), ay = axis(p, o, 1), az = axis(p, o, 2), corners = [];
      for (var i = -1; i <= 1; i += 2) for (var j = -1; j <= 1; j += 2) for (var k = -1; k <= 1; k += 2) {
        corners.push(project(
          x + i * size[0] * ax[0] + j * size[1] * ay[0] + k * size[2] * az[0],
          y + i * size[0] * ax[1] + j * size[1] * ay[1] + k * size[2] * az[1],
          z + i * size[0] * ax[2] + j * size[1] * ay[2] + k * size[2] * az[2], cam));
      }
      var poly = hull(corners);
      ctx.beginPath();
      poly.forEach(function (pt, n) { if (n) ctx.lineTo(pt[0], pt[1]); else ctx.moveTo(pt[0], pt[1]); });
      ctx.closePath();
      ctx.fill();
    }
  }

  function drawScene() {
    var e = episodes[state.ep];
    var base = state.frame * G * POSE;
    var cam = cameraX(e.poses, base);
    drawGround(cam);
    // Far geoms first (larger y is farther from a camera on the -y side).
    var order = [];
    for (var g = 0; g < G; g++) if (geoms[g].type !== GEOM.plane) order.push(g);
    order.sort(function (a, b) { return e.poses[base + b * POSE + 1] - e.poses[base + a * POSE + 1]; });
    order.forEach(function (g) { drawGeom(g, e.poses, base + g * POSE, cam); });
    window.replay.cameraX = cam;
  }

  function drawCurve() {
    var e = episodes[state.ep];
    var W = curve.width, H = curve.height, m = { l: 46, r: 10, t: 18, b: 30 };
    cctx.fillStyle = '#fff';
    cctx.fillRect(0, 0, W, H);
    var lo = Math.min.apply(null, e.rewards.concat([0])), hi = Math.max.apply(null, e.rewards.concat([0]));
    if (hi === lo) hi = lo + 1;
    var sx = function (i) { return m.l + (i / Math.max(1, e.steps)) * (W - m.l - m.r); };
    var sy = function (v) { return H - m.b - ((v - lo) / (hi - lo)) * (H - m.t - m.b); };
    cctx.strokeStyle = '#444';
    cctx.strokeRect(m.l, m.t, W - m.l - m.r, H - m.t - m.b);
    cctx.fillStyle = '#222';
    cctx.font = '11px sans-serif';
    cctx.fillText('reward per step', m.l, 12);
    cctx.fillText(hi.toFixed(2), 4, m.t + 8);
    cctx.fillText(lo.toFixed(2), 4, H - m.b);
    cctx.fillText('step', W / 2, H - 6);
    cctx.strokeStyle = '#0072B2';
    cctx.beginPath();
    e.rewards.forEach(function (r, i) { if (i) cctx.lineTo(sx(i + 1), sy(r)); else cctx.moveTo(sx(1), sy(r)); });
    cctx.stroke();
    cctx.strokeStyle = '#D55E00';
    cctx.beginPath();
    cctx.moveTo(sx(state.frame), m.t);
    cctx.lineTo(sx(state.frame), H - m.b);
    cctx.stroke();
    var sofar = 0;
    for (var i = 0; i < state.frame; i++) sofar += e.rewards[i];
    info.textContent = 'episode ' + e.episode + ': step ' + state.frame + ' / ' + e.steps + ', return so far ' + sofar.toFixed(1) + ' of ' + e.ret.toFixed(1);
  }

  function render() {
    slider.value = String(state.frame);
    drawScene();
    drawCurve();
    window.replay.frame = state.frame;
  }

  function setEpisode(i) {
    state.ep = i;
    state.frame = 0;
    slider.max = String(episodes[i].steps);
    render();
  }

  function tick(now) {
    if (!state.playing) return;
    if (state.last) state.acc += ((now - state.last) / 1000) * state.speed;
    state.last = now;
    var advance = Math.floor(state.acc / DATA.dt);
    if (advance > 0) {
      state.acc -= advance * DATA.dt;
      state.frame = Math.min(episodes[state.ep].steps, state.frame + advance);
      render();
      if (state.frame === episodes[state.ep].steps) { state.playing = false; playButton.textContent = 'play'; return; }
    }
    requestAnimationFrame(tick);
  }

  episodes.forEach(function (e, i) {
    var o = document.createElement('option');
    o.value = String(i);
    o.textContent = 'episode ' + e.episode + ' (return ' + e.ret.toFixed(1) + ', ' + e.steps + ' steps)';
    picker.appendChild(o);
  });
  SPEEDS.forEach(function (s) {
    var o = document.createElement('option');
    o.value = String(s);
    o.textContent = s + 'x';
    if (s === 1) o.selected = true;
    speedPicker.appendChild(o);
  });
  picker.addEventListener('change', function () { setEpisode(Number(picker.value)); });
  speedPicker.addEventListener('change', function () { state.speed = Number(speedPicker.value); });
  slider.addEventListener('input', function () { state.frame = Number(slider.value); render(); });
  playButton.addEventListener('click', function () {
    state.playing = !state.playing;
    playButton.textContent = state.playing ? 'pause' : 'play';
    if (state.playing) {
      if (state.frame === episodes[state.ep].steps) state.frame = 0;
      state.last = 0;
      state.acc = 0;
      requestAnimationFrame(tick);
    }
  });
  window.replay = {
    frame: 0,
    cameraX: 0,
    episodes: episodes.length,
    setStep: function (f) {
      state.frame = Math.max(0, Math.min(episodes[state.ep].steps, Math.round(f)));
      render();
    },
  };
  setEpisode(0);
})();
