/**
 * `wait_agent`: waits until a sub-agent has finished its work and returns its final answer,
 * its error, or a timeout the model can act on. It only reads the child's chat row (written by
 * the child's own workflow), polling every 200 ms and heartbeating, so a worker crash simply
 * retries the wait and an interrupt of the parent's turn cancels it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_WAIT_AGENT_SECONDS, notAChildText, WaitAgentInput } from '../../domain/sub-agents.js';
import { type ChildChat, type SubAgentReads } from '../../db/sub-agents.js';
import { type ChatTool, type ToolContext, type ToolResult } from '../chat-tool.js';

const POLL_MS = 200;
/** A child started a moment ago may not have created its chat yet. */
const CREATION_GRACE_MS = 10_000;

/** A sub-agent is done when no turn of it is running or queued. */
function isSettled(child: ChildChat): boolean {
  return child.status === 'waiting' || child.status === 'error' || child.status === 'requires_action';
}

async function answerOf(reads: SubAgentReads, child: ChildChat): Promise<ToolResult> {
  if (child.status === 'error') {
    const error = child.lastError;
    return {
      result: {
        chat_id: child.chatId,
        status: 'error',
        last_error: error?.message ?? 'The sub-agent failed.',
        last_error_kind: error?.kind ?? 'generic',
        retryable: error?.retryable ?? false,
        ...(error?.detail === undefined ? {} : { detail: error.detail }),
      },
      isError: true,
    };
  }
  const answer = await reads.latestAnswer(child.chatId);
  if (child.status === 'waiting' && child.turnInterrupted) {
    return {
      result: { chat_id: child.chatId, status: 'interrupted', answer, message: 'The sub-agent was interrupted before it finished: its answer is what it had written by then.' },
      isError: false,
    };
  }
  return { result: { chat_id: child.chatId, status: child.status === 'requires_action' ? 'requires_action' : 'completed', answer }, isError: false };
}

export function createWaitAgentTool(reads: SubAgentReads): ChatTool {
  return {
    name: 'wait_agent',
    description: `Wait for a sub-agent started with spawn_agent to finish and return its final answer (default timeout ${DEFAULT_WAIT_AGENT_SECONDS} s). On timeout the sub-agent keeps working: wait again or interrupt it.`,
    inputSchema: WaitAgentInput,
    idempotent: true,
    async execute(input: unknown, context: ToolContext): Promise<ToolResult> {
      const request = input as WaitAgentInput;
      const timeoutSeconds = request.timeout_seconds ?? DEFAULT_WAIT_AGENT_SECONDS;
      const started = Date.now();
      for (;;) {
        const child = await reads.child(context.chatId, request.chat_id);
        if (child === undefined && Date.now() - started > CREATION_GRACE_MS) return { result: notAChildText(request.chat_id), isError: true };
        if (child !== undefined && isSettled(child)) return answerOf(reads, child);
        if (Date.now() - started >= timeoutSeconds * 1000) {
          return {
            result: {
              chat_id: request.chat_id,
              status: 'timed_out',
              timed_out: true,
              message: `The sub-agent is still working after ${timeoutSeconds} s. Call wait_agent again to keep waiting, or interrupt_agent to stop it.`,
            },
            isError: false,
          };
        }
        context.heartbeat();
        await sleep(POLL_MS, undefined, { signal: context.signal });
      }
    },
  };
}
