// Where a confusion matrix comes from: the probe's labels and predictions of the frame shown
// (counted here), or the validation data's matrix that ConfusionMatrixLogger recorded (./confusion).
// Both give a matrix `{counts, classes, classNames, numPoints, metrics, epoch}`: `counts` row-major
// `[classes x classes]` (row = true class), `metrics` per class `precision`, `recall`, `f1` (null
// where undefined), `support` (points) and their `macro` averages.

import { fetchConfusion } from "../api.js";

const MAX_ANSWERS = 64; // Validation matrices kept (a run's epochs, for the player).

/**
 * Per class `c`: `recall[c]` = counts[c][c] / row c's total, `precision[c]` = counts[c][c] /
 * column c's total, `f1[c]` = 2 counts[c][c] / both totals, `support[c]` = row c's total (null
 * where the total is 0); `macro`: their means over the classes present (undefined counting 0),
 * as scikit-learn's with `zero_division=0`.
 */
export function precisionRecall(counts, classes) {
  const at = (row, col) => counts[row * classes + col];
  const sum = (f) => Array.from({ length: classes }, (_, k) => f(k)).reduce((a, b) => a + b, 0);
  const support = Array.from({ length: classes }, (_, c) => sum((k) => at(c, k)));
  const predicted = Array.from({ length: classes }, (_, c) => sum((k) => at(k, c)));
  const ratio = (hits, total) => (total ? hits / total : null);
  const metrics = {
    precision: predicted.map((total, c) => ratio(at(c, c), total)),
    recall: support.map((total, c) => ratio(at(c, c), total)),
    f1: support.map((total, c) => ratio(2 * at(c, c), total + predicted[c])),
  };
  const present = support.map((total, c) => total + predicted[c] > 0);
  const count = present.filter(Boolean).length;
  const mean = (values) => (count ? values.reduce((a, v, c) => a + (present[c] ? (v ?? 0) : 0), 0) / count : 0);
  const macro = Object.fromEntries(Object.entries(metrics).map(([name, values]) => [name, mean(values)]));
  return { ...metrics, support, macro };
}

/** `counts` (row-major `[classes x classes]`) of `labels` against `predictions`. */
export function confusionCounts(labels, predictions, classes) {
  const counts = new Array(classes * classes).fill(0);
  for (let i = 0; i < labels.length; i++) {
    const predicted = predictions[i];
    if (predicted >= 0 && predicted < classes) counts[labels[i] * classes + predicted]++;
  }
  return counts;
}

/** The probe's matrix of one frame (`labels`, `predictions`: one class per probe point). */
export function probeMatrix(labels, predictions, classes, classNames) {
  const counts = confusionCounts(labels, predictions, classes);
  return { counts, classes, classNames, numPoints: labels.length, metrics: precisionRecall(counts, classes), epoch: null };
}

const answers = new Map(); // {key: Promise of a matrix}, oldest first.

/**
 * The validation data's matrix of `run` at the latest recorded epoch <= `epoch` (the last if
 * null), with the server's metrics. Kept per `epochs` (the run's recorded ones, from ./runs), so
 * a newly recorded epoch is fetched.
 */
export function validationMatrix(run, epoch, epochs) {
  const key = JSON.stringify([run, epoch, epochs]);
  if (!answers.has(key)) {
    const answer = fetchConfusion({ run, epoch }).then(fromAnswer);
    answer.catch(() => answers.delete(key)); // Asked again next time.
    answers.set(key, answer);
    if (answers.size > MAX_ANSWERS) answers.delete(answers.keys().next().value);
  }
  return answers.get(key);
}

/** The matrix of a ./confusion answer; its 0s where a ratio is undefined become null. */
function fromAnswer(body) {
  const classes = body.class_names.length;
  const counts = body.counts.flat();
  const defined = precisionRecall(counts, classes);
  const known = (name) => body[name].map((value, c) => (defined[name][c] === null ? null : value));
  return {
    counts, classes, classNames: body.class_names, numPoints: body.num_points, epoch: body.epoch,
    metrics: { precision: known("precision"), recall: known("recall"), f1: known("f1"), support: body.support, macro: body.macro },
  };
}
