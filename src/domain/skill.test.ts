import { describe, expect, it } from 'vitest';
import { normalizeSkillFilePath, parseSkillFrontMatter, PutSkillRequest, SkillName, skillFilePathProblem } from './skill.js';

describe('parseSkillFrontMatter', () => {
  it('reads name and description and returns the body after the front matter', () => {
    expect(parseSkillFrontMatter('---\nname: deploy\ndescription: "Ship it: to production"\n---\n\n# Deploy\nRun it.\n')).toEqual({
      name: 'deploy',
      description: 'Ship it: to production',
      body: '# Deploy\nRun it.\n',
    });
  });

  it('ignores other keys, block values, a byte order mark and Windows line ends', () => {
    expect(parseSkillFrontMatter("\uFEFF---\r\nlicense: MIT\r\ndescription: >\r\n  folded\r\nname: 'tidy'\r\n---\r\nbody")).toEqual({ name: 'tidy', body: 'body' });
  });

  it('treats a file without front matter, or without its closing line, as all body', () => {
    expect(parseSkillFrontMatter('# Just text\n')).toEqual({ body: '# Just text\n' });
    expect(parseSkillFrontMatter('---\nname: x\nno end')).toEqual({ body: '---\nname: x\nno end' });
  });
});

describe('skillFilePathProblem', () => {
  it.each(['scripts/check.sh', './notes/steps.md', 'a/b/c.txt', 'README'])('accepts the relative path %s', (requested) => {
    expect(skillFilePathProblem(requested)).toBeUndefined();
  });

  it.each([
    ['/etc/passwd', 'absolute'],
    ['C:\\Windows\\win.ini', 'absolute'],
    ['../other/SKILL.md', '..'],
    ['notes/../../x', '..'],
    ['.env', 'hidden'],
    ['scripts/.secret/key', 'hidden'],
    ['', 'empty'],
    ['.', "skill's directory itself"],
  ])('refuses %j (%s)', (requested, reason) => {
    expect(skillFilePathProblem(requested)).toContain(reason);
  });

  it('normalises separators and current-directory segments', () => {
    expect(normalizeSkillFilePath('./notes\\steps.md')).toBe('notes/steps.md');
  });
});

describe('skill names and bodies', () => {
  it('accepts slugs and refuses anything that could not be a directory name', () => {
    expect(SkillName.safeParse('release-notes').success).toBe(true);
    for (const bad of ['', 'Upper', '-lead', 'with space', 'a/b', 'x'.repeat(65)]) expect(SkillName.safeParse(bad).success, bad).toBe(false);
  });

  it('requires a description and a body, and nothing else', () => {
    expect(PutSkillRequest.safeParse({ description: 'd', body: 'b' }).success).toBe(true);
    expect(PutSkillRequest.safeParse({ description: '  ', body: 'b' }).success).toBe(false);
    expect(PutSkillRequest.safeParse({ description: 'd', body: 'b', extra: 1 }).success).toBe(false);
  });
});
