/** Template sets from files (Node): the built-in sets in the package's `templates/` folder, or a JSON file. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OptionError } from '../core/errors.js';
import { packageRoot } from '../core/paths.js';
import { didYouMean } from '../core/suggest.js';
import { DEFAULT_TEMPLATES, templateSetFrom, type TemplateSet } from './templates.js';

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
    throw new OptionError('E_BAD_OPTION', `templates ${nameOrFile}: no such file and no built-in template set of that name${didYouMean(nameOrFile, names)}; built-in: ${names.join(', ')}`, { option: 'templates' });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new OptionError('E_TEMPLATES_INVALID', `${file}: not valid JSON (${(e as Error).message})`, { file, option: 'templates' });
  }
  return templateSetFrom(parsed, nameOrFile, file);
}

/** A template set given by name/file or as such. */
export function resolveTemplates(templates: string | TemplateSet | undefined): TemplateSet {
  return typeof templates === 'object' ? templates : loadTemplates(templates ?? DEFAULT_TEMPLATES);
}
