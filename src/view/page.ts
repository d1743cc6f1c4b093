/**
 * The replay page: one self-contained HTML file (the player script and the data inlined; no
 * network, opens from file://) with the scene canvas, play/pause, speed, episode picker, step
 * slider, and the reward curve of the episode beside it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../mujoco/bridge.js';
import { escapeXml } from '../report/svg.js';
import { POSE_FLOATS, type Scene } from './poses.js';

export interface ReplayEpisode {
  episode: number;
  steps: number;
  return: number;
  rewards: Float32Array;
  /** (steps + 1) x ngeom x POSE_FLOATS. */
  poses: Float32Array;
}

const CANVAS = { width: 720, height: 420 };
const CURVE = { width: 420, height: 220 };
/** Planar robots are drawn from the side; Ant (3-D) obliquely. */
const SIDE_VIEW_TASKS = /^(hopper|walker2d|halfcheetah)/i;

/** The player (src/view/player.js, shipped in the package like the Python bridge). */
function playerScript(): string {
  return readFileSync(join(packageRoot, 'src', 'view', 'player.js'), 'utf8');
}

/** Pixels per metre so that the robot's first frame fills about 60 % of the canvas height. */
function pixelsPerMetre(scene: Scene, first: ReplayEpisode): number {
  let top = 0;
  scene.geoms.forEach((g, k) => {
    if (g.type !== 0) top = Math.max(top, first.poses[k * POSE_FLOATS + 2]! + Math.max(...g.size));
  });
  return Math.round((CANVAS.height - 100) / Math.max(1.5, 1.4 * top));
}

const b64 = (a: Float32Array): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');

/** `</script>` cannot appear inside the JSON block (it holds only numbers and our own strings; escape anyway). */
const safeJson = (v: unknown): string => JSON.stringify(v).replace(/</g, '\\u003c');

export function replayHtml(title: string, scene: Scene, episodes: readonly ReplayEpisode[]): string {
  const data = {
    envId: scene.envId,
    dt: scene.dt,
    view: SIDE_VIEW_TASKS.test(scene.envId) ? 'side' : 'oblique',
    scale: pixelsPerMetre(scene, episodes[0]!),
    geoms: scene.geoms,
    episodes: episodes.map((e) => ({
      episode: e.episode,
      steps: e.steps,
      return: e.return,
      rewards: Array.from(e.rewards, (r) => Math.round(r * 1e4) / 1e4),
      poses: b64(e.poses),
    })),
  };
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeXml(title)}</title>
<style>body{font-family:sans-serif;margin:1.5em;color:#222}.row{display:flex;gap:16px;flex-wrap:wrap;align-items:flex-start}
.controls{margin:8px 0;display:flex;gap:10px;align-items:center}canvas{border:1px solid #ccc}#step{width:420px}</style></head>
<body>
<h1>${escapeXml(title)}</h1>
<div class="controls"><button id="play">play</button> speed <select id="speed"></select> <select id="episode"></select>
<input id="step" type="range" min="0" max="0" value="0" aria-label="step"></div>
<div class="row"><canvas id="scene" width="${CANVAS.width}" height="${CANVAS.height}"></canvas>
<div style="width:${CURVE.width + 10}px"><canvas id="curve" width="${CURVE.width}" height="${CURVE.height}"></canvas><p id="info"></p>
<p class="caption">Poses from MuJoCo forward kinematics of the recorded qpos (${escapeXml(scene.envId)}, ${scene.dt} s per step).</p></div></div>
<script type="application/json" id="replay-data">${safeJson(data)}</script>
<script>${playerScript()}</script>
</body></html>
`;
}
