import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../config/config.js';
import { loadWorkspaceTemplates, resolveTemplateParameters, templateView, WorkspaceTemplate } from './workspace-template.js';

let directory: string;

beforeAll(async () => {
  directory = await mkdtemp(path.join(os.tmpdir(), 'chatd-templates-'));
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

async function templatesFile(content: unknown): Promise<string> {
  const file = path.join(directory, `${Math.random().toString(36).slice(2)}.json`);
  await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

function configError(load: () => unknown): string {
  try {
    load();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('workspace templates', () => {
  it('offers only the built-in blank template when no file is configured', () => {
    const templates = loadWorkspaceTemplates(undefined);
    expect(templates.map((template) => template.name)).toEqual(['blank']);
    expect(templates[0]).toMatchObject({ parameters: [], external: false });
    expect(templates[0]!.startup_script).toBeUndefined();
  });

  it('loads templates from the configured file with their defaults filled in', async () => {
    const file = await templatesFile({
      templates: [
        {
          name: 'node',
          description: 'Node project',
          parameters: [{ name: 'repo', description: 'Git URL', required: true }, { name: 'branch', default: 'main' }],
          startup_script: 'git clone "$CHATD_PARAM_REPO" app',
          files: { '.mcp.json': '{}', 'config/settings.json': '{"a":1}' },
        },
        { name: 'laptop', description: 'Your own machine', external: true },
      ],
    });
    const [node, laptop] = loadWorkspaceTemplates(file);
    expect(node).toMatchObject({ name: 'node', external: false, parameters: [{ name: 'repo', required: true }, { name: 'branch', default: 'main', required: false, description: '' }] });
    expect(laptop).toMatchObject({ name: 'laptop', external: true, parameters: [] });
  });

  it('names the bad field of a bad file in a ConfigError', async () => {
    const badParameter = await templatesFile({ templates: [{ name: 'ok', parameters: [{ name: '1bad' }] }] });
    expect(configError(() => loadWorkspaceTemplates(badParameter))).toMatch(/CHATD_TEMPLATES_FILE=.*\n\s+templates\[0\]\.parameters\[0\]\.name: Parameter names use/);

    const escapingFile = await templatesFile({ templates: [{ name: 'ok', files: { '../outside': 'x' } }] });
    expect(configError(() => loadWorkspaceTemplates(escapingFile))).toMatch(/templates\[0\]\.files\["\.\.\/outside"\]: File paths must be relative to the workspace root/);

    const unknownField = await templatesFile({ templates: [{ name: 'ok', startup: 'typo' }] });
    expect(configError(() => loadWorkspaceTemplates(unknownField))).toMatch(/templates\[0\]: unknown field\(s\) startup/);

    const duplicate = await templatesFile({ templates: [{ name: 'twice' }, { name: 'twice' }] });
    expect(configError(() => loadWorkspaceTemplates(duplicate))).toMatch(/templates: Template names must be unique/);

    expect(configError(() => loadWorkspaceTemplates(path.join(directory, 'missing.json')))).toMatch(/cannot read the file/);
    const notJson = await templatesFile('{ not json');
    expect(configError(() => loadWorkspaceTemplates(notJson))).toMatch(/not valid JSON/);
  });

  it('applies parameter defaults and refuses unknown or missing ones with words the model can act on', () => {
    const template = WorkspaceTemplate.parse({
      name: 'node',
      parameters: [
        { name: 'repo', description: 'Git URL', required: true },
        { name: 'branch', default: 'main' },
        { name: 'depth' },
      ],
    });
    expect(resolveTemplateParameters(template, { repo: 'https://example.com/x.git' })).toEqual({ values: { repo: 'https://example.com/x.git', branch: 'main' } });
    expect(resolveTemplateParameters(template, {})).toEqual({ error: 'Missing required parameter(s) for template "node": repo (Git URL). Use read_template to see what each one means.' });
    expect(resolveTemplateParameters(template, { repo: 'x', colour: 'red' })).toEqual({ error: 'Unknown parameter(s) for template "node": colour. Its parameters are: repo, branch, depth.' });
  });

  it('shows users the names of seeded files but never their contents', () => {
    const view = templateView(WorkspaceTemplate.parse({ name: 'mcp', files: { '.mcp.json': '{"token":"secret-token"}' } }));
    expect(view.files).toEqual(['.mcp.json']);
    expect(JSON.stringify(view)).not.toContain('secret-token');
  });
});

