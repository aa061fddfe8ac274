/** Input checks shared by the metric functions; every failure is an `OptionError` with code `E_BAD_OPTION`. */
import { OptionError } from '../core/errors.js';

/** Throw `E_BAD_OPTION` with a message that starts with `metrics:` and says what was wrong. */
export function metricsError(what: string): OptionError {
  return new OptionError('E_BAD_OPTION', `metrics: ${what}`);
}

/** Check that two per-item arrays have the same length. */
export function checkSameLength(aName: string, a: ArrayLike<unknown>, bName: string, b: ArrayLike<unknown>): void {
  if (a.length !== b.length) throw metricsError(`${aName} has ${a.length} items but ${bName} has ${b.length}`);
}

/** Check that every label is an integer in 0..k-1. */
export function checkLabels(name: string, labels: ArrayLike<number>, k: number): void {
  if (!Number.isInteger(k) || k < 1) throw metricsError(`number of classes must be a positive integer, got ${k}`);
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    if (!Number.isInteger(y) || y < 0 || y >= k) {
      throw metricsError(`${name}[${i}] = ${y} is not a class index in 0..${k - 1}`);
    }
  }
}

/** Check that `rows` is an N x k matrix of finite numbers and return k. */
export function checkMatrix(name: string, rows: ArrayLike<ArrayLike<number>>, k?: number): number {
  const width = k ?? (rows.length > 0 ? rows[0].length : 0);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    if (row.length !== width) throw metricsError(`${name}[${i}] has ${row.length} columns, expected ${width}`);
    for (let j = 0; j < width; j++) {
      if (!Number.isFinite(row[j])) throw metricsError(`${name}[${i}][${j}] is not a finite number (${row[j]})`);
    }
  }
  return width;
}

/** Index of the largest value (first one on ties, as numpy's argmax). */
export function argmax(row: ArrayLike<number>): number {
  let best = 0;
  for (let j = 1; j < row.length; j++) if (row[j] > row[best]) best = j;
  return best;
}
