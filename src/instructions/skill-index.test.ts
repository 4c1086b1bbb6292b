import { describe, expect, it } from 'vitest';
import { buildSkillIndex, parseSkillReference, renderSkillIndex } from './skill-index.js';

describe('the skill index', () => {
  it('names workspace skills bare and personal skills personal/<name>', () => {
    const index = buildSkillIndex([{ name: 'deploy', description: 'Deploy.' }], [{ name: 'notes', description: 'Notes.' }]);
    expect(index.map((entry) => entry.reference)).toEqual(['deploy', 'personal/notes']);
  });

  it('names a workspace skill workspace/<name> when a personal skill has its name', () => {
    const index = buildSkillIndex([{ name: 'deploy', description: 'Team way.' }], [{ name: 'deploy', description: 'My way.' }]);
    expect(index.map((entry) => [entry.reference, entry.source])).toEqual([
      ['workspace/deploy', 'workspace'],
      ['personal/deploy', 'personal'],
    ]);
  });

  it('renders one line per skill inside <available-skills>, and nothing without skills', () => {
    const text = renderSkillIndex(buildSkillIndex([{ name: 'deploy', description: 'Deploy\nthe app.' }], []));
    expect(text).toMatch(/^<available-skills>\n/);
    expect(text).toContain('- deploy: Deploy the app.');
    expect(text).toMatch(/<\/available-skills>$/);
    expect(renderSkillIndex([])).toBeUndefined();
  });
});

describe('parseSkillReference', () => {
  it.each([
    ['deploy', { source: 'any', name: 'deploy' }],
    ['personal/deploy', { source: 'personal', name: 'deploy' }],
    ['workspace/deploy', { source: 'workspace', name: 'deploy' }],
  ])('reads %s', (reference, expected) => {
    expect(parseSkillReference(reference)).toEqual(expected);
  });

  it.each(['', 'personal/', '../deploy', 'other/deploy', 'Deploy'])('refuses %j with advice', (reference) => {
    expect(parseSkillReference(reference)).toEqual({ problem: expect.stringContaining('<available-skills>') });
  });
});
