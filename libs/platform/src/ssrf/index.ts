export * from './cidr';
export * from './ssrf-guard';
export * from './ssrf-env';
export * from './target-url';
