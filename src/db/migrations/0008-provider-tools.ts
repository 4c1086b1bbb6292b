/** Tools a model config lets the provider run itself (e.g. web search). */
export const sql = `
ALTER TABLE model_configs ADD COLUMN provider_tools text[] NOT NULL DEFAULT '{}';
`;
