#!/usr/bin/env node
// splitnet command-line entry point.
export {};
