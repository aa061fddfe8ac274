/** The model used when the user names none: the small medical CLIP bundled in `models/`. */
export const DEFAULT_MODEL = 'medvlm-tiny';

/** Shown with every model output, in every surface. */
export const RESEARCH_NOTICE = 'Research use only: model outputs are not a diagnosis and must not guide patient care.';

/** The generator used when the user names none (draft-report, open questions in ask): the small generative model bundled in `models/`. */
export const DEFAULT_GENERATOR = 'medvlm-tiny-gen';
