/** Check a real CLI or server result against its exported JSON Schema (strict about extra fields where the schema is). */
import { Ajv } from 'ajv';
import { expect } from 'vitest';
import { inlineSchema } from '../../src/server/routes.js';
import { RESULT_SCHEMAS, type ResultSchemaName } from '../../src/tasks/schemas.js';

const ajv = new Ajv({ strict: false, allErrors: true });

/** Assert that `value` is valid under the result schema `name`, naming the failing paths otherwise. */
export function expectResultSchema(name: ResultSchemaName, value: unknown): void {
  const check = ajv.compile(inlineSchema(RESULT_SCHEMAS[name]));
  expect(check(value), `${name}: ${JSON.stringify(check.errors)}`).toBe(true);
}
