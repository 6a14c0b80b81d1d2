// Relative links in Markdown files: find them, and say which do not lead to an existing file or heading.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/** One link that does not resolve, with where it is written and why. */
export interface BrokenLink {
  readonly file: string; // relative to the root given to brokenLinks
  readonly line: number;
  readonly target: string;
  readonly reason: string;
}

// Folders that hold no documentation of ours: dependencies, build output, run output, git's own.
const SKIPPED_DIRS = new Set(['node_modules', 'dist', 'results', '.git']);

/** Every *.md file under root, skipping dependencies, build and run output and hidden folders. */
export function markdownFiles(root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name.startsWith('.') || SKIPPED_DIRS.has(entry.name)) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && entry.name.endsWith('.md')) found.push(path);
    }
  };
  walk(root);
  return found.sort();
}

/** The lines of a Markdown file outside fenced code blocks, with their 1-based numbers. */
function linesOutsideCode(text: string): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  let fence: string | undefined;
  text.split('\n').forEach((raw, i) => {
    const opener = /^\s*(`{3,}|~{3,})/.exec(raw);
    if (opener) {
      const mark = opener[1] ?? '';
      if (fence === undefined) fence = mark;
      else if (mark.startsWith(fence)) fence = undefined;
      return;
    }
    if (fence === undefined) out.push({ line: i + 1, text: raw });
  });
  return out;
}

/**
 * The anchors GitHub gives a file's headings: the heading's text without inline code ticks and link targets,
 * lower-cased, every character other than letters, digits, spaces, '-' and '_' removed, spaces made '-';
 * a repeated anchor gets -1, -2, … appended.
 */
export function headingAnchors(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const { text: raw } of linesOutsideCode(text)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(raw);
    if (!heading) continue;
    const words = (heading[1] ?? '').replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/`/g, '');
    const slug = words
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

/** Link targets written in one line: inline links and images `[text](target)`, and reference definitions. */
function linkTargets(line: string): string[] {
  const targets: string[] = [];
  for (const m of line.matchAll(/\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)/g)) targets.push(m[1] ?? '');
  const definition = /^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/.exec(line);
  if (definition) targets.push(definition[1] ?? '');
  return targets;
}

/** Every relative link in the given Markdown files that names a missing file, or a heading its file lacks. */
export function brokenLinks(root: string, files: readonly string[]): BrokenLink[] {
  const broken: BrokenLink[] = [];
  const anchorsOf = new Map<string, Set<string>>();
  const anchors = (file: string): Set<string> => {
    let set = anchorsOf.get(file);
    if (!set) {
      set = headingAnchors(readFileSync(file, 'utf8'));
      anchorsOf.set(file, set);
    }
    return set;
  };
  for (const file of files) {
    for (const { line, text } of linesOutsideCode(readFileSync(file, 'utf8'))) {
      // Inline code is not a link: `[x](y)` in backticks is an example.
      for (const target of linkTargets(text.replace(/`[^`]*`/g, ''))) {
        if (target === '' || /^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:, …: not ours to check
        const hash = target.indexOf('#');
        const pathPart = decodeURIComponent(hash === -1 ? target : target.slice(0, hash));
        const anchor = hash === -1 ? undefined : decodeURIComponent(target.slice(hash + 1));
        const dest = pathPart === '' ? file : resolve(dirname(file), pathPart);
        const where = { file: relative(root, file), line, target };
        if (!existsSync(dest)) {
          broken.push({ ...where, reason: `no such file ${relative(root, dest)}` });
        } else if (anchor !== undefined && anchor !== '') {
          if (!dest.endsWith('.md') || statSync(dest).isDirectory()) {
            broken.push({ ...where, reason: `an anchor on ${relative(root, dest)}, which is not a Markdown file` });
          } else if (!anchors(dest).has(anchor)) {
            broken.push({ ...where, reason: `${relative(root, dest)} has no heading with the anchor #${anchor}` });
          }
        }
      }
    }
  }
  return broken;
}
