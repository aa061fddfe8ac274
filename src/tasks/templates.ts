import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { OptionError } from '../core/errors.js';
import { packageRoot } from '../core/paths.js';
import { didYouMean } from '../core/suggest.js';

/** A prompt-template set: each template holds `{}` where the label goes. */
export interface TemplateSet {
  name: string;
  description?: string;
  templates: string[];
}

/** Name of the template set used when the user gives none. */
export const DEFAULT_TEMPLATES = 'medical';

function templatesDir(): string {
  return join(packageRoot(), 'templates');
}

/** Names of the template sets shipped in `templates/`. */
export function builtinTemplateNames(): string[] {
  return readdirSync(templatesDir())
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -5))
    .sort();
}

/**
 * Load a template set by built-in name or from a JSON file (`{"templates": [...]}` or a bare array).
 * @throws OptionError E_TEMPLATES_INVALID naming the file and what is wrong, or E_BAD_OPTION for an unknown name.
 */
export function loadTemplates(nameOrFile: string = DEFAULT_TEMPLATES): TemplateSet {
  const builtin = join(templatesDir(), `${nameOrFile}.json`);
  const file = existsSync(builtin) ? builtin : nameOrFile;
  if (!existsSync(file)) {
    const names = builtinTemplateNames();
    throw new OptionError(
      'E_BAD_OPTION',
      `--templates ${nameOrFile}: no such file and no built-in template set of that name${didYouMean(nameOrFile, names)}; built-in: ${names.join(', ')}`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new OptionError('E_TEMPLATES_INVALID', `${file}: not valid JSON (${(e as Error).message})`, { file });
  }
  const obj: Partial<TemplateSet> = Array.isArray(parsed) ? { name: nameOrFile, templates: parsed } : (parsed as Partial<TemplateSet>);
  const templates = obj?.templates;
  if (!Array.isArray(templates) || templates.length === 0 || !templates.every((t) => typeof t === 'string' && t.includes('{}'))) {
    throw new OptionError(
      'E_TEMPLATES_INVALID',
      `${file}: expected {"templates": ["... {} ...", ...]} with at least one string, each containing {} where the label goes`,
      { file },
    );
  }
  return { name: obj.name ?? nameOrFile, description: obj.description, templates };
}

/** Fill one template with a label. */
export function fillTemplate(template: string, label: string): string {
  return template.split('{}').join(label);
}
