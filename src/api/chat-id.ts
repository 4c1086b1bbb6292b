/** Chat ids: random, or derived from (owner, client_message_id) so a retried create finds the same chat. */
import { createHash, randomUUID } from 'node:crypto';

export function chatIdFor(ownerId: string, clientMessageId: string | undefined): string {
  if (clientMessageId === undefined) return randomUUID();
  const hex = createHash('sha256').update(`chat:${ownerId}:${clientMessageId}`).digest('hex');
  // Shape it as an RFC 9562 version-8 (custom) UUID.
  const variant = ((parseInt(hex.slice(16, 18), 16) & 0x3f) | 0x80).toString(16).padStart(2, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(18, 20)}-${hex.slice(20, 32)}`;
}
