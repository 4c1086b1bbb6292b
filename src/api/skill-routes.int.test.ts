/** Personal skills through the HTTP API: CRUD, validation, the per-user limit and isolation. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../../test/support/harness.js';
import { apiClient, type ApiClient } from '../../test/support/http.js';

describe('personal skills through the API', () => {
  let harness: Harness;
  let alice: ApiClient;
  let bob: ApiClient;

  beforeAll(async () => {
    harness = await startHarness({ startWorker: false });
    alice = apiClient(harness.apiUrl, harness.alice.key);
    bob = apiClient(harness.apiUrl, harness.bob.key);
  });

  afterAll(async () => {
    await harness?.stop();
  });

  it('creates, reads, lists, replaces and deletes a skill', async () => {
    const created = await alice.raw('PUT', '/api/v1/skills/release-notes', { description: 'Write release notes.', body: '# Release notes\nList the changes.' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'release-notes', description: 'Write release notes.', body: '# Release notes\nList the changes.' });
    const replaced = await alice.raw('PUT', '/api/v1/skills/release-notes', { description: 'Write short release notes.', body: 'Be brief.' });
    expect(replaced.status).toBe(200);
    expect(replaced.body.created_at).toBe(created.body.created_at);
    expect((await alice.get('/api/v1/skills/release-notes')).body).toMatchObject({ description: 'Write short release notes.', body: 'Be brief.' });
    const listed = await alice.get('/api/v1/skills');
    expect(listed.body.limit).toBe(100);
    expect(listed.body.skills).toEqual([expect.objectContaining({ name: 'release-notes', description: 'Write short release notes.' })]);
    expect(listed.body.skills[0].body).toBeUndefined();
    expect((await alice.delete('/api/v1/skills/release-notes')).status).toBe(204);
    expect((await alice.get('/api/v1/skills/release-notes')).status).toBe(404);
    expect((await alice.delete('/api/v1/skills/release-notes')).status).toBe(404);
  });

  it('answers bad names and bodies with a 400 naming the field', async () => {
    const badName = await alice.raw('PUT', '/api/v1/skills/Not%20A%20Slug', { description: 'd', body: 'b' });
    expect(badName.status).toBe(400);
    expect(badName.body.message).toContain('Invalid skill name');
    expect(badName.body.validations).toEqual([expect.objectContaining({ field: 'name' })]);
    const noDescription = await alice.raw('PUT', '/api/v1/skills/ok', { body: 'b' });
    expect(noDescription.status).toBe(400);
    expect(noDescription.body.validations).toEqual([expect.objectContaining({ field: 'description' })]);
    const unknownField = await alice.raw('PUT', '/api/v1/skills/ok', { description: 'd', body: 'b', extra: true });
    expect(unknownField.status).toBe(400);
  });

  it("never shows one user's skills to another", async () => {
    expect((await alice.raw('PUT', '/api/v1/skills/private', { description: 'Mine.', body: 'Secret steps.' })).status).toBe(201);
    expect((await bob.get('/api/v1/skills/private')).status).toBe(404);
    expect((await bob.delete('/api/v1/skills/private')).status).toBe(404);
    expect((await bob.get('/api/v1/skills')).body.skills).toEqual([]);
    // Bob may use the same name for a skill of his own.
    expect((await bob.raw('PUT', '/api/v1/skills/private', { description: 'His.', body: 'Other steps.' })).status).toBe(201);
    expect((await alice.get('/api/v1/skills/private')).body.body).toBe('Secret steps.');
  });

  it('refuses a 101st skill with a 409 that says what to do, and still allows updates', async () => {
    // A third user, so the skills of the other tests do not count.
    const third = apiClient(harness.apiUrl, harness.admin.key);
    for (let index = 0; index < 100; index += 1) {
      expect((await third.raw('PUT', `/api/v1/skills/skill-${index}`, { description: `Skill ${index}.`, body: 'Body.' })).status).toBe(201);
    }
    const refused = await third.raw('PUT', '/api/v1/skills/one-too-many', { description: 'No room.', body: 'Body.' });
    expect(refused.status).toBe(409);
    expect(refused.body.message).toContain('100 personal skills');
    expect(refused.body.message).toContain('Delete one');
    expect((await third.raw('PUT', '/api/v1/skills/skill-0', { description: 'Updated.', body: 'Body.' })).status).toBe(200);
    expect((await third.get('/api/v1/skills')).body.skills).toHaveLength(100);
  });
});
