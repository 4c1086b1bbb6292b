/**
 * The stream fence: the newest model-step attempt a chat's stream has announced, as
 * `{turn, step, attempt}`. Streamed parts of an older attempt (one whose worker stalled past its
 * heartbeat timeout and kept streaming while its retry ran elsewhere) are dropped instead of
 * reaching subscribers after the retry's announcement.
 */
export const sql = `
ALTER TABLE chats ADD COLUMN stream_fence integer[] NOT NULL DEFAULT '{0,0,0}';
`;
