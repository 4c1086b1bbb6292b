/**
 * Chat titles and turn status labels: the fallback title, the prompts, and the rules that
 * accept or reject what a model proposes. Pure and workflow-safe; the reference is coder's
 * `quickgen.go` (titles) and `normalizeTurnStatusLabel` (turn summaries).
 */
import { z } from 'zod';
import { type ChatMessagePart } from './chat.js';

/** `PUT /settings/title-model`: the model config that writes titles and turn labels, or null. */
export const SetTitleModelRequest = z.strictObject({ model_config_id: z.uuid().nullable() });
export type SetTitleModelRequest = z.infer<typeof SetTitleModelRequest>;

export const MAX_TITLE_CHARS = 80;
export const FALLBACK_TITLE_WORDS = 6;
export const MAX_TITLE_WORDS = 8;
export const EMPTY_CHAT_TITLE = 'New Chat';
/** Output budget of a title call. */
export const TITLE_MAX_OUTPUT_TOKENS = 256;
/** Output budget of a turn status label call. */
export const TURN_LABEL_MAX_OUTPUT_TOKENS = 64;
/** Regeneration: the conversation block and the latest user message are cut to these lengths. */
export const REGENERATE_CONVERSATION_MAX_CHARS = 6000;
export const REGENERATE_LATEST_USER_MAX_CHARS = 1000;
/** Regeneration: the first user turn plus this many of the latest turns. */
export const REGENERATE_RECENT_TURNS = 3;
/** The agent's latest message in a turn label request is cut to this length. */
export const TURN_LABEL_MESSAGE_MAX_CHARS = 6000;

export const TITLE_GENERATION_PROMPT =
  "Write a short title for the user's message. Populate the title field with the result. Return only the title text in 2-8 words. " +
  'Do not answer the user or describe the title-writing task. Preserve specific identifiers such as PR numbers, repo names, file paths, ' +
  "function names, and error messages. If the message is short or vague, stay close to the user's wording instead of inventing context. " +
  'Sentence case. No quotes, emoji, markdown, or trailing punctuation.';

export const TURN_LABEL_PROMPT =
  'Write a 2-5 word status label describing where this chat stands after the agent\'s latest turn. Populate the label field with the result. ' +
  'Describe the outcome or what is needed next, not the agent (never start with "Agent", "I", "It", "The" or "We"). ' +
  'One phrase only: no sentences, newlines, quotes, markdown, or trailing punctuation.';

/** Code points, not UTF-16 units: a cut never splits a character. */
function cutTo(text: string, max: number): string {
  const characters = Array.from(text);
  return characters.length <= max ? text : characters.slice(0, max).join('');
}

function characterCount(text: string): number {
  return Array.from(text).length;
}

/** The text of a message's text parts, joined by spaces. */
export function partsText(parts: readonly ChatMessagePart[]): string {
  return parts
    .flatMap((part) => (part.type === 'text' ? [part.text] : []))
    .join(' ')
    .trim();
}

/**
 * The title a chat gets at creation: the first six words of its first message (plus "…" when
 * there were more), at most 80 characters, `New Chat` when the message has no text.
 */
export function fallbackChatTitle(text: string): string {
  const words = text.trim().split(/\s+/).filter((word) => word !== '');
  if (words.length === 0) return EMPTY_CHAT_TITLE;
  const title = words.slice(0, FALLBACK_TITLE_WORDS).join(' ');
  const truncated = words.length > FALLBACK_TITLE_WORDS ? `${title}…` : title;
  return characterCount(truncated) > MAX_TITLE_CHARS ? `${cutTo(truncated, MAX_TITLE_CHARS - 1)}…` : truncated;
}

/**
 * A proposed title as it will be stored, or null when it is rejected: quotes trimmed,
 * whitespace collapsed, cut to 80 characters; empty or more than eight words is rejected.
 */
