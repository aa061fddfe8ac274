/** How the page groups opened files into series and sums up a series' scores (platform-free helpers). */
import type { MedicalImage } from '../../browser.js';

/** A label and its score, as the API and the pipelines return them. */
export interface LabelScore {
  label: string;
  score: number;
}

/** The group a decoded file belongs to: its DICOM series (SeriesInstanceUID), else the file itself. */
export function groupKey(img: Pick<MedicalImage, 'format' | 'phi'>, path: string): string {
  const series = img.format === 'dicom' ? img.phi.SeriesInstanceUID : undefined;
  return series ? `series:${series}` : `file:${path}`;
}

/** Mean score per label over several images' scores, best first (labels missing from a list count as 0). */
export function meanScores(lists: LabelScore[][]): LabelScore[] {
  const sums = new Map<string, number>();
  for (const list of lists) for (const { label, score } of list) sums.set(label, (sums.get(label) ?? 0) + score);
  return [...sums].map(([label, sum]) => ({ label, score: sum / Math.max(1, lists.length) })).sort((a, b) => b.score - a.score);
}
