// The neighborhood hit of every layer at every epoch, for the NH chart: gathered from the
// sequences the tab shows, and filled in by fetching each other layer across epochs (one
// request at a time, after the shown sequence is complete, so it never delays that one; for
// t-SNE, whose frames take long, only when the user asks).

import { fetchEvolution } from "./api.js";

/** NH of the finished frames of `frames` (./evolution JSON frames or `buildSequence` frames). */
function hitsOf(frames) {
  return frames
    .filter((frame) => frame && !frame.partial)
    .map((frame) => ({ layer: frame.layer, epoch: frame.epoch, nh: frame.nh ?? frame.neighborhood_hit ?? null }))
    .filter((hit) => hit.nh !== null && hit.layer != null && hit.epoch != null);
}

let current = null; // The grid of the shown run and projection.

/**
 * The grid of `params` (`{run?, method, perplexity?, seed?, layers, epochs}`): the current one
 * if it has these params, else a new one (the old one stops fetching). Without `run` it only
 * gathers the frames it is shown. `onChange` is called when values arrive.
 */
export function hitGrid(params, onChange) {
  const key = JSON.stringify(params);
  if (current?.key !== key) {
    current?.controller?.abort();
    current = new HitGrid(key, params);
  }
  current.onChange = onChange;
  return current;
}

class HitGrid {
  constructor(key, params) {
    this.key = key;
    this.params = params;
    this.values = new Map(); // layer -> Map(epoch -> NH)
    this.controller = null;
    this.failed = null;
  }

  /**
   * Records the finished frames of `sequence`; once it is complete, fetches the layers missing,
   * unless they are slow to compute (t-SNE): then `start()` does, when the user asks.
   */
  update(sequence) {
    this.record(hitsOf(sequence.frames));
    this.complete = sequence.complete;
    if (this.params.method !== "tsne") this.start();
    this.onChange();
  }

  /** Whether `start()` would fetch something. */
  startable() {
    return Boolean(this.complete && this.params.run && !this.controller && !this.params.layers.every((l) => this.known(l)));
  }

  /** Fetches the layers missing (once). */
  start() {
    if (!this.startable()) return;
    this.fill(this.controller = new AbortController());
    this.onChange();
  }

  record(hits) {
    for (const { layer, epoch, nh } of hits) {
      if (!this.values.has(layer)) this.values.set(layer, new Map());
      this.values.get(layer).set(epoch, nh);
    }
  }

  /** Whether every epoch of `layer` has a value. */
  known(layer) {
    return this.params.epochs.every((epoch) => this.values.get(layer)?.has(epoch));
  }

  /** `[layer][epoch index]` NH, null where unknown. */
  table() {
    return this.params.layers.map((layer) => this.params.epochs.map((epoch) => this.values.get(layer)?.get(epoch) ?? null));
  }

  async fill(controller) {
    const { layers, epochs, ...projection } = this.params;
    const onProgress = (body) => {
      this.record(hitsOf(body.frames ?? []));
      this.onChange();
    };
    try {
      for (const layer of layers) {
        if (this.known(layer)) continue;
        const json = await fetchEvolution({ ...projection, over: "epochs", layer, epochs }, { signal: controller.signal, onProgress });
        this.record(hitsOf(json.frames));
        this.onChange();
      }
    } catch (error) {
      if (error.name === "AbortError") return;
      this.failed = error.message; // The chart shows what it has, and why it stopped.
      this.onChange();
    }
  }
}
