// Links from a projection to the same layer and epoch in TensorBoard's Projector tab. The
// Projector reads no URL parameter (it opens on the first run and tensor), so a link opens the
// tab and names the entry to pick there: EmbeddingLogger's "<layer> @ epoch NNN".

import { element } from "../dom.js";

/** The Projector's name for `layer` after `epoch` epochs (as `nnviz_tb.projector.embedding_name`). */
export function embeddingName(layer, epoch) {
  return `${layer} @ epoch ${String(epoch).padStart(3, "0")}`;
}

async function getJson(url) {
  const response = await fetch(url, { cache: "no-store" });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return response.json();
}

let enabled = null; // Whether the Projector plugin is active: one request per tab.
const tensorsByRun = new Map(); // Run → Set of its Projector entries (a promise).

/** The Projector entries of `run` (empty when the Projector is off or has no data for it). */
function projectorTensors(run) {
  // Relative to the tab's <base href="plugin/nnviz/">, so that --path_prefix is respected.
  enabled ??= getJson("../../plugins_listing").then((plugins) => Boolean(plugins.projector?.enabled), () => false);
  if (!tensorsByRun.has(run)) {
    tensorsByRun.set(run, enabled.then((on) => (on
      ? getJson(`../projector/info?run=${encodeURIComponent(run)}`)
        .then((info) => new Set((info.embeddings ?? []).map((e) => e.tensorName)), () => new Set())
      : new Set())));
  }
  return tensorsByRun.get(run);
}

export class ProjectorLink {
  /** @param {HTMLElement} parent */
  constructor(parent) {
    this.root = parent.appendChild(element("div", "projector-link"));
    this.root.hidden = true;
    this.shown = null;
  }

  /** Links to `layers` of `run` at `epoch`, those the Projector has; hidden if none. */
  async show(run, layers, epoch) {
    const key = JSON.stringify([run, layers, epoch]);
    if (key === this.shown) return; // Called for every frame of the player's animation.
    this.shown = key;
    const tensors = epoch === null || epoch === undefined ? new Set() : await projectorTensors(run);
    if (this.shown !== key) return; // Another layer or epoch was asked for meanwhile.
    const names = layers.map((layer) => embeddingName(layer, epoch)).filter((name) => tensors.has(name));
    const href = new URL("#projector", window.parent.location.href).href;
    this.root.replaceChildren(element("span", "", "Open in Projector: "), ...names.flatMap((name, i) => {
      const link = element("a", "projector-entry", name);
      link.href = href;
      link.target = "_top"; // The page around the tab's frame.
      link.title = `Opens the Projector tab: pick run "${run}" and the tensor "${name}" in its data panel.`;
      return i ? [element("span", "", " · "), link] : [link];
    }), element("span", "field-help", `In the Projector, pick run "${run}" and this entry in its data panel.`));
    this.root.hidden = names.length === 0;
  }
}
