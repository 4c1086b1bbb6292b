/**
 * Workspace templates: what a new workspace starts from. An operator lists them in a JSON file
 * named by CHATD_TEMPLATES_FILE:
 *
 *   { "templates": [{ "name": "node", "description": "Node 20 project", "parameters": [{ "name": "repo", "description": "Git URL", "required": true }],
 *                     "startup_script": "git clone \"$CHATD_PARAM_REPO\" app", "files": { ".mcp.json": "{}" } }] }
 *
 * Without the variable there is one built-in template, `blank`. Parameters reach the startup
 * script as `CHATD_PARAM_<NAME>` (upper case). `files` are written into the workspace root once,
 * when it is created. An `external` template describes an agent the user runs on their own host:
 * chatd lists it but cannot create it.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../config/config.js';

export const TemplateName = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'Template names use lowercase letters, digits and "-" (at most 63).');

export const TemplateParameter = z.strictObject({
  name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, 'Parameter names use letters, digits and "_" and do not start with a digit (they become environment variables).'),
  description: z.string().default(''),
  default: z.string().optional(),
  required: z.boolean().default(false),
});
export type TemplateParameter = z.infer<typeof TemplateParameter>;

/** A path inside the workspace root: relative, and never climbing out of it. */
const SeedPath = z.string().refine((value) => {
  if (value === '' || value.includes('\\') || path.posix.isAbsolute(value)) return false;
  const segments = value.split('/');
  return segments.every((segment) => segment !== '' && segment !== '.' && segment !== '..');
}, 'File paths must be relative to the workspace root, use "/", and contain no "." or ".." segments.');

export const WorkspaceTemplate = z
  .strictObject({
    name: TemplateName,
    description: z.string().default(''),
    parameters: z.array(TemplateParameter).default([]),
    /** Shell text run in the workspace root once its agent is up. */
    startup_script: z.string().optional(),
    /** Relative path → content, written when the workspace is created (e.g. `.mcp.json`). */
    files: z.record(SeedPath, z.string()).optional(),
    /** The user runs this agent on their own host; chatd cannot create such a workspace. */
    external: z.boolean().default(false),
  })
  .refine((template) => new Set(template.parameters.map((parameter) => parameter.name.toUpperCase())).size === template.parameters.length, {
    message: 'Parameter names must be unique, ignoring case (each becomes CHATD_PARAM_<NAME>).',
    path: ['parameters'],
  });
export type WorkspaceTemplate = z.infer<typeof WorkspaceTemplate>;

export const WorkspaceTemplateFile = z
  .strictObject({ templates: z.array(WorkspaceTemplate).min(1, 'List at least one template.') })
  .refine((file) => new Set(file.templates.map((template) => template.name)).size === file.templates.length, { message: 'Template names must be unique.', path: ['templates'] });

/** What users and the model see of a template. File contents stay out: seeded configs often carry tokens. */
export const TemplateView = z.object({
  name: z.string(),
  description: z.string(),
  parameters: z.array(z.object({ name: z.string(), description: z.string(), default: z.string().optional(), required: z.boolean() })),
  startup_script: z.string().nullable(),
  files: z.array(z.string()),
  external: z.boolean(),
});
export type TemplateView = z.infer<typeof TemplateView>;

export const BLANK_TEMPLATE: WorkspaceTemplate = WorkspaceTemplate.parse({ name: 'blank', description: 'An empty directory.' });

/** The templates an operator configured, or `[blank]` when `file` is unset. Throws a `ConfigError` naming the bad field. */
export function loadWorkspaceTemplates(file: string | undefined): WorkspaceTemplate[] {
  if (file === undefined) return [BLANK_TEMPLATE];
  const where = `CHATD_TEMPLATES_FILE=${JSON.stringify(file)}`;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`${where}: cannot read the file: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${where}: not valid JSON: ${(error as Error).message}`);
  }
  const parsed = WorkspaceTemplateFile.safeParse(json);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${fieldPath(issue.path)}: ${issueText(issue)}`);
    throw new ConfigError(`${where}: invalid templates:\n${lines.join('\n')}`);
  }
  return parsed.data.templates;
}

/** `templates[1].parameters[0].name`, or `templates[0].files["../x"]`, as an operator would look for it in the file. */
function fieldPath(segments: readonly PropertyKey[]): string {
  let text = '';
  for (const segment of segments) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(String(segment))) text += `${text === '' ? '' : '.'}${String(segment)}`;
    else text += `[${JSON.stringify(String(segment))}]`;
  }
  return text === '' ? '(file)' : text;
}

function issueText(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return `unknown field(s) ${issue.keys.join(', ')}`;
  // A bad record key (a seeded file's path): its own message says what is wrong.
  if (issue.code === 'invalid_key') return issue.issues.map((inner) => inner.message).join('; ');
  return issue.message;
}

export function templateView(template: WorkspaceTemplate): TemplateView {
  return {
    name: template.name,
    description: template.description,
    parameters: template.parameters.map((parameter) => ({
      name: parameter.name,
      description: parameter.description,
      ...(parameter.default === undefined ? {} : { default: parameter.default }),
      required: parameter.required,
    })),
    startup_script: template.startup_script ?? null,
    files: Object.keys(template.files ?? {}).sort(),
    external: template.external,
  };
}

/** The environment variable a parameter reaches the startup script as. */
export function parameterVariable(name: string): string {
  return `CHATD_PARAM_${name.toUpperCase()}`;
}

/**
 * The parameter values a workspace gets: the given ones plus defaults. Unknown names and
 * missing required ones are an `error` the model can correct.
 */
export function resolveTemplateParameters(template: WorkspaceTemplate, given: Record<string, string>): { values: Record<string, string> } | { error: string } {
  const known = new Map(template.parameters.map((parameter) => [parameter.name, parameter]));
  const unknown = Object.keys(given).filter((name) => !known.has(name));
  if (unknown.length > 0) {
    const accepted = template.parameters.length === 0 ? 'It takes no parameters.' : `Its parameters are: ${template.parameters.map((parameter) => parameter.name).join(', ')}.`;
    return { error: `Unknown parameter(s) for template "${template.name}": ${unknown.join(', ')}. ${accepted}` };
  }
  const values: Record<string, string> = {};
  const missing: string[] = [];
  for (const parameter of template.parameters) {
    const value = given[parameter.name] ?? parameter.default;
    if (value !== undefined) values[parameter.name] = value;
    else if (parameter.required) missing.push(parameter.description === '' ? parameter.name : `${parameter.name} (${parameter.description})`);
  }
  if (missing.length > 0) return { error: `Missing required parameter(s) for template "${template.name}": ${missing.join(', ')}. Use read_template to see what each one means.` };
  return { values };
}
