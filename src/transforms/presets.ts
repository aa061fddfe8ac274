/**
 * Named CT display windows, in Hounsfield units.
 *
 * | name         | centre (L) | width (W) | usual use                                   |
 * |--------------|-----------:|----------:|---------------------------------------------|
 * | lung         |       -600 |      1500 | lung parenchyma                             |
 * | mediastinum  |         50 |       350 | mediastinum, chest soft tissue              |
 * | bone         |        400 |      1800 | bone                                        |
 * | brain        |         40 |        80 | brain parenchyma                            |
 * | abdomen      |         50 |       400 | abdominal soft tissue                       |
 * | soft-tissue  |         50 |       400 | soft tissue in general (same as abdomen)    |
 * | liver        |         30 |       150 | liver lesions                               |
 * | stroke       |         40 |        40 | early ischaemic change (narrow brain window)|
 *
 * Values are the commonly cited ones (e.g. Radiopaedia, "Windowing (CT)": lungs W1500 L-600,
 * mediastinum W350 L50, bone W1800 L400, brain W80 L40, abdomen soft tissues W400 L50,
 * liver W150 L30, stroke W40 L40); scanners and sites vary by a few tens of HU.
 */

/** Names of the built-in window presets. */
export type WindowPresetName = 'lung' | 'mediastinum' | 'bone' | 'brain' | 'abdomen' | 'soft-tissue' | 'liver' | 'stroke';

/** Centre/width of each preset (HU). */
export const WINDOW_PRESETS: Readonly<Record<WindowPresetName, { center: number; width: number }>> = {
  lung: { center: -600, width: 1500 },
  mediastinum: { center: 50, width: 350 },
  bone: { center: 400, width: 1800 },
  brain: { center: 40, width: 80 },
  abdomen: { center: 50, width: 400 },
  'soft-tissue': { center: 50, width: 400 },
  liver: { center: 30, width: 150 },
  stroke: { center: 40, width: 40 },
};

/** True when `name` is a preset name. */
export function isWindowPreset(name: string): name is WindowPresetName {
  return Object.prototype.hasOwnProperty.call(WINDOW_PRESETS, name);
}
