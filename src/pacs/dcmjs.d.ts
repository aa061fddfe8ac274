/** The part of dcmjs (0.51, no bundled types) that medvlm uses. */
declare module 'dcmjs' {
  /** A data set in dcmjs' "naturalized" form: attributes keyed by DICOM keyword. */
  export type NaturalDataset = Record<string, unknown>;
  /** Denaturalized (tag-keyed) data set. */
  export type DenaturalDataset = Record<string, { vr: string; Value?: unknown[] }>;

  class DicomDict {
    constructor(meta: DenaturalDataset);
    meta: DenaturalDataset;
    dict: DenaturalDataset;
    write(options?: { allowInvalidVRLength?: boolean }): ArrayBuffer;
  }

  interface DataNamespace {
    DicomDict: typeof DicomDict;
    DicomMessage: {
      readFile(
        buffer: ArrayBuffer,
        options?: { ignoreErrors?: boolean; untilTag?: string | null; includeUntilTagValue?: boolean; noCopy?: boolean },
      ): DicomDict;
    };
    DicomMetaDictionary: {
      naturalizeDataset(ds: DenaturalDataset): NaturalDataset;
      denaturalizeDataset(ds: NaturalDataset): DenaturalDataset;
      uid(): string;
    };
  }
  const dcmjs: { data: DataNamespace };
  export default dcmjs;
}
