#!/usr/bin/env node
// The installed `chatd` command: runs the compiled CLI (npm run build).
import '../dist/main/cli.js';
