/** Shared helpers of the metrics tests: fixture loading and closeness checks that record the largest deviation. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

/** Parse a committed reference fixture from test/metrics/fixtures/. */
export function loadFixture<T>(name: string): T {
  return JSON.parse(readFileSync(fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url)), 'utf8')) as T;
}

/** Largest |actual - expected| seen per label, printed by `reportDeviations`. */
const deviations = new Map<string, number>();

/**
 * Assert |actual - expected| <= tol (null in a fixture means NaN) and remember the deviation under `label`.
 */
export function expectClose(actual: number, expected: number | null, tol: number, label: string): void {
  if (expected === null || Number.isNaN(expected)) {
    expect(actual, label).toBeNaN();
    return;
  }
  const d = Math.abs(actual - expected);
  deviations.set(label, Math.max(deviations.get(label) ?? 0, d));
  expect(d, `${label}: actual ${actual}, expected ${expected}`).toBeLessThanOrEqual(tol);
}

/** `expectClose` element-wise, lengths must agree. */
export function expectAllClose(actual: ArrayLike<number>, expected: (number | null)[], tol: number, label: string): void {
  expect(actual.length, `${label}: length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) expectClose(actual[i], expected[i], tol, label);
}

/** Print the largest deviation per label (for the record; the assertions are in `expectClose`). */
export function reportDeviations(file: string): void {
  const lines = [...deviations].map(([k, v]) => `  ${k}: ${v.toExponential(2)}`);
  if (lines.length) console.log(`max |deviation| from reference (${file}):\n${lines.join('\n')}`);
}
