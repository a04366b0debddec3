export * from './csv.js';
export * from './labels.js';
export * from './scorer.js';
export * from './corpus.js';
