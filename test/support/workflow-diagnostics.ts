/**
 * What a stalled chat's workflow was doing, for test failure messages: its history as a compact
 * list of event types (with workflow task timeouts and failures spelled out), so a stall in
 * CI can be told apart from a slow machine without rerunning it.
 */
import { type Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { chatWorkflowId } from '../../src/workflows/definitions.js';

let diagnosticClient: Client | undefined;

/** The harness registers its client so helpers can describe a stalled workflow. */
export function useDiagnosticClient(client: Client | undefined): void {
  diagnosticClient = client;
}

export async function describeChatWorkflow(chatId: string): Promise<string> {
  if (diagnosticClient === undefined) return 'no Temporal client registered for diagnostics';
  try {
    const handle = diagnosticClient.workflow.getHandle(chatWorkflowId(chatId));
    const description = await handle.describe();
    const history = await handle.fetchHistory();
    const eventName = (type: number | null | undefined) => (temporal.api.enums.v1.EventType[type ?? 0] ?? String(type)).replace(/^EVENT_TYPE_/, '');
    const events = (history.events ?? []).map((event) => {
      const name = eventName(event.eventType);
      const failure = event.workflowTaskFailedEventAttributes?.failure?.message ?? event.workflowTaskTimedOutEventAttributes?.timeoutType;
      return `${String(event.eventId)}:${name}${failure === undefined || failure === null ? '' : `(${String(failure)})`}`;
    });
    return `run ${description.runId} status ${description.status.name}, ${events.length} events: ${events.slice(-80).join(' ')}`;
  } catch (error) {
    return `could not describe the workflow: ${String(error)}`;
  }
}
