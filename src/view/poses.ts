/**
 * What the replay page draws, computed with MuJoCo itself: the model's geoms (type, size, colour)
 * and, for every recorded frame, each geom's world position and orientation from forward
 * kinematics (qpos -> mj_forward -> geom_xpos, geom_xmat). The page then only projects and paints.
 */
import { compileModelFile, assetPath, loadMujoco } from '../mujoco/bridge.js';
import { makeEnv, modelFileFor } from '../make-env.js';

/** MuJoCo's mjtGeom values the page draws. */
export const GEOM = { plane: 0, sphere: 2, capsule: 3, ellipsoid: 4, cylinder: 5, box: 6 } as const;
/** Floats per geom per frame: position (3) then the row-major rotation matrix (9). */
export const POSE_FLOATS = 12;

export interface SceneGeom {
  type: number;
  size: [number, number, number];
  rgba: [number, number, number, number];
}

export interface Scene {
  envId: string;
  /** Seconds of simulated time per env step. */
  dt: number;
  geoms: SceneGeom[];
}

/** The geoms of the env's model and its control period. */
export async function sceneOf(envId: string): Promise<Scene> {
  const model = await compileModelFile(assetPath(modelFileFor(envId)));
  const env = await makeEnv(envId);
  const dt = env.dt;
  env.close();
  const geoms: SceneGeom[] = [];
  for (let g = 0; g < model.ngeom; g++) {
    // The geom's own colour; a material's only where the geom kept MuJoCo's default grey (gym's
    // models give geoms a colour and a white textured material).
    const mat = model.geom_matid[g] as number;
    const own = model.geom_rgba.subarray(4 * g, 4 * g + 4) as Float32Array;
    const isDefault = Math.abs(own[0]! - 0.5) < 1e-6 && Math.abs(own[1]! - 0.5) < 1e-6 && Math.abs(own[2]! - 0.5) < 1e-6;
    const rgba = mat >= 0 && isDefault ? model.mat_rgba.subarray(4 * mat, 4 * mat + 4) : own;
    geoms.push({
      type: model.geom_type[g] as number,
      size: Array.from(model.geom_size.subarray(3 * g, 3 * g + 3) as Float64Array) as SceneGeom['size'],
      rgba: Array.from(rgba as Float32Array, (v) => Math.round(v * 1000) / 1000) as SceneGeom['rgba'],
    });
  }
  return { envId, dt, geoms };
}

/** Geom poses of every frame: frames x ngeom x POSE_FLOATS (float32). `qpos` holds frames x nq. */
export async function posesOf(envId: string, qpos: Float32Array, nq: number): Promise<Float32Array> {
  const mj = await loadMujoco();
  const model = await compileModelFile(assetPath(modelFileFor(envId)));
  if (model.nq !== nq) throw new RangeError(`the recording has nq ${nq}, but the ${envId} model has nq ${model.nq}`);
  const data = new mj.MjData(model);
  try {
    const frames = qpos.length / nq;
    const G = model.ngeom;
    const out = new Float32Array(frames * G * POSE_FLOATS);
    for (let f = 0; f < frames; f++) {
      const q = data.qpos as Float64Array; // re-read each frame: WASM memory growth detaches views
      for (let i = 0; i < nq; i++) q[i] = qpos[f * nq + i]!;
      mj.mj_forward(model, data);
      const xpos = data.geom_xpos as Float64Array;
      const xmat = data.geom_xmat as Float64Array;
      for (let g = 0; g < G; g++) {
        const o = (f * G + g) * POSE_FLOATS;
        for (let k = 0; k < 3; k++) out[o + k] = xpos[3 * g + k]!;
        for (let k = 0; k < 9; k++) out[o + 3 + k] = xmat[9 * g + k]!;
      }
    }
    return out;
  } finally {
    data.delete();
  }
}
