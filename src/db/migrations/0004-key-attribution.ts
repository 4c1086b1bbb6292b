/**
 * Key attribution: each user message (and queued message) records the API key that sent it,
 * and each assistant step the key its model call was made for, so usage adds up per key.
 */
export const sql = `
ALTER TABLE chat_messages ADD COLUMN api_key_id uuid REFERENCES api_keys(id) ON DELETE SET NULL;
ALTER TABLE chat_queued_messages ADD COLUMN api_key_id uuid REFERENCES api_keys(id) ON DELETE SET NULL;
`;