export function normalizeGeneratedTitle(proposed: string): string | null {
  const collapsed = proposed.replace(/\s+/g, ' ').trim();
  const unquoted = collapsed.replace(/^["'`“”‘’]+|["'`“”‘’]+$/g, '').trim();
  const title = cutTo(unquoted, MAX_TITLE_CHARS).trim();
  if (title === '') return null;
  if (title.split(' ').length > MAX_TITLE_WORDS) return null;
  return title;
}

/** Where a chat stands after a turn, as a turn label request describes it. */
export type TurnLabelState = 'waiting' | 'pending' | 'requires_action' | 'error';

export const TURN_LABEL_STATE_TEXT: Record<TurnLabelState, string> = {
  waiting: 'The turn finished and the chat is idle.',
  pending: 'Another user message is queued and the chat will continue.',
  requires_action: 'The chat is waiting for user input or action.',
  error: 'The chat ended with an error.',
};

export const FALLBACK_TURN_LABEL: Record<TurnLabelState, string> = {
  waiting: 'Finished latest turn',
  pending: 'Still working on request',
  requires_action: 'Waiting for user input',
  error: 'Hit an error',
};
export const DEFAULT_FALLBACK_TURN_LABEL = 'Updated chat status';

/** The user message of a turn label request. */
export function turnLabelInput(state: TurnLabelState, title: string, latestAssistantText: string): string {
  return `Current chat state: ${TURN_LABEL_STATE_TEXT[state]}\nChat title: ${title}\n\nAgent's latest message:\n${cutTo(latestAssistantText, TURN_LABEL_MESSAGE_MAX_CHARS)}`;
}

const FORBIDDEN_FIRST_WORDS: ReadonlySet<string> = new Set(['agent', 'i', 'it', 'the', 'we']);
const FORBIDDEN_PHRASES = ['agent asked', 'agent identified', 'agent found', 'agent explained'];

/**
 * A proposed turn label as stored, or null when it is rejected: no newlines, trailing `.!?`
 * stripped, no sentence boundary inside, 2–5 words, not starting with agent/I/it/the/we, and
 * none of the "agent asked/identified/found/explained" narrations.
 */
export function normalizeTurnStatusLabel(proposed: string): string | null {
  const trimmed = proposed.trim();
  if (trimmed === '' || /[\r\n]/.test(trimmed)) return null;
  const label = trimmed.replace(/[.!?]+$/, '').trim();
  if (label === '' || /[.!?]\s/.test(label) || /[.!?]$/.test(label)) return null;
  const words = label.split(/\s+/);
  if (words.length < 2 || words.length > 5) return null;
  if (FORBIDDEN_FIRST_WORDS.has(words[0]!.toLowerCase())) return null;
  const lower = label.toLowerCase();
  if (FORBIDDEN_PHRASES.some((phrase) => lower.includes(phrase))) return null;
  return label;
}

/** One turn of a conversation for title regeneration: its user message and the agent's reply text. */
export interface TitleTurn {
  user: string;
  assistant: string;
}

/**
 * The user message of a title regeneration: the first turn plus the last three (with a marker
 * for the turns left out), the block cut to 6000 characters, then the latest user message cut
 * to 1000 characters.
 */
export function regenerationInput(turns: readonly TitleTurn[]): string {
  if (turns.length === 0) return '';
  const render = (turn: TitleTurn): string => `User: ${turn.user}${turn.assistant === '' ? '' : `\nAssistant: ${turn.assistant}`}`;
  const recentStart = Math.max(1, turns.length - REGENERATE_RECENT_TURNS);
  const blocks = [render(turns[0]!)];
  if (recentStart > 1) blocks.push(`[... ${recentStart - 1} earlier turns omitted ...]`);
  for (const turn of turns.slice(recentStart)) blocks.push(render(turn));
  const conversation = cutTo(blocks.join('\n\n'), REGENERATE_CONVERSATION_MAX_CHARS);
  const latest = cutTo(turns[turns.length - 1]!.user, REGENERATE_LATEST_USER_MAX_CHARS);
  return `Conversation:\n${conversation}\n\nLatest user message:\n${latest}`;
}
