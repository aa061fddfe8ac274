/** The evaluation harness: data sets, the grid runner, few-shot probes and reports (`medvlm eval | report | datasets`). */
export { EVAL_TASKS, type Dataset, type EvalItem, type EvalTask, type ImageRef, type QAPair, type SplitRole } from './datasets/types.js';
export { validateDatasetSpec, readDatasetSpec, type DatasetSpec, type DatasetSource, type SplitSpec, type ClassSpec } from './datasets/spec.js';
export { datasetSpecs, findDatasetSpec, listDatasets, loadDataset, resolveDataRoot, datasetsDir, type DatasetListing } from './datasets/registry.js';
export { readNpy, readNpz, type NpyArray } from './datasets/npy.js';
export { splitHash, stratifiedSplit } from './datasets/split.js';
export { EmbeddingCache, modelCacheKey } from './cache.js';
export { embedItems, type EmbeddedItems, type ItemFailure } from './embed.js';
export { runEval, cellPath, modelSlug, type Cell, type EvalEvent, type EvalSummary, type RunEvalOptions } from './runner.js';
export { CELL_SCHEMA, type CellResult, type CellMetrics } from './result.js';
export { fitLogistic, predictLogistic, type LogisticModel } from './fewshot/logreg.js';
export { buildTipAdapter, tipAdapterProbs, TIP_DEFAULTS, type TipAdapter } from './fewshot/tip-adapter.js';
export { writeReport, loadResults, REPORT_FILES } from './report/index.js';
export { runGenerativeEval, type GenerativeGridOptions, type GenerativeSummary, type GenerativeEvent, type GenerativeCellRef } from './generative/grid.js';
export { GENERATIVE_TASKS, GENERATIVE_DATASET, type GenerativeTask } from './generative/data.js';
export { GENERATIVE_CELL_SCHEMA, VqaCellSchema, ReportCellSchema, type VqaCell, type ReportCell, type GenerativeCell } from './generative/schema.js';
export { loadGenerativeCells, type LoadedGenerativeCell } from './generative/tables.js';
export { compareGenerative, type GenerativeComparison } from './generative/compare.js';
export { compareAllCells, type ModelComparison, type FewShotComparison, type RetrievalComparison } from './report/compare-items.js';
