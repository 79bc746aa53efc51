// All requests of the tab. URLs are relative to the plugin's <base href>.

const POLL_INTERVAL_MS = 500;

/** Thrown for an error the server explained (`{"error": ...}`) or a failed request. */
class ApiError extends Error {}

function url(route, params = {}) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null) query.set(key, Array.isArray(value) ? value.join(",") : value);
  }
  const text = query.toString();
  return text ? `./${route}?${text}` : `./${route}`;
}

async function getJson(route, params, signal) {
  let response;
  try {
    response = await fetch(url(route, params), { signal, cache: "no-store" });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(`TensorBoard did not answer (${error.message}).`);
  }
  let body = null;
  try {
    body = await response.json();
  } catch (error) {
    throw new ApiError(`Unexpected answer from ./${route} (HTTP ${response.status}).`);
  }
  if (!response.ok) throw new ApiError(body && body.error ? body.error : `HTTP ${response.status}`);
  return { status: response.status, body };
}

function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(new DOMException("Aborted", "AbortError"));
      },
      { once: true },
    );
  });
}

/** `{run: {layers, epochs, num_points, class_names, layer_info, has_thumbnails}}`. */
export async function fetchRuns(signal) {
  // In name order, as TensorBoard lists runs (the server lists them in the order they were loaded).
  const runs = Object.entries((await getJson("runs", {}, signal)).body);
  runs.sort(([a], [b]) => a.localeCompare(b, undefined, { numeric: true }));
  return Object.fromEntries(runs);
}

/** GETs `route` until it answers "ready", passing each 202 answer to `onProgress(body)`. */
async function pollReady(route, params, signal, onProgress) {
  for (;;) {
    const { status, body } = await getJson(route, params, signal);
    if (status === 200 && body.status === "ready") return body;
    onProgress(body);
    await sleep(POLL_INTERVAL_MS, signal);
  }
}

/**
 * One projection of one layer at one epoch: `{points, labels, predictions, neighborhood_hit, ...}`.
 * Polls while the server computes (HTTP 202), passing each such answer to `onProgress(body)`:
 * `{status: "computing", progress, eta_seconds, preview}`.
 * @param {{run, layer, epoch, method, perplexity?, seed?}} params `perplexity`, `seed`: t-SNE only.
 */
export function fetchProjection(params, { signal, onProgress }) {
  return pollReady("projection", params, signal, onProgress);
}

/**
 * Aligned projections of one epoch across layers or one layer across epochs.
 * Polls while the server computes (HTTP 202), passing each such answer to `onProgress(body)`:
 * `{status: "computing", progress, frames_total, frames_done, eta_seconds, labels, frames}` where
 * `frames` holds the finished frames (a provisional one with `partial: true`) and null for the others.
 * @param {{run, over, method, perplexity?, seed?, epoch?, layer?, layers?, epochs?}} params
 */
export function fetchEvolution(params, { signal, onProgress }) {
  return pollReady("evolution", params, signal, onProgress);
}

/**
 * Neuron positions (./neurons) and discriminative scores (./discriminative) of one layer
 * at one epoch, merged: `{points, dead, importance, best_class, class_names, neurons, notes}`.
 * Reports `onProgress(fraction)` of both together.
 * @param {{run, layer, epoch, method}} params `method`: "mds" or "tsne".
 */
export async function fetchNeurons({ run, layer, epoch, method }, { signal, onProgress }) {
  const done = [0, 0];
  const track = (i) => (body) => {
    done[i] = body.progress ?? 0;
    onProgress((done[0] + done[1]) / 2);
  };
  const [positions, scores] = await Promise.all([
    pollReady("neurons", { run, layer, epoch, method }, signal, track(0)).finally(() => (done[0] = 1)),
    pollReady("discriminative", { run, layer, epoch }, signal, track(1)).finally(() => (done[1] = 1)),
  ]);
  return { ...positions, ...scores, notes: [...(positions.notes ?? []), ...(scores.notes ?? [])] };
}

/**
 * One neuron's activations over the probe at one layer and epoch (see ./neuron_activations):
 * `{values: Float32Array, min, max, num_neurons}`.
 */
export async function fetchNeuronActivations({ run, layer, epoch, neuron }, signal) {
  const body = (await getJson("neuron_activations", { run, layer, epoch, neuron }, signal)).body;
  return { ...body, values: Float32Array.from(body.values) };
}

export function thumbnailUrl(run, index) {
  return url("thumbnail", { run, index });
}

/**
 * The saliency maps of probe point `index` of `run` at the recorded epoch nearest `epoch` (null: the
 * last) (see ./saliency): `{epoch, methods: [{method, epoch, target, label, url}], notes}`.
 */
export async function fetchSaliency({ run, index, epoch }, signal) {
  return (await getJson("saliency", { run, index, epoch }, signal)).body;
}

/** The atlas of all thumbnails of `run` (see ./thumbnails), as a loaded image. */
export function fetchThumbnailAtlas(run) {
  return new Promise((resolve, reject) => {
    const image = new Image();
    image.onload = () => resolve(image);
    image.onerror = () => reject(new ApiError(`Could not load the thumbnails of ${run}.`));
    image.src = url("thumbnails", { run });
  });
}

/** Every gradient statistic of `run` per layer and epoch (see ./gradients). */
export async function fetchGradients(run, signal) {
  return (await getJson("gradients", { run }, signal)).body;
}

/** The gradient-sign heatmap of one layer at one epoch (see ./gradient_signs). */
export async function fetchGradientSigns({ run, layer, epoch }, signal) {
  return (await getJson("gradient_signs", { run, layer, epoch }, signal)).body;
}

/** Where to download the gradient statistics of `run`: `format` "json" or "csv". */
export function gradientsUrl(run, format) {
  return url("gradients", { run, format });
}

/** Layer-pair scores of `run` at every epoch (see ./correlations); `measure`: "cka" or "pearson". */
export async function fetchCorrelations({ run, measure }, signal) {
  return (await getJson("correlations", { run, measure }, signal)).body;
}

/** One layer's feature x feature or sample x sample Pearson matrix (see ./feature_correlations). */
export async function fetchFeatureCorrelations({ run, layer, epoch, over }, signal) {
  return (await getJson("feature_correlations", { run, layer, epoch, over }, signal)).body;
}

/** Per-feature variance under augmentations of one input, every layer (see ./augmentation_variance). */
export async function fetchAugmentationVariance({ run, epoch }, signal) {
  return (await getJson("augmentation_variance", { run, epoch }, signal)).body;
}

/** The validation data's confusion matrix of `run` at the latest recorded epoch <= `epoch` (see ./confusion). */
export async function fetchConfusion({ run, epoch }, signal) {
  return (await getJson("confusion", { run, epoch }, signal)).body;
}
