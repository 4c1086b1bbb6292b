import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_WORKSPACE_SKILLS } from '../domain/skill.js';
import { INSTRUCTION_FILE_MAX_BYTES } from './agent-protocol.js';
import { readWorkspaceContext } from './workspace-context.js';
import { openWorkspaceRoot, type WorkspaceRoot } from './workspace-path.js';

describe('the workspace context an agent reports', () => {
  let scratch: string;
  let home: string;
  let root: WorkspaceRoot;

  beforeAll(async () => {
    scratch = await mkdtemp(path.join(os.tmpdir(), 'chatd-context-'));
    home = path.join(scratch, 'home');
    const workspace = path.join(scratch, 'workspace');
    await mkdir(path.join(workspace, '.github'), { recursive: true });
    await mkdir(home, { recursive: true });
    await writeFile(path.join(home, 'AGENTS.md'), 'Home rules.\n');
    await writeFile(path.join(workspace, 'AGENTS.md'), 'x'.repeat(INSTRUCTION_FILE_MAX_BYTES + 10));
    await writeFile(path.join(workspace, '.github', 'copilot-instructions.md'), 'Copilot rules.\n');
    await writeFile(path.join(scratch, 'secret.txt'), 'outside');
    // A symlink out of the workspace is never followed.
    await symlink(path.join(scratch, 'secret.txt'), path.join(workspace, 'CLAUDE.md'));
    const skills = path.join(workspace, '.agents', 'skills');
    await mkdir(path.join(skills, 'deploy'), { recursive: true });
    await writeFile(path.join(skills, 'deploy', 'SKILL.md'), '---\nname: deploy\ndescription: Deploy the app.\n---\nSteps.\n');
    await mkdir(path.join(skills, 'no-description'), { recursive: true });
    await writeFile(path.join(skills, 'no-description', 'SKILL.md'), 'Just a body.\n');
    await mkdir(path.join(skills, 'Bad Name'), { recursive: true });
    await mkdir(path.join(skills, 'empty'), { recursive: true });
    root = await openWorkspaceRoot(workspace);
  });

  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  it('lists home and workspace instruction files, cut to the cap with a truncated flag, never through a symlink out', async () => {
    const context = await readWorkspaceContext(root, { instructionFiles: true, homeDirectory: home });
    expect(context.instruction_files.map((file) => [file.directory, path.basename(file.path), file.truncated, file.content.length])).toEqual([
      ['home', 'AGENTS.md', false, 'Home rules.\n'.length],
      ['workspace', 'AGENTS.md', true, INSTRUCTION_FILE_MAX_BYTES],
      ['workspace', 'copilot-instructions.md', false, 'Copilot rules.\n'.length],
    ]);
  });

  it('lists skills with a description and says why the others were left out', async () => {
    const context = await readWorkspaceContext(root, { instructionFiles: false, homeDirectory: home });
    expect(context.instruction_files).toEqual([]);
    expect(context.skills).toEqual([{ name: 'deploy', description: 'Deploy the app.' }]);
    expect(context.skipped_skills.map((entry) => entry.directory).sort()).toEqual(['.agents/skills/Bad Name', '.agents/skills/empty', '.agents/skills/no-description']);
  });

  it('reads at most 100 skills and says once that the rest were not read', async () => {
    const many = await mkdtemp(path.join(os.tmpdir(), 'chatd-many-skills-'));
    try {
      for (let index = 0; index < MAX_WORKSPACE_SKILLS + 5; index++) {
        const name = `skill-${String(index).padStart(3, '0')}`;
        await mkdir(path.join(many, '.agents', 'skills', name), { recursive: true });
        await writeFile(path.join(many, '.agents', 'skills', name, 'SKILL.md'), `---\nname: ${name}\ndescription: Skill ${index}.\n---\n`);
      }
      const context = await readWorkspaceContext(await openWorkspaceRoot(many), { instructionFiles: false });
      expect(context.skills).toHaveLength(MAX_WORKSPACE_SKILLS);
      expect(context.skipped_skills).toEqual([{ directory: `.agents/skills/skill-${MAX_WORKSPACE_SKILLS}`, reason: expect.stringContaining('were not read') }]);
    } finally {
      await rm(many, { recursive: true, force: true });
    }
  });
});
