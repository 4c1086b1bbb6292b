/** The workflow bundle's entry: every workflow type the chatd worker hosts. */
export { chatWorkflow } from './chat.workflow.js';
