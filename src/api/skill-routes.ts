/**
 * Personal skills: `GET /skills`, and `GET/PUT/DELETE /skills/:name`. They are the caller's own
 * (another user's skill is a 404 like a missing one) and reach the caller's chats in the
 * `<available-skills>` index as `personal/<name>`.
 */
import { Router } from 'express';
import { z } from 'zod';
import { MAX_PERSONAL_SKILLS, PutSkillRequest, SkillName } from '../domain/skill.js';
import { type Pool } from '../db/pool.js';
import { deleteUserSkill, getUserSkill, listUserSkills, putUserSkill, SkillLimitError } from '../db/user-skills.js';
import { currentUser } from './auth.js';
import { HttpError } from './http-error.js';
import { parseRequest } from './validate.js';

const SkillParams = z.object({ name: SkillName });

function parseName(params: unknown): string {
  const parsed = SkillParams.safeParse(params);
  if (parsed.success) return parsed.data.name;
  throw new HttpError(400, `Invalid skill name: ${parsed.error.issues[0]?.message ?? 'not a skill name'}.`, undefined, [{ field: 'name', detail: parsed.error.issues[0]?.message ?? 'not a skill name' }]);
}

const SKILL_NOT_FOUND = 'Skill not found.';

export function createSkillRouter(dependencies: { pool: Pool }): Router {
  const router = Router();
  const { pool } = dependencies;

  router.get('/skills', async (request, response) => {
    response.json({ skills: await listUserSkills(pool, currentUser(request).id), limit: MAX_PERSONAL_SKILLS });
  });

  router.get('/skills/:name', async (request, response) => {
    const skill = await getUserSkill(pool, currentUser(request).id, parseName(request.params));
    if (skill === undefined) throw new HttpError(404, SKILL_NOT_FOUND);
    response.json(skill);
  });

  router.put('/skills/:name', async (request, response) => {
    const name = parseName(request.params);
    const body = parseRequest(PutSkillRequest, request.body);
    try {
      const { skill, created } = await putUserSkill(pool, currentUser(request).id, { name, description: body.description, body: body.body });
      response.status(created ? 201 : 200).json(skill);
    } catch (error) {
      if (error instanceof SkillLimitError) throw new HttpError(409, error.message, undefined, undefined, { limit: error.limit });
      throw error;
    }
  });

  router.delete('/skills/:name', async (request, response) => {
    if (!(await deleteUserSkill(pool, currentUser(request).id, parseName(request.params)))) throw new HttpError(404, SKILL_NOT_FOUND);
    response.status(204).end();
  });

  return router;
}
