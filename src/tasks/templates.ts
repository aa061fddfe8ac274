/** Prompt templates: the type, filling, and validation of a set (platform-free; files are read in templates-files.ts). */
import { OptionError } from '../core/errors.js';

/** A prompt-template set: each template holds `{}` where the label goes. */
export interface TemplateSet {
  name: string;
  description?: string;
  templates: string[];
}

/** Name of the template set used when the user gives none. */
export const DEFAULT_TEMPLATES = 'medical';

/**
 * Check parsed JSON (`{"templates": [...]}` or a bare array) as a template set.
 * @param where the file or option it came from, for the message
 * @throws OptionError E_TEMPLATES_INVALID naming `where` and what is wrong
 */
export function templateSetFrom(parsed: unknown, name: string, where: string): TemplateSet {
  const obj: Partial<TemplateSet> = Array.isArray(parsed) ? { name, templates: parsed } : ((parsed ?? {}) as Partial<TemplateSet>);
  const templates = obj.templates;
  if (!Array.isArray(templates) || templates.length === 0 || !templates.every((t) => typeof t === 'string' && t.includes('{}'))) {
    throw new OptionError(
      'E_TEMPLATES_INVALID',
      `${where}: expected {"templates": ["... {} ...", ...]} with at least one string, each containing {} where the label goes`,
      { file: where, option: 'templates' },
    );
  }
  return { name: obj.name ?? name, ...(obj.description ? { description: obj.description } : {}), templates };
}

/** Fill one template with a label. */
export function fillTemplate(template: string, label: string): string {
  return template.split('{}').join(label);
}
