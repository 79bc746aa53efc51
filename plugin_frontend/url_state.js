// The view in the parent page's URL, after TensorBoard's tab name: `#nnviz&run=cnn&view=epochs&...`
// (TensorBoard keeps such a hash on reload, on Back and when the tab is shown again), so a reload
// or a shared link shows the same view. Outside TensorBoard this does nothing.

import { METHODS, MODES, NEURON_METHODS, POINT_STYLES, TSNE_LIMITS } from "./views/controls.js";
import { COLOR_BY } from "./views/point_colors.js";

const PLUGIN = "nnviz";
const text = (value) => value;
const count = (value) => (/^[0-9]{1,9}$/.test(value) ? Number(value) : undefined);
const oneOf = (pairs) => (value) => (pairs.some(([name]) => name === value) ? value : undefined);
const within = ([min, max]) => (value) => (value !== "" && Number(value) >= min && Number(value) <= max ? Number(value) : undefined);
/** State key -> URL key, and how its text is read back (undefined: not a valid value). Runs, layers
 * and epochs not in the run are replaced by the tab's defaults. */
const KEYS = {
  run: ["run", text], mode: ["view", oneOf(MODES)], layer: ["layer", text], epoch: ["epoch", count],
  method: ["method", oneOf(METHODS)], neuronMethod: ["neuron_method", oneOf(NEURON_METHODS)],
  perplexity: ["perplexity", within(TSNE_LIMITS.perplexity)], seed: ["seed", count],
  colorBy: ["color", oneOf(COLOR_BY)], colorLayer: ["color_layer", text], colorNeuron: ["neuron", count],
  pointStyle: ["points", oneOf(POINT_STYLES)],
};
const SELECTION_KEY = "selected";
const MAX_SELECTED = 300; // Larger selections (brushed regions) are not kept in the URL.

function parentLocation() {
  try {
    return window.parent !== window ? window.parent.location : null;
  } catch (error) {
    return null;
  }
}

/** `[tab, URLSearchParams]` of the parent's hash `#tab&k=v&...`. */
function parseHash(hash) {
  const [tab, ...rest] = hash.replace(/^#/, "").split("&");
  return [tab, new URLSearchParams(rest.join("&"))];
}

/** `{state, selection}` from the URL: its valid keys, and point indices or null. */
export function readUrlState() {
  const location = parentLocation();
  if (!location) return { state: {}, selection: null };
  const [, params] = parseHash(location.hash);
  const state = {};
  for (const [name, [key, parse]] of Object.entries(KEYS)) {
    if (!params.has(key)) continue;
    const value = parse(params.get(key));
    if (value !== undefined) state[name] = value;
  }
  const selection = params.get(SELECTION_KEY)?.split(",").map(Number).filter((i) => Number.isInteger(i) && i >= 0);
  return { state, selection: selection?.length ? selection : null };
}

/** Writes `state` (and up to 300 selected indices) into the URL while the nnviz tab is shown. */
export function writeUrlState(state, selection) {
  const location = parentLocation();
  if (!location) return;
  const [tab, params] = parseHash(location.hash);
  if (tab !== PLUGIN) return; // Another tab is shown: its URL is TensorBoard's.
  for (const [name, [key]] of Object.entries(KEYS)) {
    if (state[name] === null || state[name] === undefined) params.delete(key);
    else params.set(key, String(state[name]));
  }
  if (selection?.length && selection.length <= MAX_SELECTED) params.set(SELECTION_KEY, selection.join(","));
  else params.delete(SELECTION_KEY);
  const hash = `#${PLUGIN}&${params.toString()}`;
  if (hash !== location.hash) window.parent.history.replaceState(window.parent.history.state, "", hash);
}
