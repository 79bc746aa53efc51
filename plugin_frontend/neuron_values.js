// One neuron's activations over the probe, per epoch, for "Colour points by: a neuron's
// activation": fetched once each, and kept until another neuron (or run) is chosen.

import { fetchNeuronActivations } from "./api.js";

export class NeuronValues {
  /**
   * @param {(answer: object) => void} onLoaded Called with `{values, min, max, layer, neuron, epoch}`.
   * @param {(message: string, request: object) => void} onError Called when a request fails.
   */
  constructor(onLoaded, onError) {
    this.onLoaded = onLoaded;
    this.onError = onError;
    this.answers = new Map(); // JSON of the request -> its answer ({values: null} while it loads or failed).
  }

  /** The answer for `{run, layer, neuron, epoch}`, or null while it loads (then `onLoaded`). */
  get(request) {
    const key = JSON.stringify(request);
    const known = this.answers.get(key);
    if (known) return known.values ? known : null;
    const pending = { values: null };
    this.answers.set(key, pending);
    fetchNeuronActivations(request).then(
      (answer) => {
        Object.assign(pending, answer);
        if (this.answers.get(key) === pending) this.onLoaded(pending);
      },
      (error) => { // Kept: not asked again until `clear`.
        if (this.answers.get(key) === pending) this.onError(`Could not load the neuron's activations: ${error.message}`, request);
      },
    );
    return null;
  }

  clear() {
    this.answers.clear();
  }
}
