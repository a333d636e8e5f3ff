// @ts-check
// Lint for the whole tree (run by `make test` and `npm run lint`): eslint's and typescript-eslint's
// recommended rules, and the layer rule below, which fails when an import runs back up.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const ROOT = path.dirname(fileURLToPath(import.meta.url));

/**
 * The layers, lowest first (the README's layout section says the same). A module may import its own files and
 * modules of a lower layer, never one of its own layer or a higher one. lib/connect and lib/util import
 * nothing else of ours. jobs/ and scripts/ (the command-line entries: benchmarks, the stream demonstration) are the
 * top layer; test/ may import anything.
 */
export const LAYERS = [
  ['lib/connect', 'lib/util'],
  ['lib/runtime'],
  ['lib/report', 'lib/measure', 'lib/kafka'],
  ['lib/preprocess', 'lib/stream'],
  ['lib/cdc', 'lib/cachebench'],
  ['lib/dashboard'],
  ['lib/bench', 'lib/pipeline'],
  ['lib/cli'],
  ['jobs', 'scripts'],
];

/** The layered module a repository-relative path is in (`lib/cdc`, `jobs`), or undefined. */
function moduleOf(rel) {
  const parts = rel.split(path.sep);
  const mod = parts[0] === 'lib' ? `lib/${parts[1]}` : parts[0];
  return LAYERS.some((l) => l.includes(mod)) ? mod : undefined;
}
const rankOf = (mod) => LAYERS.findIndex((l) => l.includes(mod));

const layers = {
  rules: {
    'imports-point-down': {
      meta: { type: 'problem', schema: [], docs: { description: 'imports point down the layers (eslint.config.mjs LAYERS)' } },
      create(context) {
        const from = moduleOf(path.relative(ROOT, context.filename));
        if (!from) return {};
        const check = (node, spec) => {
          if (typeof spec !== 'string' || !spec.startsWith('.')) return;
          const to = moduleOf(path.relative(ROOT, path.resolve(path.dirname(context.filename), spec)));
          if (!to || to === from) return;
          if (rankOf(to) >= rankOf(from)) {
            context.report({
              node,
              message: `${from} must not import ${to} (${spec}): imports point down the layers, see LAYERS in eslint.config.mjs`,
            });
          }
        };
        return {
          ImportDeclaration: (node) => check(node, node.source.value),
          ExportNamedDeclaration: (node) => node.source && check(node, node.source.value),
          ExportAllDeclaration: (node) => check(node, node.source.value),
          ImportExpression: (node) => node.source.type === 'Literal' && check(node, node.source.value),
          CallExpression: (node) => {
            if (node.callee.type === 'Identifier' && node.callee.name === 'require' && node.arguments[0]?.type === 'Literal')
              check(node, node.arguments[0].value);
          },
        };
      },
    },
  },
};

export default tseslint.config(
  {
    ignores: ['node_modules/**', 'lib/connect/gen/**', '.cache/**', '.run/**', 'data/**', 'reports/**', 'models/**', '**/*.js', '**/*.mjs'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { layers },
    rules: {
      'layers/imports-point-down': 'error',
      // `_x` names a value kept on purpose (a rest-sibling omitted, an argument that gives a function its arity).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
      // `cond ? a++ : b++` counters (cdc metrics) are statements on purpose.
      '@typescript-eslint/no-unused-expressions': ['error', { allowTernary: true, allowShortCircuit: true }],
      // Code generated at run time (the Arrow and CDC fast paths) is marked where it is done.
      'no-new-func': 'error',
      // Layout is prettier's (npm run format:check); this rule would fight its line breaks before `[`.
      'no-unexpected-multiline': 'off',
    },
  },
  {
    // The client's gRPC method lookups and arity checks take `Function`; typing them belongs to the client's
    // own issue (lib/connect/transport.ts, functions.ts), so this one rule waits for it there.
    files: ['lib/connect/**/*.ts'],
    rules: { '@typescript-eslint/no-unsafe-function-type': 'off' },
  },
);
