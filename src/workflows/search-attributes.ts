/**
 * Search attributes the chat workflow keeps current, so operators can find chats in the
 * Temporal UI with one query (e.g. `ChatStatus = "running" AND ChatLastActivity < "…"`).
 * Shared by the workflow (upserts), the dev server launcher and tests (registration).
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const ChatStatusAttribute = defineSearchAttributeKey('ChatStatus', SearchAttributeType.KEYWORD);
export const ChatOwnerAttribute = defineSearchAttributeKey('ChatOwner', SearchAttributeType.KEYWORD);
export const ChatModelAttribute = defineSearchAttributeKey('ChatModel', SearchAttributeType.KEYWORD);
export const ChatTurnAttribute = defineSearchAttributeKey('ChatTurn', SearchAttributeType.INT);
export const ChatQueueLengthAttribute = defineSearchAttributeKey('ChatQueueLength', SearchAttributeType.INT);
export const ChatLastActivityAttribute = defineSearchAttributeKey('ChatLastActivity', SearchAttributeType.DATETIME);

export const CHAT_SEARCH_ATTRIBUTES = [
  ChatStatusAttribute,
  ChatOwnerAttribute,
  ChatModelAttribute,
  ChatTurnAttribute,
  ChatQueueLengthAttribute,
  ChatLastActivityAttribute,
] as const;
