/** The exported JSON Schemas and the TypeScript result types describe the same objects (checked by the compiler). */
import { Ajv } from 'ajv';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { AskOutput, ImageEmbeddingRow, TextEmbeddingRow } from '../../src/tasks/pipeline-builders.js';
import type { DraftOutput, SearchOutput } from '../../src/tasks/pipeline.js';
import type { FileError } from '../../src/tasks/batch.js';
import type { InspectResult } from '../../src/tasks/inspect.js';
import { RESULT_SCHEMAS, type ResultOf } from '../../src/tasks/schemas.js';
import type { ClassifyResult, LabelScore } from '../../src/tasks/zero-shot.js';

describe('result schemas', () => {
  it('every library result type fits its schema type', () => {
    expectTypeOf<LabelScore>().toExtend<ResultOf<'LabelScore'>>();
    expectTypeOf<ClassifyResult>().toExtend<ResultOf<'ClassifyResult'>>();
    expectTypeOf<FileError>().toExtend<ResultOf<'FileError'>>();
    expectTypeOf<ImageEmbeddingRow>().toExtend<ResultOf<'EmbeddingRow'>>();
    expectTypeOf<TextEmbeddingRow>().toExtend<ResultOf<'EmbeddingRow'>>();
    expectTypeOf<InspectResult>().toExtend<ResultOf<'InspectResult'>>();
    expectTypeOf<SearchOutput>().toExtend<ResultOf<'SearchOutput'>>();
    expectTypeOf<DraftOutput>().toExtend<ResultOf<'DraftOutput'>>();
    expectTypeOf<AskOutput>().toExtend<ResultOf<'AskOutput'>>();
  });

  it('every schema compiles in strict Ajv and refuses an empty value of its kind', () => {
    const ajv = new Ajv({ strict: true, allErrors: true });
    for (const [name, schema] of Object.entries(RESULT_SCHEMAS)) {
      const check = ajv.compile(JSON.parse(JSON.stringify(schema)) as object);
      const empty = (schema as { type?: string }).type === 'array' ? [{}] : {};
      expect(check(empty), name).toBe(false);
    }
  });
});
