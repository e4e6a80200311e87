/**
 * Adam's state (iteration count, first and second moments) as named tensors, to keep in a training
 * checkpoint and to put back, e.g. after a reload or to roll back a run whose loss went non-finite.
 *
 * Names: 'iterations' (a float32 scalar) and 'm/0000', 'v/0000', … in the order Adam applies its
 * moments: the order of the gradients' names (tf.variableGrads' keys for the trainer's variables).
 */
import * as tf from '@tensorflow/tfjs';

const pad = (i: number) => String(i).padStart(4, '0');

/** The variables in the order Adam keeps their moments (the keys of variableGrads' result). */
function applyOrder(variables: tf.Variable[]): tf.Variable[] {
  const byName: Record<string, tf.Variable> = {};
  for (const v of variables) byName[v.name] = v;
  return Object.keys(byName).map((k) => byName[k]);
}

export interface OptimizerSnapshot {
  /** Named tensors; `owned` are the ones the caller must dispose (the rest belong to the optimizer). */
  tensors: Map<string, tf.Tensor>;
  owned: tf.Tensor[];
}

/** The optimizer's state now. Moments are the optimizer's own variables: save them before the next step. */
export async function readAdamState(optimizer: tf.Optimizer): Promise<OptimizerSnapshot> {
  const [iter, ...moments] = await optimizer.getWeights();
  // The count is read as a number, not cast: tfjs's WebGPU cast from int32 to float32 keeps the
  // buffer and relabels it, so a cast count read back as the float with the int's bits (2 → 2.8e-45).
  const count = (await iter.tensor.data())[0];
  iter.tensor.dispose();
  const iterations = tf.scalar(count, 'float32');
  const tensors = new Map<string, tf.Tensor>([['iterations', iterations]]);
  const half = moments.length / 2;
  moments.forEach((m, i) => tensors.set(i < half ? `m/${pad(i)}` : `v/${pad(i - half)}`, m.tensor));
  return { tensors, owned: [iterations] };
}

/**
 * The iteration count as saved. Checkpoints written on WebGPU before the fix above hold the count's
 * int32 bits under a float32 label (a tiny denormal such as 2.8e-45): those bits are read back as
 * the integer they are.
 */
function savedCount(value: number): number {
  if (value === 0 || Number.isInteger(value) || !(Math.abs(value) < 1e-30)) return value;
  const bits = new Int32Array(new Float32Array([value]).buffer)[0];
  return bits;
}

/**
 * Checks a saved state against `variables` (names, count, every moment's shape, the iteration
 * count) and returns it in Adam's order; throws an Error naming the problem. Changes nothing.
 */
export async function checkAdamState(variables: tf.Variable[], tensors: Map<string, tf.Tensor>): Promise<{ iterations: number; moments: { name: string; tensor: tf.Tensor }[] }> {
  const iter = tensors.get('iterations');
  if (iter == null || iter.size !== 1) throw new Error('optimizer state: the iteration count is missing.');
  const ordered = applyOrder(variables);
  const count = (tensors.size - 1) / 2;
  if (count !== 0 && count !== ordered.length) throw new Error(`optimizer state: ${tensors.size - 1} moments for ${ordered.length} variables.`);
  const moments: { name: string; tensor: tf.Tensor }[] = [];
  for (const kind of ['m', 'v']) {
    for (let i = 0; i < count; i++) {
      const t = tensors.get(`${kind}/${pad(i)}`);
      if (t == null) throw new Error(`optimizer state: the moment ${kind}/${pad(i)} is missing.`);
      if (!tf.util.arraysEqual(t.shape, ordered[i].shape)) throw new Error(`optimizer state: ${kind}/${pad(i)} has shape [${t.shape}], its variable [${ordered[i].shape}].`);
      moments.push({ name: `${ordered[i].name}/${kind}`, tensor: t });
    }
  }
  const iterations = savedCount((await iter.data())[0]);
  if (!Number.isInteger(iterations) || iterations < 0) throw new Error(`optimizer state: iteration count ${iterations} is not a count.`);
  return { iterations, moments };
}

/**
 * Puts a saved state back into `optimizer` (fresh, or the one that saved it: its moments are freed
 * and replaced), after {@link checkAdamState}. Does not dispose `tensors` (the optimizer keeps copies).
 */
export async function writeAdamState(optimizer: tf.Optimizer, variables: tf.Variable[], tensors: Map<string, tf.Tensor>): Promise<void> {
  const { iterations, moments } = await checkAdamState(variables, tensors);
  // Free the moments the optimizer holds now (setWeights replaces them without freeing them).
  const [oldIter, ...old] = await optimizer.getWeights();
  tf.dispose([oldIter.tensor, ...old.map((o) => o.tensor)]);
  const iterTensor = tf.scalar(iterations, 'int32');
  try {
    await optimizer.setWeights([{ name: 'iter', tensor: iterTensor }, ...moments]);
  } finally {
    iterTensor.dispose();
  }
}
