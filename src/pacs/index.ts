/** PACS integration over DICOMweb: client, pull, classification of PACS studies, results as DICOM SR. */
export { resolveAuth, describeAuth, AUTH_ENV, type PacsAuth, type AuthSources } from './auth.js';
export { PacsHttp, parseServerUrl, type PacsHttpOptions, type PacsHttpStats } from './http.js';
export { DicomwebClient, ACCEPT_DICOM_AS_STORED, type QidoFilters, type QidoOptions, type StoreResult } from './client.js';
export { TAG, str, strs, num, items, isUid, type DicomJson, type DicomJsonAttribute, type TagKeyword } from './dicom-json.js';
export { parseMultipartRelated, buildMultipartRelated, type BodyPart } from './multipart.js';
export { pullStudy, instancePath, type PullOptions, type PullResult } from './pull.js';
export {
  classifyStudy,
  scoreEmbedding,
  embedStudy,
  type PacsEmbedOptions,
  type SeriesEmbeddings,
  type SeriesResults,
  type InstanceEmbedding,
  imageSeries,
  listInstances,
  NON_IMAGE_MODALITIES,
  type PacsClassifyOptions,
  type SeriesScores,
  type InstanceScores,
  type InstanceFailure,
  type InstanceRef,
} from './classify.js';
export {
  buildClassificationSr,
  buildDraftSr,
  srUids,
  draftSrUids,
  derivedUid,
  COMPREHENSIVE_SR,
  MULTI_FRAME_SOP_CLASSES,
  type ClassificationSrInput,
  type ClassificationSr,
  type DraftSrInput,
  type SrDraftSentence,
} from './sr.js';
export { storeSeriesSr, storeDraftSr, srExists, type SrOutcome, type StoreSrOptions, type StoreDraftSrOptions } from './store-results.js';
export { draftStudyReports, corpusIdentity, type PacsDraftOptions, type SeriesDraft } from './draft.js';
export { watchPacs, type WatchOptions, type WatchEvent, type WatchFeed } from './watch.js';
export { detectOrthanc, orthancRootOf, OrthancRest, type OrthancChange, type OrthancChangesPage, type OrthancSeriesInfo } from './orthanc-changes.js';
export { indexStudy, instanceKey, type PacsIndexResult } from './index-study.js';
