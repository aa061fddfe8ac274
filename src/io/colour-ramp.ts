/** The colour ramp of medvlm's map overlays (the CLI's overlay PNGs and the serve page's canvas): pure, browser-safe. */

/** A perceptually ordered colour ramp (black-red-yellow-white, "hot") for t in 0..1. */
export function hotColour(t: number): [number, number, number] {
  const v = Math.min(1, Math.max(0, t)) * 3;
  return [Math.min(1, v), Math.min(1, Math.max(0, v - 1)), Math.min(1, Math.max(0, v - 2))].map((c) => Math.round(c * 255)) as [number, number, number];
}
