/**
 * Spherical linear interpolation (Shoemake 1985), the way diffusion models interpolate their starting
 * noise (Song et al. 2021, DDIM §5.3): in high dimension a standard normal ε lies near the sphere of
 * radius √d, and the straight line between two such points passes well inside it (at the midpoint
 * its norm is about √(d/2)), where the model never saw noise. Along the great circle the norm stays:
 *   slerp(a, b; α) = sin((1 − α)θ)/sin θ · a + sin(αθ)/sin θ · b,  cos θ = ⟨a, b⟩ / (|a|·|b|),
 * and for |a| = |b| every point has that norm. Plain numbers, no tensors.
 */

/** The angle θ between a and b (radians, 0..π). */
export function angleBetween(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`slerp: vectors differ in length (${a.length} vs ${b.length}).`);
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  if (na === 0 || nb === 0) throw new Error('slerp: a vector of norm 0 has no direction.');
  return Math.acos(Math.min(1, Math.max(-1, dot / Math.sqrt(na * nb))));
}

/** slerp(a, b; α) into a new Float32Array (falls back to the straight line when θ ≈ 0 or π). */
export function slerp(a: ArrayLike<number>, b: ArrayLike<number>, alpha: number): Float32Array {
  if (!Number.isFinite(alpha)) throw new Error(`slerp: alpha must be a number, got ${alpha}.`);
  const theta = angleBetween(a, b);
  const s = Math.sin(theta);
  const [wa, wb] = s < 1e-6 ? [1 - alpha, alpha] : [Math.sin((1 - alpha) * theta) / s, Math.sin(alpha * theta) / s];
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = wa * a[i] + wb * b[i];
  return out;
}

/** `frames` evenly spaced α from 0 to 1 inclusive (frames ≥ 2). */
export function interpolationAlphas(frames: number): number[] {
  if (!(Number.isInteger(frames) && frames >= 2)) throw new Error(`frames must be an integer ≥ 2, got ${frames}.`);
  return Array.from({ length: frames }, (_, i) => i / (frames - 1));
}

/** The strip a → b as one array [frames, size]: frame i is slerp(a, b; i / (frames − 1)). */
export function slerpStrip(a: ArrayLike<number>, b: ArrayLike<number>, frames: number): Float32Array {
  const out = new Float32Array(frames * a.length);
  interpolationAlphas(frames).forEach((alpha, i) => out.set(slerp(a, b, alpha), i * a.length));
  return out;
}

/** The Euclidean norm of a vector. */
export function norm(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}
