/**
 * Where the workflow code lives and how Temporal's bundler must read it. The sources use ESM
 * `.js` import specifiers for `.ts` files, which webpack needs to be told about.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type BundleOptions } from '@temporalio/worker';

/** The workflows entry module: the TypeScript source when running from source, else the build. */
export function workflowsEntryPath(): string {
  const source = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));
  if (existsSync(source)) return source;
  return fileURLToPath(new URL('../workflows/index.js', import.meta.url));
}

export const workflowBundlerOptions: NonNullable<BundleOptions['webpackConfigHook']> = (config) => {
  config.resolve = config.resolve ?? {};
  config.resolve.extensionAlias = { '.js': ['.ts', '.js'] };
  return config;
};
