/**
 * Bring-your-own-key: where a provider allows it, users store their own API key for it, used
 * for their chats in place of the central key (sealed like the central keys).
 */
export const sql = `
ALTER TABLE providers
  ADD COLUMN allow_user_api_key boolean NOT NULL DEFAULT false,
  ADD COLUMN allow_central_api_key_fallback boolean NOT NULL DEFAULT true;

CREATE TABLE user_provider_keys (
  user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  provider_id uuid NOT NULL REFERENCES providers(id) ON DELETE CASCADE,
  api_key_ciphertext text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, provider_id)
);
`;
