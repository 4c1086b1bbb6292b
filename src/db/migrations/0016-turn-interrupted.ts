/**
 * Whether the chat's last settled turn was interrupted (by its owner, `interrupt_agent`, or its
 * parent's interrupt), so `wait_agent` can tell a sub-agent's partial answer from a finished one.
 */
export const sql = `
ALTER TABLE chats ADD COLUMN last_turn_interrupted boolean NOT NULL DEFAULT false;
`;
