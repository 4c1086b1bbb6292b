/** The provider's id for the response behind an assistant step (OpenAI Responses), for chaining. */
export const sql = `
ALTER TABLE chat_messages ADD COLUMN provider_response_id text;
`;
