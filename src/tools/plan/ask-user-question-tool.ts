/**
 * `ask_user_question`: in plan mode, the agent asks the user to decide between 2 to 4 options.
 * The question is the tool result, which clients render; a successful call ends the turn and
 * the user's answer arrives as the next message.
 */
import { z } from 'zod';
import { type ChatTool } from '../chat-tool.js';

export const QuestionOption = z.strictObject({
  label: z.string().trim().min(1).max(200),
  description: z.string().max(2_000).default(''),
});

export const UserQuestion = z.strictObject({
  header: z.string().trim().min(1).max(200).describe('A short heading for the question.'),
  question: z.string().trim().min(1).max(4_000),
  options: z.array(QuestionOption).min(2, 'give 2 to 4 options').max(4, 'give 2 to 4 options'),
});

export const AskUserQuestionInput = z.strictObject({
  questions: z.array(UserQuestion).min(1).max(4),
});
export type AskUserQuestionInput = z.infer<typeof AskUserQuestionInput>;

export function createAskUserQuestionTool(): ChatTool {
  return {
    name: 'ask_user_question',
    description:
      'Ask the user to decide before you continue planning: each question offers 2 to 4 options. Your turn ends when the question is asked; the answer arrives as the next message.',
    inputSchema: AskUserQuestionInput,
    idempotent: true,
    execute: (input) => Promise.resolve({ result: { questions: (input as AskUserQuestionInput).questions, awaiting_answer: true }, isError: false }),
  };
}
