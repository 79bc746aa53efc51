// Turns the JSON of ./evolution into typed arrays the views draw from.

/** A fixed pseudo-random permutation of 0..n-1 (drawing order, trail subsets). */
function permutation(n, seed = 7) {
  const order = Int32Array.from({ length: n }, (_, i) => i);
  let state = seed >>> 0;
  for (let i = n - 1; i > 0; i--) {
    state = (Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    const j = state % (i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/**
 * @param {object} json A ready answer of ./evolution, or a "computing" one whose `frames` hold null
 *   for the frames not finished yet.
 * @param {number} numClasses
 * @param {{layer: ?string, epoch: ?number}[]} expected What the frames are expected to be (names of
 *   unfinished frames), used when the answer has no `frame_keys` and their number matches.
 * @returns {{labels: Int32Array, numClasses: number, counts: number[], order: Int32Array,
 *   frames: ?{layer: string, epoch: number, nh: ?number, predictions: ?number[], xy: Float32Array,
 *   partial: boolean, standInEpoch: ?number, extent?: number}[], keys: {layer: ?string, epoch: ?number}[],
 *   complete: boolean, extent: number, trails: ?{vertices: Float32Array[]}}}
 *   `xy` holds x0, y0, x1, y1, ...; `frames[i]` is null while frame i is not computed, and
 *   `partial` while its layout is provisional (then with an `extent` of its own, as it changes;
 *   `standInEpoch` when that layout is an earlier epoch's of the same layer, shown until its own starts);
 *   `keys[i]` says which frame i is (nulls when unknown); `extent` bounds |x| and |y| of nearly
 *   all points of the finished frames; `trails.vertices[k]` holds every point's k-th bundled
 *   trail vertex, in the same layout as `xy` (null unless the JSON has trails).
 */
export function buildSequence(json, numClasses, expected = []) {
  const labels = Int32Array.from(json.labels);
  const classes = Math.max(numClasses, labels.reduce((m, l) => Math.max(m, l + 1), 0));
  const counts = new Array(classes).fill(0);
  for (const label of labels) counts[label]++;
  const frames = json.frames.map((frame) => frame && {
    layer: frame.layer,
    epoch: frame.epoch,
    nh: frame.neighborhood_hit,
    predictions: frame.predictions,
    xy: Float32Array.from(frame.points.flat()),
    partial: Boolean(frame.partial),
    standInEpoch: frame.stand_in_epoch ?? null,
  });
  const unknown = { layer: null, epoch: null };
  const named = json.frame_keys?.length === frames.length ? json.frame_keys
    : expected.length === frames.length ? expected : null;
  const keys = frames.map((frame, i) =>
    frame ? { layer: frame.layer, epoch: frame.epoch } : named ? named[i] : unknown);
  const complete = frames.every((frame) => frame && !frame.partial);
  const finished = frames.filter((frame) => frame && !frame.partial);
  for (const frame of frames) if (frame?.partial) frame.extent = extentOf([frame]);
  const trails = json.trails ? { vertices: trailVertices(json.trails.points) } : null;
  return {
    labels, numClasses: classes, counts, order: permutation(labels.length), frames, keys, complete,
    extent: extentOf(finished), trails,
  };
}

/** `[start, end)`: the longest run of consecutive finished (not provisional) frames of `frames`. */
export function finishedSpan(frames) {
  let best = [0, 0];
  let start = 0;
  frames.forEach((frame, i) => {
    if (!frame || frame.partial) start = i + 1;
    else if (i + 1 - start > best[1] - best[0]) best = [start, i + 1];
  });
  return best;
}

/** `[N][L][2]` trails → L arrays holding vertex k of every trail. */
function trailVertices(points) {
  const length = points[0]?.length ?? 0;
  return Array.from({ length }, (_, k) => {
    const xy = new Float32Array(2 * points.length);
    points.forEach((trail, i) => xy.set(trail[k], 2 * i));
    return xy;
  });
}

/** Half-width of a square holding 99.9% of the coordinates of every frame (outliers may clip). */
function extentOf(frames) {
  const magnitudes = new Float32Array(frames.reduce((n, f) => n + f.xy.length, 0));
  let offset = 0;
  for (const frame of frames) {
    for (let i = 0; i < frame.xy.length; i++) magnitudes[offset++] = Math.abs(frame.xy[i]);
  }
  magnitudes.sort();
  const value = magnitudes[Math.floor(0.999 * (magnitudes.length - 1))];
  return value > 0 ? value * 1.05 : 1;
}

/**
 * `xy` rotated (and mirrored if that fits better) onto `reference`, both centred layouts of the
 * same points: the 2-D orthogonal Procrustes solution, so two projections compare side by side.
 */
export function alignTo(reference, xy) {
  let [c, s, cm, sm] = [0, 0, 0, 0];
  for (let i = 0; i < xy.length; i += 2) {
    const [rx, ry, x, y] = [reference[i], reference[i + 1], xy[i], xy[i + 1]];
    c += rx * x + ry * y;
    s += ry * x - rx * y;
    cm += -rx * x + ry * y; // The same with x mirrored.
    sm += -ry * x - rx * y;
  }
  const mirror = Math.hypot(cm, sm) > Math.hypot(c, s);
  const angle = mirror ? Math.atan2(sm, cm) : Math.atan2(s, c);
  const [cos, sin] = [Math.cos(angle), Math.sin(angle)];
  const out = new Float32Array(xy.length);
  for (let i = 0; i < xy.length; i += 2) {
    const x = mirror ? -xy[i] : xy[i];
    out[i] = cos * x - sin * xy[i + 1];
    out[i + 1] = sin * x + cos * xy[i + 1];
  }
  return out;
}

/** `out = a + f (b - a)`, element-wise. */
export function interpolate(a, b, f, out) {
  for (let i = 0; i < a.length; i++) out[i] = a[i] + f * (b[i] - a[i]);
  return out;
}

/** Up to `count` point indices of visible classes, the same ones for the same inputs. */
export function sample(sequence, visible, count) {
  const chosen = [];
  for (const i of sequence.order) {
    if (chosen.length >= count) break;
    if (visible[sequence.labels[i]]) chosen.push(i);
  }
  return chosen;
}

/**
 * Turns the merged JSON of ./neurons and ./discriminative into typed arrays.
 * @returns {{count: number, numClasses: number, xy: Float32Array, dead: Uint8Array,
 *   importance: Float32Array, classMax: Float32Array, best: Int32Array, counts: number[],
 *   deadCount: number, indices: number[], extent: number}} `importance[i * numClasses + c]`;
 *   `indices[i]` is neuron i's index in its layer (the JSON's `neurons`: a sample of a wide layer); `classMax[c]` is its
 *   largest value over the neurons (the map shows `importance / classMax` of the best class).
 */
export function buildNeurons(json, numClasses) {
  const count = json.points.length;
  const classes = Math.max(numClasses, json.importance[0]?.length ?? 0);
  const xy = new Float32Array(2 * count);
  const dead = Uint8Array.from(json.dead, Number);
  const importance = new Float32Array(count * classes);
  const classMax = new Float32Array(classes);
  const counts = new Array(classes).fill(0);
  let extent = 0;
  json.points.forEach((point, i) => {
    if (point) {
      xy.set(point, 2 * i);
      extent = Math.max(extent, Math.abs(point[0]), Math.abs(point[1]));
    }
    json.importance[i].forEach((value, c) => {
      importance[i * classes + c] = value;
      classMax[c] = Math.max(classMax[c], value);
    });
    if (json.best_class[i] >= 0) counts[json.best_class[i]]++;
  });
  const deadCount = dead.reduce((n, d) => n + d, 0);
  const best = Int32Array.from(json.best_class);
  const indices = json.neurons ?? Array.from({ length: count }, (_, i) => i);
  return {
    count, numClasses: classes, xy, dead, importance, classMax, best, counts, deadCount, indices,
    extent: extent > 0 ? extent * 1.08 : 1,
  };
}

const REDUCED = { global_mean: "mean over space", global_max: "max over space", flatten: "flattened" };

/**
 * "Conv2D · 14×14×32 → 32 (mean over space)": a layer's kind, output shape and how it was
 * reduced to the recorded features, from the runs answer's `layer_info` entry (empty if unknown).
 */
export function describeLayer(info) {
  if (!info) return "";
  const shape = Array.isArray(info.output_shape) && info.output_shape.length ? info.output_shape.join("×") : null;
  const pool = /^avg_pool_(\d+)_flatten$/.exec(info.reduction ?? "");
  const how = pool ? `${pool[1]}×${pool[1]} average pool, flattened` : REDUCED[info.reduction];
  const sampled = Number.isInteger(info.total_dim) && Array.isArray(info.features)
    ? `${info.features.length} of ${info.total_dim} features` : null;
  let size = shape ?? (info.dim ? String(info.dim) : "");
  if (how && info.dim) size += ` → ${info.dim} (${how})`;
  else if (shape && info.dim && String(info.dim) !== shape) size += ` → ${info.dim}`;
  return [info.kind, size, sampled].filter(Boolean).join(" · ");
}
