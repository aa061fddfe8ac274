/**
 * The `templates` option from HTTP: a built-in template set by name, or the prompt ensemble itself
 * (templates one per line, each with `{}` where the label goes; the page's ensemble editor sends
 * these). A file path from HTTP is never opened.
 */
import { optionError } from '../core/errors.js';
import { builtinTemplateNames, loadTemplates } from '../tasks/templates-files.js';
import { templateSetFrom, type TemplateSet } from '../tasks/templates.js';

/** Most templates in an inline ensemble, and longest template (characters). */
export const INLINE_TEMPLATE_LIMITS = { count: 64, length: 300 } as const;

/**
 * The template set a `templates` value names or holds; undefined for none (the pipeline's default).
 * @throws OptionError (option `templates`) for an unknown name or an invalid ensemble
 */
export function templatesFromField(value: string | undefined): TemplateSet | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  if (value.includes('{}')) {
    const lines = value.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
    if (lines.length > INLINE_TEMPLATE_LIMITS.count || lines.some((l) => l.length > INLINE_TEMPLATE_LIMITS.length)) {
      throw optionError('templates', `at most ${INLINE_TEMPLATE_LIMITS.count} templates of at most ${INLINE_TEMPLATE_LIMITS.length} characters`);
    }
    return templateSetFrom(lines, 'inline', 'templates (one template per line, each with {} where the label goes)');
  }
  const names = builtinTemplateNames();
  if (!names.includes(value)) throw optionError('templates', `${JSON.stringify(value.slice(0, 40))} is not a built-in template set (built-in: ${names.join(', ')}), nor templates with {} one per line`);
  return loadTemplates(value);
}
